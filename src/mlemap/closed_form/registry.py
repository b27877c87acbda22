"""Registry of closed-form estimators, keyed by (family type, prior type per parameter).

Entries are registered with decorators, in the way ``torch.distributions.kl.register_kl`` keys KL
divergences by pairs of types::

    @register_closed_form(Bernoulli, free={"probs"})                       # the MLE
    @register_closed_form(Bernoulli, free={"probs"}, priors={"probs": td.Beta})   # conjugate MAP

An entry applies to a fit when its family type is a base of the fit's family, the set of free
parameters is exactly ``free``, and every prior is an instance of the registered prior type (no
priors for an MLE entry). Among applicable entries the most specific wins (smallest distance in the
method resolution order of the family and prior types); results are cached per type signature.

A solver receives the :class:`~mlemap.core.distribution_problem.DistributionProblem` and returns a :class:`Solution`; solvers
that use ``problem.statistics`` only work unchanged on merged chunk statistics (map-reduce).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import torch
import torch.distributions as td

from ..families.base import Family


@dataclass
class Solution:
    """Estimates of the free parameters (natural space) and, for conjugate MAP, exact posteriors.

    ``posterior`` maps the prior's key (``probs``, or ``variance`` for a prior stated on the variance)
    to the exact posterior distribution; ``predictive`` builds the posterior predictive of one new
    observation; ``boundary`` maps parameters to reasons when the estimate is on the boundary.
    """

    params: dict[str, torch.Tensor]
    posterior: dict[str, td.Distribution] = field(default_factory=dict)
    predictive: Callable[[], td.Distribution] | None = None
    boundary: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Entry:
    family: type
    free: frozenset
    priors: tuple  # ((key, prior type), ...)
    solve: Callable
    uses_statistics: bool


_REGISTRY: list[_Entry] = []


def register_closed_form(
    family: type[Family],
    *,
    free: set[str],
    priors: dict[str, type] | None = None,
    uses_statistics: bool = True,
):
    """Register ``solve(problem) -> Solution`` for the family type, free set and prior types."""

    def decorator(solve):
        _REGISTRY.append(
            _Entry(family, frozenset(free), tuple(sorted((priors or {}).items())), solve, uses_statistics)
        )
        _lookup.cache_clear()
        return solve

    return decorator


def _distance(cls: type, base: type) -> int | None:
    try:
        return cls.__mro__.index(base)
    except ValueError:
        return None


@lru_cache(maxsize=None)
def _lookup(family_type: type, free: frozenset, prior_types: tuple) -> _Entry | None:
    best, best_score = None, None
    given = dict(prior_types)
    for entry in _REGISTRY:
        if entry.free != free:
            continue
        fam_d = _distance(family_type, entry.family)
        if fam_d is None:
            continue
        wanted = dict(entry.priors)
        if set(wanted) != set(given):
            continue
        dists = [_distance(given[k], wanted[k]) for k in wanted]
        if any(d is None for d in dists):
            continue
        score = (fam_d, sum(dists))
        if best_score is None or score < best_score:
            best, best_score = entry, score
    return best


def find_closed_form(family: Family, free: list[str], prior_types: dict[str, type]) -> _Entry | None:
    """The most specific registered closed form for this family, free set and prior types."""
    return _lookup(type(family), frozenset(free), tuple(sorted(prior_types.items())))


def registered() -> list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]]:
    """``(family name, free parameters, ((prior key, prior type), ...))`` for every entry."""
    return [
        (e.family.name, tuple(sorted(e.free)), tuple((k, t.__name__) for k, t in e.priors)) for e in _REGISTRY
    ]

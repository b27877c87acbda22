"""The record of a grouped fit: every group's estimate, standard errors and status, as batches.

:class:`GroupEstimates` is to many groups what :class:`~mlemap.core.estimate.Estimate` is to one
fit: tensors with a leading group dimension for the parameters, standard errors, log-likelihood,
log-prior, iterations and convergence, and per-group reasons where an estimate is on the boundary,
has no standard error, or does not exist. :func:`boundary_flags` applies the single fit's boundary
rules (:func:`mlemap.core.estimation` route bookkeeping) to all groups at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..families.transforms import finite_bounds, is_positive_definite

Reasons = dict[str, np.ndarray]  # parameter -> object array (G,) of reasons, None where there is none


@dataclass
class GroupEstimates:
    """Batched estimates of all groups (see the module docstring)."""

    names: list[str]
    params: dict[str, torch.Tensor]
    se: dict[str, torch.Tensor]
    loglik: torch.Tensor
    log_prior: torch.Tensor
    converged: torch.Tensor
    n_iter: torch.Tensor
    estimator: str
    method: str
    #: why an estimate is on the edge of its space, per parameter
    boundary: Reasons
    #: parameters held at their value (no standard error), per parameter
    held: dict[str, torch.Tensor]
    #: why a standard error is undefined, per parameter (besides the boundary)
    se_reasons: Reasons
    #: groups without an estimate, with the reason
    failed: dict[int, str] = field(default_factory=dict)
    #: exact posteriors (conjugate priors), batched over the groups ``posterior_codes`` (all when None)
    posterior: dict[str, Any] = field(default_factory=dict)
    posterior_codes: Any = None
    #: the solver's message per group (numerical route)
    messages: list[str] | None = None
    #: the solver's criteria per group (numerical route): a :class:`~.convergence.BatchReport`
    reports: Any = None
    solver: str = ""

    @property
    def n_groups(self) -> int:
        return int(self.loglik.shape[0])

    def boundary_text(self) -> list[str]:
        """One line per group: ``"name: reason; ..."`` for parameters on the boundary ("" if none)."""
        out = np.full(self.n_groups, "", dtype=object)
        for name, why in self.boundary.items():
            for code in np.flatnonzero(~_none(why)):
                text = f"{name}: {why[code]}"
                out[code] = f"{out[code]}; {text}" if out[code] else text
        for code, why in self.failed.items():
            out[code] = f"no estimate: {why}"
        return out.tolist()


def no_reasons(n_groups: int, names) -> Reasons:
    return {n: np.full(n_groups, None, dtype=object) for n in names}


def boundary_flags(problem, params: dict[str, torch.Tensor], reasons: Reasons) -> tuple[Reasons, dict[str, torch.Tensor]]:
    """Estimates on the edge of their space, per group: the rules of the single fit's route bookkeeping.

    A parameter that is a sample extreme (and has no prior) is always held, with the family's note;
    otherwise an estimate on a finite bound of its constraint is flagged and held; one that ran off
    towards an infinite bound (a reason already given, not on a finite bound) is held too.
    """
    family = problem.family
    G = problem.n_groups
    held = {}
    for name in problem.free:
        value = params[name]
        why = reasons.setdefault(name, np.full(G, None, dtype=object))
        mask = torch.zeros(G, dtype=torch.bool, device=value.device)
        if name in family.bounded_by_data and name not in problem.priors:
            why[_none(why)] = family.boundary_note(name) or "the estimate is a sample extreme"
            held[name] = torch.ones(G, dtype=torch.bool, device=value.device)
            continue
        c = problem.constraint(name)
        if is_positive_definite(c):
            held[name] = mask
            continue
        lo, hi = finite_bounds(c)
        if lo is not None:
            mask |= value <= lo
        if hi is not None:
            mask |= value >= hi
        edge = mask.cpu().numpy()
        given = ~_none(why)
        ran_off = torch.as_tensor(given & ~edge, device=value.device) if name not in problem.priors else mask & False
        why[edge & ~given] = family.boundary_note(name) or "the estimate is on the edge of the parameter space"
        held[name] = mask | ran_off
    return reasons, held


def _none(values: np.ndarray) -> np.ndarray:
    """Elementwise ``is None`` of an object array."""
    return np.equal(values, None)

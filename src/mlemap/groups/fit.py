"""``mm.fit(family, data, groups=labels)``: one family fitted in every group, vectorised.

:func:`fit_groups` receives what :func:`mlemap.fit` has validated (the family, the observations, the
weights and fixed values) and the group labels; it chooses the route:

* ``prior="estimate"``: empirical Bayes (:mod:`.empirical_bayes`);
* a registered closed form that reads sufficient statistics: all groups from their grouped
  statistics in one batch;
* a smooth built-in family with scalar parameters: one batched trust-region Newton over all groups;
* anything else (vector parameters, custom log-densities, non-smooth likelihoods, discrete priors,
  an explicit ``solver``): the single fit, group by group.

Whatever the route, a group whose estimate does not exist is reported with the reason and never
stops the others, and one warning names the groups on the boundary or not converged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import textwrap
from typing import Any

import numpy as np
import torch

from ..closed_form import canonical_prior, find_closed_form
from ..errors import BoundaryWarning, ConvergenceWarning, IdentifiabilityWarning, MethodError, PriorError, warn
from ..families.base import DataContext
from ..families.registry import FAMILIES
from ..priors.resolve import resolve_priors
from ..core.distribution_problem import DistributionProblem as Problem, resolve_init
from .labels import group_index
from .problem import GroupedProblem
from .result import GroupedFit

#: how many group labels a warning names
SHOWN = 5


def fit_groups(family, x: torch.Tensor, weights, fixed: dict, groups: Any, *, prior=None, init=None,
               method: str = "auto", max_iter: int = 200, solver: str = "auto", exposure=None) -> GroupedFit:
    """Fit ``family`` in every group of ``groups`` (see the module docstring)."""
    if groups is None:
        what = "prior='estimate'" if isinstance(prior, str) else "exposure="
        raise MethodError(
            f"{what} needs groups: the prior is learned from many groups of observations. Pass groups=labels "
            "(one label per observation), for example mm.fit('bernoulli', df['clicked'], groups=df['ad'], "
            "prior='estimate')."
        )
    with one_thread(x.device):
        return _fit_groups(family, x, weights, fixed, groups, prior=prior, init=init, method=method,
                           max_iter=max_iter, solver=solver, exposure=exposure)


@contextlib.contextmanager
def one_thread(device):
    """Run the grouped computation on one CPU thread: its many small per-group operations gain
    nothing from splitting each in two, and on a busy machine a second thread waiting at every
    operation's barrier costs more time than the whole fit."""
    if torch.device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _fit_groups(family, x, weights, fixed, groups, *, prior, init, method, max_iter, solver, exposure) -> GroupedFit:
    index = group_index(groups, x.shape[0], device=x.device)
    family.check_support(x, fixed, DataContext(x))
    if isinstance(prior, str):
        if prior != "estimate":
            raise PriorError(
                f"The 'prior' argument must be a dict of priors or the string 'estimate' (empirical Bayes). "
                f"Got {prior!r} instead."
            )
        from .empirical_bayes import fit_empirical_bayes

        return fit_empirical_bayes(family, x, weights, fixed, index, exposure=exposure, max_iter=max_iter)
    if exposure is not None:
        raise MethodError(
            "exposure= applies to empirical Bayes for Poisson counts (prior='estimate'); for a Poisson rate per "
            "group without a learned prior, fit the counts and divide by the exposure, or use a Poisson regression."
        )
    problem = GroupedProblem(family, x, weights, fixed, {}, index)
    ctx = DataContext(x)
    terms = resolve_priors(family, prior, fixed, problem.shapes, ctx, x.dtype, x.device)
    problem.priors = {b: dataclasses.replace(t, prior=canonical_prior(t.prior)) for b, t in terms.items()}
    init_t = resolve_init(Problem(family, x, weights, fixed, problem.priors), init)
    result = _run(problem, method=method, init=init_t, max_iter=max_iter, solver=solver)
    result.warnings.extend(_warn_about_groups(result))
    return result


def _run(problem: GroupedProblem, *, method: str, init: dict, max_iter: int, solver: str) -> GroupedFit:
    from .routes import closed_form_groups, numerical_groups

    family = problem.family
    prior_types = {t.key: type(t.prior) for t in problem.priors.values()}
    entry = find_closed_form(family, problem.free, prior_types)
    if method == "closed-form" and entry is None:
        raise MethodError(
            f"No closed form is registered for the '{family.name}' family with free parameters {problem.free}"
            + (f" and priors {sorted(prior_types)}" if prior_types else "")
            + ". Use method='auto' (the default) or method='numerical'."
        )
    discrete = any(t.is_discrete for t in problem.priors.values())
    batchable = (type(family) in FAMILIES and family.event_ndim == 0 and not discrete
                 and all(problem.shapes[n] == torch.Size() for n in problem.free))
    by_statistics = entry is not None and entry.uses_statistics and method != "numerical"
    if batchable and by_statistics and problem.statistics is not None:
        ok = _estimable(problem)
        return GroupedFit(problem, closed_form_groups(problem, entry, ok))
    numerical_wanted = method == "numerical" or entry is None or not entry.uses_statistics
    if batchable and family.smooth and solver in ("auto", "newton") and numerical_wanted:
        ok = _estimable(problem)
        return GroupedFit(problem, numerical_groups(problem, ok, init, max_iter))
    from .loop import loop_groups

    estimates, results, note = loop_groups(problem, method=method, init=init, max_iter=max_iter, solver=solver)
    return GroupedFit(problem, estimates, results=results, notes=[note])


def _estimable(problem: GroupedProblem) -> torch.Tensor:
    failed = problem.degenerate
    ok = torch.ones(problem.n_groups, dtype=torch.bool, device=problem.device)
    if failed:
        ok[torch.tensor(sorted(failed), device=problem.device)] = False
    return torch.nonzero(ok).reshape(-1)


def failed_into(estimates, failed: dict[int, str]) -> None:
    """Record the groups without an estimate."""
    estimates.failed.update(failed)
    if failed:
        estimates.converged[torch.tensor(sorted(failed), device=estimates.converged.device)] = False


def _warn_about_groups(result: GroupedFit) -> list[str]:
    """One warning per kind of trouble, naming the first groups concerned."""
    est, labels, family = result.estimates, result.labels, result.problem.family
    if result.estimates.method in ("closed-form", "numerical"):
        failed_into(est, result.problem.degenerate)
    messages = []
    G = len(labels)
    if est.failed:
        codes = sorted(est.failed)
        shown = "; ".join(f"{_label(labels[c])}: {textwrap.shorten(est.failed[c], 90)}" for c in codes[:SHOWN])
        messages.append(f"{len(codes)} of {G} groups have no {'MAP' if est.estimator == 'MAP' else 'maximum-likelihood'} "
                        f"estimate and are reported as NaN ({shown}{'; ...' if len(codes) > SHOWN else ''}).")
        warn(messages[-1], BoundaryWarning)
    flagged = []
    for name, why in est.boundary.items():
        if name in family.bounded_by_data and name not in result.problem.priors:
            continue  # expected for these families: shown in g.boundary, no warning
        if name in result.problem.priors:
            continue
        for code in np.flatnonzero(~np.equal(why, None)).tolist():
            if code not in est.failed:
                flagged.append((code, name, why[code]))
    if flagged:
        codes = sorted({c for c, _, _ in flagged})
        shown = "; ".join(f"{_label(labels[c])}: '{n}' {textwrap.shorten(r, 90)}" for c, n, r in flagged[:SHOWN])
        messages.append(
            f"{len(codes)} of {G} groups have estimates on the boundary of the parameter space ({shown}"
            f"{'; ...' if len(flagged) > SHOWN else ''}); their standard errors are undefined (see g.boundary). "
            "A profile interval (g[label].conf_int(method='profile')) still applies; a prior keeps the estimates inside."
        )
        warn(messages[-1], BoundaryWarning)
    singular = sorted({c for why in est.se_reasons.values() for c in np.flatnonzero(~np.equal(why, None)).tolist()
                       if not why[c].startswith("the estimate is on the boundary") and c not in est.failed})
    if singular and est.held:  # the batched routes (the group-by-group route warned in each single fit)
        shown = "; ".join(f"{_label(labels[c])}: {next(r for r in (w[c] for w in est.se_reasons.values()) if r)}"
                          for c in singular[:SHOWN])
        messages.append(f"{len(singular)} of {G} groups have no standard errors ({shown}"
                        f"{'; ...' if len(singular) > SHOWN else ''}): some parameters are not identified by their data, "
                        "or the estimate is not a maximum; see g.se_reasons.")
        warn(messages[-1], IdentifiabilityWarning)
    stuck = [c for c in torch.nonzero(~est.converged).reshape(-1).tolist() if c not in est.failed]
    if stuck:
        shown = ", ".join(_label(labels[c]) for c in stuck[:SHOWN])
        first = est.messages[stuck[0]] if est.messages else ""
        messages.append(
            f"The optimiser did not converge in {len(stuck)} of {G} groups of the '{family.name}' fit ({shown}"
            f"{', ...' if len(stuck) > SHOWN else ''}; g.converged marks them, g.messages says why; first: {first}). "
            "Try init={...} closer to the answer, a larger max_iter, or a weakly informative prior."
        )
        warn(messages[-1], ConvergenceWarning)
    return messages


def _label(value) -> str:
    """A group label as the user wrote it (numpy scalars shown as Python values)."""
    return repr(value.item() if hasattr(value, "item") else value)

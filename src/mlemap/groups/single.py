"""One group's :class:`~mlemap.results.FitResult`, built from its own problem and the batched estimate."""

from __future__ import annotations

import torch

from ..core.estimate import Convergence
from ..core.estimation import estimate, estimate_at
from ..results import FitResult


def group_result(fit, code: int) -> FitResult:
    """The fit of group ``code`` alone: a closed form re-run on the group's statistics, or the batched
    numerical estimate with the group's own boundary flags, covariance and log-likelihood."""
    from .result import quietly

    problem = fit.problem.group(code)
    est = fit.estimates
    if est.method == "closed-form":
        single, _ = quietly(estimate, problem, method="closed-form")
        return FitResult(problem, single)
    params = {n: est.params[n][code].detach().clone() for n in est.names}
    boundary = {n: r[code] for n, r in est.boundary.items() if r[code] is not None}
    ok, report, grad_norm = est.reports
    b = int(torch.searchsorted(ok, torch.tensor(code, device=ok.device)))
    convergence = Convergence(bool(est.converged[code]), int(est.n_iter[code]), est.solver, est.messages[code],
                              float(grad_norm[b]), report.report(b))
    return FitResult(problem, estimate_at(problem, params, "numerical", convergence, boundary))

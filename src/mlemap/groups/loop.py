"""The fallback route: the single fit, group by group.

Used where the batched routes do not apply: parameters with several elements (categorical
probabilities, a multivariate normal), custom log-densities (a user's function is not known to treat
rows independently when given per-row parameters), likelihoods with kinks (Laplace), discrete priors
and an explicitly chosen solver. Each group is exactly ``mm.fit`` on its rows; a group whose fit
fails is reported with the error's message, and the others go on.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..core.estimation import estimate
from ..errors import DataError, EstimationError, PriorError
from ..results import FitResult
from .estimate import GroupEstimates


def loop_groups(problem, *, method: str, init: dict, max_iter: int, solver: str):
    """``(estimates, per-group FitResults, note)``; failed groups have ``None`` as their result."""
    from .result import quietly

    G = problem.n_groups
    results: list = [None] * G
    failed: dict[int, str] = {}
    for code in range(G):
        single = problem.group(code)
        try:
            problem.family.check_identifiable(single.x, single.weights, set(single.free), set(single.priors), single.ctx)
            est, _ = quietly(estimate, single, method=method, init=init, max_iter=max_iter, solver=solver)
        except (DataError, EstimationError, PriorError) as exc:
            failed[code] = str(exc)
            continue
        results[code] = FitResult(single, est)
    labels = _element_labels(problem, results)
    dtype, device = problem.dtype, problem.device
    params = {n: torch.full((G,), math.nan, dtype=dtype, device=device) for n in labels}
    se = {n: torch.full((G,), math.nan, dtype=dtype, device=device) for n in labels}
    se_reasons = {n: np.full(G, None, dtype=object) for n in labels}
    boundary = {n: np.full(G, None, dtype=object) for n in problem.free}
    loglik = torch.full((G,), math.nan, dtype=dtype, device=device)
    log_prior = torch.zeros(G, dtype=dtype, device=device)
    converged = torch.zeros(G, dtype=torch.bool, device=device)
    n_iter = torch.zeros(G, dtype=torch.int64, device=device)
    messages = [""] * G
    for code, r in enumerate(results):
        if r is None:
            continue
        values, errors = r.estimate.vector(), r.estimate.se_vector()
        reasons = r.se_reasons
        for label, v, s in zip(r.estimate.labels, values, errors):
            params[label][code], se[label][code] = float(v), float(s)
            if math.isnan(float(s)):
                se_reasons[label][code] = reasons.get(label.split("[")[0])
        for name, why in r.boundary.items():
            boundary.setdefault(name, np.full(G, None, dtype=object))[code] = why
        loglik[code] = r.loglik
        log_prior[code] = r.log_prior
        converged[code] = r.converged
        n_iter[code] = r.n_iter
        messages[code] = r.message
    estimator = "MAP" if problem.priors else "MLE"
    methods = sorted({r.method for r in results if r is not None}) or ["none"]
    estimates = GroupEstimates(
        names=labels, params=params, se=se, loglik=loglik, log_prior=log_prior, converged=converged, n_iter=n_iter,
        estimator=estimator, method="per group: " + ", ".join(methods), boundary=boundary, held={},
        se_reasons=se_reasons, failed=failed, messages=messages,
    )
    note = (f"fitted group by group with the single fit (the '{problem.family.name}' fit with these options has no "
            "batched route)")
    return estimates, results, note


def _element_labels(problem, results) -> list[str]:
    for r in results:
        if r is not None:
            return list(r.estimate.labels)
    labels = []
    for n in problem.free:
        labels.extend(problem.family.element_labels(n, tuple(problem.shapes[n])))
    return labels

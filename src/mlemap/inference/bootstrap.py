"""Nonparametric bootstrap: refit on resampled data, percentile intervals.

Each replicate draws multinomial counts over the observations (probabilities proportional to the
frequency weights, total equal to the number of observations) and refits with those counts as
weights, by the same route as the original fit. The percentile interval at ``level`` takes the
:math:`(1 \\pm \\text{level})/2` quantiles of the replicate estimates.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..errors import BoundaryWarning, MethodError, MlemapError, MlemapWarning, warn
from .boundary import EXTREME_INTERVALS


def bootstrap_draws(result, n_boot: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Replicate estimates ``{name: array of shape (n_successful, *param_shape)}``."""
    from ..core.distribution_problem import DistributionProblem
    from ..core.estimation import estimate

    if not isinstance(n_boot, int) or n_boot < 2:
        raise MethodError(f"The 'n_boot' option must be an integer of at least 2. Got {n_boot!r} instead.")
    problem = result.problem
    n = problem.n_obs
    probs = (
        torch.full((n,), 1.0 / n, dtype=torch.float64)
        if problem.weights is None
        else (problem.weights / problem.weights.sum()).to(torch.float64).cpu()
    )
    total = int(round(problem.total_weight))
    gen = torch.Generator().manual_seed(seed)
    draws: dict[str, list] = {k: [] for k in result.estimate.params}
    failures = 0
    for _ in range(n_boot):
        counts = torch.multinomial(probs, total, replacement=True, generator=gen).bincount(minlength=n)
        keep = torch.nonzero(counts).reshape(-1).to(problem.device)
        w = counts[keep.cpu()].to(dtype=problem.dtype, device=problem.device)
        fixed = {
            k: (v[keep] if v.dim() > 0 and v.shape[0] == n and n > 1 else v) for k, v in problem.fixed.items()
        }
        sub = DistributionProblem(problem.family, problem.x[keep], w, fixed, problem.priors)
        try:
            sub.family.check_identifiable(sub.x, sub.weights, set(sub.free), set(sub.priors), sub.ctx)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MlemapWarning)
                warnings.simplefilter("ignore", RuntimeWarning)  # floating-point edges of a resample's trial points
                rep = estimate(sub, method="numerical" if result.method == "numerical" else "auto")
        except MlemapError:
            failures += 1
            continue
        for k in draws:
            draws[k].append(rep.params[k].detach().cpu().numpy())
    if failures > n_boot // 2:
        raise MethodError(
            f"{failures} of {n_boot} bootstrap replicates could not be fitted (degenerate resamples); the sample "
            "is too small for a bootstrap interval."
        )
    if failures:
        warn(f"{failures} of {n_boot} bootstrap replicates could not be fitted and were dropped.", MlemapWarning)
    return {k: np.stack(v) for k, v in draws.items()}


def bootstrap_intervals(result, level: float, n_boot: int = 1000, seed: int = 0) -> dict[str, tuple]:
    """Percentile intervals; a :class:`~mlemap.BoundaryWarning` for estimates on the boundary or at a
    sample extreme, where resamples cannot fall beyond the estimate and the percentile interval does
    not cover at its level (ten heads of ten: every resample is all heads, the interval is [1, 1])."""
    for name in result.estimate.params:
        why = result.boundary.get(name)
        if why is not None:
            instead = (EXTREME_INTERVALS if name in result.family.bounded_by_data else
                       "Use conf_int(method='profile'), or a prior that keeps the estimate inside.")
            warn(
                f"The bootstrap interval of '{name}' is not valid: the estimate is on the boundary ({why}), so "
                "resampled estimates can only lie on one side of it (or on it) and the percentile interval does not "
                f"cover at its level. {instead}",
                BoundaryWarning,
            )
    draws = bootstrap_draws(result, n_boot=n_boot, seed=seed)
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    out = {}
    for name, values in draws.items():
        lo, hi = np.quantile(values, [lo_q, hi_q], axis=0)
        out[name] = (float(lo), float(hi)) if np.ndim(lo) == 0 else (lo, hi)
    return out

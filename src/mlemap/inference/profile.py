"""Profile-likelihood confidence intervals.

For a scalar parameter :math:`\\psi` the profile log-likelihood is
:math:`\\ell_p(\\psi) = \\max_{\\lambda} \\ell(\\psi, \\lambda)` over the other free parameters, and the
interval at ``level`` is :math:`\\{\\psi : 2(\\ell(\\hat\\theta) - \\ell_p(\\psi)) \\le \\chi^2_{1}(\\text{level})\\}`.
Unlike the Wald interval it follows the shape of the likelihood, respects the parameter's bounds
and exists for estimates on the boundary (all heads: :math:`[e^{-\\chi^2_1/(2n)}, 1]`).

Each end point is bracketed by doubling steps in the parameter's unconstrained coordinate (started
at the Wald standard error) and then found by Brent's method.
"""

from __future__ import annotations

import math
import warnings

import torch
from scipy import optimize, stats

from ..errors import BoundaryWarning, MethodError, MlemapError, MlemapWarning, warn
from ..families.transforms import unconstrained_bijection
from .boundary import EXTREME_INTERVALS

MAX_EXCURSION = 60.0


def profile_intervals(result, level: float, params: list[str] | None = None) -> dict[str, tuple]:
    if result.estimator != "MLE":
        raise MethodError(
            "Profile-likelihood intervals are defined for MLE fits; for a MAP fit use credible_interval()."
        )
    problem = result.problem
    names = list(result.params) if params is None else list(params)
    out: dict[str, tuple] = {}
    for name in names:
        if name not in result.params:
            raise MethodError(f"'{name}' is not an estimated parameter of this fit ({', '.join(result.params)}).")
        reason = unsupported_reason(problem, name)
        if reason is not None:
            if params is not None:
                raise MethodError(f"No profile interval for '{name}': {reason}. {_instead(problem, name)}")
            out[name] = (math.nan, math.nan) if problem.shapes[name] == torch.Size() else _nan_pair(problem, name)
            warn(f"The profile interval of '{name}' is NaN: {reason}. {_instead(problem, name)}",
                 BoundaryWarning if name in problem.family.bounded_by_data else MlemapWarning)
            continue
        out[name] = _interval(result, name, level)
    return out


def _instead(problem, name: str) -> str:
    return EXTREME_INTERVALS if name in problem.family.bounded_by_data else "Use method='wald' or method='bootstrap'."


def unsupported_reason(problem, name: str) -> str | None:
    if problem.shapes[name] != torch.Size():
        return "profile intervals are computed for scalar parameters"
    if name in problem.family.bounded_by_data:
        return "the estimate is a sample extreme (a non-regular MLE, for which the chi-square calibration fails)"
    if not problem.family.smooth:
        return None
    return None


def _nan_pair(problem, name):
    import numpy as np

    shape = tuple(problem.shapes[name])
    return (np.full(shape, np.nan), np.full(shape, np.nan))


def profile_log_likelihood(result, name: str, value: float) -> float:
    """:math:`\\ell_p(\\psi)` at ``value``: the other free parameters re-estimated with ``name`` held."""
    from ..core.estimation import estimate

    problem = result.problem
    v = torch.as_tensor(value, dtype=problem.dtype, device=problem.device)
    sub = problem.with_fixed({name: v})
    if not sub.free:
        ll = float(sub.log_likelihood({}))
        return ll if math.isfinite(ll) else -math.inf
    start = {k: result.estimate.params[k] for k in sub.free if k not in result.boundary}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MlemapWarning)
            inner = estimate(sub, init=start)
    except MlemapError:
        return -math.inf
    return inner.loglik if math.isfinite(inner.loglik) else -math.inf


def _interval(result, name: str, level: float) -> tuple[float, float]:
    problem = result.problem
    c = problem.constraint(name)
    T = unconstrained_bijection(c, torch.Size())
    est = result.estimate.params[name].to(problem.dtype)
    target = result.loglik - stats.chi2.ppf(level, 1) / 2
    lower_bound = float(T(torch.tensor(-math.inf, dtype=problem.dtype)))
    upper_bound = float(T(torch.tensor(math.inf, dtype=problem.dtype)))
    on_lower = name in result.boundary and float(est) <= lower_bound
    on_upper = name in result.boundary and float(est) >= upper_bound
    inside = est
    if on_lower or on_upper:
        span = (upper_bound - lower_bound) if math.isfinite(upper_bound - lower_bound) else max(1.0, abs(float(est)))
        inside = est + (1e-12 * span if on_lower else -1e-12 * span)
    t_hat = float(T.inv(inside))
    se = float(result.estimate.se(name))
    dvdt = float(T.log_abs_det_jacobian(torch.tensor(t_hat, dtype=problem.dtype), inside).exp())
    step0 = se / dvdt if math.isfinite(se) and se > 0 and dvdt > 0 else 0.5

    def g(t: float) -> float:
        value = float(T(torch.tensor(t, dtype=problem.dtype)))
        return profile_log_likelihood(result, name, value) - target

    ends = []
    for side, at_bound, bound in ((-1, on_lower, lower_bound), (+1, on_upper, upper_bound)):
        if at_bound:
            ends.append(float(est))
            continue
        t_in, step = t_hat, step0
        t_out = t_hat + side * step
        found = True
        while g(t_out) > 0:
            t_in = t_out
            step *= 2
            t_out = t_hat + side * step
            if step > MAX_EXCURSION:
                found = False
                break
        if not found:
            ends.append(bound)
            continue
        root = optimize.brentq(g, min(t_in, t_out), max(t_in, t_out), xtol=1e-12, rtol=1e-12)
        ends.append(float(T(torch.tensor(root, dtype=problem.dtype))))
    return (ends[0], ends[1])

"""Reference minima of the least-squares problems in high precision, and the problems as mlemap fits.

:func:`mp_minimum` runs Newton's method in mpmath on :math:`S(b) = \\sum_i r_i(b)^2` from a nearby
point (derivatives by central differences at 90 digits with steps of :math:`10^{-30}` relative,
whose truncation and rounding errors are far below the 50 digits kept), and stops when the
Newton step is below :math:`10^{-40}` relative: the gradient there is zero to that precision, so
the reference does not depend on any published digits.

:func:`gaussian_log_density` writes a problem as the log-density of
:math:`y_i \\sim \\mathcal N(f_i(b), \\sigma)` over observation indices, as a user would pass it to
``mm.fit(log_density, data, init=..., support={"sigma": "positive"})``.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import torch
from nls_problems import MpOps, NLSProblem, TorchOps, residual_vector

WORK_DPS = 90
KEEP_DPS = 50


def mp_sum_of_squares(problem: NLSProblem, b) -> mpmath.mpf:
    r = residual_vector(problem, MpOps(), list(b))
    return mpmath.fsum(v * v for v in r)


def _steps(b):
    h = mpmath.mpf(10) ** -30
    return [h * max(abs(v), mpmath.mpf(10) ** -8) for v in b]


def mp_gradient_hessian(problem: NLSProblem, b, hessian: bool = True):
    """Central-difference gradient and Hessian of the sum of squares at ``b`` (mpf list)."""
    S = lambda v: mp_sum_of_squares(problem, v)  # noqa: E731
    p = len(b)
    h = _steps(b)

    def moved(pairs):
        v = list(b)
        for i, s in pairs:
            v[i] += s
        return v

    f0 = S(b)
    plus = [S(moved([(i, h[i])])) for i in range(p)]
    minus = [S(moved([(i, -h[i])])) for i in range(p)]
    g = [(plus[i] - minus[i]) / (2 * h[i]) for i in range(p)]
    if not hessian:
        return f0, g, None
    H = mpmath.matrix(p, p)
    for i in range(p):
        H[i, i] = (plus[i] - 2 * f0 + minus[i]) / h[i] ** 2
        for j in range(i + 1, p):
            pp = S(moved([(i, h[i]), (j, h[j])]))
            pm = S(moved([(i, h[i]), (j, -h[j])]))
            mp_ = S(moved([(i, -h[i]), (j, h[j])]))
            mm = S(moved([(i, -h[i]), (j, -h[j])]))
            H[i, j] = H[j, i] = (pp - pm - mp_ + mm) / (4 * h[i] * h[j])
    return f0, g, H


def mp_minimum(problem: NLSProblem, near, max_iter: int = 30) -> list[mpmath.mpf]:
    """Newton's method in mpmath from ``near``; raises if it does not converge to a minimum."""
    with mpmath.workdps(WORK_DPS):
        b = [mpmath.mpf(float(v)) for v in near]
        for _ in range(max_iter):
            _, g, H = mp_gradient_hessian(problem, b)
            step = mpmath.lu_solve(H, mpmath.matrix(g))
            b = [b[i] - step[i] for i in range(len(b))]
            small = all(abs(step[i]) <= mpmath.mpf(10) ** -40 * max(abs(b[i]), mpmath.mpf(10) ** -10) for i in range(len(b)))
            if small:
                _, _, H = mp_gradient_hessian(problem, b)
                eig = mpmath.eigsy(H)[0]
                if min(eig) <= 0:
                    raise ArithmeticError(f"{problem.name}: the stationary point is not a minimum")
                return [+v for v in b]
    raise ArithmeticError(f"{problem.name}: mpmath Newton did not converge from {near}")


def relative_gradient(problem: NLSProblem, b) -> float:
    """:math:`\\max_i |b_i \\partial S / \\partial b_i| / S` at the reference (scale-free; ~0 at a minimum)."""
    with mpmath.workdps(WORK_DPS):
        bb = [mpmath.mpf(v) for v in b]
        f0, g, _ = mp_gradient_hessian(problem, bb, hessian=False)
        scale = [max(abs(v), mpmath.mpf(10) ** -8) for v in bb]
        return float(max(abs(g[i]) * scale[i] for i in range(len(bb))) / max(f0, mpmath.mpf(10) ** -30))


# ---------------------------------------------------------------------- the problems as mlemap fits
def param_names(problem: NLSProblem) -> list[str]:
    return [f"b{i + 1}" for i in range(problem.n_params)]


def n_observations(problem: NLSProblem) -> int:
    return len(residual_vector(problem, TorchOps(), [torch.tensor(float(v), dtype=torch.float64) for v in problem.starts[1]]))


def gaussian_log_density(problem: NLSProblem):
    """``log_density(x, b1, ..., sigma)``: the normal log-density of each residual, for observation index ``x``."""
    ops = TorchOps()
    names = param_names(problem)

    def log_density(x, sigma, **b):
        r = residual_vector(problem, ops, [b[n] for n in names])[x.long()]
        return -0.5 * math.log(2 * math.pi) - torch.log(sigma) - 0.5 * (r / sigma) ** 2

    log_density.__name__ = problem.name
    return log_density


def fit_problem(problem: NLSProblem, start, **kwargs):
    """``mm.fit`` of the Gaussian log-density from ``start`` (sigma starts at 1)."""
    import mlemap as mm

    init = {n: float(v) for n, v in zip(param_names(problem), start)}
    init["sigma"] = 1.0
    data = np.arange(n_observations(problem), dtype=float)
    return mm.fit(gaussian_log_density(problem), data, init=init, support={"sigma": "positive"}, **kwargs)


def log_relative_error(estimate: float, reference: float) -> float:
    """NIST's LRE: :math:`-\\log_{10}(|q - c| / |c|)`, the absolute error for a zero reference; 16 when exact."""
    err = abs(estimate - reference) / (abs(reference) if reference != 0 else 1.0)
    return 16.0 if err == 0 else min(16.0, -math.log10(err))

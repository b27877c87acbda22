"""The trust-region subproblem in scaled coordinates.

.. math:: \\min_t\\; m(t) = \\hat g^\\top t + \\tfrac12 t^\\top \\hat H t \\quad\\text{subject to}\\quad \\|t\\| \\le \\Delta

:func:`exact_step` solves it to high accuracy from the eigendecomposition
:math:`\\hat H = Q\\Lambda Q^\\top` (Moré and Sorensen, 1983): the solution is
:math:`t(\\mu) = -Q(\\Lambda + \\mu I)^{-1} Q^\\top \\hat g` with :math:`\\mu \\ge \\max(0, -\\lambda_1)`, either
:math:`\\mu = 0` (the Newton step, inside the region) or the root of the secular equation
:math:`1/\\|t(\\mu)\\| = 1/\\Delta`, found by safeguarded Newton iterations on that nearly linear
function. Indefinite :math:`\\hat H` is handled by the shift; in the *hard case* (the gradient has
no component along the lowest eigenvector, and the shifted step is shorter than :math:`\\Delta`)
the step is completed along that eigenvector to the boundary.

:func:`steihaug_step` is the truncated conjugate-gradient method (Steihaug, 1983) for many
parameters: CG on :math:`\\hat H t = -\\hat g` from :math:`t = 0`, stopped at the boundary, at a
direction of non-positive curvature (followed to the boundary) or at a relative residual
:math:`\\min(\\tfrac12, \\sqrt{\\|\\hat g\\|})`; at a stationary point with negative curvature
it steps to the boundary along the lowest eigenvector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .convergence import eigh

#: relative width of the lowest eigenvalue's cluster, and the gradient share below which its
#: components count as zero (the hard case)
DEGENERATE = 1e-12


@dataclass
class Step:
    t: np.ndarray  # the step in scaled coordinates
    predicted: float  # -m(t) >= 0, the decrease the quadratic model predicts
    on_boundary: bool
    newton: bool  # the unconstrained Newton step (positive definite model, inside the region)


def newton_step_length(evals: np.ndarray, c: np.ndarray) -> float:
    """Length of the Newton step :math:`\\|\\Lambda^{-1} c\\|`, or inf when the model is not positive definite."""
    if evals.size == 0:
        return 0.0
    if evals[0] <= 0:
        return np.inf
    return float(np.linalg.norm(c / evals))


def exact_step(evals: np.ndarray, evecs: np.ndarray, gs: np.ndarray, delta: float) -> Step:
    """Solve the subproblem given :math:`\\hat H = Q \\operatorname{diag}(\\lambda) Q^\\top` (ascending) and :math:`\\hat g`."""
    c = evecs.T @ gs
    lam1 = float(evals[0])
    if lam1 > 0:
        a = -c / evals
        if np.linalg.norm(a) <= delta:
            return Step(evecs @ a, _predicted(evals, c, a), False, True)
    # shifted eigenvalues e_i = lambda_i + lo >= 0 with lo = max(0, -lambda_1), computed without cancellation
    lo = max(0.0, -lam1)
    e = evals - lam1 if lo > 0 else evals.copy()
    if lo > 0:
        e[0] = 0.0
    scale = max(float(np.max(np.abs(evals))), np.finfo(float).tiny)
    cluster = e <= DEGENERATE * scale if lo > 0 else np.zeros_like(e, dtype=bool)
    cnorm = float(np.linalg.norm(c))
    hard = lo > 0 and float(np.linalg.norm(c[cluster])) <= DEGENERATE * max(cnorm, np.finfo(float).tiny)
    if hard:
        a = np.zeros_like(c)
        rest = ~cluster
        a[rest] = -c[rest] / e[rest]
        length = float(np.linalg.norm(a))
        if length <= delta:
            # complete the step along the lowest eigenvector; the sign that does not increase the model
            tau = np.sqrt(max(delta * delta - length * length, 0.0))
            a[0] = -tau if c[0] > 0 else tau
            return Step(evecs @ a, _predicted(evals, c, a), True, False)
    mu = _secular_root(e, c, delta, cnorm)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = -c / (e + mu)
    if not np.isfinite(a).all():  # mu underflowed against a zero (shifted) eigenvalue
        a = np.where(np.isfinite(a), a, 0.0)
    length = float(np.linalg.norm(a))
    if length > delta:
        a *= delta / length
    return Step(evecs @ a, _predicted(evals, c, a), True, False)


def _secular_root(e: np.ndarray, c: np.ndarray, delta: float, cnorm: float) -> float:
    """The :math:`\\mu > 0` with :math:`\\|c / (e + \\mu)\\| = \\Delta`, for :math:`e \\ge 0`, by Newton on
    :math:`\\psi(\\mu) = 1/\\|t(\\mu)\\| - 1/\\Delta` (concave and increasing), kept inside a bracket."""
    lo, hi = 0.0, cnorm / delta
    mu = 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(100):
            if not lo <= mu <= hi or (mu == lo and lo == 0.0):
                mu = max(np.sqrt(lo * hi), lo + 1e-3 * (hi - lo)) if lo > 0 else 1e-3 * hi
            w = c / (e + mu)
            norm = float(np.sqrt(np.sum(w * w)))
            if not np.isfinite(norm) or norm > delta:
                lo = mu
            else:
                hi = mu
            if np.isfinite(norm) and abs(norm - delta) <= 1e-10 * delta:
                return mu
            if hi - lo <= 1e-15 * hi:
                return hi
            if not np.isfinite(norm) or norm == 0:
                mu = 0.5 * (lo + hi)
                continue
            psi = 1.0 / norm - 1.0 / delta
            dpsi = float(np.sum(w * w / (e + mu))) / norm**3
            mu = mu - psi / dpsi if dpsi > 0 else 0.5 * (lo + hi)
    return hi


def _predicted(evals: np.ndarray, c: np.ndarray, a: np.ndarray) -> float:
    """:math:`-m(t)` in eigen-coordinates :math:`a = Q^\\top t`."""
    return -float(np.sum(c * a) + 0.5 * np.sum(evals * a * a))


def steihaug_step(Hs: np.ndarray, gs: np.ndarray, delta: float, max_iter: int | None = None) -> Step:
    """Truncated conjugate gradients on the scaled model (see the module docstring)."""
    p = gs.size
    t = np.zeros(p)
    r = gs.copy()
    d = -r
    gnorm = float(np.linalg.norm(gs))
    if gnorm == 0:
        # a stationary point: leave it along the lowest eigenvector if the curvature is negative there
        evals, evecs = eigh(Hs)
        if evals[0] >= 0:
            return Step(t, 0.0, False, True)
        t = delta * evecs[:, 0]
        return Step(t, _model_decrease(Hs, gs, t), True, False)
    tol = min(0.5, np.sqrt(gnorm)) * gnorm
    rr = float(r @ r)
    for _ in range(max_iter or 2 * p):
        Hd = Hs @ d
        curv = float(d @ Hd)
        if curv <= 0:
            t = t + _to_boundary(t, d, delta) * d
            return Step(t, _model_decrease(Hs, gs, t), True, False)
        alpha = rr / curv
        t_next = t + alpha * d
        if np.linalg.norm(t_next) >= delta:
            t = t + _to_boundary(t, d, delta) * d
            return Step(t, _model_decrease(Hs, gs, t), True, False)
        t = t_next
        r = r + alpha * Hd
        rr_next = float(r @ r)
        if np.sqrt(rr_next) <= tol:
            return Step(t, _model_decrease(Hs, gs, t), False, True)
        d = -r + (rr_next / rr) * d
        rr = rr_next
    return Step(t, _model_decrease(Hs, gs, t), False, True)


def _to_boundary(t: np.ndarray, d: np.ndarray, delta: float) -> float:
    """The :math:`\\tau \\ge 0` with :math:`\\|t + \\tau d\\| = \\Delta`."""
    dd, td, tt = float(d @ d), float(t @ d), float(t @ t)
    disc = max(td * td + dd * (delta * delta - tt), 0.0)
    return (-td + np.sqrt(disc)) / dd


def _model_decrease(Hs: np.ndarray, gs: np.ndarray, t: np.ndarray) -> float:
    return -float(gs @ t + 0.5 * t @ (Hs @ t))

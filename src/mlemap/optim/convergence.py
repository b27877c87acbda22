"""The convergence criteria of a smooth minimisation, judged on the true derivatives at a point.

At a point :math:`x` with value :math:`f`, exact gradient :math:`g` and exact Hessian :math:`H`, let
:math:`D = \\operatorname{diag}(\\sqrt{H_{ii}})` (Jacobi scaling), :math:`\\hat g = D^{-1} g`,
:math:`\\hat H = D^{-1} H D^{-1}` and :math:`M = \\max(1, |f|)`. Three criteria, none of them
computed on a modified (floored, regularised or radius-limited) model:

1. **scaled gradient**: :math:`\\|\\hat g\\|_\\infty / \\sqrt M \\le` ``gtol``. For a negative
   log-likelihood :math:`|g_i| / \\sqrt{H_{ii}}` is the distance to the optimum along coordinate
   :math:`i` in standard-error units.
2. **Newton decrement**: :math:`\\lambda^2 / 2 = \\tfrac12 g^\\top H^{-1} g \\le` ``ftol`` :math:`\\cdot M`,
   the predicted decrease of the full Newton step, at the rounding level of :math:`f`
   (:math:`\\lambda` is the Mahalanobis distance to the optimum, and :math:`\\lambda \\ge \\|\\hat g\\|_\\infty`).
   For a singular positive semi-definite Hessian it is taken on the Hessian's range (and is
   infinite for an indefinite one), so that a flat ridge of maxima fails only criterion 3.
3. **positive definite Hessian**: the smallest eigenvalue of :math:`\\hat H` exceeds
   :math:`10\\, p\\, \\epsilon` times the largest (a strict local minimum, not a saddle, a ridge or
   a numerically singular curvature).

A point is a converged minimum only when all three hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

EPS = float(np.finfo(np.float64).eps)

CRITERIA = ("scaled gradient", "Newton decrement", "positive definite Hessian")

ADVICE = {
    "scaled gradient": "the gradient is not yet small: allow more iterations (max_iter) or start closer (init)",
    "Newton decrement": "the predicted decrease is above the rounding level of the objective: allow more "
    "iterations (max_iter) or start closer (init)",
    "positive definite Hessian": "the curvature is not positive definite here (a saddle, a ridge or a parameter "
    "the data do not identify): fix a parameter, reparametrise, or add a weakly informative prior",
}


@dataclass
class ConvergenceReport:
    """Which criteria hold at the returned point, with the measured values and their tolerances."""

    scaled_gradient: float
    gradient_tol: float
    decrement: float  # lambda^2 / 2; inf where the Hessian is not positive definite
    decrement_tol: float
    min_curvature: float  # smallest eigenvalue of the Jacobi-scaled Hessian relative to the largest
    curvature_tol: float
    failed: list[str] = field(default_factory=list)
    #: why the iteration stopped (criteria met, iteration limit, step below resolution, ...)
    stop_reason: str = ""

    @property
    def converged(self) -> bool:
        return not self.failed

    @property
    def singular(self) -> bool:
        """Stationary, but the Hessian is singular (positive semi-definite): a ridge the data do not resolve."""
        return self.failed == ["positive definite Hessian"] and self.min_curvature >= -self.curvature_tol

    @property
    def held(self) -> list[str]:
        return [c for c in CRITERIA if c not in self.failed]

    @property
    def advice(self) -> str:
        """What to try, for each criterion that failed."""
        return "; ".join(ADVICE[c] for c in self.failed)

    def describe(self) -> str:
        """One line: each criterion with its value and tolerance."""
        parts = [
            f"scaled gradient {self.scaled_gradient:.2e} (tol {self.gradient_tol:.0e})",
            f"Newton decrement {self.decrement:.2e} (tol {self.decrement_tol:.2e})",
            f"smallest relative curvature {self.min_curvature:.2e} (tol {self.curvature_tol:.0e})",
        ]
        return "; ".join(parts)


def eigh(A: np.ndarray, vectors: bool = True):
    """Eigenvalues (ascending) and, optionally, eigenvectors of a symmetric matrix (torch's LAPACK)."""
    At = torch.from_numpy(np.ascontiguousarray(A))
    if not vectors:
        return torch.linalg.eigvalsh(At).numpy()
    w, v = torch.linalg.eigh(At)
    return w.numpy(), v.numpy()


def solve_positive_definite(A: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """:math:`A^{-1} b` by Cholesky, or None when the factorisation fails."""
    L, info = torch.linalg.cholesky_ex(torch.from_numpy(np.ascontiguousarray(A)))
    if int(info) != 0:
        return None
    return torch.cholesky_solve(torch.from_numpy(b).reshape(-1, 1), L).reshape(-1).numpy()


def assess(f: float, g: np.ndarray, H: np.ndarray, *, ftol: float, gtol: float) -> ConvergenceReport:
    """Evaluate the three criteria at a point from its value, exact gradient and exact Hessian."""
    p = g.size
    M = max(1.0, abs(f))
    curvature_tol = 10.0 * max(p, 1) * EPS
    if p == 0:
        return ConvergenceReport(0.0, gtol, 0.0, ftol * M, 1.0, curvature_tol)
    if not (np.isfinite(f) and np.isfinite(g).all() and np.isfinite(H).all()):
        return ConvergenceReport(np.inf, gtol, np.inf, ftol * M, -np.inf, curvature_tol, list(CRITERIA))
    H = 0.5 * (H + H.T)
    diag = np.abs(np.diag(H))
    d = np.where(diag > 0, np.sqrt(diag), 1.0)
    gs = g / d
    Hs = H / np.outer(d, d)
    evals = eigh(Hs, vectors=False)
    top = float(np.max(np.abs(evals)))
    min_curvature = float(evals[0]) / top if top > 0 else 0.0
    scaled_gradient = float(np.max(np.abs(gs))) / np.sqrt(M)
    decrement = np.inf
    if min_curvature > curvature_tol:
        solved = solve_positive_definite(Hs, gs)
        if solved is not None:
            decrement = 0.5 * float(gs @ solved)
    elif min_curvature >= -curvature_tol:
        # singular: the decrement on the Hessian's range; the gradient criterion covers the null space
        evals, evecs = eigh(Hs)
        c = evecs.T @ gs
        keep = evals > curvature_tol * top
        decrement = 0.5 * float(np.sum(c[keep] ** 2 / evals[keep]))
    failed = []
    if not scaled_gradient <= gtol:
        failed.append("scaled gradient")
    if not decrement <= ftol * M:
        failed.append("Newton decrement")
    if not min_curvature > curvature_tol:
        failed.append("positive definite Hessian")
    return ConvergenceReport(scaled_gradient, gtol, decrement, ftol * M, min_curvature, curvature_tol, failed)

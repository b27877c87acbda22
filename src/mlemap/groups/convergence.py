"""The three convergence criteria of :mod:`mlemap.optim.convergence`, judged for many groups at once.

For a batch of points with values :math:`f_b`, exact gradients :math:`g_b` and exact Hessians
:math:`H_b`, each criterion is :func:`mlemap.optim.convergence.assess` evaluated per group, with the
same scaling, tolerances and linear algebra (batched LAPACK calls instead of one per group):
Jacobi scaling :math:`D_b = \\operatorname{diag}(\\sqrt{|H_{b,ii}|})`, the scaled gradient
:math:`\\|D_b^{-1} g_b\\|_\\infty / \\sqrt{M_b}`, the Newton decrement :math:`\\tfrac12 g_b^\\top H_b^{-1} g_b`
(Cholesky where positive definite, on the range for a singular positive semi-definite Hessian,
infinite otherwise) against ``ftol`` :math:`M_b`, and the smallest eigenvalue of the scaled Hessian
relative to the largest against :math:`10\\,p\\,\\epsilon`; :math:`M_b = \\max(1, |f_b|)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..optim.convergence import CRITERIA, EPS, ConvergenceReport
from .subproblem import cholesky_solve_batch, symmetric_eigh


@dataclass
class BatchReport:
    """The measured criteria of each point of a batch (one row per group)."""

    scaled_gradient: torch.Tensor
    decrement: torch.Tensor
    decrement_tol: torch.Tensor
    min_curvature: torch.Tensor
    curvature_tol: float
    gradient_tol: float
    #: (B, 3) booleans: which of :data:`CRITERIA` fail
    failed: torch.Tensor

    @property
    def converged(self) -> torch.Tensor:
        return ~self.failed.any(dim=1)

    def report(self, b: int, stop_reason: str = "") -> ConvergenceReport:
        """The :class:`~mlemap.optim.convergence.ConvergenceReport` of point ``b``."""
        failed = [c for c, bad in zip(CRITERIA, self.failed[b].tolist()) if bad]
        return ConvergenceReport(
            float(self.scaled_gradient[b]), self.gradient_tol, float(self.decrement[b]), float(self.decrement_tol[b]),
            float(self.min_curvature[b]), self.curvature_tol, failed, stop_reason,
        )

    def select(self, mask: torch.Tensor) -> "BatchReport":
        return BatchReport(self.scaled_gradient[mask], self.decrement[mask], self.decrement_tol[mask],
                           self.min_curvature[mask], self.curvature_tol, self.gradient_tol, self.failed[mask])


def assess_batch(f: torch.Tensor, g: torch.Tensor, H: torch.Tensor, *, ftol: float, gtol: float) -> BatchReport:
    """The criteria of :func:`mlemap.optim.convergence.assess` at each point of a batch."""
    B, p = g.shape
    M = torch.nan_to_num(f.abs(), nan=1.0, posinf=float("inf")).clamp_min(1.0)  # max(1, |f|), 1 where f is NaN (as in assess)
    curvature_tol = 10.0 * max(p, 1) * EPS
    finite = torch.isfinite(f) & torch.isfinite(g).all(1) & torch.isfinite(H).all(2).all(1)
    if p == 0:
        zero = torch.zeros(B, dtype=f.dtype, device=f.device)
        return BatchReport(zero, zero, 1e-15 * M, zero + 1, curvature_tol, gtol, torch.zeros(B, 3, dtype=torch.bool))
    eye = torch.eye(p, dtype=H.dtype, device=H.device)
    H = torch.where(finite[:, None, None], 0.5 * (H + H.transpose(1, 2)), eye)
    g = torch.where(finite[:, None], g, torch.zeros_like(g))
    diag = torch.diagonal(H, dim1=1, dim2=2).abs()
    d = torch.where(diag > 0, diag.sqrt(), torch.ones_like(diag))
    gs = g / d
    Hs = H / (d[:, :, None] * d[:, None, :])
    evals, evecs = symmetric_eigh(Hs)
    top = evals.abs().amax(1)
    min_curvature = torch.where(top > 0, evals[:, 0] / torch.where(top > 0, top, 1.0), torch.zeros_like(top))
    scaled_gradient = gs.abs().amax(1) / M.sqrt()
    decrement = torch.full_like(f, float("inf"))
    definite = min_curvature > curvature_tol
    if bool(definite.any()):
        solved, factored = cholesky_solve_batch(Hs[definite], gs[definite])
        value = 0.5 * (gs[definite] * solved).sum(1)
        decrement[definite] = torch.where(factored, value, torch.full_like(value, float("inf")))
    singular = ~definite & (min_curvature >= -curvature_tol)
    if bool(singular.any()):
        c = (evecs[singular].transpose(1, 2) @ gs[singular].unsqueeze(-1)).squeeze(-1)
        ev = evals[singular]
        keep = ev > curvature_tol * top[singular].unsqueeze(1)
        safe = torch.where(keep, ev, torch.ones_like(ev))
        decrement[singular] = 0.5 * torch.where(keep, c * c / safe, torch.zeros_like(c)).sum(1)
    decrement_tol = ftol * M
    scaled_gradient = torch.where(finite, scaled_gradient, torch.full_like(f, float("inf")))
    decrement = torch.where(finite, decrement, torch.full_like(f, float("inf")))
    min_curvature = torch.where(finite, min_curvature, torch.full_like(f, float("-inf")))
    failed = torch.stack([~(scaled_gradient <= gtol), ~(decrement <= decrement_tol), ~(min_curvature > curvature_tol)], 1)
    failed |= ~finite[:, None]  # a non-finite point fails every criterion
    return BatchReport(scaled_gradient, decrement, decrement_tol, min_curvature, curvature_tol, gtol, failed)


class ReportCache:
    """The criteria of every group at its current point, recomputed only for groups whose point has
    changed since they were last judged (``version`` counts each group's accepted points)."""

    def __init__(self, n_groups: int, dtype, device, *, ftol: float, gtol: float):
        self.ftol, self.gtol = ftol, gtol
        self.version = torch.full((n_groups,), -1, dtype=torch.int64, device=device)
        self.values = torch.zeros(n_groups, 4, dtype=dtype, device=device)
        self.failed = torch.zeros(n_groups, 3, dtype=torch.bool, device=device)
        self.curvature_tol = float("nan")

    def report(self, groups: torch.Tensor, version: torch.Tensor, f, g, H) -> BatchReport:
        stale = groups[self.version[groups] != version[groups]]
        if stale.numel():
            fresh = assess_batch(f[stale], g[stale], H[stale], ftol=self.ftol, gtol=self.gtol)
            self.values[stale] = torch.stack(
                [fresh.scaled_gradient, fresh.decrement, fresh.decrement_tol, fresh.min_curvature], 1)
            self.failed[stale] = fresh.failed
            self.version[stale] = version[stale]
            self.curvature_tol = fresh.curvature_tol
        v = self.values[groups]
        return BatchReport(v[:, 0], v[:, 1], v[:, 2], v[:, 3], self.curvature_tol, self.gtol, self.failed[groups])

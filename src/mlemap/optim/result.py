"""The record every solver returns."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .convergence import ConvergenceReport


@dataclass
class OptimizeResult:
    """Outcome of minimising an objective over an unconstrained vector.

    ``hess`` is the exact Hessian at ``x`` when the solver computed it there (Newton), so that the
    standard errors reuse it; ``None`` otherwise. ``report`` (trust-region Newton) says which
    convergence criteria hold at ``x``, with their values, and on failure what to try.
    """

    x: torch.Tensor
    fun: float
    grad: torch.Tensor
    hess: torch.Tensor | None
    n_iter: int
    n_fev: int
    converged: bool
    message: str
    solver: str
    #: line-search trials rejected because the objective was not finite (a support edge was crossed)
    nonfinite_trials: int = 0
    report: ConvergenceReport | None = None

    @property
    def grad_norm(self) -> float | None:
        if self.grad is None:
            return None
        return float(self.grad.abs().max()) if self.grad.numel() else 0.0

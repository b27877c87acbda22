"""Powell's derivative-free method (scipy), for objectives that are not differentiable everywhere.

A least-absolute-deviations likelihood (Laplace in ``loc``) is piecewise linear with kinks at the
data; Newton's quadratic model is useless there, while Powell's successive line minimisations
(Brent's method) land on the kinks.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .result import OptimizeResult


def powell(f: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, *, max_iter: int = 200) -> OptimizeResult:
    from scipy.optimize import minimize

    dtype, device = x0.dtype, x0.device

    def fun(v: np.ndarray) -> float:
        value = float(f(torch.as_tensor(v, dtype=dtype, device=device)))
        return value if np.isfinite(value) else np.inf

    res = minimize(
        fun,
        x0.detach().cpu().numpy(),
        method="Powell",
        options={"xtol": 1e-12, "ftol": 1e-15, "maxiter": max_iter * 10, "maxfev": max_iter * 1000},
    )
    x = torch.as_tensor(res.x, dtype=dtype, device=device)
    return OptimizeResult(
        x, float(res.fun), torch.zeros_like(x), None, int(res.nit), int(res.nfev), bool(res.success), str(res.message), "powell"
    )

"""Independent reference optimisation for tests: scipy to get close, then Newton to machine precision.

A reference must be more accurate than the tolerance a test asserts. scipy's BFGS and Nelder-Mead
stop with gradients around 1e-6, which is not enough for ``rtol=1e-6`` on small coefficients, so
the reference is polished with Newton steps on the same objective written in torch (the test's own
formula, differentiated by autograd), until the Newton decrement is at rounding level.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import optimize


def polished_minimum(f_torch, x0, *, max_newton: int = 50) -> np.ndarray:
    """Minimiser of ``f_torch`` (a float64 torch function of one vector) from ``x0``.

    BFGS from ``x0``, then Newton with the exact autograd Hessian and a backtracking line search.
    The returned point has a Newton decrement below 1e-24 relative to ``max(1, |f|)`` (asserted).
    """

    def f_np(v):
        return float(f_torch(torch.as_tensor(v, dtype=torch.float64)))

    def g_np(v):
        t = torch.as_tensor(v, dtype=torch.float64).requires_grad_(True)
        (g,) = torch.autograd.grad(f_torch(t), t)
        return g.numpy()

    x = optimize.minimize(f_np, np.asarray(x0, float), jac=g_np, method="BFGS", options={"gtol": 1e-9, "maxiter": 10_000}).x
    x = torch.as_tensor(x, dtype=torch.float64)
    for _ in range(max_newton):
        g = torch.autograd.functional.jacobian(f_torch, x)
        H = torch.autograd.functional.hessian(f_torch, x)
        step = -torch.linalg.solve(H, g)
        decrement = float(-(g @ step))
        fx = float(f_torch(x))
        if decrement <= 1e-24 * max(1.0, abs(fx)):
            return x.numpy()
        t = 1.0
        while float(f_torch(x + t * step)) > fx + 1e-4 * t * float(g @ step) and t > 1e-10:
            t *= 0.5
        if float(f_torch(x + t * step)) > fx:
            break
        x = x + t * step
    g = torch.autograd.functional.jacobian(f_torch, x)
    H = torch.autograd.functional.hessian(f_torch, x)
    decrement = float(g @ torch.linalg.solve(H, g))
    assert decrement <= 1e-20 * max(1.0, abs(float(f_torch(x)))), f"reference not converged: decrement {decrement:.3g}"
    return x.numpy()

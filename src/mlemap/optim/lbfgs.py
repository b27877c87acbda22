"""Limited-memory BFGS (torch's implementation with a strong-Wolfe line search), for many parameters."""

from __future__ import annotations

from typing import Callable

import torch

from .result import OptimizeResult

FG = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def lbfgs(
    fg: FG,
    x0: torch.Tensor,
    *,
    max_iter: int = 1000,
    gtol: float = 1e-9,
    history_size: int = 20,
) -> OptimizeResult:
    """Minimise with L-BFGS; ``fg(x)`` returns the value and the gradient.

    Convergence: the largest gradient component, relative to ``max(1, |f|)``, falls below ``gtol``.
    """
    x = x0.detach().clone().requires_grad_(True)
    opt = torch.optim.LBFGS(
        [x],
        lr=1.0,
        max_iter=max_iter,
        tolerance_grad=0.0,
        tolerance_change=0.0,
        history_size=history_size,
        line_search_fn="strong_wolfe",
    )
    state = {"n_fev": 0, "f": None, "g": None, "stop": False}

    def closure():
        state["n_fev"] += 1
        f, g = fg(x.detach())
        x.grad = g.clone()
        state["f"], state["g"] = f, g
        if float(g.abs().max()) <= gtol * max(1.0, abs(float(f))):
            state["stop"] = True
            x.grad.zero_()  # makes torch's LBFGS stop at this point
        return f

    opt.step(closure)
    f, g = fg(x.detach())
    n_iter = opt.state[x].get("n_iter", 0)
    converged = float(g.abs().max()) <= max(gtol * max(1.0, abs(float(f))), 1e-7 * max(1.0, abs(float(f))))
    message = "gradient below tolerance" if converged else f"stopped after {n_iter} iterations above the gradient tolerance"
    return OptimizeResult(x.detach(), float(f), g, None, int(n_iter), state["n_fev"], converged, message, "lbfgs")

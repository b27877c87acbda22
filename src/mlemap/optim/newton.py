"""Newton's method with the exact Hessian, eigenvalue modification and a backtracking line search.

Each iteration solves :math:`\\tilde H s = -g` where :math:`\\tilde H` is the Hessian with its
eigenvalues replaced by :math:`\\max(|\\lambda_i|, \\delta \\max_j|\\lambda_j|)`: the exact Newton step
near a minimum (quadratic convergence), a descent direction elsewhere, and no blow-up along flat
directions. Steps longer than ``max_step`` times the size of the iterate are shortened first (a
trust region in relative terms); then the step is halved until the Armijo condition
:math:`f(x + t s) \\le f(x) + 10^{-4} t\\, g^\\top s` holds.

Stopping rule: the Newton decrement :math:`\\lambda^2 = -g^\\top s` estimates twice the gap
:math:`f(x) - f^*` (and :math:`\\lambda` is the distance to the optimum in standard errors); iteration
stops when :math:`\\lambda^2 / 2 \\le \\text{ftol} \\cdot \\max(1, |f|)`.

Once the decrement is small enough that the next one is predicted below tolerance (the quadratic
regime, :math:`\\lambda_{k+1} \\lesssim \\lambda_k^2`), the new point is verified with a gradient-only
evaluation ``fg`` and the previous Hessian, saving the exact Hessian of the last step; the result
then carries ``hess=None`` and the standard errors compute the exact Hessian at the final point.
"""

from __future__ import annotations

from typing import Callable

import torch

from .result import OptimizeResult

FGH = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
FG = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
F = Callable[[torch.Tensor], torch.Tensor]


def _finite(value: torch.Tensor) -> bool:
    return bool(torch.isfinite(value).all())


def newton_direction(g: torch.Tensor, H: torch.Tensor, rel_floor: float = 1e-10) -> torch.Tensor:
    """Solve the eigenvalue-modified Newton system for the search direction."""
    Hs = 0.5 * (H + H.T)
    evals, evecs = torch.linalg.eigh(Hs)
    top = float(evals.abs().max()) if evals.numel() else 1.0
    floor = max(rel_floor * top, 1e-300)
    modified = torch.clamp(evals.abs(), min=floor)
    return -(evecs @ ((evecs.T @ g) / modified))


def newton(
    fgh: FGH,
    f: F,
    x0: torch.Tensor,
    *,
    fg: FG | None = None,
    max_iter: int = 200,
    ftol: float = 1e-15,
    max_step: float = 10.0,
    callback: Callable[[torch.Tensor, float], bool | None] | None = None,
) -> OptimizeResult:
    """Minimise with Newton steps; ``fgh(x)`` returns value, gradient and Hessian, ``f(x)`` the value.

    ``callback(x, f)`` is called at every iterate; returning True stops the iteration there.
    """
    n_fev = 0
    nonfinite = 0

    def done(x, fx, g, H, it, converged, message) -> OptimizeResult:
        return OptimizeResult(x, float(fx), g, H, it, n_fev, converged, message, "newton", nonfinite)

    x = x0.detach().clone()
    fx, g, H = fgh(x)
    n_fev += 1
    if not _finite(fx):
        return done(x, fx, g, H, 0, False, "the objective is not finite at the start")
    for it in range(max_iter + 1):
        if callback is not None and callback(x, float(fx)):
            return done(x, fx, g, H, it, False, "stopped by the callback")
        if not (_finite(g) and _finite(H)):
            return done(x, fx, g, H, it, False, "non-finite gradient or Hessian")
        step = newton_direction(g, H)
        slope = float(g @ step)
        decrement = -slope
        scale = max(1.0, abs(float(fx)))
        if decrement / 2 <= ftol * scale:
            return done(x, fx, g, H, it, True, "Newton decrement below tolerance")
        if it == max_iter:
            break
        biggest = float(step.abs().max())
        cap = max_step * max(1.0, float(x.abs().max()) if x.numel() else 1.0)
        if biggest > cap:
            step = step * (cap / biggest)
            slope = float(g @ step)
        if decrement / 2 <= 1e-9 * scale:
            # Below ~1e-9 relative the predicted decrease drowns in the rounding of f, so Armijo cannot
            # judge the step: take the full Newton step when it shrinks the gradient, else stop here.
            trial = (x + step).detach()
            if fg is not None:
                f_new, g_new = fg(trial)
            else:
                f_new, g_new, _ = fgh(trial)
            n_fev += 1
            if _finite(f_new) and _finite(g_new) and float(g_new.norm()) < float(g.norm()):
                x = trial
                fx, g, H = fgh(x)
                n_fev += 1
                continue
            return done(x, fx, g, H, it, True, "converged to floating-point precision (no further decrease possible)")
        t, accepted = 1.0, False
        for _ in range(60):
            trial = x + t * step
            f_trial = f(trial)
            n_fev += 1
            if _finite(f_trial) and float(f_trial) <= float(fx) + 1e-4 * t * slope:
                accepted = True
                break
            if not _finite(f_trial):
                nonfinite += 1
            t *= 0.5
        if not accepted:
            precise = decrement / 2 <= 1e-9 * scale
            message = (
                "converged to floating-point precision (no further decrease possible)"
                if precise
                else "line search failed to decrease the objective"
            )
            return done(x, fx, g, H, it, precise, message)
        x = trial.detach()
        if fg is not None and decrement <= (2 * ftol * scale) ** 0.5:
            f_new, g_new = fg(x)
            n_fev += 1
            if _finite(g_new):
                dec_new = -float(g_new @ newton_direction(g_new, H))
                if dec_new / 2 <= ftol * max(1.0, abs(float(f_new))):
                    return done(x, f_new, g_new, None, it + 1, True, "Newton decrement below tolerance")
        fx, g, H = fgh(x)
        n_fev += 1
    return done(x, fx, g, H, max_iter, False, f"reached max_iter={max_iter} before converging")

"""Priors on the coefficients of a survival regression, and the L1 route.

The ``prior`` argument is resolved as for the other estimators (:mod:`mlemap.models.prior`). On the
log-likelihood's own scale (the AFT likelihood has no separate dispersion) the MAP minimises

.. math:: -\\ell(\\beta, b, s) + \\lambda_1 \\lVert\\beta\\rVert_1 + \\tfrac{\\lambda_2}{2}\\lVert\\beta\\rVert_2^2 \\;[- \\textstyle\\sum_j \\log\\pi(\\beta_j)]

with :math:`\\lambda_1 = W\\alpha\\rho`, :math:`\\lambda_2 = W\\alpha(1 - \\rho)` for ``ridge``/``lasso``/``elastic_net(alpha,
l1_ratio=rho)`` (scikit-learn's scaling: the mean negative log-likelihood plus ``alpha`` times the
penalty), :math:`\\lambda_2 = 1/s^2` for ``td.Normal(0, s)``, :math:`\\lambda_1 = 1/b` for ``td.Laplace(0, b)``,
and any other scalar distribution as its own log-density. The intercept and the log-scale are not
penalised (the intercept is with ``penalize_intercept=True``).

With an L1 term the objective has a kink at zero: :func:`proximal_newton` minimises it by Newton
steps on the smooth part, each one a lasso on the quadratic model solved by coordinate descent on
the (small) Hessian, followed by a backtracking line search on the full objective; it stops when
the minimum-norm subgradient (the KKT residual) is at rounding level.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..core.contribution import Contribution


class CoefficientPenalty:
    """:math:`\\tfrac{\\lambda_2}{2}\\sum_j m_j\\theta_j^2 - \\sum_j m_j \\log\\pi(\\theta_j)` over the masked coordinates."""

    def __init__(self, mask: np.ndarray, l2: float = 0.0, dist=None):
        self.mask = np.asarray(mask, dtype=bool)
        self.l2 = float(l2)
        self.dist = dist

    def contribution(self, theta, order: int) -> Contribution:
        t = torch.as_tensor(theta, dtype=torch.float64)
        m = torch.from_numpy(self.mask.astype(np.float64))
        value = 0.5 * self.l2 * torch.sum(m * t * t)
        grad = self.l2 * m * t
        hess_diag = self.l2 * m
        if self.dist is not None:
            idx = torch.from_numpy(np.flatnonzero(self.mask))
            with torch.enable_grad():
                v = t[idx].detach().clone().requires_grad_(True)
                lp = self.dist.log_prob(v)
                (g,) = torch.autograd.grad(lp.sum(), v, create_graph=True)
                (h,) = torch.autograd.grad(g.sum(), v)  # the prior is i.i.d.: its Hessian is diagonal
            value = value - lp.detach().sum().to(torch.float64)
            grad = grad.clone()
            grad[idx] -= g.detach().to(torch.float64)
            hess_diag = hess_diag.clone()
            hess_diag[idx] -= h.to(torch.float64)
        return Contribution(value, grad if order >= 1 else None, torch.diag(hess_diag) if order >= 2 else None)

    def value(self, theta: np.ndarray) -> float:
        return float(self.contribution(torch.from_numpy(theta), 0).value)


def proximal_newton(objective, x0: torch.Tensor, l1: float, mask: np.ndarray, *, max_iter: int = 200,
                    tol: float = 1e-12):
    """Minimise ``objective(x) + l1 * sum(|x_j|, j in mask)``; returns ``(x, converged, n_iter, message)``."""
    x = x0.detach().clone().numpy()
    m = np.asarray(mask, dtype=bool)

    def full(v):
        return float(objective.value(torch.from_numpy(v))) + l1 * np.abs(v[m]).sum()

    f = full(x)
    for it in range(1, max_iter + 1):
        _, g, H = objective.value_grad_hess(torch.from_numpy(x))
        g, H = g.numpy(), H.numpy()
        kkt = _kkt_residual(x, g, l1, m)
        if kkt <= tol * max(1.0, np.abs(g).max(initial=0.0), abs(f) / max(1, x.size)):
            return x, True, it - 1, "KKT conditions hold to rounding level"
        target = _lasso_on_quadratic(x, g, H, l1, m)
        step = target - x
        slope = g @ step + l1 * (np.abs(target[m]).sum() - np.abs(x[m]).sum())
        t, accepted = 1.0, False
        for _ in range(60):
            trial = x + t * step
            f_trial = full(trial)
            if np.isfinite(f_trial) and f_trial <= f + 1e-4 * t * slope:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            return x, kkt <= 1e-6 * max(1.0, np.abs(g).max()), it, "line search could not decrease the objective further"
        x, f = trial, f_trial
    return x, False, max_iter, f"reached max_iter={max_iter} before the KKT conditions held"


def _kkt_residual(x: np.ndarray, g: np.ndarray, l1: float, m: np.ndarray) -> float:
    """Largest component of the minimum-norm subgradient of the L1-penalised objective."""
    r = g.copy()
    on = m & (x != 0)
    r[on] = g[on] + l1 * np.sign(x[on])
    zero = m & (x == 0)
    r[zero] = np.sign(g[zero]) * np.maximum(np.abs(g[zero]) - l1, 0.0)
    return float(np.abs(r).max(initial=0.0))


def _lasso_on_quadratic(x: np.ndarray, g: np.ndarray, H: np.ndarray, l1: float, m: np.ndarray,
                        sweeps: int = 1000) -> np.ndarray:
    """Minimiser of :math:`g^\\top(v - x) + \\tfrac12 (v - x)^\\top H (v - x) + \\lambda_1\\lVert v_m\\rVert_1` by cyclic
    coordinate descent (unpenalised coordinates get their exact conditional minimum)."""
    v = x.copy()
    d = np.diag(H).copy()
    d[d <= 0] = 1e-300
    grad_q = g.copy()  # gradient of the quadratic at v (v = x at the start)
    for _ in range(sweeps):
        biggest = 0.0
        for j in range(v.size):
            z = v[j] - grad_q[j] / d[j]
            new = np.sign(z) * max(abs(z) - l1 / d[j], 0.0) if m[j] else z
            delta = new - v[j]
            if delta != 0.0:
                grad_q += H[:, j] * delta
                v[j] = new
                biggest = max(biggest, abs(delta) * math.sqrt(d[j]))
        if biggest <= 1e-14 * max(1.0, float(np.abs(v).max())):
            break
    return v

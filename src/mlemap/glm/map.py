"""MAP regression under an arbitrary i.i.d. prior on the coefficients, by autograd.

For a smooth family and any scalar prior density :math:`\\pi` (a ``torch.distributions`` object)
the estimator minimises the joint objective

.. math:: f(\\beta, b, \\sigma) = \\sum_i w_i \\big[-\\log p(y_i \\mid \\eta_i, \\sigma)\\big] - \\sum_{j} \\log \\pi(\\beta_j)
   \\qquad (\\eta = X\\beta + b + o)

including the dispersion :math:`\\sigma` for the gaussian family (a flat prior on :math:`\\sigma`:
its update is :math:`\\hat\\sigma^2 = \\sum_i w_i r_i^2 / W`). The intercept enters the prior only
when ``penalize_intercept``. Trust-region Newton runs on the exact autograd Hessian (L-BFGS when
there are more than ``newton_max`` parameters), with :math:`\\log\\sigma` as the free coordinate; the
mode does not depend on that choice because no Jacobian term is added.

The Laplace approximation of the posterior is :math:`\\mathcal N(\\hat\\theta, H^{-1})` with
:math:`H` the Hessian of ``f`` at the mode in the natural coordinates :math:`(\\beta, b, \\sigma)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributions as td

from ..optim.lbfgs import lbfgs
from ..optim.trust_region import trust_region_newton
from .family import GLMFamily
from .gram import torch_single_thread


@dataclass
class MapFit:
    theta: np.ndarray  # packed rows [coef, intercept]
    scale: float | None  # sigma for the gaussian family
    hessian: np.ndarray  # over [theta..., sigma]
    objective: float
    n_iter: int
    converged: bool
    message: str


def fit_map_autograd(
    X: np.ndarray,
    y: np.ndarray,
    family: GLMFamily,
    prior: td.Distribution,
    *,
    sample_weight: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    intercept: bool = True,
    penalize_intercept: bool = False,
    n_classes: int | None = None,
    theta0: np.ndarray | None = None,
    max_iter: int = 200,
    tol: float = 1e-12,
    newton_max: int = 300,
) -> MapFit:
    """Minimise the joint negative log-posterior (see the module docstring)."""
    with torch_single_thread():
        return _fit(X, y, family, prior, sample_weight, offset, intercept, penalize_intercept, n_classes, theta0,
                    max_iter, tol, newton_max)


def _fit(X, y, family, prior, sample_weight, offset, intercept, penalize_intercept, n_classes, theta0, max_iter, tol,
         newton_max) -> MapFit:
    n, d = X.shape
    Xt = torch.from_numpy(X)
    multiclass = family.multiclass
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64 if multiclass else np.float64))
    w = None if sample_weight is None else torch.from_numpy(sample_weight)
    W = float(n if sample_weight is None else sample_weight.sum())
    off = None if offset is None else torch.from_numpy(offset)
    k = n_classes if multiclass else 1
    p1 = d + int(intercept)
    size = k * p1
    dispersion = family.name == "gaussian"
    log_prior_of = _log_prior(prior)

    def split(x):
        rows = x[:size].reshape(k, p1)
        return rows[:, :d], (rows[:, d] if intercept else None)

    def eta_of(x):
        B, b = split(x)
        eta = Xt @ B.T if multiclass else Xt @ B[0]
        if b is not None:
            eta = eta + (b if multiclass else b[0])
        if off is not None and not multiclass:
            eta = eta + off
        return eta

    def neg_log_post(x, sigma=None):
        eta = eta_of(x)
        nll = family.nll(yt, eta)
        total = nll.sum() if w is None else (w * nll).sum()
        if dispersion:
            s = torch.exp(x[size]) if sigma is None else sigma
            total = total / (s * s) + W * torch.log(s) + 0.5 * W * math.log(2 * math.pi)
        B, b = split(x)
        lp = log_prior_of(B).sum()
        if penalize_intercept and b is not None:
            lp = lp + log_prior_of(b).sum()
        return total - lp

    x0 = np.zeros(size + int(dispersion))
    if theta0 is not None:
        x0[:size] = theta0
    elif intercept and not multiclass:
        x0[d] = _null_intercept(family, np.asarray(y, float), sample_weight, offset)
    if dispersion:
        resid = np.asarray(y, float) - (X @ x0[:d] + (x0[d] if intercept else 0.0))
        x0[size] = 0.5 * math.log(max(float(np.mean(resid * resid)), 1e-300))
    x0t = torch.from_numpy(x0)

    def f(x):
        with torch.no_grad():
            return neg_log_post(x)

    def fg(x):
        x = x.detach().requires_grad_(True)
        value = neg_log_post(x)
        (g,) = torch.autograd.grad(value, x)
        return value.detach(), g

    def fgh(x):
        value, g = fg(x)
        H = torch.autograd.functional.hessian(neg_log_post, x.detach())
        return value, g, H

    if x0t.numel() <= newton_max:
        res = trust_region_newton(fgh, f, x0t, fg=fg, max_iter=max_iter, ftol=tol)
    else:
        res = lbfgs(fg, x0t, max_iter=max_iter * 50, gtol=1e-9)
    x = res.x.detach()
    theta = x[:size].numpy().copy()
    sigma = float(torch.exp(x[size])) if dispersion else None
    # Hessian in natural coordinates (sigma rather than log sigma) for the Laplace approximation
    if dispersion:
        nat = torch.cat([x[:size], torch.exp(x[size:])])
        H = torch.autograd.functional.hessian(lambda z: neg_log_post(z, sigma=z[size]), nat)
    else:
        H = torch.autograd.functional.hessian(neg_log_post, x)
    return MapFit(theta, sigma, H.detach().numpy().copy(), float(res.fun), int(res.n_iter), bool(res.converged),
                  res.message)


def _log_prior(prior: td.Distribution):
    def log_prob(values: torch.Tensor) -> torch.Tensor:
        return prior.log_prob(values.to(torch.float64))

    return log_prob


def _null_intercept(family, y, w, offset) -> float:
    ww = np.ones_like(y) if w is None else w
    m = float((ww * y).sum() / ww.sum())
    if family.name == "bernoulli":
        m = min(max(m, 1e-10), 1 - 1e-10)
        return math.log(m / (1 - m))
    if family.name == "poisson":
        base = ww.sum() if offset is None else float((ww * np.exp(offset)).sum())
        return math.log(max((ww * y).sum(), 1e-10) / base)
    return m if offset is None else float((ww * (y - offset)).sum() / ww.sum())

"""Exact and right-censored Weibull data: the profile MLE and the likelihood in hazard form.

With events :math:`\\delta_i`, times :math:`t_i`, :math:`u_i = \\log t_i - \\log\\lambda` and
:math:`e_i = e^{k u_i}` (the cumulative hazard), every row contributes

.. math:: \\ell_i = \\delta_i\\big(\\log k - \\log\\lambda + (k - 1) u_i\\big) - e_i,

whose derivatives in :math:`(\\lambda, k)` are :math:`\\ell_\\lambda = (k/\\lambda)(e_i - \\delta_i)`,
:math:`\\ell_k = \\delta_i(1/k + u_i) - e_i u_i`, :math:`\\ell_{\\lambda\\lambda} = -(k/\\lambda^2)(e_i - \\delta_i) - (k/\\lambda)^2 e_i`,
:math:`\\ell_{\\lambda k} = (e_i - \\delta_i)/\\lambda + (k/\\lambda) e_i u_i` and :math:`\\ell_{kk} = -\\delta_i/k^2 - e_i u_i^2`:
:func:`hazard_log_likelihood` evaluates them in one vectorised pass and hands them to autograd
(the backward pass reduces over the rows in NumPy), so the exact observed information costs one
pass over the rows.

:func:`right_censored_mle` profiles out the scale: with :math:`D = \\sum_i w_i\\delta_i`,
:math:`L = \\sum_i w_i\\delta_i\\log t_i` and :math:`\\mu = \\lambda^k`, :math:`\\hat\\mu(k) = \\sum_i w_i t_i^k / D` and

.. math:: \\ell_p(k) = D\\log k - D\\big(kc + \\log S_0 - \\log D\\big) + (k - 1)L - D,
          \\qquad S_j = \\sum_i w_i e^{k y_i} y_i^j,\\; y_i = \\log t_i - c,

with :math:`\\ell_p' = D/k - D(c + S_1/S_0) + L` and :math:`\\ell_p'' = -D/k^2 - D(S_2/S_0 - (S_1/S_0)^2) < 0`
(concave). Halley's method in :math:`\\log k` runs on a random subsample first, then finishes on every
row (one pass per step, in NumPy; see :func:`_newton`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..families.positive import Weibull
from .data import EXACT, RIGHT

SUBSAMPLE_ABOVE = 200_000


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """:math:`\\sum_i a_i b_i` without BLAS (whose threads only contend for memory bandwidth here)."""
    return float(np.einsum("i,i->", a, b))

SUBSAMPLE_SIZE = 50_000
EVENT, LOG_T, USED = "hazard:event", "hazard:log_t", "hazard:used"


def applies(family, kind: np.ndarray) -> bool:
    """Weibull, no truncation, every row exact, right-censored or uninformative."""
    if type(family.base) is not Weibull or family.truncation != (-math.inf, math.inf):
        return False
    return bool(np.all((kind == EXACT) | (kind == RIGHT) | (kind > 3)))


def hazard_features(kind: np.ndarray, low: np.ndarray) -> dict[str, torch.Tensor]:
    """``event`` (0/1), ``log_t`` (log of the value or censoring time) and ``used`` (0 for rows without
    information) per row."""
    used = (kind == EXACT) | (kind == RIGHT)
    if used.all():
        log_t = np.log(low)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            log_t = np.where(used, np.log(np.where(used, low, 1.0)), 0.0)
    return {EVENT: torch.from_numpy((kind == EXACT).astype(np.float64)), LOG_T: torch.from_numpy(log_t),
            USED: torch.from_numpy(used.astype(np.float64))}


def hazard_log_likelihood(f, p) -> torch.Tensor:
    r"""Per-row :math:`\ell_i` with exact first and second derivatives in ``(scale, concentration)``."""
    return _HazardRows.apply(p["scale"], p["concentration"], f[LOG_T], f[EVENT], f[USED])


def _rows(scale: float, k: float, log_t, event, used, derivatives: bool):
    """Per-row value, and its gradient (2, n) and Hessian (2, 2, n) in ``(scale, k)``."""
    u = log_t - math.log(scale)
    e = np.exp(k * u) * used
    value = event * (math.log(k) - math.log(scale) + (k - 1) * u) - e
    if not derivatives:
        return value, None, None
    r = e - event
    grad = np.stack([(k / scale) * r, event * (1 / k + u) - e * u])
    h_ss = -(k / scale**2) * r - (k / scale) ** 2 * e
    h_sk = r / scale + (k / scale) * e * u
    h_kk = -event / k**2 - e * u * u
    return value, grad, np.stack([np.stack([h_ss, h_sk]), np.stack([h_sk, h_kk])])


class _HazardRows(torch.autograd.Function):
    """Rows of the hazard-form log-likelihood of scalar ``(scale, k)``; the backward pass reduces over the
    rows in NumPy (no per-row tensors of derivatives), and is itself differentiable once more."""

    @staticmethod
    def forward(ctx, scale, k, log_t, event, used):
        need = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        arrays = [t.detach().cpu().numpy() for t in (log_t, event, used)]
        value, grad, hess = _rows(float(scale), float(k), *arrays, derivatives=need)
        ctx.rows = (grad, hess)
        ctx.save_for_backward(scale, k)
        return torch.from_numpy(value).to(dtype=scale.dtype, device=scale.device)

    @staticmethod
    def backward(ctx, grad_out):
        scale, k = ctx.saved_tensors
        g_scale, g_k = _Reduced.apply(grad_out, scale, k, ctx.rows[0], ctx.rows[1])
        want = ctx.needs_input_grad
        return (g_scale if want[0] else None), (g_k if want[1] else None), None, None, None


class _Reduced(torch.autograd.Function):
    r""":math:`\sum_i g_i \partial\ell_i/\partial\theta_j` for the upstream weights ``g``; its own derivative
    in :math:`\theta` is :math:`\sum_i g_i \partial^2\ell_i/\partial\theta_j\partial\theta_l` (and in ``g`` the rows)."""

    @staticmethod
    def forward(ctx, grad_out, scale, k, grad, hess):
        g = np.broadcast_to(grad_out.detach().cpu().numpy(), grad.shape[1:])
        ctx.g, ctx.grad, ctx.hess = g, grad, hess
        like = scale
        return tuple(torch.tensor(float(g @ grad[j]), dtype=like.dtype, device=like.device) for j in range(2))

    @staticmethod
    def backward(ctx, go_scale, go_k):
        outer = [go_scale, go_k]
        g, hess, grad = ctx.g, ctx.hess, ctx.grad
        d_theta = []
        for l in range(2):
            total = sum(outer[j] * float(g @ hess[j, l]) for j in range(2))
            d_theta.append(total)
        d_rows = None
        if ctx.needs_input_grad[0]:
            d_rows = torch.from_numpy(float(go_scale) * grad[0] + float(go_k) * grad[1]).to(go_scale)
        return d_rows, d_theta[0], d_theta[1], None, None


def right_censored_mle(family, problem, max_iter: int = 100):
    """``(params, iterations, converged, Hessian)`` of the profile Newton, or ``None`` when it does not
    apply; the Hessian is the negative log-likelihood's in ``(log scale, log concentration)``."""
    if set(problem.free) != {"scale", "concentration"}:
        return None
    f = problem.features
    if EVENT not in f:
        return None
    event, log_t, used = (f[key].cpu().numpy() for key in (EVENT, LOG_T, USED))
    w = None if problem.weights is None else problem.weights.cpu().numpy()
    if not used.all():
        keep = np.flatnonzero(used)
        event, log_t = event[keep], log_t[keep]
        w = None if w is None else w[keep]
    D = float(event.sum() if w is None else _dot(w, event))
    if not D > 0:
        return None
    iterations = 0
    if log_t.size > SUBSAMPLE_ABOVE:  # most of the way on a subsample, the last steps on every row
        idx = np.random.default_rng(20_240_607).integers(0, log_t.size, SUBSAMPLE_SIZE)
        total = log_t.size if w is None else w.sum()
        ws = np.full(idx.size, total / idx.size) if w is None else w[idx] * (total / w[idx].sum())
        k = _start(log_t[idx], ws, event[idx])
        k, its, _ = _newton(log_t[idx], ws, event[idx], k, max_iter, tol=1e-3)
        iterations += its
    else:
        k = _start(log_t, w, event)
    k, its, converged = _newton(log_t, w, event, k, max_iter)
    iterations += its
    scale, hessian = _scale_and_hessian(log_t, w, event, k, D)
    like = f[EVENT]
    as_tensor = lambda v: torch.as_tensor(v, dtype=like.dtype, device=like.device)  # noqa: E731
    params = {"scale": as_tensor(scale), "concentration": as_tensor(k)}
    return params, iterations, converged, as_tensor(hessian)


def _scale_and_hessian(log_t, w, event, k: float, D: float):
    r"""The profiled scale and the exact Hessian of :math:`-\ell` in :math:`(\log\lambda, \log k)`, from the
    sums :math:`E_j = \sum_i w_i e_i u_i^j` (see the module docstring)."""
    c = float(log_t.max())
    ew = np.exp(k * (log_t - c))
    if w is not None:
        ew *= w
    log_scale = (math.log(float(ew.sum()) / D) + k * c) / k
    u = log_t - log_scale
    e = ew * math.exp(k * (c - log_scale))
    eu = e * u
    E0, E1, E2 = float(e.sum()), float(eu.sum()), float(_dot(eu, u))
    Lu = float(_dot(event if w is None else w * event, u))
    lam = math.exp(log_scale)
    g = -np.array([(k / lam) * (E0 - D), D / k + Lu - E1])
    h_ll = -(k / lam**2) * (E0 - D) - (k / lam) ** 2 * E0
    h_lk = (E0 - D) / lam + (k / lam) * E1
    h_kk = -D / k**2 - E2
    H = -np.array([[h_ll, h_lk], [h_lk, h_kk]])
    J = np.array([lam, k])
    return lam, H * np.outer(J, J) + np.diag(J * g)


def _start(log_t, w, event) -> float:
    r"""Gumbel moments of log t over the events: :math:`k = \pi / (\sqrt6\, s)`."""
    obs = event > 0
    lt = log_t[obs] if obs.sum() > 1 else log_t
    ww = np.ones_like(lt) if w is None else (w[obs] if obs.sum() > 1 else w)
    mean = _dot(ww, lt) / ww.sum()
    sd = math.sqrt(max(float(_dot(ww, (lt - mean) ** 2) / ww.sum()), 1e-16))
    return math.pi / math.sqrt(6) / sd


def _newton(log_t, w, event, k: float, max_iter: int, tol: float = 1e-4):
    """Halley's method in :math:`v = \\log k` on the concave profile: convergence is cubic (a step of
    size ``s`` leaves an error of order :math:`s^3`), so a step below ``tol = 1e-4`` leaves one near 1e-12.

    With :math:`\\bar y, m_2, m_3` the mean and central moments of ``y`` weighted by :math:`w e^{ky}`:
    :math:`\\ell_p' = D/k - D(c + \\bar y) + L`, :math:`\\ell_p'' = -D/k^2 - D m_2`, :math:`\\ell_p^{(3)} = 2D/k^3 - D m_3`,
    and in ``v``: :math:`\\varphi_1 = k\\ell_p'`, :math:`\\varphi_2 = k^2\\ell_p'' + \\varphi_1`,
    :math:`\\varphi_3 = k^3\\ell_p^{(3)} + 3k^2\\ell_p'' + \\varphi_1`; the step is
    :math:`-2\\varphi_1\\varphi_2 / (2\\varphi_2^2 - \\varphi_1\\varphi_3)`, capped at a factor :math:`e` in ``k``."""
    D = float(event.sum() if w is None else _dot(w, event))
    L = float(_dot(event if w is None else w * event, log_t))
    c = float(log_t.max())
    y = log_t - c
    e, ey, eyy = np.empty_like(y), np.empty_like(y), np.empty_like(y)
    for it in range(1, max_iter + 1):
        np.multiply(y, k, out=e)
        np.exp(e, out=e)
        if w is not None:
            e *= w
        np.multiply(e, y, out=ey)
        np.multiply(ey, y, out=eyy)
        s0, s1, s2, s3 = e.sum(), ey.sum(), eyy.sum(), _dot(eyy, y)
        mean = s1 / s0
        m2 = s2 / s0 - mean * mean
        m3 = s3 / s0 - 3 * mean * s2 / s0 + 2 * mean**3
        g = D / k - D * (mean + c) + L
        h = -D / k**2 - D * m2
        t = 2 * D / k**3 - D * m3
        d1 = k * g
        d2 = k * k * h + d1
        d3 = k**3 * t + 3 * k * k * h + d1
        if d2 < 0:
            denominator = 2 * d2 * d2 - d1 * d3
            step = -2 * d1 * d2 / denominator if denominator > 0 else -d1 / d2
        else:  # not concave here (far from the answer): a capped step uphill
            step = math.copysign(1.0, d1)
        step = max(min(step, 1.0), -1.0)
        k *= math.exp(step)
        if abs(step) <= tol:
            return k, it, True
    return k, max_iter, False

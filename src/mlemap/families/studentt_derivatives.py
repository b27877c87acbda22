"""Student's t log-likelihood of a chunk with its exact first and second derivatives, in closed form.

With :math:`z = (x - \\mu)/\\sigma`, :math:`q = z^2/\\nu`, :math:`r = 1/(1 + q)`, :math:`s = q r`,
:math:`a = \\nu + 1` and :math:`C(\\nu) = \\log\\Gamma(\\tfrac{\\nu+1}2) - \\log\\Gamma(\\tfrac\\nu2) - \\tfrac12\\log(\\nu\\pi)`,
one observation has :math:`\\ell = C(\\nu) - \\log\\sigma - \\tfrac a2 \\log(1 + q)` and

.. math::
    \\ell_\\nu = C' - \\tfrac12\\log(1+q) + \\tfrac{a}{2\\nu} s, \\quad
    \\ell_\\mu = \\tfrac{a}{\\nu\\sigma} z r, \\quad
    \\ell_\\sigma = \\tfrac1\\sigma (a s - 1),

    \\ell_{\\mu\\mu} = \\tfrac{a}{\\nu\\sigma^2}(2 q r^2 - r), \\quad
    \\ell_{\\mu\\sigma} = \\tfrac{2a}{\\nu\\sigma^2}(z q r^2 - z r), \\quad
    \\ell_{\\mu\\nu} = \\tfrac{1}{\\sigma\\nu^2}(a z q r^2 - z r),

    \\ell_{\\sigma\\sigma} = \\tfrac1{\\sigma^2}(1 - a(2 q r^2 + s)), \\quad
    \\ell_{\\sigma\\nu} = \\tfrac1\\sigma(s - \\tfrac a\\nu q r^2), \\quad
    \\ell_{\\nu\\nu} = C'' + s(\\tfrac1{2\\nu} - \\tfrac1{2\\nu^2}) - \\tfrac{a}{2\\nu^2} q r^2.

Summed over a chunk they need five weighted sums of :math:`\\log(1+q)`, :math:`zr`, :math:`s`,
:math:`qr^2` and :math:`zqr^2` (one logarithm per observation), so a pass costs a few array
operations instead of an autograd graph. :math:`C`, :math:`C'` and :math:`C''` are scalars, taken
by autograd from the same accurate :func:`lgamma_half_difference` the log-density uses.
"""

from __future__ import annotations

import math
import threading

import torch

#: the family's parameter order of the returned gradient and Hessian
ORDER = ("df", "loc", "scale")


_SCRATCH = threading.local()


def _scratch(like: torch.Tensor) -> list[torch.Tensor]:
    """Three work arrays of ``like``'s length, dtype and device, kept per thread between chunks
    (allocating fresh ones for every chunk costs more than the arithmetic done in them)."""
    n = like.numel()
    held = getattr(_SCRATCH, "arrays", None)
    if held is None or held[0].numel() < n or held[0].dtype != like.dtype or held[0].device != like.device:
        held = [torch.empty(n, dtype=like.dtype, device=like.device) for _ in range(3)]
        _SCRATCH.arrays = held
    return [a[:n] for a in held]


def _sum(t: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    return t.sum() if w is None else torch.dot(w, t)


def _constant(df: torch.Tensor, order: int):
    """:math:`C(\\nu)` and its first two derivatives (the last ones kept: every chunk of a pass asks for them)."""
    key = (float(df), df.dtype, df.device, order)
    last = getattr(_SCRATCH, "constant", None)
    if last is not None and last[0] == key:
        return last[1]
    _SCRATCH.constant = (key, _constant_at(df, order))
    return _SCRATCH.constant[1]


def _constant_at(df: torch.Tensor, order: int):
    from .special import lgamma_half_difference

    with torch.enable_grad():
        v = df.detach().clone().requires_grad_(True)
        c = lgamma_half_difference(v / 2) - 0.5 * torch.log(v * math.pi)
        if order == 0:
            return c.detach(), None, None
        (c1,) = torch.autograd.grad(c, v, create_graph=order == 2)
        c2 = torch.autograd.grad(c1, v)[0].detach() if order == 2 else None
    return c.detach(), c1.detach(), c2


def studentt_derivatives(x: torch.Tensor, w: torch.Tensor | None, df: torch.Tensor, loc: torch.Tensor,
                         scale: torch.Tensor, order: int):
    """``(value, grad, hess)`` of :math:`\\sum_i w_i \\ell(x_i)` in ``(df, loc, scale)`` (see the module
    docstring); ``grad`` is None for ``order == 0`` and ``hess`` is None below ``order == 2``."""
    nu, mu, sigma = df.detach(), loc.detach(), scale.detach()
    W = torch.tensor(float(x.numel()), dtype=x.dtype, device=x.device) if w is None else w.sum()
    z, q, buf = _scratch(x)
    torch.sub(x.reshape(-1), mu, out=z).div_(sigma)
    torch.mul(z, z, out=q).div_(nu)
    torch.log1p(q, out=buf)
    SL = _sum(buf, w)
    a = nu + 1
    C, C1, C2 = _constant(nu, order)
    value = W * (C - torch.log(sigma)) - a / 2 * SL
    if order == 0:
        return value, None, None
    r = torch.add(q, 1.0, out=buf).reciprocal_()
    s = q.mul_(r)  # q r
    rw = r if w is None else r.mul_(w)
    Ss, Szr = _sum(s, w), torch.dot(z, rw)
    grad = torch.stack([W * C1 - SL / 2 + a / (2 * nu) * Ss, a / (nu * sigma) * Szr, (a * Ss - W) / sigma])
    if order == 1:
        return value, grad, None
    Sqr2 = torch.dot(s, rw)
    Szqr2 = torch.dot(s.mul_(z), rw)
    Sr = W - Ss
    h_nn = W * C2 + Ss * (1 / (2 * nu) - 1 / (2 * nu * nu)) - a * Sqr2 / (2 * nu * nu)
    h_nm = (a * Szqr2 - Szr) / (sigma * nu * nu)
    h_ns = (Ss - a * Sqr2 / nu) / sigma
    h_mm = a / (nu * sigma * sigma) * (2 * Sqr2 - Sr)
    h_ms = 2 * a / (nu * sigma * sigma) * (Szqr2 - Szr)
    h_ss = (W - a * (2 * Sqr2 + Ss)) / (sigma * sigma)
    hess = torch.stack([
        torch.stack([h_nn, h_nm, h_ns]),
        torch.stack([h_nm, h_mm, h_ms]),
        torch.stack([h_ns, h_ms, h_ss]),
    ])
    return value, grad, hess

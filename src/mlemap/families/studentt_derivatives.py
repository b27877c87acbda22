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
    on_cpu = x.device.type == "cpu" and nu.device.type == "cpu"
    if on_cpu:  # the scalars in floats: a few dozen 0-d tensor operations cost more than a chunk's arithmetic
        nu, mu, sigma = float(nu), float(mu), float(sigma)
        sums = _cpu_sums(x, w, nu, mu, sigma, order)
        log_sigma = math.log(sigma)
    else:
        sums = _tensor_sums(x, w, nu, mu, sigma, order)
        log_sigma = torch.log(sigma)
    C, C1, C2 = _constant(df.detach(), order)
    if on_cpu:
        C, C1, C2 = (None if c is None else float(c) for c in (C, C1, C2))
    value, grad, hess = _assemble(sums, nu, sigma, log_sigma, C, C1, C2, order)
    if not on_cpu:
        return (value, None if grad is None else torch.stack(grad),
                None if hess is None else torch.stack([torch.stack(row) for row in hess]))
    like = dict(dtype=x.dtype, device=x.device)
    return (torch.tensor(value, **like), None if grad is None else torch.tensor(grad, **like),
            None if hess is None else torch.tensor(hess, **like))


def _assemble(sums, nu, sigma, log_sigma, C, C1, C2, order: int):
    """Value, gradient (a list) and Hessian (a list of rows) from the chunk's sums
    ``(W, SL, Ss, Szr, Sqr2, Szqr2)`` (numbers or 0-d tensors alike)."""
    W, SL, Ss, Szr, Sqr2, Szqr2 = sums
    a = nu + 1
    value = W * (C - log_sigma) - a / 2 * SL
    if order == 0:
        return value, None, None
    grad = [W * C1 - SL / 2 + a / (2 * nu) * Ss, a / (nu * sigma) * Szr, (a * Ss - W) / sigma]
    if order == 1:
        return value, grad, None
    Sr = W - Ss
    h_nn = W * C2 + Ss * (1 / (2 * nu) - 1 / (2 * nu * nu)) - a * Sqr2 / (2 * nu * nu)
    h_nm = (a * Szqr2 - Szr) / (sigma * nu * nu)
    h_ns = (Ss - a * Sqr2 / nu) / sigma
    h_mm = a / (nu * sigma * sigma) * (2 * Sqr2 - Sr)
    h_ms = 2 * a / (nu * sigma * sigma) * (Szqr2 - Szr)
    h_ss = (W - a * (2 * Sqr2 + Ss)) / (sigma * sigma)
    return value, grad, [[h_nn, h_nm, h_ns], [h_nm, h_mm, h_ms], [h_ns, h_ms, h_ss]]


def _cpu_sums(x: torch.Tensor, w: torch.Tensor | None, nu: float, mu: float, sigma: float, order: int):
    """:func:`_tensor_sums` of a CPU chunk as floats, the logarithm taken by NumPy (twice as fast as
    torch's there; the sums stay with torch, whose dot products do not wake a BLAS thread pool)."""
    import numpy as np

    z, q, buf = _scratch(x)
    torch.sub(x.reshape(-1), mu, out=z).mul_(1.0 / sigma)  # a product costs half a quotient
    torch.mul(z, z, out=q).mul_(1.0 / nu)
    np.log1p(q.numpy(), out=buf.numpy())
    return tuple(None if v is None else float(v) for v in _sums(z, q, buf, w, order))


def _tensor_sums(x: torch.Tensor, w: torch.Tensor | None, nu, mu, sigma, order: int):
    """``(W, SL, Ss, Szr, Sqr2, Szqr2)`` of a chunk with torch (any device; 0-d tensors, no
    synchronisation), in place in three work arrays (sums not needed at ``order`` are None)."""
    z, q, buf = _scratch(x)
    torch.sub(x.reshape(-1), mu, out=z).div_(sigma)
    torch.mul(z, z, out=q).div_(nu)
    torch.log1p(q, out=buf)
    return _sums(z, q, buf, w, order)


def _sums(z: torch.Tensor, q: torch.Tensor, log1p_q: torch.Tensor, w: torch.Tensor | None, order: int):
    """The sums from :math:`z`, :math:`q` and :math:`\\log(1 + q)` (the work arrays are overwritten)."""

    def total(t):
        return t.sum() if w is None else torch.dot(w, t)

    W = torch.tensor(float(z.numel()), dtype=z.dtype, device=z.device) if w is None else w.sum()
    SL = total(log1p_q)
    if order == 0:
        return W, SL, None, None, None, None
    r = torch.add(q, 1.0, out=log1p_q).reciprocal_()
    s = q.mul_(r)  # q r
    rw = r if w is None else r.mul_(w)
    Ss, Szr = total(s), torch.dot(z, rw)
    if order == 1:
        return W, SL, Ss, Szr, None, None
    Sqr2 = torch.dot(s, rw)
    Szqr2 = torch.dot(s.mul_(z), rw)
    return W, SL, Ss, Szr, Sqr2, Szqr2

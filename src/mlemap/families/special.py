"""Log-space special functions with exact first and second derivatives (for censored likelihoods),
and the stable difference of two log-gamma values (Student's t).

Censored and truncated likelihoods need :math:`\\log F` and :math:`\\log(1 - F)` far into the tails,
differentiable twice in every argument. torch has ``log_ndtr`` but no regularised incomplete beta
and no derivative of the incomplete gamma in its shape, so this module provides:

* :func:`log1mexp` :math:`\\log(1 - e^{a})` for :math:`a \\le 0` and :func:`log1mexp_exp`
  :math:`\\log(1 - \\exp(-e^{l}))`, accurate over the whole range (Mächler, 2012);
* :func:`log_beta` :math:`\\log B(a, b)` without the cancellation of three large ``lgamma`` values
  (Stirling corrections, as R's ``lbeta``);
* :func:`log_gamma_prefactor` :math:`-x + a\\log x - \\log\\Gamma(a)`, accurate when :math:`x \\approx a` is large;
* :func:`log_gammainc` :math:`(\\log P(a, x), \\log Q(a, x))`, the regularised lower and upper
  incomplete gamma functions: the series
  :math:`P = x^a e^{-x}/\\Gamma(a) \\sum_{k\\ge0} x^k / (a(a+1)\\cdots(a+k))` for :math:`x < a + 1`,
  else the continued fraction of :math:`Q` (Numerical Recipes, 6.2); the other one by
  :math:`\\log(1 - e^{\\cdot})`;
* :func:`log_betainc` :math:`(\\log I_x(a, b), \\log(1 - I_x(a, b)))`, by the continued fraction of
  :math:`I_x(a, b) = x^a y^b / (a B(a, b)) \\cdot \\mathrm{cf}(a, b, x)` on the side
  :math:`x < (a + 1)/(a + b + 2)`, by symmetry :math:`I_x(a, b) = 1 - I_y(b, a)` on the other
  (``y = 1 - x`` is passed separately, so that it keeps its digits near ``x = 1``).

The series and continued fractions are evaluated once per call on second-order *jets* (value,
gradient and Hessian in the live arguments, propagated through every recurrence, as Boik and
Robison-Cox (1998) differentiate the incomplete beta), with converged rows dropped as they finish;
a :class:`torch.autograd.Function` then returns the value with that exact gradient, whose own
derivative is the exact Hessian. Third derivatives are not available.
"""

from __future__ import annotations

import math

import numpy as np
import torch

LN2 = math.log(2.0)
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
#: a recurrence stops for a row when its last factor changes the log by less than this
TOLERANCE = 1e-15
MAX_TERMS = 20_000
_TINY = 1e-300


# ---------------------------------------------------------------------- elementary log-space helpers
def log1mexp(a: torch.Tensor) -> torch.Tensor:
    """:math:`\\log(1 - e^{a})` for :math:`a \\le 0`: ``log(-expm1(a))`` near 0, ``log1p(-exp(a))`` below
    :math:`-\\log 2` (both branches finite wherever the other is taken, so gradients stay clean)."""
    near = a > -LN2
    a_near = torch.where(near, a, torch.full_like(a, -1.0))
    a_far = torch.where(near, torch.full_like(a, -1.0), a)
    return torch.where(near, torch.log(-torch.expm1(a_near)), torch.log1p(-torch.exp(a_far)))


def log1mexp_exp(l: torch.Tensor) -> torch.Tensor:
    """:math:`\\log(1 - \\exp(-e^{l}))`: the log-cdf of the Weibull and extreme-value laws at
    :math:`t = e^{l}`, by :func:`log1mexp` of :math:`-t`; below :math:`l = -30` it is :math:`l - t/2`
    (error below :math:`t^2/24`), so that ``t`` underflowing to 0 still gives the exact log."""
    small = l < -30
    l_small = torch.where(small, l, torch.full_like(l, -31.0))
    l_big = torch.where(small, torch.zeros_like(l), l)
    return torch.where(small, l_small - 0.5 * torch.exp(l_small), log1mexp(-torch.exp(l_big)))


def log_diff_exp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """:math:`\\log(e^{a} - e^{b})` for :math:`a > b` (``-inf`` when equal)."""
    return a + log1mexp(b - a)


# Stirling's series for lgamma(x) - ((x - 1/2) log x - x + log(2 pi)/2), x >= 10: B_2k / (2k (2k - 1) x^(2k - 1))
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)


def stirling_correction(x: torch.Tensor) -> torch.Tensor:
    """:math:`\\log\\Gamma(x) - (x - \\tfrac12)\\log x + x - \\tfrac12\\log 2\\pi` for ``x >= 10`` (error < 1e-17)."""
    inv = 1 / x
    inv2 = inv * inv
    total = torch.zeros_like(x)
    for c in reversed(_STIRLING):
        total = total * inv2 + c
    return total * inv


def log_beta(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """:math:`\\log B(a, b)`, accurate when one or both arguments are large (R's ``lbeta`` scheme)."""
    a, b = torch.broadcast_tensors(a, b)
    p, q = torch.minimum(a, b), torch.maximum(a, b)
    both = p >= 10
    one = (q >= 10) & ~both
    ten = torch.full_like(p, 10.0)
    # both large: Stirling for all three gammas
    pb, qb = torch.where(both, p, ten), torch.where(both, q, ten)
    s = pb + qb
    v_both = (-0.5 * torch.log(qb) + HALF_LOG_2PI + stirling_correction(pb) + stirling_correction(qb)
              - stirling_correction(s) + (pb - 0.5) * torch.log(pb / s) + qb * torch.log1p(-pb / s))
    # only q large
    po, qo = torch.where(one, p, torch.ones_like(p)), torch.where(one, q, ten)
    so = po + qo
    v_one = (torch.lgamma(po) + stirling_correction(qo) - stirling_correction(so) + po - po * torch.log(so)
             + (qo - 0.5) * torch.log1p(-po / so))
    # both small
    v_small = torch.lgamma(p) + torch.lgamma(q) - torch.lgamma(p + q)
    return torch.where(both, v_both, torch.where(one, v_one, v_small))


def log_gamma_prefactor(a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """:math:`-x + a\\log x - \\log\\Gamma(a)`; for ``a >= 10`` written as
    :math:`-a\\,(t - \\log(1 + t)) + \\tfrac12\\log(a / 2\\pi) - \\text{corr}(a)` with :math:`t = (x - a)/a`, which
    keeps its digits when ``x`` and ``a`` are both large and close."""
    a, x = torch.broadcast_tensors(a, x)
    big = a >= 10
    ab = torch.where(big, a, torch.full_like(a, 10.0))
    xb = torch.where(big, x, torch.full_like(x, 10.0))
    t = (xb - ab) / ab
    v_big = -ab * (t - torch.log1p(t)) + 0.5 * torch.log(ab) - HALF_LOG_2PI - stirling_correction(ab)
    v_small = -x + torch.special.xlogy(a, x) - torch.lgamma(a)
    return torch.where(big, v_big, v_small)


# ---------------------------------------------------------------------- second-order jets (NumPy)
class Jet:
    """Value ``v`` (n,), gradient ``g`` (k, n) and Hessian ``h`` (k, k, n) of n independent functions of k
    variables, with the arithmetic of second-order forward differentiation."""

    __slots__ = ("v", "g", "h")
    __array_ufunc__ = None  # ndarray (op) Jet defers to the Jet's reflected operator

    def __init__(self, v, g, h):
        self.v, self.g, self.h = v, g, h

    @staticmethod
    def variable(v: np.ndarray, index: int | None, k: int) -> "Jet":
        g = np.zeros((k,) + v.shape)
        if index is not None:
            g[index] = 1.0
        return Jet(v, g, np.zeros((k, k) + v.shape))

    def take(self, idx) -> "Jet":
        return Jet(self.v[idx], self.g[:, idx], self.h[:, :, idx])

    def __add__(self, o):
        if isinstance(o, Jet):
            return Jet(self.v + o.v, self.g + o.g, self.h + o.h)
        return Jet(self.v + o, self.g, self.h)

    __radd__ = __add__

    def __neg__(self):
        return Jet(-self.v, -self.g, -self.h)

    def __sub__(self, o):
        return self + (-o)

    def __rsub__(self, o):
        return (-self) + o

    def __mul__(self, o):
        if isinstance(o, Jet):
            gg = self.g[:, None] * o.g[None, :]
            return Jet(self.v * o.v, self.v * o.g + o.v * self.g, self.v * o.h + o.v * self.h + gg + gg.swapaxes(0, 1))
        return Jet(self.v * o, self.g * o, self.h * o)

    __rmul__ = __mul__

    def reciprocal(self) -> "Jet":
        r = 1.0 / self.v
        r2 = r * r
        return Jet(r, -self.g * r2, -self.h * r2 + (2 * r2 * r) * (self.g[:, None] * self.g[None, :]))

    def __truediv__(self, o):
        if isinstance(o, Jet):
            return self * o.reciprocal()
        return self * (1.0 / o)

    def __rtruediv__(self, o):
        return self.reciprocal() * o

    def log(self) -> "Jet":
        r = 1.0 / self.v
        g = self.g * r
        return Jet(np.log(self.v), g, self.h * r - g[:, None] * g[None, :])

    def floor_magnitude(self, tiny: float = _TINY) -> "Jet":
        """Lentz's guard: a value too close to 0 is moved to ``tiny`` (derivatives kept)."""
        v = np.where(np.abs(self.v) < tiny, tiny, self.v)
        return Jet(v, self.g, self.h)


def _seed(arrays, live) -> tuple[list, int]:
    """Jets of the inputs: a live input is a variable, the others are plain arrays."""
    k = sum(live)
    out, j = [], 0
    for arr, is_live in zip(arrays, live):
        if is_live:
            out.append(Jet.variable(arr, j, k))
            j += 1
        else:
            out.append(arr)
    return out, k


def _lift(value, k: int, n: int) -> Jet:
    if isinstance(value, Jet):
        return value
    return Jet(np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy(), np.zeros((k, n)), np.zeros((k, k, n)))


def _take(value, idx):
    return value.take(idx) if isinstance(value, Jet) else value[idx]


def _run(arrays, live, start, step):
    """Drive a recurrence on jets with per-row stopping.

    ``start(k, n, *inputs) -> (state, log_start)`` and ``step(m, state, *inputs) -> (state, log_factor)``;
    the result is the jet of ``log_start`` plus the sum of the log-factors. A row's value has
    converged when its last log-factor is below :data:`TOLERANCE` relative to the sum; derivatives of
    the terms decay like :math:`m^2 r^m` where the values decay like :math:`r^m`, so the row then runs
    half as many terms again (and ten more) before it stops. Rows that do not converge within
    :data:`MAX_TERMS` give NaN.
    """
    n = arrays[0].shape[0]
    jets, k = _seed(arrays, live)
    v_out = np.full(n, np.nan)
    g_out = np.zeros((k, n))
    h_out = np.zeros((k, k, n))
    rows = np.arange(n)
    stop_at = np.full(n, np.inf)
    state, total = start(k, n, *jets)
    total = _lift(total, k, n)
    for m in range(1, MAX_TERMS + 1):
        state, inc = step(m, state, *jets)
        inc = _lift(inc, k, rows.size)
        total = total + inc
        settled = np.abs(inc.v) <= TOLERANCE * np.maximum(1.0, np.abs(total.v))
        fresh = settled & np.isinf(stop_at)
        stop_at[fresh] = np.ceil(1.5 * m) + 10
        done = m >= stop_at
        if done.any():
            v_out[rows[done]] = total.v[done]
            g_out[:, rows[done]] = total.g[:, done]
            h_out[:, :, rows[done]] = total.h[:, :, done]
            keep = ~done
            if not keep.any():
                break
            rows, stop_at = rows[keep], stop_at[keep]
            state = tuple(_take(s, keep) for s in state)
            total = total.take(keep)
            jets = [_take(j, keep) for j in jets]
    return v_out, g_out, h_out


# ---------------------------------------------------------------------- the recurrences
def _gamma_series(arrays, live):
    """The log of :math:`S = \\sum_{k \\ge 0} x^k / (a (a+1) \\cdots (a+k))`, so that
    :math:`\\log P(a, x) = -x + a\\log x - \\log\\Gamma(a) + \\log S`."""

    def start(k, n, a, x):
        term = _lift(1.0, k, n) / a
        return (term, term), term.log()

    def step(m, state, a, x):
        term, total = state
        term = term * x / (a + m)
        new_total = total + term
        return (term, new_total), (new_total / total).log()

    return _run(arrays, live, start, step)


def _gamma_fraction(arrays, live):
    """Log of the continued fraction :math:`h` of :math:`Q(a, x) = e^{-x} x^a / \\Gamma(a) \\cdot h` (modified Lentz)."""

    def start(k, n, a, x):
        b = _lift(x + 1.0 - a, k, n)
        c = _lift(1.0 / _TINY, k, n)
        d = b.reciprocal()
        return (b, c, d), d.log()

    def step(m, state, a, x):
        b, c, d = state
        an = (a - m) * m  # -m (m - a)
        b = b + 2.0
        d = (d * an + b).floor_magnitude().reciprocal()
        c = (an / c + b).floor_magnitude()
        return (b, c, d), (d * c).log()

    return _run(arrays, live, start, step)


def _beta_fraction(arrays, live):
    """Log of the continued fraction of :math:`I_x(a, b) = x^a (1-x)^b / (a B(a, b)) \\cdot \\mathrm{cf}` (modified Lentz)."""

    def start(k, n, a, b, x):
        c = _lift(1.0, k, n)
        d = _lift(1.0 - (a + b) * x / (a + 1.0), k, n).floor_magnitude().reciprocal()
        return (c, d), d.log()

    def step(m, state, a, b, x):
        c, d = state
        m2 = 2 * m
        even = (b - m) * x * m / ((a + (m2 - 1)) * (a + m2))
        d = (even * d + 1.0).floor_magnitude().reciprocal()
        c = (even / c + 1.0).floor_magnitude()
        factor = d * c
        odd = -((a + m) * (a + b + m) * x) / ((a + m2) * (a + (m2 + 1)))
        d = (odd * d + 1.0).floor_magnitude().reciprocal()
        c = (odd / c + 1.0).floor_magnitude()
        return (c, d), (factor * d * c).log()

    return _run(arrays, live, start, step)


# ---------------------------------------------------------------------- autograd glue
class _Jetted(torch.autograd.Function):
    """``kernel(arrays, live) -> (value, grad, hess)`` as a torch function with exact derivatives."""

    @staticmethod
    def forward(ctx, kernel, *inputs):
        live = list(ctx.needs_input_grad[1:])
        arrays = [t.detach().cpu().numpy().astype(np.float64, copy=False) for t in inputs]
        v, g, h = kernel(arrays, live)
        like = inputs[0]
        out = torch.from_numpy(v).to(dtype=like.dtype, device=like.device)
        ctx.live = live
        if any(live):
            ctx.save_for_backward(*inputs)
            ctx.g = torch.from_numpy(g).to(dtype=like.dtype, device=like.device)
            ctx.h = torch.from_numpy(h).to(dtype=like.dtype, device=like.device)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        inputs = ctx.saved_tensors
        firsts = _FirstDerivatives.apply(ctx.g, ctx.h, ctx.live, *inputs)
        grads, j = [], 0
        for is_live in ctx.live:
            if is_live:
                grads.append(grad_out * firsts[j])
                j += 1
            else:
                grads.append(None)
        return (None, *grads)


class _FirstDerivatives(torch.autograd.Function):
    """The stored gradient rows, differentiable once more through the stored Hessian."""

    @staticmethod
    def forward(ctx, g, h, live, *inputs):
        ctx.h = h
        ctx.live = live
        ctx.n_inputs = len(inputs)
        return tuple(g[i].clone() for i in range(g.shape[0]))

    @staticmethod
    def backward(ctx, *grad_outs):
        h = ctx.h
        stacked = torch.stack([go if go is not None else torch.zeros_like(h[0, 0]) for go in grad_outs])
        grads, j = [], 0
        for is_live in ctx.live:
            if is_live:
                grads.append((stacked * h[:, j]).sum(0))
                j += 1
            else:
                grads.append(None)
        return (None, None, None, *grads)


def apply_kernel(kernel, *inputs: torch.Tensor) -> torch.Tensor:
    """``kernel(arrays, live) -> (value, grad, hess)`` applied elementwise to broadcast inputs, as a torch
    function whose gradient and Hessian are the kernel's (see the module docstring)."""
    flat = torch.broadcast_tensors(*inputs)
    shape = flat[0].shape
    cols = [t.reshape(-1) for t in flat]
    if cols[0].numel() == 0:
        return torch.zeros(shape, dtype=cols[0].dtype, device=cols[0].device) + sum(t.sum() * 0 for t in inputs)
    return _Jetted.apply(kernel, *cols).reshape(shape)


# ---------------------------------------------------------------------- public functions
def log_gammainc(a: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log P(a, x), log Q(a, x))`` for ``a > 0``, ``x > 0``: the log regularised lower and upper
    incomplete gamma functions, each accurate in its own far tail."""
    a, x = torch.broadcast_tensors(a, x)
    series = x < a + 1
    # each row runs one recurrence, on arguments that are harmless where the other one is used
    a_s, x_s = torch.where(series, a, torch.ones_like(a)), torch.where(series, x, torch.full_like(x, 0.5))
    a_f, x_f = torch.where(series, torch.ones_like(a), a), torch.where(series, torch.full_like(x, 3.0), x)
    log_p_series = log_gamma_prefactor(a_s, x_s) + _masked(_gamma_series, series, a_s, x_s)
    log_q_fraction = log_gamma_prefactor(a_f, x_f) + _masked(_gamma_fraction, ~series, a_f, x_f)
    log_p = torch.where(series, log_p_series, log1mexp(log_q_fraction))
    log_q = torch.where(series, log1mexp(log_p_series), log_q_fraction)
    return log_p, log_q


def log_betainc(a: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log I_x(a, b), log(1 - I_x(a, b)))`` for ``a, b > 0`` and ``0 < x < 1``; ``y = 1 - x`` (give it
    when ``x`` is near 1, where ``1 - x`` loses digits)."""
    if y is None:
        y = 1 - x
    a, b, x, y = torch.broadcast_tensors(a, b, x, y)
    swap = x >= (a + 1) / (a + b + 2)
    a1, b1 = torch.where(swap, b, a), torch.where(swap, a, b)
    x1, y1 = torch.where(swap, y, x), torch.where(swap, x, y)
    prefactor = torch.special.xlogy(a1, x1) + torch.special.xlogy(b1, y1) - torch.log(a1) - log_beta(a1, b1)
    small = prefactor + apply_kernel(_beta_fraction, a1, b1, x1)
    big = log1mexp(small)
    return torch.where(swap, big, small), torch.where(swap, small, big)


def _masked(kernel, mask: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
    """``kernel`` on the rows of ``mask`` only (zeros elsewhere), differentiable."""
    if bool(mask.all()):
        return apply_kernel(kernel, *inputs)
    out = torch.zeros(mask.shape, dtype=inputs[0].dtype, device=inputs[0].device)
    if not bool(mask.any()):
        return out + sum(t.sum() * 0 for t in inputs)
    idx = torch.nonzero(mask.reshape(-1)).reshape(-1)
    picked = [t.reshape(-1)[idx] for t in inputs]
    return out.reshape(-1).index_put((idx,), apply_kernel(kernel, *picked)).reshape(mask.shape)


def apply_beta_fraction(a: torch.Tensor, b: torch.Tensor, x: torch.Tensor, mask: torch.Tensor | None = None
                        ) -> torch.Tensor:
    """:math:`\\log \\mathrm{cf}(a, b, x)` in :math:`I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) \\cdot \\mathrm{cf}(a, b, x)`,
    on the rows of ``mask`` (0 elsewhere); it converges fast for :math:`x < (a + 1)/(a + b + 2)`."""
    a, b, x = torch.broadcast_tensors(a, b, x)
    if mask is None:
        return apply_kernel(_beta_fraction, a, b, x)
    return _masked(_beta_fraction, mask, a, b, x)


def lgamma_half_difference(x: torch.Tensor) -> torch.Tensor:
    """:math:`\\log\\Gamma(x + 1/2) - \\log\\Gamma(x)`, accurate for large ``x``.

    The direct difference of two large ``lgamma`` values loses digits (at ``x = 5e8`` about seven);
    above ``x = 40`` the asymptotic series
    :math:`\\tfrac12\\log x - \\tfrac1{8x} + \\tfrac1{192x^3} - \\tfrac1{640x^5} + \\tfrac{17}{14336x^7}` is used
    (truncation error below 2e-17 there).
    """
    big = x > 40
    xs = torch.where(big, x, torch.full_like(x, 80.0))
    inv = 1 / xs
    inv2 = inv * inv
    series = 0.5 * torch.log(xs) - inv / 8 + inv * inv2 / 192 - inv * inv2 * inv2 / 640 + 17 * inv * inv2**3 / 14336
    xd = torch.where(big, torch.full_like(x, 1.0), x)
    direct = torch.lgamma(xd + 0.5) - torch.lgamma(xd)
    return torch.where(big, series, direct)

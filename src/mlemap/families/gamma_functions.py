"""Gamma-function differences that keep their digits for a large argument.

For a concentrated gamma sample (coefficient of variation 1e-12, so :math:`\\alpha \\approx 10^{24}`)
the log-likelihood's terms :math:`\\alpha\\log\\beta`, :math:`\\log\\Gamma(\\alpha)`, :math:`\\beta x` are
:math:`10^{26}` times larger than their sum. Written with the mean :math:`\\mu = \\alpha/\\beta`,

.. math:: \\log p(x) = -\\,\\mathrm{st}(\\alpha) - \\alpha\\,\\psi\\!\\left(\\tfrac{x}{\\mu} - 1\\right) - \\log x,
   \\qquad \\mathrm{st}(\\alpha) = \\log\\Gamma(\\alpha) - \\alpha\\log\\alpha + \\alpha,
   \\qquad \\psi(u) = u - \\log(1 + u),

every term is of the size of the result. :math:`\\mathrm{st}` and :math:`\\log\\alpha - \\digamma(\\alpha)` (the
gamma MLE equation) use their asymptotic series above ``LARGE`` (truncation error below 1e-16
relative there) and the direct formulas below.
"""

from __future__ import annotations

import math

import torch

LARGE = 30.0
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def stirling_gap(a: torch.Tensor) -> torch.Tensor:
    """:math:`\\log\\Gamma(a) - a\\log a + a`; for large :math:`a`,
    :math:`\\tfrac12\\log(2\\pi/a) + \\tfrac1{12a} - \\tfrac1{360a^3} + \\tfrac1{1260a^5} - \\tfrac1{1680a^7}`."""
    big = a > LARGE
    ab = torch.where(big, a, torch.full_like(a, 2 * LARGE))
    inv = 1 / ab
    inv2 = inv * inv
    series = HALF_LOG_2PI - 0.5 * torch.log(ab) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
    small = torch.where(big, torch.ones_like(a), a)
    direct = torch.lgamma(small) - small * torch.log(small) + small
    return torch.where(big, series, direct)


def log_rising(r: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """:math:`\\log\\Gamma(r + k) - \\log\\Gamma(r)`, the log of the rising factorial, for :math:`r > 0`, :math:`k \\ge 0`.

    The direct difference of two large ``lgamma`` values loses digits (at :math:`r = 10^{12}` about
    thirteen); above ``LARGE`` it is written with :func:`stirling_gap` as
    :math:`\\mathrm{st}(r + k) - \\mathrm{st}(r) + k\\log(r + k) + (r\\log(1 + k/r) - k)`, every term of the
    size of the result.
    """
    big = r > LARGE
    rb = torch.where(big, r, torch.full_like(r, 2 * LARGE))
    stable = stirling_gap(rb + k) - stirling_gap(rb) + torch.special.xlogy(k, rb + k) + (rb * torch.log1p(k / rb) - k)
    rs = torch.where(big, torch.ones_like(r), r)
    direct = torch.lgamma(rs + k) - torch.lgamma(rs)
    return torch.where(big, stable, direct)


def log_minus_digamma(a: float) -> float:
    """:math:`\\log a - \\digamma(a)`; for large :math:`a`,
    :math:`\\tfrac1{2a} + \\tfrac1{12a^2} - \\tfrac1{120a^4} + \\tfrac1{252a^6} - \\tfrac1{240a^8}`.

    Below ``LARGE`` the recurrence :math:`\\digamma(a) = \\digamma(b) - \\sum_{k<n} 1/(a + k)`, with
    :math:`b = a + n` the first step above ``LARGE``, gives
    :math:`\\log a - \\digamma(a) = [\\log b - \\digamma(b)] + \\sum_{k<n} \\tfrac1{a+k} - \\log(1 + n/a)`,
    the bracket by the series (plain floats: no array library is needed for one value).
    """
    if a > LARGE:
        return _log_minus_digamma_series(1 / a)
    n = _shift(a)
    return _log_minus_digamma_series(1 / (a + n)) + math.fsum(1 / (a + k) for k in range(n)) - math.log1p(n / a)


def log_minus_digamma_slope(a: float) -> float:
    """:math:`\\tfrac{d}{d\\log a}[\\log a - \\digamma(a)] = 1 - a\\,\\digamma'(a)`; for large :math:`a`,
    :math:`-(\\tfrac1{2a} + \\tfrac1{6a^2} - \\tfrac1{30a^4} + \\tfrac1{42a^6} - \\tfrac1{30a^8})`.

    Below ``LARGE``, :math:`\\digamma'(a) = \\sum_{k<n} (a + k)^{-2} + \\digamma'(b)` (positive terms),
    with :math:`\\digamma'(b) = (1 - s(b))/b` from the series :math:`s` of the slope at :math:`b`.
    """
    if a > LARGE:
        return _slope_series(1 / a)
    n = _shift(a)
    b = a + n
    trigamma = math.fsum([*(1 / (a + k) ** 2 for k in range(n)), (1 - _slope_series(1 / b)) / b])
    return 1.0 - a * trigamma


def _shift(a: float) -> int:
    """The number of unit steps that take :math:`a \\le` ``LARGE`` above ``LARGE``."""
    return int(math.floor(LARGE - a)) + 1


def log_minus_digamma_batch(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`log_minus_digamma` and :func:`log_minus_digamma_slope` elementwise (torch's digamma and
    trigamma below ``LARGE``, the same series above)."""
    big = a > LARGE
    inv = 1 / torch.where(big, a, torch.full_like(a, 2 * LARGE))
    small = torch.where(big, torch.ones_like(a), a)
    value = torch.where(big, _log_minus_digamma_series(inv), torch.log(small) - torch.digamma(small))
    slope = torch.where(big, _slope_series(inv), 1.0 - small * torch.polygamma(1, small))
    return value, slope


def _log_minus_digamma_series(inv):
    inv2 = inv * inv
    return 0.5 * inv + inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 / 240)))


def _slope_series(inv):
    inv2 = inv * inv
    return -(0.5 * inv + inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 / 30))))

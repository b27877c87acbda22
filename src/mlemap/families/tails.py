"""Log cumulative distribution and log survival functions of the families, stable in the far tails.

:math:`\\log F(x) = \\log P(X \\le x)` and :math:`\\log S(x) = \\log P(X > x)` are registered per family
type with :func:`register_tails` (most specific type wins, as ``torch.distributions.kl`` registers KL
divergences) and reached through :meth:`Family.log_cdf` / :meth:`Family.log_sf`. Each is written
in log space so that neither underflows: the small tail is computed directly and the large one
as :math:`\\log(1 - e^{\\text{small}})`. Both are differentiable twice in the parameters (autograd;
the incomplete gamma and beta functions through :mod:`mlemap.families.special`).

The functions are called with ``x`` strictly inside the support (for discrete families, whole numbers
``lower <= k < upper``); the censored likelihood sends the edges elsewhere (an observation censored
beyond the support edge carries no information). ``support(family, params)`` gives the edges.

=================  ===================================================================================
family             tails
=================  ===================================================================================
normal, lognormal  ``log_ndtr(±z)``
laplace            :math:`\\log(\\tfrac12 e^{-|z|})` on the small side
studentt           :math:`\\tfrac12 I_{\\nu/(\\nu+t^2)}(\\nu/2, \\tfrac12)` in the tails; near the centre
                   :math:`F = \\tfrac12 + \\tfrac12\\,\\mathrm{sign}(t) I_{t^2/(\\nu+t^2)}(\\tfrac12, \\nu/2)`, written
                   so that it is smooth through ``t = 0``
cauchy             :math:`\\log(\\operatorname{atan2}(1, \\mp z)/\\pi)`
gumbel             :math:`\\log F = -e^{-z}`
half_normal        :math:`\\log S = \\log 2 + \\text{log\\_ndtr}(-z)`
exponential        :math:`\\log S = -\\lambda x`
gamma              :math:`\\log P(\\alpha, \\beta x)`, :math:`\\log Q(\\alpha, \\beta x)`
weibull            :math:`\\log S = -(x/\\lambda)^k`
beta               :math:`\\log I_x(a, b)`, :math:`\\log I_{1-x}(b, a)`
logistic           :math:`\\log F = -\\log(1 + e^{-z})`; log-logistic the same in :math:`\\beta(\\log x - \\log\\alpha)`
poisson            :math:`P(X \\le k) = Q(k + 1, \\lambda)`
geometric          :math:`P(X > k) = (1 - p)^{k + 1}`
negative_binomial  :math:`P(X \\le k) = I_{1-p}(r, k + 1)`
binomial           :math:`P(X \\le k) = I_{1-p}(n - k, k + 1)`
bernoulli          :math:`P(X \\le 0) = 1 - p`
=================  ===================================================================================
"""

from __future__ import annotations

import math

import torch

from .bounded import Beta
from .counts import Bernoulli, Binomial, Geometric, NegativeBinomial, Poisson
from .location_scale import Cauchy, Gumbel, HalfNormal, Laplace, LogNormal, Normal, StudentT
from .special import lgamma_half_difference
from .logistic import LogLogistic, Logistic, softplus
from .positive import Exponential, Gamma, Weibull
from .special import LN2, apply_beta_fraction, log1mexp, log1mexp_exp, log_betainc, log_gammainc
from .tails_registry import Tails, register_tails, tails_of

__all__ = ["Tails", "register_tails", "tails_of"]

LOG_PI = math.log(math.pi)


def _sides(small: torch.Tensor, lower_side: torch.Tensor):
    """``(log F, log S)`` from the log of the smaller tail and whether it is the lower one."""
    big = log1mexp(small)
    return torch.where(lower_side, small, big), torch.where(lower_side, big, small)


# ---------------------------------------------------------------------- continuous families
@register_tails(Normal)
def _normal(x, p):
    z = (x - p["loc"]) / p["scale"]
    return torch.special.log_ndtr(z), torch.special.log_ndtr(-z)


@register_tails(LogNormal, lower=0.0)
def _lognormal(x, p):
    z = (torch.log(x) - p["loc"]) / p["scale"]
    return torch.special.log_ndtr(z), torch.special.log_ndtr(-z)


@register_tails(Laplace)
def _laplace(x, p):
    z = (x - p["loc"]) / p["scale"]
    neg = z < 0
    z_neg = torch.where(neg, z, torch.zeros_like(z))
    z_pos = torch.where(neg, torch.zeros_like(z), z)
    small_low = z_neg - LN2  # log F for z < 0
    small_high = -z_pos - LN2  # log S for z >= 0
    log_cdf = torch.where(neg, small_low, log1mexp(small_high))
    log_sf = torch.where(neg, log1mexp(small_low), small_high)
    return log_cdf, log_sf


@register_tails(StudentT)
def _studentt(x, p):
    df = p["df"]
    t = (x - p["loc"]) / p["scale"]
    df, t = torch.broadcast_tensors(df, t)
    t2 = t * t
    half = df / 2
    y = t2 / (df + t2)  # 1 - df / (df + t^2)
    centre = y < 1.5 / (half + 2.5)  # the side where the fraction for I_y(1/2, df/2) converges
    one, safe_y = torch.ones_like(t), torch.full_like(t, 0.1)
    # centre: F = 1/2 + G, G = t (1 - y)^(df/2) cf(1/2, df/2, y) / (2 sqrt(df + t^2) (1/2) B(1/2, df/2))
    t_c = torch.where(centre, t, torch.zeros_like(t))
    y_c = torch.where(centre, y, torch.zeros_like(y))
    df_c = torch.where(centre, df, one)
    log_beta_half = 0.5 * math.log(math.pi) - lgamma_half_difference(df_c / 2)  # log B(1/2, df/2)
    scale_c = torch.exp(df_c / 2 * torch.log1p(-y_c) - 0.5 * torch.log(df_c + t_c * t_c) - log_beta_half)
    g = t_c * scale_c * torch.exp(apply_beta_fraction(torch.full_like(t, 0.5), df_c / 2, y_c, centre))
    cdf_c = torch.log(0.5 + g)
    sf_c = torch.log(0.5 - g)
    # tails: the small side is (1/2) I_x(df/2, 1/2) with x = df / (df + t^2)
    df_t = torch.where(centre, one, df)
    t2_t = torch.where(centre, one, t2)
    x_t = df_t / (df_t + t2_t)
    y_t = t2_t / (df_t + t2_t)
    a_t = df_t / 2
    half_t = torch.full_like(t, 0.5)
    log_beta_t = 0.5 * math.log(math.pi) - lgamma_half_difference(a_t)
    prefactor = a_t * torch.log(x_t) + 0.5 * torch.log(y_t) - torch.log(a_t) - log_beta_t
    small = prefactor + apply_beta_fraction(a_t, half_t, torch.where(centre, safe_y, x_t), ~centre) - LN2
    cdf_t, sf_t = _sides(small, t < 0)
    return torch.where(centre, cdf_c, cdf_t), torch.where(centre, sf_c, sf_t)


@register_tails(Cauchy)
def _cauchy(x, p):
    z = (x - p["loc"]) / p["scale"]
    one = torch.ones_like(z)
    low = z < 0
    # the small tail is atan2(1, |z|) / pi on either side (exact far out); each side's formula is smooth in z
    small = torch.where(low, torch.log(torch.atan2(one, -z)), torch.log(torch.atan2(one, z))) - LOG_PI
    return _sides(small, low)


@register_tails(Gumbel)
def _gumbel(x, p):
    z = (x - p["loc"]) / p["scale"]
    return -torch.exp(-z), log1mexp_exp(-z)


@register_tails(HalfNormal, lower=0.0)
def _half_normal(x, p):
    z = x / p["scale"]
    near = z < 1  # F = erf(z / sqrt 2) is the small side
    z_near = torch.where(near, z, torch.ones_like(z))
    z_far = torch.where(near, torch.ones_like(z), z)
    erf = torch.erf(z_near / math.sqrt(2))
    log_sf_far = LN2 + torch.special.log_ndtr(-z_far)
    log_cdf = torch.where(near, torch.log(erf), log1mexp(log_sf_far))
    log_sf = torch.where(near, torch.log1p(-erf), log_sf_far)
    return log_cdf, log_sf


@register_tails(Exponential, lower=0.0)
def _exponential(x, p):
    log_t = torch.log(p["rate"]) + torch.log(x)
    return log1mexp_exp(log_t), -torch.exp(log_t)


@register_tails(Gamma, lower=0.0)
def _gamma(x, p):
    return log_gammainc(p["concentration"], p["rate"] * x)


@register_tails(Weibull, lower=0.0)
def _weibull(x, p):
    log_t = p["concentration"] * (torch.log(x) - torch.log(p["scale"]))
    return log1mexp_exp(log_t), -torch.exp(log_t)


@register_tails(Beta, lower=0.0, upper=1.0)
def _beta(x, p):
    return log_betainc(p["concentration1"], p["concentration0"], x, 1 - x)


@register_tails(Logistic)
def _logistic(x, p):
    z = (x - p["loc"]) / p["scale"]
    return -softplus(-z), -softplus(z)


@register_tails(LogLogistic, lower=0.0)
def _loglogistic(x, p):
    u = p["concentration"] * (torch.log(x) - torch.log(p["scale"]))
    return -softplus(-u), -softplus(u)


# ---------------------------------------------------------------------- discrete families (k whole)
@register_tails(Poisson, lower=0.0)
def _poisson(k, p):
    log_p, log_q = log_gammainc(k + 1, p["rate"])
    return log_q, log_p


@register_tails(Geometric, lower=0.0)
def _geometric(k, p):
    log_sf = (k + 1) * torch.log1p(-p["probs"])
    return log1mexp(log_sf), log_sf


@register_tails(NegativeBinomial, lower=0.0)
def _negative_binomial(k, p):
    q = p["probs"]
    return log_betainc(p["total_count"], k + 1, 1 - q, q)


@register_tails(Binomial, lower=0.0, upper=lambda p: p["total_count"])
def _binomial(k, p):
    q = p["probs"]
    return log_betainc(p["total_count"] - k, k + 1, 1 - q, q)


@register_tails(Bernoulli, lower=0.0, upper=1.0)
def _bernoulli(k, p):
    q = p["probs"] + torch.zeros_like(k)
    return torch.log1p(-q), torch.log(q)

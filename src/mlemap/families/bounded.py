"""Families on bounded or circular supports: beta, uniform, von Mises."""

from __future__ import annotations

import math

import torch
import torch.distributions as td
from torch.distributions import constraints

from ..errors import DataError
from .base import (
    LOG_2PI,
    Family,
    check_all_equal_degenerate,
    log_of,
    raise_outside_support,
    require_support,
)
from .statistics import (
    SufficientStatistics,
    total_weight,
    weighted_moments,
    weighted_sum,
)


class Beta(Family):
    """Beta(concentration1, concentration0) on (0, 1):
    :math:`\\log p(x) = \\log\\Gamma(a + b) - \\log\\Gamma(a) - \\log\\Gamma(b) + (a - 1)\\log x + (b - 1)\\log(1 - x)`.

    Sufficient statistics :math:`\\sum w_i \\log x_i`, :math:`\\sum w_i \\log(1 - x_i)`; started from the moments.
    """

    name = "beta"
    torch_class = td.Beta
    parameters = ("concentration1", "concentration0")
    support_description = "numbers strictly between 0 and 1"
    scipy_name = "beta"

    def constraint(self, name, ctx=None):
        return constraints.positive

    def check_support(self, x, fixed, ctx):
        require_support(
            bool(ctx.min > 0) and bool(ctx.max < 1),
            self,
            x,
            lambda: (x <= 0) | (x >= 1),
            "Beta observations must lie strictly inside (0, 1); 0 and 1 have zero or infinite density.",
        )

    def check_identifiable(self, x, w, free, has_prior, ctx):
        check_all_equal_degenerate(
            self, x, ("concentration1", "concentration0"), free, has_prior, "the concentrations grow without bound", ctx
        )

    def features(self, x, fixed):
        return {"log_x": log_of(x), "log1m_x": torch.log1p(-x)}

    def log_prob(self, f, p):
        a, b = p["concentration1"], p["concentration0"]
        return torch.lgamma(a + b) - torch.lgamma(a) - torch.lgamma(b) + (a - 1) * f["log_x"] + (b - 1) * f["log1m_x"]

    def statistics(self, f, w):
        lx = f["log_x"]
        return SufficientStatistics(
            total_weight(lx, w), sums={"log_x": weighted_sum(lx, w), "log1m_x": weighted_sum(f["log1m_x"], w)}
        )

    def log_likelihood_stats(self, s, p):
        a, b = p["concentration1"], p["concentration0"]
        return (
            s.weight * (torch.lgamma(a + b) - torch.lgamma(a) - torch.lgamma(b))
            + (a - 1) * s.sums["log_x"]
            + (b - 1) * s.sums["log1m_x"]
        )

    def initial(self, f, w, fixed):
        x = torch.exp(f["log_x"])
        W, mean, m2 = weighted_moments(x, w)
        var = (m2 / W).clamp_min(1e-12)
        common = (mean * (1 - mean) / var - 1).clamp_min(1e-2)
        return {"concentration1": (mean * common).clamp_min(1e-2), "concentration0": ((1 - mean) * common).clamp_min(1e-2)}


class Uniform(Family):
    """Uniform(low, high): :math:`\\log p(x) = -\\log(\\text{high} - \\text{low})` on the closed interval.

    The likelihood increases as the interval shrinks onto the data, so :math:`\\widehat{\\text{low}} = \\min x`
    and :math:`\\widehat{\\text{high}} = \\max x`: boundary estimates whose standard error is not defined
    (the MLE is non-regular; its error shrinks like 1/n, not 1/sqrt(n)).
    """

    name = "uniform"
    torch_class = td.Uniform
    parameters = ("low", "high")
    bounded_by_data = {"low": "min", "high": "max"}
    scipy_name = "uniform"

    def constraint(self, name, ctx=None):
        if ctx is None:
            return constraints.real
        if name == "low":
            return constraints.less_than(float(ctx.min))
        return constraints.greater_than(float(ctx.max))

    def check_support(self, x, fixed, ctx):
        if "low" in fixed:
            raise_outside_support(
                self, x, x < fixed["low"], f"With low fixed at {float(fixed['low'])}, every x must be >= low."
            )
        if "high" in fixed:
            raise_outside_support(
                self, x, x > fixed["high"], f"With high fixed at {float(fixed['high'])}, every x must be <= high."
            )

    def check_identifiable(self, x, w, free, has_prior, ctx):
        if {"low", "high"} <= free:
            check_all_equal_degenerate(self, x, ("high",), free, has_prior, "the interval shrinks to a point", ctx)
        if not math.isfinite(float(ctx.max) - float(ctx.min)):
            raise DataError(
                f"The data's range ({float(ctx.min):.3g} to {float(ctx.max):.3g}) is beyond 1.8e308, so the uniform's "
                "width high - low overflows float64. Divide the data by a power of ten (for example 10**308) and "
                "transform the estimates back."
            )

    def log_prob(self, f, p):
        x, lo, hi = f["x"], p["low"], p["high"]
        inside = (x >= lo) & (x <= hi)
        lp = -torch.log(hi - lo).expand_as(x)
        return torch.where(inside, lp, torch.full_like(lp, -math.inf))

    def statistics(self, f, w):
        x = f["x"]
        return SufficientStatistics(total_weight(x, w), extremes={"x": (x.min(), x.max())})

    def log_likelihood_stats(self, s, p):
        lo, hi = p["low"], p["high"]
        xmin, xmax = s.extremes["x"]
        ll = -s.weight * torch.log(hi - lo)
        return torch.where((xmin >= lo) & (xmax <= hi), ll, torch.full_like(ll, -math.inf))

    def initial(self, f, w, fixed):
        x = f["x"]
        return {"low": x.min(), "high": x.max()}

    def distribution(self, p):
        return td.Uniform(p["low"], p["high"], validate_args=False)

    def boundary_note(self, name):
        side = "minimum" if name == "low" else "maximum"
        return f"the MLE of a support bound is the sample {side}: a non-regular estimate whose error shrinks like 1/n"


def _log_i0(kappa: torch.Tensor) -> torch.Tensor:
    """:math:`\\log I_0(\\kappa)` computed stably as :math:`\\log(i0e(\\kappa)) + \\kappa`."""
    return torch.log(torch.special.i0e(kappa)) + kappa


class VonMises(Family):
    """VonMises(loc, concentration) for angles in radians:
    :math:`\\log p(x) = \\kappa\\cos(x - \\mu) - \\log(2\\pi I_0(\\kappa))`.

    Sufficient statistics :math:`C = \\sum w_i \\cos x_i`, :math:`S = \\sum w_i \\sin x_i`. MLE
    :math:`\\hat\\mu = \\operatorname{atan2}(S, C)` (reported in :math:`(-\\pi, \\pi]`) and :math:`\\hat\\kappa` solves
    :math:`I_1(\\kappa)/I_0(\\kappa) = \\sqrt{C^2 + S^2}/W` (Newton, started from Best & Fisher's approximation).
    """

    name = "von_mises"
    aliases = ("vonmises",)
    torch_class = td.VonMises
    parameters = ("loc", "concentration")
    support_description = "angles in radians"
    scipy_name = "vonmises"

    def constraint(self, name, ctx=None):
        return constraints.real if name == "loc" else constraints.positive

    def canonical(self, p):
        loc = p["loc"]
        wrapped = torch.remainder(loc + math.pi, 2 * math.pi) - math.pi
        return {**p, "loc": torch.where(wrapped == -math.pi, wrapped + 2 * math.pi, wrapped)}

    def check_identifiable(self, x, w, free, has_prior, ctx):
        check_all_equal_degenerate(
            self, torch.remainder(x, 2 * math.pi), ("concentration",), free, has_prior, "the concentration grows without bound"
        )

    def log_prob(self, f, p):
        k = p["concentration"]
        return k * torch.cos(f["x"] - p["loc"]) - LOG_2PI - _log_i0(k)

    def statistics(self, f, w):
        x = f["x"]
        return SufficientStatistics(
            total_weight(x, w), sums={"cos": weighted_sum(torch.cos(x), w), "sin": weighted_sum(torch.sin(x), w)}
        )

    def log_likelihood_stats(self, s, p):
        k, mu = p["concentration"], p["loc"]
        return k * (s.sums["cos"] * torch.cos(mu) + s.sums["sin"] * torch.sin(mu)) - s.weight * (LOG_2PI + _log_i0(k))

    def initial(self, f, w, fixed):
        s = self.statistics(f, w)
        loc = fixed.get("loc", torch.atan2(s.sums["sin"], s.sums["cos"]))
        r = (torch.sqrt(s.sums["cos"] ** 2 + s.sums["sin"] ** 2) / s.weight).clamp(1e-6, 1 - 1e-9)
        kappa = torch.where(
            r < 0.53,
            2 * r + r**3 + 5 * r**5 / 6,
            torch.where(r < 0.85, -0.4 + 1.39 * r + 0.43 / (1 - r), 1 / (r**3 - 4 * r**2 + 3 * r)),
        )
        return {"loc": loc, "concentration": kappa.clamp_min(1e-3)}

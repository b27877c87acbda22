"""Location-scale families on the real line (and the log-normal and half-normal relatives).

Normal, log-normal, Laplace, Student's t, Cauchy, Gumbel, half-normal. With
:math:`z = (x - \\mu) / \\sigma` every log-density is :math:`-\\log\\sigma + \\log f(z)`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.distributions as td
from torch.distributions import constraints

from ..data import parallel
from ..errors import DataError
from .base import (
    LOG_2PI,
    Derived,
    Family,
    check_all_equal_degenerate,
    check_scale_representable,
    require_support,
    scalar,
)
from .special import lgamma_half_difference
from .statistics import (
    SufficientStatistics,
    total_weight,
    weighted_moments,
    weighted_sum,
)

_SCALE_DERIVED = {
    "variance": Derived(
        "scale", lambda s: s * s, torch.sqrt, constraints.positive, "variance = scale ** 2"
    ),
    "precision": Derived(
        "scale", lambda s: 1 / (s * s), lambda t: 1 / torch.sqrt(t), constraints.positive, "precision = 1 / scale ** 2"
    ),
}


def weighted_quantile(x: torch.Tensor, w: torch.Tensor | None, q: float) -> torch.Tensor:
    """The ``q``-quantile of a weighted sample (lower weighted quantile; midpoint at exact ties)."""
    if w is None:
        return torch.quantile(x, q) if x.numel() <= 16_000_000 else x.sort().values[int(q * (x.numel() - 1))]
    order = torch.argsort(x)
    xs, ws = x[order], w[order]
    cum = torch.cumsum(ws, 0)
    target = q * cum[-1]
    idx = int(torch.searchsorted(cum, target))
    idx = min(idx, xs.numel() - 1)
    if idx + 1 < xs.numel() and torch.isclose(cum[idx], target, rtol=1e-12, atol=0.0):
        return (xs[idx] + xs[idx + 1]) / 2
    return xs[idx]


def weighted_median(x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """A minimiser of :math:`\\sum w_i |x_i - m|` (the midpoint of the minimising interval)."""
    if w is None:
        if x.numel() <= 16_000_000:
            return torch.quantile(x, 0.5)  # linear interpolation: the midpoint for even n
        xs = x.sort().values
        n = xs.numel()
        return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    return weighted_quantile(x, w, 0.5)


def _robust_location_scale(x, w):
    loc = weighted_median(x, w)
    q1, q3 = weighted_quantile(x, w, 0.25), weighted_quantile(x, w, 0.75)
    iqr = q3 - q1
    if not bool(iqr > 0):
        _, _, m2 = weighted_moments(x, w)
        iqr = torch.sqrt(m2 / total_weight(x, w)).clamp_min(1e-8) * 1.349
    return loc, iqr


def check_no_majority_tie(family: Family, x, w, free, has_prior, how: str) -> None:
    """Raise :class:`DataError` when more than half of the (weighted) observations share one value
    :math:`v` and ``loc`` and ``scale`` are free without priors, for a family whose tails decay like
    :math:`|z|^{-2}` (Cauchy; Student's t at ``df`` = 1).

    With :math:`\\mu = v`, each of the :math:`m` tied observations contributes :math:`-\\log\\sigma` and each
    of the others :math:`+\\log\\sigma + O(1)` as :math:`\\sigma \\to 0`, so the log-likelihood behaves like
    :math:`(n - 2m)\\log\\sigma` and grows without bound when :math:`2m > n` (Copas 1975). Such a value is
    the median, so one pass over the data decides.
    """
    if x.dim() != 1 or not {"loc", "scale"} <= set(free) or {"loc", "scale"} & set(has_prior):
        return
    v = weighted_median(x, w)
    tied = x == v
    m = float(tied.sum()) if w is None else float(w[tied].sum())
    n = float(total_weight(x, w))
    if 2 * m > n:
        raise DataError(
            f"{m:g} of the {n:g} observations (more than half) equal {float(v):g}, so the '{family.name}' likelihood "
            f"has no maximum: with loc = {float(v):g}{how} it grows without bound as scale shrinks to 0 (each tied "
            "observation gains |log scale|, more than the others lose). Fix 'scale' with "
            "fixed={'scale': ...}, give it a prior, or use a family for data with repeated values."
        )


def gaussian_log_likelihood(s: SufficientStatistics, key: str, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """:math:`\\sum w_i \\log\\phi(t_i; \\mu, \\sigma) = -\\tfrac W2\\log 2\\pi - W\\log\\sigma - (M_2 + W(\\bar t - \\mu)^2)/(2\\sigma^2)`
    from the moments of ``t`` stored under ``key``."""
    mean, m2 = s.moments[key]
    d = mean - loc
    return -0.5 * s.weight * LOG_2PI - s.weight * torch.log(scale) - (m2 + s.weight * d * d) / (2 * scale**2)


class LocationScaleFamily(Family):
    """Families of a location and a scale on the real line (shared constraints and checks)."""

    parameters = ("loc", "scale")
    equivariance = {"loc": "location", "scale": "scale"}

    def constraint(self, name, ctx=None):
        return constraints.real if name == "loc" else constraints.positive

    def check_identifiable(self, x, w, free, has_prior, ctx):
        check_all_equal_degenerate(
            self, x, ("scale",), free, has_prior, "the likelihood grows without bound as scale shrinks to 0", ctx
        )
        if x.dim() == 1:
            check_scale_representable(self, ctx, spread=True)


class Normal(LocationScaleFamily):
    """Normal(loc, scale): :math:`\\log p(x) = -\\tfrac12\\log(2\\pi) - \\log\\sigma - (x - \\mu)^2 / (2\\sigma^2)`.

    Sufficient statistics: weight :math:`W`, mean :math:`\\bar x` and :math:`M_2 = \\sum w_i (x_i - \\bar x)^2`.
    MLE :math:`\\hat\\mu = \\bar x`, :math:`\\hat\\sigma^2 = M_2 / W` (the biased, 1/n variance).
    Priors may also be stated on ``variance`` (:math:`\\sigma^2`) or ``precision`` (:math:`1/\\sigma^2`).
    """

    name = "normal"
    aliases = ("gaussian",)
    torch_class = td.Normal
    derived = _SCALE_DERIVED
    scipy_name = "norm"

    def log_prob(self, f, p):
        z = (f["x"] - p["loc"]) / p["scale"]
        return -0.5 * LOG_2PI - torch.log(p["scale"]) - 0.5 * z * z

    def statistics(self, f, w):
        W, mean, m2 = weighted_moments(f["x"], w)
        return SufficientStatistics(W, moments={"x": (mean, m2)})

    def log_likelihood_stats(self, s, p):
        return gaussian_log_likelihood(s, "x", p["loc"], p["scale"])

    def initial(self, f, w, fixed):
        W, mean, m2 = weighted_moments(f["x"], w)
        loc = fixed.get("loc", mean)
        return {"loc": mean, "scale": torch.sqrt((m2 + W * (mean - loc) ** 2) / W).clamp_min(1e-8)}


class LogNormal(LocationScaleFamily):
    """LogNormal(loc, scale): :math:`\\log x \\sim \\mathcal N(\\mu, \\sigma^2)`, so
    :math:`\\log p(x) = \\log\\phi((\\log x - \\mu)/\\sigma) - \\log\\sigma - \\log x`. MLE: the normal MLE of
    :math:`\\log x`."""

    name = "lognormal"
    aliases = ("log_normal",)
    equivariance = {"loc": "log-location"}
    torch_class = td.LogNormal
    derived = _SCALE_DERIVED
    support_description = "positive numbers"
    scipy_name = "lognorm"

    def check_support(self, x, fixed, ctx):
        require_support(bool(ctx.min > 0), self, x, lambda: x <= 0, "Log-normal observations must be strictly positive.")

    def check_identifiable(self, x, w, free, has_prior, ctx):
        check_all_equal_degenerate(
            self, x, ("scale",), free, has_prior, "the likelihood grows without bound as scale shrinks to 0", ctx
        )

    def features(self, x, fixed):
        return {"log_x": parallel.log(x)}

    def log_prob(self, f, p):
        lx = f["log_x"]
        z = (lx - p["loc"]) / p["scale"]
        return -0.5 * LOG_2PI - torch.log(p["scale"]) - 0.5 * z * z - lx

    def statistics(self, f, w):
        W, mean, m2 = weighted_moments(f["log_x"], w)
        return SufficientStatistics(W, moments={"log_x": (mean, m2)})

    def log_likelihood_stats(self, s, p):
        # the normal likelihood of log x plus the Jacobian term -sum(w log x)
        return gaussian_log_likelihood(s, "log_x", p["loc"], p["scale"]) - s.total("log_x")

    def initial(self, f, w, fixed):
        return Normal.initial(self, {"x": f["log_x"]}, w, fixed)


class Laplace(LocationScaleFamily):
    """Laplace(loc, scale): :math:`\\log p(x) = -\\log(2b) - |x - \\mu| / b`.

    MLE: :math:`\\hat\\mu` is a (weighted) median and :math:`\\hat b = \\sum w_i |x_i - \\hat\\mu| / W`, the mean
    absolute deviation: least absolute deviations is the Laplace MLE.
    """

    name = "laplace"
    torch_class = td.Laplace
    scipy_name = "laplace"
    smooth = False

    def expected_information(self, p, weight, names):
        """Per observation :math:`I_{\\mu\\mu} = I_{bb} = 1/b^2`, :math:`I_{\\mu b} = 0` (the log-likelihood is
        piecewise linear in :math:`\\mu`, so its observed curvature is zero almost everywhere)."""
        b = p["scale"]
        return torch.eye(len(names), dtype=b.dtype, device=b.device) * (weight / b**2)

    def log_prob(self, f, p):
        return -math.log(2) - torch.log(p["scale"]) - (f["x"] - p["loc"]).abs() / p["scale"]

    def initial(self, f, w, fixed):
        x = f["x"]
        loc = fixed.get("loc", weighted_median(x, w))
        dev = weighted_sum((x - loc).abs(), w) / total_weight(x, w)
        return {"loc": loc, "scale": dev.clamp_min(1e-8)}


class StudentT(LocationScaleFamily):
    """StudentT(df, loc, scale):

    .. math:: \\log p(x) = \\log\\Gamma(\\tfrac{\\nu+1}{2}) - \\log\\Gamma(\\tfrac{\\nu}{2}) - \\tfrac12\\log(\\nu\\pi)
              - \\log\\sigma - \\tfrac{\\nu+1}{2}\\log(1 + z^2/\\nu).

    No closed form. Starting values: median, and scale and df matched to the inter-quartile range
    and the ratio of the 2.5-97.5% to the 25-75% range, so that the three-parameter fit starts near
    the answer instead of wandering.
    """

    name = "studentt"
    aliases = ("t", "student_t")
    torch_class = td.StudentT
    parameters = ("df", "loc", "scale")
    scipy_name = "t"

    def constraint(self, name, ctx=None):
        return constraints.real if name == "loc" else constraints.positive

    limits = {"df": 1e6}

    def check_identifiable(self, x, w, free, has_prior, ctx):
        super().check_identifiable(x, w, free, has_prior, ctx)
        if "df" in free and "df" not in has_prior:
            check_no_majority_tie(self, x, w, free, has_prior, " and df = 1 (a Cauchy)")

    def log_prob(self, f, p):
        df, scale = p["df"], p["scale"]
        z = (f["x"] - p["loc"]) / scale
        const = lgamma_half_difference(df / 2) - 0.5 * torch.log(df * math.pi) - torch.log(scale)
        return const - (df + 1) / 2 * torch.log1p(z * z / df)

    def log_likelihood_derivatives(self, f, w, p, order: int):
        """``(value, grad, hess)`` of the chunk's weighted log-likelihood in :attr:`parameters`' order,
        in closed form (:mod:`mlemap.families.studentt_derivatives`)."""
        from .studentt_derivatives import studentt_derivatives

        return studentt_derivatives(f["x"], w, p["df"], p["loc"], p["scale"], order)

    def boundary_note(self, name):
        if name == "df":
            return (
                "the data have no heavier tails than a normal, so the likelihood keeps increasing with df: "
                "the fit tends to the normal limit; fit 'normal' instead"
            )
        return None

    def initial(self, f, w, fixed):
        x = f["x"]
        loc, iqr = _robust_location_scale(x, w)
        tail = weighted_quantile(x, w, 0.975) - weighted_quantile(x, w, 0.025)
        ratio = float(tail / iqr)
        df = fixed.get("df")
        if df is None:
            df = scalar(_df_from_tail_ratio(ratio), x)
        q75 = _t_quantile(0.75, float(df))
        return {"df": df, "loc": loc, "scale": (iqr / (2 * q75)).clamp_min(1e-8)}


@lru_cache(maxsize=1)
def _tail_ratio_table() -> tuple[np.ndarray, np.ndarray]:
    from scipy import stats

    grid = np.geomspace(0.3, 300.0, 120)
    return grid, stats.t.ppf(0.975, grid) / stats.t.ppf(0.75, grid)


def _t_quantile(q: float, df: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(q, df))


def _df_from_tail_ratio(ratio: float) -> float:
    """Invert df -> (q97.5 - q2.5)/(q75 - q25) of Student's t (decreasing in df) by interpolation."""
    grid, ratios = _tail_ratio_table()
    return float(np.exp(np.interp(ratio, ratios[::-1], np.log(grid[::-1]))))


class Cauchy(LocationScaleFamily):
    """Cauchy(loc, scale): :math:`\\log p(x) = -\\log\\pi - \\log\\sigma - \\log(1 + z^2)`; started at the median and
    half the inter-quartile range (its exact quantile estimates)."""

    name = "cauchy"
    torch_class = td.Cauchy
    scipy_name = "cauchy"

    def check_identifiable(self, x, w, free, has_prior, ctx):
        super().check_identifiable(x, w, free, has_prior, ctx)
        check_no_majority_tie(self, x, w, free, has_prior, "")

    def log_prob(self, f, p):
        z = (f["x"] - p["loc"]) / p["scale"]
        return -math.log(math.pi) - torch.log(p["scale"]) - torch.log1p(z * z)

    def initial(self, f, w, fixed):
        loc, iqr = _robust_location_scale(f["x"], w)
        return {"loc": loc, "scale": (iqr / 2).clamp_min(1e-8)}


class Gumbel(LocationScaleFamily):
    """Gumbel(loc, scale) for maxima: :math:`\\log p(x) = -\\log\\sigma - z - e^{-z}`; started from its quantiles
    :math:`Q(p) = \\mu - \\sigma\\log(-\\log p)`: :math:`\\sigma = \\mathrm{IQR} / (\\log\\log 4 - \\log\\log(4/3))`,
    :math:`\\mu = \\mathrm{median} + \\sigma\\log\\log 2` (robust to outliers, unlike the moments)."""

    name = "gumbel"
    torch_class = td.Gumbel
    scipy_name = "gumbel_r"

    def log_prob(self, f, p):
        z = (f["x"] - p["loc"]) / p["scale"]
        return -torch.log(p["scale"]) - z - torch.exp(-z)

    def initial(self, f, w, fixed):
        median, iqr = _robust_location_scale(f["x"], w)
        scale = (iqr / (math.log(math.log(4)) - math.log(math.log(4 / 3)))).clamp_min(1e-8)
        scale = fixed.get("scale", scale)
        return {"loc": median + scale * math.log(math.log(2)), "scale": scale}


class HalfNormal(Family):
    """HalfNormal(scale) on :math:`x \\ge 0`: :math:`\\log p(x) = \\tfrac12\\log(2/\\pi) - \\log\\sigma - x^2/(2\\sigma^2)`.
    MLE :math:`\\hat\\sigma = \\sqrt{\\sum w_i x_i^2 / W}`."""

    name = "half_normal"
    aliases = ("halfnormal",)
    equivariance = {"scale": "scale"}
    torch_class = td.HalfNormal
    parameters = ("scale",)
    support_description = "numbers >= 0"
    derived = _SCALE_DERIVED
    scipy_name = "halfnorm"

    def constraint(self, name, ctx=None):
        return constraints.positive

    def check_support(self, x, fixed, ctx):
        require_support(bool(ctx.min >= 0), self, x, lambda: x < 0, "Half-normal observations must be 0 or more.")

    def check_identifiable(self, x, w, free, has_prior, ctx):
        if bool(ctx.max == 0):
            check_all_equal_degenerate(self, x, ("scale",), free, has_prior, "the scale shrinks to 0", ctx)
        check_scale_representable(self, ctx, spread=False)

    def log_prob(self, f, p):
        x = f["x"]
        return 0.5 * math.log(2 / math.pi) - torch.log(p["scale"]) - x * x / (2 * p["scale"] ** 2)

    def statistics(self, f, w):
        x = f["x"]
        return SufficientStatistics(total_weight(x, w), sums={"x2": weighted_sum(x * x, w)})

    def log_likelihood_stats(self, s, p):
        return s.weight * (0.5 * math.log(2 / math.pi) - torch.log(p["scale"])) - s.sums["x2"] / (2 * p["scale"] ** 2)

    def initial(self, f, w, fixed):
        x = f["x"]
        return {"scale": torch.sqrt(weighted_sum(x * x, w) / total_weight(x, w)).clamp_min(1e-8)}

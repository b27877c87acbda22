"""Families on the positive half-line: exponential, gamma, Weibull, Pareto."""

from __future__ import annotations

import math

import torch
import torch.distributions as td
from torch.distributions import constraints

from ..data import parallel
from .base import (
    EULER_GAMMA,
    Family,
    check_all_equal_degenerate,
    check_scale_representable,
    log_of,
    raise_outside_support,
    require_support,
)
from .gamma_functions import log_minus_digamma, log_minus_digamma_slope, stirling_gap
from .statistics import (
    SufficientStatistics,
    excess_log,
    total_weight,
    weighted_log_gap,
    weighted_moments,
    weighted_sum,
)


class Exponential(Family):
    """Exponential(rate): :math:`\\log p(x) = \\log\\lambda - \\lambda x`, :math:`x \\ge 0`; MLE :math:`\\hat\\lambda = W / \\sum w_i x_i`."""

    name = "exponential"
    aliases = ("exp",)
    equivariance = {"rate": "rate"}
    torch_class = td.Exponential
    parameters = ("rate",)
    support_description = "numbers >= 0"
    scipy_name = "expon"

    def constraint(self, name, ctx=None):
        return constraints.positive

    def check_support(self, x, fixed, ctx):
        require_support(bool(ctx.min >= 0), self, x, lambda: x < 0, "Exponential observations (waiting times) must be 0 or more.")

    def check_identifiable(self, x, w, free, has_prior, ctx):
        if bool(ctx.max == 0):
            check_all_equal_degenerate(self, x, ("rate",), free, has_prior, "the rate grows without bound", ctx)
        check_scale_representable(self, ctx, spread=False)

    def log_prob(self, f, p):
        return torch.log(p["rate"]) - p["rate"] * f["x"]

    def statistics(self, f, w):
        x = f["x"]
        return SufficientStatistics(total_weight(x, w), sums={"x": weighted_sum(x, w)})

    def log_likelihood_stats(self, s, p):
        return s.weight * torch.log(p["rate"]) - p["rate"] * s.sums["x"]

    def initial(self, f, w, fixed):
        _, mean, _ = weighted_moments(f["x"], w)
        return {"rate": 1 / mean.clamp_min(1e-12)}


class Gamma(Family):
    """Gamma(concentration, rate):
    :math:`\\log p(x) = \\alpha\\log\\beta - \\log\\Gamma(\\alpha) + (\\alpha - 1)\\log x - \\beta x`, :math:`x > 0`.

    Sufficient statistics :math:`\\sum w_i x_i`, the mean :math:`\\bar x` and the log-gap
    :math:`G = W(\\log\\bar x - \\overline{\\log x})` formed without cancellation, so every Newton step
    costs O(1) after one pass; the log-likelihood is evaluated in the form of
    :mod:`~mlemap.families.gamma_functions`, which keeps its digits when :math:`\\alpha` is huge (a sample
    with a coefficient of variation of 1e-12). Start: Minka's approximation
    :math:`\\alpha \\approx (3 - s + \\sqrt{(s - 3)^2 + 24 s}) / (12 s)`, :math:`s = G / W`.
    With ``concentration`` fixed, :math:`\\hat\\beta = \\alpha W / \\sum w_i x_i` in closed form.
    """

    name = "gamma"
    torch_class = td.Gamma
    equivariance = {"rate": "rate"}
    parameters = ("concentration", "rate")
    support_description = "positive numbers"
    scipy_name = "gamma"

    def constraint(self, name, ctx=None):
        return constraints.positive

    def check_support(self, x, fixed, ctx):
        require_support(bool(ctx.min > 0), self, x, lambda: x <= 0, "Gamma observations must be strictly positive.")

    def check_identifiable(self, x, w, free, has_prior, ctx):
        check_all_equal_degenerate(
            self, x, ("concentration",), free, has_prior, "the concentration grows without bound", ctx
        )
        check_scale_representable(self, ctx, spread=False)

    def features(self, x, fixed):
        return {"x": x, "log_x": parallel.log(x)}

    def log_prob(self, f, p):
        a, b = p["concentration"], p["rate"]
        t = b * f["x"] / a
        # psi(t - 1) = (t - 1) - log t: by its series near t = 1 (no cancellation), and from the logs
        # elsewhere (t underflows to 0 for tiny x, where log t = log b + log x - log a is still finite)
        near = (t - 1).abs() < 0.5
        psi_near = excess_log(torch.where(near, t - 1, torch.zeros_like(t)))
        psi_far = torch.where(near, torch.ones_like(t), t) - 1 - (torch.log(b) + f["log_x"] - torch.log(a))
        return -stirling_gap(a) - a * torch.where(near, psi_near, psi_far) - f["log_x"]

    def statistics(self, f, w):
        x = f["x"]
        W, mean, residual, gap = weighted_log_gap(x, w, f["log_x"])
        return SufficientStatistics(W, sums={"x": W * mean}, log_gaps={"x": (mean, residual, gap)})

    def log_likelihood_stats(self, s, p):
        """:math:`-W\\,\\mathrm{st}(\\alpha) - W\\alpha\\,\\psi(\\beta\\bar x/\\alpha - 1) - W\\log\\bar x - (\\alpha - 1) G`."""
        a, b = p["concentration"], p["rate"]
        mean, residual, gap = s.log_gaps["x"]
        W = s.weight
        ratio_minus_one = (b * mean / a - 1) + b * residual / a
        return -W * (stirling_gap(a) + a * excess_log(ratio_minus_one) + torch.log(mean + residual)) - (a - 1) * gap

    def fast_mle(self, problem, max_iter=100):
        """Profile out the rate (:math:`\\hat\\beta(\\alpha) = \\alpha / \\bar x`) and solve
        :math:`\\log\\alpha - \\psi(\\alpha) = \\log\\bar x - \\overline{\\log x}` by Newton in :math:`\\log\\alpha`
        with the exact derivative :math:`1 - \\alpha\\psi'(\\alpha)`."""
        if set(problem.free) != {"concentration", "rate"}:
            return None
        s = problem.statistics
        mean, residual, gap = s.log_gaps["x"]
        mean = mean + residual
        target = float(gap / s.weight)  # log(mean x) - mean(log x), without cancellation
        if not target > 0:
            return None
        a = minka_start(target)
        converged, it, settled = False, 0, False
        for it in range(1, max_iter + 1):
            step = (log_minus_digamma(a) - target) / log_minus_digamma_slope(a)
            a = a * math.exp(-max(min(step, 5.0), -5.0))
            if settled:  # one more step after reaching rounding level, then stop
                converged = True
                break
            settled = abs(step) <= 1e-12
        like = s.weight
        alpha = torch.as_tensor(a, dtype=like.dtype, device=like.device)
        return {"concentration": alpha, "rate": alpha / mean}, it, converged

    def initial(self, f, w, fixed):
        W, mean, _, gap = weighted_log_gap(f["x"], w, f["log_x"])
        s = float(gap / W)
        a = fixed.get("concentration", torch.as_tensor(minka_start(s) if s > 0 else 1e12, dtype=mean.dtype, device=mean.device))
        return {"concentration": a, "rate": a / mean}


def minka_start(s):
    """Minka's start for the gamma MLE equation :math:`\\log\\alpha - \\digamma(\\alpha) = s` (a float, or
    a tensor elementwise); for small :math:`s` the root of the quadratic is formed without cancellation
    (it tends to :math:`1/(2s)`)."""
    if isinstance(s, torch.Tensor):
        root = ((s - 3) ** 2 + 24 * s).sqrt()
        return torch.where(s > 1e-6, (3 - s + root) / (12 * s), 1 / (2 * s) + 1 / 12 - s / 6)
    root = math.sqrt((s - 3) ** 2 + 24 * s)
    return (3 - s + root) / (12 * s) if s > 1e-6 else 1 / (2 * s) + 1 / 12 - s / 6


class ScaleShapeFamily(Family):
    """Families of a scale and a shape (``concentration``) on the positive half-line, evaluated on
    :math:`\\log x` (computed once): shared constraints, support and identifiability checks."""

    parameters = ("scale", "concentration")
    support_description = "positive numbers"
    equivariance = {"scale": "scale"}
    #: how the error message names the observations
    observations = ""

    def constraint(self, name, ctx=None):
        return constraints.positive

    def check_support(self, x, fixed, ctx):
        require_support(bool(ctx.min > 0), self, x, lambda: x <= 0,
                        f"{self.observations} observations must be strictly positive.")

    def check_identifiable(self, x, w, free, has_prior, ctx):
        check_all_equal_degenerate(
            self, x, ("concentration",), free, has_prior, "the concentration grows without bound", ctx
        )
        check_scale_representable(self, ctx, spread=False)

    def features(self, x, fixed):
        return {"log_x": log_of(x)}


class Weibull(ScaleShapeFamily):
    """Weibull(scale, concentration), location 0:
    :math:`\\log p(x) = \\log k - \\log\\lambda + (k - 1)\\log(x/\\lambda) - (x/\\lambda)^k`, :math:`x > 0`.

    ``log x`` is computed once; every evaluation is then one ``exp`` per observation. Start: the
    Gumbel moments of :math:`\\log x` (:math:`k = \\pi / (\\sqrt6\\, s_{\\log x})`,
    :math:`\\lambda = \\exp(\\overline{\\log x} + \\gamma / k)`).
    """

    name = "weibull"
    torch_class = td.Weibull
    scipy_name = "weibull_min"
    observations = "Weibull"

    def log_prob(self, f, p):
        k, log_scale = p["concentration"], torch.log(p["scale"])
        t = f["log_x"] - log_scale
        return torch.log(k) - log_scale + (k - 1) * t - torch.exp(k * t)

    def fast_mle(self, problem, max_iter=100):
        """Profile out the scale (:math:`\\hat\\lambda^k = \\sum w_i x_i^k / W`) and maximise

        .. math:: \\ell_p(k) = W\\log k - W\\log(S_0/W) - Wkc + (k - 1)\\textstyle\\sum w_i\\log x_i - W

        by Newton in :math:`k`, with :math:`y_i = \\log x_i - c`, :math:`S_j = \\sum w_i e^{k y_i} y_i^j`,
        :math:`\\ell_p' = W/k - W(S_1/S_0 + c) + \\sum w_i \\log x_i` and
        :math:`\\ell_p'' = -W/k^2 - W(S_2/S_0 - (S_1/S_0)^2) < 0` (concave): exact, one pass per step.
        """
        if set(problem.free) != {"scale", "concentration"}:
            return None
        lx, w = problem.features["log_x"], problem.weights
        W = total_weight(lx, w)
        L = weighted_sum(lx, w)
        c = lx.max()
        y = lx - c
        k = self.initial(problem.features, w, {})["concentration"]  # two passes over log x
        converged, it = False, 0
        for it in range(1, max_iter + 1):
            e = torch.exp(k * y)
            ey = e * y
            s0, s1, s2 = weighted_sum(e, w), weighted_sum(ey, w), weighted_sum(ey * y, w)
            m1 = s1 / s0
            grad = W / k - W * (m1 + c) + L
            hess = -W / k**2 - W * (s2 / s0 - m1 * m1)
            step = grad / hess
            k_new = k - step
            if not bool(k_new > 0):
                k_new = k / 2
            k = k_new
            if bool(step.abs() <= 1e-14 * k) or float(grad * grad / -hess) <= 1e-15 * float(W.abs().clamp_min(1)):
                converged = True
                break
        e = torch.exp(k * y)
        log_scale = (torch.log(weighted_sum(e, w) / W) + k * c) / k
        return {"scale": torch.exp(log_scale), "concentration": k}, it, converged

    def initial(self, f, w, fixed):
        lx = f["log_x"]
        W, mean, m2 = weighted_moments(lx, w)
        k = fixed.get("concentration", (math.pi / math.sqrt(6)) / torch.sqrt(m2 / W).clamp_min(1e-8))
        return {"scale": torch.exp(mean + EULER_GAMMA / k), "concentration": k}


class Pareto(Family):
    """Pareto(scale, alpha) (type I): :math:`\\log p(x) = \\log\\alpha + \\alpha\\log x_m - (\\alpha + 1)\\log x`,
    :math:`x \\ge x_m`.

    The likelihood increases with :math:`x_m` up to the sample minimum, so
    :math:`\\hat x_m = \\min x` (a boundary, non-regular estimate) and
    :math:`\\hat\\alpha = W / \\sum w_i \\log(x_i / \\hat x_m)`.
    """

    name = "pareto"
    torch_class = td.Pareto
    equivariance = {"scale": "scale"}
    parameters = ("scale", "alpha")
    support_description = "numbers >= scale > 0"
    bounded_by_data = {"scale": "min"}
    scipy_name = "pareto"

    def constraint(self, name, ctx=None):
        if name == "scale" and ctx is not None:
            return constraints.interval(0.0, float(ctx.min))
        return constraints.positive

    def check_support(self, x, fixed, ctx):
        require_support(bool(ctx.min > 0), self, x, lambda: x <= 0, "Pareto observations must be strictly positive.")
        if "scale" in fixed:
            raise_outside_support(
                self, x, x < fixed["scale"], f"With scale fixed at {float(fixed['scale'])}, every x must be >= scale."
            )

    def check_identifiable(self, x, w, free, has_prior, ctx):
        check_all_equal_degenerate(self, x, ("alpha",), free, has_prior, "alpha grows without bound", ctx)

    def features(self, x, fixed):
        return {"x": x, "log_x": log_of(x)}

    def log_prob(self, f, p):
        a, m = p["alpha"], p["scale"]
        lp = torch.log(a) + a * torch.log(m) - (a + 1) * f["log_x"]
        return torch.where(f["x"] >= m, lp, torch.full_like(lp, -math.inf))

    def statistics(self, f, w):
        x = f["x"]
        return SufficientStatistics(
            total_weight(x, w), sums={"log_x": weighted_sum(f["log_x"], w)}, extremes={"x": (x.min(), x.max())}
        )

    def log_likelihood_stats(self, s, p):
        a, m = p["alpha"], p["scale"]
        ll = s.weight * (torch.log(a) + a * torch.log(m)) - (a + 1) * s.sums["log_x"]
        return torch.where(s.extremes["x"][0] >= m, ll, torch.full_like(ll, -math.inf))

    def initial(self, f, w, fixed):
        x = f["x"]
        m = fixed.get("scale", x.min())
        W = total_weight(x, w)
        spread = (weighted_sum(f["log_x"], w) - W * torch.log(m)).clamp_min(1e-12)
        return {"scale": m, "alpha": W / spread}

    def boundary_note(self, name):
        return "the MLE of a support bound is the sample minimum: a non-regular estimate whose error shrinks like 1/n"

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


class Exponential(Family):
    """Exponential(rate): :math:`\\log p(x) = \\log\\lambda - \\lambda x`, :math:`x \\ge 0`; MLE :math:`\\hat\\lambda = W / \\sum w_i x_i`."""

    name = "exponential"
    aliases = ("exp",)
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

    Sufficient statistics :math:`\\sum w_i x_i` and :math:`\\sum w_i \\log x_i`, so every Newton step costs
    O(1) after one pass. Start: Minka's approximation
    :math:`\\alpha \\approx (3 - s + \\sqrt{(s - 3)^2 + 24 s}) / (12 s)`, :math:`s = \\log\\bar x - \\overline{\\log x}`.
    With ``concentration`` fixed, :math:`\\hat\\beta = \\alpha W / \\sum w_i x_i` in closed form.
    """

    name = "gamma"
    torch_class = td.Gamma
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

    def features(self, x, fixed):
        return {"x": x, "log_x": parallel.log(x)}

    def log_prob(self, f, p):
        a, b = p["concentration"], p["rate"]
        return a * torch.log(b) - torch.lgamma(a) + (a - 1) * f["log_x"] - b * f["x"]

    def statistics(self, f, w):
        x = f["x"]
        sums = {"x": weighted_sum(x, w), "log_x": weighted_sum(f["log_x"], w)}
        return SufficientStatistics(total_weight(x, w), sums=sums)

    def log_likelihood_stats(self, s, p):
        a, b = p["concentration"], p["rate"]
        return s.weight * (a * torch.log(b) - torch.lgamma(a)) + (a - 1) * s.sums["log_x"] - b * s.sums["x"]

    def fast_mle(self, problem, max_iter=100):
        """Profile out the rate (:math:`\\hat\\beta(\\alpha) = \\alpha / \\bar x`) and solve
        :math:`\\log\\alpha - \\psi(\\alpha) = \\log\\bar x - \\overline{\\log x}` by Newton in :math:`\\log\\alpha`
        with the exact derivative :math:`1 - \\alpha\\psi'(\\alpha)`."""
        if set(problem.free) != {"concentration", "rate"}:
            return None
        s = problem.statistics
        W, sx, slx = float(s.weight), float(s.sums["x"]), float(s.sums["log_x"])
        mean = sx / W
        target = math.log(mean) - slx / W
        if not target > 0:
            return None
        a = (3 - target + math.sqrt((target - 3) ** 2 + 24 * target)) / (12 * target)
        converged, it, settled = False, 0, False
        for it in range(1, max_iter + 1):
            a_t = torch.tensor(a, dtype=torch.float64)  # torch's special functions: no scipy import
            g = math.log(a) - float(torch.digamma(a_t)) - target
            dg = 1.0 - a * float(torch.polygamma(1, a_t))  # d g / d log(a)
            step = g / dg
            a = a * math.exp(-max(min(step, 5.0), -5.0))
            if settled:  # one more step after reaching rounding level, then stop
                converged = True
                break
            settled = abs(step) <= 1e-12
        like = s.weight
        alpha = torch.as_tensor(a, dtype=like.dtype, device=like.device)
        return {"concentration": alpha, "rate": alpha / (s.sums["x"] / s.weight)}, it, converged

    def initial(self, f, w, fixed):
        x = f["x"]
        W = total_weight(x, w)
        mean = weighted_sum(x, w) / W
        mean_log = weighted_sum(f["log_x"], w) / W
        s = (torch.log(mean) - mean_log).clamp_min(1e-12)
        a = (3 - s + torch.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
        a = fixed.get("concentration", a)
        return {"concentration": a, "rate": a / mean}


class Weibull(Family):
    """Weibull(scale, concentration), location 0:
    :math:`\\log p(x) = \\log k - \\log\\lambda + (k - 1)\\log(x/\\lambda) - (x/\\lambda)^k`, :math:`x > 0`.

    ``log x`` is computed once; every evaluation is then one ``exp`` per observation. Start: the
    Gumbel moments of :math:`\\log x` (:math:`k = \\pi / (\\sqrt6\\, s_{\\log x})`,
    :math:`\\lambda = \\exp(\\overline{\\log x} + \\gamma / k)`).
    """

    name = "weibull"
    torch_class = td.Weibull
    parameters = ("scale", "concentration")
    support_description = "positive numbers"
    scipy_name = "weibull_min"

    def constraint(self, name, ctx=None):
        return constraints.positive

    def check_support(self, x, fixed, ctx):
        require_support(bool(ctx.min > 0), self, x, lambda: x <= 0, "Weibull observations must be strictly positive.")

    def check_identifiable(self, x, w, free, has_prior, ctx):
        check_all_equal_degenerate(
            self, x, ("concentration",), free, has_prior, "the concentration grows without bound", ctx
        )

    def features(self, x, fixed):
        return {"log_x": log_of(x)}

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
        k = self.initial(problem.features if problem.n_obs <= 200_000 else {"log_x": lx[problem.subsample_index(50_000)]}, None if problem.n_obs > 200_000 else w, {})["concentration"]
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

"""Families for binary outcomes and counts: Bernoulli, binomial, geometric, Poisson, negative binomial."""

from __future__ import annotations

import torch
import torch.distributions as td
from torch.distributions import constraints

from ..errors import ParameterError
from .base import (
    Family,
    check_integer,
    clamp_interior,
    raise_outside_support,
    require_support,
    scalar,
)
from .gamma_functions import log_rising
from .statistics import (
    SufficientStatistics,
    moments_of_x,
    total_weight,
    weighted_moments,
    weighted_sum,
)


def _xlogy(x, y):
    return torch.special.xlogy(x, y)


class Bernoulli(Family):
    """Bernoulli(probs): :math:`\\log p(x) = x \\log p + (1 - x) \\log(1 - p)`, :math:`x \\in \\{0, 1\\}`.

    Sufficient statistic :math:`s = \\sum w_i x_i`; MLE :math:`\\hat p = s / W`.
    """

    name = "bernoulli"
    torch_class = td.Bernoulli
    parameters = ("probs",)
    discrete = True
    support_description = "{0, 1}"
    scipy_name = "bernoulli"

    def constraint(self, name, ctx=None):
        return constraints.unit_interval

    def check_support(self, x, fixed, ctx):
        raise_outside_support(self, x, (x != 0) & (x != 1), "Code outcomes as 0 (failure) and 1 (success).")

    def log_prob(self, f, p):
        x = f["x"]
        return _xlogy(x, p["probs"]) + _xlogy(1 - x, 1 - p["probs"])

    def statistics(self, f, w):
        x = f["x"]
        return SufficientStatistics(total_weight(x, w), sums={"x": weighted_sum(x, w)})

    def log_likelihood_stats(self, s, p):
        k = s.sums["x"]
        return _xlogy(k, p["probs"]) + _xlogy(s.weight - k, 1 - p["probs"])

    def initial(self, f, w, fixed):
        _, mean, _ = weighted_moments(f["x"], w)
        return {"probs": clamp_interior(mean, 0.0, 1.0, 1e-2)}

    def boundary_note(self, name):
        return "every observation is the same outcome, so the likelihood is maximised at the edge of [0, 1]"


class Binomial(Family):
    """Binomial(total_count, probs) with known ``total_count`` :math:`N` (scalar or one per observation).

    :math:`\\log p(x) = \\log\\binom{N}{x} + x \\log p + (N - x) \\log(1 - p)`; MLE
    :math:`\\hat p = \\sum w_i x_i / \\sum w_i N_i`.
    """

    name = "binomial"
    torch_class = td.Binomial
    parameters = ("probs",)
    options = ("total_count",)
    discrete = True
    support_description = "whole numbers 0..total_count"
    scipy_name = "binom"

    def constraint(self, name, ctx=None):
        if name == "total_count":
            return constraints.nonnegative_integer
        return constraints.unit_interval

    def validate_option(self, name, value, x):
        if bool((value < 1).any()) or bool((value != torch.round(value)).any()):
            raise ParameterError(
                f"The 'fixed' value of 'total_count' for the binomial family must be a positive whole number "
                f"(or one per observation). Got {value.tolist() if value.numel() < 6 else 'an array with invalid entries'}."
            )
        if value.dim() > 0 and value.shape != x.shape:
            raise ParameterError(
                f"The 'fixed' value of 'total_count' must be a single number or one per observation "
                f"({x.shape[0]} values). Got shape {tuple(value.shape)}."
            )
        return value

    def check_support(self, x, fixed, ctx):
        check_integer(self, x, "Pass the number of successes per observation as whole numbers.")
        n = fixed["total_count"]
        raise_outside_support(
            self, x, (x < 0) | (x > n), "Each count must lie between 0 and total_count (the number of trials)."
        )

    def features(self, x, fixed):
        return {"x": x, "total_count": fixed["total_count"]}

    def _log_choose(self, x, n):
        return torch.lgamma(n + 1) - torch.lgamma(x + 1) - torch.lgamma(n - x + 1)

    def log_prob(self, f, p):
        x, n, q = f["x"], f["total_count"], p["probs"]
        return self._log_choose(x, n) + _xlogy(x, q) + _xlogy(n - x, 1 - q)

    def statistics(self, f, w):
        # total_count is needed for the statistics; it is attached by the objective builder
        x, n = f["x"], f["total_count"]
        return SufficientStatistics(
            total_weight(x, w),
            sums={
                "x": weighted_sum(x, w),
                "failures": weighted_sum(n - x, w),
                "log_choose": weighted_sum(self._log_choose(x, n), w),
            },
        )

    def log_likelihood_stats(self, s, p):
        q = p["probs"]
        return s.sums["log_choose"] + _xlogy(s.sums["x"], q) + _xlogy(s.sums["failures"], 1 - q)

    def initial(self, f, w, fixed):
        x, n = f["x"], f["total_count"]
        ratio = weighted_sum(x, w) / weighted_sum(n.expand_as(x), w)
        return {"probs": clamp_interior(ratio, 0.0, 1.0, 1e-2)}

    def distribution(self, p):
        return td.Binomial(total_count=p["total_count"], probs=p["probs"], validate_args=False)

    boundary_note = Bernoulli.boundary_note


class Geometric(Family):
    """Geometric(probs) on the number of failures before the first success, :math:`k = 0, 1, \\ldots`.

    :math:`\\log p(k) = \\log p + k \\log(1 - p)` (torch's convention; scipy's ``geom`` counts trials,
    :math:`k + 1`). MLE :math:`\\hat p = W / (W + \\sum w_i k_i)`.
    """

    name = "geometric"
    torch_class = td.Geometric
    parameters = ("probs",)
    discrete = True
    support_description = "whole numbers 0, 1, 2, ... (failures before the first success)"
    scipy_name = "geom"

    def constraint(self, name, ctx=None):
        return constraints.unit_interval

    def check_support(self, x, fixed, ctx):
        check_integer(self, x, "Pass the number of failures before the first success as whole numbers.")
        require_support(
            bool(ctx.min >= 0), self, x, lambda: x < 0, "Counts must be 0 or more (torch counts failures, not trials)."
        )

    def log_prob(self, f, p):
        return torch.log(p["probs"]) + _xlogy(f["x"], 1 - p["probs"])

    def statistics(self, f, w):
        x = f["x"]
        return SufficientStatistics(total_weight(x, w), sums={"x": weighted_sum(x, w)})

    def log_likelihood_stats(self, s, p):
        return s.weight * torch.log(p["probs"]) + _xlogy(s.sums["x"], 1 - p["probs"])

    def initial(self, f, w, fixed):
        _, mean, _ = weighted_moments(f["x"], w)
        return {"probs": clamp_interior(1 / (1 + mean), 0.0, 1.0, 1e-2)}

    def boundary_note(self, name):
        return "every observation is 0 (success at the first trial), so the likelihood is maximised at probs = 1"


class Poisson(Family):
    """Poisson(rate): :math:`\\log p(x) = x \\log\\lambda - \\lambda - \\log x!`; MLE :math:`\\hat\\lambda = \\bar x`."""

    name = "poisson"
    torch_class = td.Poisson
    parameters = ("rate",)
    discrete = True
    support_description = "whole numbers 0, 1, 2, ..."
    scipy_name = "poisson"

    def constraint(self, name, ctx=None):
        return constraints.nonnegative

    def check_support(self, x, fixed, ctx):
        check_integer(self, x, "Pass whole-number counts.")
        require_support(bool(ctx.min >= 0), self, x, lambda: x < 0, "Counts must be 0 or more.")

    def log_prob(self, f, p):
        x = f["x"]
        return _xlogy(x, p["rate"]) - p["rate"] - torch.lgamma(x + 1)

    def statistics(self, f, w):
        x = f["x"]
        return SufficientStatistics(
            total_weight(x, w), sums={"x": weighted_sum(x, w), "log_factorial": weighted_sum(torch.lgamma(x + 1), w)}
        )

    def log_likelihood_stats(self, s, p):
        return _xlogy(s.sums["x"], p["rate"]) - s.weight * p["rate"] - s.sums["log_factorial"]

    def initial(self, f, w, fixed):
        _, mean, _ = weighted_moments(f["x"], w)
        return {"rate": mean.clamp_min(1e-2)}

    def boundary_note(self, name):
        return "every count is 0, so the likelihood is maximised at rate = 0"


class NegativeBinomial(Family):
    """NegativeBinomial(total_count, probs) as in torch: failures :math:`k` before ``total_count`` successes
    when each trial succeeds with probability :math:`1 - p`.

    :math:`\\log p(k) = \\log\\Gamma(k + r) - \\log\\Gamma(r) - \\log k! + r \\log(1 - p) + k \\log p`, mean
    :math:`r p / (1 - p)`. Both ``total_count`` (:math:`r > 0`, real) and ``probs`` are estimated. When
    the sample variance does not exceed the mean the maximum is at :math:`r \\to \\infty` (the Poisson
    limit) and is reported as a boundary estimate.
    """

    name = "negative_binomial"
    aliases = ("negbin", "nbinom")
    torch_class = td.NegativeBinomial
    parameters = ("total_count", "probs")
    discrete = True
    support_description = "whole numbers 0, 1, 2, ..."
    scipy_name = "nbinom"

    def constraint(self, name, ctx=None):
        return constraints.positive if name == "total_count" else constraints.unit_interval

    check_support = Poisson.check_support

    #: beyond this ``total_count`` the optimiser stops and reports the Poisson limit
    limits = {"total_count": 1e10}
    #: where a fit without overdispersion holds ``total_count``, in units of the mean count: the
    #: variance :math:`\\mu(1 + \\mu/r)` is then the Poisson's to 1e-12
    POISSON_LIMIT = 1e12

    def log_prob(self, f, p):
        k, r, q = f["x"], p["total_count"], p["probs"]
        return log_rising(r, k) - torch.lgamma(k + 1) + r * torch.log1p(-q) + _xlogy(k, q)

    def limit_estimates(self, problem):
        """The MLE of ``total_count`` is finite exactly when the (1/n) sample variance exceeds the mean
        (Levin & Reeds 1977; Aragon, Eberly & Eberly 1992); otherwise the likelihood increases with it
        towards the Poisson limit, where it is held (``probs`` then follows from the mean)."""
        free = {n for n in problem.free if n not in problem.priors}
        if free != {"total_count", "probs"}:
            return {}
        stats = problem.feature_sum(moments_of_x)  # one pass over data read in chunks
        W, mean, m2 = stats.weight, stats.mean("x"), stats.m2("x")
        if bool(m2 / W > mean):
            return {}
        return {"total_count": torch.full_like(mean, self.POISSON_LIMIT) * mean.clamp_min(1.0)}

    def initial(self, f, w, fixed):
        x = f["x"]
        _, mean, m2 = weighted_moments(x, w)
        var = m2 / total_weight(x, w)
        mean = mean.clamp_min(1e-2)
        if "total_count" in fixed:
            r = fixed["total_count"]
        elif bool(var > mean * 1.0001):
            r = mean * mean / (var - mean)
        else:
            r = scalar(1e3, x) * mean.clamp_min(1.0)
        probs = fixed.get("probs", mean / (r + mean))
        return {"total_count": r, "probs": clamp_interior(probs, 0.0, 1.0, 1e-3)}

    def boundary_note(self, name):
        if name == "total_count":
            return (
                "the sample variance does not exceed the mean (no overdispersion), so the likelihood keeps "
                "increasing as total_count grows: the negative binomial tends to a Poisson; fit 'poisson' instead"
            )
        return "every count is 0, so the likelihood is maximised at probs = 0"

"""Closed-form maximum-likelihood estimators.

All but the Laplace and Weibull-scale estimators read only the additive sufficient statistics, so
they give the same answer on merged chunk statistics as on the whole sample.
"""

from __future__ import annotations

import torch

from ..families import (
    Bernoulli,
    Binomial,
    Categorical,
    Exponential,
    Gamma,
    Geometric,
    HalfNormal,
    Laplace,
    LogNormal,
    Multinomial,
    MultivariateNormal,
    Normal,
    Pareto,
    Poisson,
    Uniform,
    VonMises,
    Weibull,
)
from ..families.statistics import weighted_sum
from .registry import Solution, register_closed_form


@register_closed_form(Bernoulli, free={"probs"})
def bernoulli_mle(problem):
    """:math:`\\hat p = \\sum w_i x_i / W`."""
    s = problem.statistics
    return Solution({"probs": s.sums["x"] / s.weight})


@register_closed_form(Binomial, free={"probs"})
def binomial_mle(problem):
    """:math:`\\hat p = \\sum w_i x_i / \\sum w_i N_i`."""
    s = problem.statistics
    return Solution({"probs": s.sums["x"] / (s.sums["x"] + s.sums["failures"])})


@register_closed_form(Geometric, free={"probs"})
def geometric_mle(problem):
    """:math:`\\hat p = W / (W + \\sum w_i k_i)`."""
    s = problem.statistics
    return Solution({"probs": s.weight / (s.weight + s.sums["x"])})


@register_closed_form(Poisson, free={"rate"})
def poisson_mle(problem):
    """:math:`\\hat\\lambda = \\sum w_i x_i / W`."""
    s = problem.statistics
    return Solution({"rate": s.sums["x"] / s.weight})


@register_closed_form(Categorical, free={"probs"})
@register_closed_form(Multinomial, free={"probs"})
def categorical_mle(problem):
    """:math:`\\hat p_k = c_k / \\sum_j c_j` (weighted category counts)."""
    counts = problem.statistics.sums["counts"]
    return Solution({"probs": counts / counts.sum()})


def _normal_on(problem, key: str):
    s = problem.statistics
    mean, m2 = s.moments[key]
    W = s.weight
    out = {}
    if "loc" in problem.free:
        out["loc"] = mean
    if "scale" in problem.free:
        loc = out.get("loc", problem.fixed.get("loc"))
        out["scale"] = torch.sqrt((m2 + W * (mean - loc) ** 2) / W)
    return Solution(out)


for _free in ({"loc", "scale"}, {"loc"}, {"scale"}):
    register_closed_form(Normal, free=_free)(lambda problem: _normal_on(problem, "x"))
    register_closed_form(LogNormal, free=_free)(lambda problem: _normal_on(problem, "log_x"))


@register_closed_form(HalfNormal, free={"scale"})
def half_normal_mle(problem):
    """:math:`\\hat\\sigma = \\sqrt{\\sum w_i x_i^2 / W}`."""
    s = problem.statistics
    return Solution({"scale": torch.sqrt(s.sums["x2"] / s.weight)})


@register_closed_form(Exponential, free={"rate"})
def exponential_mle(problem):
    """:math:`\\hat\\lambda = W / \\sum w_i x_i`."""
    s = problem.statistics
    return Solution({"rate": s.weight / s.sums["x"]})


@register_closed_form(Gamma, free={"rate"})
def gamma_rate_mle(problem):
    """With the concentration :math:`\\alpha` known, :math:`\\hat\\beta = \\alpha W / \\sum w_i x_i`."""
    s = problem.statistics
    return Solution({"rate": problem.fixed["concentration"] * s.weight / s.sums["x"]})


def _laplace(problem):
    out = {}
    if "loc" in problem.free:
        out["loc"] = problem.quantile(0.5)
    if "scale" in problem.free:
        loc = out.get("loc", problem.fixed.get("loc"))
        deviation = problem.feature_sum(lambda f, w: weighted_sum((f["x"] - loc).abs(), w))
        out["scale"] = deviation / problem.total_weight
    return Solution(out)


for _free in ({"loc", "scale"}, {"loc"}, {"scale"}):
    register_closed_form(Laplace, free=_free, uses_statistics=False)(_laplace)


def _uniform(problem):
    xmin, xmax = problem.statistics.extremes["x"]
    out = {}
    if "low" in problem.free:
        out["low"] = xmin
    if "high" in problem.free:
        out["high"] = xmax
    return Solution(out)


for _free in ({"low", "high"}, {"low"}, {"high"}):
    register_closed_form(Uniform, free=_free)(_uniform)


def _pareto(problem):
    s = problem.statistics
    out = {}
    scale = problem.fixed.get("scale")
    if "scale" in problem.free:
        scale = out["scale"] = s.extremes["x"][0]
    if "alpha" in problem.free:
        out["alpha"] = s.weight / (s.sums["log_x"] - s.weight * torch.log(scale))
    return Solution(out)


for _free in ({"scale", "alpha"}, {"alpha"}, {"scale"}):
    register_closed_form(Pareto, free=_free)(_pareto)


@register_closed_form(VonMises, free={"loc"})
def von_mises_loc_mle(problem):
    """:math:`\\hat\\mu = \\operatorname{atan2}(\\sum w_i \\sin x_i, \\sum w_i \\cos x_i)` (any known concentration)."""
    s = problem.statistics
    return Solution({"loc": torch.atan2(s.sums["sin"], s.sums["cos"])})


def _mvn(problem):
    s = problem.statistics
    mean, m2 = s.moments["x"]
    out = {}
    if "loc" in problem.free:
        out["loc"] = mean
    if "covariance_matrix" in problem.free:
        loc = out.get("loc", problem.fixed.get("loc"))
        delta = (mean - loc).unsqueeze(-1)
        cov = (m2 + s.weight * delta @ delta.T) / s.weight
        out["covariance_matrix"] = 0.5 * (cov + cov.T)
    return Solution(out)


for _free in ({"loc", "covariance_matrix"}, {"loc"}, {"covariance_matrix"}):
    register_closed_form(MultivariateNormal, free=_free)(_mvn)


@register_closed_form(Weibull, free={"scale"}, uses_statistics=False)
def weibull_scale_mle(problem):
    """With the concentration :math:`k` known, :math:`\\hat\\lambda = (\\sum w_i x_i^k / W)^{1/k}`."""
    k = problem.fixed["concentration"]
    # log-sum-exp keeps x^k finite for large k: the largest k log x is k log max(x)
    top = k * torch.log(problem.ctx.max)
    total = problem.feature_sum(lambda f, w: weighted_sum(torch.exp(k * f["log_x"] - top), w))
    log_mean = top + torch.log(total / problem.total_weight)
    return Solution({"scale": torch.exp(log_mean / k)})


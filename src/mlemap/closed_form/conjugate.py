"""Conjugate prior–likelihood pairs: exact posteriors, their modes (the MAP) and posterior predictives.

Each posterior is computed from additive sufficient statistics:

=====================  ==============================  ===========================================
likelihood             prior (on)                      posterior
=====================  ==============================  ===========================================
Bernoulli              Beta(a, b) (probs)              Beta(a + s, b + W - s)
Binomial (N known)     Beta(a, b) (probs)              Beta(a + s, b + sum w (N - x))
Geometric              Beta(a, b) (probs)              Beta(a + W, b + sum w k)
Poisson                Gamma(a, b) (rate)              Gamma(a + sum w x, b + W)
Exponential            Gamma(a, b) (rate)              Gamma(a + W, b + sum w x)
Normal (scale known)   Normal(m, t) (loc)              Normal, precision 1/t^2 + W/sigma^2
Normal (loc known)     InverseGamma(a, b) (variance)   InverseGamma(a + W/2, b + S/2)
Normal (loc known)     Gamma(a, b) (precision)         Gamma(a + W/2, b + S/2)
Categorical            Dirichlet(alpha) (probs)        Dirichlet(alpha + counts)
Multinomial            Dirichlet(alpha) (probs)        Dirichlet(alpha + counts)
=====================  ==============================  ===========================================

with :math:`S = \\sum w_i (x_i - \\mu)^2`; the log-normal pairs are the normal ones on :math:`\\log x` and
the half-normal ones use :math:`S = \\sum w_i x_i^2`. A ``Uniform(0, 1)`` prior on a probability is
treated as ``Beta(1, 1)`` and an ``Exponential(rate)`` prior as ``Gamma(1, rate)``.

The MAP is the posterior mode. Where it lies on the boundary (a Beta posterior with a first
concentration of at most 1 has its mode at 0), the estimate is flagged; where the posterior density
has no maximum at all (both Beta concentrations below 1) an error says so.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.distributions as td

from ..distributions.compound import (
    BetaBinomial,
    BetaGeometric,
    DirichletMultinomial,
    HalfStudentT,
    lomax,
)
from ..errors import EstimationError, ParameterError
from ..families import (
    Bernoulli,
    Binomial,
    Categorical,
    Exponential,
    Geometric,
    HalfNormal,
    LogNormal,
    Multinomial,
    Normal,
    Poisson,
)
from .registry import Solution, register_closed_form

_UNBOUNDED = "the posterior density is unbounded at this edge, so the MAP is the edge itself"
_NO_BETA_MODE = "both concentrations are at most 1"
_INFINITE_SCALE = "the posterior mode of the precision is at 0 (an infinite scale)"


def canonical_prior(prior: td.Distribution) -> td.Distribution:
    """Express priors that are special cases of a conjugate family in that family."""
    if type(prior) is td.Uniform and float(prior.low) == 0.0 and float(prior.high) == 1.0:
        one = torch.ones((), dtype=prior.low.dtype)
        return td.Beta(one, one, validate_args=False)
    if type(prior) is td.Exponential:
        return td.Gamma(torch.ones_like(prior.rate), prior.rate, validate_args=False)
    return prior


# ---------------------------------------------------------------------- posterior modes
def beta_mode(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, str | None]:
    """Mode of Beta(a, b) and, when it is an edge, why (elementwise for a batch: see :func:`batch_mode`)."""
    if a.dim() > 0:
        return batch_mode(
            torch.where(a + b > 2, (a - 1) / (a + b - 2), torch.full_like(a, math.nan)),
            [((a <= 1) & (b > 1), 0.0, a == 1, "the posterior mode is at 0"),
             ((b <= 1) & (a > 1), 1.0, b == 1, "the posterior mode is at 1"),
             ((a <= 1) & (b <= 1), math.nan, None, _NO_BETA_MODE)],
        )
    a_f, b_f = float(a), float(b)
    if a_f > 1 and b_f > 1:
        return (a - 1) / (a + b - 2), None
    if a_f <= 1 and b_f > 1:
        return torch.zeros_like(a), ("" if a_f == 1 else _UNBOUNDED) or "the posterior mode is at 0"
    if b_f <= 1 and a_f > 1:
        return torch.ones_like(a), ("" if b_f == 1 else _UNBOUNDED) or "the posterior mode is at 1"
    raise EstimationError(
        f"The posterior Beta({a_f:.6g}, {b_f:.6g}) has no unique mode ({_NO_BETA_MODE}), so the "
        "MAP does not exist. Use a prior with concentrations of at least 1, such as td.Beta(1.0, 1.0) or "
        "td.Beta(2.0, 2.0)."
    )


def gamma_mode(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, str | None]:
    """Mode of Gamma(a, b) and, when it is 0, why (elementwise for a batch: see :func:`batch_mode`)."""
    if a.dim() > 0:
        return batch_mode((a - 1) / b, [(a <= 1, 0.0, a == 1, "the posterior mode is at 0")])
    if float(a) > 1:
        return (a - 1) / b, None
    reason = "the posterior mode is at 0" if float(a) == 1 else _UNBOUNDED
    return torch.zeros_like(a), reason


def batch_mode(interior: torch.Tensor, edges) -> tuple[torch.Tensor, np.ndarray | None]:
    """Modes of a batch of posteriors: ``interior`` where no edge applies, else each edge's value.

    ``edges`` lists ``(mask, value, exactly_one, reason)``: where ``mask`` holds the mode is
    ``value`` and the reason is ``reason`` when ``exactly_one`` holds there (a density that is
    finite at the edge), else that the density is unbounded at the edge (``exactly_one=None``:
    always ``reason``). Returns the modes and an object array of reasons (None for interior modes),
    or None when every mode is interior.
    """
    mode = interior
    reasons = np.full(interior.shape, None, dtype=object)
    flagged = False
    for mask, value, exactly_one, reason in edges:
        mode = torch.where(mask, torch.full_like(mode, value), mode)
        m = mask.cpu().numpy()
        flagged = flagged or bool(m.any())
        if exactly_one is None:
            reasons[m] = reason
        else:
            one = exactly_one.cpu().numpy()
            reasons[m & one] = reason
            reasons[m & ~one] = _UNBOUNDED
    return mode, (reasons if flagged else None)


def dirichlet_mode(alpha: torch.Tensor) -> tuple[torch.Tensor, str | None]:
    excess = (alpha - 1).clamp_min(0)
    if float(excess.sum()) <= 0:
        raise EstimationError(
            f"The posterior Dirichlet({[round(v, 6) for v in alpha.tolist()]}) has no unique mode (every concentration "
            "is at most 1). Use a prior with concentrations of at least 1."
        )
    reason = None
    if bool((alpha <= 1).any()):
        reason = "categories with posterior concentration at most 1 have their mode at 0"
    return excess / excess.sum(), reason


# ---------------------------------------------------------------------- Beta pairs
def _beta_solution(problem, a, b, predictive):
    prior = problem.priors["probs"]
    post_a = prior.prior.concentration1 + a
    post_b = prior.prior.concentration0 + b
    mode, reason = beta_mode(post_a, post_b)
    post = td.Beta(post_a, post_b, validate_args=False)
    return Solution(
        {"probs": mode},
        posterior={"probs": post},
        predictive=lambda **opts: predictive(post_a, post_b, **opts),
        boundary={"probs": reason} if reason is not None else {},
    )


@register_closed_form(Bernoulli, free={"probs"}, priors={"probs": td.Beta})
def beta_bernoulli(problem):
    s = problem.statistics
    k = s.sums["x"]
    return _beta_solution(
        problem, k, s.weight - k, lambda a, b: td.Bernoulli(probs=a / (a + b), validate_args=False)
    )


@register_closed_form(Binomial, free={"probs"}, priors={"probs": td.Beta})
def beta_binomial(problem):
    s = problem.statistics
    n_fixed = problem.fixed["total_count"]

    def predictive(a, b, total_count=None):
        n = n_fixed if total_count is None else torch.as_tensor(total_count, dtype=a.dtype)
        if n.dim() > 0 and n.numel() > 1:
            raise ParameterError(
                "The binomial fit has one total_count per observation; pass predictive(total_count=N) to choose "
                "the number of trials of the next observation."
            )
        return BetaBinomial(n.reshape(()), a, b, validate_args=False)

    return _beta_solution(problem, s.sums["x"], s.sums["failures"], predictive)


@register_closed_form(Geometric, free={"probs"}, priors={"probs": td.Beta})
def beta_geometric(problem):
    s = problem.statistics
    return _beta_solution(problem, s.weight, s.sums["x"], lambda a, b: BetaGeometric(a, b, validate_args=False))


# ---------------------------------------------------------------------- Gamma pairs
def _gamma_solution(problem, key, a, b, predictive):
    prior = problem.priors[key]
    post_a = prior.prior.concentration + a
    post_b = prior.prior.rate + b
    mode, reason = gamma_mode(post_a, post_b)
    post = td.Gamma(post_a, post_b, validate_args=False)
    return Solution(
        {key: mode},
        posterior={key: post},
        predictive=lambda: predictive(post_a, post_b),
        boundary={key: reason} if reason is not None else {},
    )


@register_closed_form(Poisson, free={"rate"}, priors={"rate": td.Gamma})
def gamma_poisson(problem):
    s = problem.statistics
    return _gamma_solution(
        problem,
        "rate",
        s.sums["x"],
        s.weight,
        lambda a, b: td.NegativeBinomial(total_count=a, probs=1 / (b + 1), validate_args=False),
    )


@register_closed_form(Exponential, free={"rate"}, priors={"rate": td.Gamma})
def gamma_exponential(problem):
    s = problem.statistics
    return _gamma_solution(problem, "rate", s.weight, s.sums["x"], lomax)


# ---------------------------------------------------------------------- Normal pairs
def _exp_of(dist):
    return td.TransformedDistribution(dist, [td.ExpTransform()], validate_args=False)


def _normal_mean(problem, key):
    s = problem.statistics
    mean, _ = s.moments[key]
    sigma = problem.fixed["scale"]
    prior = problem.priors["loc"].prior
    prec = 1 / prior.scale**2 + s.weight / sigma**2
    post_var = 1 / prec
    post_mean = post_var * (prior.loc / prior.scale**2 + s.weight * mean / sigma**2)
    post = td.Normal(post_mean, torch.sqrt(post_var), validate_args=False)
    pred = td.Normal(post_mean, torch.sqrt(sigma**2 + post_var), validate_args=False)
    return Solution(
        {"loc": post_mean},
        posterior={"loc": post},
        predictive=lambda: pred if key == "x" else _exp_of(pred),
    )


register_closed_form(Normal, free={"loc"}, priors={"loc": td.Normal})(lambda p: _normal_mean(p, "x"))
register_closed_form(LogNormal, free={"loc"}, priors={"loc": td.Normal})(lambda p: _normal_mean(p, "log_x"))


def _scatter(problem, key):
    s = problem.statistics
    if key == "x2":
        return s.weight, s.sums["x2"], torch.zeros((), dtype=s.weight.dtype)
    mean, m2 = s.moments[key]
    loc = problem.fixed["loc"]
    return s.weight, m2 + s.weight * (mean - loc) ** 2, loc


def _normal_scale(problem, key: str, prior_key: str, transform):
    W, S, loc = _scatter(problem, key)
    prior = problem.priors["scale"].prior
    a = prior.concentration + W / 2
    b = prior.rate + S / 2
    if prior_key == "variance":
        post = td.InverseGamma(a, b, validate_args=False)
        mode, reason = b / (a + 1), None
    else:
        post = td.Gamma(a, b, validate_args=False)
        mode, reason = gamma_mode(a, b)
        if reason is not None and a.dim() > 0:
            reason = np.where(reason == None, None, _INFINITE_SCALE)  # noqa: E711 - elementwise
        elif reason:
            raise EstimationError(
                f"The posterior Gamma({float(a):.6g}, {float(b):.6g}) of the precision has its mode at 0 (infinite "
                "scale). Use a prior concentration of at least 1."
            )
    scale = torch.sqrt(mode) if prior_key == "variance" else 1 / torch.sqrt(mode)
    t = td.StudentT(2 * a, loc, torch.sqrt(b / a), validate_args=False)
    return Solution(
        {"scale": scale},
        posterior={prior_key: post},
        predictive=lambda: transform(t),
        boundary={"scale": reason} if prior_key == "precision" and reason is not None else {},
    )


_identity = lambda d: d  # noqa: E731
for _fam, _key, _tr in ((Normal, "x", _identity), (LogNormal, "log_x", _exp_of), (HalfNormal, "x2", None)):
    _pred = _tr if _tr is not None else (lambda t: HalfStudentT(t.df, t.scale, validate_args=False))
    register_closed_form(_fam, free={"scale"}, priors={"variance": td.InverseGamma})(
        lambda p, key=_key, tr=_pred: _normal_scale(p, key, "variance", tr)
    )
    register_closed_form(_fam, free={"scale"}, priors={"precision": td.Gamma})(
        lambda p, key=_key, tr=_pred: _normal_scale(p, key, "precision", tr)
    )


# ---------------------------------------------------------------------- Dirichlet pairs
def _dirichlet(problem, predictive):
    counts = problem.statistics.sums["counts"]
    prior = problem.priors["probs"].prior
    alpha = prior.concentration + counts
    mode, reason = dirichlet_mode(alpha)
    post = td.Dirichlet(alpha, validate_args=False)
    return Solution(
        {"probs": mode},
        posterior={"probs": post},
        predictive=lambda **opts: predictive(alpha, **opts),
        boundary={"probs": reason} if reason else {},
    )


@register_closed_form(Categorical, free={"probs"}, priors={"probs": td.Dirichlet})
def dirichlet_categorical(problem):
    return _dirichlet(problem, lambda a: td.Categorical(probs=a / a.sum(), validate_args=False))


@register_closed_form(Multinomial, free={"probs"}, priors={"probs": td.Dirichlet})
def dirichlet_multinomial(problem):
    common = problem.fixed.get("total_count", problem.family.total_count)

    def predictive(alpha, total_count=None):
        n = total_count if total_count is not None else common
        if n is None:
            raise ParameterError(
                "The rows have different totals; pass predictive(total_count=N) to choose the number of trials."
            )
        return DirichletMultinomial(n, alpha, validate_args=False)

    return _dirichlet(problem, predictive)

"""Wald confidence intervals and posterior credible intervals."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.distributions as td

from ..errors import LevelError, MethodError
from ..priors.discrete import DiscretePrior


def check_level(level) -> float:
    """The interval level as a float in (0, 1), or a :class:`~mlemap.errors.LevelError` saying what is expected."""
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise LevelError(f"The 'level' argument must be a number in (0, 1), such as 0.95. Got {level!r} instead.")
    return float(level)


def normal_quantile(level: float) -> float:
    """:math:`z_{1 - \\alpha/2}` for a two-sided interval at ``level``."""
    # torch's ndtri is scipy.stats.norm.ppf (the same Cephes algorithm) without importing scipy
    return float(torch.special.ndtri(torch.tensor(0.5 + level / 2, dtype=torch.float64)))


def wald(estimate, se, level: float = 0.95):
    """``(z, p-value, lower, upper)`` elementwise for arrays of estimates and standard errors.

    :math:`z = \\hat\\theta / \\text{SE}`, two-sided p-value :math:`2\\Phi(-|z|)`, interval
    :math:`\\hat\\theta \\pm z_{1-\\alpha/2}\\,\\text{SE}`; NaN where the SE is NaN or zero.
    """
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, estimate / se, np.nan)
    p = np.vectorize(lambda v: math.erfc(v / math.sqrt(2.0)), otypes=[float])(np.abs(z)) if z.size else z.copy()
    q = normal_quantile(level)
    return z, p, estimate - q * se, estimate + q * se


def _pack(lo: torch.Tensor, hi: torch.Tensor):
    if lo.dim() == 0:
        return (float(lo), float(hi))
    return (lo.cpu().numpy(), hi.cpu().numpy())


def wald_intervals(estimate, level: float) -> dict[str, tuple]:
    """:math:`\\hat\\theta \\pm z_{1-\\alpha/2}\\,\\mathrm{SE}` per parameter of an
    :class:`~mlemap.core.estimate.Estimate` (NaN where the SE is undefined)."""
    z = normal_quantile(level)
    out = {}
    for name, est in estimate.params.items():
        se = estimate.se(name)
        out[name] = _pack(est - z * se, est + z * se)
    return out


def quantiles(dist: td.Distribution, qs: list[float]) -> list[torch.Tensor]:
    """Quantiles of the posterior families mlemap produces (computed with scipy)."""
    from scipy import stats as st

    as_np = lambda t: t.detach().cpu().numpy()  # noqa: E731
    if isinstance(dist, td.Beta):
        frozen = st.beta(as_np(dist.concentration1), as_np(dist.concentration0))
    elif isinstance(dist, td.Gamma):
        frozen = st.gamma(as_np(dist.concentration), scale=1 / as_np(dist.rate))
    elif isinstance(dist, td.InverseGamma):
        base = dist.base_dist
        frozen = st.invgamma(as_np(base.concentration), scale=as_np(base.rate))
    elif isinstance(dist, td.Normal):
        frozen = st.norm(as_np(dist.loc), as_np(dist.scale))
    elif isinstance(dist, td.Dirichlet):
        a = as_np(dist.concentration)
        frozen = st.beta(a, a.sum(-1, keepdims=True) - a)
    elif isinstance(dist, td.MultivariateNormal):
        frozen = st.norm(as_np(dist.loc), np.sqrt(np.diagonal(as_np(dist.covariance_matrix))))
    else:
        raise MethodError(f"No quantile function for a {type(dist).__name__} posterior.")
    like = dist.mean if not isinstance(dist, td.InverseGamma) else dist.base_dist.rate
    return [torch.as_tensor(frozen.ppf(q), dtype=like.dtype) for q in qs]


def discrete_interval(dist: DiscretePrior, level: float) -> tuple[float, float]:
    """Smallest and largest candidate of the highest-probability set with mass >= ``level``."""
    order = torch.argsort(dist.probs, descending=True)
    mass = torch.cumsum(dist.probs[order], 0)
    count = int(torch.searchsorted(mass, torch.tensor(level, dtype=mass.dtype))) + 1
    chosen = dist.values[order[: min(count, order.numel())]]
    return (float(chosen.min()), float(chosen.max()))


def credible_intervals(result, level: float) -> dict[str, tuple]:
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    out: dict[str, tuple] = {}
    problem = result.problem
    for base, term in problem.priors.items():
        post = result.posterior.get(term.key, result.posterior.get(base))
        if post is None:
            out[base] = (math.nan, math.nan)
            continue
        if isinstance(post, DiscretePrior):
            out[base] = discrete_interval(post, level)
            continue
        lo, hi = quantiles(post, [lo_q, hi_q])
        if term.derived is not None and term.key in result.posterior:
            out[term.key] = _pack(lo, hi)
            a, b = term.derived.inverse(lo), term.derived.inverse(hi)
            lo, hi = torch.minimum(a, b), torch.maximum(a, b)
        out[base] = _pack(lo, hi)
    # a parameter without a prior has a flat one: its Laplace interval is the Wald interval of the MAP
    flat = [name for name in result.params if name not in out]
    if flat:
        wald = result.conf_int(level)
        out.update({name: wald[name] for name in flat if name in wald})
    return out

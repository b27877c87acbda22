"""Posteriors of many groups: equal-tailed credible intervals, and the point mass of complete pooling."""

from __future__ import annotations

import math

import pandas as pd
import torch
import torch.distributions as td
from torch.distributions import constraints


class PointMass(td.Distribution):
    """All probability at ``value`` (a batch of values): the prior, and every posterior, when the learned
    prior has no spread (complete pooling)."""

    arg_constraints = {"value": constraints.real}
    support = constraints.real

    def __init__(self, value: torch.Tensor, validate_args=None):
        self.value = torch.as_tensor(value)
        super().__init__(self.value.shape, validate_args=False)

    @property
    def mean(self):
        return self.value

    @property
    def mode(self):
        return self.value

    @property
    def variance(self):
        return torch.zeros_like(self.value)

    def log_prob(self, x):
        return torch.where(torch.as_tensor(x) == self.value, 0.0, -math.inf)

    def cdf(self, x):
        return (torch.as_tensor(x) >= self.value).to(self.value.dtype)

    def icdf(self, q):
        return self.value.expand(torch.broadcast_shapes(self.value.shape, torch.as_tensor(q).shape)).clone()

    def sample(self, sample_shape=torch.Size()):
        return self.value.expand(torch.Size(sample_shape) + self.value.shape).clone()

    def __repr__(self):
        return f"PointMass(value: {self.value if self.value.dim() == 0 else self.value.shape})"


def equal_tailed(dist: td.Distribution, level: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper ``(1 -/+ level) / 2`` quantiles of a batch of posteriors (the single fit's quantiles)."""
    from ..inference.intervals import quantiles

    if isinstance(dist, PointMass):
        return dist.value.clone(), dist.value.clone()
    lo, hi = quantiles(dist, [(1 - level) / 2, (1 + level) / 2])
    return lo, hi


def credible_table(fit, level: float) -> pd.DataFrame:
    """Credible intervals of every group: exact posterior quantiles where the posterior is exact,
    else the normal (Laplace) interval from the posterior standard deviation."""
    from ..inference.intervals import normal_quantile

    est = fit.estimates
    columns = {}
    for name in fit.params.columns:
        post = est.posterior.get(name)
        if post is not None:
            lo, hi = equal_tailed(post, level)
            lower = torch.full((len(fit),), math.nan, dtype=lo.dtype)
            upper = lower.clone()
            ok = est.posterior_codes if est.posterior_codes is not None else torch.arange(len(fit))
            lower[ok], upper[ok] = lo.cpu(), hi.cpu()
            columns[(name, "lower")], columns[(name, "upper")] = lower.numpy(), upper.numpy()
        else:
            z = normal_quantile(level)
            columns[(name, "lower")] = (fit.params[name] - z * fit.se[name]).to_numpy()
            columns[(name, "upper")] = (fit.params[name] + z * fit.se[name]).to_numpy()
    return pd.DataFrame(columns, index=fit.labels)


def describe_distribution(dist) -> str:
    """``Beta(2.31, 17.4)``: a distribution's name and its scalar parameters to 3 significant digits."""
    values = []
    for name in getattr(dist, "arg_constraints", {}):
        v = getattr(dist, name, None)
        if isinstance(v, torch.Tensor) and v.dim() == 0:
            values.append(f"{float(v):.3g}")
    return f"{type(dist).__name__}({', '.join(values)})"


class Priors(dict):
    """``{parameter: distribution}``, shown with the distributions' parameters (torch's repr hides them)."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: {describe_distribution(v)}" for k, v in self.items()) + "}"

"""Compound (posterior predictive) distributions that torch.distributions lacks.

Each is the marginal of a conjugate pair, used as the exact posterior predictive of the next
observation:

* :class:`BetaBinomial`: :math:`x \\mid p \\sim \\text{Binomial}(N, p)`, :math:`p \\sim \\text{Beta}(a, b)`;
* :class:`BetaGeometric`: failures before the first success, :math:`p \\sim \\text{Beta}(a, b)`;
* :class:`DirichletMultinomial`: :math:`x \\mid p \\sim \\text{Multinomial}(N, p)`, :math:`p \\sim \\text{Dirichlet}(\\alpha)`;
* :class:`HalfStudentT`: the absolute value of a Student t (half-normal with a prior on its variance);
* :func:`lomax`: an exponential with a Gamma(a, b) rate, i.e. Pareto type II with shape a and scale b.
"""

from __future__ import annotations

import torch
import torch.distributions as td
from torch.distributions import constraints
from torch.distributions.utils import broadcast_all


def _lbeta(a, b):
    return torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b)


class BetaBinomial(td.Distribution):
    """:math:`\\log p(k) = \\log\\binom{N}{k} + \\log B(k + a, N - k + b) - \\log B(a, b)`, :math:`k = 0..N`."""

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    has_enumerate_support = True

    def __init__(self, total_count, concentration1, concentration0, validate_args=None):
        self.total_count, self.concentration1, self.concentration0 = broadcast_all(
            total_count, concentration1, concentration0
        )
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    def log_prob(self, value):
        n, a, b = self.total_count, self.concentration1, self.concentration0
        log_choose = torch.lgamma(n + 1) - torch.lgamma(value + 1) - torch.lgamma(n - value + 1)
        return log_choose + _lbeta(value + a, n - value + b) - _lbeta(a, b)

    @property
    def mean(self):
        return self.total_count * self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def variance(self):
        n, a, b = self.total_count, self.concentration1, self.concentration0
        s = a + b
        return n * a * b * (s + n) / (s * s * (s + 1))

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            p = td.Beta(self.concentration1, self.concentration0).sample(sample_shape)
            return td.Binomial(self.total_count.expand_as(p), probs=p).sample()

    def enumerate_support(self, expand=True):
        n = int(self.total_count.max())
        values = torch.arange(n + 1, dtype=self.concentration1.dtype)
        return values.reshape((-1,) + (1,) * len(self.batch_shape))


class BetaGeometric(td.Distribution):
    """Failures before the first success with success probability :math:`p \\sim \\text{Beta}(a, b)`:
    :math:`\\log p(k) = \\log B(a + 1, b + k) - \\log B(a, b)`, :math:`k = 0, 1, \\ldots`."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.nonnegative_integer

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    def log_prob(self, value):
        a, b = self.concentration1, self.concentration0
        return _lbeta(a + 1, b + value) - _lbeta(a, b)

    @property
    def mean(self):
        a, b = self.concentration1, self.concentration0
        return torch.where(a > 1, b / (a - 1), torch.full_like(a, torch.inf))

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            p = td.Beta(self.concentration1, self.concentration0).sample(sample_shape)
            return td.Geometric(probs=p.clamp_min(torch.finfo(p.dtype).tiny)).sample()


class DirichletMultinomial(td.Distribution):
    """:math:`\\log p(x) = \\log N! - \\sum_k \\log x_k! + \\log\\Gamma(\\alpha_0) - \\log\\Gamma(N + \\alpha_0)
    + \\sum_k [\\log\\Gamma(x_k + \\alpha_k) - \\log\\Gamma(\\alpha_k)]`."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}

    def __init__(self, total_count, concentration, validate_args=None):
        self.concentration = torch.as_tensor(concentration)
        self.total_count = torch.as_tensor(total_count, dtype=self.concentration.dtype)
        super().__init__(self.concentration.shape[:-1], self.concentration.shape[-1:], validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(int(self.total_count))

    def log_prob(self, value):
        a = self.concentration
        n = self.total_count
        a0 = a.sum(-1)
        return (
            torch.lgamma(n + 1)
            - torch.lgamma(value + 1).sum(-1)
            + torch.lgamma(a0)
            - torch.lgamma(n + a0)
            + (torch.lgamma(value + a) - torch.lgamma(a)).sum(-1)
        )

    @property
    def mean(self):
        a = self.concentration
        return self.total_count * a / a.sum(-1, keepdim=True)

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            p = td.Dirichlet(self.concentration).sample(sample_shape)
            return td.Multinomial(int(self.total_count), probs=p).sample()


def lomax(concentration: torch.Tensor, rate: torch.Tensor) -> td.TransformedDistribution:
    """Predictive of an exponential whose rate has a Gamma(concentration, rate) posterior:
    :math:`p(x) = a b^a / (b + x)^{a + 1}`, a Pareto(scale=b, alpha=a) shifted left by b."""
    return td.TransformedDistribution(
        td.Pareto(rate, concentration, validate_args=False),
        [td.AffineTransform(-rate, 1.0)],
        validate_args=False,
    )


class HalfStudentT(td.Distribution):
    """:math:`|T|` for :math:`T \\sim t_\\nu(0, s)`: :math:`\\log p(x) = \\log 2 + \\log t_\\nu(x; 0, s)`, :math:`x \\ge 0`
    (the posterior predictive of a half-normal with a conjugate prior on its variance)."""

    arg_constraints = {"df": constraints.positive, "scale": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, df, scale, validate_args=None):
        self.df, self.scale = broadcast_all(df, scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    def _t(self):
        return td.StudentT(self.df, torch.zeros_like(self.scale), self.scale, validate_args=False)

    def log_prob(self, value):
        lp = self._t().log_prob(value) + torch.log(torch.tensor(2.0, dtype=self.scale.dtype))
        return torch.where(value >= 0, lp, torch.full_like(lp, -torch.inf))

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            return self._t().sample(sample_shape).abs()

"""The result of empirical Bayes: the learned prior, and every group's exact posterior under it."""

from __future__ import annotations

import math
from functools import cached_property

import pandas as pd

from ..errors import MethodError
from ..inference.intervals import check_level, normal_quantile
from .empirical_bayes import warn_at_limit
from .posterior import Priors
from .result import GroupedFit, quietly


class EmpiricalBayesFit(GroupedFit):
    """A :class:`GroupedFit` whose prior was learned from the groups (``prior="estimate"``).

    Attributes
    ----------
    prior : dict
        ``{parameter: distribution}``: the prior that maximises the exact marginal likelihood (a
        point mass at the pooled value when the groups show no spread beyond sampling noise).
    hyperparameters : DataFrame
        The prior's parameters (and its mean) with standard errors and Wald intervals.
    params, se : DataFrame
        Each group's posterior mode and posterior standard deviation.
    posterior : dict
        ``{parameter: distribution}`` batched over the groups: each group's exact posterior.
    raw : Series
        Each group's maximum-likelihood estimate (what the prior shrinks).
    """

    def __init__(self, problem, estimates, *, marginal, hyper, prior, exposure=None):
        notes = [f"prior learned by maximising the exact marginal likelihood ({_pair_name(marginal)})"]
        super().__init__(problem, estimates, notes=notes)
        self.marginal = marginal
        self.hyper = hyper
        self.prior = Priors({marginal.parameter: prior})
        self.exposure = exposure
        message = warn_at_limit(hyper)
        if message:
            self.warnings.append(message)

    @property
    def method(self) -> str:
        return f"empirical Bayes ({_pair_name(self.marginal)} marginal)"

    @property
    def marginal_loglik(self) -> float:
        """:math:`\\sum_g \\log m_g(\\hat\\eta)`: the exact log marginal likelihood at the learned prior."""
        return self.hyper.marginal_loglik

    @cached_property
    def hyperparameters(self) -> pd.DataFrame:
        """The learned prior's parameters and mean: estimate, standard error, 95% Wald interval."""
        z = normal_quantile(0.95)
        names = list(self.hyper.names) + (["mean"] if "mean" not in self.hyper.names else [])
        rows = {}
        for n in names:
            est, se = self.hyper.values.get(n, math.nan), self.hyper.se.get(n, math.nan)
            rows[n] = {"estimate": est, "se": se, "lower": est - z * se, "upper": est + z * se}
        return pd.DataFrame.from_dict(rows, orient="index")

    @property
    def prior_se(self) -> dict[str, float]:
        """Standard errors of the prior's parameters (NaN where undefined, e.g. at the no-spread limit)."""
        return {n: self.hyper.se.get(n, math.nan) for n in self.hyper.names}

    @property
    def posterior(self) -> dict:
        """Each group's exact posterior, as one distribution batched over the groups (in label order)."""
        return dict(self.estimates.posterior)

    @property
    def raw(self) -> pd.Series:
        """Each group's maximum-likelihood estimate (proportion, rate per unit exposure, or mean)."""
        return self._series(self.marginal.raw(), "raw")

    @property
    def size(self) -> pd.Series:
        """Each group's amount of information: trials, total exposure, or total weight."""
        return self._series(self.marginal.size(), "size")

    def intervals(self, level: float = 0.95) -> pd.DataFrame:
        return self.credible_interval(level)

    def __getitem__(self, label):
        """The group's MAP fit with the learned prior: ``mm.fit`` on its rows with ``prior=eb.prior``
        (and, for a normal with an estimated within-group scale, ``fixed={'scale': ...}``)."""
        code = self.problem.index.position(label)
        if self.exposure is not None:
            raise MethodError(
                "A single fit has no exposures, so eb[label] is not available for Poisson counts with exposure=; read "
                "the group's posterior in eb.posterior, eb.params and eb.credible_interval()."
            )
        if self.hyper.at_limit:
            raise MethodError(
                f"The learned prior is a point mass ({self.hyper.reason}), so every group's estimate is the pooled "
                "value; there is no single fit with that prior. Read eb.params and eb.hyperparameters."
            )
        from ..core.estimation import estimate
        from ..results import FitResult

        problem = self.problem.group(code)
        single, _ = quietly(estimate, problem, method="closed-form")
        return FitResult(problem, single)

    def to_wide(self, level: float = 0.95) -> pd.DataFrame:
        out = super().to_wide(level)
        out.insert(0, "raw", self.raw)
        out.insert(1, "size", self.size)
        return out

    def plot(self, ax=None, level: float | None = None, path: str | None = None):
        """Raw estimates and their shrunk (posterior mode) values against group size, with the prior mean;
        ``level`` adds credible intervals; ``path`` saves the figure."""
        if level is not None:
            check_level(level)
        from .plots import shrinkage

        return shrinkage(self, ax=ax, level=level, path=path)

    def __repr__(self) -> str:
        from .posterior import describe_distribution

        prior = ", ".join(f"{k} ~ {describe_distribution(v)}" for k, v in self.prior.items())
        return f"<EmpiricalBayesFit {self.family_name}: {len(self)} groups, prior {prior}>"


def _pair_name(marginal) -> str:
    return {"BetaBinomialMarginal": "beta-binomial", "GammaPoissonMarginal": "negative-binomial",
            "NormalNormalMarginal": "normal-normal"}[type(marginal).__name__]

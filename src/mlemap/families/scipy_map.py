"""The fitted univariate families as frozen ``scipy.stats`` distributions (CDFs, quantiles, sampling).

One table translates torch.distributions' parameter names to scipy's conventions (a gamma's rate
is scipy's ``1/scale``; torch's geometric counts failures, scipy's ``geom`` counts trials, so it is
shifted by one; torch's negative binomial ``probs`` is scipy's ``1 - p``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from scipy import stats

_TABLE: dict[str, Callable[[Mapping[str, float]], Any]] = {
    "bernoulli": lambda p: stats.bernoulli(p["probs"]),
    "binomial": lambda p: stats.binom(int(p["total_count"]), p["probs"]),
    "geometric": lambda p: stats.geom(p["probs"], loc=-1),
    "poisson": lambda p: stats.poisson(p["rate"]),
    "negative_binomial": lambda p: stats.nbinom(p["total_count"], 1 - p["probs"]),
    "normal": lambda p: stats.norm(p["loc"], p["scale"]),
    "lognormal": lambda p: stats.lognorm(p["scale"], scale=math.exp(p["loc"])),
    "laplace": lambda p: stats.laplace(p["loc"], p["scale"]),
    "studentt": lambda p: stats.t(p["df"], p["loc"], p["scale"]),
    "cauchy": lambda p: stats.cauchy(p["loc"], p["scale"]),
    "exponential": lambda p: stats.expon(scale=1 / p["rate"]),
    "gamma": lambda p: stats.gamma(p["concentration"], scale=1 / p["rate"]),
    "weibull": lambda p: stats.weibull_min(p["concentration"], scale=p["scale"]),
    "beta": lambda p: stats.beta(p["concentration1"], p["concentration0"]),
    "uniform": lambda p: stats.uniform(p["low"], p["high"] - p["low"]),
    "pareto": lambda p: stats.pareto(p["alpha"], scale=p["scale"]),
    "half_normal": lambda p: stats.halfnorm(scale=p["scale"]),
    "gumbel": lambda p: stats.gumbel_r(p["loc"], p["scale"]),
    "von_mises": lambda p: stats.vonmises(p["concentration"], loc=p["loc"]),
    "logistic": lambda p: stats.logistic(p["loc"], p["scale"]),
    "loglogistic": lambda p: stats.fisk(p["concentration"], scale=p["scale"]),
}


def has_scipy(family_name: str) -> bool:
    return family_name in _TABLE


def to_scipy(family_name: str, params: Mapping[str, Any]):
    """A frozen scipy distribution equal to the family with ``params`` (scalars), or ``None``."""
    make = _TABLE.get(family_name)
    if make is None:
        return None
    return make({k: float(v) for k, v in params.items()})

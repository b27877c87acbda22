"""Probability families: name -> parameters, constraints, log-density, statistics, starting values."""

from .base import DataContext, Derived, Family
from .bounded import Beta, Uniform, VonMises
from .categorical import Categorical, Dirichlet, Multinomial
from .counts import Bernoulli, Binomial, Geometric, NegativeBinomial, Poisson
from .custom import LogDensity, TorchFamily
from .location_scale import Cauchy, Gumbel, HalfNormal, Laplace, LogNormal, Normal, StudentT
from .logistic import LogLogistic, Logistic
from .multivariate import MultivariateNormal
from .positive import Exponential, Gamma, Pareto, Weibull
from .registry import (
    FAMILIES,
    continuous_family_names,
    discrete_family_names,
    family_names,
    resolve_family,
)
from .statistics import SufficientStatistics

__all__ = [
    "Family",
    "Derived",
    "DataContext",
    "SufficientStatistics",
    "FAMILIES",
    "family_names",
    "continuous_family_names",
    "discrete_family_names",
    "resolve_family",
    "LogDensity",
    "TorchFamily",
    "Bernoulli",
    "Binomial",
    "Geometric",
    "Poisson",
    "NegativeBinomial",
    "Categorical",
    "Multinomial",
    "Normal",
    "LogNormal",
    "Laplace",
    "StudentT",
    "Cauchy",
    "Exponential",
    "Gamma",
    "Weibull",
    "Beta",
    "Uniform",
    "Pareto",
    "HalfNormal",
    "Gumbel",
    "VonMises",
    "MultivariateNormal",
    "Dirichlet",
    "Logistic",
    "LogLogistic",
]

"""Priors on parameters: any torch distribution, a discrete prior over candidate values."""

from .discrete import DiscretePrior
from .penalties import Penalty, elastic_net, lasso, ridge
from .resolve import PriorTerm, resolve_priors
from .support import covers

__all__ = ["DiscretePrior", "Penalty", "ridge", "lasso", "elastic_net", "PriorTerm", "resolve_priors", "covers"]

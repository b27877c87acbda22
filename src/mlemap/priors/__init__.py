"""Priors on parameters: any torch distribution, a discrete prior over candidate values."""

from .discrete import DiscretePrior
from .resolve import PriorTerm, resolve_priors
from .support import covers

__all__ = ["DiscretePrior", "PriorTerm", "resolve_priors", "covers"]

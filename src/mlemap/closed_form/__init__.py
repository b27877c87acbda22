"""Closed-form estimators: a registry keyed by (family, prior) types, MLEs and conjugate pairs."""

from . import conjugate, mle  # noqa: F401  (registers the entries)
from .conjugate import canonical_prior
from .registry import Solution, find_closed_form, register_closed_form, registered

__all__ = ["Solution", "find_closed_form", "register_closed_form", "registered", "canonical_prior"]

"""Distributions that torch lacks, used as exact posterior predictives."""

from .compound import (
    BetaBinomial,
    BetaGeometric,
    DirichletMultinomial,
    HalfStudentT,
    lomax,
)

__all__ = ["BetaBinomial", "BetaGeometric", "DirichletMultinomial", "HalfStudentT", "lomax"]

"""Survival analysis: accelerated failure time regression (:mod:`.regression`, :mod:`.aft`) and the
nonparametric estimates of a censored distribution (:mod:`.nonparametric`)."""

from .regression import SurvivalRegression

__all__ = ["SurvivalRegression"]

"""Censored and truncated observations: the data type and the likelihood (see :mod:`.data`, :mod:`.family`)."""

from .data import CensoredData, as_censored, censored, is_censored
from .family import CensoredFamily, censoring_family, check_truncation

__all__ = ["CensoredData", "CensoredFamily", "censored", "as_censored", "is_censored", "censoring_family",
           "check_truncation"]

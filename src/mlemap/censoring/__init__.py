"""Censored and truncated observations: the data type (:mod:`.data`, light: NumPy only) and the
likelihood (:mod:`.family`, loaded on first use)."""

from .data import CensoredData, as_censored, censored, is_censored

__all__ = ["CensoredData", "CensoredFamily", "censored", "as_censored", "is_censored", "censoring_family",
           "check_truncation"]


def __getattr__(name: str):
    if name in ("CensoredFamily", "censoring_family", "check_truncation"):
        from . import family

        return getattr(family, name)
    raise AttributeError(f"module 'mlemap.censoring' has no attribute {name!r}")

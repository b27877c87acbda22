"""Which likelihood a fit of censored or truncated data uses, and which families accept such data.

:func:`censoring_family` wraps a family for :func:`mlemap.fit`: the exponential with exact and
right-censored rows gets its closed form (:mod:`.closed_form`), every other family with a cdf the
general censored likelihood (:mod:`.family`); plain data go to the family itself.
"""

from __future__ import annotations

from ..errors import FamilyError
from ..families.base import Family
from .closed_form import CensoredExponential, exponential_applies
from .data import as_censored
from .family import CensoredFamily, check_truncation


def censoring_family(family: Family, data, truncation):
    """``(family, data)`` for :func:`mlemap.fit`: the family wrapped for censored or truncated data.

    Plain data without truncation, and censored data whose every value is exact, go to the family
    itself (the same fit, bit for bit). A family without a cdf, or one whose support bound is estimated
    from the data, is refused with the list of families that accept censored data.
    """
    cd = as_censored(data)
    if cd is None and truncation is None:
        return family, data
    if cd is not None and cd.all_exact and truncation is None:
        return family, cd.low
    if isinstance(family, CensoredFamily):
        return family, data
    _check_family(family, cd is not None)
    if exponential_applies(family, cd, check_truncation(truncation)):
        return CensoredExponential(family, truncation), data
    return CensoredFamily(family, truncation), data


def accepts_censoring(name: str) -> bool:
    """Whether the named family can be fitted to censored or truncated data."""
    from ..families.registry import resolve_family

    family = resolve_family(name)
    return family.event_ndim == 0 and family.has_cdf and not family.bounded_by_data


def _check_family(family: Family, censored: bool) -> None:
    what = "Censored data" if censored else "A truncated fit"
    if family.bounded_by_data:
        bound = next(iter(family.bounded_by_data))
        raise FamilyError(
            f"{what} cannot be fitted with the '{family.name}' family: its '{bound}' is estimated as a sample extreme, "
            "which censoring and truncation do not determine. Choose another family."
        )
    if family.event_ndim != 0 or not family.has_cdf:
        from ..families.registry import family_names

        names = [name for name in family_names() if accepts_censoring(name)]
        raise FamilyError(
            f"{what} need{'s' if not censored else ''} a family with a cumulative distribution function, and "
            f"'{family.name}' has none. Families that accept censored data: {', '.join(names)}."
        )

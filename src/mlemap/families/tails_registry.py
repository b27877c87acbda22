"""The registry of log cdf and log survival functions, keyed by family type.

:func:`register_tails` records ``fn(x, params) -> (log_cdf, log_sf)`` for a family type and its support
edges; :func:`tails_of` finds the entry of a family (the most specific registered type in its method
resolution order wins, as in ``torch.distributions.kl``). The functions themselves are written in
:mod:`mlemap.families.tails`, which registers them when the package is imported; this module holds
only the table, so that :class:`~mlemap.families.base.Family` can look entries up without importing
the families that fill it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .base import Family


@dataclass(frozen=True)
class Tails:
    """``log_cdf(x, params)``, ``log_sf(x, params)`` and the support edges ``support(params)``."""

    log_cdf: Callable
    log_sf: Callable
    support: Callable


_REGISTRY: dict[type, Tails] = {}


def register_tails(family: type[Family], *, lower=-math.inf, upper=math.inf):
    """Register ``fn(x, params) -> (log_cdf, log_sf)`` for ``family``; ``lower``/``upper`` are the support
    edges (numbers, or functions of the parameters)."""

    def support(params):
        lo = lower(params) if callable(lower) else lower
        hi = upper(params) if callable(upper) else upper
        return lo, hi

    def decorate(fn):
        _REGISTRY[family] = Tails(lambda x, p: fn(x, p)[0], lambda x, p: fn(x, p)[1], support)
        _lookup.cache_clear()
        return fn

    return decorate


@lru_cache(maxsize=None)
def _lookup(family_type: type) -> Tails | None:
    for cls in family_type.__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls]
    return None


def tails_of(family: Family) -> Tails | None:
    """The registered tails of ``family`` (``None`` for a family without a cdf)."""
    return _lookup(type(family))

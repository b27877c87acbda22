"""Does a prior's support cover a parameter's space?

A prior must put positive density on the whole parameter space; a ``Beta`` prior on a normal
``scale`` (support (0, 1) against (0, inf)) is almost always a mistake and is refused. Coverage is
decided on the constraint objects (interval end points, simplex, positive-definite cone); for
constraint types it does not know, a set of interior points of the parameter space is tested.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import biject_to, constraints

from ..families.transforms import is_positive_definite, is_simplex


def _strip(c):
    while isinstance(c, constraints.independent):
        c = c.base_constraint
    return c


def interval_of(c) -> tuple[float, float] | None:
    """``(lower, upper)`` of a real interval-type constraint, ``None`` for other kinds."""
    c = _strip(c)
    if c is constraints.real or isinstance(c, type(constraints.real)):
        return (-math.inf, math.inf)
    if is_simplex(c):
        return None
    lo = getattr(c, "lower_bound", None)
    hi = getattr(c, "upper_bound", None)
    if lo is None and hi is None:
        return None
    lower = -math.inf if lo is None else float(torch.as_tensor(lo).max())
    upper = math.inf if hi is None else float(torch.as_tensor(hi).min())
    return (lower, upper)


def describe(c) -> str:
    c = _strip(c)
    iv = interval_of(c)
    if iv is not None:
        lo, hi = iv
        if lo == -math.inf and hi == math.inf:
            return "the real line"
        if hi == math.inf:
            return f"({lo:g}, inf)"
        if lo == -math.inf:
            return f"(-inf, {hi:g})"
        return f"({lo:g}, {hi:g})"
    if is_simplex(c):
        return "the simplex"
    if is_positive_definite(c):
        return "positive-definite matrices"
    return repr(c)


def covers(prior_support, parameter_constraint) -> bool:
    """True when every point of ``parameter_constraint`` lies in ``prior_support``."""
    ps, pc = _strip(prior_support), _strip(parameter_constraint)
    if getattr(ps, "is_discrete", False):
        return False
    prior_iv, param_iv = interval_of(ps), interval_of(pc)
    if prior_iv is not None and param_iv is not None:
        return prior_iv[0] <= param_iv[0] and prior_iv[1] >= param_iv[1]
    if prior_iv is not None and is_simplex(pc):
        return prior_iv[0] <= 0.0 and prior_iv[1] >= 1.0
    if is_simplex(ps):
        return is_simplex(pc)
    if is_positive_definite(pc):
        return is_positive_definite(ps) or (prior_iv is not None and prior_iv == (-math.inf, math.inf))
    return _covers_by_points(ps, pc)


def _covers_by_points(ps, pc) -> bool:
    try:
        points = biject_to(pc)(torch.linspace(-8.0, 8.0, 33, dtype=torch.float64))
        return bool(ps.check(points).all())
    except (NotImplementedError, RuntimeError, TypeError, ValueError):
        return False

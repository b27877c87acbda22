"""The response of a survival regression: times with events, or censoring intervals, as AFT rows.

``fit(X, time, event=status)`` or ``fit(X, mm.censored(left=..., right=...))`` (a
``scipy.stats.CensoredData`` works too, with rows in scipy's order). For the log-time families
(weibull, exponential, rayleigh, lognormal, loglogistic) times must be positive: a censoring bound
of 0 is an open end (a value right-censored at 0 carries no information, an interval from 0 is
left-censored), and every row becomes ``y = log t`` with the Jacobian :math:`-\\log t` of exact rows
added to the log-likelihood, so that it is survreg's, on the time scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..censoring.data import EXACT, INTERVAL, LEFT, RIGHT, CensoredData, as_censored
from ..errors import DataError, ShapeError, SupportError

UNINFORMATIVE = 4


@dataclass
class SurvivalRows:
    """``y1``/``y2`` (log-)time bounds, ``kind`` per row, and the Jacobian of exact rows."""

    y1: np.ndarray
    y2: np.ndarray
    kind: np.ndarray
    jacobian: np.ndarray
    data: CensoredData


def survival_rows(y, event, *, n: int, log_time: bool, family: str, owner: str) -> SurvivalRows:
    cd = as_censored(y)
    if cd is None:
        cd = CensoredData.from_event(y, event)
    elif event is not None:
        raise DataError(
            f"{owner}.fit got censored data and an 'event' argument; censored data already say which values are "
            "censored, so leave 'event' out."
        )
    if len(cd) != n:
        raise ShapeError(f"{owner}.fit needs one survival time per row of X ({n} rows); got {len(cd)}.")
    low, high = cd.low.copy(), cd.high.copy()
    kind = cd.kinds.astype(np.int8)
    if log_time:
        _check_positive(low, high, kind, family, owner)
        kind = np.where((kind == RIGHT) & (low <= 0), UNINFORMATIVE, kind).astype(np.int8)
        kind = np.where((kind == INTERVAL) & (low <= 0), LEFT, kind).astype(np.int8)
        with np.errstate(divide="ignore"):
            low, high = np.log(np.where(low > 0, low, 1.0)), np.log(np.where(np.isfinite(high), high, 1.0))
    y1 = np.where(kind == LEFT, high, low)
    y2 = np.where(kind == INTERVAL, high, y1)
    y1 = np.where(np.isfinite(y1), y1, 0.0)
    y2 = np.where(np.isfinite(y2), y2, 0.0)
    jacobian = np.where(kind == EXACT, -y1, 0.0) if log_time else np.zeros(n)
    if not ((kind != UNINFORMATIVE).any()):
        raise DataError(f"Every time given to {owner} is censored at 0, which carries no information; nothing can be fitted.")
    return SurvivalRows(np.ascontiguousarray(y1), np.ascontiguousarray(y2), kind, jacobian, cd)


def _check_positive(low, high, kind, family: str, owner: str) -> None:
    bad = ((kind == EXACT) & (low <= 0)) | (np.isfinite(low) & (low < 0)) | ((kind == LEFT) & (high <= 0))
    bad |= (kind == INTERVAL) & (high <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = low[i] if np.isfinite(low[i]) and (low[i] <= 0) else high[i]
        raise SupportError(
            f"{owner} with the '{family}' family models log(time), so times must be positive; row {i} holds {value:g} "
            f"({int(bad.sum())} such row(s)). Use family='normal' or 'logistic' for responses that can be 0 or negative."
        )

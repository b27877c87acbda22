"""Censored observations: values known exactly, or only to lie in an interval.

Every observation is stored as a pair ``(low, high)``:

==============  ==============================  =====================================================
kind            pair                            meaning (continuous families)
==============  ==============================  =====================================================
exact           ``low == high``                 :math:`X = x`
right-censored  ``(t, +inf)``                   :math:`X > t` (still running at the end of the study)
left-censored   ``(-inf, t)``                   :math:`X \\le t` (below a detection limit)
interval        ``(a, b)``, ``a < b``           :math:`a < X \\le b`
==============  ==============================  =====================================================

For the count families the bounds are whole numbers and inclusive: right-censored at ``k`` means
"at least ``k``" (:math:`X \\ge k`), left-censored "at most ``k``", an interval ``[a, b]``.

:func:`censored` builds them in the two ways users know:

* ``censored(time, event=status)``, as ``survival::Surv(time, event)``: ``event`` 1 (or True) means
  the value was observed, 0 that it is censored (to the right by default; ``side="left"`` for
  detection limits);
* ``censored(left=low, right=high)``, as ``fitdistrplus::fitdistcens``: a missing (NaN) ``left``
  is a left-censored value, a missing ``right`` a right-censored one, ``left == right`` an exact one,
  anything else an interval.

A ``scipy.stats.CensoredData`` is accepted as it is (:meth:`CensoredData.from_scipy`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError, ShapeError

EXACT, RIGHT, LEFT, INTERVAL = 0, 1, 2, 3
KIND_NAMES = {EXACT: "exact", RIGHT: "right-censored", LEFT: "left-censored", INTERVAL: "interval-censored"}


class CensoredData:
    """Observations as ``(low, high)`` pairs (see the module docstring); build them with :func:`censored`."""

    def __init__(self, low: np.ndarray, high: np.ndarray):
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        _check_pairs(self.low, self.high)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_event(cls, time, event=None, side: str = "right") -> "CensoredData":
        """Values ``time``, observed where ``event`` is 1 and censored on ``side`` where it is 0."""
        if side not in ("right", "left"):
            raise DataError(f"The 'side' argument of censored() must be 'right' or 'left'. Got {side!r} instead.")
        t = _column(time, "time")
        bad = ~np.isfinite(t)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"The 'time' argument must hold finite numbers; row {i} is {t[i]}. Drop the row, or give the "
                "value's bounds with censored(left=..., right=...)."
            )
        if event is None:
            return cls(t, t.copy())
        e = _events(event, t.shape[0])
        low, high = t.copy(), t.copy()
        censored_rows = e == 0
        if side == "right":
            high[censored_rows] = np.inf
        else:
            low[censored_rows] = -np.inf
        return cls(low, high)

    @classmethod
    def from_bounds(cls, left, right) -> "CensoredData":
        """fitdistrplus' convention: NaN ``left`` = left-censored, NaN ``right`` = right-censored."""
        lo, hi = _column(left, "left"), _column(right, "right")
        if lo.shape != hi.shape:
            raise ShapeError(
                f"The 'left' and 'right' arguments of censored() must have one value per observation each; got "
                f"{lo.shape[0]} and {hi.shape[0]} values."
            )
        both = np.isnan(lo) & np.isnan(hi)
        if both.any():
            i = int(np.flatnonzero(both)[0])
            raise DataError(
                f"Row {i} has neither a left nor a right bound (both missing), so it says nothing about the value; "
                f"drop it ({int(both.sum())} such row(s))."
            )
        return cls(np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi))

    @classmethod
    def from_scipy(cls, data) -> "CensoredData":
        """A ``scipy.stats.CensoredData``, rows in scipy's order: exact, left-, right-, then interval-censored."""
        exact = np.asarray(data._uncensored, dtype=np.float64)
        left = np.asarray(data._left, dtype=np.float64)
        right = np.asarray(data._right, dtype=np.float64)
        interval = np.asarray(data._interval, dtype=np.float64).reshape(-1, 2)
        low = np.concatenate([exact, np.full(left.shape, -np.inf), right, interval[:, 0]])
        high = np.concatenate([exact, left, np.full(right.shape, np.inf), interval[:, 1]])
        return cls(low, high)

    # ------------------------------------------------------------------ facts
    def __len__(self) -> int:
        return int(self.low.shape[0])

    @property
    def kinds(self) -> np.ndarray:
        """Per-row kind code (``EXACT``, ``RIGHT``, ``LEFT``, ``INTERVAL``)."""
        return kinds_of(self.low, self.high)

    def counts(self) -> dict[str, int]:
        """Number of rows of each kind, by name."""
        k = self.kinds
        return {name: int((k == code).sum()) for code, name in KIND_NAMES.items()}

    @property
    def all_exact(self) -> bool:
        return bool(np.all(self.low == self.high))

    def __repr__(self) -> str:
        shown = ", ".join(f"{v} {k}" for k, v in self.counts().items() if v)
        return f"<CensoredData {len(self)} observations: {shown}>"


def kinds_of(low, high) -> np.ndarray:
    """Kind codes of ``(low, high)`` pairs (NumPy arrays or tensors converted to arrays)."""
    low, high = np.asarray(low), np.asarray(high)
    out = np.full(low.shape, INTERVAL, dtype=np.int8)
    out[np.isinf(low) & (low < 0)] = LEFT
    out[np.isinf(high) & (high > 0)] = RIGHT
    out[low == high] = EXACT
    return out


def describe_counts(low, high) -> str:
    """``"700 exact, 300 right-censored"`` for a summary."""
    k = kinds_of(low, high)
    parts = [f"{int((k == code).sum()):,} {name}" for code, name in KIND_NAMES.items() if (k == code).any()]
    return ", ".join(parts)


def censored(time: Any = None, event: Any = None, *, left: Any = None, right: Any = None,
             side: str = "right") -> CensoredData:
    """Censored observations for :func:`mlemap.fit`, :func:`mlemap.compare` and the survival plots.

    ``censored(time, event=status)``: ``event`` 1/True = observed, 0/False = censored (on ``side``,
    right by default); without ``event`` every value is observed. ``censored(left=low, right=high)``:
    fitdistrplus' convention (NaN ``left`` = left-censored, NaN ``right`` = right-censored,
    ``left == right`` = exact, else interval). A ``scipy.stats.CensoredData`` is converted as it is.
    See :mod:`mlemap.censoring.data` for the meaning of each kind.
    """
    if _is_scipy_censored(time):
        if event is not None or left is not None or right is not None:
            raise DataError("Pass a scipy.stats.CensoredData alone: it already says which values are censored.")
        return CensoredData.from_scipy(time)
    if isinstance(time, CensoredData):
        return time
    if time is not None:
        if left is not None or right is not None:
            raise DataError(
                "Give either time (with event) or left and right bounds to censored(), not both: "
                "censored(time, event=status) or censored(left=low, right=high)."
            )
        return CensoredData.from_event(time, event, side)
    if left is None or right is None:
        raise DataError(
            "censored() needs time (with event=...) or both left= and right= bounds; for example "
            "censored(df['time'], event=df['status']) or censored(left=df['low'], right=df['high'])."
        )
    if event is not None:
        raise DataError("The 'event' argument goes with time, not with left/right bounds (the bounds say it all).")
    return CensoredData.from_bounds(left, right)


def as_censored(data) -> CensoredData | None:
    """``data`` as :class:`CensoredData` when it is censored data of either kind, else ``None``."""
    if isinstance(data, CensoredData):
        return data
    if _is_scipy_censored(data):
        return CensoredData.from_scipy(data)
    return None


def is_censored(data) -> bool:
    return isinstance(data, CensoredData) or _is_scipy_censored(data)


def _is_scipy_censored(data) -> bool:
    cls = type(data)
    return cls.__name__ == "CensoredData" and cls.__module__.startswith("scipy.stats")


# ---------------------------------------------------------------------- checks
def _column(values, name: str) -> np.ndarray:
    if values is None:
        raise DataError(f"The '{name}' argument of censored() is missing.")
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    to_numpy = getattr(values, "to_numpy", None)
    if callable(to_numpy):
        try:
            values = to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            values = to_numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"The '{name}' argument of censored() must hold numbers; got {type(values).__name__}.") from None
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ShapeError(f"The '{name}' argument of censored() must be 1-D (one value per observation); got shape {arr.shape}.")
    if arr.shape[0] == 0:
        raise DataError(f"The '{name}' argument of censored() is empty.")
    return arr


def _events(event, n: int) -> np.ndarray:
    raw = event
    if hasattr(raw, "detach"):
        raw = raw.detach().cpu().numpy()
    to_numpy = getattr(raw, "to_numpy", None)
    if callable(to_numpy):
        raw = to_numpy()
    arr = np.asarray(raw)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ShapeError(f"The 'event' argument must hold one value per observation ({n}); got shape {arr.shape}.")
    if arr.dtype == bool:
        return arr.astype(np.int8)
    try:
        values = arr.astype(np.float64)
    except (TypeError, ValueError):
        values = None
    ok = values is not None
    if ok:
        bad = ~((values == 0) | (values == 1))
        ok = not bad.any()
    if not ok:
        rows = np.arange(n) if values is None else np.flatnonzero(bad)
        i = int(rows[0])
        value = arr[i].item() if hasattr(arr[i], "item") else arr[i]
        raise DataError(
            f"The 'event' argument must be 1 (observed) or 0 (censored) in every row; row {i} holds {value!r}. "
            "Recode it, for example event = (status == 2) for survival's 1/2 coding."
        )
    return values.astype(np.int8)


def _check_pairs(low: np.ndarray, high: np.ndarray) -> None:
    if low.shape != high.shape or low.ndim != 1:
        raise ShapeError(f"Censored data need one low and one high bound per row; got shapes {low.shape} and {high.shape}.")
    if np.isnan(low).any() or np.isnan(high).any():
        i = int(np.flatnonzero(np.isnan(low) | np.isnan(high))[0])
        raise DataError(f"Row {i} of the censored data has a NaN bound; an open end is -inf (low) or +inf (high).")
    wrong = low > high
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise DataError(
            f"Row {i} has its left bound {low[i]:g} above its right bound {high[i]:g} ({int(wrong.sum())} such "
            "row(s)); the value must lie between them. Swap the columns or fix the row."
        )
    for name, bound, sign in (("left", low, 1), ("right", high, -1)):
        bad = np.isinf(bound) & (np.sign(bound) == sign)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"Row {i} has a {name} bound of {bound[i]}, which no value can reach; fix the row.")

"""``mm.regress("Surv(time, status) ~ x1 + x2", data=df, family="weibull")``: the survival response.

``Surv(time)`` (every time observed), ``Surv(time, event)`` (survival's conventions: the event is 1/0
or True/False; a column holding only 1 and 2 is read as survival's 1 = censored, 2 = event),
``Surv(time, event, type='left')`` (left-censored where the event is 0) and
``Surv(low, high, type='interval2')`` (fitdistrplus' and survival's interval2: a missing low is
left-censored, a missing high right-censored, equal bounds exact).
"""

from __future__ import annotations

import numpy as np

from ..censoring.data import CensoredData
from ..errors import DataError


def surv_response(frame, response) -> CensoredData:
    """The censored data of a ``Surv(...)`` response, read from the rows of ``frame``."""
    cols = [_numeric(frame, c) for c in response.columns]
    if response.type == "interval2":
        return CensoredData.from_bounds(cols[0], cols[1])
    event = None
    if len(cols) == 2:
        event = cols[1]
        values = set(np.unique(event[~np.isnan(event)]).tolist())
        if values <= {1.0, 2.0} and 2.0 in values:
            event = (event == 2).astype(np.int8)  # survival's 1 = censored, 2 = event
    return CensoredData.from_event(cols[0], event, side="left" if response.type == "left" else "right")


def _numeric(frame, column: str) -> np.ndarray:
    import pandas as pd

    series = frame[column]
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = (numbers.isna() & series.notna()).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"Column '{column}' of Surv(...) is not numeric: the value {series.iloc[row]!r} at row {row} is not a number.")
    return numbers.to_numpy(dtype=float)

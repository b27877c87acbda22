"""mm.censored: the survival and fitdistrplus conventions, scipy's CensoredData, and bad input."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mlemap as mm
from mlemap.censoring.data import EXACT, INTERVAL, LEFT, RIGHT


def test_time_and_event_follow_survival_conventions():
    y = mm.censored([1.0, 2.0, 3.0], event=[1, 0, True])
    assert np.array_equal(y.low, [1.0, 2.0, 3.0])
    assert np.array_equal(y.high, [1.0, math.inf, 3.0])
    assert list(y.kinds) == [EXACT, RIGHT, EXACT]
    left = mm.censored([1.0, 2.0], event=[0, 1], side="left")
    assert np.array_equal(left.low, [-math.inf, 2.0]) and list(left.kinds) == [LEFT, EXACT]
    assert mm.censored(pd.Series([4.0, 5.0])).all_exact


def test_left_right_bounds_follow_fitdistrplus_conventions():
    frame = pd.DataFrame({"low": [np.nan, 1.0, 4.0, 10.0, 30.0], "high": [1.0, 1.0, 8.0, 10.0, np.nan]})
    y = mm.censored(left=frame["low"], right=frame["high"])
    assert list(y.kinds) == [LEFT, EXACT, INTERVAL, EXACT, RIGHT]
    assert y.counts() == {"exact": 2, "right-censored": 1, "left-censored": 1, "interval-censored": 1}
    assert "5 observations" in repr(y)


def test_scipy_censored_data_converts_in_scipy_order():
    cd = stats.CensoredData(uncensored=[1.0, 10.0], left=[1.0], right=[30.0], interval=[[4.0, 8.0]])
    y = mm.censored(cd)
    assert np.array_equal(y.low, [1.0, 10.0, -math.inf, 30.0, 4.0])
    assert np.array_equal(y.high, [1.0, 10.0, 1.0, math.inf, 8.0])


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        (dict(left=[1.0, 5.0], right=[2.0, 3.0]), mm.DataError, "Row 1 has its left bound 5 above its right bound 3"),
        (dict(left=[np.nan, 1.0], right=[np.nan, 2.0]), mm.DataError, "Row 0 has neither a left nor a right bound"),
        (dict(left=[1.0], right=[2.0, 3.0]), mm.ShapeError, "one value per observation"),
        (dict(time=[1.0, 2.0, 3.0], event=[1, 2, 0]), mm.DataError, "row 1 holds 2"),
        (dict(time=[1.0, 2.0], event=["yes", "no"]), mm.DataError, "row 0 holds 'yes'"),
        (dict(time=[1.0, 2.0], event=[1, 0, 1]), mm.ShapeError, "one value per observation (2)"),
        (dict(time=[1.0, np.nan], event=[1, 0]), mm.DataError, "row 1 is nan"),
        (dict(time=[1.0], left=[1.0], right=[2.0]), mm.DataError, "not both"),
        (dict(left=[1.0]), mm.DataError, "both left= and right="),
        (dict(time=[1.0, 2.0], side="up"), mm.DataError, "'right' or 'left'"),
    ],
)
def test_bad_input_is_a_typed_error_naming_the_row_and_the_fix(kwargs, error, fragment):
    with pytest.raises(error) as info:
        mm.censored(**kwargs)
    assert fragment in str(info.value)


def test_event_recoding_hint_for_survival_one_two_coding():
    with pytest.raises(mm.DataError, match=r"status == 2"):
        mm.censored([1.0, 2.0], event=[1, 2])

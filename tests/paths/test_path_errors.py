"""Bad input to regularization_path: typed errors that name the argument, the problem and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from mlemap.errors import (
    DataError,
    FamilyError,
    MethodError,
    ParameterError,
    ShapeError,
)
from mlemap.paths import regularization_path


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    return X, X[:, 0] + rng.standard_normal(40)


X, y = _data()


def test_l1_ratio_outside_the_unit_interval():
    with pytest.raises(ParameterError) as info:
        regularization_path(X, y, penalty="elastic_net", l1_ratio=1.5)
    assert str(info.value) == (
        "The 'l1_ratio' parameter of regularization_path must be a float in the range [0, 1]. Got 1.5 instead."
    )


CASES = [
    ("negative alpha", dict(alphas=[1.0, -0.1]), ParameterError, r"range \[0, inf\). Got -0.1 instead"),
    ("empty alphas", dict(alphas=[]), ParameterError, "empty"),
    ("unknown penalty", dict(penalty="l0"), ParameterError, "'l1' \\(lasso\\), 'elastic_net', 'l2' \\(ridge\\)"),
    ("unknown family", dict(family="tweedie"), FamilyError, "gaussian, bernoulli, poisson, categorical, laplace"),
    ("l1 with another ratio", dict(penalty="l1", l1_ratio=0.5), ParameterError, "penalty='elastic_net'"),
    ("laplace with l2", dict(family="laplace", penalty="l2"), MethodError, "penalty='l1'"),
    ("bad eps", dict(eps=2.0), ParameterError, "'eps' parameter"),
    ("bad n_alphas", dict(n_alphas=0), ParameterError, "'n_alphas' parameter"),
    ("huge n_alphas", dict(n_alphas=10**8), ParameterError, r"'n_alphas' parameter .* range \[1, 10000\]. Got 100000000"),
]


@pytest.mark.parametrize("name,kwargs,error,match", CASES, ids=[c[0] for c in CASES])
def test_bad_settings(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        regularization_path(X, y, **kwargs)


DATA = [
    ("mismatched lengths", X, y[:-3], ShapeError, "X has 40 rows, y has 37"),
    ("NaN in X", np.where(np.arange(120).reshape(40, 3) == 7, np.nan, X), y, DataError, "non-finite"),
    ("inf in y", X, np.where(np.arange(40) == 2, np.inf, y), DataError, "non-finite"),
    ("empty design", np.zeros((0, 3)), np.zeros(0), DataError, "empty design"),
    ("no features", np.zeros((40, 0)), y, DataError, "empty design"),
]


@pytest.mark.parametrize("name,Xb,yb,error,match", DATA, ids=[d[0] for d in DATA])
def test_bad_data(name, Xb, yb, error, match):
    with pytest.raises(error, match=match):
        regularization_path(Xb, yb)


def test_unsorted_alphas_are_sorted_decreasing():
    p = regularization_path(X, y, alphas=[0.01, 1.0, 0.1])
    np.testing.assert_array_equal(p.alphas, [1.0, 0.1, 0.01])

"""Where a path has no answer it says so: separation or zero counts at alpha = 0, all-constant
columns, a constant response; and dates are refused like any non-number."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mlemap as mm
from mlemap.paths import regularization_path


def _separated():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 2))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0.2).astype(float)


@pytest.mark.parametrize("penalty", ["l1", "l2", "elastic_net"])
def test_separation_at_alpha_zero_warns_and_is_not_converged(penalty):
    X, y = _separated()
    with pytest.warns(mm.SeparationWarning) as caught:
        path = regularization_path(X, y, family="bernoulli", penalty=penalty, alphas=[1.0, 0.0])
    message = str(caught[0].message)
    assert "At alpha = 0" in message and "separation" in message and "every alpha > 0 has a finite" in message
    assert list(path.converged) == [True, False]
    assert not any(issubclass(w.category, mm.ConvergenceWarning) for w in caught)


def test_no_warning_when_alpha_zero_has_a_maximum():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 2))
    y = (rng.random(200) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = regularization_path(X, y, family="bernoulli", alphas=[0.1, 0.0])
    assert path.converged.all()
    mle = mm.LogisticRegression().fit(X, y)
    np.testing.assert_allclose(path.coefs[:, 1], mle.coef_, rtol=1e-6)


def test_softmax_separation_at_alpha_zero():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((90, 2))
    labels = np.digitize(X[:, 0], [-0.5, 0.5])  # three classes cut along x0: separated
    with pytest.warns(mm.SeparationWarning, match="At alpha = 0"):
        regularization_path(X, labels, family="categorical", alphas=[0.5, 0.0])


def test_zero_counts_at_alpha_zero():
    rng = np.random.default_rng(5)
    group = np.repeat([0.0, 1.0], 20)
    X = np.column_stack([rng.normal(size=40), group])
    y = np.r_[rng.poisson(2.0, 20), np.zeros(20)]  # no events in the second group
    with pytest.warns(mm.SeparationWarning, match=r"-1\*x1 is 0 for every row with a positive count"):
        path = regularization_path(X, y, family="poisson", alphas=[1.0, 0.0])
    assert not path.converged[1]


@pytest.mark.parametrize("family, y", [("gaussian", np.arange(30.0)), ("bernoulli", np.arange(30) % 3 == 0)])
def test_all_constant_columns_are_refused(family, y):
    with pytest.raises(mm.DataError, match="Every column of X is constant .x0, x1., .*alpha_max = 0"):
        regularization_path(np.ones((30, 2)), y, family=family)
    path = regularization_path(np.ones((30, 2)), y, family=family, fit_intercept=False, n_alphas=3)
    assert path.alpha_max > 0


def test_a_grid_of_zeros_is_refused_and_explicit_alphas_still_work():
    # balanced classes and no intercept: the score X'(y - 1/2) is 0 at beta = 0, so alpha_max = 0
    X, y = np.ones((30, 1)), np.arange(30) % 2
    with pytest.raises(mm.DataError, match="alpha_max is 0 .*Pass alphas="):
        regularization_path(X, y, family="bernoulli", fit_intercept=False)
    path = regularization_path(X, y, family="bernoulli", fit_intercept=False, alphas=[0.1, 0.0])
    np.testing.assert_allclose(path.coefs, 0.0, atol=1e-12)


@pytest.mark.parametrize("family", ["gaussian", "laplace"])
def test_a_constant_response_is_refused(family):
    X = np.random.default_rng(6).normal(size=(30, 2))
    with pytest.raises(mm.DataError, match=r"'y' argument of regularization_path is constant \(3\).*infinite"):
        regularization_path(X, np.full(30, 3.0), family=family)


def test_dates_are_refused():
    frame = pd.DataFrame({"d": pd.date_range("2020-01-01", periods=20), "x": np.arange(20.0)})
    with pytest.raises(mm.errors.DataTypeError, match="'X' argument holds dates"):
        regularization_path(frame, np.arange(20.0))

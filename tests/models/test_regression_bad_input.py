"""Every bad input to the regression estimators raises a typed mlemap error naming the argument and the fix."""

import numpy as np
import pandas as pd
import pytest
import torch
import torch.distributions as td
from scipy import sparse

import mlemap.models as mm
from mlemap import priors
from mlemap.errors import (
    ArgumentError,
    DataError,
    DataTypeError,
    ParameterError,
    PriorError,
    ShapeError,
    WeightsError,
)


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y_real = X @ [1.0, -1.0, 0.5] + rng.standard_normal(20)
    return X, y_real, rng.poisson(2.0, 20).astype(float)


X, y_real, y_counts = _data()
y_bin = (y_real > 0).astype(float)
X_nan = X.copy()
X_nan[4, 2] = np.nan
X_inf = X.copy()
X_inf[7, 0] = np.inf
X_obj = X.astype(object)
X_obj[1, 1] = {"a": 1}
X_str = X.astype(object)
X_str[2, 0] = "abc"

# (id, call, error type, fragments the message must contain)
CASES = [
    ("length-mismatch", lambda: mm.LinearRegression().fit(X, y_real[:15]), ShapeError,
     ["X has 20 rows", "'y' has 15 values", "one response value per row"]),
    ("nan-in-X", lambda: mm.LinearRegression().fit(X_nan, y_real), DataError,
     ["'X'", "1 non-finite value(s)", "NaN or inf", "row 4, column 2", "Remove or impute"]),
    ("inf-in-X", lambda: mm.LogisticRegression().fit(X_inf, y_bin), DataError, ["row 7, column 0", "inf"]),
    ("nan-in-y", lambda: mm.LinearRegression().fit(X, np.where(np.arange(20) == 3, np.nan, y_real)), DataError,
     ["'y'", "non-finite", "row 3"]),
    ("nan-named-column", lambda: mm.LinearRegression().fit(pd.DataFrame(X_nan, columns=["a", "b", "c"]), y_real),
     DataError, ["column 2 ('c')"]),
    ("empty-rows", lambda: mm.LinearRegression().fit(np.empty((0, 3)), []), DataError, ["0 sample(s)", "at least one"]),
    ("empty-columns", lambda: mm.PoissonRegression().fit(np.empty((20, 0)), y_counts), DataError,
     ["0 feature(s)", "empty design", "column of ones"]),
    ("one-dimensional-X", lambda: mm.LinearRegression().fit(X[:, 0], y_real), ShapeError,
     ["Expected a 2-D array", "Reshape your data", "X.reshape(-1, 1)"]),
    ("three-dimensional-X", lambda: mm.LinearRegression().fit(np.ones((4, 2, 2)), np.ones(4)), ShapeError,
     ["must be 2-D", "(4, 2, 2)"]),
    ("string-in-X", lambda: mm.LinearRegression().fit(X_str, y_real), DataError, ["numbers only", "'abc'", "one-hot"]),
    ("dict-in-X", lambda: mm.LinearRegression().fit(X_obj, y_real), DataTypeError, ["numbers only", "dict"]),
    ("sparse-X", lambda: mm.LinearRegression().fit(sparse.csr_matrix(X), y_real), DataError,
     ["sparse", "toarray()"]),
    ("complex-X", lambda: mm.LinearRegression().fit(X + 1j, y_real), DataError, ["Complex data not supported"]),
    ("y-none", lambda: mm.LinearRegression().fit(X, None), DataError, ["requires y to be passed"]),
    ("y-2d", lambda: mm.LinearRegression().fit(X, np.ones((20, 2))), ShapeError, ["1-D", "(20, 2)"]),
    ("single-class", lambda: mm.LogisticRegression().fit(X, np.ones(20)), DataError,
     ["only one class", "1.0", "at least 2 classes"]),
    ("single-class-after-weights", lambda: mm.SoftmaxRegression().fit(X, y_bin, sample_weight=y_bin), DataError,
     ["only one class", "zero-weight"]),
    ("three-labels-logistic", lambda: mm.LogisticRegression().fit(X, np.arange(20) % 3), DataError,
     ["Only binary classification", "3 classes", "0 and 1", "SoftmaxRegression"]),
    ("fractional-labels", lambda: mm.LogisticRegression().fit(X, np.where(y_bin > 0, 0.5, 0.0)), DataError,
     ["Unknown label type", "0.5", "class labels", "0/1"]),
    ("poisson-negative", lambda: mm.PoissonRegression().fit(X, np.where(np.arange(20) == 5, -2.0, y_counts)),
     DataError, ["whole-number counts of 0 or more", "-2.0", "row 5"]),
    ("poisson-fraction", lambda: mm.PoissonRegression().fit(X, y_counts + 0.5), DataError,
     ["whole-number counts", "row 0", "20 such value(s)"]),
    ("poisson-quasi-negative", lambda: mm.PoissonRegression(quasi=True).fit(X, y_real), DataError,
     ["non-negative"]),
    ("exposure-zero", lambda: mm.PoissonRegression().fit(X, y_counts, exposure=np.where(np.arange(20) == 2, 0.0, 1.0)),
     DataError, ["'exposure'", "positive", "row 2"]),
    ("offset-length", lambda: mm.PoissonRegression().fit(X, y_counts, offset=np.zeros(5)), ShapeError, ["offset"]),
    ("weights-negative", lambda: mm.LinearRegression().fit(X, y_real, sample_weight=-np.ones(20)), WeightsError,
     ["Negative values in sample_weight", "non-negative", "row 0"]),
    ("weights-zero", lambda: mm.LinearRegression().fit(X, y_real, sample_weight=np.zeros(20)), WeightsError,
     ["at least one non-zero", "zero"]),
    ("weights-shape", lambda: mm.LinearRegression().fit(X, y_real, sample_weight=np.ones(7)), WeightsError,
     ["(7,)", "(20,)", "one weight per row"]),
    ("weights-nan", lambda: mm.LinearRegression().fit(X, y_real, sample_weight=np.full(20, np.nan)), WeightsError,
     ["non-finite"]),
    ("negative-alpha", lambda: mm.LinearRegression(prior=priors.lasso(-1.0)).fit(X, y_real), PriorError,
     ["'alpha'", "[0, inf)", "-1.0"]),
    ("l1-ratio-outside", lambda: mm.LinearRegression(prior=priors.elastic_net(1.0, 1.5)).fit(X, y_real), PriorError,
     ["'l1_ratio'", "[0, 1]", "1.5"]),
    ("prior-not-a-prior", lambda: mm.LogisticRegression(prior=0.5).fit(X, y_bin), PriorError,
     ["'prior'", "mm.priors.ridge", "td.Normal", "float"]),
    ("prior-positive-support", lambda: mm.LogisticRegression(prior=td.Gamma(2.0, 1.0)).fit(X, y_bin), PriorError,
     ["Gamma", "does not cover", "real line"]),
    ("prior-batched", lambda: mm.LinearRegression(prior=td.Normal(torch.zeros(3), 1.0)).fit(X, y_real), PriorError,
     ["scalar distribution", "batch shape (3,)"]),
    ("laplace-smooth-prior", lambda: mm.LaplaceRegression(prior=priors.ridge(1.0)).fit(X, y_real), PriorError,
     ["quadratic program", "lasso"]),
    ("bad-cov-type", lambda: mm.LinearRegression(cov_type="HC3").fit(X, y_real), ParameterError,
     ["'cov_type'", "'observed'", "'sandwich'", "'HC3'"]),
    ("bad-max-iter", lambda: mm.LogisticRegression(max_iter=0).fit(X, y_bin), ParameterError,
     ["'max_iter'", "[1, inf)"]),
    ("bad-tol", lambda: mm.PoissonRegression(tol=-1.0).fit(X, y_counts), ParameterError, ["'tol'", "(0, inf)"]),
    ("bad-fit-intercept", lambda: mm.LinearRegression(fit_intercept="yes").fit(X, y_real), ParameterError,
     ["'fit_intercept'", "bool"]),
    ("bad-reference", lambda: mm.SoftmaxRegression(reference_class="z").fit(X, np.arange(20) % 3), ParameterError,
     ["'reference_class'", "0, 1, 2", "'z'"]),
    ("predict-wrong-width", lambda: mm.LinearRegression().fit(X, y_real).predict(X[:, :2]), ShapeError,
     ["X has 2 features", "expecting 3 features", "same columns"]),
    ("dates-in-X", lambda: mm.LinearRegression().fit(pd.DataFrame({"d": pd.date_range("2020", periods=20)}), y_real),
     DataTypeError, ["'X'", "holds dates", "np.timedelta64(1, 'D')"]),
    ("dates-among-numbers", lambda: mm.LinearRegression().fit(
        pd.DataFrame({"x": X[:, 0], "d": pd.date_range("2020", periods=20)}), y_real),
     DataTypeError, ["'X'", "dates or time differences", "Timestamp"]),
    ("timedeltas-as-y", lambda: mm.LinearRegression().fit(X, pd.to_timedelta(np.arange(20), unit="h")),
     DataTypeError, ["'y'", "time differences"]),
    ("unknown-constructor-argument", lambda: mm.LinearRegression(bogus=1), ArgumentError,
     ["LinearRegression", "unknown argument 'bogus'", "fit_intercept", "cov_type"]),
    ("misspelt-constructor-argument", lambda: mm.PoissonRegression(max_itr=5), ArgumentError,
     ["'max_itr'", "Did you mean 'max_iter'"]),
    ("positional-constructor-argument", lambda: mm.LogisticRegression(1.0), ArgumentError,
     ["keyword arguments only", "prior=..."]),
    ("conf-int-level", lambda: mm.LinearRegression().fit(X, y_real).conf_int(level=95), ParameterError,
     ["'level'", "(0, 1)"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_typed_error(case):
    _, call, error, fragments = case
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"


def test_errors_are_value_errors_for_generic_handlers():
    with pytest.raises(ValueError):
        mm.LinearRegression().fit(X_nan, y_real)
    with pytest.raises(TypeError):
        mm.LinearRegression().fit(X_obj, y_real)


def test_two_arbitrary_labels_are_encoded_like_scikit_learn():
    labels = np.where(y_bin > 0, "yes", "no")
    m = mm.LogisticRegression().fit(X, labels)
    assert list(m.classes_) == ["no", "yes"]
    ref = mm.LogisticRegression().fit(X, y_bin)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-12)
    assert set(m.predict(X)) <= {"no", "yes"}

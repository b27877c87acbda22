"""Diagnostics the user sees instead of a wrong answer: separation, collinearity, zero variance."""

import numpy as np
import pytest
import torch.distributions as td

import mlemap.models as mm
from mlemap import priors
from mlemap.errors import IdentifiabilityWarning, SeparationWarning
from mlemap.glm.separation import find_separation


def complete_separation():
    rng = np.random.default_rng(1100)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.2).astype(float)
    return X, y


def quasi_separation():
    """x1 > 0 always means class 1, x1 < 0 class 0; the rows at x1 = 0 hold both classes."""
    rng = np.random.default_rng(1101)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 2))
    X[:20, 0] = 0.0
    y = np.where(X[:, 0] > 0, 1.0, 0.0)
    y[:20] = rng.integers(0, 2, 20)
    y[:2] = [0.0, 1.0]
    return X, y


def overlapping():
    rng = np.random.default_rng(1102)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 2))
    y = (rng.random(200) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    return X, y


@pytest.mark.parametrize(
    "make, kind", [(complete_separation, "complete"), (quasi_separation, "quasi-complete")],
    ids=["complete", "quasi-complete"],
)
def test_separation_is_found_by_the_linear_program(make, kind):
    X, y = make()
    sep = find_separation(X, y.astype(int), labels=["x1", "x2", "intercept"], class_names=[0.0, 1.0])
    assert sep is not None and sep.kind == kind
    margins = (2 * y - 1) * (np.column_stack([X, np.ones(len(y))]) @ sep.direction[0])
    assert margins.min() >= -1e-9 and margins.max() > 0
    if kind == "quasi-complete":
        assert sep.n_boundary > 0
        assert sep.diverging[0, 0] and not sep.diverging[0, 1]


def test_no_separation_in_overlapping_classes():
    X, y = overlapping()
    assert find_separation(X, y.astype(int), labels=["x1", "x2", "intercept"], class_names=[0, 1]) is None


@pytest.mark.parametrize("make", [complete_separation, quasi_separation], ids=["complete", "quasi-complete"])
def test_logistic_regression_warns_and_flags_instead_of_reporting_estimates(make):
    X, y = make()
    with pytest.warns(SeparationWarning) as record:
        m = mm.LogisticRegression().fit(X, y)
    message = str(record[0].message)
    assert "separation" in message and "x0" in message and "prior=mm.priors.ridge" in message
    assert "does not exist" in message
    assert np.all(np.isnan(m.se_)) and np.isnan(m.intercept_se_)
    assert m.separation_ is not None and not m.converged_
    text = str(m.summary())
    assert "diverging" in text and "does not exist" in text
    rows = m.summary().to_frame()
    assert rows.loc["x0", "status"].startswith("diverging")
    # the fitted classifier still separates the data
    assert (m.predict(X) == y).mean() >= 0.75


def test_quasi_separation_flags_only_the_separating_coefficient():
    X, y = quasi_separation()
    with pytest.warns(SeparationWarning):
        m = mm.LogisticRegression().fit(X, y)
    status = m.summary().to_frame()["status"]
    assert status["x0"].startswith("diverging")
    assert status["x1"] == ""


def test_a_prior_gives_finite_estimates_on_separated_data():
    X, y = complete_separation()
    m = mm.LogisticRegression(prior=priors.ridge(1.0)).fit(X, y)  # no warning (pytest turns them into errors)
    assert np.all(np.isfinite(m.se_)) and m.separation_ is None
    m = mm.LogisticRegression(prior=td.Normal(0.0, 2.5)).fit(X, y)
    assert np.all(np.isfinite(m.se_))


def test_softmax_separation_names_the_class():
    rng = np.random.default_rng(1103)
    X = rng.standard_normal((150, 2))
    y = rng.integers(0, 2, 150)
    y[X[:, 0] > 1.0] = 2
    with pytest.warns(SeparationWarning, match="class 2 vs the reference 0"):
        m = mm.SoftmaxRegression().fit(X, y)
    assert np.all(np.isnan(m.se_))


def test_collinear_columns_are_named_and_aliased():
    rng = np.random.default_rng(1104)
    X = rng.standard_normal((100, 3))
    X = np.column_stack([X, X[:, 0] + 2 * X[:, 1]])
    y = X[:, 0] + rng.standard_normal(100)
    with pytest.warns(IdentifiabilityWarning, match=r"'x3' = 1\*x0 \+ 2\*x1") as record:
        m = mm.LinearRegression().fit(X, y)
    assert "Drop the redundant column" in str(record[0].message) and "prior" in str(record[0].message)
    assert m.coef_[3] == 0 and np.isnan(m.se_[3]) and np.all(np.isfinite(m.se_[:3]))
    assert "aliased" in m.summary().to_frame().loc["x3", "status"]


@pytest.mark.parametrize("model, y_kind", [(mm.LogisticRegression, "binary"), (mm.PoissonRegression, "counts"),
                                           (mm.SoftmaxRegression, "classes")])
def test_collinearity_is_reported_for_the_newton_models(model, y_kind):
    rng = np.random.default_rng(1105)
    X = rng.standard_normal((300, 2))
    X = np.column_stack([X, X[:, 0] - X[:, 1]])
    y = {"binary": (rng.random(300) < 0.5).astype(float), "counts": rng.poisson(2.0, 300).astype(float),
         "classes": rng.integers(0, 3, 300)}[y_kind]
    with pytest.warns(IdentifiabilityWarning, match="'x2'"):
        m = model().fit(X, y)
    assert np.all(np.asarray(m.coef_)[..., 2] == 0)


def test_zero_variance_column_is_collinear_with_the_intercept():
    rng = np.random.default_rng(1106)
    X = np.column_stack([rng.standard_normal(50), np.full(50, 3.0)])
    y = rng.standard_normal(50)
    with pytest.warns(IdentifiabilityWarning, match=r"'x1' has zero variance \(it is the constant 3\)"):
        mm.LinearRegression().fit(X, y)
    # without an intercept the constant column is the intercept: no warning
    m = mm.LinearRegression(fit_intercept=False).fit(X, y)
    assert np.isfinite(m.se_).all()


def test_feature_names_appear_in_the_diagnostics():
    rng = np.random.default_rng(1107)
    import pandas as pd

    X = pd.DataFrame({"age": rng.normal(40, 10, 80), "age_months": 0.0})
    X["age_months"] = 12 * X["age"]
    y = rng.standard_normal(80)
    with pytest.warns(IdentifiabilityWarning, match=r"'age_months' = 12\*age"):
        mm.LinearRegression().fit(X, y)


def test_non_convergence_warns_with_what_to_try():
    rng = np.random.default_rng(1108)
    from mlemap.errors import ConvergenceWarning

    X, _ = overlapping()
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        m = mm.PoissonRegression(max_iter=1).fit(X, rng.poisson(3.0, 200))
    assert not m.converged_

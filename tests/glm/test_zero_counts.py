"""Poisson regression whose MLE does not exist (an all-zero outcome, a category with no events) is
diagnosed like separation: a SeparationWarning naming the direction, no standard errors, a prior
suggested; the direction found really raises the likelihood without bound."""

import warnings

import numpy as np
import pandas as pd
import pytest

import mlemap as mm
from mlemap.glm.zero_counts import find_zero_counts


def _category_without_events():
    """x, and indicators of groups b and c; every count of group c is 0."""
    rng = np.random.default_rng(7)
    n = 90
    x = rng.normal(size=n)
    group = np.repeat([0, 1, 2], n // 3)
    X = np.column_stack([x, group == 1, group == 2]).astype(float)
    y = rng.poisson(np.exp(0.4 + 0.5 * x)) * (group != 2)
    return X, y.astype(float)


def _poisson_loglik(X, y, coef, intercept):
    eta = X @ coef + intercept
    return float(np.sum(y * eta - np.exp(eta)))


def test_the_direction_raises_the_likelihood_and_keeps_the_positive_counts():
    X, y = _category_without_events()
    found = find_zero_counts(X, y, labels=["x", "b", "c", "intercept"])
    assert found is not None and found.n_positive == int((y > 0).sum())
    v = found.direction[0]
    assert list(np.flatnonzero(found.diverging[0])) == [2] and v[2] == -1.0  # minus the indicator of group c
    Xt = np.column_stack([X, np.ones(len(y))])
    assert np.all(Xt[y > 0] @ v == 0) and np.all(Xt[y == 0] @ v <= 0)
    start = np.zeros(4)
    values = [_poisson_loglik(X, y, (start + t * v)[:3], (start + t * v)[3]) for t in (0.0, 1.0, 10.0, 100.0)]
    assert all(b > a for a, b in zip(values, values[1:]))


def test_no_direction_when_every_category_has_events():
    X, y = _category_without_events()
    y[-1] = 1.0  # one event in group c
    assert find_zero_counts(X, y, labels=["x", "b", "c", "intercept"]) is None


def test_poisson_regression_warns_on_a_category_without_events():
    X, y = _category_without_events()
    with pytest.warns(mm.SeparationWarning) as caught:
        m = mm.PoissonRegression().fit(pd.DataFrame(X, columns=["x", "b", "c"]), y)
    message = str(caught[0].message)
    for fragment in ("does not exist", "-1*c", "is 0 for every row with a positive count", "30 of the",
                     "prior=mm.priors.ridge"):
        assert fragment in message, message
    assert not m.converged_ and np.all(np.isnan(m.se_)) and np.isnan(m.intercept_se_)
    assert m.separation_ is not None and m.separation_.cause == "zero counts"
    assert "diverging (zero counts)" in str(m.summary())


@pytest.mark.parametrize("options", [{}, {"quasi": True}, {"prior": mm.priors.ridge(1.0)}], ids=["mle", "quasi", "ridge"])
def test_an_all_zero_outcome_names_the_intercept(options):
    X = np.random.default_rng(8).normal(size=(50, 2))
    with pytest.warns(mm.SeparationWarning, match="every count is 0") as caught:
        m = mm.PoissonRegression(**options).fit(X, np.zeros(50))
    assert "-1*intercept" in str(caught[0].message) and "penalize_intercept=True" in str(caught[0].message)
    assert np.isnan(m.intercept_se_) and not m.converged_


def test_a_prior_on_every_coefficient_gives_finite_estimates():
    X, y = _category_without_events()
    with warnings.catch_warnings():
        warnings.simplefilter("error", mm.SeparationWarning)
        m = mm.PoissonRegression(prior=mm.priors.ridge(1.0)).fit(X, y)
    assert m.converged_ and np.all(np.isfinite(m.se_)) and -10 < m.coef_[2] < 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", mm.SeparationWarning)
        m = mm.PoissonRegression(prior=mm.priors.ridge(1.0), penalize_intercept=True).fit(X[:, :1], np.zeros(90))
    assert m.converged_ and np.isfinite(m.intercept_se_)


def test_formula_names_the_category():
    X, y = _category_without_events()
    frame = pd.DataFrame({"x": X[:, 0], "g": np.repeat(["a", "b", "c"], 30), "y": y})
    with pytest.warns(mm.SeparationWarning, match=r"C\(g\)\[T\.c\]"):
        mm.regress("y ~ x + C(g)", data=frame, family="poisson")

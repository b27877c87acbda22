"""Least absolute deviations: exact LP solution, weights, standard errors and the L1 prior."""

import numpy as np
import pytest
import statsmodels.api as sm
from reference import lad_vertex
from sklearn.linear_model import QuantileRegressor

import mlemap.models as mm
from mlemap import priors
from mlemap.glm.lad import solve_lad


def test_stackloss_lad_matches_quantreg():
    d = sm.datasets.stackloss.load_pandas()
    m = mm.LaplaceRegression().fit(d.exog, d.endog)
    A = sm.add_constant(d.exog).to_numpy()
    r = sm.QuantReg(d.endog, A).fit(q=0.5, max_iter=10_000, p_tol=1e-12)
    # QuantReg's iterations stop about 1e-7 short of the LP vertex; the vertex they point to is exact
    exact = lad_vertex(A, d.endog.to_numpy(), r.params)
    np.testing.assert_allclose(r.params, exact, rtol=1e-5)
    np.testing.assert_allclose(np.r_[m.intercept_, m.coef_], exact, rtol=1e-12)
    # the classical LAD fit of the stack-loss data: -39.69, 0.832, 0.574, -0.061
    assert m.intercept_ == pytest.approx(-39.68985507, rel=1e-8)


def test_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(2300)
    X = rng.standard_normal((101, 2))
    y = X @ [1.0, -2.0] + rng.laplace(size=101)
    w = rng.integers(1, 4, 101)
    a = solve_lad(X, y, sample_weight=w.astype(float))
    b = solve_lad(np.repeat(X, w, axis=0), np.repeat(y, w))
    assert a.sad == pytest.approx(b.sad, rel=1e-12)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9, atol=1e-12)


def test_lasso_prior_equals_sklearn_quantile_regressor():
    rng = np.random.default_rng(2301)
    pytest.importorskip("mlemap.glm.penalized")
    X = rng.standard_normal((150, 4))
    y = 1.0 + X @ [1.0, 0.0, -0.5, 0.0] + rng.laplace(size=150)
    m = mm.LaplaceRegression(prior=priors.lasso(0.05)).fit(X, y)
    ref = QuantileRegressor(quantile=0.5, alpha=0.05, solver="highs").fit(X, y)
    # sklearn: (1/n) sum pinball_0.5 + alpha ||w||_1 = (sum |r| + 2 n alpha ||w||_1) / (2n)
    exact = lad_vertex(np.column_stack([X, np.ones(150)]), y, np.r_[ref.coef_, ref.intercept_],
                       l1=np.r_[np.full(4, 2 * 150 * 0.05), 0.0])
    np.testing.assert_allclose(np.r_[ref.coef_, ref.intercept_], exact, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.r_[m.coef_, m.intercept_], exact, rtol=1e-10, atol=1e-12)
    assert np.any(m.coef_ == 0)  # exact zeros, as the LP gives them


def test_bootstrap_covariance_is_available():
    rng = np.random.default_rng(2302)
    X = rng.standard_normal((80, 2))
    y = X @ [1.0, 1.0] + rng.laplace(size=80)
    m = mm.LaplaceRegression(cov_type="bootstrap", n_boot=50).fit(X, y)
    assert np.all(np.isfinite(m.se_)) and "bootstrap" in str(m.summary())


@pytest.mark.slow
def test_laplace_model_standard_errors_match_the_sampling_spread():
    """Monte Carlo: the mean reported SE is the standard deviation of the estimates (Laplace errors)."""
    rng = np.random.default_rng(2303)
    X = rng.standard_normal((400, 2))
    estimates, ses = [], []
    for _ in range(300):
        y = 0.5 + X @ [1.0, -1.0] + rng.laplace(scale=2.0, size=400)
        m = mm.LaplaceRegression().fit(X, y)
        estimates.append(m.coef_)
        ses.append(m.se_)
    spread = np.std(estimates, axis=0)
    np.testing.assert_allclose(np.mean(ses, axis=0), spread, rtol=0.15)


def _primal_lp_minimum(X, y):
    """min sum|y - A b| as the primal LP over (b, u, v) with equilibrated columns, solved by scipy's HiGHS."""
    from scipy.optimize import linprog

    n = X.shape[0]
    A = np.hstack([X, np.ones((n, 1))])
    As = A / np.abs(A).max(axis=0)
    p = As.shape[1]
    cost = np.concatenate([np.zeros(p), np.ones(2 * n)])
    res = linprog(cost, A_eq=np.hstack([As, np.eye(n), -np.eye(n)]), b_eq=y,
                  bounds=[(None, None)] * p + [(0, None)] * (2 * n), method="highs")
    assert res.status == 0
    return res.fun


@pytest.mark.parametrize("column_scale", [1e-8, 1e8])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_column_on_a_tiny_or_huge_scale_reaches_the_lp_optimum(seed, column_scale):
    generator = np.random.default_rng(seed)
    X = generator.standard_normal((100, 3))
    X[:, 1] *= column_scale
    y = X @ [1.0, 2.0 / column_scale, -0.5] + 0.3 + generator.laplace(size=100)
    m = mm.LaplaceRegression().fit(X, y)
    sad = float(np.abs(y - m.predict(X)).sum())
    assert sad == pytest.approx(_primal_lp_minimum(X, y), rel=1e-9)
    # the same fit as on the rescaled column, mapped back
    Xs = X.copy()
    Xs[:, 1] /= column_scale
    ms = mm.LaplaceRegression().fit(Xs, y)
    np.testing.assert_allclose(m.coef_[1] * column_scale, ms.coef_[1], rtol=1e-7)
    np.testing.assert_allclose(m.intercept_, ms.intercept_, rtol=1e-7, atol=1e-9)

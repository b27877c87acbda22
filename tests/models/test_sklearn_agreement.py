"""Agreement with scikit-learn where both solve the same penalised problem.

The penalties use scikit-learn's scalings (``mm.priors.ridge(alpha)`` is ``Ridge(alpha)``,
``LogisticRegression(C=1/alpha)`` and ``PoissonRegressor(alpha)``). Ridge and least squares are
direct solves, compared as they are. scikit-learn's iterative solvers stop at their tolerances
(lbfgs about 1e-8 short), so their answers are only the start of an exact reference: the objective
in scikit-learn's convention, written out in tests/reference.py, polished by Newton (on the active
set for L1) to machine precision. mlemap must match it to 1e-8 relative, scikit-learn to 1e-5.
Multinomial intercepts are identified only up to a common shift: both are centred.
"""

import warnings

import numpy as np
import pytest
from reference import penalised_glm_reference
from sklearn import linear_model as sk

import mlemap.models as mm
from mlemap import priors

RTOL = 1e-8  # mlemap against the exact reference
LIBRARY_RTOL = 1e-5  # scikit-learn against the exact reference


def _check(ours_coef, ours_icpt, ref_coef, ref_icpt, family, X, y, *, w=None, l1=0.0, l2=0.0):
    """mlemap and scikit-learn against the exact minimiser of (1/W) sum w loss + l1 |b| + l2/2 b^2."""
    coef, icpt = penalised_glm_reference(family, X, y, np.r_[np.ravel(ref_coef), np.ravel(ref_icpt)], l1=l1, l2=l2, w=w)
    np.testing.assert_allclose(ref_coef, coef, rtol=LIBRARY_RTOL, atol=1e-7)
    np.testing.assert_allclose(ours_coef, coef, rtol=RTOL, atol=1e-10)
    np.testing.assert_allclose(ours_icpt, icpt, rtol=RTOL, atol=1e-10)


def _data(kind, seed=0, n=300, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * [1.0, 2.0, 0.5, 1.5][:d]
    eta = 0.3 + X @ np.linspace(-0.6, 0.6, d)
    if kind == "gaussian":
        y = eta + rng.standard_normal(n)
    elif kind == "bernoulli":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    elif kind == "poisson":
        y = rng.poisson(np.exp(0.5 * eta)).astype(float)
    else:
        y = rng.integers(0, 3, n)
        y[eta > 0.8] = 2
    w = rng.uniform(0.2, 3.0, n)
    return X, y, w


def _sklearn_logistic(C, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return sk.LogisticRegression(C=C, tol=1e-12, max_iter=10_000, **kw)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.1, 10.0])
def test_ridge_equals_sklearn_ridge(alpha, weighted):
    X, y, w = _data("gaussian")
    sw = w if weighted else None
    ours = mm.LinearRegression(prior=priors.ridge(alpha)).fit(X, y, sample_weight=sw)
    ref = sk.Ridge(alpha=alpha, solver="cholesky").fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.5, 20.0])
def test_l2_logistic_equals_sklearn_with_c_one_over_alpha(alpha, weighted):
    X, y, w = _data("bernoulli")
    sw = w if weighted else None
    ours = mm.LogisticRegression(prior=priors.ridge(alpha)).fit(X, y, sample_weight=sw)
    ref = _sklearn_logistic(1.0 / alpha).fit(X, y, sample_weight=sw)
    W = len(y) if sw is None else sw.sum()  # C sum w loss + ||b||^2 / 2, divided by C W
    _check(ours.coef_, ours.intercept_, ref.coef_[0], ref.intercept_[0], "bernoulli", X, y, w=sw, l2=alpha / W)


@pytest.mark.parametrize("alpha", [0.5, 20.0])
def test_multinomial_l2_equals_sklearn_multinomial(alpha):
    X, y, _ = _data("categorical")
    ours = mm.SoftmaxRegression(prior=priors.ridge(alpha)).fit(X, y)
    ref = _sklearn_logistic(1.0 / alpha, solver="newton-cholesky").fit(X, y)  # lbfgs stops ~1e-6 short
    assert ours.coef_.shape == ref.coef_.shape == (3, X.shape[1])
    _check(ours.coef_, ours.intercept_, ref.coef_, ref.intercept_ - ref.intercept_.mean(), "categorical", X, y,
           l2=alpha / len(y))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.01, 1.0])
def test_poisson_ridge_equals_sklearn_poisson_regressor(alpha, weighted):
    X, y, w = _data("poisson")
    sw = w if weighted else None
    ours = mm.PoissonRegression(prior=priors.ridge(alpha)).fit(X, y, sample_weight=sw)
    ref = sk.PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=10_000, solver="newton-cholesky").fit(X, y, sample_weight=sw)
    # (1/2W) sum w deviance + alpha/2 ||b||^2, deviance / 2 = loss + a constant
    _check(ours.coef_, ours.intercept_, ref.coef_, ref.intercept_, "poisson", X, y, w=sw, l2=alpha)


def test_mle_logistic_equals_sklearn_without_penalty():
    X, y, _ = _data("bernoulli")
    ours = mm.LogisticRegression().fit(X, y)
    ref = _sklearn_logistic(np.inf).fit(X, y)
    _check(ours.coef_, ours.intercept_, ref.coef_[0], ref.intercept_[0], "bernoulli", X, y)


def test_gaussian_mle_equals_ordinary_least_squares():
    X, y, _ = _data("gaussian")
    ours = mm.LinearRegression().fit(X, y)
    A = np.column_stack([X, np.ones(len(y))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(np.r_[ours.coef_, ours.intercept_], coef, rtol=1e-12)
    np.testing.assert_allclose(ours.scale_, np.sqrt(np.mean((y - A @ coef) ** 2)), rtol=1e-12)


# --- L1 priors: run through the penalised solver once it is available -----------------------------
penalized = pytest.importorskip("mlemap.glm.penalized")


@pytest.mark.parametrize("alpha, l1_ratio", [(0.05, 1.0), (0.05, 0.5)], ids=["lasso", "elastic-net"])
def test_lasso_and_elastic_net_equal_sklearn(alpha, l1_ratio):
    X, y, _ = _data("gaussian")
    prior = priors.lasso(alpha) if l1_ratio == 1 else priors.elastic_net(alpha, l1_ratio)
    ours = mm.LinearRegression(prior=prior).fit(X, y)
    ref = sk.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000).fit(X, y)
    # (1/2n) ||r||^2 + alpha (rho |b| + (1 - rho)/2 ||b||^2)
    _check(ours.coef_, ours.intercept_, ref.coef_, ref.intercept_, "gaussian", X, y, l1=alpha * l1_ratio,
           l2=alpha * (1 - l1_ratio))
    np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)


def test_l1_logistic_equals_sklearn():
    X, y, _ = _data("bernoulli")
    ours = mm.LogisticRegression(prior=priors.lasso(2.0)).fit(X, y)
    ref = _sklearn_logistic(0.5, l1_ratio=1.0, solver="saga").fit(X, y)
    _check(ours.coef_, ours.intercept_, ref.coef_[0], ref.intercept_[0], "bernoulli", X, y, l1=2.0 / len(y))

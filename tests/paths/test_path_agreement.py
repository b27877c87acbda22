"""regularization_path against scikit-learn's lasso_path/enet_path and glum, and against cold solves.

The references' own optimality (KKT) residuals are checked first: a reference is trusted only when
it is more accurate than the tolerance the comparison asserts. Least-absolute-deviation references
are replaced by the exact LP vertex they point to.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats as st
from reference import lad_vertex

import mlemap.priors as mp_priors
from mlemap.glm.penalized import fit_penalized
from mlemap.paths import RegularizationPath, regularization_path


def gaussian(n=150, d=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ (np.eye(d) + 0.3 * rng.standard_normal((d, d))) + 2.0
    beta = np.zeros(d)
    beta[:5] = [2.0, -1.5, 1.0, 0.5, -0.3]
    y = X @ beta + 1.0 + rng.standard_normal(n)
    return X, y


def bernoulli(n=200, d=10, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X[:, :3] @ [1.0, -1.0, 0.5])))).astype(float)
    return X, y


def categorical(n=180, d=6, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    B = np.zeros((3, d))
    B[:, :2] = [[1.0, -1.0], [-0.5, 1.0], [0.0, 0.3]]
    P = np.exp(X @ B.T)
    P /= P.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in P], dtype=float)
    return X, y


def poisson(n=200, d=8, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.poisson(np.exp(0.4 * X[:, 0] - 0.3 * X[:, 1] + 0.5)).astype(float)
    return X, y


def centred(X, y):
    return X - X.mean(axis=0), y - y.mean()


def kkt_violation(X, r, coefs, l1, l2=0.0):
    """Largest violation of the optimality conditions of ``(1/n) sum loss + l1 |b| + l2/2 b^2`` at
    each column of ``coefs``, relative to ``l1``; ``r`` holds the loss derivatives in eta, one column
    per alpha (the residuals for least squares)."""
    g = X.T @ r / X.shape[0] - l2 * coefs
    off = np.where(coefs != 0, np.abs(g - l1 * np.sign(coefs)), np.maximum(np.abs(g) - l1, 0.0))
    return (off.max(axis=0) / l1).max()


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_lasso_path_matches_sklearn(fit_intercept):
    from sklearn.linear_model import lasso_path

    X, y = gaussian()
    Xc, yc = centred(X, y)
    path = regularization_path(X if fit_intercept else Xc, y if fit_intercept else yc, fit_intercept=fit_intercept)
    alphas, coefs, _ = lasso_path(Xc, yc, tol=1e-14, max_iter=1_000_000)
    assert kkt_violation(Xc, yc[:, None] - Xc @ coefs, coefs, alphas) < 1e-9  # the reference is optimal
    assert path.coefs.shape == coefs.shape == (20, 100)
    np.testing.assert_allclose(path.alphas, alphas, rtol=1e-12)
    np.testing.assert_allclose(path.coefs, coefs, rtol=1e-6, atol=1e-8)
    if fit_intercept:
        np.testing.assert_allclose(path.intercepts, y.mean() - X.mean(axis=0) @ coefs, rtol=1e-6)


def test_lasso_path_wide_data_matches_sklearn():
    from sklearn.linear_model import lasso_path

    X, y = gaussian(n=30, d=60, seed=4)
    Xc, yc = centred(X, y)
    path = regularization_path(X, y, n_alphas=30, eps=1e-2)
    _, coefs, _ = lasso_path(Xc, yc, alphas=path.alphas, tol=1e-14, max_iter=1_000_000)
    assert kkt_violation(Xc, yc[:, None] - Xc @ coefs, coefs, path.alphas) < 1e-9
    np.testing.assert_allclose(path.coefs, coefs, rtol=1e-6, atol=1e-7)


def test_enet_path_matches_sklearn():
    from sklearn.linear_model import enet_path

    X, y = gaussian(seed=5)
    Xc, yc = centred(X, y)
    path = regularization_path(X, y, penalty="elastic_net", l1_ratio=0.3, n_alphas=40)
    _, coefs, _ = enet_path(Xc, yc, l1_ratio=0.3, alphas=path.alphas, tol=1e-14, max_iter=1_000_000)
    assert kkt_violation(Xc, yc[:, None] - Xc @ coefs, coefs, 0.3 * path.alphas, 0.7 * path.alphas) < 1e-9
    np.testing.assert_allclose(path.alphas[0], np.abs(Xc.T @ yc).max() / (len(y) * 0.3), rtol=1e-12)
    np.testing.assert_allclose(path.coefs, coefs, rtol=1e-6, atol=1e-8)


def test_logistic_path_matches_glum():
    GeneralizedLinearRegressor = pytest.importorskip("glum").GeneralizedLinearRegressor

    X, y = bernoulli()
    path = regularization_path(X, y, family="bernoulli", n_alphas=8, eps=1e-2)
    grid = path.alphas / len(y)  # glum: (1/n) sum nll + alpha ||w||_1
    ref = GeneralizedLinearRegressor(family="binomial", l1_ratio=1.0, alpha_search=True, alpha=list(grid),
                                     gradient_tol=1e-12, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y)
    eta = X @ ref.coef_path_.T + ref.intercept_path_
    r = y[:, None] - 1 / (1 + np.exp(-eta))
    assert kkt_violation(X, r, ref.coef_path_.T, grid) < 1e-9 and np.abs(r.mean(axis=0) / grid).max() < 1e-9
    np.testing.assert_allclose(path.coefs, ref.coef_path_.T, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(path.intercepts, ref.intercept_path_, rtol=1e-6, atol=1e-7)


def test_categorical_path_shapes_and_values():
    X, y = categorical()
    path = regularization_path(X, y, family="categorical", n_alphas=12, eps=1e-2)
    assert path.coefs.shape == (3, 6, 12)
    assert path.intercepts.shape == (3, 12)
    assert path.nnz.shape == (12,) and path.nnz[0] == 0
    for k in (3, 11):
        cold = fit_penalized(X, y, "categorical", path.alphas[k], 0.0)
        np.testing.assert_allclose(path.coefs[..., k], cold.coef, atol=1e-8)
        np.testing.assert_allclose(path.intercepts[:, k], cold.intercept, atol=1e-8)


# (family, data, penalty, l1_ratio)
FAMILIES = [
    ("gaussian", gaussian, "l1", None),
    ("gaussian", gaussian, "elastic_net", 0.5),
    ("bernoulli", bernoulli, "l1", None),
    ("bernoulli", bernoulli, "elastic_net", 0.7),
    ("poisson", poisson, "l1", None),
    ("categorical", categorical, "l1", None),
]


@pytest.mark.parametrize("family,make,penalty,ratio", FAMILIES)
def test_alpha_max_is_the_smallest_alpha_with_all_zeros(family, make, penalty, ratio):
    X, y = make()
    path = regularization_path(X, y, family=family, penalty=penalty, l1_ratio=ratio, n_alphas=5)
    assert path.alphas[0] == pytest.approx(path.alpha_max)
    assert np.all(path.coefs[..., 0] == 0.0)
    below = regularization_path(X, y, family=family, penalty=penalty, l1_ratio=ratio,
                                alphas=[path.alpha_max * (1 + 1e-9), path.alpha_max * (1 - 1e-6)])
    assert np.all(below.coefs[..., 0] == 0.0)
    assert np.count_nonzero(below.coefs[..., 1]) >= 1


@pytest.mark.parametrize("family,make,penalty,ratio", FAMILIES)
def test_warm_starts_and_screening_equal_cold_solves(family, make, penalty, ratio):
    X, y = make()
    path = regularization_path(X, y, family=family, penalty=penalty, l1_ratio=ratio, n_alphas=15, eps=1e-3)
    kind = {"l1": mp_priors.lasso, "elastic_net": lambda a: mp_priors.elastic_net(a, ratio)}[penalty]
    for k in (2, 7, 14):
        l1, l2 = kind(float(path.alphas[k])).weights(family, len(y))
        cold = fit_penalized(X, y, family, l1, l2)
        np.testing.assert_allclose(path.coefs[..., k], cold.coef, atol=1e-8 * max(1, np.abs(cold.coef).max()))
        np.testing.assert_array_equal(path.coefs[..., k] == 0, cold.coef == 0)


def test_ridge_path_matches_sklearn_ridge():
    from sklearn.linear_model import Ridge

    X, y = gaussian(seed=6)
    path = regularization_path(X, y, penalty="l2", n_alphas=6)
    for k in range(6):
        ref = Ridge(alpha=path.alphas[k], solver="cholesky").fit(X, y)
        np.testing.assert_allclose(path.coefs[:, k], ref.coef_, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(path.intercepts[k], ref.intercept_, rtol=1e-7)


def test_laplace_path_matches_quantile_regressor():
    from sklearn.linear_model import QuantileRegressor

    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 4))
    y = X @ [1.0, 0.0, -1.0, 0.5] + rng.laplace(size=60)
    path = regularization_path(X, y, family="laplace", alphas=[0.5, 0.1, 0.02])
    A = np.column_stack([X, np.ones(60)])
    for k, alpha in enumerate(path.alphas):
        ref = QuantileRegressor(quantile=0.5, alpha=alpha, solver="highs").fit(X, y)
        # (1/n) sum pinball_0.5 + alpha ||b||_1 = (sum |r| + 2 n alpha ||b||_1) / (2n): its exact vertex
        exact = lad_vertex(A, y, np.r_[ref.coef_, ref.intercept_], l1=np.r_[np.full(4, 2 * 60 * alpha), 0.0])
        np.testing.assert_allclose(ref.coef_, exact[:4], atol=1e-7)
        np.testing.assert_allclose(path.coefs[:, k], exact[:4], atol=1e-10)


def test_loglik_and_nnz_from_first_principles():
    X, y = gaussian(seed=8)
    path = regularization_path(X, y, n_alphas=10)
    for k in range(10):
        r = y - X @ path.coefs[:, k] - path.intercepts[k]
        sigma = np.sqrt(np.mean(r * r))
        assert path.loglik[k] == pytest.approx(st.norm.logpdf(r, scale=sigma).sum(), rel=1e-12)
        assert path.nnz[k] == np.count_nonzero(path.coefs[:, k])
    Xb, yb = bernoulli()
    pb = regularization_path(Xb, yb, family="bernoulli", n_alphas=4)
    eta = Xb @ pb.coefs + pb.intercepts
    np.testing.assert_allclose(pb.loglik, st.bernoulli.logpmf(yb[:, None], 1 / (1 + np.exp(-eta))).sum(axis=0),
                               rtol=1e-10)
    assert isinstance(pb, RegularizationPath)
    assert pb.n_iter.shape == (4,) and pb.converged.all()


def test_kkt_check_restores_features_the_screening_wrongly_discards(monkeypatch):
    from mlemap.paths import solve

    X, y = bernoulli(seed=9)
    Xg, yg = gaussian(seed=9)
    reference = regularization_path(X, y, family="bernoulli", n_alphas=10)
    reference_g = regularization_path(Xg, yg, n_alphas=10)
    monkeypatch.setattr(solve, "strong_set", lambda *args: np.zeros(0, dtype=np.int64))
    blind = regularization_path(X, y, family="bernoulli", n_alphas=10)
    blind_g = regularization_path(Xg, yg, n_alphas=10)
    np.testing.assert_allclose(blind.coefs, reference.coefs, atol=1e-9)
    np.testing.assert_allclose(blind_g.coefs, reference_g.coefs, atol=1e-8)
    assert np.count_nonzero(blind_g.coefs[:, -1]) > 5


@pytest.mark.parametrize("n,d", [(120, 6), (20, 40)])  # Gram and residual variants
def test_constant_and_large_mean_columns(n, d):
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(10)
    X = rng.standard_normal((n, d))
    X[:, 1] = 3.0  # constant: never enters
    X[:, 2] = 1e6 + rng.standard_normal(n)  # mean far larger than the spread
    y = X[:, 0] - 0.5 * (X[:, 2] - 1e6) + rng.standard_normal(n)
    fit = fit_penalized(X, y, "gaussian", n * 0.05, 0.0)
    ref = Lasso(alpha=0.05, tol=1e-14, max_iter=1_000_000).fit(X, y)
    Xc = X - X.mean(axis=0)
    r = (y - ref.intercept_ - X @ ref.coef_)[:, None]
    assert kkt_violation(Xc, r, ref.coef_[:, None], 0.05) < 1e-9
    assert fit.coef[1] == 0.0
    np.testing.assert_allclose(fit.coef, ref.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("family,make", [("gaussian", gaussian), ("poisson", poisson), ("bernoulli", bernoulli)])
def test_weight_two_equals_a_duplicated_row(family, make):
    X, y = make()
    w = np.ones(len(y))
    w[:10] = 2.0
    offset = np.linspace(-0.2, 0.2, len(y)) if family == "poisson" else None
    weighted = regularization_path(X, y, family=family, n_alphas=8, sample_weight=w, offset=offset)
    idx = np.concatenate([np.arange(len(y)), np.arange(10)])
    duplicated = regularization_path(X[idx], y[idx], family=family, n_alphas=8,
                                     offset=None if offset is None else offset[idx])
    np.testing.assert_allclose(weighted.alphas, duplicated.alphas, rtol=1e-12)
    np.testing.assert_allclose(weighted.coefs, duplicated.coefs, atol=1e-8)
    np.testing.assert_allclose(weighted.loglik, duplicated.loglik, rtol=1e-10)


def test_a_common_offset_does_not_move_a_softmax_fit():
    X, y = categorical()
    plain = fit_penalized(X, y, "categorical", 2.0, 0.0)
    shifted = fit_penalized(X, y, "categorical", 2.0, 0.0, offset=np.linspace(-1, 1, len(y)))
    np.testing.assert_allclose(shifted.coef, plain.coef, atol=1e-8)


@pytest.mark.parametrize("n", [41, 60])  # odd n: one residual is zero at the median fit
def test_laplace_alpha_max(n):
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 3))
    y = X @ [1.0, 0.0, -0.5] + rng.laplace(size=n)
    path = regularization_path(X, y, family="laplace", n_alphas=2)
    assert np.all(path.coefs[:, 0] == 0.0)
    just_below = fit_penalized(X, y, "laplace", 2 * n * path.alpha_max * (1 - 1e-4), 0.0)
    assert np.count_nonzero(just_below.coef) >= 1

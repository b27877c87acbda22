"""select("cv") and select("bic") on regularisation paths."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats as st

from mlemap.errors import MethodError, ParameterError
from mlemap.paths import regularization_path
from mlemap.paths.select import _folds


def data(n=160, d=15, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X[:, :3] @ [1.5, -1.0, 0.5] + 0.5 + rng.standard_normal(n)
    return X, y


def test_cv_is_reproducible_with_a_seed():
    X, y = data()
    a = regularization_path(X, y, n_alphas=20).select("cv", cv=4, seed=11)
    b = regularization_path(X, y, n_alphas=20).select("cv", cv=4, seed=11)
    assert a.alpha == b.alpha and a.index == b.index
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.scores.shape == a.se.shape == (20,)
    assert a.alpha_1se >= a.alpha
    c = regularization_path(X, y, n_alphas=20).select("cv", cv=4, seed=12)
    assert not np.array_equal(a.scores, c.scores)


def test_cv_curve_equals_lasso_cv_on_the_same_folds():
    from sklearn.linear_model import LassoCV

    X, y = data(seed=1)
    path = regularization_path(X, y, n_alphas=15)
    sel = path.select("cv", cv=5, seed=3)
    folds = _folds(y, False, 5, 3)
    splits = [(np.setdiff1d(np.arange(len(y)), test), test) for test in folds]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LassoCV(alphas=path.alphas, cv=splits, tol=1e-14, max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(sel.scores, ref.mse_path_.mean(axis=1), rtol=1e-6)
    assert sel.alpha == pytest.approx(ref.alpha_)


def test_cv_for_classification_keeps_every_class_in_training():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((90, 4))
    y = np.repeat([0.0, 1.0, 2.0], 30)
    X[:, 0] += y
    path = regularization_path(X, y, family="categorical", n_alphas=6, eps=1e-2)
    sel = path.select("cv", cv=3, seed=0)
    assert 0 <= sel.index < 6 and np.all(np.isfinite(sel.scores))


def test_bic_matches_a_bic_computed_here():
    X, y = data(seed=4)
    path = regularization_path(X, y, n_alphas=25)
    n = len(y)
    bic = []
    for k in range(25):
        r = y - X @ path.coefs[:, k] - path.intercepts[k]
        loglik = st.norm.logpdf(r, scale=np.sqrt(np.mean(r * r))).sum()
        df = np.count_nonzero(path.coefs[:, k]) + 1 + 1  # non-zeros + intercept + sigma
        bic.append(-2 * loglik + np.log(n) * df)
    sel = path.select("bic")
    np.testing.assert_allclose(sel.scores, bic, rtol=1e-12)
    assert sel.index == int(np.argmin(bic)) and sel.alpha == path.alphas[sel.index]
    assert path.selection is sel


def test_bic_for_poisson_counts_intercept_and_non_zeros():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((200, 6))
    y = rng.poisson(np.exp(0.5 * X[:, 0])).astype(float)
    path = regularization_path(X, y, family="poisson", n_alphas=8)
    eta = X @ path.coefs + path.intercepts
    loglik = st.poisson.logpmf(y[:, None], np.exp(eta)).sum(axis=0)
    np.testing.assert_allclose(path.bic, -2 * loglik + np.log(200) * (path.nnz + 1), rtol=1e-10)


def test_bad_selection_arguments():
    X, y = data()
    path = regularization_path(X, y, n_alphas=5)
    with pytest.raises(MethodError, match="'cv', 'bic'"):
        path.select("aic")
    with pytest.raises(ParameterError, match="'cv' parameter"):
        path.select("cv", cv=1)

"""fit_penalized against independent solvers, with references exact to machine precision.

scikit-learn (Lasso, ElasticNet, LogisticRegression with saga, PoissonRegressor, QuantileRegressor)
and glum (L1 Poisson; those cases skip when glum is not installed) solve each problem in their own
conventions. Their answers stop at their tolerances, so each is only the starting point of an exact
reference: the objective written out here in their convention, polished by Newton on the active set
and certified by the KKT conditions (tests/reference.py), or for least absolute deviations the exact
LP vertex. mlemap must match the exact reference to 1e-7; the library's own answer must match it to
its looser accuracy, which checks the documented conventions. The penalty weights come from mlemap's
priors (Penalty.weights).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import lad_vertex, penalised_glm_reference

import mlemap.priors as mp_priors
from mlemap.glm.penalized import fit_penalized


def _design(n, d, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + shift
    return rng, X


def gaussian_data(n=120, d=12, seed=0, shift=1.5):
    rng, X = _design(n, d, seed, shift)
    beta = np.zeros(d)
    beta[:4] = [1.5, -2.0, 0.7, 0.3]
    y = X @ beta + 0.8 + rng.standard_normal(n)
    return X, y


def bernoulli_data(n=150, d=8, seed=1):
    rng, X = _design(n, d, seed)
    beta = np.zeros(d)
    beta[:3] = [1.2, -1.0, 0.6]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ beta + 0.3)))).astype(float)
    return X, y


def categorical_data(n=150, d=6, seed=2):
    rng, X = _design(n, d, seed)
    B = np.zeros((3, d))
    B[:, :3] = rng.standard_normal((3, 3))
    P = np.exp(X @ B.T)
    P /= P.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in P], dtype=float)
    return X, y


def poisson_data(n=200, d=8, seed=3):
    rng, X = _design(n, d, seed)
    beta = np.zeros(d)
    beta[:3] = [0.4, -0.3, 0.2]
    y = rng.poisson(np.exp(X @ beta + 0.5)).astype(float)
    return X, y


def laplace_data(n=120, d=6, seed=4):
    rng, X = _design(n, d, seed)
    y = X @ np.array([1.0, 0, 0, 2.0, 0, -1.0]) + 0.5 + rng.laplace(size=n)
    return X, y


def _quiet(fn):
    def wrapped(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the references' own deprecation/convergence chatter
            return fn(*args, **kwargs)

    return wrapped


# Each reference returns (coef, intercept, l1, l2) with its convention written as
# (1/W) sum_i w_i loss_i + l1 ||beta||_1 + l2/2 ||beta||^2 (W = sum w; see reference.glm_loss).
@_quiet
def ref_lasso(X, y, w, alpha, rho):
    from sklearn.linear_model import ElasticNet

    m = ElasticNet(alpha=alpha, l1_ratio=rho, tol=1e-14, max_iter=1_000_000).fit(X, y, sample_weight=w)
    return m.coef_, m.intercept_, alpha * rho, alpha * (1 - rho)  # (1/2W) sum w r^2 + alpha (rho |b| + ...)


@_quiet
def ref_logistic(X, y, w, alpha, rho):
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=1 / alpha, l1_ratio=rho, solver="saga", tol=1e-14, max_iter=2_000_000)
    m.fit(X, y, sample_weight=w)
    W = len(y) if w is None else w.sum()
    strength = alpha / W  # C sum w loss + penalty, divided by C W
    if m.coef_.shape[0] == 1:
        return m.coef_[0], m.intercept_[0], strength * rho, strength * (1 - rho)
    # softmax intercepts are identified up to a shift
    return m.coef_, m.intercept_ - m.intercept_.mean(), strength * rho, strength * (1 - rho)


@_quiet
def ref_poisson_l2(X, y, w, alpha, rho):
    from sklearn.linear_model import PoissonRegressor

    m = PoissonRegressor(alpha=alpha, tol=1e-14, max_iter=10_000, solver="newton-cholesky").fit(X, y, sample_weight=w)
    return m.coef_, m.intercept_, 0.0, alpha  # (1/2W) sum w deviance + alpha/2 ||b||^2


@_quiet
def ref_poisson_glum(X, y, w, alpha, rho):
    GeneralizedLinearRegressor = pytest.importorskip("glum").GeneralizedLinearRegressor

    m = GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=rho, gradient_tol=1e-12, max_iter=1000)
    m.fit(X, y, sample_weight=w)
    return m.coef_, m.intercept_, alpha * rho, alpha * (1 - rho)


@_quiet
def ref_quantile(X, y, w, alpha, rho):
    from sklearn.linear_model import QuantileRegressor

    m = QuantileRegressor(quantile=0.5, alpha=alpha, solver="highs").fit(X, y, sample_weight=w)
    return m.coef_, m.intercept_, alpha, 0.0  # (1/W) sum w |r| / 2 + alpha ||b||_1


def exact_reference(family, X, y, w, coef, intercept, l1, l2, offset=None):
    """The exact minimiser near a library's answer (see the module docstring)."""
    if family == "laplace":
        W = len(y) if w is None else w.sum()
        A = np.column_stack([X, np.ones(len(y))])
        theta = lad_vertex(A, y, np.r_[coef, intercept], w=w, l1=np.r_[np.full(X.shape[1], 2 * W * l1), 0.0])
        return theta[:-1], theta[-1]
    x0 = np.r_[np.ravel(coef), np.ravel(intercept)]
    return penalised_glm_reference(family, X, y, x0, l1=l1, l2=l2, w=w, offset=offset)


def _weights(n, seed=9):
    return np.random.default_rng(seed).uniform(0.5, 2.0, n)


# (id, family, data, prior, reference, use sample weights)
CASES = [
    ("lasso", "gaussian", gaussian_data, mp_priors.lasso(0.1), ref_lasso, False),
    ("lasso-small-alpha", "gaussian", gaussian_data, mp_priors.lasso(0.005), ref_lasso, False),
    ("enet-weighted", "gaussian", gaussian_data, mp_priors.elastic_net(0.05, 0.3), ref_lasso, True),
    ("lasso-wide", "gaussian", lambda: gaussian_data(n=30, d=50, seed=5), mp_priors.lasso(0.2), ref_lasso, False),
    ("logistic-l1", "bernoulli", bernoulli_data, mp_priors.lasso(2.0), ref_logistic, False),
    ("logistic-enet", "bernoulli", bernoulli_data, mp_priors.elastic_net(1.0, 0.5), ref_logistic, False),
    ("logistic-l1-weighted", "bernoulli", bernoulli_data, mp_priors.lasso(1.0), ref_logistic, True),
    ("logistic-l1-wide", "bernoulli", lambda: bernoulli_data(n=40, d=30, seed=6), mp_priors.lasso(1.5), ref_logistic, False),
    ("multinomial-l1", "categorical", categorical_data, mp_priors.lasso(1.0), ref_logistic, False),
    ("multinomial-enet", "categorical", categorical_data, mp_priors.elastic_net(2.0, 0.5), ref_logistic, False),
    ("poisson-l2", "poisson", poisson_data, mp_priors.ridge(0.05), ref_poisson_l2, False),
    ("poisson-l1-glum", "poisson", poisson_data, mp_priors.lasso(0.02), ref_poisson_glum, False),
    ("poisson-enet-glum-weighted", "poisson", poisson_data, mp_priors.elastic_net(0.03, 0.5), ref_poisson_glum, True),
    ("laplace-l1", "laplace", laplace_data, mp_priors.lasso(0.05), ref_quantile, False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_coefficients_match_reference(case):
    _, family, make, prior, reference, weighted = case
    X, y = make()
    w = _weights(len(y)) if weighted else None
    W = len(y) if w is None else w.sum()
    l1, l2 = prior.weights(family, W)
    fit = fit_penalized(X, y, family, l1, l2, sample_weight=w)
    assert fit.converged, fit.message
    coef_ref, intercept_ref, l1_ref, l2_ref = reference(X, y, w, prior.alpha, prior.l1_ratio)
    coef, intercept = exact_reference(family, X, y, w, coef_ref, intercept_ref, l1_ref, l2_ref)
    scale = max(1.0, np.abs(coef).max())
    np.testing.assert_allclose(coef_ref, coef, rtol=1e-5, atol=1e-5 * scale)  # the library, to its accuracy
    np.testing.assert_allclose(fit.coef, coef, rtol=1e-7, atol=1e-7 * scale)
    np.testing.assert_allclose(fit.intercept, intercept, rtol=1e-7, atol=1e-7 * scale)
    np.testing.assert_array_equal(fit.coef == 0, coef == 0)  # the same exact zeros


def test_poisson_offset_matches_glum():
    GeneralizedLinearRegressor = pytest.importorskip("glum").GeneralizedLinearRegressor

    X, y = poisson_data()
    offset = np.log(np.random.default_rng(7).uniform(0.5, 3.0, len(y)))
    alpha = 0.02
    ref = GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=1.0, gradient_tol=1e-12, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y, offset=offset)
    coef, intercept = exact_reference("poisson", X, y, None, ref.coef_, ref.intercept_, alpha, 0.0, offset=offset)
    fit = fit_penalized(X, y, "poisson", len(y) * alpha, 0.0, offset=offset)
    np.testing.assert_allclose(ref.coef_, coef, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fit.coef, coef, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(fit.intercept, intercept, rtol=1e-7)


def test_gaussian_without_intercept_matches_sklearn():
    from sklearn.linear_model import Lasso

    X, y = gaussian_data()
    ref = Lasso(alpha=0.05, fit_intercept=False, tol=1e-14, max_iter=1_000_000).fit(X, y)
    coef, _ = penalised_glm_reference("gaussian", X, y, ref.coef_, l1=0.05, fit_intercept=False)
    fit = fit_penalized(X, y, "gaussian", len(y) * 0.05, 0.0, fit_intercept=False)
    assert fit.intercept == 0.0
    np.testing.assert_allclose(ref.coef_, coef, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fit.coef, coef, rtol=1e-7, atol=1e-10)


def test_torch_and_list_inputs_give_the_same_fit():
    import torch

    X, y = bernoulli_data()
    a = fit_penalized(X, y, "bernoulli", 1.0, 0.0)
    b = fit_penalized(torch.from_numpy(X), torch.from_numpy(y), "bernoulli", 1.0, 0.0)
    c = fit_penalized(X.tolist(), y.tolist(), "bernoulli", 1.0, 0.0)
    np.testing.assert_array_equal(a.coef, b.coef)
    np.testing.assert_array_equal(a.coef, c.coef)

"""Exact zeros and the KKT conditions of fit_penalized, checked with gradients written out here.

For ``F = sum_i w_i nll_i + l1 ||b||_1 + l2/2 ||b||^2`` the solution satisfies
``grad_j + l2 b_j = -l1 sign(b_j)`` where ``b_j != 0``, ``|grad_j| <= l1`` where ``b_j == 0``, and a zero
intercept gradient. ``grad = X^T (w * (mu - y))`` for the canonical-link families.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlemap.errors import ConvergenceWarning
from mlemap.glm.penalized import fit_penalized


def loss_gradient(family, X, y, w, coef, intercept):
    """(feature gradient, intercept gradient) of sum_i w_i nll_i, from the textbook formulas."""
    w = np.ones(len(y)) if w is None else w
    if family == "categorical":
        eta = X @ coef.T + intercept
        P = np.exp(eta - eta.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        R = (P - np.eye(coef.shape[0])[y.astype(int)]) * w[:, None]
        return R.T @ X, R.sum(axis=0)
    eta = X @ coef + intercept
    mu = {"gaussian": eta, "bernoulli": 1 / (1 + np.exp(-eta)), "poisson": np.exp(eta)}[family]
    r = w * (mu - y)
    return X.T @ r, r.sum()


def make(family, n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + rng.uniform(-2, 2, d)
    beta = np.zeros(d)
    beta[: d // 3] = rng.standard_normal(d // 3) * 0.5
    eta = (X - X.mean(axis=0)) @ beta
    if family == "gaussian":
        y = eta + rng.standard_normal(n)
    elif family == "bernoulli":
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    elif family == "poisson":
        y = rng.poisson(np.exp(0.5 * eta / max(1.0, eta.std()))).astype(float)
    else:
        B = rng.standard_normal((3, d)) * (np.arange(d) < d // 3)
        P = np.exp((X - X.mean(axis=0)) @ B.T)
        P /= P.sum(axis=1, keepdims=True)
        y = np.array([rng.choice(3, p=p) for p in P], dtype=float)
    return X, y


# (family, n, d, fraction of the alpha_max-scale used as l1, l2, weighted)
CASES = [
    ("gaussian", 200, 30, 0.2, 0.0, False),
    ("gaussian", 40, 80, 0.1, 0.0, False),  # wide: residual variant
    ("gaussian", 200, 30, 0.05, 3.0, True),
    ("bernoulli", 300, 20, 0.15, 0.0, False),
    ("bernoulli", 60, 50, 0.2, 0.5, True),  # wide: residual inner solver
    ("poisson", 300, 15, 0.1, 0.0, False),
    ("poisson", 300, 15, 0.05, 1.0, True),
    ("categorical", 240, 10, 0.2, 0.0, False),
    ("categorical", 240, 10, 0.1, 0.5, True),
]


def _scale(family, X, y, w):
    """max |grad_j| at the intercept-only fit (computed with a generous l1 that zeroes everything)."""
    big = fit_penalized(X, y, family, 1e12, 0.0, sample_weight=w)
    g, _ = loss_gradient(family, X, y, w, big.coef, big.intercept)
    return np.abs(g).max()


@pytest.mark.parametrize("family,n,d,frac,l2,weighted", CASES)
def test_exact_zeros_and_kkt(family, n, d, frac, l2, weighted):
    X, y = make(family, n, d, seed=n + d)
    w = np.random.default_rng(1).uniform(0.2, 3.0, n) if weighted else None
    scale = _scale(family, X, y, w)
    l1 = frac * scale
    fit = fit_penalized(X, y, family, l1, l2, sample_weight=w)
    assert fit.converged
    coef = fit.coef
    assert np.any(coef == 0.0), "an L1 penalty this strong must give exact zeros"
    assert np.any(coef != 0.0)
    g, g0 = loss_gradient(family, X, y, w, coef, fit.intercept)
    total = g + l2 * coef
    tol = 1e-7 * scale
    nz = coef != 0
    np.testing.assert_allclose(total[nz], -l1 * np.sign(coef[nz]), atol=tol, rtol=0)
    assert np.all(np.abs(g[~nz]) <= l1 + tol)
    np.testing.assert_allclose(g0, 0.0, atol=tol)
    assert fit.kkt_violation <= 1e-9


@pytest.mark.parametrize("family", ["gaussian", "bernoulli", "poisson", "categorical"])
def test_l1_above_the_gradient_scale_gives_all_zeros(family):
    X, y = make(family, 150, 8, seed=3)
    scale = _scale(family, X, y, None)
    assert np.all(fit_penalized(X, y, family, scale * (1 + 1e-9), 0.0).coef == 0.0)
    assert np.any(fit_penalized(X, y, family, scale * (1 - 1e-6), 0.0).coef != 0.0)


def test_laplace_l1_is_optimal_against_perturbations():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 5))
    y = X @ np.array([1.0, 0.0, -2.0, 0.0, 0.5]) + rng.laplace(size=80)
    l1 = 15.0
    fit = fit_penalized(X, y, "laplace", l1, 0.0)

    def objective(c, b):
        return np.abs(y - X @ c - b).sum() + l1 * np.abs(c).sum()

    best = objective(fit.coef, fit.intercept)
    assert best == pytest.approx(fit.objective, rel=1e-12)
    assert np.any(fit.coef == 0.0)
    for _ in range(200):
        dc, db = rng.normal(scale=1e-3, size=5), rng.normal(scale=1e-3)
        assert objective(fit.coef + dc, fit.intercept + db) >= best - 1e-9


def test_warm_start_gives_the_same_answer():
    X, y = make("bernoulli", 200, 12, seed=5)
    cold = fit_penalized(X, y, "bernoulli", 3.0, 0.0)
    warm = fit_penalized(X, y, "bernoulli", 3.0, 0.0, coef_init=cold.coef * 0.5 + 0.1, intercept_init=0.0)
    np.testing.assert_allclose(warm.coef, cold.coef, atol=1e-8)


def test_non_convergence_warns_with_advice():
    X, y = make("gaussian", 100, 40, seed=2)
    with pytest.warns(ConvergenceWarning, match="Increase max_iter"):
        fit = fit_penalized(X, y, "gaussian", 1.0, 0.0, max_iter=1)
    assert not fit.converged


try:
    from hypothesis import given, settings
    from hypothesis import strategies as hs
except ImportError:  # pragma: no cover
    given = None

if given is not None:

    @settings(max_examples=25, deadline=None)
    @given(
        family=hs.sampled_from(["gaussian", "bernoulli", "poisson", "categorical"]),
        seed=hs.integers(0, 10_000),
        frac=hs.floats(0.01, 0.9),
        l2=hs.sampled_from([0.0, 0.3]),
        n=hs.integers(20, 120),
        d=hs.integers(1, 12),
    )
    def test_kkt_holds_on_random_problems(family, seed, frac, l2, n, d):
        X, y = make(family, n, max(d, 3), seed)
        if family == "bernoulli" and y.min() == y.max():
            y[0] = 1 - y[0]
        if family == "categorical" and len(np.unique(y)) < 3:
            y[:3] = [0, 1, 2]
        if family == "poisson" and y.max() == 0:
            y[0] = 1
        scale = _scale(family, X, y, None)
        fit = fit_penalized(X, y, family, frac * scale, l2)
        g, g0 = loss_gradient(family, X, y, None, fit.coef, fit.intercept)
        total = g + l2 * fit.coef
        nz = fit.coef != 0
        tol = 1e-6 * max(scale, 1.0)
        assert np.all(np.abs(total[nz] + frac * scale * np.sign(fit.coef[nz])) <= tol)
        assert np.all(np.abs(g[~nz]) <= frac * scale + tol)
        assert np.all(np.abs(g0) <= tol)

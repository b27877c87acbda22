"""The Newton/IRLS core: exact derivatives (against finite differences), and the large-data path
(subsample warm start, chord steps, exact final Hessian) landing where plain Newton does."""

import numpy as np
import pytest

from mlemap.glm.family import BernoulliGLM, CategoricalGLM, PoissonGLM
from mlemap.glm.gram import torch_single_thread, weighted_gram
from mlemap.glm.newton import GLMObjective, newton_solve


def _objective(kind, l2=0.0, weighted=False, n=60):
    rng = np.random.default_rng(1700)
    rng = np.random.default_rng([ord(c) for c in kind] + [int(10 * l2), int(weighted), n])  # same data in any order
    X = rng.standard_normal((n, 3))
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    if kind == "bernoulli":
        y = (rng.random(n) < 0.4).astype(float)
        return GLMObjective(X, y, BernoulliGLM(), sample_weight=w, l2=l2)
    if kind == "poisson":
        y = rng.poisson(2.0, n).astype(float)
        return GLMObjective(X, y, PoissonGLM(), sample_weight=w, offset=rng.normal(0, 0.3, n), l2=l2)
    y = rng.integers(0, 3, n)
    free = [0, 1, 2] if l2 else [1, 2]
    return GLMObjective(X, y, CategoricalGLM(), sample_weight=w, l2=l2, n_classes=3, free=free)


def _fd(obj, theta, h=1e-5):
    f = lambda t: obj.value(t, obj.eta(obj.linear(t)))
    p = theta.size
    g = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(p)])
    H = np.empty((p, p))
    for i in range(p):
        for j in range(p):
            ei, ej = np.eye(p)[i] * h, np.eye(p)[j] * h
            H[i, j] = (f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)) / (4 * h * h)
    return g, H


CASES = [(k, l2, wt) for k in ("bernoulli", "poisson", "categorical") for l2 in (0.0, 0.7) for wt in (False, True)]


@pytest.mark.parametrize("kind, l2, weighted", CASES, ids=[f"{k}-l2={l}-w={w}" for k, l, w in CASES])
def test_gradient_and_hessian_are_exact(kind, l2, weighted):
    obj = _objective(kind, l2, weighted)
    theta = np.random.default_rng(obj.size).normal(0, 0.3, obj.size)
    eta = obj.eta(obj.linear(theta))
    with torch_single_thread():  # hundreds of tiny evaluations
        g_fd, H_fd = _fd(obj, theta)
    np.testing.assert_allclose(obj.gradient(theta, eta), g_fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(obj.hessian(theta, eta), H_fd, rtol=1e-4, atol=1e-4)


def test_fused_pass_equals_separate_products():
    rng = np.random.default_rng(1701)
    obj = _objective("poisson", 0.3, True, n=20_000)
    theta = rng.normal(0, 0.1, obj.size)
    s = rng.normal(0, 0.05, obj.size)
    lin = obj.linear(theta)
    u, f1, g1 = obj.full_step(theta, lin, s)
    eta1 = obj.eta(obj.linear(theta + s))
    np.testing.assert_allclose(u.numpy(), obj.linear(s).numpy() - 0.0, rtol=1e-12, atol=1e-12)
    assert f1 == pytest.approx(obj.value(theta + s, eta1), rel=1e-12)
    np.testing.assert_allclose(g1, obj.gradient(theta + s, eta1), rtol=1e-9, atol=1e-9)


def test_weighted_gram_is_the_weighted_cross_product():
    rng = np.random.default_rng(1702)
    X = rng.standard_normal((20_001, 4))
    h = rng.random(20_001)
    A = np.column_stack([X, np.ones(len(h))])
    np.testing.assert_allclose(weighted_gram(X, h, True), A.T @ (h[:, None] * A), rtol=1e-12)
    np.testing.assert_allclose(weighted_gram(X, h, False), X.T @ (h[:, None] * X), rtol=1e-12)


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_large_data_path_lands_where_plain_newton_does(family):
    rng = np.random.default_rng(1703)
    n, d = 220_000, 9  # n * p >= 2e6 and n > 4 * 50,000: the subsample warm start and chord steps run
    X = rng.standard_normal((n, d))
    beta = rng.normal(0, 0.2, d)
    if family == "bernoulli":
        y, fam = (rng.random(n) < 1 / (1 + np.exp(-X @ beta))).astype(float), BernoulliGLM()
    else:
        y, fam = rng.poisson(np.exp(0.2 + X @ beta)).astype(float), PoissonGLM()
    lazy = newton_solve(GLMObjective(X, y, fam))
    plain = newton_solve(GLMObjective(X, y, fam), lazy=False)
    assert "subsample" in lazy.message and lazy.converged and plain.converged
    H = plain.hessian
    delta = lazy.theta - plain.theta
    assert float(delta @ H @ delta) < 1e-4  # within a hundredth of a standard error
    assert lazy.objective == pytest.approx(plain.objective, rel=1e-12)
    # the returned Hessian is the exact one at the returned point
    exact = GLMObjective(X, y, fam)
    np.testing.assert_allclose(lazy.hessian, exact.hessian(lazy.theta, exact.eta(exact.linear(lazy.theta))), rtol=1e-12)


def test_wide_problems_use_lbfgs_and_land_on_the_newton_solution(monkeypatch):
    rng = np.random.default_rng(1704)
    import mlemap.models as mm
    import mlemap.models.glm_routes as routes
    from mlemap import priors

    X = rng.standard_normal((400, 8))
    y = (rng.random(400) < 1 / (1 + np.exp(-X @ rng.normal(0, 0.3, 8)))).astype(float)
    newton = mm.LogisticRegression(prior=priors.ridge(1.0)).fit(X, y)
    monkeypatch.setattr(routes, "WIDE", 5)
    wide = mm.LogisticRegression(prior=priors.ridge(1.0)).fit(X, y)
    assert wide._fit.solver.startswith("L-BFGS") and wide.converged_
    np.testing.assert_allclose(wide.coef_, newton.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(wide.se_, newton.se_, rtol=1e-6)

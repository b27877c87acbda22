"""Weighted Gram products, and the routes for large and wide data landing on the Newton solution."""

import numpy as np
import pytest
import torch

from mlemap.core.optimize import solve
from mlemap.core.regression import RegressionProblem
from mlemap.glm.family import BernoulliGLM, PoissonGLM
from mlemap.glm.gram import weighted_gram


def test_weighted_gram_is_the_weighted_cross_product():
    rng = np.random.default_rng(17)
    X = rng.standard_normal((20_001, 4))
    h = rng.random(20_001)
    A = np.column_stack([X, np.ones(len(h))])
    np.testing.assert_allclose(weighted_gram(X, h, True), A.T @ (h[:, None] * A), rtol=1e-12)
    np.testing.assert_allclose(weighted_gram(X, h, False), X.T @ (h[:, None] * X), rtol=1e-12)


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_subsample_warm_start_lands_where_plain_newton_does(family, monkeypatch):
    import mlemap.core.optimize as optimize

    # the warm start's thresholds scaled down tenfold (200,000 rows and a 50,000-row sample by default)
    monkeypatch.setattr(optimize, "SUBSAMPLE_ABOVE", 20_000)
    monkeypatch.setattr(optimize, "SUBSAMPLE_SIZE", 5_000)
    rng = np.random.default_rng(18)
    n, d = 22_000, 9
    X = rng.standard_normal((n, d))
    beta = rng.normal(0, 0.2, d)
    if family == "bernoulli":
        y, fam = (rng.random(n) < 1 / (1 + np.exp(-X @ beta))).astype(float), BernoulliGLM()
    else:
        y, fam = rng.poisson(np.exp(0.2 + X @ beta)).astype(float), PoissonGLM()
    pb = RegressionProblem(fam, X, y)
    warm = solve(pb)
    plain = solve(pb, warm_start=False)
    assert warm.converged and plain.converged
    H = pb.objective().value_grad_hess(plain.x)[2]
    delta = warm.x - plain.x
    assert float(delta @ H @ delta) < 1e-12  # within a millionth of a standard error
    assert warm.fun == pytest.approx(plain.fun, rel=1e-13)


def test_wide_problems_use_lbfgs_and_land_on_the_newton_solution(monkeypatch):
    import mlemap.models as mm
    import mlemap.models.glm_routes as routes
    from mlemap import priors

    rng = np.random.default_rng(19)
    X = rng.standard_normal((400, 8))
    y = (rng.random(400) < 1 / (1 + np.exp(-X @ rng.normal(0, 0.3, 8)))).astype(float)
    newton = mm.LogisticRegression(prior=priors.ridge(1.0)).fit(X, y)
    monkeypatch.setattr(routes, "WIDE", 5)
    wide = mm.LogisticRegression(prior=priors.ridge(1.0)).fit(X, y)
    assert wide.estimate_.convergence.solver.startswith("L-BFGS") and wide.converged_
    np.testing.assert_allclose(wide.coef_, newton.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(wide.se_, newton.se_, rtol=1e-6)
    assert torch.is_tensor(newton.estimate_.params["x0"])

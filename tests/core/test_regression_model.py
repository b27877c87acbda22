"""The regression model's chunk contributions: exact derivatives, chunk invariance, devices' kernels."""

import numpy as np
import pytest
import torch

from mlemap.core.objective import Objective
from mlemap.core.regression import RegressionModel, RidgePenalty
from mlemap.core.source import InMemorySource
from mlemap.glm.family import BernoulliGLM, CategoricalGLM, GaussianGLM, PoissonGLM


def _data(kind, n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)) * [1.0, 0.5, 2.0, 1.0]
    w = rng.uniform(0.5, 2.0, n)
    off = rng.normal(0, 0.2, n)
    eta = 0.3 + X @ [0.5, -0.4, 0.1, 0.0]
    if kind == "bernoulli":
        y, fam = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float), BernoulliGLM()
    elif kind == "poisson":
        y, fam = rng.poisson(np.exp(eta + off)).astype(float), PoissonGLM()
    elif kind == "gaussian":
        y, fam = eta + rng.standard_normal(n), GaussianGLM()
    else:
        y, fam = rng.integers(0, 3, n), CategoricalGLM()
    cols = {"X": X, "y": torch.from_numpy(np.asarray(y, dtype=np.int64 if kind == "softmax" else np.float64)),
            "weight": torch.from_numpy(w)}
    if kind == "poisson":
        cols["offset"] = torch.from_numpy(off)
    return fam, cols


def _model(kind, fam, free=None):
    return RegressionModel(fam, 4, intercept=True, n_classes=3 if kind == "softmax" else None, free=free)


def _fd(f, x, h=1e-5):
    p = x.numel()
    g = np.empty(p)
    H = np.empty((p, p))
    for i in range(p):
        e = torch.zeros(p, dtype=torch.float64)
        e[i] = h
        g[i] = (float(f(x + e)[0]) - float(f(x - e)[0])) / (2 * h)
        H[i] = (f(x + e)[1].numpy() - f(x - e)[1].numpy()) / (2 * h)
    return g, H


CASES = [("bernoulli", None), ("poisson", None), ("gaussian", None), ("softmax", None), ("softmax", [1, 2])]


@pytest.mark.parametrize("kind,free", CASES, ids=[f"{k}-{f}" for k, f in CASES])
def test_gradient_and_hessian_match_finite_differences(kind, free):
    fam, cols = _data(kind)
    model = _model(kind, fam, free)
    obj = Objective(model, InMemorySource(cols), penalty=RidgePenalty(0.7, np.ones(model.size)))
    theta = torch.as_tensor(np.random.default_rng(1).normal(0, 0.2, model.size))
    f, g, H = obj.value_grad_hess(theta)
    g_fd, H_fd = _fd(lambda t: obj.value_and_grad(t), theta)
    np.testing.assert_allclose(g.numpy(), g_fd, rtol=1e-6, atol=1e-6 * float(g.abs().max()))
    np.testing.assert_allclose(H.numpy(), H_fd, rtol=1e-6, atol=1e-6 * float(H.abs().max()))
    # the value is the family's own negative log-likelihood (without constants) plus the penalty
    eta = model.eta_of(cols, theta)
    direct = float((cols["weight"] * fam.nll(cols["y"], eta)).sum()) + 0.35 * float(theta @ theta)
    assert float(f) == pytest.approx(direct, rel=1e-13)


@pytest.mark.parametrize("kind", ["bernoulli", "poisson", "softmax"])
@pytest.mark.parametrize("chunk_rows", [600, 86, 1], ids=["1-chunk", "7-chunks", "600-chunks"])
def test_chunked_evaluation_equals_the_whole(kind, chunk_rows):
    fam, cols = _data(kind)
    model = _model(kind, fam)
    theta = torch.as_tensor(np.random.default_rng(2).normal(0, 0.3, model.size))
    whole = Objective(model, InMemorySource(cols, chunk_rows=10_000)).evaluate(theta, 2)
    parts = Objective(model, InMemorySource(cols, chunk_rows=chunk_rows)).evaluate(theta, 2)
    assert float(parts.value) == pytest.approx(float(whole.value), rel=1e-12)
    np.testing.assert_allclose(parts.grad.numpy(), whole.grad.numpy(), rtol=1e-10, atol=1e-12 * float(whole.grad.abs().max()))
    np.testing.assert_allclose(parts.hess.numpy(), whole.hess.numpy(), rtol=1e-10, atol=1e-12 * float(whole.hess.abs().max()))


@pytest.mark.parametrize("kind", ["bernoulli", "poisson", "softmax"])
def test_torch_and_numpy_kernels_agree(kind):
    fam, cols = _data(kind)
    model = _model(kind, fam)
    theta = torch.as_tensor(np.random.default_rng(3).normal(0, 0.3, model.size))
    a = Objective(model, InMemorySource(cols)).evaluate(theta, 2)
    tcols = {**cols, "X": torch.from_numpy(cols["X"])}
    b = Objective(model, InMemorySource(tcols)).evaluate(theta, 2)
    assert float(b.value) == pytest.approx(float(a.value), rel=1e-13)
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(b.hess.numpy(), a.hess.numpy(), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("kind, l2", [("bernoulli", 0.0), ("poisson", 0.0), ("poisson", 2.0)])
def test_the_summary_at_the_optimum_comes_from_the_solvers_last_pass(kind, l2, monkeypatch):
    # log-likelihood and largest predictor read from the last exact evaluation equal a fresh pass
    from mlemap.core.optimize import solve
    from mlemap.core.regression import RegressionProblem
    from mlemap.core.regression_sums import SummaryMap

    fam, cols = _data(kind)
    pb = RegressionProblem(fam, cols["X"], cols["y"].numpy(), weight=cols["weight"].numpy(),
                           offset=cols["offset"].numpy() if "offset" in cols else None).with_penalty(l2)
    res = solve(pb)
    assert res.converged
    fresh = pb.source.map_reduce(SummaryMap(pb.model, pb.theta(res.x)))
    passes = []
    original = type(pb.source).map_reduce
    monkeypatch.setattr(type(pb.source), "map_reduce", lambda self, fn: passes.append(fn) or original(self, fn))
    read = pb.fit_summary(pb.theta(res.x))
    assert passes == []
    assert read.loglik == pytest.approx(fresh.loglik, rel=1e-13)
    assert read.largest == fresh.largest
    # anywhere else, a pass
    elsewhere = pb.fit_summary(pb.theta(res.x) * 1.01)
    assert len(passes) == 1
    assert elsewhere.loglik == pytest.approx(pb.source.map_reduce(SummaryMap(pb.model, pb.theta(res.x) * 1.01)).loglik, rel=1e-13)

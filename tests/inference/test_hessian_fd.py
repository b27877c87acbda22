"""The objective's exact autograd derivatives against central finite differences of its value.

The objective is built from :class:`mlemap.core.distribution_problem.DistributionProblem` as the engine builds it, over the
unconstrained vector ``u`` (log for positive parameters, log-Cholesky for a covariance matrix).
Its value is checked against scipy's log-density at the unpacked parameters, and its gradient and
Hessian against finite differences of the value, on both the sufficient-statistics path and the
per-observation (chunked) path.
"""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from mlemap.core.distribution_problem import DistributionProblem as Problem
from mlemap.core.distribution_problem import resolve_fixed
from mlemap.core.objective import Objective
from mlemap.families import resolve_family


def make_problem(family, data, fixed=None):
    fam = resolve_family(family)
    x, fam = fam.prepare(data, dtype=torch.float64, device=None)
    if fam.event_ndim == 0 and x.dim() == 2:
        x = x.reshape(-1)
    return Problem(fam, x, None, resolve_fixed(fam, fixed, x), {})


def fd_grad_hess(f, u, h=1e-4):
    """Central differences of a scalar function of a torch vector: gradient and Hessian."""
    p = u.numel()
    E = torch.eye(p, dtype=u.dtype)
    val = lambda v: float(f(v))  # noqa: E731
    g = np.empty(p)
    H = np.empty((p, p))
    for i in range(p):
        g[i] = (val(u + h * E[i]) - val(u - h * E[i])) / (2 * h)
        for j in range(i, p):
            a, b = h * E[i], h * E[j]
            H[i, j] = H[j, i] = (val(u + a + b) - val(u + a - b) - val(u - a + b) + val(u - a - b)) / (4 * h * h)
    return g, H


def vech_to_cov(v, d):
    """Log-Cholesky map written out: fill L row by row, exponentiate the diagonal, return L L^T."""
    L = np.zeros((d, d))
    k = 0
    for i in range(d):
        for j in range(i + 1):
            L[i, j] = math.exp(v[k]) if i == j else v[k]
            k += 1
    return L @ L.T


def _studentt_ll(x, u):
    df, loc, scale = math.exp(u[0]), u[1], math.exp(u[2])
    return stats.t.logpdf(x, df, loc=loc, scale=scale).sum()


def _weibull_ll(x, u):
    scale, k = math.exp(u[0]), math.exp(u[1])
    return stats.weibull_min.logpdf(x, k, scale=scale).sum()


def _beta_ll(x, u):
    return stats.beta.logpdf(x, math.exp(u[0]), math.exp(u[1])).sum()


def _von_mises_ll(x, u):
    loc, kappa = u[0], math.exp(u[1])
    d = np.remainder(x - loc + math.pi, 2 * math.pi) - math.pi
    return stats.vonmises.logpdf(d, kappa).sum()


def _dirichlet_ll(x, u):
    alpha = np.exp(u)
    return sum(stats.dirichlet.logpdf(row, alpha) for row in x)


def _mvn_ll(x, u):
    d = x.shape[1]
    loc = u[:d]
    cov = vech_to_cov(u[d:], d)
    return stats.multivariate_normal.logpdf(x, loc, cov).sum()


CASES = {
    "studentt": (lambda rng: 1.0 + 2.0 * rng.standard_t(5.0, size=60), _studentt_ll),
    "weibull": (lambda rng: 2.0 * rng.weibull(1.5, size=60), _weibull_ll),
    "beta": (lambda rng: rng.beta(2.0, 5.0, size=60), _beta_ll),
    "von_mises": (lambda rng: rng.vonmises(0.5, 2.0, size=60), _von_mises_ll),
    "dirichlet": (lambda rng: rng.dirichlet([2.0, 3.0, 4.0], size=40), _dirichlet_ll),
    "multivariate_normal": (
        lambda rng: rng.multivariate_normal([0.0, 1.0, 2.0], [[2, 0.5, 0.3], [0.5, 1, 0.2], [0.3, 0.2, 1.5]], size=40),
        _mvn_ll,
    ),
}


def _point(family, size, rng):
    u = rng.normal(0.0, 0.3, size=size)
    if family == "multivariate_normal":
        u[:3] += [0.0, 1.0, 2.0]
    return torch.tensor(u, dtype=torch.float64)


@pytest.mark.parametrize("use_statistics", [True, False], ids=["statistics", "per-observation"])
@pytest.mark.parametrize("family", list(CASES), ids=list(CASES))
def test_value_gradient_and_hessian_match_finite_differences(family, use_statistics):
    rng = np.random.default_rng(31)
    gen, scipy_ll = CASES[family]
    data = gen(rng)
    problem = make_problem(family, data)
    obj = problem.objective(use_statistics=use_statistics)
    if not use_statistics:
        assert obj.stats is None
    u = _point(family, obj.size, rng)

    f, g, H = obj.value_grad_hess(u)
    # the value is minus scipy's log-likelihood at the unpacked parameters
    np.testing.assert_allclose(float(f), -scipy_ll(data, u.numpy()), rtol=1e-10)
    np.testing.assert_allclose(float(obj.value(u)), float(f), rtol=1e-12)
    f1, g1 = obj.value_and_grad(u)
    np.testing.assert_allclose(g1.numpy(), g.numpy(), rtol=1e-12, atol=1e-12)

    g_fd, H_fd = fd_grad_hess(obj.value, u)
    g, H = g.numpy(), H.numpy()
    np.testing.assert_allclose(g, g_fd, rtol=1e-5, atol=1e-5 * np.abs(g).max())
    np.testing.assert_allclose(H, H_fd, rtol=1e-5, atol=1e-5 * np.abs(H).max())
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-12 * np.abs(H).max())


@pytest.mark.parametrize("family", ["beta", "von_mises", "dirichlet", "multivariate_normal"])
def test_statistics_and_per_observation_objectives_agree(family):
    rng = np.random.default_rng(32)
    gen, _ = CASES[family]
    problem = make_problem(family, gen(rng))
    a = problem.objective(use_statistics=True)
    b = problem.objective(use_statistics=False)
    assert a.stats is not None and b.stats is None
    u = _point(family, a.size, rng)
    fa, ga, Ha = a.value_grad_hess(u)
    fb, gb, Hb = b.value_grad_hess(u)
    np.testing.assert_allclose(float(fa), float(fb), rtol=1e-11)
    np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-9, atol=1e-9 * float(ga.abs().max()))
    np.testing.assert_allclose(Ha.numpy(), Hb.numpy(), rtol=1e-9, atol=1e-9 * float(Ha.abs().max()))


def test_log_cholesky_layout_matches_the_written_out_map():
    rng = np.random.default_rng(33)
    problem = make_problem("multivariate_normal", CASES["multivariate_normal"][0](rng))
    layout = problem.objective().model.layout
    u = _point("multivariate_normal", layout.size, rng)
    params = layout.unpack(u)
    np.testing.assert_allclose(params["loc"].numpy(), u[:3].numpy(), rtol=0)
    np.testing.assert_allclose(params["covariance_matrix"].numpy(), vech_to_cov(u[3:].numpy(), 3), rtol=1e-13)
    np.testing.assert_allclose(layout.pack(params).numpy(), u.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("chunk_rows", [3000, 429, 3], ids=["1-chunk", "7-chunks", "1000-chunks"])
@pytest.mark.parametrize("family", ["studentt", "weibull"])
def test_chunked_objective_sums_chunks_exactly(family, chunk_rows):
    rng = np.random.default_rng(34)
    data = 2.0 * rng.weibull(1.5, size=3000) if family == "weibull" else rng.standard_t(5.0, size=3000)
    whole = make_problem(family, data).objective(use_statistics=False)
    assert whole.source.n_chunks == 1
    chunked = Objective(whole.model, whole.source.rechunk(chunk_rows), penalty=whole.penalty)
    assert chunked.source.n_chunks == -(-3000 // chunk_rows)
    u = _point(family, whole.size, rng)
    f1, g1, H1 = whole.value_grad_hess(u)
    f2, g2, H2 = chunked.value_grad_hess(u)
    np.testing.assert_allclose(float(f2), float(f1), rtol=1e-12)
    np.testing.assert_allclose(g2.numpy(), g1.numpy(), rtol=1e-10, atol=1e-10 * float(g1.abs().max()))
    np.testing.assert_allclose(H2.numpy(), H1.numpy(), rtol=1e-10, atol=1e-10 * float(H1.abs().max()))
    if chunk_rows == 3000:  # the chunked Hessians equal this one to 1e-10 (above)
        g_fd, H_fd = fd_grad_hess(whole.value, u)
        np.testing.assert_allclose(H2.numpy(), H_fd, rtol=1e-5, atol=1e-5 * float(H2.abs().max()))


def test_gradient_vanishes_and_hessian_is_positive_definite_at_the_mle():
    import mlemap as mm

    rng = np.random.default_rng(35)
    data = 1.0 + 2.0 * rng.standard_t(5.0, size=200)
    r = mm.fit("studentt", data)
    problem = make_problem("studentt", data)
    obj = problem.objective()
    u = obj.model.layout.pack({k: torch.tensor(v, dtype=torch.float64) for k, v in r.params.items()})
    f, g, H = obj.value_grad_hess(u)
    np.testing.assert_allclose(-float(f), r.loglik, rtol=1e-12)
    assert float(torch.linalg.eigvalsh(H).min()) > 0
    # Newton decrement: the distance to the optimum in standard-error units is negligible
    decrement = float(g @ torch.linalg.solve(H, g))
    assert decrement < 1e-10
    g_fd, H_fd = fd_grad_hess(obj.value, u)
    np.testing.assert_allclose(H.numpy(), H_fd, rtol=1e-5, atol=1e-5 * float(H.abs().max()))

"""log_cdf / log_sf of every family with a cdf, against mpmath in 40 digits, far into both tails,
and their first and second derivatives in the parameters against mpmath's numerical derivatives."""

import math

import mpmath as mp
import numpy as np
import pytest
import torch

from mlemap.families import resolve_family
from mlemap.families.logistic import softplus
from mlemap.families.special import log1mexp, log1mexp_exp, log_beta, log_betainc, log_gammainc

import mp_reference as ref

# family, parameters, points from the far lower to the far upper tail (inside the support)
CASES = [
    ("normal", {"loc": 1.0, "scale": 2.0}, [-200.0, -40.0, -3.0, 0.0, 1.0, 2.5, 40.0, 200.0]),
    ("lognormal", {"loc": 0.5, "scale": 0.7}, [1e-20, 1e-5, 0.3, 1.6, 5.0, 100.0, 1e8]),
    ("laplace", {"loc": 1.0, "scale": 2.0}, [-1000.0, -10.0, 0.0, 1.0, 1.0000001, 3.0, 50.0, 1400.0]),
    ("studentt", {"df": 3.5, "loc": 1.0, "scale": 2.0}, [-1e10, -1e3, -30.0, -2.0, 0.0, 0.9999, 1.0, 1.0001, 7.0, 1e4, 1e12]),
    ("studentt", {"df": 0.7, "loc": 0.0, "scale": 1.0}, [-1e30, -1e3, -2.0, -0.3, 0.0, 0.3, 2.0, 1e5]),
    ("studentt", {"df": 250.0, "loc": 0.0, "scale": 1.0}, [-60.0, -20.0, -5.0, -1.0, -0.1, 0.2, 3.0, 9.0, 40.0]),
    ("cauchy", {"loc": 1.0, "scale": 2.0}, [-1e15, -1e3, -2.0, 1.0, 4.0, 1e3, 1e15]),
    ("gumbel", {"loc": 1.0, "scale": 2.0}, [-20.0, -5.0, 0.0, 1.0, 3.0, 30.0, 200.0, 1400.0]),
    ("logistic", {"loc": 1.0, "scale": 2.0}, [-1400.0, -100.0, -5.0, 1.0, 3.0, 50.0, 1400.0]),
    ("half_normal", {"scale": 2.0}, [1e-300, 1e-8, 0.5, 2.0, 3.0, 10.0, 60.0]),
    ("exponential", {"rate": 2.0}, [1e-300, 1e-10, 0.1, 1.0, 10.0, 300.0]),
    ("gamma", {"concentration": 2.5, "rate": 1.5}, [1e-200, 1e-8, 0.1, 1.0, 1.6, 3.0, 10.0, 100.0, 700.0]),
    ("gamma", {"concentration": 0.2, "rate": 1.5}, [1e-200, 1e-8, 0.1, 1.0, 3.0, 10.0, 100.0]),
    ("gamma", {"concentration": 400.0, "rate": 2.0}, [50.0, 150.0, 190.0, 200.0, 210.0, 260.0, 600.0]),
    ("weibull", {"scale": 2.0, "concentration": 1.7}, [1e-200, 1e-8, 0.5, 2.0, 5.0, 40.0, 1e4]),
    ("loglogistic", {"scale": 2.0, "concentration": 1.5}, [1e-200, 1e-8, 0.5, 2.0, 5.0, 1e5, 1e200]),
    ("beta", {"concentration1": 2.5, "concentration0": 0.6}, [1e-100, 1e-5, 0.3, 0.5, 0.9, 1 - 1e-6, 1 - 1e-12]),
    ("beta", {"concentration1": 30.0, "concentration0": 45.0}, [1e-3, 0.2, 0.4, 0.41, 0.6, 0.9]),
    ("poisson", {"rate": 3.5}, [0.0, 1.0, 3.0, 5.0, 10.0, 30.0, 100.0]),
    ("geometric", {"probs": 0.3}, [0.0, 1.0, 5.0, 20.0, 500.0]),
    ("negative_binomial", {"total_count": 2.5, "probs": 0.4}, [0.0, 1.0, 3.0, 10.0, 50.0, 200.0]),
    ("binomial", {"total_count": 20.0, "probs": 0.3}, [0.0, 1.0, 5.0, 10.0, 15.0, 19.0]),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


def _t(v):
    return torch.as_tensor(np.asarray(v, dtype=np.float64))


def _close(got, want, rtol):
    got, want = np.asarray(got, float), np.asarray(want, float)
    return np.abs(got - want) <= rtol * np.abs(want) + 1e-300


@pytest.mark.parametrize("name, params, xs", CASES, ids=IDS)
def test_log_cdf_and_log_sf_match_mpmath_in_both_tails(name, params, xs):
    fam = resolve_family(name)
    p = {k: _t(v) for k, v in params.items()}
    got_cdf = fam.log_cdf(_t(xs), p).numpy()
    got_sf = fam.log_sf(_t(xs), p).numpy()
    want_cdf = [ref.log_cdf(name, x, params) for x in xs]
    want_sf = [ref.log_sf(name, x, params) for x in xs]
    bad_cdf = ~_close(got_cdf, want_cdf, 2e-13)
    bad_sf = ~_close(got_sf, want_sf, 2e-13)
    assert not bad_cdf.any(), [(x, g, w) for x, g, w, b in zip(xs, got_cdf, want_cdf, bad_cdf) if b]
    assert not bad_sf.any(), [(x, g, w) for x, g, w, b in zip(xs, got_sf, want_sf, bad_sf) if b]


def _mp_partials(name, which, x, params):
    """Gradient and Hessian of log F (or log S) in the parameters, by mpmath's differentiation."""
    names = list(params)
    side = 1 if which == "cdf" else 2

    def f(*v):
        return ref._log_side(name, x, dict(zip(names, v)), side)

    point = [mp.mpf(params[n]) for n in names]
    k = len(names)
    grad = [float(mp.diff(f, point, tuple(int(i == j) for i in range(k)))) for j in range(k)]
    hess = [[float(mp.diff(f, point, tuple(int(i == a) + int(i == b) for i in range(k)))) for b in range(k)] for a in range(k)]
    return np.array(grad), np.array(hess)


DERIVATIVE_CASES = [
    ("normal", {"loc": 1.0, "scale": 2.0}, [-30.0, 0.5, 9.0]),
    ("lognormal", {"loc": 0.5, "scale": 0.7}, [1e-3, 2.0, 40.0]),
    ("studentt", {"df": 3.5, "loc": 1.0, "scale": 2.0}, [-300.0, -1.0, 1.0 + 1e-9, 1.5, 60.0]),
    ("studentt", {"df": 40.0, "loc": 0.0, "scale": 1.0}, [-8.0, 0.3, 2.0]),
    ("cauchy", {"loc": 1.0, "scale": 2.0}, [-50.0, 2.0]),
    ("gumbel", {"loc": 1.0, "scale": 2.0}, [-5.0, 2.0, 40.0]),
    ("logistic", {"loc": 1.0, "scale": 2.0}, [-30.0, 1.0, 40.0]),
    ("half_normal", {"scale": 2.0}, [0.3, 3.0, 20.0]),
    ("exponential", {"rate": 2.0}, [0.01, 3.0]),
    ("gamma", {"concentration": 2.5, "rate": 1.5}, [0.05, 1.5, 4.0, 30.0]),
    ("gamma", {"concentration": 0.3, "rate": 0.5}, [0.01, 2.0, 40.0]),
    ("weibull", {"scale": 2.0, "concentration": 1.7}, [0.01, 2.0, 9.0]),
    ("loglogistic", {"scale": 2.0, "concentration": 1.5}, [0.01, 2.0, 90.0]),
    ("beta", {"concentration1": 2.5, "concentration0": 0.6}, [1e-3, 0.4, 0.99]),
    ("beta", {"concentration1": 12.0, "concentration0": 7.0}, [0.3, 0.62, 0.9]),
    ("poisson", {"rate": 3.5}, [0.0, 3.0, 12.0]),
    ("geometric", {"probs": 0.3}, [0.0, 4.0]),
    ("negative_binomial", {"total_count": 2.5, "probs": 0.4}, [0.0, 2.0, 15.0]),
    ("binomial", {"probs": 0.3}, [0.0, 6.0, 15.0]),
]


@pytest.mark.parametrize("which", ["cdf", "sf"])
@pytest.mark.parametrize("name, params, xs", DERIVATIVE_CASES, ids=[c[0] + str(i) for i, c in enumerate(DERIVATIVE_CASES)])
def test_derivatives_in_the_parameters_match_mpmath(name, params, xs, which):
    fam = resolve_family(name)
    names = list(params)
    fixed = {"total_count": _t(20.0)} if name == "binomial" else {}
    for x in xs:
        theta = _t([params[n] for n in names]).requires_grad_(True)

        def f(v):
            p = {**fixed, **{n: v[i] for i, n in enumerate(names)}}
            out = fam.log_cdf(_t([x]), p) if which == "cdf" else fam.log_sf(_t([x]), p)
            return out.sum()

        (g,) = torch.autograd.grad(f(theta), theta, create_graph=True)
        H = torch.stack([torch.autograd.grad(g[i], theta, retain_graph=True)[0] for i in range(len(names))])
        mp_params = {**params, **({"total_count": 20.0} if name == "binomial" else {})}
        want_g, want_H = _mp_partials(name, which, x, mp_params)
        k = len(names)
        assert np.allclose(g.detach().numpy(), want_g[:k], rtol=1e-8, atol=1e-14 + 1e-12 * np.abs(want_g).max()), (x, g, want_g)
        assert np.allclose(H.detach().numpy(), want_H[:k, :k], rtol=1e-6, atol=1e-12 + 1e-9 * np.abs(want_H).max()), (x, H, want_H)


# ---------------------------------------------------------------------- the special functions themselves
def _mp_log_pair(p, q):
    """``(log p, log q)`` for ``p + q = 1``, each side from the smaller one (mpmath's 40 digits would
    otherwise lose the tiny complement)."""
    if p < q:
        return float(mp.log(p)), float(mp.log1p(-p))
    return float(mp.log1p(-q)), float(mp.log(q))


@pytest.mark.parametrize("a, x", [(0.01, 1e-5), (0.5, 0.3), (2.5, 3.4), (3.0, 80.0), (30.0, 31.5), (1e3, 950.0),
                                  (1e4, 1.02e4), (5.0, 1e-150), (0.2, 700.0)])
def test_log_gammainc_matches_mpmath(a, x):
    log_p, log_q = log_gammainc(_t(a), _t(x))
    want_p, want_q = _mp_log_pair(mp.gammainc(a, 0, x, regularized=True), mp.gammainc(a, x, mp.inf, regularized=True))
    assert _close(float(log_p), want_p, 1e-12) and _close(float(log_q), want_q, 1e-12), (float(log_p), want_p, float(log_q), want_q)


@pytest.mark.parametrize("a, b, x", [(0.5, 0.5, 1e-12), (2.0, 3.0, 0.4), (0.1, 30.0, 0.5), (200.0, 0.5, 0.99),
                                     (40.0, 60.0, 0.41), (1e3, 2e3, 0.3), (3.0, 1e-3, 1e-20), (0.7, 4.0, 1 - 1e-9)])
def test_log_betainc_matches_mpmath(a, b, x):
    log_i, log_c = log_betainc(_t(a), _t(b), _t(x))
    want_i, want_c = _mp_log_pair(mp.betainc(a, b, 0, x, regularized=True),
                                  mp.betainc(b, a, 0, 1 - mp.mpf(x), regularized=True))
    assert _close(float(log_i), want_i, 1e-11) and _close(float(log_c), want_c, 1e-11), (float(log_i), want_i, float(log_c), want_c)


def test_log_beta_keeps_its_digits_for_large_arguments():
    for p, q in [(1e5, 0.5), (1e7, 3e6), (15.0, 12.0), (3.0, 40.0), (0.2, 0.3), (1e3, 1e3), (20.0, 1e-3)]:
        want = mp.log(mp.beta(p, q))
        got = float(log_beta(_t(p), _t(q)))
        assert abs(got - float(want)) <= 1e-15 * max(1.0, abs(float(want))), (p, q, got, want)


def test_log1mexp_helpers_are_exact_over_the_whole_range():
    a = _t([-1e-300, -1e-20, -1e-5, -0.5, -0.7, -5.0, -50.0, -800.0])
    want = [float(mp.log(-mp.expm1(mp.mpf(float(v))))) for v in a]
    assert _close(log1mexp(a).numpy(), want, 1e-15).all()
    lt = _t([-800.0, -60.0, -31.0, -29.0, -5.0, 0.0, 3.0, 6.0])
    want = [float(mp.log1p(-mp.exp(-mp.exp(mp.mpf(float(v)))))) for v in lt]
    # condition number t = e^l: an input rounding of 1e-16 moves e^(-t) by t 1e-16
    assert (np.abs(log1mexp_exp(lt).numpy() - want) <= 2e-16 * np.maximum(1, np.exp(lt.numpy())) * np.abs(want)).all()
    z = _t([-800.0, -30.0, 0.0, 0.1, 30.0, 800.0])
    want = [float(mp.log1p(mp.exp(mp.mpf(float(v))))) for v in z]
    assert _close(softplus(z).numpy(), want, 1e-15).all()


def test_special_function_gradients_are_finite_at_the_branch_points():
    for fn, point in ((log1mexp, -math.log(2)), (log1mexp_exp, -30.0), (softplus, 0.0)):
        v = _t(point).requires_grad_(True)
        (g,) = torch.autograd.grad(fn(v), v)
        assert math.isfinite(float(g))

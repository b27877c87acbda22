"""Conjugate prior-likelihood pairs: posteriors against the textbook updates written out here,
MAP = posterior mode = numerical MAP, credible intervals against scipy, posterior predictives
against scipy and their known moments, and the boundary cases of the posterior modes."""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.distributions as td
from scipy import integrate, special, stats

import mlemap as mm
from mlemap.distributions import (
    BetaBinomial,
    BetaGeometric,
    DirichletMultinomial,
    HalfStudentT,
    lomax,
)


def f64(*values):
    return [torch.tensor(v, dtype=torch.float64) for v in values]


# ---------------------------------------------------------------------- the table
@dataclass
class Conj:
    """One conjugate fit and its posterior computed by hand.

    ``post`` is ``(torch type, {attribute: value})`` of the exact posterior stored under ``key``;
    ``frozen`` the same posterior in scipy (marginals for a Dirichlet); ``mode`` the MAP of ``param``.
    """

    id: str
    family: Any
    data: Any
    prior: dict
    key: str
    param: str
    post: tuple
    frozen: Any
    mode: Any
    fixed: dict = field(default_factory=dict)
    weights: Any = None
    to_param: Callable = staticmethod(lambda q: q)  # posterior quantity -> parameter (variance -> scale)


def _beta_bernoulli():
    rng = np.random.default_rng(2024)
    x = rng.binomial(1, 0.35, 40)
    a0, b0 = 2.5, 1.5
    a, b = a0 + x.sum(), b0 + len(x) - x.sum()
    return Conj("beta-bernoulli", "bernoulli", x, {"probs": td.Beta(a0, b0)}, "probs", "probs",
                (td.Beta, {"concentration1": a, "concentration0": b}), stats.beta(a, b), (a - 1) / (a + b - 2))


def _beta_bernoulli_weighted():
    rng = np.random.default_rng(2025)
    x = rng.binomial(1, 0.6, 25)
    w = rng.uniform(0.5, 3.0, 25)
    a0, b0 = 2.0, 2.0
    a, b = a0 + (w * x).sum(), b0 + (w * (1 - x)).sum()
    return Conj("beta-bernoulli-weighted", "bernoulli", x, {"probs": td.Beta(a0, b0)}, "probs", "probs",
                (td.Beta, {"concentration1": a, "concentration0": b}), stats.beta(a, b), (a - 1) / (a + b - 2),
                weights=w)


def _uniform_bernoulli():
    rng = np.random.default_rng(2026)
    x = rng.binomial(1, 0.7, 30)
    a, b = 1 + x.sum(), 1 + len(x) - x.sum()  # Uniform(0, 1) = Beta(1, 1)
    return Conj("uniform-bernoulli", "bernoulli", x, {"probs": td.Uniform(0.0, 1.0)}, "probs", "probs",
                (td.Beta, {"concentration1": a, "concentration0": b}), stats.beta(a, b), x.mean())


def _beta_binomial():
    rng = np.random.default_rng(2027)
    n = rng.integers(1, 12, 30)
    x = rng.binomial(n, 0.3)
    a0, b0 = 3.0, 4.0
    a, b = a0 + x.sum(), b0 + (n - x).sum()
    return Conj("beta-binomial", "binomial", x, {"probs": td.Beta(a0, b0)}, "probs", "probs",
                (td.Beta, {"concentration1": a, "concentration0": b}), stats.beta(a, b), (a - 1) / (a + b - 2),
                fixed={"total_count": n})


def _beta_geometric():
    rng = np.random.default_rng(2028)
    k = rng.geometric(0.25, 35) - 1
    a0, b0 = 2.0, 3.0
    a, b = a0 + len(k), b0 + k.sum()
    return Conj("beta-geometric", "geometric", k, {"probs": td.Beta(a0, b0)}, "probs", "probs",
                (td.Beta, {"concentration1": a, "concentration0": b}), stats.beta(a, b), (a - 1) / (a + b - 2))


def _gamma_poisson():
    rng = np.random.default_rng(2029)
    x = rng.poisson(4.0, 30)
    a0, b0 = 2.0, 0.5
    a, b = a0 + x.sum(), b0 + len(x)
    return Conj("gamma-poisson", "poisson", x, {"rate": td.Gamma(a0, b0)}, "rate", "rate",
                (td.Gamma, {"concentration": a, "rate": b}), stats.gamma(a, scale=1 / b), (a - 1) / b)


def _gamma_poisson_weighted():
    rng = np.random.default_rng(2030)
    x = rng.poisson(2.0, 30)
    w = rng.integers(1, 5, 30).astype(float)
    a0, b0 = 1.5, 1.0
    a, b = a0 + (w * x).sum(), b0 + w.sum()
    return Conj("gamma-poisson-weighted", "poisson", x, {"rate": td.Gamma(a0, b0)}, "rate", "rate",
                (td.Gamma, {"concentration": a, "rate": b}), stats.gamma(a, scale=1 / b), (a - 1) / b, weights=w)


def _gamma_exponential():
    rng = np.random.default_rng(2031)
    x = rng.exponential(1 / 2.5, 30)
    a0, b0 = 3.0, 2.0
    a, b = a0 + len(x), b0 + x.sum()
    return Conj("gamma-exponential", "exponential", x, {"rate": td.Gamma(a0, b0)}, "rate", "rate",
                (td.Gamma, {"concentration": a, "rate": b}), stats.gamma(a, scale=1 / b), (a - 1) / b)


def _exponential_prior_exponential():
    rng = np.random.default_rng(2032)
    x = rng.exponential(1 / 0.8, 20)
    lam = 1.5
    a, b = 1 + len(x), lam + x.sum()  # Exponential(lam) = Gamma(1, lam)
    return Conj("expprior-exponential", "exponential", x, {"rate": td.Exponential(lam)}, "rate", "rate",
                (td.Gamma, {"concentration": a, "rate": b}), stats.gamma(a, scale=1 / b), (a - 1) / b)


def _normal_normal(family="normal"):
    rng = np.random.default_rng(2033)
    sigma, m0, t0 = 1.7, -1.0, 2.0
    z = rng.normal(0.8, sigma, 25)
    x = np.exp(z) if family == "lognormal" else z
    prec = 1 / t0**2 + len(z) / sigma**2
    mean = (m0 / t0**2 + z.sum() / sigma**2) / prec
    return Conj(f"normal-{family}", family, x, {"loc": td.Normal(m0, t0)}, "loc", "loc",
                (td.Normal, {"loc": mean, "scale": prec**-0.5}), stats.norm(mean, prec**-0.5), mean,
                fixed={"scale": sigma})


def _scale_prior(family, on):
    rng = np.random.default_rng(2034)
    mu = 0.4 if family != "half_normal" else 0.0
    z = rng.normal(mu, 1.3, 30)
    if family == "half_normal":
        x, s = np.abs(z), (z**2).sum()
    elif family == "lognormal":
        x, s = np.exp(z), ((z - mu) ** 2).sum()
    else:
        x, s = z, ((z - mu) ** 2).sum()
    fixed = {} if family == "half_normal" else {"loc": mu}
    a0, b0 = 2.5, 3.0
    a, b = a0 + len(z) / 2, b0 + s / 2
    if on == "variance":
        return Conj(f"invgamma-variance-{family}", family, x, {"variance": td.InverseGamma(a0, b0)}, "variance",
                    "scale", (td.InverseGamma, {"concentration": a, "rate": b}), stats.invgamma(a, scale=b),
                    math.sqrt(b / (a + 1)), fixed=fixed, to_param=np.sqrt)
    return Conj(f"gamma-precision-{family}", family, x, {"precision": td.Gamma(a0, b0)}, "precision", "scale",
                (td.Gamma, {"concentration": a, "rate": b}), stats.gamma(a, scale=1 / b),
                1 / math.sqrt((a - 1) / b), fixed=fixed, to_param=lambda q: 1 / np.sqrt(q))


def _dirichlet_categorical():
    rng = np.random.default_rng(2035)
    x = rng.choice(4, 40, p=[0.1, 0.2, 0.3, 0.4])
    alpha0 = np.array([1.5, 2.0, 2.5, 3.0])
    alpha = alpha0 + np.bincount(x, minlength=4)
    return Conj("dirichlet-categorical", mm.families.Categorical(n_categories=4), x,
                {"probs": td.Dirichlet(torch.tensor(alpha0))}, "probs", "probs",
                (td.Dirichlet, {"concentration": alpha}), stats.beta(alpha, alpha.sum() - alpha),
                (alpha - 1) / (alpha.sum() - 4))


def _dirichlet_multinomial():
    rng = np.random.default_rng(2036)
    x = rng.multinomial(6, [0.2, 0.3, 0.5], 15)
    alpha0 = np.array([2.0, 1.5, 3.0])
    alpha = alpha0 + x.sum(0)
    return Conj("dirichlet-multinomial", "multinomial", x, {"probs": td.Dirichlet(torch.tensor(alpha0))}, "probs",
                "probs", (td.Dirichlet, {"concentration": alpha}), stats.beta(alpha, alpha.sum() - alpha),
                (alpha - 1) / (alpha.sum() - 3))


CASES = [
    _beta_bernoulli(),
    _beta_bernoulli_weighted(),
    _uniform_bernoulli(),
    _beta_binomial(),
    _beta_geometric(),
    _gamma_poisson(),
    _gamma_poisson_weighted(),
    _gamma_exponential(),
    _exponential_prior_exponential(),
    _normal_normal("normal"),
    _normal_normal("lognormal"),
    *[_scale_prior(f, on) for f in ("normal", "lognormal", "half_normal") for on in ("variance", "precision")],
    _dirichlet_categorical(),
    _dirichlet_multinomial(),
]
IDS = [c.id for c in CASES]


def fit(case: Conj, **kwargs):
    return mm.fit(case.family, case.data, prior=case.prior, fixed=case.fixed or None, weights=case.weights, **kwargs)


def test_every_registered_conjugate_pair_is_in_the_table():
    from mlemap.closed_form import registered

    def fam_name(f):
        return f if isinstance(f, str) else f.name

    covered = {(fam_name(c.family), c.key, type(c.prior[c.key]).__name__) for c in CASES}
    covered = {(f, k, {"Uniform": "Beta", "Exponential": "Gamma"}.get(t, t)) for f, k, t in covered}
    pairs = {(name, key, t) for name, _, priors in registered() for key, t in priors}
    assert pairs <= covered


# ---------------------------------------------------------------------- posteriors and MAPs
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_posterior_is_the_textbook_update(case):
    r = fit(case)
    assert r.estimator == "MAP" and r.method == "closed-form"
    assert set(r.posterior) == {case.key}
    assert r.posterior_kind == {case.key: "exact"}
    post = r.posterior[case.key]
    kind, params = case.post
    assert isinstance(post, kind) and type(post).__name__ == kind.__name__  # a subclass that prints its parameters
    for attr, value in params.items():
        got = getattr(post, attr) if kind is not td.InverseGamma or attr not in ("concentration", "rate") else getattr(
            post.base_dist, attr
        )
        np.testing.assert_allclose(got.numpy(), value, rtol=1e-12, err_msg=attr)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_map_is_the_posterior_mode(case):
    r = fit(case)
    np.testing.assert_allclose(r.params[case.param], case.mode, rtol=1e-12)
    assert r.boundary == {}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_numerical_map_agrees_with_the_closed_form(case):
    cf = fit(case)
    start = np.asarray(cf.params[case.param], float)
    if case.param == "probs" and start.ndim:
        init = 0.5 * start + 0.5 / start.size
    elif case.param == "probs":
        init = 0.5 * start + 0.25
    elif case.param == "loc":
        init = start + 1.0
    else:
        init = 1.7 * start
    num = fit(case, method="numerical", init={case.param: init.tolist() if np.ndim(init) else float(init)})
    assert num.method == "numerical" and num.converged and num.n_iter > 0
    np.testing.assert_allclose(num.params[case.param], cf.params[case.param], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(num.log_posterior, cf.log_posterior, rtol=1e-10)


def _scipy_prior_logpdf(prior, q):
    """log-density of a torch prior evaluated with scipy."""
    attrs = {k: np.asarray(getattr(prior, k), float) for k in ("concentration1", "concentration0", "concentration", "rate", "loc", "scale", "low", "high") if hasattr(prior, k)}
    if isinstance(prior, td.Beta):
        return stats.beta.logpdf(q, attrs["concentration1"], attrs["concentration0"])
    if isinstance(prior, td.Uniform):
        return stats.uniform.logpdf(q, attrs["low"], attrs["high"] - attrs["low"])
    if isinstance(prior, td.Exponential):
        return stats.expon.logpdf(q, scale=1 / attrs["rate"])
    if isinstance(prior, td.InverseGamma):
        base = prior.base_dist
        return stats.invgamma.logpdf(q, float(base.concentration), scale=float(base.rate))
    if isinstance(prior, td.Gamma):
        return stats.gamma.logpdf(q, attrs["concentration"], scale=1 / attrs["rate"])
    if isinstance(prior, td.Normal):
        return stats.norm.logpdf(q, attrs["loc"], attrs["scale"])
    if isinstance(prior, td.Dirichlet):
        return stats.dirichlet.logpdf(q, attrs["concentration"])
    raise AssertionError(type(prior))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_posterior_is_loglik_plus_prior_density(case):
    r = fit(case)
    value = np.asarray(r.params[case.param], float)
    q = {"variance": value**2, "precision": value**-2.0}.get(case.key, value)
    np.testing.assert_allclose(r.log_prior, _scipy_prior_logpdf(case.prior[case.key], q), rtol=1e-6)
    np.testing.assert_allclose(r.log_posterior, r.loglik + r.log_prior, rtol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c.key == c.param], ids=lambda c: c.id)
def test_standard_error_is_the_posterior_sd(case):
    r = fit(case)
    np.testing.assert_allclose(r.se[case.param], case.frozen.std(), rtol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_credible_interval_is_the_posterior_quantiles(case, level):
    r = fit(case)
    ci = r.credible_interval(level)
    lo, hi = case.frozen.ppf((1 - level) / 2), case.frozen.ppf((1 + level) / 2)
    np.testing.assert_allclose(ci[case.key][0], lo, rtol=1e-9)
    np.testing.assert_allclose(ci[case.key][1], hi, rtol=1e-9)
    if case.key != case.param:  # the interval carried to the parameter through the monotone map
        ends = sorted([case.to_param(lo), case.to_param(hi)])
        np.testing.assert_allclose(ci[case.param], ends, rtol=1e-9)
        assert ci[case.param][0] < r.params[case.param] < ci[case.param][1]


# ---------------------------------------------------------------------- predictives
def _sum_pmf(dist, values) -> float:
    return float(torch.exp(dist.log_prob(torch.as_tensor(values, dtype=torch.float64))).sum())


def test_beta_bernoulli_predictive_is_the_posterior_mean():
    c = _beta_bernoulli()
    pred = fit(c).predictive()
    a, b = c.post[1]["concentration1"], c.post[1]["concentration0"]
    assert isinstance(pred, td.Bernoulli)
    np.testing.assert_allclose(float(pred.probs), a / (a + b), rtol=1e-12)


def test_beta_binomial_predictive_against_scipy():
    c = _beta_binomial()
    r = fit(c)
    a, b = c.post[1]["concentration1"], c.post[1]["concentration0"]
    with pytest.raises(mm.ParameterError, match="total_count"):
        r.predictive()  # one total_count per observation: the next one must be named
    pred = r.predictive(total_count=9)
    assert isinstance(pred, BetaBinomial)
    k = np.arange(10)
    np.testing.assert_allclose(pred.log_prob(torch.tensor(k, dtype=torch.float64)).numpy(),
                               stats.betabinom.logpmf(k, 9, a, b), rtol=1e-10)
    assert _sum_pmf(pred, k) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(float(pred.mean), 9 * a / (a + b), rtol=1e-12)
    np.testing.assert_allclose(float(pred.variance), stats.betabinom.var(9, a, b), rtol=1e-10)


def test_beta_binomial_predictive_with_a_common_total_count():
    rng = np.random.default_rng(2037)
    x = rng.binomial(7, 0.4, 20)
    r = mm.fit("binomial", x, fixed={"total_count": 7}, prior={"probs": td.Beta(1.5, 2.5)})
    pred = r.predictive()
    a, b = 1.5 + x.sum(), 2.5 + (7 - x).sum()
    np.testing.assert_allclose(pred.log_prob(torch.arange(8.0, dtype=torch.float64)).numpy(),
                               stats.betabinom.logpmf(np.arange(8), 7, a, b), rtol=1e-10)
    np.testing.assert_allclose(pred.enumerate_support().reshape(-1).numpy(), np.arange(8))


def test_beta_geometric_predictive():
    c = _beta_geometric()
    pred = fit(c).predictive()
    a, b = c.post[1]["concentration1"], c.post[1]["concentration0"]
    assert isinstance(pred, BetaGeometric)
    # p(k) = integral of p (1 - p)^k against Beta(p; a, b), by quadrature
    for k in (0, 1, 4, 11):
        ref, _ = integrate.quad(lambda p: p * (1 - p) ** k * stats.beta.pdf(p, a, b), 0, 1, epsabs=1e-14)
        np.testing.assert_allclose(math.exp(float(pred.log_prob(torch.tensor(float(k), dtype=torch.float64)))), ref,
                                   rtol=1e-8)
    # P(K < K0) = 1 - B(a, b + K0) / B(a, b): the pmf sums to one over the support
    big = 400
    total = _sum_pmf(pred, np.arange(big))
    tail = math.exp(special.betaln(a, b + big) - special.betaln(a, b))
    np.testing.assert_allclose(total, 1 - tail, rtol=1e-10)
    np.testing.assert_allclose(float(pred.mean), b / (a - 1), rtol=1e-12)


def test_beta_geometric_mean_is_infinite_without_a_first_moment():
    pred = BetaGeometric(torch.tensor(0.8, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))
    assert math.isinf(float(pred.mean))


def test_gamma_poisson_predictive_is_negative_binomial():
    c = _gamma_poisson()
    pred = fit(c).predictive()
    a, b = c.post[1]["concentration"], c.post[1]["rate"]
    k = np.arange(200)
    np.testing.assert_allclose(pred.log_prob(torch.tensor(k, dtype=torch.float64)).numpy(),
                               stats.nbinom.logpmf(k, a, b / (b + 1)), rtol=1e-9)
    assert _sum_pmf(pred, k) == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(float(pred.mean), a / b, rtol=1e-12)
    np.testing.assert_allclose(float(pred.variance), a / b + a / b**2, rtol=1e-12)


def test_gamma_exponential_predictive_is_lomax():
    c = _gamma_exponential()
    pred = fit(c).predictive()
    a, b = c.post[1]["concentration"], c.post[1]["rate"]
    x = np.array([0.0, 0.01, 0.3, 1.0, 7.5, 40.0])
    np.testing.assert_allclose(pred.log_prob(torch.tensor(x, dtype=torch.float64)).numpy(),
                               stats.lomax.logpdf(x, a, scale=b), rtol=1e-10)
    density = lambda v: math.exp(float(pred.log_prob(torch.tensor(v, dtype=torch.float64))))  # noqa: E731
    mass, _ = integrate.quad(density, 0, np.inf)
    mean, _ = integrate.quad(lambda v: v * density(v), 0, np.inf)
    assert mass == pytest.approx(1.0, abs=1e-8)
    np.testing.assert_allclose(mean, b / (a - 1), rtol=1e-7)


def test_lomax_helper_matches_scipy():
    d = lomax(torch.tensor(3.5, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))
    x = np.linspace(0, 20, 9)
    np.testing.assert_allclose(d.log_prob(torch.tensor(x)).numpy(), stats.lomax.logpdf(x, 3.5, scale=2.0), rtol=1e-10)


@pytest.mark.parametrize("family", ["normal", "lognormal"])
def test_normal_mean_predictive(family):
    c = _normal_normal(family)
    pred = fit(c).predictive()
    mean, sd = c.post[1]["loc"], c.post[1]["scale"]
    s = math.sqrt(1.7**2 + sd**2)  # observation noise plus posterior uncertainty of the mean
    if family == "normal":
        assert isinstance(pred, td.Normal)
        np.testing.assert_allclose([float(pred.mean), float(pred.stddev)], [mean, s], rtol=1e-12)
    else:
        x = np.array([0.05, 0.7, 2.0, 9.0])
        np.testing.assert_allclose(pred.log_prob(torch.tensor(x, dtype=torch.float64)).numpy(),
                                   stats.lognorm.logpdf(x, s=s, scale=math.exp(mean)), rtol=1e-10)


@pytest.mark.parametrize("family", ["normal", "lognormal", "half_normal"])
@pytest.mark.parametrize("on", ["variance", "precision"])
def test_scale_predictive_is_student_t(family, on):
    c = _scale_prior(family, on)
    pred = fit(c).predictive()
    a, b = c.post[1]["concentration"], c.post[1]["rate"]
    df, s = 2 * a, math.sqrt(b / a)
    loc = c.fixed.get("loc", 0.0)
    if family == "normal":
        x = np.array([-3.0, 0.0, 0.4, 2.5])
        ref = stats.t.logpdf(x, df, loc, s)
    elif family == "lognormal":
        x = np.array([0.1, 1.0, 1.5, 6.0])
        ref = stats.t.logpdf(np.log(x), df, loc, s) - np.log(x)
    else:
        assert isinstance(pred, HalfStudentT)
        x = np.array([0.0, 0.3, 1.0, 4.0])
        ref = np.log(2) + stats.t.logpdf(x, df, 0.0, s)
        assert float(pred.log_prob(torch.tensor(-0.5, dtype=torch.float64))) == -math.inf
    np.testing.assert_allclose(pred.log_prob(torch.tensor(x, dtype=torch.float64)).numpy(), ref, rtol=1e-10)
    lo = 0.0 if family != "normal" else -np.inf
    density = lambda v: math.exp(float(pred.log_prob(torch.tensor(v, dtype=torch.float64))))  # noqa: E731
    mass, _ = integrate.quad(density, lo, np.inf)
    assert mass == pytest.approx(1.0, abs=1e-7)


def test_dirichlet_categorical_predictive():
    c = _dirichlet_categorical()
    pred = fit(c).predictive()
    alpha = c.post[1]["concentration"]
    assert isinstance(pred, td.Categorical)
    np.testing.assert_allclose(pred.probs.numpy(), alpha / alpha.sum(), rtol=1e-12)


def _compositions(n: int, k: int):
    for cut in itertools.combinations(range(n + k - 1), k - 1):
        bounds = (-1, *cut, n + k - 1)
        yield [bounds[i + 1] - bounds[i] - 1 for i in range(k)]


def test_dirichlet_multinomial_predictive_against_scipy():
    c = _dirichlet_multinomial()
    pred = fit(c).predictive()
    alpha = c.post[1]["concentration"]
    assert isinstance(pred, DirichletMultinomial)
    rows = np.array(list(_compositions(6, 3)), float)
    np.testing.assert_allclose(pred.log_prob(torch.tensor(rows)).numpy(),
                               stats.dirichlet_multinomial.logpmf(rows, alpha, 6), rtol=1e-10)
    assert _sum_pmf(pred, rows) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(pred.mean.numpy(), 6 * alpha / alpha.sum(), rtol=1e-12)


def test_dirichlet_multinomial_predictive_needs_a_total_when_rows_differ():
    x = np.array([[1, 2, 0], [3, 1, 1], [0, 0, 2]])
    r = mm.fit("multinomial", x, prior={"probs": td.Dirichlet(torch.tensor([2.0, 2.0, 2.0]))})
    with pytest.raises(mm.ParameterError, match="total_count"):
        r.predictive()
    pred = r.predictive(total_count=4)
    alpha = np.array([2.0, 2.0, 2.0]) + x.sum(0)
    rows = np.array(list(_compositions(4, 3)), float)
    np.testing.assert_allclose(pred.log_prob(torch.tensor(rows)).numpy(),
                               stats.dirichlet_multinomial.logpmf(rows, alpha, 4), rtol=1e-10)


def test_beta_binomial_distribution_against_scipy_directly():
    for n, a, b in [(1, 0.5, 0.5), (10, 2.0, 7.5), (25, 0.3, 4.0)]:
        d = BetaBinomial(*f64(float(n), a, b))
        k = np.arange(n + 1)
        np.testing.assert_allclose(d.log_prob(torch.tensor(k, dtype=torch.float64)).numpy(),
                                   stats.betabinom.logpmf(k, n, a, b), rtol=1e-10)
        np.testing.assert_allclose(float(d.mean), stats.betabinom.mean(n, a, b), rtol=1e-12)
        np.testing.assert_allclose(float(d.variance), stats.betabinom.var(n, a, b), rtol=1e-10)


# ---------------------------------------------------------------------- boundary cases of the mode
def test_flat_prior_all_heads_gives_map_one_on_the_boundary():
    r = mm.fit("bernoulli", [1] * 8, prior={"probs": td.Beta(1.0, 1.0)})
    assert r.params["probs"] == 1.0
    assert r.boundary == {"probs": "the posterior mode is at 1"}
    post = r.posterior["probs"]
    assert (float(post.concentration1), float(post.concentration0)) == (9.0, 1.0)
    # the exact posterior still gives an interval: Beta(9, 1) has cdf p^9
    lo, hi = r.credible_interval(0.95)["probs"]
    np.testing.assert_allclose([lo, hi], [0.025 ** (1 / 9), 0.975 ** (1 / 9)], rtol=1e-10)


@pytest.mark.parametrize("a", [1.0, 0.5])
def test_numerical_route_agrees_on_the_boundary(a):
    prior = {"probs": td.Beta(a, 1.0)}
    cf = mm.fit("bernoulli", [1] * 8, prior=prior)
    num = mm.fit("bernoulli", [1] * 8, prior=prior, method="numerical")
    assert cf.params["probs"] == num.params["probs"] == 1.0
    assert "probs" in cf.boundary and "probs" in num.boundary


def test_flat_prior_all_tails_gives_map_zero_on_the_boundary():
    r = mm.fit("bernoulli", [0] * 5, prior={"probs": td.Beta(1.0, 1.0)})
    assert r.params["probs"] == 0.0
    assert r.boundary == {"probs": "the posterior mode is at 0"}


def test_jeffreys_prior_all_heads_gives_an_unbounded_density_at_one():
    r = mm.fit("bernoulli", [1] * 6, prior={"probs": td.Beta(0.5, 0.5)})
    # posterior Beta(6.5, 0.5): its density goes to infinity at 1, so the MAP is the edge itself
    assert r.params["probs"] == 1.0
    assert "unbounded" in r.boundary["probs"]
    post = r.posterior["probs"]
    assert (float(post.concentration1), float(post.concentration0)) == (6.5, 0.5)


def test_beta_posterior_without_a_mode_raises():
    # a fractional weight keeps both posterior concentrations at most 1: Beta(0.8, 0.5)
    with pytest.raises(mm.EstimationError, match=r"Beta\(0\.8, 0\.5\) has no unique mode"):
        mm.fit("bernoulli", [1], weights=[0.3], prior={"probs": td.Beta(0.5, 0.5)})


def test_beta_mode_function_cases():
    from mlemap.closed_form.conjugate import beta_mode

    m, why = beta_mode(*f64(3.0, 5.0))
    assert float(m) == pytest.approx(2 / 6) and why is None
    m, why = beta_mode(*f64(1.0, 3.0))
    assert float(m) == 0.0 and why == "the posterior mode is at 0"
    m, why = beta_mode(*f64(0.5, 3.0))
    assert float(m) == 0.0 and "unbounded" in why
    m, why = beta_mode(*f64(4.0, 1.0))
    assert float(m) == 1.0 and why == "the posterior mode is at 1"
    for a, b in [(1.0, 1.0), (0.5, 0.9), (1.0, 0.3)]:
        with pytest.raises(mm.EstimationError, match="no unique mode"):
            beta_mode(*f64(a, b))


def test_gamma_posterior_mode_on_the_boundary():
    r = mm.fit("poisson", [0, 0, 0], prior={"rate": td.Gamma(1.0, 1.0)})
    assert r.params["rate"] == 0.0 and r.boundary == {"rate": "the posterior mode is at 0"}
    r = mm.fit("poisson", [0, 0, 0], prior={"rate": td.Gamma(0.5, 1.0)})
    assert r.params["rate"] == 0.0 and "unbounded" in r.boundary["rate"]
    assert float(r.posterior["rate"].rate) == 4.0


def test_precision_posterior_with_mode_at_zero_raises():
    with pytest.raises(mm.EstimationError, match="precision"):
        mm.fit("normal", [1.0], fixed={"loc": 0.0}, prior={"precision": td.Gamma(0.2, 1.0)})


def test_variance_prior_with_small_concentration_still_has_a_mode():
    # float64 parameters: td.InverseGamma(0.2, 1.0) would hold 0.2 rounded to float32
    r = mm.fit("normal", [1.0], fixed={"loc": 0.0}, prior={"variance": td.InverseGamma(*f64(0.2, 1.0))})
    a, b = 0.2 + 0.5, 1.0 + 0.5
    np.testing.assert_allclose(r.params["scale"], math.sqrt(b / (a + 1)), rtol=1e-12)


def test_dirichlet_posterior_with_an_empty_category():
    fam = mm.families.Categorical(n_categories=3)
    r = mm.fit(fam, [0, 1, 1, 0], prior={"probs": td.Dirichlet(torch.tensor([2.0, 2.0, 1.0]))})
    np.testing.assert_allclose(r.params["probs"], [0.5, 0.5, 0.0])  # (alpha - 1)_+ / sum
    assert "mode at 0" in r.boundary["probs"]


def test_dirichlet_posterior_without_a_mode_raises():
    fam = mm.families.Categorical(n_categories=3)
    with pytest.raises(mm.EstimationError, match="no unique mode"):
        mm.fit(fam, [0], weights=[0.5], prior={"probs": td.Dirichlet(torch.tensor([0.2, 0.2, 0.2]))})


def test_non_conjugate_prior_falls_back_to_the_numerical_route():
    rng = np.random.default_rng(2038)
    x = rng.binomial(1, 0.3, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = mm.fit("bernoulli", x, prior={"probs": td.Uniform(0.0, 2.0)})
    assert r.method == "numerical"
    assert r.posterior_kind == {"probs": "laplace"}
    np.testing.assert_allclose(r.params["probs"], x.mean(), rtol=1e-6)  # a flat density: the MLE
    with pytest.raises(mm.MethodError):
        mm.fit("bernoulli", x, prior={"probs": td.Uniform(0.0, 2.0)}, method="closed-form")

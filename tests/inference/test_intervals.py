"""Wald, profile-likelihood, bootstrap and credible intervals against independent computations."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.distributions as td
from scipy import optimize, special, stats

import mlemap as mm

CHI2_95 = stats.chi2.ppf(0.95, 1)


def lr_interval(loglik, mle, lower, upper, level=0.95):
    """Likelihood-ratio interval of a scalar log-likelihood by root finding on each side of the MLE."""
    cut = stats.chi2.ppf(level, 1)
    g = lambda v: 2 * (loglik(mle) - loglik(v)) - cut  # noqa: E731
    return optimize.brentq(g, lower, mle, xtol=1e-14), optimize.brentq(g, mle, upper, xtol=1e-14)


# ---------------------------------------------------------------------- Wald
WALD_CASES = {
    "normal": ("normal", lambda rng: rng.normal(1.0, 2.0, size=60), None),
    "gamma": ("gamma", lambda rng: rng.gamma(2.0, 1.5, size=80), None),
    "poisson": ("poisson", lambda rng: rng.poisson(3.0, size=40).astype(float), None),
    "binomial": ("binomial", lambda rng: rng.binomial(8, 0.4, size=30).astype(float), {"total_count": 8}),
    "studentt": ("studentt", lambda rng: rng.standard_t(4.0, size=150), None),
}


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("case", list(WALD_CASES), ids=list(WALD_CASES))
def test_wald_interval_is_estimate_plus_minus_z_se(case, level):
    family, gen, fixed = WALD_CASES[case]
    r = mm.fit(family, gen(np.random.default_rng(40)), fixed=fixed)
    z = stats.norm.ppf(0.5 + level / 2)
    ci = r.conf_int(level=level)
    ci_default = r.conf_int(level=level, method="wald")
    assert set(ci) == set(r.params)
    for name, (lo, hi) in ci.items():
        est, se = r.params[name], r.se[name]
        np.testing.assert_allclose([lo, hi], [est - z * se, est + z * se], rtol=1e-12)
        assert ci_default[name] == (lo, hi)


def test_wald_interval_of_the_exponential_rate_by_formula():
    x = np.random.default_rng(41).exponential(2.0, size=50)
    rate = 1 / x.mean()
    lo, hi = mm.fit("exponential", x).conf_int()["rate"]
    half = stats.norm.ppf(0.975) * rate / math.sqrt(x.size)
    np.testing.assert_allclose([lo, hi], [rate - half, rate + half], rtol=1e-10)


def test_wald_interval_of_a_vector_parameter():
    x = np.random.default_rng(42).choice(3, size=100, p=[0.2, 0.3, 0.5])
    p = np.bincount(x, minlength=3) / x.size
    lo, hi = mm.fit("categorical", x).conf_int(level=0.9)["probs"]
    half = stats.norm.ppf(0.95) * np.sqrt(p * (1 - p) / x.size)
    np.testing.assert_allclose(lo, p - half, rtol=1e-7)
    np.testing.assert_allclose(hi, p + half, rtol=1e-7)


def test_wald_interval_is_nan_on_the_boundary():
    with pytest.warns(mm.BoundaryWarning):
        r = mm.fit("bernoulli", np.ones(10))
    lo, hi = r.conf_int()["probs"]
    assert math.isnan(lo) and math.isnan(hi)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 95, "0.95"])
def test_invalid_level_raises(level):
    r = mm.fit("normal", [0.1, 0.5, 0.9, 1.3])
    with pytest.raises(mm.MethodError, match="level"):
        r.conf_int(level=level)


def test_unknown_interval_method_raises():
    r = mm.fit("normal", [0.1, 0.5, 0.9, 1.3])
    with pytest.raises(mm.MethodError, match="wald"):
        r.conf_int(method="exact")


# ---------------------------------------------------------------------- profile
@pytest.mark.parametrize("n,p_true,seed", [(40, 0.3, 1), (15, 0.8, 2), (200, 0.05, 3)])
def test_bernoulli_profile_interval_matches_likelihood_ratio_root_finding(n, p_true, seed):
    x = (np.random.default_rng(seed).random(n) < p_true).astype(float)
    k = x.sum()
    assert 0 < k < n
    ll = lambda p: special.xlogy(k, p) + special.xlog1py(n - k, -p)  # noqa: E731
    want = lr_interval(ll, k / n, 1e-15, 1 - 1e-15)
    got = mm.fit("bernoulli", x).conf_int(method="profile")["probs"]
    np.testing.assert_allclose(got, want, rtol=1e-9)


@pytest.mark.parametrize("n", [5, 25, 100])
def test_all_heads_profile_interval_is_closed_form(n):
    with pytest.warns(mm.BoundaryWarning):
        r = mm.fit("bernoulli", np.ones(n))
    lo, hi = r.conf_int(method="profile")["probs"]
    # 2 * (0 - n log p) = chi2  =>  p = exp(-chi2 / (2 n))
    np.testing.assert_allclose(lo, math.exp(-CHI2_95 / (2 * n)), rtol=1e-9)
    assert hi == 1.0


def test_all_tails_profile_interval_is_closed_form():
    n = 30
    with pytest.warns(mm.BoundaryWarning):
        r = mm.fit("bernoulli", np.zeros(n))
    lo, hi = r.conf_int(method="profile")["probs"]
    assert lo == 0.0
    np.testing.assert_allclose(hi, 1 - math.exp(-CHI2_95 / (2 * n)), rtol=1e-9)


@pytest.mark.parametrize("level", [0.8, 0.95])
@pytest.mark.parametrize("n", [8, 30, 500])
def test_normal_mean_profile_interval_closed_form(n, level):
    # profile log-likelihood of mu: -n/2 log(S(mu)/n) + const, S(mu) = S0 + n (xbar - mu)^2, so
    # the interval is xbar +- sigma_hat * sqrt(exp(chi2 / n) - 1)
    x = np.random.default_rng(n).normal(1.0, 2.0, size=n)
    sigma = np.sqrt(np.mean((x - x.mean()) ** 2))
    half = sigma * np.sqrt(np.expm1(stats.chi2.ppf(level, 1) / n))
    got = mm.fit("normal", x).conf_int(level=level, method="profile")["loc"]
    np.testing.assert_allclose(got, (x.mean() - half, x.mean() + half), rtol=1e-9)


def test_normal_scale_profile_interval_matches_root_finding():
    x = np.random.default_rng(43).normal(0.0, 1.5, size=25)
    n, S0 = x.size, np.sum((x - x.mean()) ** 2)
    ll = lambda s: -n * np.log(s) - S0 / (2 * s * s)  # noqa: E731
    want = lr_interval(ll, np.sqrt(S0 / n), 1e-3, 100.0)
    got = mm.fit("normal", x).conf_int(method="profile")["scale"]
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_exponential_rate_profile_interval_matches_root_finding():
    x = np.random.default_rng(44).exponential(0.4, size=35)
    n, s = x.size, x.sum()
    ll = lambda lam: n * np.log(lam) - lam * s  # noqa: E731
    want = lr_interval(ll, n / s, 1e-8, 1e3)
    got = mm.fit("exponential", x).conf_int(method="profile")["rate"]
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_gamma_concentration_profile_interval_matches_root_finding():
    # rate profiled out in closed form: beta(alpha) = alpha / xbar
    x = np.random.default_rng(45).gamma(2.0, 1.0, size=60)
    n, xbar, slx = x.size, x.mean(), np.log(x).sum()
    ll = lambda a: n * (a * np.log(a / xbar) - special.gammaln(a) - a) + (a - 1) * slx  # noqa: E731
    a_hat = optimize.brentq(lambda a: np.log(a) - special.digamma(a) - (np.log(xbar) - slx / n), 1e-3, 1e3, xtol=1e-14)
    want = lr_interval(ll, a_hat, 1e-3, 1e3)
    r = mm.fit("gamma", x)
    np.testing.assert_allclose(r.params["concentration"], a_hat, rtol=1e-10)
    got = r.conf_int(method="profile")["concentration"]
    np.testing.assert_allclose(got, want, rtol=1e-7)


def test_profile_interval_contains_the_estimate_and_is_asymmetric_for_a_skewed_likelihood():
    x = np.random.default_rng(46).exponential(1.0, size=10)
    r = mm.fit("exponential", x)
    lo, hi = r.conf_int(method="profile")["rate"]
    est = r.params["rate"]
    assert lo < est < hi
    assert hi - est > est - lo  # the rate's likelihood is right-skewed


def test_profile_of_map_fit_raises():
    r = mm.fit("bernoulli", [1, 0, 1, 1], prior={"probs": td.Beta(2.0, 2.0)})
    with pytest.raises(mm.MethodError, match="credible_interval"):
        r.conf_int(method="profile")


def test_profile_of_a_sample_extreme_is_nan_or_an_error_when_requested():
    x = 2.0 * (np.random.default_rng(47).pareto(3.0, size=40) + 1)
    r = mm.fit("pareto", x)
    with pytest.warns(mm.BoundaryWarning, match="profile interval of 'scale' is NaN: the estimate is a sample extreme"):
        ci = r.conf_int(method="profile")
    assert all(math.isnan(v) for v in ci["scale"])
    n, xm = x.size, x.min()
    T = np.log(x / xm).sum()
    ll = lambda a: n * np.log(a) - a * T  # noqa: E731  (scale held at min x)
    np.testing.assert_allclose(ci["alpha"], lr_interval(ll, n / T, 1e-6, 1e3), rtol=1e-9)
    with pytest.raises(mm.MethodError, match="sample extreme"):
        r.conf_int(method="profile", params=["scale"])


def test_profile_of_the_uniform_end_points_is_nan_with_the_reason():
    r = mm.fit("uniform", np.random.default_rng(46).uniform(2.0, 5.0, size=30))
    with pytest.warns(mm.BoundaryWarning) as record:
        ci = r.conf_int(method="profile")
    said = " ".join(str(w.message) for w in record)
    for name in ("low", "high"):
        assert all(math.isnan(v) for v in ci[name])
        assert f"profile interval of '{name}' is NaN: the estimate is a sample extreme" in said


# ---------------------------------------------------------------------- bootstrap
@pytest.mark.parametrize("family, data, name", [
    ("bernoulli", [1.0] * 10, "probs"),            # ten heads of ten: the estimate is p = 1
    ("uniform", np.linspace(1.0, 2.0, 12), "high"),  # a sample extreme
], ids=["all-heads", "uniform-end-point"])
def test_bootstrap_at_a_boundary_or_sample_extreme_warns(family, data, name):
    with warnings.catch_warnings():  # the fit itself may report the boundary: not what is tested here
        warnings.simplefilter("ignore", mm.BoundaryWarning)
        r = mm.fit(family, data)
    with pytest.warns(mm.BoundaryWarning) as record:
        r.conf_int(method="bootstrap", n_boot=20, seed=0)
    said = [str(w.message) for w in record]
    assert any(f"bootstrap interval of '{name}' is not valid" in m for m in said), said


def test_bootstrap_is_reproducible_with_a_seed():
    x = np.random.default_rng(48).gamma(2.0, 1.0, size=50)
    r = mm.fit("gamma", x)
    a = r.conf_int(method="bootstrap", n_boot=60, seed=7)
    b = r.conf_int(method="bootstrap", n_boot=60, seed=7)
    c = r.conf_int(method="bootstrap", n_boot=60, seed=8)
    assert a == b
    assert a != c


@pytest.mark.parametrize(
    "family,gen",
    [
        pytest.param("normal", lambda rng: rng.normal(0.0, 1.0, size=40), id="normal"),
        pytest.param("gamma", lambda rng: rng.gamma(3.0, 1.0, size=60), id="gamma"),
        pytest.param("weibull", lambda rng: 2.0 * rng.weibull(1.5, size=60), id="weibull"),
        pytest.param("bernoulli", lambda rng: (rng.random(50) < 0.4).astype(float), id="bernoulli"),
    ],
)
def test_bootstrap_percentile_interval_brackets_the_estimate(family, gen):
    r = mm.fit(family, gen(np.random.default_rng(49)))
    ci = r.conf_int(method="bootstrap", n_boot=100, seed=0)
    for name, (lo, hi) in ci.items():
        assert lo < r.params[name] < hi, name


def test_bootstrap_of_a_large_normal_sample_is_close_to_wald():
    x = np.random.default_rng(50).normal(1.0, 2.0, size=2000)
    r = mm.fit("normal", x)
    boot = r.conf_int(method="bootstrap", n_boot=400, seed=3)
    wald = r.conf_int()
    for name in ("loc", "scale"):
        half = (wald[name][1] - wald[name][0]) / 2
        np.testing.assert_allclose(boot[name], wald[name], atol=0.3 * half, err_msg=name)


def test_bootstrap_vector_parameter_gives_arrays():
    x = np.random.default_rng(51).choice(3, size=80, p=[0.2, 0.3, 0.5])
    lo, hi = mm.fit("categorical", x).conf_int(method="bootstrap", n_boot=50, seed=1)["probs"]
    assert lo.shape == hi.shape == (3,)
    assert np.all(lo <= hi)


@pytest.mark.parametrize("n_boot", [1, 0, -3, 2.5])
def test_bootstrap_needs_at_least_two_replicates(n_boot):
    r = mm.fit("normal", [0.1, 0.5, 0.9, 1.3])
    with pytest.raises(mm.MethodError, match="n_boot"):
        r.conf_int(method="bootstrap", n_boot=n_boot)


# ---------------------------------------------------------------------- credible intervals
def test_beta_bernoulli_credible_interval_is_the_beta_quantiles():
    # Beta(1, 1) prior, 4 successes, 2 failures: posterior Beta(5, 3)
    r = mm.fit("bernoulli", [1, 1, 1, 0, 1, 0], prior={"probs": td.Beta(1.0, 1.0)})
    for level in (0.5, 0.9, 0.95):
        lo, hi = r.credible_interval(level)["probs"]
        np.testing.assert_allclose([lo, hi], stats.beta.ppf([(1 - level) / 2, (1 + level) / 2], 5, 3), rtol=1e-10)


def test_gamma_poisson_credible_interval_is_the_gamma_quantiles():
    x = np.random.default_rng(52).poisson(3.0, size=20)
    a, b = 2.0, 0.5
    r = mm.fit("poisson", x, prior={"rate": td.Gamma(a, b)})
    lo, hi = r.credible_interval(0.9)["rate"]
    post = stats.gamma(a + x.sum(), scale=1 / (b + x.size))
    np.testing.assert_allclose([lo, hi], post.ppf([0.05, 0.95]), rtol=1e-10)
    np.testing.assert_allclose(r.params["rate"], (a + x.sum() - 1) / (b + x.size), rtol=1e-12)


def test_normal_mean_credible_interval_with_known_scale():
    x = np.random.default_rng(53).normal(0.5, 1.0, size=20)
    m0, t0, sigma = 0.0, 2.0, 1.0
    r = mm.fit("normal", x, prior={"loc": td.Normal(m0, t0)}, fixed={"scale": sigma})
    prec = 1 / t0**2 + x.size / sigma**2
    mean = (m0 / t0**2 + x.sum() / sigma**2) / prec
    lo, hi = r.credible_interval()["loc"]
    np.testing.assert_allclose([lo, hi], stats.norm.ppf([0.025, 0.975], mean, 1 / math.sqrt(prec)), rtol=1e-10)


def test_credible_interval_of_an_mle_raises():
    r = mm.fit("normal", [0.1, 0.5, 0.9, 1.3])
    with pytest.raises(mm.MethodError, match="conf_int"):
        r.credible_interval()


def test_credible_interval_covers_free_parameters_without_a_prior():
    x = np.random.default_rng(5).gamma(2.0, 3.0, 300)
    prior = td.Gamma(torch.tensor(2.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    r = mm.fit("gamma", x, prior={"concentration": prior})
    ci = r.credible_interval(0.9)
    assert set(ci) == {"concentration", "rate"}
    z = 1.6448536269514722
    lo, hi = ci["rate"]
    assert lo == pytest.approx(r.params["rate"] - z * r.se["rate"], rel=1e-12)
    assert hi == pytest.approx(r.params["rate"] + z * r.se["rate"], rel=1e-12)

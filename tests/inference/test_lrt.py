"""Likelihood-ratio tests of nested MLE fits, with the statistic recomputed from scipy densities."""

import numpy as np
import pytest
import torch.distributions as td
from scipy import stats

import mlemap as mm


def test_exponential_against_gamma_on_gamma_data():
    x = np.random.default_rng(60).gamma(2.0, 1.0, size=300)
    restricted = mm.fit("exponential", x)
    full = mm.fit("gamma", x)
    ll0 = stats.expon.logpdf(x, scale=1 / restricted.params["rate"]).sum()
    ll1 = stats.gamma.logpdf(x, full.params["concentration"], scale=1 / full.params["rate"]).sum()
    stat = 2 * (ll1 - ll0)
    res = mm.lrt(restricted, full)
    assert isinstance(res, mm.LRTResult)
    assert res.df == 1
    np.testing.assert_allclose(res.statistic, stat, rtol=1e-9)
    np.testing.assert_allclose(res.pvalue, stats.chi2.sf(stat, 1), rtol=1e-8)
    assert res.pvalue < 1e-6  # shape 2 is far from the exponential's shape 1
    assert "df = 1" in str(res)


def test_exponential_against_gamma_on_exponential_data_is_not_significant():
    x = np.random.default_rng(61).exponential(1.5, size=200)
    restricted = mm.fit("exponential", x)
    full = mm.fit("gamma", x)
    ll0 = stats.expon.logpdf(x, scale=1 / restricted.params["rate"]).sum()
    ll1 = stats.gamma.logpdf(x, full.params["concentration"], scale=1 / full.params["rate"]).sum()
    res = mm.lrt(restricted, full)
    np.testing.assert_allclose(res.statistic, 2 * (ll1 - ll0), rtol=1e-7, atol=1e-10)
    assert res.statistic >= 0
    assert res.pvalue > 0.01


@pytest.mark.parametrize("mu0", [0.0, 0.3, 1.0])
def test_normal_with_fixed_loc_against_free_loc(mu0):
    x = np.random.default_rng(62).normal(0.3, 1.0, size=50)
    n = x.size
    restricted = mm.fit("normal", x, fixed={"loc": mu0})
    full = mm.fit("normal", x)
    # 2 (l1 - l0) = n log(S(mu0) / S(xbar))
    stat = n * np.log(np.sum((x - mu0) ** 2) / np.sum((x - x.mean()) ** 2))
    res = mm.lrt(restricted, full)
    assert res.df == 1
    np.testing.assert_allclose(res.statistic, stat, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.pvalue, stats.chi2.sf(stat, 1), rtol=1e-8)


def test_two_degrees_of_freedom():
    x = 0.2 + 1.3 * np.random.default_rng(63).standard_t(3.0, size=200)
    restricted = mm.fit("studentt", x, fixed={"df": 5.0, "loc": 0.0})
    full = mm.fit("studentt", x)
    res = mm.lrt(restricted, full)
    ll0 = stats.t.logpdf(x, 5.0, 0.0, restricted.params["scale"]).sum()
    ll1 = stats.t.logpdf(x, full.params["df"], full.params["loc"], full.params["scale"]).sum()
    assert (restricted.k, full.k, res.df) == (1, 3, 2)
    np.testing.assert_allclose(res.statistic, 2 * (ll1 - ll0), rtol=1e-8)
    np.testing.assert_allclose(res.pvalue, stats.chi2.sf(2 * (ll1 - ll0), 2), rtol=1e-7)


def test_map_fit_is_rejected():
    x = np.array([1, 0, 1, 1, 0, 1, 1, 1], dtype=float)
    restricted = mm.fit("bernoulli", x, prior={"probs": td.Beta(2.0, 2.0)})
    full = mm.fit("binomial", x, fixed={"total_count": 1})
    with pytest.raises(mm.MethodError, match="MAP"):
        mm.lrt(restricted, full)
    with pytest.raises(mm.MethodError, match="'full' fit is a MAP"):
        mm.lrt(mm.fit("normal", x, fixed={"loc": 0.5}), mm.fit("normal", x, prior={"loc": td.Normal(0.0, 1.0)}, fixed={"scale": 1.0}))


def test_different_data_are_rejected():
    x = np.random.default_rng(64).gamma(2.0, 1.0, size=50)
    with pytest.raises(mm.MethodError, match="same observations"):
        mm.lrt(mm.fit("exponential", x[:-1]), mm.fit("gamma", x))


def test_different_total_weight_is_rejected():
    x = np.random.default_rng(65).gamma(2.0, 1.0, size=20)
    w = np.ones(20)
    w[0] = 2.0
    with pytest.raises(mm.MethodError, match="different data"):
        mm.lrt(mm.fit("exponential", x), mm.fit("gamma", x, weights=w))


def test_restricted_with_more_parameters_is_rejected():
    x = np.random.default_rng(66).gamma(2.0, 1.0, size=50)
    with pytest.raises(mm.MethodError, match=r"lrt\(restricted, full\)"):
        mm.lrt(mm.fit("gamma", x), mm.fit("exponential", x))


def test_same_number_of_parameters_is_rejected():
    x = np.random.default_rng(67).gamma(2.0, 1.0, size=50)
    with pytest.raises(mm.MethodError, match="more free parameters"):
        mm.lrt(mm.fit("gamma", x), mm.fit("weibull", x))


def test_full_fit_that_did_not_converge_is_rejected():
    x = np.random.default_rng(68).gamma(2.0, 1.0, size=200)
    restricted = mm.fit("exponential", x)
    with pytest.warns(mm.ConvergenceWarning):
        full = mm.fit("gamma", x, solver="newton", max_iter=1, init={"concentration": 50.0, "rate": 0.5})
    assert not full.converged
    ll_full = stats.gamma.logpdf(x, full.params["concentration"], scale=1 / full.params["rate"]).sum()
    assert ll_full < stats.expon.logpdf(x, scale=1 / restricted.params["rate"]).sum()
    with pytest.raises(mm.MethodError, match="did not converge"):
        mm.lrt(restricted, full)


@pytest.mark.parametrize("bad", [None, 1.0, "fit"])
def test_non_results_are_rejected(bad):
    r = mm.fit("normal", [0.1, 0.5, 0.9, 1.3])
    with pytest.raises(mm.MethodError, match="FitResult"):
        mm.lrt(bad, r)
    with pytest.raises(mm.MethodError, match="FitResult"):
        mm.lrt(r, bad)

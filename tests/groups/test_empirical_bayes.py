"""Empirical Bayes against direct maximisations of the marginal likelihood written with scipy.stats.

References: ``betabinom``, ``nbinom`` and ``norm``/``multivariate_normal`` log-densities of each
group's data, maximised by Nelder–Mead and polished by Newton steps on central differences until
the last step is below 1e-9 in the log of every hyperparameter (:func:`scipy_polished` asserts it),
so the reference is more accurate than the 1e-6 the tests assert. The Gamma–Poisson prior also
matches statsmodels' intercept-only negative-binomial (NB2) MLE with exposure, and the Normal–Normal
one statsmodels' MixedLM (ML, not REML).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.distributions as td
from scipy import optimize, stats

import mlemap as mm

RTOL = 1e-6


def scipy_polished(nll, x0, *, h=1e-4, steps=8) -> np.ndarray:
    """Minimiser of ``nll`` (numpy in, float out): Nelder–Mead, then Newton on central differences."""
    x = optimize.minimize(nll, np.asarray(x0, float), method="Nelder-Mead",
                          options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 40_000, "maxfev": 80_000}).x
    p = x.size
    E = np.eye(p) * h
    for _ in range(steps):
        g = np.array([(nll(x + E[i]) - nll(x - E[i])) / (2 * h) for i in range(p)])
        H = np.array([[(nll(x + E[i] + E[j]) - nll(x + E[i] - E[j]) - nll(x - E[i] + E[j]) + nll(x - E[i] - E[j]))
                       / (4 * h * h) for j in range(p)] for i in range(p)])
        step = np.linalg.solve(H, -g)
        x = x + step
        if np.max(np.abs(step)) < 1e-11:
            break
    assert np.max(np.abs(step)) < 1e-9, f"reference not polished: last Newton step {step}"
    return x


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.MlemapWarning)
        return fn(*args, **kwargs)


def rows_of(counts, sizes):
    """Bernoulli rows: counts[g] ones and sizes[g] - counts[g] zeros per group, in a shuffled order."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    x = np.concatenate([np.r_[np.ones(k), np.zeros(n - k)] for k, n in zip(counts, sizes)])
    order = np.random.default_rng(0).permutation(len(x))
    return x[order], labels[order]


def test_beta_bernoulli_matches_the_beta_binomial_marginal_maximum():
    rng = np.random.default_rng(21)
    G = 60
    n = rng.integers(1, 200, G)
    k = rng.binomial(n, rng.beta(2.0, 8.0, G))
    x, labels = rows_of(k, n)
    eb = mm.fit("bernoulli", x, groups=labels, prior="estimate")
    a, b = np.exp(scipy_polished(lambda v: -stats.betabinom.logpmf(k, n, *np.exp(v)).sum(), [0.0, 1.0]))
    assert eb.hyperparameters.loc["concentration1", "estimate"] == pytest.approx(a, rel=RTOL)
    assert eb.hyperparameters.loc["concentration0", "estimate"] == pytest.approx(b, rel=RTOL)
    assert isinstance(eb.prior["probs"], td.Beta)
    # the marginal likelihood differs from betabinom's by the binomial coefficients only
    coef = stats.binom.logpmf(k, n, 0.5) - n * math.log(0.5)
    assert eb.marginal_loglik == pytest.approx(stats.betabinom.logpmf(k, n, a, b).sum() - coef.sum(), rel=1e-10)
    # standard errors: the inverse observed information of the marginal likelihood in (a, b)
    def neg(t):
        return -(torch.lgamma(t[0] + kk) + torch.lgamma(t[1] + nn - kk) - torch.lgamma(t.sum() + nn)
                 - torch.lgamma(t[0]) - torch.lgamma(t[1]) + torch.lgamma(t.sum())).sum()

    kk, nn = torch.as_tensor(k, dtype=torch.float64), torch.as_tensor(n, dtype=torch.float64)
    cov = torch.linalg.inv(torch.autograd.functional.hessian(neg, torch.tensor([a, b], dtype=torch.float64)))
    assert eb.prior_se["concentration1"] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-5)
    assert eb.prior_se["concentration0"] == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-5)
    # every group's exact posterior, its mode and its credible interval
    a_hat, b_hat = eb.hyperparameters.loc[["concentration1", "concentration0"], "estimate"]
    post_a, post_b = a_hat + k, b_hat + n - k
    np.testing.assert_allclose(eb.params["probs"], (post_a - 1) / (post_a + post_b - 2), rtol=1e-12)
    np.testing.assert_allclose(eb.se["probs"], stats.beta(post_a, post_b).std(), rtol=1e-10)
    ci = eb.credible_interval(0.9)
    np.testing.assert_allclose(ci[("probs", "lower")], stats.beta(post_a, post_b).ppf(0.05), rtol=1e-9)
    np.testing.assert_allclose(eb.raw, k / n, rtol=1e-15)
    # each group's fit is mm.fit on its rows with the learned prior
    for label in (0, 7, 33):
        alone = mm.fit("bernoulli", x[labels == label], prior=eb.prior)
        assert eb[label].params["probs"] == pytest.approx(alone.params["probs"], rel=1e-14)
        assert eb.params.loc[label, "probs"] == pytest.approx(alone.params["probs"], rel=1e-12)
        assert eb.se.loc[label, "probs"] == pytest.approx(alone.se["probs"], rel=1e-12)


def test_beta_binomial_rows_with_their_own_number_of_trials():
    rng = np.random.default_rng(5)
    G = 40
    rows = rng.integers(1, 6, G)
    labels = np.repeat(np.arange(G), rows)
    trials = rng.integers(1, 30, rows.sum()).astype(float)
    p = rng.beta(3.0, 4.0, G)[labels]
    x = rng.binomial(trials.astype(int), p).astype(float)
    eb = mm.fit("binomial", x, groups=labels, fixed={"total_count": trials}, prior="estimate")
    k = np.bincount(labels, x)
    n = np.bincount(labels, trials)
    a, b = np.exp(scipy_polished(lambda v: -stats.betabinom.logpmf(k, n, *np.exp(v)).sum(), [0.5, 0.5]))
    assert eb.prior["probs"].concentration1.item() == pytest.approx(a, rel=RTOL)
    assert eb.prior["probs"].concentration0.item() == pytest.approx(b, rel=RTOL)
    alone = mm.fit("binomial", x[labels == 3], fixed={"total_count": trials[labels == 3]}, prior=eb.prior)
    assert eb.params.loc[3, "probs"] == pytest.approx(alone.params["probs"], rel=1e-12)


@pytest.fixture(scope="module")
def claims():
    rng = np.random.default_rng(4)
    G = 80
    rows = rng.integers(1, 4, G)
    labels = np.repeat(np.arange(G), rows)
    exposure = rng.uniform(0.2, 8.0, rows.sum())
    rate = rng.gamma(3.0, 1 / 1.5, G)[labels]
    counts = rng.poisson(rate * exposure).astype(float)
    return counts, labels, exposure


def test_gamma_poisson_matches_the_negative_binomial_marginal_maximum(claims):
    counts, labels, exposure = claims
    eb = mm.fit("poisson", counts, groups=labels, prior="estimate", exposure=exposure)
    Y, T = np.bincount(labels, counts), np.bincount(labels, exposure)
    alpha, beta = np.exp(scipy_polished(lambda v: -stats.nbinom.logpmf(Y, np.exp(v[0]), np.exp(v[1]) / (np.exp(v[1]) + T)).sum(),
                                        [1.0, 0.0]))
    assert eb.hyperparameters.loc["concentration", "estimate"] == pytest.approx(alpha, rel=RTOL)
    assert eb.hyperparameters.loc["rate", "estimate"] == pytest.approx(beta, rel=RTOL)
    np.testing.assert_allclose(eb.params["rate"], np.maximum(alpha + Y - 1, 0) / (beta + T), rtol=1e-6)
    np.testing.assert_allclose(eb.raw, Y / T, rtol=1e-14)
    with pytest.raises(mm.MethodError, match="no exposures"):
        eb[0]


def test_gamma_poisson_matches_statsmodels_negative_binomial(claims):
    import statsmodels.api as sm

    counts, labels, exposure = claims
    eb = mm.fit("poisson", counts, groups=labels, prior="estimate", exposure=exposure)
    Y, T = np.bincount(labels, counts), np.bincount(labels, exposure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.NegativeBinomial(Y, np.ones((len(Y), 1)), exposure=T, loglike_method="nb2").fit(
            method="newton", maxiter=200, tol=1e-14, disp=0)
    assert res.mle_retvals["converged"]
    intercept, dispersion = res.params
    alpha = 1 / dispersion  # NB2: variance mu + dispersion mu^2, so the Gamma shape is 1 / dispersion
    assert eb.prior["rate"].concentration.item() == pytest.approx(alpha, rel=RTOL)
    assert eb.hyperparameters.loc["mean", "estimate"] == pytest.approx(math.exp(intercept), rel=RTOL)


def test_gamma_poisson_without_exposure_opens_groups_as_single_fits():
    rng = np.random.default_rng(9)
    labels = np.repeat(np.arange(30), rng.integers(1, 15, 30))
    counts = rng.poisson(rng.gamma(2.0, 2.0, 30)[labels]).astype(float)
    eb = mm.fit("poisson", counts, groups=labels, prior="estimate")
    alone = mm.fit("poisson", counts[labels == 4], prior=eb.prior)
    assert eb[4].params == alone.params and eb.params.loc[4, "rate"] == pytest.approx(alone.params["rate"], rel=1e-12)


def test_normal_normal_with_known_scale():
    rng = np.random.default_rng(17)
    G = 50
    sizes = rng.integers(1, 30, G)
    labels = np.repeat(np.arange(G), sizes)
    y = rng.normal(rng.normal(5.0, 2.0, G)[labels], 3.0)
    eb = mm.fit("normal", y, groups=labels, fixed={"scale": 3.0}, prior="estimate")
    ybar, n = np.bincount(labels, y) / sizes, sizes

    def nll(v):
        return -stats.norm.logpdf(ybar, v[0], np.sqrt(np.exp(2 * v[1]) + 9.0 / n)).sum()

    mu, log_tau = scipy_polished(nll, [4.0, 0.0])
    assert eb.hyperparameters.loc["loc", "estimate"] == pytest.approx(mu, rel=RTOL)
    assert eb.hyperparameters.loc["scale", "estimate"] == pytest.approx(math.exp(log_tau), rel=RTOL)
    alone = mm.fit("normal", y[labels == 2], fixed={"scale": 3.0}, prior=eb.prior)
    assert eb.params.loc[2, "loc"] == pytest.approx(alone.params["loc"], rel=1e-12)
    assert eb[2].params["loc"] == pytest.approx(alone.params["loc"], rel=1e-14)


def test_normal_normal_with_estimated_scale_is_the_random_intercept_model():
    rng = np.random.default_rng(23)
    G = 30
    sizes = rng.integers(1, 12, G)
    labels = np.repeat(np.arange(G), sizes)
    y = rng.normal(rng.normal(1.0, 1.5, G)[labels], 2.0)
    eb = mm.fit("normal", y, groups=labels, prior="estimate")
    groups = [y[labels == g] for g in range(G)]

    def nll(v):  # each group's rows jointly normal: variance sigma^2 I + tau^2 11'
        mu, tau2, s2 = v[0], math.exp(2 * v[1]), math.exp(2 * v[2])
        return -sum(stats.multivariate_normal.logpdf(r, np.full(len(r), mu), s2 * np.eye(len(r)) + tau2) for r in groups)

    mu, log_tau, log_sigma = scipy_polished(nll, [1.0, 0.0, 0.5])
    h = eb.hyperparameters["estimate"]
    assert h["loc"] == pytest.approx(mu, rel=RTOL)
    assert h["scale"] == pytest.approx(math.exp(log_tau), rel=RTOL)
    assert h["within_scale"] == pytest.approx(math.exp(log_sigma), rel=RTOL)
    assert eb.marginal_loglik == pytest.approx(-nll([mu, log_tau, log_sigma]), rel=1e-9)
    alone = mm.fit("normal", groups[4], fixed={"scale": h["within_scale"]}, prior=eb.prior)
    assert eb.params.loc[4, "loc"] == pytest.approx(alone.params["loc"], rel=1e-12)


def test_normal_normal_matches_statsmodels_mixedlm():
    import pandas as pd
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(29)
    labels = np.repeat(np.arange(40), rng.integers(2, 10, 40))
    y = rng.normal(rng.normal(0.0, 1.0, 40)[labels], 1.5)
    eb = mm.fit("normal", y, groups=labels, prior="estimate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = smf.mixedlm("y ~ 1", pd.DataFrame({"y": y, "g": labels}), groups="g").fit(reml=False, method="bfgs", gtol=1e-10)
    h = eb.hyperparameters["estimate"]
    assert h["loc"] == pytest.approx(m.fe_params.iloc[0], rel=1e-5)
    assert h["scale"] ** 2 == pytest.approx(float(m.cov_re.iloc[0, 0]), rel=1e-4)
    assert h["within_scale"] ** 2 == pytest.approx(m.scale, rel=1e-5)


# ---------------------------------------------------------------------- the no-spread limit
def test_groups_without_extra_variation_give_a_point_mass_prior():
    rng = np.random.default_rng(2)
    sizes = rng.integers(5, 40, 30)
    k = rng.binomial(sizes, 0.2)
    x, labels = rows_of(k, sizes)
    pooled = k.sum() / sizes.sum()
    # the beta-binomial marginal increases towards the binomial limit along the concentration
    values = [stats.betabinom.logpmf(k, sizes, pooled * c, (1 - pooled) * c).sum() for c in (1e2, 1e4, 1e6)]
    assert values[0] < values[1] < values[2] < stats.binom.logpmf(k, sizes, pooled).sum()
    with pytest.warns(mm.BoundaryWarning, match="complete pooling"):
        eb = mm.fit("bernoulli", x, groups=labels, prior="estimate")
    assert eb.hyper.at_limit and math.isinf(eb.hyperparameters.loc["concentration1", "estimate"])
    assert eb.hyperparameters.loc["mean", "estimate"] == pytest.approx(pooled, rel=1e-12)
    assert eb.hyperparameters.loc["mean", "se"] == pytest.approx(math.sqrt(pooled * (1 - pooled) / sizes.sum()), rel=1e-12)
    np.testing.assert_allclose(eb.params["probs"], pooled, rtol=1e-12)
    assert (eb.se["probs"] == 0).all()
    with pytest.raises(mm.MethodError, match="point mass"):
        eb[0]


def test_school_means_within_their_noise_put_tau_at_zero():
    """Rubin's eight school effects with one standard error for all (12.5, about their average): the
    effects vary less than that noise, so the marginal likelihood of tau is largest at 0."""
    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    with pytest.warns(mm.BoundaryWarning, match="tau = 0"):
        eb = mm.fit("normal", y, groups=np.arange(8), fixed={"scale": 12.5}, prior="estimate")
    assert eb.hyperparameters.loc["loc", "estimate"] == pytest.approx(y.mean(), rel=1e-12)
    assert eb.hyperparameters.loc["loc", "se"] == pytest.approx(12.5 / math.sqrt(8), rel=1e-12)
    assert eb.hyperparameters.loc["scale", "estimate"] == 0.0
    profile = [-optimize.minimize_scalar(lambda m: -stats.norm.logpdf(y, m, math.hypot(t, 12.5)).sum()).fun
               for t in (0.0, 1e-3, 1.0, 5.0)]
    assert profile[0] > profile[1] > profile[2] > profile[3]
    np.testing.assert_allclose(eb.params["loc"], y.mean(), rtol=1e-12)


def test_the_shrinkage_plot_is_drawn(tmp_path):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(1)
    sizes = np.exp(rng.uniform(0, 6, 200)).astype(int) + 1
    k = rng.binomial(sizes, rng.beta(3, 12, 200))
    x, labels = rows_of(k, sizes)
    eb = mm.fit("bernoulli", x, groups=labels, prior="estimate")
    ax = eb.plot(level=0.9, path=tmp_path / "shrinkage.png")
    assert (tmp_path / "shrinkage.png").stat().st_size > 10_000
    labels_shown = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("raw" in t for t in labels_shown) and any("prior mean" in t for t in labels_shown)
    plt.close("all")
    text = str(eb.summary())
    assert "learned prior on 'probs': Beta(" in text and all(len(line) <= 80 for line in text.splitlines())


def test_log_gamma_differences_keep_their_digits():
    import mpmath

    from mlemap.groups.marginals import lgamma_ratio

    a = torch.tensor([1e-3, 0.5, 3.0, 40.0, 999.0, 2e3, 1e5, 3.3e7, 1e12, 1e12, 7e15], dtype=torch.float64)
    k = torch.tensor([0.0, 2.0, 1.0, 17.0, 1.0, 1.0, 40.0, 1e4, 0.0, 3.0, 12.0], dtype=torch.float64)
    got = lgamma_ratio(a, k)
    with mpmath.workdps(60):
        for ai, ki, gi in zip(a.tolist(), k.tolist(), got.tolist()):
            exact = mpmath.loggamma(mpmath.mpf(ai) + mpmath.mpf(ki)) - mpmath.loggamma(mpmath.mpf(ai))
            assert abs(gi - float(exact)) <= 1e-14 * max(1.0, abs(float(exact))), (ai, ki, gi, float(exact))


def test_gamma_poisson_counts_without_extra_variation_reach_the_poisson_limit():
    rng = np.random.default_rng(6)
    labels = np.repeat(np.arange(12), rng.integers(8, 40, 12))
    years = rng.uniform(0.5, 3.0, len(labels))
    claims = rng.poisson(0.8 * years).astype(float)
    Y, T = np.bincount(labels, claims), np.bincount(labels, years)
    pooled = Y.sum() / T.sum()
    # the negative-binomial marginal rises towards the Poisson limit as the concentration grows
    values = [stats.nbinom.logpmf(Y, c, (c / pooled) / (c / pooled + T)).sum() for c in (1.0, 1e2, 1e4)]
    assert values[0] < values[1] < values[2] < stats.poisson.logpmf(Y, pooled * T).sum()
    with pytest.warns(mm.BoundaryWarning, match="Poisson sampling"):
        eb = mm.fit("poisson", claims, groups=labels, prior="estimate", exposure=years)
    assert eb.hyper.at_limit
    assert eb.hyperparameters.loc["mean", "estimate"] == pytest.approx(pooled, rel=1e-12)
    np.testing.assert_allclose(eb.params["rate"], pooled, rtol=1e-12)

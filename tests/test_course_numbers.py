"""The closed forms of the course material, reproduced exactly through the public API.

References are the derivations themselves (written out here) or numbers printed in the course.
"""

import math

import numpy as np
import pytest
import scipy.optimize as so
import scipy.stats as st
import torch
import torch.distributions as td

import mlemap as mm

COIN = [1, 1, 0, 1, 0, 0, 1, 1, 0, 1]  # H H T H T T H H T H


def f64(*values):
    return [torch.tensor(v, dtype=torch.float64) for v in values]


@pytest.mark.parametrize("method", ["closed-form", "numerical"])
def test_coin_mle_is_heads_over_tosses(method):
    r = mm.fit("bernoulli", COIN, method=method, init={"probs": 0.5} if method == "numerical" else None)
    assert r.params["probs"] == pytest.approx(6 / 10, rel=1e-12 if method == "closed-form" else 1e-9)


def test_gaussian_mle_mean_and_biased_variance():
    data = np.random.default_rng(42).normal(5.0, 2.0, 100)
    r = mm.fit("normal", data)
    assert r.params["loc"] == pytest.approx(data.mean(), rel=1e-14)
    assert r.params["scale"] == pytest.approx(data.std(ddof=0), rel=1e-13)  # 1/n, not 1/(n-1)
    assert r.params["scale"] < data.std(ddof=1)


def test_gaussian_log_likelihood_score_and_fisher_information_of_the_notebook():
    data = [2.3, 2.5, 3.1, 3.8, 2.7]
    r = mm.fit("normal", data)
    assert r.loglik == pytest.approx(-3.926523529277739, rel=1e-12)  # printed in the course
    # Fisher information for (mu, sigma^2) printed in the course: n / sigma^2 and n / (2 sigma^4)
    assert 1 / r.se["loc"] ** 2 == pytest.approx(17.75568182, rel=1e-8)
    var_se = 2 * r.params["scale"] * r.se["scale"]  # delta method: d(sigma^2)/d(sigma) = 2 sigma
    assert 1 / var_se**2 == pytest.approx(31.52642368, rel=1e-8)


@pytest.mark.parametrize(
    "prior, expected",
    [
        (None, 1.0),  # MLE: the coin "always lands heads"
        (td.Beta(*f64(1.0, 1.0)), 1.0),  # uniform prior: the MAP equals the MLE
        (td.Beta(*f64(2.0, 2.0)), 0.8),  # mode of Beta(5, 3)
        (td.Beta(*f64(10.0, 10.0)), 12 / 21),  # mode of Beta(13, 10); the course's "0.60" is a slip
    ],
    ids=["mle", "beta-1-1", "beta-2-2", "beta-10-10"],
)
def test_three_heads_in_three_flips(prior, expected):
    if prior is None:
        with pytest.warns(mm.BoundaryWarning, match="boundary"):
            r = mm.fit("bernoulli", [1, 1, 1])
        assert "probs" in r.boundary
    else:
        r = mm.fit("bernoulli", [1, 1, 1], prior={"probs": prior})
    assert r.params["probs"] == pytest.approx(expected, rel=1e-12)


def test_beta_2_2_posterior_after_three_heads_is_beta_5_2():
    # Beta(2 + 3 heads, 2 + 0 tails): mode (5 - 1) / (5 + 2 - 2) = 0.8
    r = mm.fit("bernoulli", [1, 1, 1], prior={"probs": td.Beta(2.0, 2.0)})
    post = r.posterior["probs"]
    assert isinstance(post, td.Beta)
    assert float(post.concentration1) == 5.0 and float(post.concentration0) == 2.0
    assert float(post.mode) == pytest.approx(r.params["probs"], rel=1e-12)


def test_normal_mean_with_normal_prior_is_precision_weighted():
    data = [2.3, 2.5, 2.7, 2.9, 3.1]
    prior = td.Normal(*f64(2.0, math.sqrt(0.5)))
    r = mm.fit("normal", data, fixed={"scale": 1.0}, prior={"loc": prior})
    n, xbar, s2, t2, m0 = 5, np.mean(data), 1.0, 0.5, 2.0
    assert r.params["loc"] == pytest.approx((s2 * m0 + n * t2 * xbar) / (n * t2 + s2), rel=1e-12)
    assert r.params["loc"] == pytest.approx(2.5, rel=1e-12)  # printed in the course


def test_rule_of_succession_under_a_uniform_prior():
    data = [0, 0, 1, 1, 0, 0, 1]
    r = mm.fit("bernoulli", data, prior={"probs": td.Uniform(*f64(0.0, 1.0))})
    assert float(r.predictive().probs) == pytest.approx(4 / 9, rel=1e-12)


def test_discrete_prior_over_two_coins():
    flips = [1, 1, 1, 1, 0]  # four heads, one tail
    r = mm.fit("bernoulli", flips, prior={"probs": mm.DiscretePrior([0.5, 0.8], [0.7, 0.3])})
    joint = np.array([0.7 * 0.5**5, 0.3 * 0.8**4 * 0.2])
    post = joint / joint.sum()
    assert r.params["probs"] == pytest.approx(0.8)
    np.testing.assert_allclose(r.posterior["probs"].probs.numpy(), post, rtol=1e-12)
    # the predictive probability of heads mixes the two coins by their posterior probabilities
    assert float(r.predictive().mean) == pytest.approx(post @ np.array([0.5, 0.8]), rel=1e-12)


@pytest.mark.parametrize("prior_sd", [math.sqrt(0.1), 0.1], ids=["variance-0.1", "sd-0.1"])
def test_non_conjugate_normal_prior_on_a_probability(prior_sd):
    data = np.array([0, 0, 1, 1, 0, 0, 1])
    r = mm.fit("bernoulli", data, prior={"probs": td.Normal(*f64(0.5, prior_sd))})
    assert r.method == "numerical"

    def neg_log_post(t):
        return -(st.bernoulli.logpmf(data, t).sum() + st.norm.logpdf(t, 0.5, prior_sd))

    ref = so.minimize_scalar(neg_log_post, bounds=(1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-12}).x
    assert r.params["probs"] == pytest.approx(ref, rel=1e-7)
    two_tails = (1 - r.params["probs"]) ** 2
    assert float(r.distribution().log_prob(torch.zeros(2, dtype=torch.float64)).sum().exp()) == pytest.approx(two_tails, rel=1e-12)


def test_mse_is_gaussian_and_mae_is_laplace_noise():
    residuals = np.array([2.3, 2.5, 3.1, 3.8, 2.7]) - np.array([2.4, 2.6, 3.0, 3.7, 2.8])
    gauss = mm.fit("normal", residuals, fixed={"loc": 0.0})
    laplace = mm.fit("laplace", residuals, fixed={"loc": 0.0})
    assert gauss.params["scale"] ** 2 == pytest.approx(np.mean(residuals**2), rel=1e-12)  # the MSE
    assert laplace.params["scale"] == pytest.approx(np.mean(np.abs(residuals)), rel=1e-12)  # the MAE


def test_two_dimensional_gaussian_mean_with_known_covariance():
    rng = np.random.default_rng(0)
    data = rng.multivariate_normal(np.ones(2), 5 * np.eye(2), 10_000)
    r = mm.fit("multivariate_normal", data, fixed={"covariance_matrix": 5 * np.eye(2)})
    np.testing.assert_allclose(r.params["loc"], data.mean(0), rtol=1e-12)
    np.testing.assert_allclose(r.se["loc"], np.sqrt(5 / 10_000) * np.ones(2), rtol=1e-10)

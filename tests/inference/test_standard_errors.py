"""Standard errors against textbook formulas and finite-difference observed information.

The references are written out here: the inverse Fisher information of the regular one- and
two-parameter families, and, where no closed form exists (gamma, Weibull, Student's t), the inverse
of a central-difference Hessian of scipy's log-density summed over the sample.
"""

import math

import numpy as np
import pytest
import torch
import torch.distributions as td
from scipy import stats

import mlemap as mm


def fd_hessian(f, theta, rel_step=1e-4):
    """Central-difference Hessian of a scalar function of a parameter vector."""
    theta = np.asarray(theta, dtype=float)
    p = theta.size
    h = rel_step * np.maximum(np.abs(theta), 1.0)
    H = np.empty((p, p))
    for i in range(p):
        for j in range(i, p):
            ei = np.zeros(p)
            ej = np.zeros(p)
            ei[i] = h[i]
            ej[j] = h[j]
            value = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4 * h[i] * h[j])
            H[i, j] = H[j, i] = value
    return H


# ---------------------------------------------------------------------- closed-form information
def _normal_case(rng):
    x = rng.normal(2.0, 3.0, size=150)
    n = x.size
    s = np.sqrt(np.mean((x - x.mean()) ** 2))
    return "normal", x, {}, {"loc": s / np.sqrt(n), "scale": s / np.sqrt(2 * n)}


def _lognormal_case(rng):
    x = rng.lognormal(0.3, 0.8, size=120)
    lx = np.log(x)
    n = x.size
    s = np.sqrt(np.mean((lx - lx.mean()) ** 2))
    return "lognormal", x, {}, {"loc": s / np.sqrt(n), "scale": s / np.sqrt(2 * n)}


def _bernoulli_case(rng):
    x = (rng.random(90) < 0.35).astype(float)
    p = x.mean()
    return "bernoulli", x, {}, {"probs": np.sqrt(p * (1 - p) / x.size)}


def _binomial_case(rng):
    x = rng.binomial(12, 0.3, size=50).astype(float)
    p = x.sum() / (12 * x.size)
    return "binomial", x, {"total_count": 12}, {"probs": np.sqrt(p * (1 - p) / (12 * x.size))}


def _geometric_case(rng):
    x = (rng.geometric(0.3, size=100) - 1).astype(float)
    p = x.size / (x.size + x.sum())
    # information per observation 1 / (p^2 (1 - p))
    return "geometric", x, {}, {"probs": p * np.sqrt((1 - p) / x.size)}


def _poisson_case(rng):
    x = rng.poisson(4.2, size=80).astype(float)
    lam = x.mean()
    return "poisson", x, {}, {"rate": np.sqrt(lam / x.size)}


def _exponential_case(rng):
    x = rng.exponential(0.5, size=70)
    rate = 1 / x.mean()
    return "exponential", x, {}, {"rate": rate / np.sqrt(x.size)}


def _half_normal_case(rng):
    x = np.abs(rng.normal(0, 1.7, size=110))
    s = np.sqrt(np.mean(x**2))
    return "half_normal", x, {}, {"scale": s / np.sqrt(2 * x.size)}


def _laplace_case(rng):
    x = rng.laplace(1.0, 2.0, size=201)
    b = np.mean(np.abs(x - np.median(x)))
    return "laplace", x, {}, {"loc": b / np.sqrt(x.size), "scale": b / np.sqrt(x.size)}


def _categorical_case(rng):
    x = rng.choice(3, size=200, p=[0.2, 0.5, 0.3])
    p = np.bincount(x, minlength=3) / x.size
    return "categorical", x, {}, {"probs": np.sqrt(p * (1 - p) / x.size)}


CLOSED_FORM_CASES = [
    _normal_case,
    _lognormal_case,
    _bernoulli_case,
    _binomial_case,
    _geometric_case,
    _poisson_case,
    _exponential_case,
    _half_normal_case,
    _laplace_case,
    _categorical_case,
]


@pytest.mark.parametrize("make", CLOSED_FORM_CASES, ids=lambda f: f.__name__.strip("_").replace("_case", ""))
def test_standard_errors_match_inverse_fisher_information(make):
    family, x, fixed, expected = make(np.random.default_rng(11))
    r = mm.fit(family, x, fixed=fixed or None)
    assert set(r.se) == set(expected)
    for name, want in expected.items():
        np.testing.assert_allclose(r.se[name], want, rtol=1e-8, err_msg=name)
    assert r.se_reasons == {}


@pytest.mark.parametrize("method", ["closed-form", "numerical"])
def test_normal_covariance_is_diagonal_with_textbook_entries(method):
    x = np.random.default_rng(2).normal(-1.0, 0.7, size=64)
    n = x.size
    s2 = np.mean((x - x.mean()) ** 2)
    r = mm.fit("normal", x, method=method)
    assert r.cov_labels == ["loc", "scale"]
    np.testing.assert_allclose(r.cov, np.diag([s2 / n, s2 / (2 * n)]), rtol=1e-6, atol=1e-12)


def test_laplace_uses_expected_information():
    x = np.random.default_rng(3).laplace(0.0, 1.5, size=99)
    r = mm.fit("laplace", x)
    b = r.params["scale"]
    np.testing.assert_allclose(r.cov, np.eye(2) * b**2 / x.size, rtol=1e-10, atol=1e-15)
    assert any("expected Fisher information" in note for note in r.notes)


def test_categorical_covariance_is_the_multinomial_covariance():
    x = np.random.default_rng(4).choice(4, size=300, p=[0.1, 0.2, 0.3, 0.4])
    p = np.bincount(x, minlength=4) / x.size
    r = mm.fit("categorical", x)
    np.testing.assert_allclose(r.cov, (np.diag(p) - np.outer(p, p)) / x.size, rtol=1e-7, atol=1e-13)


def test_categorical_unobserved_category_is_held_and_the_rest_condition_on_it():
    x = np.array([0, 0, 1, 2, 2, 2, 0, 2, 2, 0])
    family = mm.families.Categorical(n_categories=4)
    with pytest.warns(mm.BoundaryWarning, match="never observed"):
        r = mm.fit(family, x)
    se = r.se["probs"]
    assert np.isnan(se[3])
    p = np.array([0.4, 0.1, 0.5])
    np.testing.assert_allclose(se[:3], np.sqrt(p * (1 - p) / 10), rtol=1e-8)
    assert "probs" in r.se_reasons


def test_multivariate_normal_covariance_of_loc_and_sigma():
    rng = np.random.default_rng(5)
    x = rng.multivariate_normal([0.0, 1.0], [[2.0, 0.6], [0.6, 1.0]], size=80)
    n = x.shape[0]
    mean = x.mean(0)
    S = (x - mean).T @ (x - mean) / n
    r = mm.fit("multivariate_normal", x)
    assert r.cov_labels == [
        "loc[0]",
        "loc[1]",
        "covariance_matrix[0,0]",
        "covariance_matrix[0,1]",
        "covariance_matrix[1,0]",
        "covariance_matrix[1,1]",
    ]
    cov = r.cov
    np.testing.assert_allclose(cov[:2, :2], S / n, rtol=1e-7)
    np.testing.assert_allclose(cov[:2, 2:], 0.0, atol=1e-10)
    # Cov(S_ij, S_kl) = (S_ik S_jl + S_il S_jk) / n for the normal MLE of the covariance
    pairs = [(0, 0), (0, 1), (1, 0), (1, 1)]
    want = np.array([[(S[i, k] * S[j, l] + S[i, l] * S[j, k]) / n for (k, l) in pairs] for (i, j) in pairs])
    np.testing.assert_allclose(cov[2:, 2:], want, rtol=1e-6)
    np.testing.assert_allclose(r.se["loc"], np.sqrt(np.diag(S) / n), rtol=1e-7)


def test_weighted_standard_errors_equal_those_of_the_expanded_sample():
    rng = np.random.default_rng(6)
    values = rng.gamma(2.0, 1.0, size=40)
    w = rng.integers(1, 5, size=40)
    expanded = np.repeat(values, w)
    a = mm.fit("gamma", values, weights=w.astype(float))
    b = mm.fit("gamma", expanded)
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-7)
    # and the exponential formula on the weighted sample
    e = mm.fit("exponential", values, weights=w.astype(float))
    rate = w.sum() / (w * values).sum()
    np.testing.assert_allclose(e.se["rate"], rate / math.sqrt(w.sum()), rtol=1e-10)


# ---------------------------------------------------------------------- finite-difference information
def _gamma_ll(x):
    return lambda t: stats.gamma.logpdf(x, t[0], scale=1 / t[1]).sum()


def _weibull_ll(x):
    return lambda t: stats.weibull_min.logpdf(x, t[1], scale=t[0]).sum()


def _studentt_ll(x):
    return lambda t: stats.t.logpdf(x, t[0], loc=t[1], scale=t[2]).sum()


def _beta_ll(x):
    return lambda t: stats.beta.logpdf(x, t[0], t[1]).sum()


def _gumbel_ll(x):
    return lambda t: stats.gumbel_r.logpdf(x, loc=t[0], scale=t[1]).sum()


FD_CASES = {
    "gamma": (lambda rng: rng.gamma(2.5, 1 / 1.5, size=200), _gamma_ll, ["concentration", "rate"], "auto"),
    "gamma-newton": (lambda rng: rng.gamma(2.5, 1 / 1.5, size=200), _gamma_ll, ["concentration", "rate"], "newton"),
    "weibull": (lambda rng: 3.0 * rng.weibull(1.7, size=200), _weibull_ll, ["scale", "concentration"], "auto"),
    "weibull-newton": (lambda rng: 3.0 * rng.weibull(1.7, size=200), _weibull_ll, ["scale", "concentration"], "newton"),
    "studentt": (lambda rng: 1.0 + 2.0 * rng.standard_t(4.0, size=300), _studentt_ll, ["df", "loc", "scale"], "auto"),
    "beta": (lambda rng: rng.beta(2.0, 5.0, size=150), _beta_ll, ["concentration1", "concentration0"], "auto"),
    "gumbel": (lambda rng: rng.gumbel(1.0, 2.0, size=150), _gumbel_ll, ["loc", "scale"], "auto"),
}


@pytest.mark.parametrize("case", list(FD_CASES), ids=list(FD_CASES))
def test_standard_errors_match_finite_difference_information(case):
    gen, make_ll, names, solver = FD_CASES[case]
    family = case.split("-")[0]
    x = gen(np.random.default_rng(21))
    r = mm.fit(family, x, solver=solver)
    if family in ("gamma", "weibull"):
        assert r.solver == ("profile-newton" if solver == "auto" else "newton")
    theta = np.array([r.params[n] for n in names])
    H = fd_hessian(make_ll(x), theta)
    cov_fd = np.linalg.inv(-H)
    se_fd = np.sqrt(np.diag(cov_fd))
    assert r.cov_labels == names
    np.testing.assert_allclose([r.se[n] for n in names], se_fd, rtol=1e-4)
    scale = np.sqrt(np.outer(se_fd, se_fd))
    np.testing.assert_allclose(r.cov / scale, cov_fd / scale, atol=1e-4)


def test_map_laplace_approximation_matches_finite_difference_posterior_curvature():
    x = np.random.default_rng(8).poisson(4.0, size=30).astype(float)
    prior = td.LogNormal(torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64))
    r = mm.fit("poisson", x, prior={"rate": prior})
    assert r.estimator == "MAP"
    assert r.posterior_kind == {"rate": "laplace"}

    def log_post(t):
        return stats.poisson.logpmf(x, t[0]).sum() + stats.lognorm.logpdf(t[0], 0.5, scale=math.e)

    H = fd_hessian(log_post, [r.params["rate"]])
    np.testing.assert_allclose(r.se["rate"], 1 / math.sqrt(-H[0, 0]), rtol=1e-5)


def test_conjugate_map_reports_the_exact_posterior_sd():
    # Beta(1, 1) prior, 4 successes and 2 failures: posterior Beta(5, 3)
    r = mm.fit("bernoulli", [1, 1, 1, 0, 1, 0], prior={"probs": td.Beta(1.0, 1.0)})
    np.testing.assert_allclose(r.params["probs"], 4 / 6, rtol=1e-12)
    np.testing.assert_allclose(r.se["probs"], stats.beta.std(5, 3), rtol=1e-10)


# ---------------------------------------------------------------------- boundary and singular cases
def test_all_heads_bernoulli_has_nan_se_with_a_reason():
    with pytest.warns(mm.BoundaryWarning):
        r = mm.fit("bernoulli", np.ones(20))
    assert r.params["probs"] == 1.0
    assert math.isnan(r.se["probs"])
    assert "probs" in r.se_reasons and "boundary" in r.se_reasons["probs"]
    assert np.isnan(r.cov).all()


def test_all_zero_poisson_has_nan_se():
    with pytest.warns(mm.BoundaryWarning):
        r = mm.fit("poisson", np.zeros(12))
    assert r.params["rate"] == 0.0
    assert math.isnan(r.se["rate"])
    assert "rate" in r.se_reasons


def test_uniform_bounds_have_nan_se():
    x = np.random.default_rng(9).uniform(-1, 2, size=50)
    r = mm.fit("uniform", x)
    assert r.params == {"low": x.min(), "high": x.max()}
    assert math.isnan(r.se["low"]) and math.isnan(r.se["high"])
    assert set(r.se_reasons) == {"low", "high"}
    assert "1/n" in r.se_reasons["low"]


@pytest.mark.parametrize("method", ["closed-form", "numerical"])
def test_pareto_scale_is_held_and_alpha_se_is_conditional_on_it(method):
    x = 2.0 * (np.random.default_rng(10).pareto(3.0, size=60) + 1)
    n = x.size
    r = mm.fit("pareto", x, method=method)
    xm = x.min()
    alpha = n / np.sum(np.log(x / xm))
    np.testing.assert_allclose(r.params["scale"], xm, rtol=0)
    np.testing.assert_allclose(r.params["alpha"], alpha, rtol=1e-9)
    assert math.isnan(r.se["scale"])
    assert "scale" in r.se_reasons and "alpha" not in r.se_reasons
    # with the scale held at min(x), the information of alpha is n / alpha^2
    np.testing.assert_allclose(r.se["alpha"], alpha / math.sqrt(n), rtol=1e-7)


def _sum_only(x, a, b):
    return td.Normal(a + b, 1.0).log_prob(x)


def _unused_parameter(x, a, c):
    return td.Normal(a, 1.0).log_prob(x) + 0.0 * c


@pytest.mark.parametrize(
    "fn,init",
    [(_sum_only, {"a": 0.0, "b": 0.0}), (_unused_parameter, {"a": 0.0, "c": 1.0})],
    ids=["a-plus-b", "unused-parameter"],
)
def test_singular_information_warns_and_gives_nan(fn, init):
    x = np.random.default_rng(12).normal(1.0, 1.0, size=50)
    r = mm.fit(fn, x, init=init)
    with pytest.warns(mm.IdentifiabilityWarning, match="singular"):
        se = r.se
    assert all(math.isnan(v) for v in se.values())
    assert set(r.se_reasons) == set(init)
    assert all("singular" in why for why in r.se_reasons.values())

"""MAP regression: every prior is the penalty it claims to be, checked against independent solvers.

References: scikit-learn (Ridge, Lasso, LogisticRegression, PoissonRegressor) at the conversions
stated in the docstrings, and scipy.optimize on the joint negative log-posterior written out here.
Iterative references are polished by Newton to machine precision (tests/reference.py) before they
are compared at 1e-6.
"""

import math

import numpy as np
import pytest
import torch
import torch.distributions as td
from reference import penalised_glm_reference, polished_minimum
from scipy import stats
from sklearn import linear_model as sk

import mlemap.models as mm
from mlemap import priors


def _data(n: int):
    """Fixed data for every test of this module (built once, from its own generator)."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, 3)) * [1.0, 2.0, 0.5]
    y_real = 1.0 + X @ [0.8, -0.3, 0.0] + 1.5 * rng.standard_normal(n)
    y_bin = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + X @ [1.0, -0.5, 0.3])))).astype(float)
    y_cnt = rng.poisson(np.exp(0.3 + X @ [0.2, -0.1, 0.3])).astype(float)
    return X, y_real, y_bin, y_cnt


n = 200
X, y_real, y_bin, y_cnt = _data(n)


Xt, y_real_t, y_bin_t = (torch.as_tensor(a, dtype=torch.float64) for a in (X, y_real, y_bin))
LOG_2PI = math.log(2 * math.pi)


def _normal_logpdf(r, sigma):
    return -0.5 * LOG_2PI - torch.log(torch.as_tensor(sigma, dtype=torch.float64)) - 0.5 * (r / sigma) ** 2


def _student_logpdf(z, df, scale):
    half = (df + 1) / 2
    return (math.lgamma(half) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi) - math.log(scale)
            - half * torch.log1p((z / scale) ** 2 / df))


def _central_grad(f, x, h=1e-5):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def _fd_hessian(f, x, h=1e-4):
    p = x.size
    H = np.empty((p, p))
    for i in range(p):
        for j in range(p):
            e_i, e_j = np.eye(p)[i] * h, np.eye(p)[j] * h
            H[i, j] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (4 * h * h)
    return H


def test_normal_prior_on_linear_regression_is_the_joint_map():
    s = 0.5
    m = mm.LinearRegression(prior=td.Normal(0.0, s)).fit(X, y_real)

    def neg_log_post(t):
        beta, b, log_sigma = t[:3], t[3], t[4]
        sigma = math.exp(log_sigma)
        r = y_real - X @ beta - b
        return -stats.norm.logpdf(r, 0, sigma).sum() - stats.norm.logpdf(beta, 0, s).sum()

    def neg_log_post_t(t):  # the same objective in torch, for the Newton-polished reference
        r = y_real_t - Xt @ t[:3] - t[3]
        return -_normal_logpdf(r, torch.exp(t[4])).sum() - _normal_logpdf(t[:3], s).sum()

    ref = polished_minimum(neg_log_post_t, np.r_[np.zeros(3), y_real.mean(), 0.0])
    assert abs(neg_log_post(ref) - float(neg_log_post_t(torch.as_tensor(ref)))) < 1e-9
    np.testing.assert_allclose(np.r_[m.coef_, m.intercept_], ref[:4], rtol=1e-6)
    assert m.scale_ == pytest.approx(math.exp(ref[4]), rel=1e-6)
    # at the fixed point it is sklearn's Ridge with alpha = sigma^2 / s^2
    ridge = sk.Ridge(alpha=m.scale_**2 / s**2).fit(X, y_real)
    np.testing.assert_allclose(m.coef_, ridge.coef_, rtol=1e-9)


def test_normal_prior_posterior_covariance_is_the_joint_laplace_approximation():
    s = 0.5
    m = mm.LinearRegression(prior=td.Normal(0.0, s)).fit(X, y_real)

    def neg_log_post(t):  # natural coordinates (beta, b, sigma)
        r = y_real - X @ t[:3] - t[3]
        return -stats.norm.logpdf(r, 0, t[4]).sum() - stats.norm.logpdf(t[:3], 0, s).sum()

    H = _fd_hessian(neg_log_post, np.r_[m.coef_, m.intercept_, m.scale_])
    cov = np.linalg.inv(H)[:4, :4]
    np.testing.assert_allclose(m.cov_.values, cov, rtol=1e-4)


def test_normal_prior_on_logistic_is_sklearn_with_c_equal_to_the_variance():
    s = 0.7
    m = mm.LogisticRegression(prior=td.Normal(0.0, s)).fit(X, y_bin)
    ref = sk.LogisticRegression(C=s**2, tol=1e-12, max_iter=10_000).fit(X, y_bin)
    exact, _ = penalised_glm_reference("bernoulli", X, y_bin, np.r_[ref.coef_[0], ref.intercept_], l2=1 / (s**2 * n))
    np.testing.assert_allclose(ref.coef_[0], exact, rtol=1e-5)
    np.testing.assert_allclose(m.coef_, exact, rtol=1e-6)


def test_normal_prior_on_poisson_is_sklearn_with_alpha_one_over_n_variance():
    s = 0.3
    m = mm.PoissonRegression(prior=td.Normal(0.0, s)).fit(X, y_cnt)
    ref = sk.PoissonRegressor(alpha=1 / (n * s**2), tol=1e-12, max_iter=10_000, solver="newton-cholesky").fit(X, y_cnt)
    exact, _ = penalised_glm_reference("poisson", X, y_cnt, np.r_[ref.coef_, ref.intercept_], l2=1 / (n * s**2))
    np.testing.assert_allclose(ref.coef_, exact, rtol=1e-5)
    np.testing.assert_allclose(m.coef_, exact, rtol=1e-6)


def test_laplace_prior_on_linear_regression_is_lasso_at_the_fixed_point():
    pytest.importorskip("mlemap.glm.penalized")
    b = 0.05
    m = mm.LinearRegression(prior=td.Laplace(0.0, b)).fit(X, y_real)
    alpha = m.scale_**2 / (n * b)
    lasso = sk.Lasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, y_real)
    exact, _ = penalised_glm_reference("gaussian", X, y_real, np.r_[lasso.coef_, lasso.intercept_], l1=alpha)
    np.testing.assert_allclose(lasso.coef_, exact, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(m.coef_, exact, rtol=1e-6, atol=1e-9)
    assert np.any(m.coef_ == 0)
    sigma2 = np.mean((y_real - m.predict(X)) ** 2)
    assert m.scale_**2 == pytest.approx(sigma2, rel=1e-8)


def test_laplace_prior_on_logistic_is_l1_logistic_with_c_equal_to_b():
    pytest.importorskip("mlemap.glm.penalized")
    b = 0.2
    m = mm.LogisticRegression(prior=td.Laplace(0.0, b)).fit(X, y_bin)
    ref = sk.LogisticRegression(C=b, l1_ratio=1.0, solver="saga", tol=1e-12, max_iter=100_000).fit(X, y_bin)
    exact, _ = penalised_glm_reference("bernoulli", X, y_bin, np.r_[ref.coef_[0], ref.intercept_], l1=1 / (b * n))
    np.testing.assert_allclose(ref.coef_[0], exact, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.coef_, exact, rtol=1e-6, atol=1e-9)


def test_student_t_prior_on_logistic_is_the_map_of_the_written_objective():
    prior = td.StudentT(3.0, 0.0, 1.0)
    m = mm.LogisticRegression(prior=prior).fit(X, y_bin)

    def neg_log_post(t):
        eta = X @ t[:3] + t[3]
        return np.sum(np.logaddexp(0, eta) - y_bin * eta) - stats.t.logpdf(t[:3], 3.0).sum()

    def neg_log_post_t(t):
        eta = Xt @ t[:3] + t[3]
        return torch.sum(torch.logaddexp(torch.zeros_like(eta), eta) - y_bin_t * eta) - _student_logpdf(t[:3], 3.0, 1.0).sum()

    estimate = np.r_[m.coef_, m.intercept_]
    assert np.abs(_central_grad(neg_log_post, estimate)).max() < 1e-5  # a stationary point
    ref = polished_minimum(neg_log_post_t, np.zeros(4))
    assert neg_log_post(estimate) <= neg_log_post(ref) + 1e-10
    np.testing.assert_allclose(estimate, ref, rtol=1e-5)
    cov = np.linalg.inv(_fd_hessian(neg_log_post, np.r_[m.coef_, m.intercept_]))
    np.testing.assert_allclose(m.cov_.values, cov, rtol=1e-4)
    assert "StudentT" in m.summary().data["prior"]


def test_student_t_prior_on_linear_regression_includes_sigma_in_the_joint_map():
    m = mm.LinearRegression(prior=td.StudentT(2.0, 0.0, 0.3)).fit(X, y_real)

    def neg_log_post(t):
        r = y_real - X @ t[:3] - t[3]
        return -stats.norm.logpdf(r, 0, math.exp(t[4])).sum() - stats.t.logpdf(t[:3], 2.0, 0, 0.3).sum()

    def neg_log_post_t(t):
        r = y_real_t - Xt @ t[:3] - t[3]
        return -_normal_logpdf(r, torch.exp(t[4])).sum() - _student_logpdf(t[:3], 2.0, 0.3).sum()

    estimate = np.r_[m.coef_, m.intercept_, math.log(m.scale_)]
    assert np.abs(_central_grad(neg_log_post, estimate)).max() < 1e-5  # a stationary point
    ref = polished_minimum(neg_log_post_t, np.r_[np.zeros(3), y_real.mean(), 0.0])
    assert neg_log_post(estimate) <= neg_log_post(ref) + 1e-10
    np.testing.assert_allclose(estimate, ref, rtol=1e-5, atol=1e-7)


def test_ridge_posterior_covariance_is_sigma2_times_the_regularised_inverse():
    alpha = 3.0
    m = mm.LinearRegression(prior=priors.ridge(alpha)).fit(X, y_real)
    A = np.column_stack([X, np.ones(n)])
    P = np.diag([1.0, 1.0, 1.0, 0.0])
    sigma2 = np.mean((y_real - m.predict(X)) ** 2)
    np.testing.assert_allclose(m.cov_.values, sigma2 * np.linalg.inv(A.T @ A + alpha * P), rtol=1e-10)


def test_penalize_intercept_equals_ridge_on_a_column_of_ones():
    alpha = 5.0
    m = mm.LinearRegression(prior=priors.ridge(alpha), penalize_intercept=True).fit(X, y_real)
    A = np.column_stack([X, np.ones(n)])
    ref = sk.Ridge(alpha=alpha, fit_intercept=False).fit(A, y_real)
    np.testing.assert_allclose(np.r_[m.coef_, m.intercept_], ref.coef_, rtol=1e-10)


def test_summary_shows_the_prior_each_penalty_is():
    pytest.importorskip("mlemap.glm.penalized")
    m = mm.LinearRegression(prior=priors.lasso(0.1)).fit(X, y_real)
    text = str(m.summary())
    assert "lasso alpha = 0.1 with n = 200 is the prior Laplace(0, b=" in text
    b = m.scale_**2 / (n * 0.1)  # dispersion / lambda_1 with lambda_1 = n * alpha
    assert f"Laplace(0, b={b:.6g})" in text
    m = mm.LogisticRegression(prior=priors.ridge(2.0)).fit(X, y_bin)
    assert "ridge alpha = 2 with n = 200 is the prior Normal(0, sd=0.707107)" in str(m.summary())


def test_l1_standard_errors_are_withheld_unless_asked_for():
    pytest.importorskip("mlemap.glm.penalized")
    m = mm.LinearRegression(prior=priors.lasso(0.3)).fit(X, y_real)
    assert np.all(np.isnan(m.se_))
    notes = " ".join(m.summary().notes)
    assert "no Gaussian sampling distribution" in notes and "cov_type='laplace_active'" in notes
    a = mm.LinearRegression(prior=priors.lasso(0.3), cov_type="laplace_active").fit(X, y_real)
    active = a.coef_ != 0
    assert np.all(np.isfinite(a.se_[active])) and np.all(np.isnan(a.se_[~active]))
    # the active-set covariance: sigma^2 (X_A' X_A)^-1 with the intercept, sigma from the lasso residuals
    A = np.column_stack([X[:, active], np.ones(n)])
    sigma2 = np.mean((y_real - a.predict(X)) ** 2)
    expected = np.sqrt(np.diag(sigma2 * np.linalg.inv(A.T @ A)))
    np.testing.assert_allclose(np.r_[a.se_[active], a.intercept_se_], expected, rtol=1e-10)


def test_poisson_offset_and_exposure_are_the_same_model():
    rng = np.random.default_rng(500)
    exposure = rng.uniform(0.5, 2.0, n)
    a = mm.PoissonRegression().fit(X, y_cnt, exposure=exposure)
    b = mm.PoissonRegression().fit(X, y_cnt, offset=np.log(exposure))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    np.testing.assert_allclose(a.predict(X, exposure=exposure), b.predict(X, offset=np.log(exposure)), rtol=1e-12)


def test_profile_interval_reaches_the_chi2_threshold():
    m = mm.LogisticRegression().fit(X, y_bin)
    ci = m.conf_int(method="profile")
    crit = stats.chi2.ppf(0.95, 1)
    import statsmodels.api as sm

    for j in range(3):
        for bound in ci.iloc[j]:
            # refit with coefficient j held at the bound (statsmodels, the column moved to an offset)
            others = np.column_stack([np.delete(X, j, axis=1), np.ones(n)])
            r = sm.GLM(y_bin, others, family=sm.families.Binomial(), offset=bound * X[:, j]).fit(tol=1e-14)
            assert 2 * (m.loglik_ - r.llf) == pytest.approx(crit, rel=1e-6)
    wald = m.conf_int()
    assert np.all(np.abs(ci.values - wald.values) < 0.2 * (wald["upper"] - wald["lower"]).values[:, None])


def test_torch_tensor_input_is_accepted():
    m = mm.LinearRegression().fit(torch.from_numpy(X), torch.from_numpy(y_real))
    ref = mm.LinearRegression().fit(X, y_real)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-14)

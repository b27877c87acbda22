"""Agreement with statsmodels (and NIST's certified values) on bundled and generated data sets.

statsmodels is fitted with tight tolerances; coefficients, standard errors and log-likelihoods must
agree to 1e-6 relative. Conventions that differ are converted explicitly, with the reason:

* statsmodels' OLS/WLS standard errors use the unbiased residual variance (divisor ``n - p``);
  mlemap reports the observed information at the MLE (divisor ``n``): ``se_mm = se_sm * sqrt((n - p) / n)``.
* mlemap's sample weights are frequency weights: statsmodels ``GLM(freq_weights=...)``.
"""

import numpy as np
import pytest
import statsmodels.api as sm

import mlemap.models as mm

RTOL = 1e-6


def _spector():
    d = sm.datasets.spector.load_pandas()
    return d.exog, d.endog


def _longley():
    d = sm.datasets.longley.load_pandas()
    return d.exog, d.endog


def _stackloss():
    d = sm.datasets.stackloss.load_pandas()
    return d.exog, d.endog


def _randhie():
    d = sm.datasets.randhie.load_pandas()
    return d.exog, d.endog


def _hetero(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, 3))
    sd = np.exp(0.5 * X[:, 0])
    y = 1.0 + X @ [0.5, -1.0, 2.0] + sd * rng.standard_normal(300)
    return X, y, sd**2


def _counts(seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((500, 3))
    exposure = rng.uniform(0.5, 3.0, 500)
    y = rng.poisson(exposure * np.exp(0.2 + X @ [0.3, -0.2, 0.1])).astype(float)
    w = rng.integers(1, 4, 500).astype(float)
    return X, y, exposure, w


def _binary(seed=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((400, 3))
    y = (rng.random(400) < 1 / (1 + np.exp(-(0.3 + X @ [1.0, -0.5, 0.25])))).astype(float)
    w = rng.integers(1, 5, 400).astype(float)
    return X, y, w


def case_logit():
    X, y = _spector()
    m = mm.LogisticRegression().fit(X, y)
    r = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-14, maxiter=100, disp=0)
    return m, r.params.values, r.bse.values, r.llf


def case_logit_sandwich():
    X, y = _spector()
    m = mm.LogisticRegression(cov_type="sandwich").fit(X, y)
    r = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-14, maxiter=100, disp=0, cov_type="HC0")
    return m, r.params.values, r.bse.values, r.llf


def case_logit_freq_weights():
    X, y, w = _binary()
    m = mm.LogisticRegression().fit(X, y, sample_weight=w)
    r = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-14, maxiter=100)
    return m, r.params, r.bse, r.llf


def case_ols_longley():
    X, y = _longley()
    m = mm.LinearRegression().fit(X, y)
    r = sm.OLS(y, sm.add_constant(X)).fit()
    n, p = X.shape[0], X.shape[1] + 1
    return m, r.params.values, r.bse.values * np.sqrt((n - p) / n), r.llf


def case_ols_stackloss():
    X, y = _stackloss()
    m = mm.LinearRegression().fit(X, y)
    r = sm.OLS(y, sm.add_constant(X)).fit()
    n, p = X.shape[0], X.shape[1] + 1
    return m, r.params.values, r.bse.values * np.sqrt((n - p) / n), r.llf


def case_ols_hc0():
    X, y = _longley()
    m = mm.LinearRegression(cov_type="sandwich").fit(X, y)
    r = sm.OLS(y, sm.add_constant(X)).fit(cov_type="HC0")
    return m, r.params.values, r.bse.values, r.llf


def case_wls():
    X, y, var = _hetero()
    w = 1.0 / var
    w = w / w.mean()  # frequency weights with mean 1 are variance weights
    m = mm.LinearRegression().fit(X, y, sample_weight=w)
    r = sm.WLS(y, sm.add_constant(X), weights=w).fit()
    n, p = X.shape[0], X.shape[1] + 1
    return m, r.params, r.bse * np.sqrt((n - p) / n), None


def case_poisson_randhie():
    X, y = _randhie()
    m = mm.PoissonRegression().fit(X, y)
    r = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-14, maxiter=100)
    return m, r.params.values, r.bse.values, r.llf


def case_poisson_exposure():
    X, y, exposure, _ = _counts()
    m = mm.PoissonRegression().fit(X, y, exposure=exposure)
    r = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson(), exposure=exposure).fit(tol=1e-14, maxiter=100)
    return m, r.params, r.bse, r.llf


def case_poisson_freq_weights():
    X, y, _, w = _counts()
    m = mm.PoissonRegression().fit(X, y, sample_weight=w)
    r = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson(), freq_weights=w).fit(tol=1e-14, maxiter=100)
    return m, r.params, r.bse, r.llf


def case_poisson_hc0():
    X, y, _, _ = _counts()
    m = mm.PoissonRegression(cov_type="sandwich").fit(X, y)
    r = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-14, maxiter=100, cov_type="HC0")
    return m, r.params, r.bse, r.llf


def _packed_sm(params: np.ndarray) -> np.ndarray:
    """statsmodels puts the constant first; mlemap packs [coef..., intercept]."""
    params = np.asarray(params)
    return np.r_[params[1:], params[0]]


CASES = {
    "logit-spector": case_logit,
    "logit-spector-HC0": case_logit_sandwich,
    "logit-freq-weights": case_logit_freq_weights,
    "ols-longley": case_ols_longley,
    "ols-stackloss": case_ols_stackloss,
    "ols-longley-HC0": case_ols_hc0,
    "wls-heteroscedastic": case_wls,
    "poisson-randhie": case_poisson_randhie,
    "poisson-exposure": case_poisson_exposure,
    "poisson-freq-weights": case_poisson_freq_weights,
    "poisson-HC0": case_poisson_hc0,
}


@pytest.mark.parametrize("name", list(CASES))
def test_single_output_models_agree_with_statsmodels(name):
    m, params, bse, llf = CASES[name]()
    estimate = np.r_[m.coef_, m.intercept_]
    se = np.r_[m.se_, m.intercept_se_]
    np.testing.assert_allclose(estimate, _packed_sm(params), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(se, _packed_sm(bse), rtol=RTOL)
    if llf is not None:
        np.testing.assert_allclose(m.loglik_, llf, rtol=1e-10)


def test_multinomial_logit_agrees_with_statsmodels_mnlogit():
    d = sm.datasets.anes96.load_pandas()
    X = d.exog[["logpopul", "selfLR", "age", "educ", "income"]]
    y = d.endog
    m = mm.SoftmaxRegression().fit(X, y)
    r = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", tol=1e-14, maxiter=100, disp=0)
    params = np.asarray(r.params)  # (p, K - 1), constant first; the first class is the reference
    bse = np.asarray(r.bse)
    assert np.all(m.coef_[0] == 0)
    np.testing.assert_allclose(m.coef_[1:], params[1:].T, rtol=RTOL, atol=1e-10)
    np.testing.assert_allclose(m.intercept_[1:], params[0], rtol=RTOL)
    np.testing.assert_allclose(m.se_[1:], bse[1:].T, rtol=RTOL)
    np.testing.assert_allclose(m.intercept_se_[1:], bse[0], rtol=RTOL)
    assert np.all(np.isnan(m.se_[0]))
    np.testing.assert_allclose(m.loglik_, r.llf, rtol=1e-10)


# NIST StRD certified values for the Longley data (https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml)
LONGLEY_CERTIFIED = [
    -3482258.63459582, 15.0618722713733, -0.358191792925910e-01, -2.02022980381683,
    -1.03322686717359, -0.511041056535807e-01, 1829.15146461355,
]


def test_longley_matches_nist_certified_coefficients():
    X, y = _longley()
    m = mm.LinearRegression().fit(X, y)
    np.testing.assert_allclose(np.r_[m.intercept_, m.coef_], LONGLEY_CERTIFIED, rtol=1e-12)


def test_aic_and_bic_follow_their_definitions():
    X, y = _spector()
    m = mm.LogisticRegression().fit(X, y)
    r = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-14, disp=0)
    np.testing.assert_allclose(m.aic_, r.aic, rtol=1e-10)
    np.testing.assert_allclose(m.bic_, r.bic, rtol=1e-10)
    # the Gaussian model also counts sigma as a parameter (statsmodels' OLS does not)
    X, y = _longley()
    m = mm.LinearRegression().fit(X, y)
    r = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(m.aic_, r.aic + 2, rtol=1e-10)

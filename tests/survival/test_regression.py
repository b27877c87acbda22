"""SurvivalRegression: survreg's parametrisation, lifelines, independent likelihoods, priors, predictions."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import torch.distributions as td
from scipy import stats

import mlemap as mm
from reference import polished_minimum
from mlemap.survival.aft import DISTRIBUTIONS, AFTModel


def _data(seed=0, n=600, d=3, family="weibull", censor=1.5, beta=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    beta = np.linspace(0.5, -0.3, d) if beta is None else np.asarray(beta)
    w = {"weibull": np.log(rng.exponential(size=n)), "lognormal": rng.normal(size=n),
         "loglogistic": rng.logistic(size=n)}[family]
    t = np.exp(1.0 + X @ beta + 0.7 * w)
    c = rng.exponential(np.exp(censor), n)
    return X, np.minimum(t, c), (t <= c).astype(int)


# ---------------------------------------------------------------------- an independent likelihood in torch
_LAWS = {
    "extreme": (lambda z: z - torch.exp(z), lambda z: -torch.exp(z), lambda z: torch.log(-torch.expm1(-torch.exp(z)))),
    "gaussian": (lambda z: -z * z / 2 - 0.5 * math.log(2 * math.pi), lambda z: torch.special.log_ndtr(-z),
                 torch.special.log_ndtr),
    "logistic": (lambda z: -z - 2 * torch.nn.functional.softplus(-z, threshold=1000),
                 lambda z: -torch.nn.functional.softplus(z, threshold=1000),
                 lambda z: -torch.nn.functional.softplus(-z, threshold=1000)),
}


def torch_loglik(family, X, low, high, theta, weights=None, fixed_scale=None):
    """survreg's log-likelihood written from its definition: density, survival, cdf, cdf difference."""
    law, log_time, fixed = DISTRIBUTIONS[family]
    logpdf, logsf, logcdf = _LAWS[law.name]
    d = X.shape[1]
    eta = torch.as_tensor(X) @ theta[:d] + theta[d]
    scale_fixed = fixed if fixed is not None else fixed_scale
    sigma = torch.as_tensor(scale_fixed, dtype=torch.float64) if scale_fixed is not None else torch.exp(theta[d + 1])
    lo, hi = np.asarray(low, float), np.asarray(high, float)
    w = torch.ones(lo.size, dtype=torch.float64) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_lo = np.log(lo) if log_time else lo
        f_hi = np.log(hi) if log_time else hi
    exact = lo == hi
    right = np.isinf(hi) & ~exact
    left = (np.isinf(lo) | (log_time & (lo <= 0))) & ~exact & ~right
    interval = ~exact & ~right & ~left

    def z(values, mask):
        return (torch.as_tensor(values[mask]) - eta[torch.as_tensor(mask)]) / sigma

    total = (w[exact] * (logpdf(z(f_lo, exact)) - torch.log(sigma) - torch.as_tensor(f_lo[exact] if log_time else 0.0))).sum()
    total = total + (w[right] * logsf(z(f_lo, right))).sum() + (w[left] * logcdf(z(f_hi, left))).sum()
    between = torch.exp(logcdf(z(f_hi, interval))) - torch.exp(logcdf(z(f_lo, interval)))
    return total + (w[interval] * torch.log(between)).sum()


def _mixed(seed=1, n=40):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    t = np.exp(0.5 + X @ [0.4, -0.2] + 0.6 * rng.normal(size=n))
    low, high = t.copy(), t.copy()
    kind = rng.choice(4, n)
    high[kind == 1] = np.inf
    low[kind == 2] = -np.inf
    low[kind == 3], high[kind == 3] = np.floor(t[kind == 3] * 2) / 2, np.floor(t[kind == 3] * 2) / 2 + 0.5
    low[(kind == 3) & (low == 0)] = -np.inf
    return X, low, high


@pytest.mark.parametrize("family", ["weibull", "lognormal", "loglogistic", "normal", "logistic"])
def test_gradient_and_hessian_equal_autograd_of_an_independent_likelihood(family):
    X, low, high = _mixed()
    law, log_time, _ = DISTRIBUTIONS[family]
    from mlemap.survival.rows import survival_rows

    rows = survival_rows(mm.censored(left=np.where(np.isinf(low), np.nan, low), right=np.where(np.isinf(high), np.nan, high)),
                         None, n=X.shape[0], log_time=log_time, family=family, owner="test")
    model = AFTModel(law, 2)
    chunk = {"X": X, "y1": rows.y1, "y2": rows.y2, "kind": rows.kind, "jacobian": rows.jacobian}
    theta = torch.tensor([0.3, -0.1, 0.4, math.log(0.8)], dtype=torch.float64)
    c = model.contribution(chunk, theta, 2)
    ref = lambda v: -torch_loglik(family, X, low, high, v)  # noqa: E731
    t = theta.clone().requires_grad_(True)
    value = ref(t)
    (g,) = torch.autograd.grad(value, t, create_graph=True)
    H = torch.stack([torch.autograd.grad(g[i], t, retain_graph=True)[0] for i in range(4)])
    assert float(c.value) == pytest.approx(float(value.detach()), rel=1e-12)
    np.testing.assert_allclose(c.grad.numpy(), g.detach().numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(c.hess.numpy(), H.detach().numpy(), rtol=1e-9, atol=1e-11)


# ---------------------------------------------------------------------- survreg's parametrisation
def test_weibull_aft_without_covariates_is_the_weibull_fit_with_scale_one_over_shape():
    _, time, event = _data(2)
    y = mm.censored(time, event=event)
    aft = mm.SurvivalRegression(family="weibull").fit(np.zeros((time.size, 0)), time, event=event)
    fit = mm.fit("weibull", y)
    assert aft.scale_ == pytest.approx(1 / fit.params["concentration"], rel=1e-10)
    assert aft.shape_ == pytest.approx(fit.params["concentration"], rel=1e-10)
    assert math.exp(aft.intercept_) == pytest.approx(fit.params["scale"], rel=1e-10)
    assert aft.loglik_ == pytest.approx(fit.loglik, rel=1e-12)
    # delta method: se(log scale) = se(shape) / shape
    assert aft.log_scale_se_ == pytest.approx(fit.se["concentration"] / fit.params["concentration"], rel=1e-6)


@pytest.mark.parametrize("family, check", [
    ("lognormal", lambda aft, fit: (aft.intercept_, aft.scale_, fit.params["loc"], fit.params["scale"])),
    ("loglogistic", lambda aft, fit: (math.exp(aft.intercept_), 1 / aft.scale_, fit.params["scale"], fit.params["concentration"])),
])
def test_other_log_time_families_without_covariates_are_the_distribution_fits(family, check):
    _, time, event = _data(3, family=family)
    aft = mm.SurvivalRegression(family=family).fit(np.zeros((time.size, 0)), time, event=event)
    fit = mm.fit(family, mm.censored(time, event=event))
    a, b, c, d = check(aft, fit)
    # the distribution fit stops at the Newton decrement 1e-15 |f|: a few 1e-8 from the optimum at worst
    assert a == pytest.approx(c, rel=1e-7) and b == pytest.approx(d, rel=1e-7)
    assert aft.loglik_ == pytest.approx(fit.loglik, rel=1e-12)


def test_exponential_aft_intercept_is_minus_log_events_over_time():
    _, time, event = _data(4)
    aft = mm.SurvivalRegression(family="exponential").fit(np.zeros((time.size, 0)), time, event=event)
    assert aft.scale_ == 1.0
    assert math.exp(-aft.intercept_) == pytest.approx(event.sum() / time.sum(), rel=1e-13)
    assert aft.intercept_se_ == pytest.approx(1 / math.sqrt(event.sum()), rel=1e-9)
    assert "log(scale)" not in aft.estimate_.labels


def test_normal_aft_without_censoring_is_least_squares_with_the_mle_variance():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0 + rng.normal(scale=0.7, size=200)
    aft = mm.SurvivalRegression(family="normal").fit(X, y)
    A = np.column_stack([X, np.ones(200)])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(np.append(aft.coef_, aft.intercept_), coef, rtol=1e-10)
    resid = y - A @ coef
    assert aft.scale_ == pytest.approx(math.sqrt(resid @ resid / 200), rel=1e-10)


LIFELINES = [("weibull", "WeibullAFTFitter", "lambda_", "rho_", lambda v: -v),
             ("lognormal", "LogNormalAFTFitter", "mu_", "sigma_", lambda v: v),
             ("loglogistic", "LogLogisticAFTFitter", "alpha_", "beta_", lambda v: -v)]


@pytest.mark.parametrize("family, fitter, loc, shape, to_log_scale", LIFELINES, ids=[c[0] for c in LIFELINES])
def test_matches_lifelines_aft_fitters(family, fitter, loc, shape, to_log_scale):
    lifelines = pytest.importorskip("lifelines")
    X, time, event = _data(6, family=family)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(T=time, E=event)
    theirs = getattr(lifelines, fitter)()
    # lifelines' default BFGS stops about 1e-5 short of the optimum; its error message suggests another
    # scipy method, and Newton-CG reaches it
    theirs._scipy_fit_method = "Newton-CG"
    theirs.fit(frame, "T", "E", fit_options={"xtol": 1e-12})
    ours = mm.SurvivalRegression(family=family).fit(frame[["a", "b", "c"]], time, event=event)
    p = theirs.params_
    np.testing.assert_allclose(ours.coef_, p[loc][["a", "b", "c"]].to_numpy(), rtol=1e-6)
    assert ours.intercept_ == pytest.approx(p[loc]["Intercept"], rel=1e-6)
    assert math.log(ours.scale_) == pytest.approx(to_log_scale(p[shape]["Intercept"]), rel=1e-6)
    assert ours.loglik_ == pytest.approx(theirs.log_likelihood_, rel=1e-8)
    assert ours.loglik_ >= theirs.log_likelihood_ - 1e-9 * abs(ours.loglik_)
    se = theirs.summary["se(coef)"][loc]
    np.testing.assert_allclose(ours.se_, se[["a", "b", "c"]].to_numpy(), rtol=1e-5)


@pytest.mark.parametrize("family", ["normal", "logistic", "lognormal"])
def test_tobit_and_interval_fits_solve_an_independent_likelihood(family):
    X, low, high = _mixed(7, 60)
    if family in ("normal", "logistic"):  # on the time scale: a detection limit at 1.0
        rng = np.random.default_rng(8)
        y = 1.0 + X @ [0.8, -0.5] + rng.normal(size=60)
        low, high = np.where(y < 1.0, -np.inf, y), np.where(y < 1.0, 1.0, y)
    y = mm.censored(left=np.where(np.isinf(low), np.nan, low), right=np.where(np.isinf(high), np.nan, high))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.IdentifiabilityWarning)
        ours = mm.SurvivalRegression(family=family).fit(X, y)
    theta = np.append(ours.coef_, [ours.intercept_, math.log(ours.scale_)])
    want = polished_minimum(lambda v: -torch_loglik(family, X, low, high, v), theta * 1.01)
    np.testing.assert_allclose(theta, want, rtol=1e-7, atol=1e-10)
    assert ours.loglik_ == pytest.approx(float(torch_loglik(family, X, low, high, torch.from_numpy(want))), rel=1e-11)


# ---------------------------------------------------------------------- priors
def _penalised(family, X, time, event, l2=0.0, dist=None):
    high = np.where(event == 1, time, np.inf)

    def objective(v):
        value = -torch_loglik(family, X, time, high, v) + 0.5 * l2 * torch.sum(v[: X.shape[1]] ** 2)
        if dist is not None:
            value = value - dist.log_prob(v[: X.shape[1]]).sum()
        return value

    return objective


def test_ridge_and_normal_priors_are_the_penalised_optimum():
    X, time, event = _data(9, n=300)
    n = time.size
    ridge = mm.SurvivalRegression(prior=mm.priors.ridge(0.01)).fit(X, time, event=event)
    theta = np.append(ridge.coef_, [ridge.intercept_, math.log(ridge.scale_)])
    want = polished_minimum(_penalised("weibull", X, time, event, l2=0.01 * n), theta)
    np.testing.assert_allclose(theta, want, rtol=1e-7)
    normal = mm.SurvivalRegression(prior=td.Normal(0.0, 2.0)).fit(X, time, event=event)
    theta = np.append(normal.coef_, [normal.intercept_, math.log(normal.scale_)])
    want = polished_minimum(_penalised("weibull", X, time, event, l2=1 / 4.0), theta)
    np.testing.assert_allclose(theta, want, rtol=1e-7)
    assert normal.estimate_.estimator == "MAP" and np.isfinite(normal.se_).all()


def test_any_distribution_prior_is_its_log_density():
    X, time, event = _data(10, n=200)
    prior = td.StudentT(3.0, 0.0, 0.3)
    m = mm.SurvivalRegression(prior=prior).fit(X, time, event=event)
    theta = np.append(m.coef_, [m.intercept_, math.log(m.scale_)])
    want = polished_minimum(_penalised("weibull", X, time, event, dist=td.StudentT(3.0, 0.0, 0.3)), theta)
    np.testing.assert_allclose(theta, want, rtol=1e-7)


def test_lasso_satisfies_the_kkt_conditions_and_zeroes_weak_coefficients():
    X, time, event = _data(11, n=400, d=5, beta=[0.5, 0.0, 0.0, -0.3, 0.0])
    alpha = 0.02
    m = mm.SurvivalRegression(prior=mm.priors.lasso(alpha)).fit(X, time, event=event)
    assert m.converged_ and (m.coef_ == 0).any() and (m.coef_ != 0).any()
    theta = torch.tensor(np.append(m.coef_, [m.intercept_, math.log(m.scale_)]), requires_grad=True)
    high = np.where(event == 1, time, np.inf)
    (g,) = torch.autograd.grad(-torch_loglik("weibull", X, time, high, theta), theta)
    g = g.numpy()
    lam = alpha * time.size
    on = m.coef_ != 0
    np.testing.assert_allclose(g[:5][on], -lam * np.sign(m.coef_[on]), rtol=1e-6, atol=1e-6)
    assert (np.abs(g[:5][~on]) <= lam * (1 + 1e-9)).all()
    np.testing.assert_allclose(g[5:], 0, atol=1e-6)
    assert np.isnan(m.se_).all()  # not reported after an L1 fit unless asked
    active = mm.SurvivalRegression(prior=mm.priors.lasso(alpha), cov_type="laplace_active").fit(X, time, event=event)
    assert np.isfinite(active.se_[on]).all() and np.isnan(active.se_[~on]).all()


# ---------------------------------------------------------------------- inference and prediction
def test_profile_interval_ends_drop_the_log_likelihood_by_half_the_chi_square_quantile():
    X, time, event = _data(12, n=300, d=1)
    m = mm.SurvivalRegression().fit(X, time, event=event)
    ci = m.conf_int(method="profile")
    crit = stats.chi2.ppf(0.95, 1) / 2
    for end in ci.loc["x0"]:
        held = _penalised("weibull", X, time, event)
        fixed_fit = polished_minimum(lambda v: held(torch.cat([torch.tensor([end], dtype=torch.float64), v])),
                                     np.array([m.intercept_, math.log(m.scale_)]))
        ll = -float(held(torch.cat([torch.tensor([end], dtype=torch.float64), torch.from_numpy(fixed_fit)])))
        assert m.loglik_ - ll == pytest.approx(crit, rel=1e-6)


def test_predictions_are_the_fitted_weibull_of_t_given_x():
    X, time, event = _data(13, n=300)
    m = mm.SurvivalRegression().fit(X, time, event=event)
    eta = X[:5] @ m.coef_ + m.intercept_
    dist = stats.weibull_min(1 / m.scale_, scale=np.exp(eta))
    np.testing.assert_allclose(m.predict(X[:5]), dist.median(), rtol=1e-12)
    np.testing.assert_allclose(m.predict_quantile(X[:5], 0.9), dist.ppf(0.9), rtol=1e-12)
    np.testing.assert_allclose(m.predict_survival(X[:5], [1.0, 4.0]), np.column_stack([dist.sf(1.0), dist.sf(4.0)]), rtol=1e-12)


def test_summary_shows_survreg_table_and_weibull_reading():
    X, time, event = _data(14, n=200)
    m = mm.SurvivalRegression().fit(X, time, event=event)
    text = str(m.summary())
    for fragment in ("log(scale)", "Weibull reading", f"shape = 1/scale = {m.shape_:.6g}", "Events"):
        assert fragment in text
    assert m.summary().to_dict()["weibull_shape"] == pytest.approx(m.shape_)


def test_weights_equal_repeated_rows():
    X, time, event = _data(15, n=100)
    w = np.random.default_rng(0).integers(1, 4, 100)
    a = mm.SurvivalRegression(family="lognormal").fit(X, time, event=event, sample_weight=w)
    b = mm.SurvivalRegression(family="lognormal").fit(np.repeat(X, w, 0), np.repeat(time, w), event=np.repeat(event, w))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9)
    assert a.loglik_ == pytest.approx(b.loglik_, rel=1e-12)


@pytest.mark.parametrize(
    "options, y, event, error, fragment",
    [
        ({"family": "gamma"}, [1.0, 2.0, 3.0], None, mm.FamilyError, "must be one of"),
        ({}, [1.0, -2.0, 3.0], None, mm.SupportError, "row 1 holds -2"),
        ({}, [1.0, 2.0, 3.0], [1, 0, 3], mm.DataError, "row 2 holds 3"),
        ({}, [1.0, 2.0], None, mm.ShapeError, "one survival time per row of X (3 rows)"),
        ({"scale": -1.0}, [1.0, 2.0, 3.0], None, mm.ParameterError, "'scale' parameter"),
        ({"family": "exponential", "scale": 2.0}, [1.0, 2.0, 3.0], None, mm.ParameterError, "fixed at 1.0"),
    ],
)
def test_bad_input(options, y, event, error, fragment):
    X = np.arange(3.0).reshape(3, 1)
    with pytest.raises(error) as info:
        mm.SurvivalRegression(**options).fit(X, y, event=event)
    assert fragment in str(info.value)

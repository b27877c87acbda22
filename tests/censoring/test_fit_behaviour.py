"""Censored fits: closed forms, equivalences, lifelines, derivatives, ranking, bad input and warnings."""

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
import torch
from scipy import stats

import mlemap as mm
import mp_reference as ref
from mlemap.censoring import CensoredFamily
from mlemap.families import resolve_family


def _right_censored(seed=0, n=400, shape=1.6, scale=3.0, censor=4.0):
    rng = np.random.default_rng(seed)
    t = scale * rng.weibull(shape, n)
    c = rng.exponential(censor, n)
    return np.minimum(t, c), (t <= c).astype(int)


def test_exponential_rate_is_events_over_total_time_in_closed_form():
    time, event = _right_censored(1)
    r = mm.fit("exponential", mm.censored(time, event=event))
    assert r.method == "closed-form"
    assert r.params["rate"] == pytest.approx(event.sum() / time.sum(), rel=1e-15)
    assert r.se["rate"] == pytest.approx(r.params["rate"] / math.sqrt(event.sum()), rel=1e-12)
    # left truncation at tau: time at risk starts at tau
    tau = 0.2
    keep = time > tau
    r = mm.fit("exponential", mm.censored(time[keep], event=event[keep]), truncation=(tau, None))
    assert r.params["rate"] == pytest.approx(event[keep].sum() / (time[keep] - tau).sum(), rel=1e-15)
    assert r.loglik == pytest.approx(float(ref.log_likelihood(
        "exponential", time[keep], np.where(event[keep] == 1, time[keep], np.inf), r.params, truncation=(tau, math.inf))), rel=1e-13)


@pytest.mark.parametrize("family", ["weibull", "gamma", "lognormal", "loglogistic", "normal", "studentt", "logistic"])
def test_censoring_with_every_value_observed_is_the_uncensored_fit(family):
    x = np.random.default_rng(2).gamma(3.0, 1.0, 300)
    plain = mm.fit(family, x)
    same = mm.fit(family, mm.censored(x, event=np.ones_like(x)))
    assert same.params == plain.params and same.loglik == plain.loglik and same.se == plain.se
    # the censored likelihood itself, with nothing censored, gives the same fit
    forced = mm.fit(family, x, truncation=(None, None))
    assert isinstance(forced.family, CensoredFamily)
    for name, value in plain.params.items():
        assert forced.params[name] == pytest.approx(value, rel=1e-9)
    assert forced.loglik == pytest.approx(plain.loglik, rel=1e-13)


LIFELINES = [
    ("WeibullFitter", "weibull", lambda f: {"scale": f.lambda_, "concentration": f.rho_}),
    ("LogNormalFitter", "lognormal", lambda f: {"loc": f.mu_, "scale": f.sigma_}),
    ("LogLogisticFitter", "loglogistic", lambda f: {"scale": f.alpha_, "concentration": f.beta_}),
    ("ExponentialFitter", "exponential", lambda f: {"rate": 1 / f.lambda_}),
]
TIGHT = {"ftol": 1e-16, "gtol": 1e-13, "maxiter": 5000}


@pytest.mark.parametrize("name, family, convert", LIFELINES, ids=[c[1] for c in LIFELINES])
def test_right_censored_fits_match_lifelines(name, family, convert):
    lifelines = pytest.importorskip("lifelines")
    time, event = _right_censored(7)
    theirs = getattr(lifelines, name)().fit(time, event, fit_options=TIGHT)
    ours = mm.fit(family, mm.censored(time, event=event))
    for key, value in convert(theirs).items():
        assert ours.params[key] == pytest.approx(value, rel=1e-6), key
    assert ours.loglik == pytest.approx(theirs.log_likelihood_, rel=1e-8)
    assert ours.loglik >= theirs.log_likelihood_ - 1e-9 * abs(ours.loglik)
    # lifelines reports standard errors of its own parameters (the exponential's scale = 1 / rate)
    se = dict(zip(convert(theirs), theirs.summary["se(coef)"]))
    if family == "exponential":
        se = {"rate": se["rate"] / theirs.lambda_**2}
    for key, value in se.items():
        assert ours.se[key] == pytest.approx(value, rel=1e-6), key


def test_left_and_interval_censored_weibull_never_below_lifelines():
    lifelines = pytest.importorskip("lifelines")
    time, event = _right_censored(3)
    left = lifelines.WeibullFitter().fit_left_censoring(time, event, fit_options=TIGHT)
    ours = mm.fit("weibull", mm.censored(time, event=event, side="left"))
    assert ours.params["scale"] == pytest.approx(left.lambda_, rel=1e-6)
    assert ours.params["concentration"] == pytest.approx(left.rho_, rel=1e-6)
    assert ours.loglik == pytest.approx(left.log_likelihood_, rel=1e-8)
    t = 3 * np.random.default_rng(4).weibull(1.6, 400)
    lo, hi = np.floor(t), np.floor(t) + 1
    interval = lifelines.WeibullFitter().fit_interval_censoring(lo, hi, fit_options=TIGHT)
    with pytest.warns(mm.IdentifiabilityWarning, match="none is exact"):
        ours = mm.fit("weibull", mm.censored(left=lo, right=hi))
    # lifelines stops about 1e-5 short on interval-censored data; its optimum is never the better one
    assert ours.loglik >= interval.log_likelihood_
    assert ours.params["scale"] == pytest.approx(interval.lambda_, rel=1e-4)


# ---------------------------------------------------------------------- the likelihood's derivatives
DERIVATIVE_DATA = [
    ("weibull", {"scale": 2.0, "concentration": 1.5}, [0.5, 1.0, 2.0, -math.inf, 0.7], [0.5, math.inf, 3.0, 1.2, 0.7], (0.2, math.inf)),
    ("gamma", {"concentration": 2.2, "rate": 0.8}, [0.5, 1.0, 2.0, -math.inf], [0.5, math.inf, 3.5, 1.2], (-math.inf, 9.0)),
    ("studentt", {"df": 3.0, "loc": 1.0, "scale": 2.0}, [0.5, 4.0, -1.0, -math.inf], [0.5, math.inf, 3.0, -6.0], (-8.0, 9.0)),
    ("beta", {"concentration1": 2.0, "concentration0": 3.0}, [0.3, 0.6, 0.1, -math.inf], [0.3, math.inf, 0.2, 0.05], (-math.inf, math.inf)),
    ("negative_binomial", {"total_count": 3.0, "probs": 0.4}, [2.0, 5.0, 1.0, -math.inf], [2.0, math.inf, 3.0, 1.0], (0.0, math.inf)),
]


@pytest.mark.parametrize("family, params, low, high, truncation", DERIVATIVE_DATA, ids=[d[0] for d in DERIVATIVE_DATA])
def test_censored_log_likelihood_gradient_and_hessian_match_mpmath(family, params, low, high, truncation):
    fam = CensoredFamily(resolve_family(family), truncation)
    x = torch.tensor(np.column_stack([low, high]), dtype=torch.float64)
    feats = fam.features(x, {})
    names = list(params)
    theta = torch.tensor([params[n] for n in names], dtype=torch.float64, requires_grad=True)

    def loglik(v):
        return fam.log_prob(feats, {n: v[i] for i, n in enumerate(names)}).sum()

    value = loglik(theta)
    (g,) = torch.autograd.grad(value, theta, create_graph=True)
    value = value.detach()
    H = torch.stack([torch.autograd.grad(g[i], theta, retain_graph=True)[0] for i in range(len(names))]).detach()

    def mp_loglik(*v):
        return ref.log_likelihood(family, low, high, dict(zip(names, v)), discrete=fam.discrete, truncation=truncation)

    point = [mp.mpf(params[n]) for n in names]
    k = len(names)
    want_value = float(mp_loglik(*point))
    want_g = np.array([float(mp.diff(mp_loglik, point, tuple(int(i == j) for i in range(k)))) for j in range(k)])
    want_H = np.array([[float(mp.diff(mp_loglik, point, tuple(int(i == a) + int(i == b) for i in range(k)))) for b in range(k)]
                       for a in range(k)])
    assert float(value) == pytest.approx(want_value, rel=1e-13)
    np.testing.assert_allclose(g.detach().numpy(), want_g, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(H.numpy(), want_H, rtol=1e-7, atol=1e-10)


# ---------------------------------------------------------------------- conventions
def test_counts_censored_at_least_k_use_the_survival_function_at_k_minus_1():
    r = mm.fit("poisson", mm.censored([3.0, 5.0, 2.0], event=[1, 0, 1]))
    rate = 2.7
    want = stats.poisson.logpmf([3, 2], rate).sum() + stats.poisson.logsf(4, rate)
    assert r.log_likelihood_at(rate=rate) == pytest.approx(want, rel=1e-13)
    with pytest.warns(mm.IdentifiabilityWarning):
        r = mm.fit("poisson", mm.censored(left=[np.nan, 1.0], right=[2.0, 3.0]))  # "at most 2", "1 to 3"
    want = stats.poisson.logcdf(2, rate) + np.log(stats.poisson.cdf(3, rate) - stats.poisson.cdf(0, rate))
    assert r.log_likelihood_at(rate=rate) == pytest.approx(want, rel=1e-13)


def test_zero_truncated_poisson_solves_its_moment_equation():
    k = np.random.default_rng(3).poisson(1.3, 4000)
    k = k[k > 0]
    r = mm.fit("poisson", k, truncation=(0, None))
    lam = r.params["rate"]
    assert lam / (-math.expm1(-lam)) == pytest.approx(k.mean(), rel=1e-12)  # E[X | X > 0] = sample mean


def test_weights_equal_repeated_rows():
    time, event = _right_censored(5, n=60)
    w = np.random.default_rng(0).integers(1, 4, time.size)
    weighted = mm.fit("gamma", mm.censored(time, event=event), weights=w)
    repeated = mm.fit("gamma", mm.censored(np.repeat(time, w), event=np.repeat(event, w)))
    for name, value in repeated.params.items():
        assert weighted.params[name] == pytest.approx(value, rel=1e-9)
    assert weighted.loglik == pytest.approx(repeated.loglik, rel=1e-12)


def test_profile_and_bootstrap_intervals_on_censored_data():
    time, event = _right_censored(6, n=200)
    r = mm.fit("weibull", mm.censored(time, event=event))
    wald, profile = r.conf_int(), r.conf_int(method="profile")
    for name, (lo, hi) in profile.items():
        assert lo < r.params[name] < hi
        assert lo == pytest.approx(wald[name][0], rel=0.05) and hi == pytest.approx(wald[name][1], rel=0.05)
        chi = stats.chi2.ppf(0.95, 1) / 2
        for end in (lo, hi):  # the profile log-likelihood drops by chi2/2 at each end
            other = "scale" if name == "concentration" else "concentration"
            fixed = mm.fit("weibull", mm.censored(time, event=event), fixed={name: end})
            assert r.loglik - fixed.loglik == pytest.approx(chi, rel=1e-4)
            assert other in fixed.params
    boot = r.conf_int(method="bootstrap", n_boot=40, seed=1)
    assert all(lo < r.params[n] < hi for n, (lo, hi) in boot.items())


def test_compare_ranks_censored_fits_by_aic():
    time, event = _right_censored(8, n=800)
    comparison = mm.compare(mm.censored(time, event=event), families=["weibull", "lognormal", "gamma", "loglogistic", "exponential", "von_mises"])
    usable = [c for c in comparison.candidates if c.usable]
    assert [c.result.aic for c in usable] == sorted(c.result.aic for c in usable)
    assert comparison.best.family == "weibull"
    failed = {c.family: c for c in comparison.candidates if not c.usable}
    assert "cumulative distribution function" in failed["von_mises"].reason or failed["von_mises"].status == "failed"
    assert comparison.to_dict()["best"] == "weibull"
    default = mm.compare(mm.censored(time, event=event))
    assert all(c.family not in ("uniform", "pareto") for c in default.candidates)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "family, data, options, error, fragment",
    [
        ("weibull", mm.censored([1.0, -2.0, 3.0], event=[1, 0, 1]), {}, mm.SupportError, "Row 1 has a left censoring bound of -2"),
        ("weibull", mm.censored([1.0, 0.0, 3.0], event=[1, 0, 1], side="left"), {}, mm.SupportError, "Row 1 is censored to (-inf, 0]"),
        ("weibull", mm.censored([1.0, -3.0], event=[1, 1]), {}, mm.SupportError, "at row 1"),
        ("normal", [0.5, 2.0, 3.0], {"truncation": (1.0, None)}, mm.DataError, "Row 0 holds the value 0.5, outside the truncation range"),
        ("normal", mm.censored(left=[0.5, np.nan], right=[0.8, 1.5]), {"truncation": (1.0, None)}, mm.DataError, "Row 0 is censored to (0.5, 0.8]"),
        ("normal", [1.0, 2.0], {"truncation": (3.0, 1.0)}, mm.DataError, "is empty"),
        ("normal", [1.0, 2.0], {"truncation": 3.0}, mm.DataError, "must be a pair"),
        ("von_mises", mm.censored([1.0, 2.0], event=[1, 0]), {}, mm.FamilyError, "'von_mises' has none"),
        ("uniform", mm.censored([1.0, 2.0], event=[1, 0]), {}, mm.FamilyError, "estimated as a sample extreme"),
        (lambda x, loc: -(x - loc) ** 2, mm.censored([1.0, 2.0], event=[1, 0]), {"init": {"loc": 0.0}}, mm.FamilyError, "cumulative distribution"),
        ("poisson", mm.censored([1.0, 2.5], event=[1, 0]), {}, mm.SupportError, "whole numbers"),
        ("beta", mm.censored([0.5, 1.2], event=[1, 0]), {}, mm.SupportError, "Row 1 has a left censoring bound of 1.2"),
    ],
)
def test_bad_censored_input_is_a_typed_error_naming_the_row(family, data, options, error, fragment):
    with pytest.raises(error) as info:
        mm.fit(family, data, **options)
    assert fragment in str(info.value)


def test_all_right_censored_warns_that_the_mle_does_not_exist():
    with pytest.warns(mm.IdentifiabilityWarning, match="does not exist"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mm.BoundaryWarning)
            warnings.simplefilter("ignore", mm.ConvergenceWarning)
            mm.fit("exponential", mm.censored([1.0, 2.0, 3.0], event=[0, 0, 0]))


def test_all_interval_censored_warns_and_still_fits():
    with pytest.warns(mm.IdentifiabilityWarning, match="none is exact"):
        r = mm.fit("normal", mm.censored(left=[0.0, 1.0, 2.0, 1.0], right=[1.0, 2.0, 3.0, 3.0]))
    assert r.converged and np.isfinite(list(r.se.values())).all()


def test_summary_and_json_say_what_was_censored():
    time, event = _right_censored(9, n=50)
    r = mm.fit("weibull", mm.censored(time, event=event), truncation=(0.0, None))
    text = str(r.summary())
    n_exact = int(event.sum())
    assert f"{n_exact} exact, {50 - n_exact} right-censored" in text
    assert r.to_dict()["censoring"].startswith(f"{n_exact} exact")


@pytest.mark.slow
def test_the_bootstrap_of_a_boundary_fit_says_only_what_matters():
    # Student's t on censored light-tailed data: df on its boundary; the replicates' trial points reach
    # floating-point edges, which stay inside the replicates
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.BoundaryWarning)
        r = mm.fit("studentt", mm.censored(rng.gamma(2.0, 1.0, 40), event=rng.integers(0, 2, 40)))
    assert "df" in r.boundary
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r.conf_int(method="bootstrap", n_boot=50, seed=0)
    kinds = {type(w.message) for w in caught}
    assert RuntimeWarning not in kinds and mm.BoundaryWarning in kinds

"""Fits do not depend on the units of the data: location-scale and scale families are equivariant.

For a location-scale family the MLE of :math:`a x + b` is the transformed MLE of :math:`x`
(:math:`\\mu \\to a\\mu + b`, :math:`\\sigma \\to a\\sigma`) and the log-likelihoods differ by
:math:`n \\log a`; for a scale family the same holds with :math:`b = 0`. The engine fits standardised
data, so this holds to rounding for :math:`a` from 1e-10 to 1e10. Data so large or small that the
squared scale leaves float64 raise a typed error instead of a non-finite result.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import polished_minimum
from scipy import stats

import mlemap as mm

LOCATION_SCALE = {
    "normal": lambda rng, n: rng.normal(0.5, 2.0, n),
    "laplace": lambda rng, n: rng.laplace(0.5, 2.0, n),
    "gumbel": lambda rng, n: rng.gumbel(0.5, 2.0, n),
    "cauchy": lambda rng, n: rng.standard_cauchy(n) * 2.0 + 0.5,
    "studentt": lambda rng, n: rng.standard_t(5.0, n) * 2.0 + 0.5,
    "logistic": lambda rng, n: rng.logistic(0.5, 2.0, n),
}
SCALE = {
    "exponential": lambda rng, n: rng.exponential(2.0, n),
    "gamma": lambda rng, n: rng.gamma(2.5, 2.0, n),
    "weibull": lambda rng, n: 2.0 * rng.weibull(1.7, n),
    "lognormal": lambda rng, n: rng.lognormal(0.3, 0.8, n),
    "half_normal": lambda rng, n: np.abs(rng.normal(0.0, 2.0, n)),
    "loglogistic": lambda rng, n: np.exp(rng.logistic(0.3, 0.5, n)),
    "pareto": lambda rng, n: 2.0 * (1.0 + rng.pareto(3.0, n)),
}


def test_every_family_with_a_location_or_scale_symmetry_is_in_the_tables():
    declared = {n: mm.families.resolve_family(n).equivariance for n in mm.family_names()}
    assert {n for n, kinds in declared.items() if "location" in kinds.values()} == set(LOCATION_SCALE)
    assert {n for n, kinds in declared.items() if kinds and "location" not in kinds.values()} == set(SCALE)


def _expected(family, params, a, b):
    """The parameters of ``a x + b`` from those of ``x``."""
    kinds = mm.families.resolve_family(family).equivariance
    out = {}
    for name, value in params.items():
        kind = kinds.get(name)
        out[name] = {"location": a * value + b, "scale": a * value, "rate": value / a,
                     "log-location": value + math.log(a)}.get(kind, value)
    return out


def _fit(family, x, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.BoundaryWarning)
        return mm.fit(family, x, method=method)


def _check(family, x, a, b, method):
    base = _fit(family, x, method)
    moved = _fit(family, a * x + b, method)
    assert base.converged and moved.converged
    expected_loglik = base.loglik - x.size * math.log(a)
    assert abs(moved.loglik - expected_loglik) <= 1e-10 * abs(expected_loglik)
    for name, value in _expected(family, base.params, a, b).items():
        assert moved.params[name] == pytest.approx(value, rel=1e-6, abs=1e-6 * a)


@pytest.mark.parametrize("family", sorted(LOCATION_SCALE))
@settings(max_examples=12, deadline=None)
@given(
    log_a=st.floats(-10.0, 10.0),
    shift=st.floats(-100.0, 100.0),
    seed=st.integers(0, 2**16),
)
def test_location_scale_fit_of_ax_plus_b_is_the_transformed_fit(family, log_a, shift, seed):
    x = LOCATION_SCALE[family](np.random.default_rng(seed), 201)  # odd: a unique median for laplace
    a = 10.0**log_a
    _check(family, x, a, shift * a, "numerical")


@pytest.mark.parametrize("family", sorted(SCALE))
@settings(max_examples=8, deadline=None)
@given(log_a=st.floats(-10.0, 10.0), seed=st.integers(0, 2**16))
def test_scale_fit_of_ax_is_the_transformed_fit(family, log_a, seed):
    x = SCALE[family](np.random.default_rng(seed), 200)
    _check(family, x, 10.0**log_a, 0.0, "numerical")


@pytest.mark.parametrize("family", sorted(LOCATION_SCALE) + sorted(SCALE))
@pytest.mark.parametrize("a", [1e-10, 1e10])
def test_default_route_is_equivariant_too(family, a):
    generate = {**LOCATION_SCALE, **SCALE}[family]
    x = generate(np.random.default_rng(3), 300)
    _check(family, x, a, 0.0, "auto")


@pytest.mark.parametrize("family", sorted(set(LOCATION_SCALE) | set(SCALE) - {"lognormal", "pareto"}))
@pytest.mark.parametrize("magnitude", [1e300, 1e-300])
def test_huge_or_tiny_data_raise_a_typed_error_naming_the_overflow(family, magnitude):
    x = magnitude * np.array([1.0, 2.0, 3.5, 1.7])
    word = "overflows" if magnitude > 1 else "underflows"
    with pytest.raises(mm.DataError, match=f"{word} float64"):
        mm.fit(family, x)


@pytest.mark.parametrize("data, word", [([1e300, 2e300, 3e300], "overflows"), ([1e-300, 2e-300, 3e-300], "underflows")])
def test_normal_on_1e300_or_1e_minus_300_names_the_overflow_rather_than_reporting_a_non_finite_fit(data, word):
    with pytest.raises(mm.DataError, match=rf"range is [0-9.e+-]+: squared.*{word} float64.*power of ten"):
        mm.fit("normal", data)


@pytest.mark.parametrize("family", ["lognormal", "pareto"])
@pytest.mark.parametrize("magnitude", [1e300, 1e-300])
def test_families_on_the_log_scale_fit_huge_and_tiny_data_exactly(family, magnitude):
    x = np.array([1.0, 2.0, 3.5, 1.7, 2.2])
    base = mm.fit(family, x)
    moved = mm.fit(family, magnitude * x)
    assert moved.converged and np.isfinite(moved.loglik)
    assert moved.loglik == pytest.approx(base.loglik - x.size * math.log(magnitude), rel=1e-12)
    assert all(np.isfinite(v) for k, v in moved.se.items() if k not in moved.boundary)


# ---------------------------------------------------------------------- a concentrated gamma sample
def _mp_gamma_log_likelihood(x, a=None, b=None):
    """The gamma log-likelihood in mpmath at 60 digits, at ``(a, b)`` or, when not given, at the
    maximum (the profile equation log a - digamma(a) = log mean(x) - mean(log x), b = a / mean(x))."""
    import mpmath

    with mpmath.workdps(60):
        xs = [mpmath.mpf(float(v)) for v in x]
        n = len(xs)
        mean = mpmath.fsum(xs) / n
        mean_log = mpmath.fsum(mpmath.log(v) for v in xs) / n
        if a is None:
            target = mpmath.log(mean) - mean_log
            a = mpmath.findroot(lambda a: mpmath.log(a) - mpmath.digamma(a) - target, 1 / (2 * target))
            b = a / mean
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        ll = n * (a * mpmath.log(b) - mpmath.loggamma(a)) + (a - 1) * n * mean_log - b * n * mean
        return float(ll), float(a)


@pytest.mark.parametrize("spread", [1e-12, 1e-6, 0.3])
def test_gamma_reaches_the_attainable_log_likelihood_on_concentrated_data(spread):
    x = 3.0 + spread * np.random.default_rng(8).normal(size=100)
    r = mm.fit("gamma", x)
    assert r.converged
    best, a = _mp_gamma_log_likelihood(x)
    at_estimate, _ = _mp_gamma_log_likelihood(x, r.params["concentration"], r.params["rate"])
    # the maximum up to the rounding of the parameters: a relative error eps in the rate costs about
    # n a eps^2 / 2, which matters only when the concentration a is huge (1e25 here for spread 1e-12)
    rounding = x.size * a * np.finfo(float).eps ** 2 + 1e-12 * abs(best)
    assert best - at_estimate <= rounding
    assert abs(r.loglik - best) <= rounding
    assert abs(r.loglik - at_estimate) <= rounding
    assert r.params["concentration"] == pytest.approx(a, rel=1e-8)


def test_gamma_statistics_of_chunks_add_up_to_the_statistics_of_the_union():
    fam = mm.families.resolve_family("gamma")
    x = torch.tensor(3.0 + 1e-12 * np.random.default_rng(9).normal(size=1000), dtype=torch.float64)
    whole = fam.statistics(fam.features(x, {}), None)
    parts = sum(fam.statistics(fam.features(part, {}), None) for part in torch.split(x, [10, 390, 600]))
    mean, residual, gap = whole.log_gaps["x"]
    mean_p, residual_p, gap_p = parts.log_gaps["x"]
    assert float(mean_p + residual_p) == pytest.approx(float(mean + residual), rel=1e-16)
    assert float(gap_p) == pytest.approx(float(gap), rel=1e-12)
    # and the gap is the exact log(mean) - mean(log) of the sample (mpmath)
    import mpmath

    with mpmath.workdps(60):
        xs = [mpmath.mpf(float(v)) for v in x]
        exact = len(xs) * (mpmath.log(mpmath.fsum(xs) / len(xs)) - mpmath.fsum(mpmath.log(v) for v in xs) / len(xs))
    assert float(gap) == pytest.approx(float(exact), rel=1e-12)


# ---------------------------------------------------------------------- heavy tails at extreme units
def _t_negative_log_likelihood(x: torch.Tensor, with_df: bool):
    """The Student's t (or, without ``df``, the Cauchy) negative log-likelihood in ``(loc, log scale[, log df])``,
    written out here independently of the library."""

    def nll(v):
        loc, log_scale = v[0], v[1]
        df = torch.exp(v[2]) if with_df else torch.tensor(1.0, dtype=v.dtype)
        z = (x - loc) / torch.exp(log_scale)
        per_row = (torch.lgamma((df + 1) / 2) - torch.lgamma(df / 2) - 0.5 * torch.log(df * math.pi) - log_scale
                   - (df + 1) / 2 * torch.log1p(z * z / df))
        return -per_row.sum()

    return nll


HEAVY_TAILS = {
    "studentt": (lambda rng: rng.standard_t(3.0, 500), stats.t, lambda p: (p["df"], p["loc"], p["scale"])),
    "cauchy": (lambda rng: rng.standard_cauchy(500), stats.cauchy, lambda p: (p["loc"], p["scale"])),
}


@pytest.mark.parametrize("family", sorted(HEAVY_TAILS))
@pytest.mark.parametrize("a", [1e-10, 1e-8, 1e-6, 1e6, 1e8, 1e10])
def test_heavy_tailed_fits_at_extreme_units_reach_the_maximum_and_beat_scipy(family, a):
    sample, law, scipy_args = HEAVY_TAILS[family]
    x = sample(np.random.default_rng(21))
    # the reference: the maximum in the data's own units, Newton-polished, moved by the Jacobian n log a
    start = [float(np.median(x)), 0.0] + ([math.log(3.0)] if family == "studentt" else [])
    best = polished_minimum(_t_negative_log_likelihood(torch.tensor(x), family == "studentt"), start)
    reference = -float(_t_negative_log_likelihood(torch.tensor(x), family == "studentt")(torch.tensor(best)))
    reference -= x.size * math.log(a)
    r = mm.fit(family, a * x)
    assert r.converged
    assert abs(r.loglik - reference) <= 1e-10 * abs(reference)
    # the reported log-likelihood is scipy's at the estimate, and scipy's own fit does no better
    assert law.logpdf(a * x, *scipy_args(r.params)).sum() == pytest.approx(r.loglik, rel=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = law.logpdf(a * x, *law.fit(a * x)).sum()
    assert r.loglik >= theirs - 1e-10 * abs(theirs)


def test_gumbel_in_units_of_1e10_reaches_the_shifted_log_likelihood():
    x = np.random.default_rng(5).gumbel(0.5, 2.0, 300)
    base, moved = mm.fit("gumbel", x), mm.fit("gumbel", x * 1e10)
    assert base.converged and moved.converged
    assert moved.loglik == pytest.approx(base.loglik - x.size * math.log(1e10), rel=1e-12)
    assert stats.gumbel_r.logpdf(x * 1e10, moved.params["loc"], moved.params["scale"]).sum() == pytest.approx(
        moved.loglik, rel=1e-12)
    fitted = stats.gumbel_r.fit(x * 1e10)
    assert moved.loglik >= stats.gumbel_r.logpdf(x * 1e10, *fitted).sum() - 1e-10 * abs(moved.loglik)

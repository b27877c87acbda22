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

import mlemap as mm

LOCATION_SCALE = {
    "normal": lambda rng, n: rng.normal(0.5, 2.0, n),
    "laplace": lambda rng, n: rng.laplace(0.5, 2.0, n),
    "gumbel": lambda rng, n: rng.gumbel(0.5, 2.0, n),
    "cauchy": lambda rng, n: rng.standard_cauchy(n) * 2.0 + 0.5,
    "studentt": lambda rng, n: rng.standard_t(5.0, n) * 2.0 + 0.5,
}
SCALE = {
    "exponential": lambda rng, n: rng.exponential(2.0, n),
    "gamma": lambda rng, n: rng.gamma(2.5, 2.0, n),
    "weibull": lambda rng, n: 2.0 * rng.weibull(1.7, n),
    "lognormal": lambda rng, n: rng.lognormal(0.3, 0.8, n),
    "half_normal": lambda rng, n: np.abs(rng.normal(0.0, 2.0, n)),
}
TRANSFORM = {"loc": "location", "scale": "scale", "rate": "rate"}


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


@settings(max_examples=25, deadline=None)
@given(
    family=st.sampled_from(sorted(LOCATION_SCALE)),
    log_a=st.floats(-10.0, 10.0),
    shift=st.floats(-100.0, 100.0),
    seed=st.integers(0, 2**16),
)
def test_location_scale_fit_of_ax_plus_b_is_the_transformed_fit(family, log_a, shift, seed):
    x = LOCATION_SCALE[family](np.random.default_rng(seed), 201)  # odd: a unique median for laplace
    a = 10.0**log_a
    _check(family, x, a, shift * a, "numerical")


@settings(max_examples=25, deadline=None)
@given(family=st.sampled_from(sorted(SCALE)), log_a=st.floats(-10.0, 10.0), seed=st.integers(0, 2**16))
def test_scale_fit_of_ax_is_the_transformed_fit(family, log_a, seed):
    x = SCALE[family](np.random.default_rng(seed), 200)
    _check(family, x, 10.0**log_a, 0.0, "numerical")


@pytest.mark.parametrize("family", sorted(LOCATION_SCALE) + sorted(SCALE))
@pytest.mark.parametrize("a", [1e-10, 1e10])
def test_default_route_is_equivariant_too(family, a):
    generate = {**LOCATION_SCALE, **SCALE}[family]
    x = generate(np.random.default_rng(3), 300)
    _check(family, x, a, 0.0, "auto")


@pytest.mark.parametrize("family", ["normal", "studentt", "gumbel", "exponential", "gamma", "weibull", "half_normal"])
@pytest.mark.parametrize("magnitude", [1e300, 1e-300])
def test_huge_or_tiny_data_raise_a_typed_error_naming_the_overflow(family, magnitude):
    x = magnitude * np.array([1.0, 2.0, 3.5, 1.7])
    word = "overflows" if magnitude > 1 else "underflows"
    with pytest.raises(mm.DataError, match=f"{word} float64"):
        mm.fit(family, x)


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

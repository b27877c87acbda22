"""User-written log-densities are checked: shape, dtype, finiteness, dependence on the parameters, names."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.distributions as td

import mlemap as mm


def _data(n=100):
    return np.random.default_rng(11).normal(1.0, 2.0, size=n)


def normal_log_density(x, loc, scale):
    return -0.5 * ((x - loc) / scale) ** 2 - torch.log(scale) - 0.5 * math.log(2 * math.pi)


INIT = {"loc": 0.0, "scale": 1.0}
SUPPORT = {"scale": "positive"}


@pytest.mark.parametrize(
    "fn, error, fragments",
    [
        (lambda x, loc, scale: normal_log_density(x, loc, scale)[:5], mm.LogDensityError, ["shape (5,)", "100 observations", "(100,)"]),
        (lambda x, loc, scale: normal_log_density(x, loc, scale)[:, None].expand(-1, 3), mm.LogDensityError, ["shape (100, 3)"]),
        (lambda x, loc, scale: normal_log_density(x, loc, scale).detach(), mm.LogDensityError, ["does not depend", "detached"]),
        (lambda x, loc, scale: normal_log_density(x, loc, torch.tensor(1.0, dtype=torch.float64)), mm.LogDensityError,
         ["does not depend on the parameter(s) ['scale']"]),
        (lambda x, loc, scale: normal_log_density(x, loc, scale).to(torch.complex128), mm.LogDensityError, ["complex"]),
        (lambda x, loc, scale: torch.where(x > 3.0, torch.inf, normal_log_density(x, loc, scale)), mm.LogDensityError,
         ["+inf", "row", "unbounded"]),
        (lambda x, loc, scale: normal_log_density(x, loc, scale).sum(), mm.FamilyError, ["single number"]),
    ],
    ids=["five-values", "n-by-3", "detached", "unused-parameter", "complex", "plus-infinity", "summed"],
)
def test_a_log_density_that_is_not_one_real_value_per_observation_is_rejected(fn, error, fragments):
    with pytest.raises(error) as info:
        mm.fit(fn, _data(), init=INIT, support=SUPPORT)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_non_finite_values_at_the_start_name_the_observation():
    def log_density(x, loc, scale):
        return normal_log_density(x, loc, scale) + torch.log(x - loc)  # NaN where x < loc

    with pytest.raises(mm.EstimationError, match=r"not finite at the starting values .* row \d+.*init="):
        mm.fit(log_density, _data(), init=INIT, support=SUPPORT)


def test_a_missing_init_key_is_named():
    with pytest.raises(mm.ParameterError, match=r"needs a starting value for \['scale'\]"):
        mm.fit(normal_log_density, _data(), init={"loc": 0.0}, support=SUPPORT)


def test_an_extra_init_key_is_named():
    with pytest.raises(mm.ParameterError, match=r"names 'shape', which is not an argument of the log-density"):
        mm.fit(normal_log_density, _data(), init={**INIT, "shape": 1.0}, support=SUPPORT)


def _two_parameters(x, a, b):
    return -((x - a) ** 2) / b - 0.5 * torch.log(b)


@pytest.mark.parametrize(
    "fn, options, fragments",
    [
        (_two_parameters, dict(init={"a": 0.0}), ["needs a starting value for ['b']"]),
        (_two_parameters, dict(init={"a": 0.0, "b": 1.0, "c": 1.0}), ["names 'c', which is not an argument", "['a', 'b']"]),
        (_two_parameters, dict(init={"a": "abc", "b": 1.0}), ["'init' value of 'a' must be a number or array", "'abc'"]),
        (lambda x, a, /: -((x - a) ** 2), dict(init={"a": 0.0}), ["positional-only argument 'a'", "log_prob(x, **params)"]),
        (lambda x, *a: -((x - a[0]) ** 2), dict(init={"a": 0.0}), ["positional-only argument 'a'"]),
        (lambda: 0.0, dict(init={"a": 0.0}), ["take the data as its first argument"]),
    ],
    ids=["init-misses", "init-adds", "init-not-a-number", "positional-only", "star-args", "no-data-argument"],
)
def test_a_signature_that_does_not_match_init_is_a_parameter_error(fn, options, fragments):
    with pytest.raises(mm.ParameterError) as info:
        mm.fit(fn, _data(), support={"b": "positive"} if fn is _two_parameters else None, **options)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_fixing_the_second_of_two_arguments_estimates_the_first():
    # fixed={"b": 2.0} for lp(x, a, b): b is an argument, so it can be fixed; a is the mean
    x = _data()
    r = mm.fit(_two_parameters, x, init={"a": 0.0}, fixed={"b": 2.0})
    np.testing.assert_allclose(r.params["a"], x.mean(), rtol=1e-10)
    assert set(r.params) == {"a"} and float(r.fixed["b"]) == 2.0


@pytest.mark.parametrize("where", ["at the start", "during the search"])
def test_an_exception_inside_the_function_is_wrapped_with_its_cause(where):
    # the data's mean is near 1: the search from loc = 0 passes 0.5 after the first evaluations
    def log_density(x, loc, scale):
        if (float(scale.detach()) > 0.5) if where == "at the start" else (float(loc.detach()) > 0.5):
            raise ZeroDivisionError("the user's own bug")
        return normal_log_density(x, loc, scale)

    with pytest.raises(mm.LogDensityError, match="raised ZeroDivisionError: the user's own bug") as info:
        mm.fit(log_density, _data(), init=INIT, support=SUPPORT)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_a_parameter_given_in_fixed_needs_no_start():
    x = _data()
    r = mm.fit(normal_log_density, x, init={"loc": 0.0}, fixed={"scale": 2.0})
    assert r.converged
    np.testing.assert_allclose(r.params["loc"], x.mean(), rtol=1e-10)


def test_a_parameter_with_a_default_or_behind_kwargs_can_be_fixed():
    # fixed names a parameter as init does: an argument with a default, or one read from **params
    def with_default(x, loc, scale=1.0):
        return normal_log_density(x, loc, torch.as_tensor(scale, dtype=x.dtype))

    def open_ended(x, **p):
        return normal_log_density(x, p["loc"], p["scale"])

    x = _data()
    for fn in (with_default, open_ended):
        r = mm.fit(fn, x, init={"loc": 0.0}, fixed={"scale": 2.0})
        np.testing.assert_allclose(r.params["loc"], x.mean(), rtol=1e-10)
        assert set(r.params) == {"loc"} and float(r.fixed["scale"]) == 2.0


def test_fixing_a_name_the_function_does_not_take_is_named():
    with pytest.raises(mm.ParameterError, match=r"'fixed' argument names 'shape', which is not an argument"):
        mm.fit(normal_log_density, _data(), init={"loc": 0.0}, fixed={"shape": 2.0})


def test_an_open_signature_takes_its_parameters_from_init():
    def log_density(x, **p):
        return normal_log_density(x, p["loc"], p["scale"])

    x = _data()
    r = mm.fit(log_density, x, init=INIT, support=SUPPORT)
    np.testing.assert_allclose(r.params["scale"], x.std(), rtol=1e-9)


def test_minus_infinity_at_trial_points_is_zero_density_not_an_error():
    # a support edge that the trial points cross: those trials are rejected and the fit still converges
    def log_density(x, rate):
        return torch.where(x >= 0, torch.log(rate) - rate * x, torch.full_like(x, -math.inf))

    x = np.random.default_rng(2).exponential(0.5, size=200)
    r = mm.fit(log_density, x, init={"rate": 1.0}, support={"rate": "positive"})
    assert r.converged
    np.testing.assert_allclose(r.params["rate"], 1 / x.mean(), rtol=1e-10)


def test_a_torch_class_with_vector_and_matrix_parameters_fits_from_shaped_starts():
    # a one-factor model of three columns has as many covariance parameters as the full covariance, so
    # (when the sample covariance is of that form) its maximum is the closed-form multivariate normal MLE
    rng = np.random.default_rng(3)
    loadings, noise = np.array([1.0, 0.8, 0.6]), np.array([0.5, 0.4, 0.3])
    x = rng.normal(size=(400, 1)) * loadings + rng.normal(size=(400, 3)) * np.sqrt(noise) + [1.0, -2.0, 0.0]
    init = {"loc": [0.0, 0.0, 0.0], "cov_factor": [[0.5], [0.5], [0.5]], "cov_diag": [1.0, 1.0, 1.0]}
    r = mm.fit(td.LowRankMultivariateNormal, x, init=init)
    exact = mm.fit("multivariate_normal", x)
    assert r.converged
    np.testing.assert_allclose(r.loglik, exact.loglik, rtol=1e-12)
    np.testing.assert_allclose(r.params["loc"], exact.params["loc"], atol=1e-7)

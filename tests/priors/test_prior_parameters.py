"""A prior whose parameters are not finite is refused as the prior's fault, before any optimisation."""

import numpy as np
import pytest
import torch
import torch.distributions as td

import mlemap as mm
from mlemap.errors import PriorError

DATA = np.array([1.2, 0.7, 2.9, 1.1, 0.4, 1.8, 2.2, 0.9])


@pytest.mark.parametrize(
    "prior, message",
    [
        ({"concentration": td.Gamma(torch.tensor(float("inf"), dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))},
         r"The prior on 'concentration' \(Gamma\) has concentration = inf, which is not finite"),
        ({"rate": td.LogNormal(torch.tensor(0.0), torch.tensor(1e300))},  # 1e300 overflows float32
         r"The prior on 'rate' \(LogNormal\) has scale = inf.*torch.float32"),
        ({"rate": td.Gamma(torch.tensor(2.0, dtype=torch.float64), torch.tensor(float("nan"), dtype=torch.float64), validate_args=False)},
         r"rate = nan, which is not finite"),
    ],
    ids=["inf-float64", "overflow-float32", "nan"],
)
def test_non_finite_prior_parameter_is_blamed_on_the_prior(prior, message):
    with pytest.raises(PriorError, match=message) as info:
        mm.fit("gamma", DATA, prior=prior)
    assert "starting" not in str(info.value)


def test_a_float32_overflow_in_a_prior_on_a_location_is_blamed_on_the_prior():
    with pytest.raises(PriorError, match=r"The prior on 'loc' \(Normal\) has scale = inf.*torch.float32") as info:
        mm.fit("normal", DATA, prior={"loc": td.Normal(0.0, 1e300)})  # Python floats: float32 tensors
    assert "starting" not in str(info.value)


def _regression_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X @ [1.0, -1.0] + rng.normal(size=30)
    return X, y


def _f64(value):
    return torch.tensor(value, dtype=torch.float64)


@pytest.mark.parametrize(
    "model, prior, message",
    [
        (mm.LinearRegression, td.Normal(0.0, float("inf")), r"LinearRegression \(Normal\) has scale = inf"),
        (mm.LinearRegression, td.Normal(0.0, 1e300), r"LinearRegression \(Normal\) has scale = inf.*torch.float32"),
        (mm.PoissonRegression, td.Laplace(0.0, 1e300), r"PoissonRegression \(Laplace\) has scale = inf"),
        (mm.LinearRegression, td.Normal(_f64(0.0), _f64(1e-200)), r"scale = 1e-200, whose square underflows float64"),
        (mm.LogisticRegression, td.Laplace(_f64(0.0), _f64(1e-300)), r"scale = 1e-300, whose square underflows"),
    ],
    ids=["inf", "float32-overflow", "float32-overflow-laplace", "tiny-normal", "tiny-laplace"],
)
def test_a_regression_prior_scale_outside_float_range_is_refused(model, prior, message):
    X, y = _regression_data()
    y = np.round(np.exp(y / 4)) if model is mm.PoissonRegression else (y > 0) * 1.0 if model is mm.LogisticRegression else y
    with pytest.raises(PriorError, match=message) as info:
        model(prior=prior).fit(X, y)
    assert "starting" not in str(info.value)


@pytest.mark.parametrize("prior", [td.Normal, td.Laplace])
def test_a_float64_prior_wider_than_1e154_is_flat(prior):
    # its precision 1/s^2 underflows to 0: the MAP is the least-squares fit
    X, y = _regression_data()
    m = mm.LinearRegression(prior=prior(_f64(0.0), _f64(1e300))).fit(X, y)
    design = np.column_stack([X, np.ones(len(y))])
    exact = np.linalg.lstsq(design, y, rcond=None)[0]
    np.testing.assert_allclose(np.append(m.coef_, m.intercept_), exact, rtol=1e-10, atol=1e-12)


def test_a_finite_prior_still_fits():
    r = mm.fit("gamma", DATA, prior={"rate": td.Gamma(torch.tensor(2.0, dtype=torch.float64),
                                                        torch.tensor(1.0, dtype=torch.float64))})
    assert np.isfinite(r.params["rate"])

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


def test_non_finite_regression_prior_is_refused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X @ [1.0, -1.0] + rng.normal(size=30)
    with pytest.raises(PriorError, match=r"The 'prior' argument of LinearRegression \(Normal\) has scale = inf"):
        mm.LinearRegression(prior=td.Normal(0.0, float("inf"))).fit(X, y)


def test_a_finite_prior_still_fits():
    r = mm.fit("gamma", DATA, prior={"rate": td.Gamma(torch.tensor(2.0, dtype=torch.float64),
                                                        torch.tensor(1.0, dtype=torch.float64))})
    assert np.isfinite(r.params["rate"])

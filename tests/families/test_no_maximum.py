"""Likelihoods whose maximum is at a limit or does not exist are diagnosed, not reported as converged.

* Negative binomial without overdispersion: the MLE of ``total_count`` is finite exactly when the
  (1/n) variance exceeds the mean (Levin & Reeds 1977); otherwise it is the Poisson limit, reported
  as a boundary estimate whose log-likelihood is the Poisson fit's.
* Cauchy (and Student's t with free ``df``) when more than half of the observations are equal: the
  likelihood grows like :math:`\\sigma^{n - 2m}` as the scale shrinks (Copas 1975), so it has no maximum.
* A custom log-density that keeps increasing along a direction: no maximum, with the direction named.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
import torch

import mlemap as mm
from mlemap.families.gamma_functions import log_rising

NO_OVERDISPERSION = {
    "underdispersed": [2, 3, 2, 3, 2, 3, 2, 3],
    "one-observation": [4],
    "two-identical": [4, 4],
    "variance-equals-mean": [0, 2, 0, 2],  # mean 1, (1/n) variance 1
    "large-counts": [10**6, 10**6 + 10, 10**6 - 10],
}


@pytest.mark.parametrize("data", NO_OVERDISPERSION.values(), ids=NO_OVERDISPERSION.keys())
def test_negative_binomial_without_overdispersion_is_the_poisson_limit(data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = mm.fit("negative_binomial", data)
    poisson = mm.fit("poisson", data)
    assert r.converged
    assert "total_count" in r.boundary and "Poisson" in r.boundary["total_count"]
    assert math.isnan(r.se["total_count"]) and "no overdispersion" in r.se_reasons["total_count"]
    # the limit model is the Poisson with the sample mean: same log-likelihood and mean
    np.testing.assert_allclose(r.loglik, poisson.loglik, rtol=1e-9)
    mean = r.params["total_count"] * r.params["probs"] / (1 - r.params["probs"])
    np.testing.assert_allclose(mean, np.mean(data), rtol=1e-12)
    kinds = {type(w.message) for w in caught}
    assert mm.BoundaryWarning in kinds and mm.ConvergenceWarning not in kinds


def test_negative_binomial_all_zero_counts_is_on_both_boundaries():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.BoundaryWarning)
        r = mm.fit("negative_binomial", [0, 0, 0])
    assert set(r.boundary) == {"total_count", "probs"} and r.params["probs"] == 0.0
    assert r.loglik == 0.0 and r.converged


def test_negative_binomial_weights_count_as_repeated_rows():
    # rows 3, 3, 5 with weights 1, 1, 2: the same sample as [3, 3, 5, 5] (mean 4, variance 1 < 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.BoundaryWarning)
        weighted = mm.fit("negative_binomial", [3, 3, 5], weights=[1.0, 1.0, 2.0])
        repeated = mm.fit("negative_binomial", [3, 3, 5, 5])
    assert "total_count" in weighted.boundary
    np.testing.assert_allclose(weighted.loglik, repeated.loglik, rtol=1e-12)


def test_slight_overdispersion_gives_a_finite_interior_estimate():
    data = [0, 2, 0, 3]  # mean 1.25, (1/n) variance 1.6875 > mean
    r = mm.fit("negative_binomial", data)
    assert not r.boundary and r.converged and math.isfinite(r.se["total_count"])
    # the profile score of total_count vanishes: sum(digamma(k + r) - digamma(r)) = n log(1 + mean / r)
    rr = mpmath.mpf(r.params["total_count"])
    score = sum(mpmath.digamma(k + rr) - mpmath.digamma(rr) for k in data) - len(data) * mpmath.log(1 + mpmath.mpf(1.25) / rr)
    assert abs(float(score)) < 1e-9


@pytest.mark.parametrize("r", [0.3, 7.0, 29.5, 30.5, 1e3, 1e8, 1e12, 1e15])
def test_log_rising_factorial_keeps_its_digits(r):
    k = torch.tensor([0.0, 1.0, 3.0, 40.0, 1e3, 1e6], dtype=torch.float64)
    got = log_rising(torch.tensor(r, dtype=torch.float64), k)
    mpmath.mp.dps = 40
    for value, kk in zip(got.tolist(), k.tolist()):
        exact = mpmath.loggamma(mpmath.mpf(r) + kk) - mpmath.loggamma(mpmath.mpf(r))
        assert abs(value - float(exact)) <= 4e-15 * max(1.0, abs(float(exact)))


@pytest.mark.parametrize("family", ["cauchy", "studentt"])
@pytest.mark.parametrize("data, tied", [([1, 1, 1, 1, 2], "4 of the 5"), ([1, 0, 1], "2 of the 3")])
def test_more_than_half_tied_has_no_maximum(family, data, tied):
    with pytest.raises(mm.DataError) as info:
        mm.fit(family, data)
    message = str(info.value)
    for fragment in (tied, "more than half", "equal 1", "no maximum", "scale shrinks to 0", "fixed={'scale'"):
        assert fragment in message, message


def test_a_weighted_majority_counts_too():
    with pytest.raises(mm.DataError, match="3 of the 5 observations"):
        mm.fit("cauchy", [1.0, 2.0, 4.0], weights=[3.0, 1.0, 1.0])


def test_half_tied_or_fewer_still_fits():
    r = mm.fit("cauchy", [1.0, 1.0, 2.0, 5.0, 7.0])  # 2 of 5 tied: a maximum exists
    assert r.converged and r.params["scale"] > 0.1
    with pytest.raises(mm.DataError):
        mm.fit("cauchy", [1.0, 1.0, 1.0, 5.0, 7.0])  # 3 of 5


def test_a_prior_on_the_scale_turns_the_check_off():
    # a Gamma(3, .) prior adds 2 log(scale), more than the 2m - n = 1 the tie gains: the posterior has a mode
    r = mm.fit("cauchy", [1, 0, 1], prior={"scale": torch.distributions.Gamma(3.0, 2.0)})
    assert r.converged and r.params["scale"] > 0


def test_a_custom_log_density_that_keeps_increasing_has_no_maximum():
    def log_density(x, a):
        return a * x  # not normalised: grows with a for positive data

    with pytest.raises(mm.EstimationError) as info:
        mm.fit(log_density, [1.0, 2.0, 3.0], init={"a": 0.0})
    message = str(info.value)
    for fragment in ("no maximum", "a -> +inf", "fixed={'a'", "normalised density"):
        assert fragment in message, message


def test_a_custom_log_density_with_a_maximum_is_not_flagged():
    def log_density(x, a):
        return -0.5 * (x - a) ** 2 - 0.5 * math.log(2 * math.pi)

    r = mm.fit(log_density, [100.0, 101.0, 102.0], init={"a": 0.0})  # far from the start
    assert r.converged
    np.testing.assert_allclose(r.params["a"], 101.0, rtol=1e-12)

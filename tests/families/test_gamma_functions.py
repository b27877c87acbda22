"""The gamma MLE equation's function :math:`\\log a - \\digamma(a)` and its slope, elementwise, against
mpmath (50 digits) and the scalar versions; Minka's start elementwise against the scalar one.

The slope only steers Newton (the root depends on the value alone), and torch's trigamma is good to
about 1e-9 relative, so the slope is held to 1e-8."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import torch

from mlemap.families.gamma_functions import (
    log_minus_digamma,
    log_minus_digamma_batch,
    log_minus_digamma_slope,
)
from mlemap.families.positive import minka_start

POINTS = [1e-3, 0.2, 1.0, 3.7, 29.9, 30.1, 250.0, 1e5, 1e12]


def test_batched_log_minus_digamma_and_slope_equal_mpmath_and_the_scalar_versions():
    mpmath.mp.dps = 50
    value, slope = log_minus_digamma_batch(torch.tensor(POINTS, dtype=torch.float64))
    for a, v, s in zip(POINTS, value.tolist(), slope.tolist()):
        exact_v = float(mpmath.log(a) - mpmath.digamma(a))
        exact_s = float(1 - a * mpmath.psi(1, a))
        assert v == pytest.approx(exact_v, rel=1e-12), a
        assert s == pytest.approx(exact_s, rel=1e-8), a
        assert v == pytest.approx(log_minus_digamma(a), rel=1e-12), a
        assert s == pytest.approx(log_minus_digamma_slope(a), rel=1e-8), a


@pytest.mark.parametrize("a", [1e-9, 1e-3, 0.2, 0.5, 1.0, 1.5, 3.7, 9.99, 17.3, 29.0, 29.9, 29.999999, 30.0, 30.1, 31.5,
                               250.0, 1e5, 1e12])
def test_scalar_log_minus_digamma_and_slope_keep_every_digit(a):
    """The plain-float recurrence and series against 50-digit mpmath, within a few tens of units in the
    last place (scipy's log(a) - digamma(a) is off by up to 1.7e-14 relative near a = 30)."""
    mpmath.mp.dps = 50
    exact_v = mpmath.log(a) - mpmath.digamma(a)
    exact_s = 1 - a * mpmath.psi(1, a)
    assert log_minus_digamma(a) == pytest.approx(float(exact_v), rel=5e-15, abs=0)
    assert log_minus_digamma_slope(a) == pytest.approx(float(exact_s), rel=2e-14, abs=0)


def test_minka_start_elementwise_equals_the_scalar_start():
    s = np.array([1e-9, 1e-6, 2e-6, 0.01, 0.5, 3.0, 40.0])
    batched = minka_start(torch.as_tensor(s))
    assert np.allclose(batched.numpy(), [minka_start(float(v)) for v in s], rtol=1e-15, atol=0)

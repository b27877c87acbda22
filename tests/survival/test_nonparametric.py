"""Kaplan-Meier and Turnbull's NPMLE against scipy, lifelines and hand-checked cases."""

import numpy as np
import pytest
from scipy import stats

from mlemap.survival.nonparametric import kaplan_meier, nonparametric, turnbull, KaplanMeier, Turnbull


def _right(seed, n=200):
    rng = np.random.default_rng(seed)
    t = np.round(rng.weibull(1.5, n) * 3, 1)  # rounded: ties between events and censorings
    c = np.round(rng.exponential(4, n), 1)
    return np.minimum(t, c), t <= c


def test_kaplan_meier_matches_scipy_ecdf():
    time, event = _right(0)
    km = kaplan_meier(time, event)
    ref = stats.ecdf(stats.CensoredData.right_censored(time, ~event)).sf
    np.testing.assert_allclose(km.survival, ref.evaluate(km.times), rtol=1e-13)
    # scipy gives Greenwood's plain band S +- z se; R's default (ours) is S exp(+- z se / S)
    z = stats.norm.ppf(0.975)
    lo, _ = ref.confidence_interval(0.95, method="linear")
    s = ref.evaluate(km.times)
    se = (s - lo.evaluate(km.times)) / z
    ok = (lo.evaluate(km.times) > 0) & (s > 0)
    np.testing.assert_allclose(km.lower[ok], (s * np.exp(-z * se / s))[ok], rtol=1e-9)
    np.testing.assert_allclose(km.upper[ok], np.minimum(s * np.exp(z * se / s), 1)[ok], rtol=1e-9)


def test_kaplan_meier_matches_lifelines_with_weights():
    lifelines = pytest.importorskip("lifelines")
    time, event = _right(1)
    w = np.random.default_rng(2).integers(1, 4, time.size).astype(float)
    km = kaplan_meier(time, event, w)
    ref = lifelines.KaplanMeierFitter().fit(time, event, weights=w)
    np.testing.assert_allclose(km.survival, ref.survival_function_at_times(km.times).to_numpy(), rtol=1e-13)


def test_turnbull_on_right_censored_data_is_kaplan_meier():
    time, event = _right(3, n=80)
    km = kaplan_meier(time, event)
    tb = turnbull(time, np.where(event, time, np.inf), tol=1e-15)
    assert tb.converged
    left, right, cdf = tb.cdf_steps()
    points = left == right
    at = np.searchsorted(km.times, left[points])
    np.testing.assert_allclose(1 - cdf[points], km.survival[at], atol=1e-9)


def test_turnbull_hand_checked_example():
    # (0, 1], (0, 1], (1, 2], (0, 2]: innermost intervals (0, 1] and (1, 2]; the NPMLE puts 2/3 + ... solve:
    # p1 = (2 + p1/(p1+p2)) / 4 with p1 + p2 = 1  ->  p1 = 3/4? check: (2 + 3/4) / 4 = 11/16, not 3/4;
    # the fixed point of p = (2 + p) / 4 is p = 2/3
    tb = turnbull([0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 2.0, 2.0], tol=1e-15)
    np.testing.assert_allclose(tb.left, [0.0, 1.0])
    np.testing.assert_allclose(tb.right, [1.0, 2.0])
    np.testing.assert_allclose(tb.probs, [2 / 3, 1 / 3], atol=1e-12)


def test_turnbull_exact_points_and_open_ends():
    low = np.array([1.0, 2.0, -np.inf, 3.0, 2.5])
    high = np.array([1.0, 2.0, 1.5, np.inf, 2.5])
    tb = turnbull(low, high)
    assert tb.probs.sum() == pytest.approx(1.0)
    assert 1.0 in tb.left and 2.5 in tb.left  # exact values are innermost points
    assert np.isinf(tb.right).any()  # the right-censored value keeps mass beyond 3


def test_nonparametric_chooses_the_estimator():
    time, event = _right(4, n=30)
    assert isinstance(nonparametric(time, np.where(event, time, np.inf)), KaplanMeier)
    assert isinstance(nonparametric([0.0, 1.0], [1.0, 2.0]), Turnbull)

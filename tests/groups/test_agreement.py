"""Every group of a grouped fit is the single fit of its rows: estimates and standard errors to 1e-8.

Property tests draw group sizes (size 1 included) and data; each group's row of ``g.params`` and
``g.se`` is compared with ``mm.fit`` on that group's rows alone, and ``g[label]`` with the same fit.
"Relative" is taken on the scale of the estimate: ``|a - b| <= 1e-8 * max(|b|, SE)``, so that an
estimate near 0 (a location) is held to its precision in standard-error units.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributions as td
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlemap as mm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference import polished_minimum  # noqa: E402

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RTOL = 1e-8


def quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.MlemapWarning)
        return fn(*args, **kwargs)


def close(a: float, b: float, scale: float, rtol: float = RTOL) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= rtol * max(abs(b), scale if math.isfinite(scale) else 0.0, 1e-300)


def assert_group_matches(g, label, single, rtol: float = RTOL):
    for name, value in single.params.items():
        se = single.se[name]
        assert close(float(g.params.loc[label, name]), value, se, rtol), (label, name, g.params.loc[label, name], value)
        assert close(float(g.se.loc[label, name]), se, se, rtol), (label, name, g.se.loc[label, name], se)
    assert close(float(g.loglik.loc[label]), single.loglik, 1.0, rtol)


DRAWS = {
    "weibull": lambda rng, n: rng.weibull(rng.uniform(0.7, 3.0), n) * rng.uniform(0.1, 100),
    "gamma": lambda rng, n: rng.gamma(rng.uniform(0.5, 5.0), rng.uniform(0.1, 10), n),
    "lognormal": lambda rng, n: rng.lognormal(rng.uniform(-2, 2), rng.uniform(0.2, 2), n),
    "normal": lambda rng, n: rng.normal(rng.uniform(-5, 5), rng.uniform(0.1, 3), n),
    "poisson": lambda rng, n: rng.poisson(rng.uniform(0.2, 20), n).astype(float),
    "bernoulli": lambda rng, n: rng.binomial(1, rng.uniform(0.05, 0.95), n).astype(float),
    "exponential": lambda rng, n: rng.exponential(rng.uniform(0.1, 10), n),
}


@pytest.mark.parametrize("family", sorted(DRAWS))
@SETTINGS
@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=12), seed=st.integers(0, 2**31 - 1))
def test_every_group_equals_its_single_fit(family, sizes, seed):
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.full(n, f"g{i}") for i, n in enumerate(sizes)])
    x = np.concatenate([DRAWS[family](rng, n) for n in sizes])
    order = rng.permutation(len(x))  # rows of different groups interleaved
    x, labels = x[order], labels[order]
    g = quietly(mm.fit, family, x, groups=labels)
    assert list(g.params.index) == sorted(set(labels))
    for label in g.labels:
        rows = x[labels == label]
        try:
            single = quietly(mm.fit, family, rows)
        except mm.DataError as exc:  # no estimate for this sample: the group says so, the others go on
            assert g.boundary.loc[label].startswith("no estimate"), g.boundary.loc[label]
            assert str(exc) in g.boundary.loc[label]
            assert g.params.loc[label].isna().all() and not g.converged.loc[label]
            with pytest.raises(mm.DataError):
                g[label]
            continue
        assert_group_matches(g, label, single)
        one = quietly(g.__getitem__, label)
        assert one.params.keys() == single.params.keys()
        for name in single.params:
            assert close(one.params[name], single.params[name], single.se[name])
            assert close(one.se[name], single.se[name], single.se[name])
        assert one.boundary.keys() == single.boundary.keys()


@pytest.mark.parametrize("prior", [{"probs": td.Beta(2.0, 8.0)}, {"probs": td.Beta(0.5, 0.5)}, {"probs": td.Uniform(0.0, 1.0)}])
@SETTINGS
@given(sizes=st.lists(st.integers(1, 30), min_size=1, max_size=10), seed=st.integers(0, 2**31 - 1))
def test_an_explicit_prior_applies_to_every_group(prior, sizes, seed):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    x = rng.binomial(1, rng.uniform(0.0, 1.0, len(sizes))[labels]).astype(float)
    g = quietly(mm.fit, "bernoulli", x, groups=labels, prior=prior)
    ci = g.credible_interval(0.9)
    for label in g.labels:
        single = quietly(mm.fit, "bernoulli", x[labels == label], prior=prior)
        assert_group_matches(g, label, single)
        lo, hi = single.credible_interval(0.9)["probs"]
        assert close(ci.loc[label, ("probs", "lower")], lo, 1e-3) and close(ci.loc[label, ("probs", "upper")], hi, 1e-3)
        assert (g.boundary.loc[label] != "") == bool(single.boundary)


def test_a_gamma_prior_on_poisson_rates_and_a_numerical_map():
    rng = np.random.default_rng(5)
    sizes = [1, 3, 10, 40]
    labels = np.repeat(np.arange(4), sizes)
    counts = rng.poisson(3.0, sum(sizes)).astype(float)
    prior = {"rate": td.Gamma(3.0, 1.0)}
    g = quietly(mm.fit, "poisson", counts, groups=labels, prior=prior)
    assert g.method == "closed-form" and g.estimator == "MAP"
    for label in g.labels:
        assert_group_matches(g, label, quietly(mm.fit, "poisson", counts[labels == label], prior=prior))


def test_a_prior_without_closed_form_runs_the_batched_newton_on_the_log_posterior():
    """Against each group's Newton-polished MAP; ``mm.fit``'s line-search Newton stops at its decrement
    tolerance (about 1e-8 short), so it is held to 1e-6 here."""
    rng = np.random.default_rng(5)
    sizes = [1, 3, 10, 40]
    labels = np.repeat(np.arange(4), sizes)
    hours = rng.weibull(1.5, sum(sizes)) * 3
    prior = {"concentration": td.Gamma(4.0, 2.0)}
    g = quietly(mm.fit, "weibull", hours, groups=labels, prior=prior)
    assert g.method == "numerical" and g.estimator == "MAP" and g.converged.all()
    a, b = torch.tensor(4.0, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64)
    for label in g.labels:
        xs = torch.as_tensor(hours[labels == label])

        def neg_log_posterior(v):
            return -(td.Weibull(v[0].exp(), v[1].exp()).log_prob(xs).sum() + td.Gamma(a, b).log_prob(v[1].exp()))

        start = np.log(g.params.loc[label].to_numpy())
        scale, k = np.exp(polished_minimum(neg_log_posterior, start))
        assert close(g.params.loc[label, "scale"], scale, g.se.loc[label, "scale"])
        assert close(g.params.loc[label, "concentration"], k, g.se.loc[label, "concentration"])
        assert_group_matches(g, label, quietly(mm.fit, "weibull", hours[labels == label], prior=prior), rtol=1e-6)
        one = quietly(g.__getitem__, label)
        assert close(one.se["scale"], float(g.se.loc[label, "scale"]), 1.0)


def test_weights_and_fixed_values_are_per_row():
    rng = np.random.default_rng(11)
    labels = np.repeat(["a", "b", "c"], [5, 12, 30])
    x = rng.binomial(10, [0.2, 0.5, 0.7], (47, 3))[np.arange(47), np.repeat([0, 1, 2], [5, 12, 30])].astype(float)
    trials = np.full(47, 10.0)
    w = rng.integers(1, 4, 47).astype(float)
    g = quietly(mm.fit, "binomial", x, groups=labels, fixed={"total_count": trials}, weights=w)
    for label in g.labels:
        m = labels == label
        assert_group_matches(g, label, quietly(mm.fit, "binomial", x[m], fixed={"total_count": trials[m]}, weights=w[m]))
    y = rng.weibull(2.0, 47)
    g = quietly(mm.fit, "weibull", y, groups=labels, weights=w)
    for label in g.labels:
        m = labels == label
        assert_group_matches(g, label, quietly(mm.fit, "weibull", y[m], weights=w[m]))


# ---------------------------------------------------------------------- other numerical families
REFERENCE_FAMILIES = {
    # family: (draw, torch log-density of (x, unconstrained v), unconstrained -> natural)
    "beta": (lambda rng, n: rng.beta(2.0, 5.0, n),
             lambda x, v: td.Beta(v[0].exp(), v[1].exp()).log_prob(x), lambda v: {"concentration1": math.exp(v[0]), "concentration0": math.exp(v[1])}),
    "gumbel": (lambda rng, n: rng.gumbel(1.0, 2.0, n),
               lambda x, v: td.Gumbel(v[0], v[1].exp()).log_prob(x), lambda v: {"loc": v[0], "scale": math.exp(v[1])}),
    "cauchy": (lambda rng, n: rng.standard_cauchy(n) * 2 + 1,
               lambda x, v: td.Cauchy(v[0], v[1].exp()).log_prob(x), lambda v: {"loc": v[0], "scale": math.exp(v[1])}),
    "vonmises": (lambda rng, n: rng.vonmises(0.5, 3.0, n),  # log I0(k) = log i0e(k) + k (torch's VonMises is ~1e-7)
                 lambda x, v: v[1].exp() * torch.cos(x - v[0]) - math.log(2 * math.pi)
                 - torch.log(torch.special.i0e(v[1].exp())) - v[1].exp(),
                 lambda v: {"loc": v[0], "concentration": math.exp(v[1])}),
}


@pytest.mark.parametrize("family", sorted(REFERENCE_FAMILIES))
def test_numerical_families_reach_the_polished_optimum_in_every_group(family):
    """Against an independent Newton-polished optimum of each group's own torch log-likelihood."""
    draw, log_prob, natural = REFERENCE_FAMILIES[family]
    rng = np.random.default_rng(7)
    sizes = [6, 15, 40, 120]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    x = np.concatenate([draw(rng, n) for n in sizes])
    g = quietly(mm.fit, family, x, groups=labels)
    assert g.converged.all()
    for label in g.labels:
        xs = torch.as_tensor(x[labels == label])
        start = [g.params.loc[label].iloc[0], g.params.loc[label].iloc[1]]
        v0 = np.array([start[0] if family in ("gumbel", "cauchy", "vonmises") else math.log(start[0]), math.log(start[1])])
        ref = natural(polished_minimum(lambda v: -log_prob(xs, v).sum(), v0))
        for name, value in ref.items():
            se = float(g.se.loc[label, name])
            assert close(float(g.params.loc[label, name]), value, se), (family, label, name)

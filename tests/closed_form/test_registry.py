"""The closed-form registry: lookup by (family type, free parameters, prior types), the most
specific entry winning, misses, and the errors of ``method="closed-form"`` without a closed form."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributions as td

import mlemap as mm
from mlemap.closed_form import (
    canonical_prior,
    find_closed_form,
    register_closed_form,
    registered,
    registry,
)
from mlemap.closed_form.registry import Solution
from mlemap.families import (
    Bernoulli,
    Categorical,
    Gamma,
    Normal,
    Poisson,
    StudentT,
    resolve_family,
)


class SubNormal(Normal):
    name = "subnormal"


class SubSubNormal(SubNormal):
    name = "subsubnormal"


class MyBeta(td.Beta):
    pass


class MyNormalPrior(td.Normal):
    pass


@pytest.fixture
def sandbox():
    """A private copy of the registry, restored (and the lookup cache cleared) afterwards."""
    saved = registry._REGISTRY
    registry._REGISTRY = list(saved)
    registry._lookup.cache_clear()
    try:
        yield registry
    finally:
        registry._REGISTRY = saved
        registry._lookup.cache_clear()


def _constant(name, value):
    return lambda problem: Solution({name: torch.tensor(value, dtype=problem.dtype)})


# ---------------------------------------------------------------------- hits
@pytest.mark.parametrize(
    "family,free,priors",
    [
        (Normal(), ["loc", "scale"], {}),
        (Normal(), ["loc"], {}),
        (Normal(), ["scale"], {"variance": td.InverseGamma}),
        (Normal(), ["scale"], {"precision": td.Gamma}),
        (Bernoulli(), ["probs"], {"probs": td.Beta}),
        (Poisson(), ["rate"], {"rate": td.Gamma}),
        (Gamma(), ["rate"], {}),
        (Categorical(n_categories=3), ["probs"], {"probs": td.Dirichlet}),
    ],
    ids=["normal", "normal-loc", "normal-variance", "normal-precision", "beta-bernoulli", "gamma-poisson",
         "gamma-rate", "dirichlet-categorical"],
)
def test_lookup_finds_the_exact_entry(family, free, priors):
    entry = find_closed_form(family, free, priors)
    assert entry is not None
    assert entry.family is type(family)
    assert entry.free == frozenset(free)
    assert dict(entry.priors) == priors


def test_order_of_free_parameters_does_not_matter():
    assert find_closed_form(Normal(), ["scale", "loc"], {}) is find_closed_form(Normal(), ["loc", "scale"], {})


def test_every_registered_entry_is_found_by_its_own_signature():
    for name, free, priors in registered():
        assert name in mm.family_names()
        fam = resolve_family(name)
        prior_types = {key: getattr(td, type_name) for key, type_name in priors}
        entry = find_closed_form(fam, list(free), prior_types)
        assert entry is not None, (name, free, priors)
        assert entry.free == frozenset(free)
        assert tuple((k, t.__name__) for k, t in entry.priors) == priors


# ---------------------------------------------------------------------- misses
@pytest.mark.parametrize(
    "family,free,priors",
    [
        (StudentT(), ["df", "loc", "scale"], {}),
        (StudentT(), ["loc"], {}),
        (Gamma(), ["concentration", "rate"], {}),
        (Gamma(), ["concentration"], {}),
        (Normal(), ["loc", "scale"], {"loc": td.Normal}),
        (Normal(), ["scale"], {"scale": td.InverseGamma}),  # stated on the scale, not the variance
        (Normal(), ["scale"], {"variance": td.Gamma}),  # Gamma is conjugate for the precision only
        (Normal(), ["loc"], {"loc": td.Cauchy}),
        (Bernoulli(), ["probs"], {"probs": td.Uniform}),  # before canonical_prior rewrites it
        (Bernoulli(), ["probs"], {"probs": td.Beta, "logits": td.Normal}),
        (Categorical(n_categories=3), ["probs"], {"probs": td.Beta}),
        (Poisson(), ["rate"], {"rate": td.LogNormal}),
    ],
    ids=["studentt", "studentt-loc", "gamma-both", "gamma-concentration", "normal-prior-loc-both-free",
         "normal-prior-on-scale", "normal-gamma-on-variance", "normal-cauchy-loc", "bernoulli-uniform-raw",
         "bernoulli-extra-prior", "categorical-beta", "poisson-lognormal"],
)
def test_unknown_combinations_return_none(family, free, priors):
    assert find_closed_form(family, free, priors) is None


def test_a_prior_makes_the_mle_entry_inapplicable():
    """MLE entries have no priors; a MAP with a prior type that has no conjugate entry gets nothing."""
    assert find_closed_form(Poisson(), ["rate"], {}) is not None
    assert find_closed_form(Poisson(), ["rate"], {"rate": td.HalfNormal}) is None


# ---------------------------------------------------------------------- the most specific entry wins
def test_family_subclass_inherits_the_base_entry():
    entry = find_closed_form(SubNormal(), ["loc", "scale"], {})
    assert entry is not None and entry.family is Normal
    x = np.random.default_rng(0).normal(2.0, 3.0, 50)
    r = mm.fit(SubNormal(), x)
    assert r.method == "closed-form"
    np.testing.assert_allclose([r.params["loc"], r.params["scale"]], [x.mean(), x.std()], rtol=1e-12)


def test_family_subclass_entry_beats_the_base_entry(sandbox):
    register_closed_form(SubNormal, free={"loc", "scale"})(
        lambda p: Solution({"loc": torch.tensor(42.0, dtype=p.dtype), "scale": torch.tensor(1.0, dtype=p.dtype)})
    )
    assert find_closed_form(SubNormal(), ["loc", "scale"], {}).family is SubNormal
    assert find_closed_form(SubSubNormal(), ["loc", "scale"], {}).family is SubNormal  # nearer than Normal
    assert find_closed_form(Normal(), ["loc", "scale"], {}).family is Normal
    r = mm.fit(SubNormal(), [1.0, 2.0, 4.0])
    assert r.params == {"loc": 42.0, "scale": 1.0}
    assert mm.fit("normal", [1.0, 2.0, 4.0]).params["loc"] == pytest.approx(7 / 3)


def test_registration_order_does_not_decide(sandbox):
    register_closed_form(SubSubNormal, free={"loc"})(_constant("loc", 1.0))
    register_closed_form(SubNormal, free={"loc"})(_constant("loc", 2.0))
    assert find_closed_form(SubSubNormal(), ["loc"], {}).family is SubSubNormal
    assert find_closed_form(SubNormal(), ["loc"], {}).family is SubNormal


def test_prior_subclass_uses_the_base_prior_entry():
    entry = find_closed_form(Bernoulli(), ["probs"], {"probs": MyBeta})
    assert entry is not None and dict(entry.priors) == {"probs": td.Beta}
    r = mm.fit("bernoulli", [1, 0, 1, 1], prior={"probs": MyBeta(torch.tensor(2.0, dtype=torch.float64),
                                                                  torch.tensor(2.0, dtype=torch.float64))})
    assert r.method == "closed-form"
    assert r.params["probs"] == pytest.approx((2 + 3 - 1) / (2 + 2 + 4 - 2))


def test_prior_subclass_entry_beats_the_base_prior_entry(sandbox):
    register_closed_form(Bernoulli, free={"probs"}, priors={"probs": MyBeta})(_constant("probs", 0.123))
    assert dict(find_closed_form(Bernoulli(), ["probs"], {"probs": MyBeta}).priors) == {"probs": MyBeta}
    assert dict(find_closed_form(Bernoulli(), ["probs"], {"probs": td.Beta}).priors) == {"probs": td.Beta}
    prior = MyBeta(torch.tensor(2.0, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))
    assert mm.fit("bernoulli", [1, 0, 1], prior={"probs": prior}).params["probs"] == 0.123


def test_family_distance_outranks_prior_distance(sandbox):
    """Scores compare (family distance, prior distance) in that order."""
    register_closed_form(Normal, free={"loc"}, priors={"loc": MyNormalPrior})(_constant("loc", 1.0))
    register_closed_form(SubNormal, free={"loc"}, priors={"loc": td.Normal})(_constant("loc", 2.0))
    entry = find_closed_form(SubNormal(), ["loc"], {"loc": MyNormalPrior})
    assert entry.family is SubNormal and dict(entry.priors) == {"loc": td.Normal}
    # on the base family only the first applies exactly
    entry = find_closed_form(Normal(), ["loc"], {"loc": MyNormalPrior})
    assert entry.family is Normal and dict(entry.priors) == {"loc": MyNormalPrior}


def test_registering_clears_the_lookup_cache(sandbox):
    assert find_closed_form(StudentT(), ["loc"], {}) is None  # now cached as a miss
    register_closed_form(StudentT, free={"loc"})(_constant("loc", 0.5))
    assert find_closed_form(StudentT(), ["loc"], {}) is not None
    r = mm.fit("studentt", [0.1, 0.9, 2.0], fixed={"df": 3.0, "scale": 1.0}, method="closed-form")
    assert r.params == {"loc": 0.5}


def test_sandbox_left_the_registry_untouched():
    assert find_closed_form(StudentT(), ["loc"], {}) is None
    assert find_closed_form(SubNormal(), ["loc", "scale"], {}).family is Normal


# ---------------------------------------------------------------------- canonical priors
def test_canonical_prior_rewrites_special_cases():
    beta = canonical_prior(td.Uniform(0.0, 1.0))
    assert type(beta) is td.Beta
    assert (float(beta.concentration1), float(beta.concentration0)) == (1.0, 1.0)
    gamma = canonical_prior(td.Exponential(3.0))
    assert type(gamma) is td.Gamma
    assert (float(gamma.concentration), float(gamma.rate)) == (1.0, 3.0)
    for prior in (td.Uniform(0.0, 2.0), td.Uniform(-1.0, 1.0), td.Beta(2.0, 2.0), td.HalfNormal(1.0)):
        assert canonical_prior(prior) is prior


def test_uniform_prior_on_a_wider_interval_is_not_conjugate():
    x = [1, 0, 1, 1, 0]
    with pytest.raises(mm.MethodError):
        mm.fit("bernoulli", x, prior={"probs": td.Uniform(0.0, 2.0)}, method="closed-form")
    assert mm.fit("bernoulli", x, prior={"probs": td.Uniform(0.0, 1.0)}, method="closed-form").method == "closed-form"


# ---------------------------------------------------------------------- method="closed-form" without one
X = np.random.default_rng(1).gamma(2.0, 1.0, 40)


def test_family_without_any_closed_form():
    with pytest.raises(mm.MethodError) as info:
        mm.fit("studentt", X, method="closed-form")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "'studentt' family has no closed-form estimator" in message
    assert "method='numerical'" in message and "method='auto'" in message
    assert mm.fit("studentt", X).method == "numerical"


def test_map_without_a_conjugate_entry_lists_the_alternatives():
    with pytest.raises(mm.MethodError) as info:
        mm.fit("normal", X, prior={"loc": td.Normal(0.0, 10.0)}, method="closed-form")
    message = str(info.value)
    assert "No closed form for a MAP with priors loc=Normal" in message
    assert "'normal' family" in message
    assert "free parameters ['loc', 'scale']" in message
    assert "Closed forms exist for:" in message
    assert "free ['loc', 'scale']" in message  # the MLE
    assert "free ['loc'] with priors {'loc': 'Normal'}" in message  # the conjugate pair with scale fixed
    assert "free ['scale'] with priors {'variance': 'InverseGamma'}" in message
    assert "method='numerical'" in message
    r = mm.fit("normal", X, prior={"loc": td.Normal(0.0, 10.0)})
    assert r.method == "numerical" and r.estimator == "MAP"


def test_mle_without_an_entry_for_these_free_parameters():
    with pytest.raises(mm.MethodError) as info:
        mm.fit("gamma", X, method="closed-form")
    message = str(info.value)
    assert "No closed form for an MLE of the 'gamma' family" in message
    assert "free parameters ['concentration', 'rate']" in message
    assert "Closed forms exist for: free ['rate']" in message
    # fixing the concentration makes the closed form apply: rate = alpha / mean
    r = mm.fit("gamma", X, fixed={"concentration": 2.0}, method="closed-form")
    np.testing.assert_allclose(r.params["rate"], 2.0 / X.mean(), rtol=1e-12)


def test_weibull_scale_only_closed_form():
    with pytest.raises(mm.MethodError, match="free \\['scale'\\]"):
        mm.fit("weibull", X, method="closed-form")
    r = mm.fit("weibull", X, fixed={"concentration": 1.7}, method="closed-form")
    np.testing.assert_allclose(r.params["scale"], np.mean(X**1.7) ** (1 / 1.7), rtol=1e-12)


def test_invalid_method_name():
    with pytest.raises(mm.MethodError, match="'method' argument must be one of auto, closed-form, numerical"):
        mm.fit("normal", X, method="closed_form")


def test_auto_prefers_the_closed_form_and_numerical_bypasses_it():
    assert mm.fit("normal", X).method == "closed-form"
    assert mm.fit("normal", X, method="numerical").method == "numerical"
    assert mm.fit("bernoulli", [0, 1, 1], prior={"probs": td.Beta(2.0, 2.0)}).method == "closed-form"

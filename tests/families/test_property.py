"""Property-based tests: closed forms against the numerical engine on arbitrary data, equivariance
of location and scale estimates, and frequency weights against duplicated rows."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import mlemap as mm

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def floats(lo: float, hi: float):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def float_lists(lo: float, hi: float, min_size: int = 3, max_size: int = 40):
    return st.lists(floats(lo, hi), min_size=min_size, max_size=max_size)


def spread_ok(x: np.ndarray) -> bool:
    """Enough spread that scale estimates are well away from zero relative to the values."""
    return float(np.std(x)) > 1e-3 * (1.0 + float(np.max(np.abs(x))))


def quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.MlemapWarning)
        return mm.fit(*args, **kwargs)


# ---------------------------------------------------------------------- closed form == numerical
def _draw_bernoulli(d):
    x = np.array(d.draw(st.lists(st.sampled_from([0, 1]), min_size=2, max_size=60)), float)
    assume(0 < x.sum() < x.size)
    return x, {}


def _draw_binomial(d):
    n = d.draw(st.integers(1, 20))
    x = np.array(d.draw(st.lists(st.integers(0, n), min_size=1, max_size=40)), float)
    assume(0 < x.sum() < n * x.size)
    return x, {"total_count": n}


def _draw_counts(hi):
    def draw(d):
        x = np.array(d.draw(st.lists(st.integers(0, hi), min_size=1, max_size=40)), float)
        assume(x.sum() > 0)
        return x, {}

    return draw


def _draw_categorical(d):
    x = np.array(d.draw(st.lists(st.integers(0, 3), min_size=4, max_size=60)), float)
    assume(set(x.tolist()) == {0.0, 1.0, 2.0, 3.0})
    return x, {}


def _draw_multinomial(d):
    rows = d.draw(st.lists(st.tuples(*[st.integers(0, 9)] * 3), min_size=1, max_size=30))
    x = np.array(rows, float)
    assume(np.all(x.sum(1) > 0) and np.all(x.sum(0) > 0))
    return x, {}


def _draw_real(fixed_draws):
    def draw(d):
        x = np.array(d.draw(float_lists(-100.0, 100.0)), float)
        assume(spread_ok(x))
        return x, {k: d.draw(s) for k, s in fixed_draws.items()}

    return draw


def _draw_positive(lo, hi, fixed_draws=None):
    def draw(d):
        x = np.array(d.draw(float_lists(lo, hi)), float)
        assume(spread_ok(np.log(x)))
        return x, {k: d.draw(s) for k, s in (fixed_draws or {}).items()}

    return draw


def _draw_half_normal(d):
    x = np.array(d.draw(float_lists(0.0, 100.0, min_size=1)), float)
    assume(x.max() > 1e-2)
    return x, {}


def _draw_laplace(fixed_draws):
    def draw(d):
        x = np.array(d.draw(float_lists(-100.0, 100.0, min_size=3, max_size=41)), float)
        if x.size % 2 == 0:
            x = x[:-1]  # odd n: a unique median
        assume(spread_ok(x) and abs(np.median(x)) > 1e-3)
        return x, {k: d.draw(s) for k, s in fixed_draws.items()}

    return draw


def _draw_pareto(fixed_scale):
    def draw(d):
        x = np.array(d.draw(float_lists(0.1, 100.0)), float)
        assume(spread_ok(np.log(x)))
        return x, ({"scale": float(x.min()) * d.draw(floats(0.2, 1.0))} if fixed_scale else {})

    return draw


def _draw_von_mises(d):
    x = np.array(d.draw(float_lists(-math.pi, math.pi)), float)
    resultant = abs(np.exp(1j * x).mean())
    assume(resultant > 0.05)
    return x, {"concentration": d.draw(floats(0.1, 20.0))}


def _draw_mvn(free):
    def draw(d):
        rows = d.draw(st.lists(st.tuples(floats(-10, 10), floats(-10, 10)), min_size=5, max_size=30))
        x = np.array(rows, float)
        cov = np.cov(x.T, bias=True)
        ev = np.linalg.eigvalsh(cov)
        assume(ev[0] > 1e-2 * max(ev[1], 1.0))
        fixed = {}
        if "loc" not in free:
            fixed["loc"] = [d.draw(floats(-5, 5)), d.draw(floats(-5, 5))]
        if "covariance_matrix" not in free:
            fixed["covariance_matrix"] = [[2.0, 0.3], [0.3, 1.0]]
        return x, fixed

    return draw


SCALE = floats(0.1, 10.0)
LOC = floats(-50.0, 50.0)

CLOSED_FORM_CASES = {
    ("bernoulli", ("probs",)): _draw_bernoulli,
    ("binomial", ("probs",)): _draw_binomial,
    ("geometric", ("probs",)): _draw_counts(30),
    ("poisson", ("rate",)): _draw_counts(50),
    ("categorical", ("probs",)): _draw_categorical,
    ("multinomial", ("probs",)): _draw_multinomial,
    ("normal", ("loc", "scale")): _draw_real({}),
    ("normal", ("loc",)): _draw_real({"scale": SCALE}),
    ("normal", ("scale",)): _draw_real({"loc": LOC}),
    ("lognormal", ("loc", "scale")): _draw_positive(1e-2, 1e3),
    ("lognormal", ("loc",)): _draw_positive(1e-2, 1e3, {"scale": SCALE}),
    ("lognormal", ("scale",)): _draw_positive(1e-2, 1e3, {"loc": floats(-3.0, 3.0)}),
    ("half_normal", ("scale",)): _draw_half_normal,
    ("exponential", ("rate",)): _draw_positive(1e-3, 1e3),
    ("gamma", ("rate",)): _draw_positive(1e-3, 1e3, {"concentration": floats(0.2, 10.0)}),
    ("weibull", ("scale",)): _draw_positive(1e-2, 1e2, {"concentration": floats(0.3, 5.0)}),
    ("laplace", ("loc", "scale")): _draw_laplace({}),
    ("laplace", ("loc",)): _draw_laplace({"scale": SCALE}),
    ("laplace", ("scale",)): _draw_laplace({"loc": LOC}),
    ("pareto", ("alpha", "scale")): _draw_pareto(False),
    ("pareto", ("alpha",)): _draw_pareto(True),
    ("von_mises", ("loc",)): _draw_von_mises,
    ("multivariate_normal", ("covariance_matrix", "loc")): _draw_mvn(("loc", "covariance_matrix")),
    ("multivariate_normal", ("loc",)): _draw_mvn(("loc",)),
    ("multivariate_normal", ("covariance_matrix",)): _draw_mvn(("covariance_matrix",)),
}


def test_every_closed_form_mle_has_a_property_case():
    from mlemap.closed_form import registered

    entries = {(n, f) for n, f, pr in registered() if not pr}
    # the uniform bounds and the Pareto scale are sample extremes: nothing for an optimiser to do
    trivial = {("uniform", ("high", "low")), ("uniform", ("low",)), ("uniform", ("high",)), ("pareto", ("scale",))}
    assert entries - trivial == set(CLOSED_FORM_CASES)


def _start_away(name: str, value) -> object:
    """A starting value for ``name`` well away from ``value`` (inside the parameter space)."""
    v = np.asarray(value, float)
    if name == "probs":
        return (0.4 * v + 0.6 / v.size).tolist() if v.ndim else float(0.5 * v + 0.25)
    if name == "covariance_matrix":
        return (1.5 * v + 0.2 * np.trace(v) / v.shape[0] * np.eye(v.shape[0])).tolist()
    if name == "loc":
        return (v + 0.3 * (np.abs(v) + 1.0)).tolist() if v.ndim else float(v + 0.3 * (abs(v) + 1.0))
    return float(1.5 * v)  # positive scalars


@pytest.mark.parametrize(
    "key", list(CLOSED_FORM_CASES), ids=[f"{n}-{'+'.join(f)}" for n, f in CLOSED_FORM_CASES]
)
@SETTINGS
@given(data=st.data())
def test_closed_form_equals_numerical(key, data):
    name, free = key
    x, fixed = CLOSED_FORM_CASES[key](data)
    cf = mm.fit(name, x, fixed=fixed or None, method="closed-form")
    init = {p: _start_away(p, cf.params[p]) for p in free if not (name == "pareto" and p == "scale")}
    solver = "powell" if name == "laplace" else "newton"
    num = mm.fit(name, x, fixed=fixed or None, method="numerical", solver=solver, init=init)
    assert num.converged
    for p in free:
        got, want = num.params[p], cf.params[p]
        if name == "von_mises":  # angles: -pi + eps and pi - eps are neighbours
            got = want + math.remainder(got - want, 2 * math.pi)
        atol = 1e-6 * _spread(name, p, {**fixed, **cf.params})
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=atol, err_msg=p)
    np.testing.assert_allclose(num.loglik, cf.loglik, rtol=1e-9, atol=1e-9)


def _spread(name: str, p: str, params: dict) -> float:
    """The natural unit of parameter ``p``: an element that is small next to the spread of its
    estimator (a location near 0, an off-diagonal covariance) is compared on that scale."""
    if name == "multivariate_normal":
        return float(np.sqrt(np.max(np.diag(params["covariance_matrix"])))) ** (2 if p == "covariance_matrix" else 1)
    if p == "loc" and "scale" in params:
        return float(params["scale"])
    if name == "von_mises" and p == "loc":
        return 1.0  # radians
    return 1e-3


# ---------------------------------------------------------------------- location equivariance
@SETTINGS
@given(x=float_lists(-100.0, 100.0), c=floats(-1e3, 1e3))
def test_normal_loc_shifts_with_the_data(x, c):
    x = np.array(x)
    assume(spread_ok(x))
    a, b = mm.fit("normal", x), mm.fit("normal", x + c)
    tol = 1e-12 * (abs(c) + np.abs(x).max()) * 10
    assert abs(b.params["loc"] - (a.params["loc"] + c)) <= tol
    np.testing.assert_allclose(b.params["scale"], a.params["scale"], rtol=1e-9)


@SETTINGS
@given(x=float_lists(-100.0, 100.0, max_size=41), c=floats(-1e3, 1e3))
def test_laplace_loc_shifts_with_the_data(x, c):
    x = np.array(x if len(x) % 2 else x[:-1])
    assume(spread_ok(x))
    a, b = mm.fit("laplace", x), mm.fit("laplace", x + c)
    tol = 1e-12 * (abs(c) + np.abs(x).max()) * 10
    assert abs(b.params["loc"] - (a.params["loc"] + c)) <= tol
    np.testing.assert_allclose(b.params["scale"], a.params["scale"], rtol=1e-9, atol=tol)


SAMPLERS = {
    "cauchy": lambda r, n: r.standard_cauchy(n),
    "studentt": lambda r, n: r.standard_t(3.0, n),
    "gumbel": lambda r, n: r.gumbel(0.0, 1.0, n),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(80, 200), scale=floats(0.2, 5.0), c=floats(-200.0, 200.0))
def test_numerical_loc_shifts_with_the_data(name, seed, n, scale, c):
    x = scale * SAMPLERS[name](np.random.default_rng(seed), n)
    a, b = quiet_fit(name, x), quiet_fit(name, x + c)
    assume(not a.boundary and not b.boundary)  # e.g. a Student t whose df runs off to infinity
    assert a.converged and b.converged
    ref = a.params["scale"]
    assert abs(b.params["loc"] - c - a.params["loc"]) <= 1e-6 * (ref + abs(a.params["loc"]))
    np.testing.assert_allclose(b.params["scale"], a.params["scale"], rtol=1e-6)


# ---------------------------------------------------------------------- scale equivariance
@SETTINGS
@given(x=float_lists(-100.0, 100.0), a=floats(1e-3, 1e3))
def test_normal_scale_is_equivariant(x, a):
    x = np.array(x)
    assume(spread_ok(x))
    r, s = mm.fit("normal", x), mm.fit("normal", a * x)
    np.testing.assert_allclose(s.params["scale"], a * r.params["scale"], rtol=1e-9)
    np.testing.assert_allclose(s.params["loc"], a * r.params["loc"], rtol=1e-9, atol=1e-12 * a * np.abs(x).max())
    # the log-likelihood changes by the Jacobian of the change of units
    np.testing.assert_allclose(s.loglik, r.loglik - x.size * math.log(a), rtol=1e-9, atol=1e-9)


@SETTINGS
@given(x=float_lists(1e-3, 1e3, min_size=1), a=floats(1e-3, 1e3))
def test_exponential_rate_is_inversely_equivariant(x, a):
    x = np.array(x)
    r, s = mm.fit("exponential", x), mm.fit("exponential", a * x)
    np.testing.assert_allclose(s.params["rate"], r.params["rate"] / a, rtol=1e-9)
    np.testing.assert_allclose(s.se["rate"], r.se["rate"] / a, rtol=1e-9)


@SETTINGS
@given(x=float_lists(0.0, 100.0, min_size=1), a=floats(1e-3, 1e3))
def test_half_normal_scale_is_equivariant(x, a):
    x = np.array(x)
    assume(x.max() > 1e-2)
    r, s = mm.fit("half_normal", x), mm.fit("half_normal", a * x)
    np.testing.assert_allclose(s.params["scale"], a * r.params["scale"], rtol=1e-9)


# ---------------------------------------------------------------------- weights == duplicated rows
WEIGHT_CASES = {
    # name: (sampler(rng, n), fixed, method)
    "bernoulli": (lambda r, n: r.binomial(1, 0.4, n), {}, "closed-form"),
    "poisson": (lambda r, n: r.poisson(3.0, n), {}, "closed-form"),
    "normal": (lambda r, n: r.normal(1.0, 2.0, n), {}, "closed-form"),
    "exponential": (lambda r, n: r.exponential(2.0, n), {}, "closed-form"),
    "categorical": (lambda r, n: r.choice(3, n, p=[0.2, 0.3, 0.5]), {}, "closed-form"),
    "multivariate_normal": (lambda r, n: r.normal(size=(n, 2)) @ [[1.0, 0.5], [0.0, 1.0]], {}, "closed-form"),
    "laplace": (lambda r, n: r.laplace(1.0, 2.0, n), {}, "closed-form"),
    "normal-numerical": (lambda r, n: r.normal(1.0, 2.0, n), {}, "numerical"),
    "gamma": (lambda r, n: r.gamma(2.0, 1.5, n), {}, "numerical"),
    "weibull": (lambda r, n: 2.0 * r.weibull(1.5, n), {}, "numerical"),
    "beta": (lambda r, n: r.beta(2.0, 3.0, n), {}, "numerical"),
    "negative_binomial": (lambda r, n: r.negative_binomial(3.0, 0.4, n), {}, "numerical"),
    "studentt": (lambda r, n: r.standard_t(4.0, n), {}, "numerical"),
    "cauchy": (lambda r, n: r.standard_cauchy(n), {}, "numerical"),
    "von_mises": (lambda r, n: r.vonmises(0.5, 3.0, n), {}, "numerical"),
    "dirichlet": (lambda r, n: r.dirichlet([2.0, 3.0, 4.0], n), {}, "numerical"),
}


@pytest.mark.parametrize("key", sorted(WEIGHT_CASES))
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(30, 120), data=st.data())
def test_integer_weights_equal_duplicated_rows(key, seed, n, data):
    sampler, fixed, method = WEIGHT_CASES[key]
    name = key.split("-")[0]
    x = np.asarray(sampler(np.random.default_rng(seed), n), float)
    w = np.array(data.draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)), float)
    dup = np.repeat(x, w.astype(int), axis=0)
    a = quiet_fit(name, x, weights=w, fixed=fixed or None, method=method)
    b = quiet_fit(name, dup, fixed=fixed or None, method=method)
    assume(not a.boundary and not b.boundary)
    # the Student t likelihood may increase all the way to df = infinity (no MLE)
    assume(name != "studentt" or max(a.params["df"], b.params["df"]) < 1e3)
    assert a.method == b.method == method
    assert a.n == b.n == w.sum()
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=1e-9)
    for p in a.params:
        atol = 1e-6 * _spread(name, p, b.params)
        if name == "studentt":
            # both optima are found to a tolerance on the objective: a parameter that the data barely
            # determine (a large df) is only pinned down to a small fraction of its standard error
            atol = atol + 1e-4 * float(b.se[p])
        np.testing.assert_allclose(a.params[p], b.params[p], rtol=1e-6, atol=atol, err_msg=p)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 60))
def test_weights_of_two_double_the_log_likelihood(seed, n):
    x = np.random.default_rng(seed).gamma(2.0, 1.0, n)
    a = mm.fit("gamma", x)
    b = mm.fit("gamma", x, weights=np.full(n, 2.0))
    np.testing.assert_allclose(b.loglik, 2 * a.loglik, rtol=1e-9)
    np.testing.assert_allclose(b.params["concentration"], a.params["concentration"], rtol=1e-9)
    np.testing.assert_allclose(b.se["rate"], a.se["rate"] / math.sqrt(2), rtol=1e-6)

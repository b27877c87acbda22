"""Score and Fisher information against closed forms and finite differences of the log-likelihood.

Closed forms (per observation): normal (mu, sigma) diag(1/s^2, 2/s^2), (mu, sigma^2) diag(1/s^2, 1/(2 s^4));
Bernoulli 1/(p(1-p)), in the logit p(1-p); binomial N/(p(1-p)); Poisson 1/lambda; exponential 1/lambda^2;
geometric (failures) 1/(p^2 (1-p)); gamma [[trigamma(a), -1/b], [-1/b, a/b^2]]; Laplace diag(1/b^2, 1/b^2);
Student's t (Lange, Little and Taylor 1989). Finite differences use ``log_likelihood_at``, an
independent path (no autograd), with Richardson extrapolation for a reference accurate to ~1e-9.
"""

import math

import numpy as np
import pytest
import torch
from scipy.special import polygamma

import mlemap as mm
from mlemap.errors import MethodError, ParameterError
from mlemap.inference.information import labels

COURSE = [2.3, 2.5, 3.1, 3.8, 2.7]


def trigamma(x):
    return float(polygamma(1, x))


def central(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def richardson_derivative(f, x, h):
    """f'(x) with error O(h^4): central differences at h and h/2 combined."""
    return (4 * central(f, x, h / 2) - central(f, x, h)) / 3


def fd_gradient(f, x, h=1e-3):
    x = np.asarray(x, dtype=float)
    out = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1.0
        out[i] = richardson_derivative(lambda t: f(x + t * e), 0.0, h * max(1.0, abs(x[i])))
    return out


def fd_hessian(f, x, h=1e-3):
    x = np.asarray(x, dtype=float)
    H = np.empty((x.size, x.size))
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1.0
        step = h * max(1.0, abs(x[i]))
        H[i] = richardson_derivative(lambda t: fd_gradient(f, x + t * e, h), 0.0, step)
    return 0.5 * (H + H.T)


# ------------------------------------------------------------------------------------------ the course's numbers
def test_the_course_normal_example_in_mean_and_variance():
    r = mm.fit("normal", COURSE)
    x = np.array(COURSE)
    n, s2 = x.size, x.var()
    assert r.loglik == pytest.approx(-3.926523529277739, rel=1e-14)
    score = r.score(parametrization="variance")
    assert list(score) == ["loc", "variance"]
    assert np.allclose(list(score.values()), 0.0, atol=1e-12)
    expected = np.diag([n / s2, n / (2 * s2**2)])
    assert np.allclose(expected, [[17.75568182, 0], [0, 31.52642368]], rtol=1e-9)  # the numbers the course prints
    for kind in ("observed", "expected"):
        assert np.allclose(r.information(kind, parametrization="variance"), expected, rtol=1e-12, atol=1e-12)
    assert labels(r, "variance") == ["loc", "variance"]
    # the same in the family's own coordinates (loc, scale): 2n/s^2 for the scale
    assert np.allclose(r.information("expected"), np.diag([n / s2, 2 * n / s2]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spelling", ["variance", ["variance"], {"scale": "variance"}])
def test_parametrization_spellings_agree(spelling):
    r = mm.fit("normal", COURSE)
    assert np.allclose(r.information(parametrization=spelling), r.information(parametrization="variance"), rtol=0)


def test_score_in_mean_and_variance_matches_the_textbook_formula_away_from_the_mle():
    r = mm.fit("normal", COURSE)
    x = np.array(COURSE)
    n, mu, v = x.size, 2.6, 0.5
    score = r.score({"loc": mu, "variance": v}, parametrization="variance")
    assert score["loc"] == pytest.approx(np.sum(x - mu) / v, rel=1e-13)
    assert score["variance"] == pytest.approx(-n / (2 * v) + np.sum((x - mu) ** 2) / (2 * v**2), rel=1e-13)


def test_observed_information_away_from_the_mle_includes_the_score_term():
    # -d2l/d(v)^2 = -n/(2 v^2) + sum (x - mu)^2 / v^3; the Jacobian change of variables alone would miss the score term
    r = mm.fit("normal", COURSE)
    x = np.array(COURSE)
    n, mu, v = x.size, 2.6, 0.5
    info = r.information(parametrization="variance", params={"loc": mu, "variance": v})
    ss = np.sum((x - mu) ** 2)
    closed = np.array([[n / v, np.sum(x - mu) / v**2], [np.sum(x - mu) / v**2, -n / (2 * v**2) + ss / v**3]])
    assert np.allclose(info, closed, rtol=1e-12)
    in_scale = r.information(params={"loc": mu, "scale": math.sqrt(v)})
    jac = np.diag([1.0, 1 / (2 * math.sqrt(v))])  # d(loc, scale) / d(loc, variance)
    assert not np.allclose(jac.T @ in_scale @ jac, info, rtol=1e-3)


def test_expected_information_transforms_with_the_jacobian_at_any_point():
    r = mm.fit("normal", COURSE)
    mu, s = 2.0, 0.7
    in_scale = r.information("expected", params={"loc": mu, "scale": s})
    in_var = r.information("expected", parametrization="variance", params={"loc": mu, "variance": s * s})
    jac = np.diag([1.0, 1 / (2 * s)])
    assert np.allclose(jac.T @ in_scale @ jac, in_var, rtol=1e-12)
    in_precision = r.information("expected", parametrization="precision", params={"loc": mu, "precision": 1 / s**2})
    jac = np.diag([1.0, -0.5 * s**3])  # d scale / d precision
    assert np.allclose(jac.T @ in_scale @ jac, in_precision, rtol=1e-12)


# ------------------------------------------------------------------------------------------ closed forms, table-driven
def _t_information(df, scale):
    nu, s = df, scale
    i_nn = 0.25 * (trigamma(nu / 2) - trigamma((nu + 1) / 2)) - (nu + 5) / (2 * nu * (nu + 1) * (nu + 3))
    i_ns = -2 / (s * (nu + 1) * (nu + 3))
    return np.array([[i_nn, 0, i_ns], [0, (nu + 1) / ((nu + 3) * s**2), 0], [i_ns, 0, 2 * nu / ((nu + 3) * s**2)]])


CLOSED_FORMS = [
    # family, data, fixed, evaluation point, parametrization, per-observation information
    ("normal", [0.3, -1.2, 2.2, 0.8], None, {"loc": 0.4, "scale": 1.3}, None, lambda p: np.diag([1 / 1.3**2, 2 / 1.3**2])),
    ("bernoulli", [1, 0, 1, 1, 0, 1], None, {"probs": 0.3}, None, lambda p: np.array([[1 / (0.3 * 0.7)]])),
    ("bernoulli", [1, 0, 1, 1, 0, 1], None, {"logits": math.log(0.3 / 0.7)}, "logits", lambda p: np.array([[0.3 * 0.7]])),
    ("binomial", [3, 5, 2, 7], {"total_count": 10}, {"probs": 0.35}, None, lambda p: np.array([[10 / (0.35 * 0.65)]])),
    ("poisson", [1, 4, 2, 0, 3], None, {"rate": 2.5}, None, lambda p: np.array([[1 / 2.5]])),
    ("poisson", [1, 4, 2, 0, 3], None, {"rate": 60.0}, None, lambda p: np.array([[1 / 60.0]])),
    ("exponential", [0.5, 1.7, 0.2, 3.1], None, {"rate": 0.8}, None, lambda p: np.array([[1 / 0.64]])),
    ("geometric", [0, 3, 1, 5, 2], None, {"probs": 0.3}, None, lambda p: np.array([[1 / (0.09 * 0.7)]])),
    ("gamma", [0.5, 1.7, 0.2, 3.1, 2.2], None, {"concentration": 1.7, "rate": 0.9}, None,
     lambda p: np.array([[trigamma(1.7), -1 / 0.9], [-1 / 0.9, 1.7 / 0.81]])),
    ("laplace", [0.5, 1.7, -0.2, 3.1, 2.2], None, {"loc": 1.0, "scale": 0.6}, None, lambda p: np.eye(2) / 0.36),
    ("studentt", [0.5, 1.7, -0.2, 3.1, 2.2, -4.0], None, {"df": 3.5, "loc": 0.2, "scale": 1.4}, None,
     lambda p: _t_information(3.5, 1.4)),
    ("beta", [0.2, 0.5, 0.9, 0.4], None, {"concentration1": 0.7, "concentration0": 2.5}, None,
     lambda p: np.array([[trigamma(0.7) - trigamma(3.2), -trigamma(3.2)], [-trigamma(3.2), trigamma(2.5) - trigamma(3.2)]])),
    ("pareto", [1.2, 1.5, 3.0, 2.2], {"scale": 1.0}, {"alpha": 1.8}, None, lambda p: np.array([[1 / 1.8**2]])),
]


@pytest.mark.parametrize("family, data, fixed, point, parametrization, per_obs", CLOSED_FORMS,
                         ids=[f"{c[0]}-{c[4] or 'natural'}-{i}" for i, c in enumerate(CLOSED_FORMS)])
def test_expected_information_matches_the_closed_form(family, data, fixed, point, parametrization, per_obs):
    r = mm.fit(family, data, fixed=fixed)
    got = r.information("expected", parametrization=parametrization, params=point)
    assert np.allclose(got, len(data) * per_obs(point), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("family, data, fixed, parametrization", [
    ("normal", [0.3, -1.2, 2.2, 0.8, 1.1], None, None),
    ("normal", [0.3, -1.2, 2.2, 0.8, 1.1], None, "variance"),
    ("gamma", [0.5, 1.7, 0.2, 3.1, 2.2], None, None),
    ("studentt", [0.5, 1.7, -0.2, 3.1, 2.2, -4.0, 0.9], None, None),
    ("bernoulli", [1, 0, 1, 1, 0, 1], None, "logits"),
    ("weibull", [0.5, 1.7, 0.2, 3.1, 2.2], None, None),
    ("negative_binomial", [0, 3, 1, 5, 2, 9], {"total_count": 2.5}, None),
])
def test_score_and_observed_information_against_finite_differences(family, data, fixed, parametrization):
    r = mm.fit(family, data, fixed=fixed)
    names = labels(r, parametrization)
    est = r.score(parametrization=parametrization)  # only to know the coordinates' values below
    assert list(est) == names
    from mlemap.inference.information import coordinates

    blocks = coordinates(r, parametrization)
    at_estimate = np.array([float(b.from_base(torch.tensor(r.params[b.base], dtype=torch.float64))) for b in blocks])
    point = at_estimate * 1.07 + 0.01  # away from the maximum: the score is not zero there

    def loglik(phi):
        natural = {b.base: float(b.to_base(torch.tensor(v, dtype=torch.float64))) for b, v in zip(blocks, phi)}
        return r.log_likelihood_at(**natural)

    given = dict(zip(names, point))
    score = np.array(list(r.score(given, parametrization=parametrization).values()))
    assert np.allclose(score, fd_gradient(loglik, point), rtol=1e-7, atol=1e-8)
    info = r.information("observed", parametrization=parametrization, params=given)
    assert np.allclose(info, -fd_hessian(loglik, point), rtol=1e-6, atol=1e-7)


def test_expected_equals_observed_at_the_mle_of_an_exponential_family_in_natural_statistics():
    x = np.random.default_rng(5).gamma(2.0, 1.5, 80)
    r = mm.fit("gamma", x)
    assert np.allclose(r.information("expected"), r.information("observed"), rtol=1e-9)


def test_frequency_weights_count_as_repeated_observations():
    x = np.array([0.3, -1.2, 2.2, 0.8])
    w = np.array([1, 3, 2, 1])
    weighted = mm.fit("normal", x, weights=w)
    repeated = mm.fit("normal", np.repeat(x, w))
    for kind in ("observed", "expected"):
        assert np.allclose(weighted.information(kind), repeated.information(kind), rtol=1e-12)
    assert np.allclose(list(weighted.score({"loc": 0.0}).values()), list(repeated.score({"loc": 0.0}).values()), rtol=1e-12)


def test_a_map_fit_reports_the_likelihoods_information_at_the_map():
    x = [1, 1, 1, 0, 1]
    prior = torch.distributions.Beta(torch.tensor(2.0, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))
    r = mm.fit("bernoulli", x, prior={"probs": prior})
    p = r.params["probs"]  # (4 + 1) / (5 + 2)
    assert r.information()[0, 0] == pytest.approx(4 / p**2 + 1 / (1 - p) ** 2, rel=1e-12)
    assert r.information("expected")[0, 0] == pytest.approx(5 / (p * (1 - p)), rel=1e-10)
    # the log-likelihood's score at the MAP balances the log-prior's: d/dp log Beta(2,2) = 1/p - 1/(1-p)
    assert r.score()["probs"] == pytest.approx(-(1 / p - 1 / (1 - p)), rel=1e-12)


def test_fixed_parameters_are_not_coordinates():
    r = mm.fit("normal", COURSE, fixed={"scale": 0.5})
    assert labels(r) == ["loc"]
    assert r.information()[0, 0] == pytest.approx(len(COURSE) / 0.25, rel=1e-13)


def test_a_vector_parameter_is_flattened():
    x = np.random.default_rng(2).normal(size=(40, 2))
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    r = mm.fit("multivariate_normal", x, fixed={"covariance_matrix": cov})
    assert labels(r) == ["loc[0]", "loc[1]"]
    assert np.allclose(r.information(), 40 * np.linalg.inv(cov), rtol=1e-12)


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, error, words", [
    (lambda r: r.information(kind="fisher"), MethodError, "'observed' or 'expected'"),
    (lambda r: r.information(parametrization="log_variance"), ParameterError, "'variance' for 'scale'"),
    (lambda r: r.information(parametrization={"rate": "variance"}), ParameterError, "not an estimated parameter"),
    (lambda r: r.information(parametrization=3), ParameterError, "mapping"),
    (lambda r: r.score({"variance": 1.0}), ParameterError, "coordinates are loc, scale"),
    (lambda r: r.score({"loc": [1.0, 2.0]}), ParameterError, "shape"),
])
def test_bad_arguments_say_what_and_how(call, error, words):
    r = mm.fit("normal", COURSE)
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        call(r)


def test_observed_information_of_a_kinked_likelihood_points_to_the_expected():
    r = mm.fit("laplace", [0.5, 1.7, -0.2, 3.1, 2.2])
    with pytest.raises(MethodError, match="kind='expected'"):
        r.information("observed")


@pytest.mark.parametrize("family, names", [("uniform", "'low', 'high'"), ("pareto", "'scale'")])
def test_parameters_that_bound_the_support_are_refused_with_the_way_out(family, names):
    r = mm.fit(family, [1.2, 1.5, 3.0, 2.2])
    with pytest.raises(MethodError, match=f"{names} of the {family} family bound.*fixed="):
        r.information("expected")


def test_simplex_parameters_are_refused_with_the_way_out():
    r = mm.fit("categorical", [0, 1, 2, 1, 1, 0])
    with pytest.raises(MethodError, match="simplex"):
        r.information()


def test_expected_information_of_a_multivariate_family_points_to_the_observed():
    x = np.random.default_rng(3).normal(size=(30, 2))
    r = mm.fit("multivariate_normal", x, fixed={"covariance_matrix": np.eye(2)})
    with pytest.raises(MethodError, match="kind='observed'"):
        r.information("expected")

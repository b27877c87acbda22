"""Bad input raises a typed mlemap error whose message names the argument, the problem and the fix."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import torch.distributions as td

import mlemap as mm

# (id, call, error type, fragments the message must contain)
CASES = [
    ("empty-list", lambda: mm.fit("normal", []), mm.DataError, ["'data'", "empty", "at least one"]),
    ("max-iter-bool", lambda: mm.fit("normal", [1.0, 2.0, 4.0], max_iter=True), mm.MethodError, ["'max_iter'", "positive integer"]),
    ("empty-array", lambda: mm.fit("poisson", np.array([])), mm.DataError, ["empty"]),
    ("nan", lambda: mm.fit("normal", [1.0, math.nan, 2.0]), mm.DataError, ["non-finite", "index 1", "Remove or impute"]),
    ("inf", lambda: mm.fit("normal", [1.0, 2.0, math.inf]), mm.DataError, ["non-finite", "index 2"]),
    ("bernoulli-1.5", lambda: mm.fit("bernoulli", [0, 1, 1.5, 1]), mm.SupportError,
     ["'bernoulli'", "{0, 1}", "1 value(s)", "1.5", "row 2", "Code outcomes as 0"]),
    ("poisson-negative", lambda: mm.fit("poisson", [3, -1, 2, -4]), mm.SupportError,
     ["'poisson'", "2 value(s)", "-1", "row 1", "0 or more"]),
    ("poisson-fraction", lambda: mm.fit("poisson", [3, 1.5]), mm.SupportError, ["1.5", "whole-number"]),
    ("lognormal-zero", lambda: mm.fit("lognormal", [1.0, 0.0, 2.0]), mm.SupportError,
     ["'lognormal'", "0.0", "row 1", "strictly positive"]),
    ("gamma-negative", lambda: mm.fit("gamma", [1.0, -2.0]), mm.SupportError, ["'gamma'", "-2.0"]),
    ("beta-one", lambda: mm.fit("beta", [0.2, 1.0]), mm.SupportError, ["strictly inside (0, 1)"]),
    ("binomial-above-n", lambda: mm.fit("binomial", [3, 11], fixed={"total_count": 10}), mm.SupportError,
     ["between 0 and total_count"]),
    ("dirichlet-row-sum", lambda: mm.fit("dirichlet", [[0.2, 0.3], [0.5, 0.5]]), mm.SupportError, ["sum to 1", "row 0"]),
    ("matrix-for-univariate", lambda: mm.fit("normal", np.ones((5, 3))), mm.ShapeError,
     ["must be 1-D", "(5, 3)", "multivariate family"]),
    ("vector-for-mvn", lambda: mm.fit("multivariate_normal", [1.0, 2.0, 3.0]), mm.ShapeError, ["must be 2-D"]),
    ("scalar-data", lambda: mm.fit("normal", 3.0), mm.ShapeError, ["single number", "[3.0]"]),
    ("string-data", lambda: mm.fit("normal", ["a", "b"]), mm.DataError, ["numbers only", "'a'", "categorical"]),
    ("dict-data", lambda: mm.fit("normal", {"a": 1}), mm.DataError, ["array-like", "dict"]),
    ("unknown-family", lambda: mm.fit("gausian", [1.0, 2.0]), mm.FamilyError,
     ["Unknown family 'gausian'", "Did you mean 'gaussian'", "normal", "studentt", "dirichlet"]),
    ("family-instance", lambda: mm.fit(td.Normal(0.0, 1.0), [1.0, 2.0]), mm.FamilyError, ["pass the class", "td.Normal"]),
    ("family-number", lambda: mm.fit(3, [1.0, 2.0]), mm.FamilyError, ["family name", "int"]),
    ("unknown-fixed", lambda: mm.fit("normal", [1.0, 2.0], fixed={"sigma": 1.0}), mm.ParameterError,
     ["'fixed'", "'sigma'", "not a parameter", "'loc'", "'scale'"]),
    ("unknown-prior-key", lambda: mm.fit("bernoulli", [1, 0], prior={"p": td.Beta(2.0, 2.0)}), mm.ParameterError,
     ["'prior'", "'p'", "'probs'"]),
    ("unknown-init", lambda: mm.fit("gamma", [1.0, 2.0], init={"shape": 2.0}), mm.ParameterError,
     ["'init'", "'shape'", "'concentration'"]),
    ("prior-not-covering", lambda: mm.fit("normal", [1.0, 2.0, 4.0], prior={"scale": td.Beta(2.0, 2.0)}), mm.PriorError,
     ["prior on 'scale'", "Beta", "(0, 1)", "does not cover", "(0, inf)"]),
    ("prior-not-distribution", lambda: mm.fit("bernoulli", [1, 0], prior={"probs": 0.5}), mm.PriorError,
     ["torch.distributions", "DiscretePrior", "float"]),
    ("prior-not-dict", lambda: mm.fit("bernoulli", [1, 0], prior=td.Beta(2.0, 2.0)), mm.PriorError, ["dict", "'probs'"]),
    ("prior-and-fixed", lambda: mm.fit("normal", [1.0, 2.0], fixed={"loc": 0.0}, prior={"loc": td.Normal(0.0, 1.0)}),
     mm.PriorError, ["both fixed and given a prior"]),
    ("two-priors-one-param", lambda: mm.fit("normal", [1.0, 2.0, 3.0], fixed={"loc": 0.0},
     prior={"scale": td.Gamma(2.0, 1.0), "variance": td.InverseGamma(2.0, 1.0)}), mm.PriorError, ["Two priors act on 'scale'"]),
    ("prior-wrong-shape", lambda: mm.fit("categorical", [0, 1, 2], prior={"probs": td.Dirichlet(torch.ones(2))}),
     mm.PriorError, ["event shape (2,)", "shape (3,)"]),
    ("prior-on-option", lambda: mm.fit("binomial", [1, 2], fixed={"total_count": 3}, prior={"total_count": td.Gamma(1.0, 1.0)}),
     mm.PriorError, ["known constant"]),
    ("fix-everything", lambda: mm.fit("normal", [1.0, 2.0], fixed={"loc": 0.0, "scale": 1.0}), mm.ParameterError,
     ["Every parameter", "nothing to estimate", "Remove at least one"]),
    ("fixed-outside-space", lambda: mm.fit("normal", [1.0, 2.0], fixed={"scale": -1.0}), mm.ParameterError,
     ["'scale'", "(0, inf)", "-1.0"]),
    ("fixed-wrong-shape", lambda: mm.fit("normal", [1.0, 2.0], fixed={"scale": [1.0, 2.0]}), mm.ParameterError,
     ["shape ()", "(2,)"]),
    ("binomial-without-n", lambda: mm.fit("binomial", [1, 2, 3]), mm.ParameterError,
     ["needs 'total_count'", "number of trials", "fixed={'total_count'"]),
    ("binomial-bad-n", lambda: mm.fit("binomial", [1, 2], fixed={"total_count": 2.5}), mm.ParameterError,
     ["positive whole number"]),
    ("weight-zero", lambda: mm.fit("normal", [1.0, 2.0, 3.0], weights=[1.0, 0.0, 2.0]), mm.WeightsError,
     ["strictly positive", "index 1", "Drop those observations"]),
    ("weight-negative", lambda: mm.fit("poisson", [1, 2, 3], weights=[1.0, 2.0, -1.0]), mm.WeightsError,
     ["strictly positive", "-1.0", "index 2"]),
    ("weight-length", lambda: mm.fit("normal", [1.0, 2.0, 3.0], weights=[1.0, 2.0]), mm.WeightsError,
     ["one weight per observation", "length 3", "(2,)"]),
    ("weight-nan", lambda: mm.fit("normal", [1.0, 2.0], weights=[1.0, math.nan]), mm.WeightsError, ["non-finite"]),
    ("init-outside", lambda: mm.fit("gamma", [1.0, 2.0, 3.0], init={"concentration": -1.0}), mm.ParameterError,
     ["'init'", "'concentration'", "strictly inside"]),
    ("init-for-fixed", lambda: mm.fit("normal", [1.0, 2.0], fixed={"scale": 1.0}, init={"scale": 2.0}), mm.ParameterError,
     ["is fixed"]),
    ("bad-method", lambda: mm.fit("normal", [1.0, 2.0], method="exact"), mm.MethodError, ["'method'", "closed-form", "'exact'"]),
    ("bad-solver", lambda: mm.fit("normal", [1.0, 2.0], solver="adam"), mm.MethodError, ["'solver'", "newton"]),
    ("no-closed-form", lambda: mm.fit("studentt", [1.0, 2.0, 5.0], method="closed-form"), mm.MethodError,
     ["no closed-form", "method='numerical'"]),
    ("all-equal-normal", lambda: mm.fit("normal", [2.0, 2.0, 2.0]), mm.DataError,
     ["All 3 observations are equal", "no maximum", "fixed={'scale'", "prior"]),
    ("singular-mvn", lambda: mm.fit("multivariate_normal", [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), mm.DataError,
     ["rank 1 < 2", "linear combinations"]),
    ("discrete-prior-sum", lambda: mm.DiscretePrior([0.5, 0.8], [0.7, 0.2]), mm.PriorError, ["sum to 1", "0.9"]),
    ("discrete-prior-outside", lambda: mm.fit("bernoulli", [1, 0], prior={"probs": mm.DiscretePrior([0.5, 1.5])}),
     mm.PriorError, ["candidate 1.5", "outside the parameter's space"]),
    ("discrete-prior-duplicate", lambda: mm.DiscretePrior([0.5, 0.5]), mm.PriorError, ["distinct"]),
    ("categorical-unknown-label", lambda: mm.fit(mm.families.Categorical(categories=["a", "b"]), ["a", "c"]),
     mm.SupportError, ["'c'", "row 1", "not one of the categories"]),
    ("custom-needs-init", lambda: mm.fit(lambda x, a: -(x - a) ** 2, [1.0, 2.0]), mm.ParameterError,
     ["needs a starting value", "'a'"]),
    ("dates", lambda: mm.fit("normal", pd.date_range("2020-01-01", periods=5)), mm.errors.DataTypeError,
     ["'data'", "holds dates", "datetime64", "np.timedelta64(1, 'D')"]),
    ("timedeltas", lambda: mm.fit("exponential", pd.to_timedelta([1, 2, 3], unit="D")), mm.errors.DataTypeError,
     ["'data'", "time differences", "timedelta64"]),
    ("dates-as-labels", lambda: mm.fit("poisson", np.array(["2020-01-01", "2020-01-03"], dtype="datetime64[D]")),
     mm.errors.DataTypeError, ["holds dates"]),
    ("device-unknown", lambda: mm.fit("normal", [1.0, 2.0, 4.0], device="nonsense"), mm.DataError,
     ["'device'", "'nonsense'", "'cpu' or 'cuda'"]),
    ("device-absent", lambda: mm.fit("normal", [1.0, 2.0, 4.0], device="cuda:64"), mm.DataError,
     ["'device'", "'cuda:64'", "device='cpu'"]),
    ("torch-class-without-shapes", lambda: mm.fit(td.LowRankMultivariateNormal, np.ones((4, 2))), mm.ParameterError,
     ["LowRankMultivariateNormal", "'loc' (a vector)", "'cov_factor' (a matrix)", "init={"]),
    ("torch-class-without-option", lambda: mm.fit(td.RelaxedBernoulli, [0.2, 0.7]), mm.ParameterError,
     ["needs 'temperature'", "fixed={'temperature'"]),
    ("torch-class-instance-constraints", lambda: mm.fit(td.Wishart, np.ones((3, 2, 2))), mm.FamilyError,
     ["Wishart", "arg_constraints", "log_prob(x, **params)"]),
    ("categorical-huge-integer-label", lambda: mm.fit("categorical", [2**62, 0]), mm.SupportError,
     ["'categorical'", "row 0", "at most 16,777,216 categories", "np.unique"]),
    ("categorical-huge-float-label", lambda: mm.fit("categorical", [1e300, 0.0]), mm.SupportError,
     ["1e+300", "row 0", "at most 16,777,216"]),
    ("categorical-too-many", lambda: mm.families.Categorical(n_categories=2**40), mm.ParameterError,
     ["'n_categories'", "from 2 to 16,777,216"]),
    ("mvn-near-1e200", lambda: mm.fit("multivariate_normal",
     1e200 * (1 + np.random.default_rng(0).normal(size=(20, 2)))), mm.DataError,
     ["range in column", "overflows float64", "Divide the data by a power of ten"]),
    ("range-beyond-float64-logistic", lambda: mm.fit("logistic", [1e308, -1e308, 1e308]), mm.DataError,
     ["range is beyond 1.8e308", "'logistic'", "Divide the data by a power of ten"]),
    ("range-beyond-float64-normal", lambda: mm.fit("normal", [1e308, -1e308, 5.0]), mm.DataError,
     ["range is beyond 1.8e308", "10**308"]),
    ("range-beyond-float64-uniform", lambda: mm.fit("uniform", [1e308, -1e308, 0.0]), mm.DataError,
     ["beyond 1.8e308", "high - low overflows float64"]),
    ("custom-returns-sum", lambda: mm.fit(lambda x, a: (-(x - a) ** 2).sum(), [1.0, 2.0], init={"a": 0.0}),
     mm.FamilyError, ["single number", "one log-density per observation"]),
]


@pytest.mark.parametrize("call, error, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_typed_error(call, error, fragments):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as info:
            call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_every_error_is_an_mlemap_error_and_a_value_error():
    for name in ["DataError", "SupportError", "ShapeError", "WeightsError", "FamilyError", "ParameterError", "PriorError", "MethodError"]:
        cls = getattr(mm, name)
        assert issubclass(cls, mm.MlemapError)
        assert issubclass(cls, ValueError)


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.conf_int(level=1.5),
        lambda r: r.conf_int(level=0),
        lambda r: r.conf_int(method="sandwich"),
        lambda r: r.credible_interval(),
        lambda r: r.conf_int(params=["loc"]),
        lambda r: r.conf_int(method="bootstrap", nboot=50),
        lambda r: r.conf_int(method="profile", seed=1),
    ],
    ids=["level-above-1", "level-0", "unknown-interval", "credible-on-mle", "wald-takes-no-option",
         "bootstrap-misspelt-option", "profile-foreign-option"],
)
def test_bad_interval_requests(call):
    r = mm.fit("normal", [1.0, 2.0, 4.0, 3.5])
    with pytest.raises(mm.MethodError):
        call(r)


def test_an_unknown_interval_option_is_named_with_the_valid_ones():
    r = mm.fit("normal", [1.0, 2.0, 4.0, 3.5])
    with pytest.raises(mm.MethodError, match=r"method='bootstrap'\) has no option 'nboot'.*takes n_boot, seed"):
        r.conf_int(method="bootstrap", nboot=50)


def test_lrt_rejects_non_results():
    r = mm.fit("normal", [1.0, 2.0, 4.0])
    with pytest.raises(mm.MethodError, match="FitResult"):
        mm.lrt(r, 3.0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this torch build has CUDA")
def test_cuda_on_a_cpu_build_is_a_typed_error():
    with pytest.raises(mm.DataError, match="this torch build has no cuda support .available: cpu"):
        mm.fit("normal", [1.0, 2.0, 4.0], device="cuda")


def test_an_unknown_constructor_argument_is_a_type_error_as_in_python():
    assert issubclass(mm.ArgumentError, TypeError) and issubclass(mm.ArgumentError, mm.ParameterError)

"""The public fit() API: one result type for every route, families given every way, weights, dtypes."""

import json
import math

import numpy as np
import pytest
import scipy.stats as st
import torch
import torch.distributions as td
from reference import polished_minimum

import mlemap as mm

T_DATA = st.t.rvs(5.0, 1.0, 2.0, size=400, random_state=np.random.default_rng(7))
GAMMA_DATA = st.gamma.rvs(3.0, scale=0.5, size=400, random_state=np.random.default_rng(8))


def test_result_type_and_fields_are_the_same_for_every_route():
    closed = mm.fit("bernoulli", [1, 1, 0, 1, 0, 0, 1, 1, 0, 1])
    numerical = mm.fit("studentt", T_DATA)
    discrete = mm.fit("bernoulli", [1, 0, 1], prior={"probs": mm.DiscretePrior([0.3, 0.6])})
    for r, method in ((closed, "closed-form"), (numerical, "numerical"), (discrete, "discrete-prior")):
        assert isinstance(r, mm.FitResult)
        assert r.method == method
        for attr in ("params", "se", "loglik", "aic", "bic", "n", "k", "converged", "boundary"):
            getattr(r, attr)
        assert set(r.conf_int()) == set(r.params)
        assert "parameter" in str(r.summary())


def test_scalar_parameters_are_floats_and_vectors_are_arrays():
    r = mm.fit("categorical", [0, 1, 2, 2, 1, 2])
    assert isinstance(r.params["probs"], np.ndarray) and r.params["probs"].shape == (3,)
    assert isinstance(r.se["probs"], np.ndarray)
    r = mm.fit("normal", [1.0, 2.0, 4.0])
    assert type(r.params["loc"]) is float and type(r.se["scale"]) is float


def test_information_criteria_follow_their_definitions():
    r = mm.fit("gamma", GAMMA_DATA)
    ll = st.gamma.logpdf(GAMMA_DATA, r.params["concentration"], scale=1 / r.params["rate"]).sum()
    assert r.loglik == pytest.approx(ll, rel=1e-12)
    assert r.k == 2 and r.n == 400
    assert r.aic == pytest.approx(2 * 2 - 2 * ll, rel=1e-12)
    assert r.bic == pytest.approx(2 * math.log(400) - 2 * ll, rel=1e-12)


@pytest.mark.parametrize("spec", ["gamma", td.Gamma, mm.families.Gamma, mm.families.Gamma()], ids=["name", "torch-class", "family-class", "family-instance"])
def test_a_family_can_be_given_by_name_torch_class_or_instance(spec):
    r = mm.fit(spec, GAMMA_DATA)
    ref = st.gamma.fit(GAMMA_DATA, floc=0)
    assert r.params["concentration"] == pytest.approx(ref[0], rel=1e-5)


def test_aliases_and_spelling_variants_resolve():
    for name in ["Gaussian", "student-t", "Student_T", "half-normal", "MVN", "nbinom"]:
        mm.families.resolve_family(name)


def test_a_torch_class_without_a_registered_family_is_fitted_from_its_arg_constraints():
    u = np.random.default_rng(705).random(3000)
    x = (1 - (1 - u) ** (1 / 5.0)) ** (1 / 2.0)  # Kumaraswamy(2, 5) by its inverse CDF
    r = mm.fit(td.Kumaraswamy, x, init={"concentration1": 1.0, "concentration0": 1.0})
    assert r.method == "numerical" and r.converged
    assert r.params["concentration1"] == pytest.approx(2.0, rel=0.15)
    assert r.params["concentration0"] == pytest.approx(5.0, rel=0.25)
    assert np.isfinite(r.se["concentration1"])


def test_any_log_density_with_named_parameters_and_supports():
    def log_logistic(x, alpha, beta):  # log-logistic density with scale alpha and shape beta
        z = x / alpha
        return torch.log(beta) - torch.log(alpha) + (beta - 1) * torch.log(z) - 2 * torch.log1p(z**beta)

    x = st.fisk.rvs(3.0, scale=2.0, size=2000, random_state=np.random.default_rng(700))
    r = mm.fit(log_logistic, x, init={"alpha": 1.0, "beta": 1.0}, support={"alpha": "positive", "beta": "positive"})
    c, _, scale = st.fisk.fit(x, floc=0)  # Nelder-Mead: about 1e-5 from the maximum
    assert r.converged and r.method == "numerical"
    ll_ours = st.fisk.logpdf(x, r.params["beta"], scale=r.params["alpha"]).sum()
    assert ll_ours >= st.fisk.logpdf(x, c, scale=scale).sum() - 1e-9 * abs(ll_ours)
    xt = torch.as_tensor(x)
    exact = np.exp(polished_minimum(lambda t: -log_logistic(xt, *torch.exp(t)).sum(), np.log([scale, c])))
    assert exact[1] == pytest.approx(c, rel=1e-4)
    assert r.params["alpha"] == pytest.approx(exact[0], rel=1e-6)
    assert r.params["beta"] == pytest.approx(exact[1], rel=1e-6)


def test_a_data_dependent_support_edge_is_explained_when_newton_cannot_converge():
    def shifted_exponential(x, a, b):
        return torch.where(x >= a, torch.log(b) - b * (x - a), torch.full_like(x, -math.inf))

    x = 1.5 + np.random.default_rng(701).exponential(0.5, 200)
    with pytest.warns(mm.ConvergenceWarning, match="support edge that depends on the data"):
        r = mm.fit(shifted_exponential, x, init={"a": 0.0, "b": 1.0}, support={"b": "positive"}, max_iter=50)
    assert not r.converged


def test_custom_log_density_matches_the_built_in_family():
    def normal_log_prob(x, loc, scale):
        return -0.5 * ((x - loc) / scale) ** 2 - torch.log(scale) - 0.5 * math.log(2 * math.pi)

    x = np.random.default_rng(702).normal(3.0, 1.5, 300)
    custom = mm.fit(normal_log_prob, x, init={"loc": 0.0, "scale": 1.0}, support={"scale": "positive"})
    builtin = mm.fit("normal", x)
    assert custom.params["loc"] == pytest.approx(builtin.params["loc"], rel=1e-8)
    assert custom.params["scale"] == pytest.approx(builtin.params["scale"], rel=1e-8)
    assert custom.se["loc"] == pytest.approx(builtin.se["loc"], rel=1e-6)


@pytest.mark.parametrize("family, data", [("poisson", [0, 1, 1, 3, 2, 2, 5]), ("normal", [1.2, 0.4, 2.2, 3.1, 0.9])])
def test_integer_weights_equal_duplicated_rows(family, data):
    w = np.array([1, 2, 3, 1, 2, 1, 1][: len(data)])
    weighted = mm.fit(family, data, weights=w)
    expanded = mm.fit(family, np.repeat(data, w))
    for k in weighted.params:
        assert weighted.params[k] == pytest.approx(expanded.params[k], rel=1e-12)
        assert weighted.se[k] == pytest.approx(expanded.se[k], rel=1e-10)
    assert weighted.loglik == pytest.approx(expanded.loglik, rel=1e-12)
    assert weighted.n == expanded.n


def test_float32_is_opt_in_and_float64_is_the_default():
    rng = np.random.default_rng(703)
    x = rng.normal(size=50)
    assert mm.fit("normal", x).estimate.params["loc"].dtype == torch.float64
    r32 = mm.fit("normal", x, dtype="float32")
    assert r32.estimate.params["loc"].dtype == torch.float32
    assert r32.params["loc"] == pytest.approx(x.mean(), rel=1e-5)


def test_inputs_lists_arrays_series_and_tensors_give_the_same_fit():
    pd = pytest.importorskip("pandas")
    x = [0.5, 1.5, 2.5, 1.0, 3.0]
    fits = [mm.fit("exponential", v) for v in (x, np.array(x), pd.Series(x), torch.tensor(x))]
    for r in fits[1:]:
        assert r.params["rate"] == pytest.approx(fits[0].params["rate"], rel=1e-7)


def test_predictive_is_the_plug_in_distribution_without_a_conjugate_prior():
    r = mm.fit("gamma", GAMMA_DATA)
    pred = r.predictive()
    assert isinstance(pred, td.Gamma)
    assert float(pred.concentration) == pytest.approx(r.params["concentration"])


def test_map_result_reports_prior_log_prior_and_posterior():
    prior = td.Gamma(torch.tensor(2.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    r = mm.fit("poisson", [2, 3, 1, 4], prior={"rate": prior})
    assert r.estimator == "MAP"
    assert r.log_prior == pytest.approx(float(prior.log_prob(torch.tensor(r.params["rate"], dtype=torch.float64))))
    assert r.log_posterior == pytest.approx(r.loglik + r.log_prior)
    assert isinstance(r.posterior["rate"], td.Gamma)
    assert r.posterior_kind == {"rate": "exact"}
    pred = r.predictive()
    assert isinstance(pred, td.NegativeBinomial)


def test_laplace_approximation_for_a_non_conjugate_prior():
    prior = td.LogNormal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    r = mm.fit("exponential", [0.5, 1.2, 0.3, 2.2, 0.9], prior={"rate": prior})
    post = r.posterior["rate"]
    assert r.posterior_kind == {"rate": "laplace"}
    assert isinstance(post, td.Normal)
    assert float(post.loc) == pytest.approx(r.params["rate"])
    assert float(post.scale) == pytest.approx(r.se["rate"])


def test_prior_on_the_variance_is_a_density_over_scale_squared():
    rng = np.random.default_rng(704)
    x = rng.normal(0.0, 2.0, 40)
    prior = td.InverseGamma(torch.tensor(3.0, dtype=torch.float64), torch.tensor(4.0, dtype=torch.float64))
    conj = mm.fit("normal", x, fixed={"loc": 0.0}, prior={"variance": prior})
    num = mm.fit("normal", x, fixed={"loc": 0.0}, prior={"variance": prior}, method="numerical")
    a, b = 3.0 + 20, 4.0 + 0.5 * np.sum(x**2)
    assert conj.params["scale"] ** 2 == pytest.approx(b / (a + 1), rel=1e-12)  # inverse-gamma mode
    assert num.params["scale"] == pytest.approx(conj.params["scale"], rel=1e-8)
    assert isinstance(conj.posterior["variance"], td.InverseGamma)
    lo, hi = conj.credible_interval()["variance"]
    assert lo == pytest.approx(st.invgamma.ppf(0.025, a, scale=b), rel=1e-10)
    slo, shi = conj.credible_interval()["scale"]
    assert slo == pytest.approx(math.sqrt(lo)) and shi == pytest.approx(math.sqrt(hi))


def test_summary_renders_as_text_html_json_and_frame():
    r = mm.fit("gamma", GAMMA_DATA)
    text = str(r.summary())
    for fragment in ("gamma", "concentration", "rate", "Log-likelihood", "AIC", "BIC", "95% CI (wald)"):
        assert fragment in text
    assert "<table>" in r.summary().to_html()
    data = json.loads(r.summary().to_json())
    for key in ("family", "estimator", "method", "params", "se", "ci", "loglik", "aic", "bic", "n", "converged", "warnings"):
        assert key in data
    assert data["params"]["rate"] == pytest.approx(r.params["rate"])
    frame = r.summary().to_frame()
    assert list(frame.index) == ["concentration", "rate"]


def test_summary_json_turns_undefined_numbers_into_null():
    with pytest.warns(mm.BoundaryWarning):
        r = mm.fit("bernoulli", [1, 1, 1, 1])
    data = r.to_dict()
    assert data["se"]["probs"] is None
    assert data["boundary"]["probs"]
    json.dumps(data, allow_nan=False)

"""--json: one vocabulary across commands, every key documented in the README."""

import json
from pathlib import Path

import numpy as np
import pytest

import mlemap as mm

from .helpers import run_cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()

RUNS = {
    "fit": ["fit", "@waiting_times", "--family", "gamma"],
    "fit-map": ["fit", "@coin_flips", "--column", "heads", "--family", "bernoulli", "--prior", "probs=beta(2, 2)"],
    "regress": ["regress", "@claims", "--formula", "claims ~ age + C(urban)", "--family", "poisson",
                "--exposure", "exposure"],
    "regress-lasso": ["regress", "@classification", "--formula", "label ~ x1 + x2", "--family", "bernoulli",
                      "--prior", "lasso(0.01)"],
    "regress-ridge": ["regress", "@classification", "--formula", "x1 ~ x2 + label", "--prior", "ridge(10)"],
    "compare": ["compare", "@waiting_times", "--families", "gamma,weibull,beta"],
    "path": ["path", "@classification", "--formula", "label ~ x1 + x2", "--family", "bernoulli", "--n-alphas", "6",
             "--select", "bic"],
}


def payload(name):
    done = run_cli(*RUNS[name], "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", RUNS)
def test_every_key_is_documented_in_the_readme(name):
    got = payload(name)
    nested = {"coefficients": got.get("coefficients", [{}])[0], "candidates": got.get("candidates", [{}])[0],
              "selection": got.get("selection") or {}}
    for key in list(got) + [k for entry in nested.values() for k in entry]:
        assert f"`{key}`" in README, f"{name}: key {key!r} is not documented in README.md"


@pytest.mark.parametrize("name", ["fit", "fit-map", "regress", "regress-lasso", "regress-ridge"])
def test_one_name_for_the_interval_level_and_k_is_an_int(name):
    got = payload(name)
    assert got["ci_level"] == 0.95 and "level" not in got
    assert got["ci_method"] in ("wald", "credible")
    assert type(got["k"]) is int


def test_a_ridge_fit_reports_its_effective_number_of_parameters_too():
    got = payload("regress-ridge")
    assert got["k"] == 4  # two slopes, the intercept and the scale
    assert 3 < got["k_effective"] < 4 and got["aic"] == pytest.approx(2 * got["k_effective"] - 2 * got["loglik"])


def test_compare_candidates_have_int_k_and_the_column_used_is_reported():
    got = payload("compare")
    assert [type(c["k"]) for c in got["candidates"]] == [int, int, type(None)]
    assert got["column"] == "waiting_time"


def test_path_json_includes_the_coefficients():
    got = payload("path")
    data = mm.datasets.load("classification")
    X, y = data[["x1", "x2"]], data["label"].to_numpy()
    ref = mm.regularization_path(X, y, family="bernoulli", penalty="l1", n_alphas=6)
    assert got["features"] == ["x1", "x2"]
    np.testing.assert_allclose(np.array(got["coefs"], dtype=float), ref.coefs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got["intercepts"], ref.intercepts, rtol=1e-10)
    assert np.array(got["coefs"]).shape == (2, 6) and got["n"] == 300

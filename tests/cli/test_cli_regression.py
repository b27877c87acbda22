"""End-to-end tests of ``mlemap regress`` and ``mlemap path`` against the Python API."""

import json

import numpy as np
import pandas as pd
import pytest

import mlemap as mm
from mlemap.formula import regress

from .helpers import run_cli as run


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("reg")
    rng = np.random.default_rng(5)
    n = 300
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "g": rng.choice(["u", "v", "w"], n)})
    eta = 0.3 + 1.2 * frame.x1 - 0.8 * frame.x2 + (frame.g == "v") * 0.5
    frame["y"] = eta + rng.normal(scale=0.7, size=n)
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    frame["count"] = rng.poisson(np.exp(0.2 * eta))
    frame["const"] = 1.0
    path = d / "reg.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_regress_json_matches_the_python_api(table):
    path, frame = table
    out = run("regress", str(path), "--formula", "y ~ x1 + x2 + C(g)", "--family", "gaussian", "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    ref = regress("y ~ x1 + x2 + C(g)", frame, family="gaussian")
    assert got["loglik"] == pytest.approx(ref.loglik_, rel=1e-12)
    assert got["command"] == "regress"


def test_regress_table_with_a_lasso_prior(table):
    path, _ = table
    out = run("regress", str(path), "--formula", "label ~ x1 + x2", "--family", "bernoulli", "--prior", "lasso(0.01)")
    assert out.returncode == 0, out.stderr
    for fragment in ("LogisticRegression", "MAP", "lasso alpha = 0.01", "Laplace(0, b="):
        assert fragment in out.stdout


def test_regress_poisson_with_exposure(table):
    path, frame = table
    frame_e = frame.assign(exposure=np.linspace(0.5, 2.0, len(frame)))
    p = path.parent / "exposure.csv"
    frame_e.to_csv(p, index=False)
    out = run("regress", str(p), "--formula", "count ~ x1", "--family", "poisson", "--exposure", "exposure", "--json")
    assert out.returncode == 0, out.stderr
    ref = regress("count ~ x1", frame_e, family="poisson", exposure="exposure")
    assert json.loads(out.stdout)["loglik"] == pytest.approx(ref.loglik_, rel=1e-10)


def test_path_selects_and_plots(table, tmp_path):
    path, frame = table
    png = tmp_path / "path.png"
    out = run("path", str(path), "--formula", "y ~ x1 + x2 + C(g)", "--family", "gaussian", "--penalty", "l1",
              "--n-alphas", "30", "--select", "bic", "--plot", str(png), "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert len(got["alphas"]) == 30
    assert got["features"] == ["x1", "x2", "C(g)[T.v]", "C(g)[T.w]"]
    d = mm.formula.design("y ~ x1 + x2 + C(g)", frame)
    ref = mm.regularization_path(d.X, d.y, family="gaussian", penalty="l1", n_alphas=30)
    np.testing.assert_allclose(got["alphas"], ref.alphas, rtol=1e-12)
    assert png.exists()


BAD = [
    ("formula-syntax", ["regress", "{p}", "--formula", "y ~ x1 +"], ["does not parse"]),
    ("formula-missing-column", ["regress", "{p}", "--formula", "y ~ x22"], ["'x22'", "not a column", "did you mean 'x2'"]),
    ("constant-target", ["regress", "{p}", "--formula", "const ~ x1"], ["constant", "nothing to regress"]),
    ("not-binary", ["regress", "{p}", "--formula", "count ~ x1", "--family", "bernoulli"], ["0/1"]),
    ("unknown-family", ["regress", "{p}", "--formula", "y ~ x1", "--family", "probit"], ["Unknown regression family"]),
    ("bad-penalty", ["regress", "{p}", "--formula", "y ~ x1", "--prior", "lasso(-1)"], ["'alpha'", "[0, inf)", "-1"]),
    ("bad-l1-ratio", ["path", "{p}", "--formula", "y ~ x1", "--penalty", "elastic_net", "--l1-ratio", "1.5"],
     ["'l1_ratio'", "[0, 1]", "1.5"]),
]


@pytest.mark.parametrize("argv, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_regression_bad_input_exits_2_with_one_line(table, argv, fragments):
    path, _ = table
    out = run(*[a.format(p=path) for a in argv])
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])

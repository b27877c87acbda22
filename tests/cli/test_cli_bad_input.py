"""More bad input on the command line: each exits 2 with one line on standard error (the traceback
only with --debug), whichever command and option it reaches."""

import json

import numpy as np
import pandas as pd
import pytest

from .helpers import run_cli as run


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_input")
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x1": rng.normal(size=40), "x2": rng.normal(size=40), "t": rng.gamma(2.0, 1.0, 40)})
    frame["y"] = frame.x1 - 0.5 * frame.x2 + rng.normal(size=40)
    frame.to_csv(d / "data.csv", index=False)
    (d / "huge.csv").write_text("x\n1e308\n-1e308\n1e308\n")
    return d


BAD = [
    ("range-overflow-normal", ["fit", "{d}/huge.csv", "--family", "normal"], ["range is beyond 1.8e308", "10**308"]),
    ("range-overflow-cauchy", ["fit", "{d}/huge.csv", "--family", "cauchy"], ["range is beyond 1.8e308"]),
    ("range-overflow-logistic", ["fit", "{d}/huge.csv", "--family", "logistic"], ["range is beyond 1.8e308"]),
    ("range-overflow-uniform", ["fit", "{d}/huge.csv", "--family", "uniform"], ["high - low overflows float64"]),
    ("fixed-twice", ["fit", "{d}/data.csv", "--column", "t", "--family", "gamma", "--fixed", "rate=1, rate=2"],
     ["Two fixed values for 'rate'"]),
    ("fixed-twice-repeated", ["fit", "{d}/data.csv", "--column", "t", "--family", "gamma", "--fixed", "rate=1",
                              "--fixed", "rate=2"], ["Two fixed values for 'rate'"]),
    ("fixed-integer-beyond-float64", ["fit", "{d}/data.csv", "--column", "t", "--family", "gamma", "--fixed",
                                      "rate=" + "9" * 400], ["whole number beyond 1.8e308"]),
    ("discrete-prior-unknown-argument", ["fit", "{d}/data.csv", "--column", "t", "--family", "gamma", "--prior",
                                         "rate=discrete(values=[0.2], bogus=1)"], ["use discrete(values, probs)"]),
    ("formula-power-too-large", ["regress", "{d}/data.csv", "--formula", "y ~ (x1 + x2 + t) ** 10"],
     ["3**10 products", "use ** 3"]),
    ("prior-scale-underflows", ["regress", "{d}/data.csv", "--formula", "y ~ x1", "--prior", "normal(0, 1e-200)"],
     ["scale = 1e-200, whose square underflows float64"]),
    ("formula-nan", ["regress", "{d}/data.csv", "--formula", "y ~ log(x1)"], ["'y ~ log(x1)'", "null values"]),
    ("n-alphas-huge", ["path", "{d}/data.csv", "--formula", "y ~ x1 + x2", "--n-alphas", "100000000"],
     ["'n_alphas'", "[1, 10000]"]),
    ("lessons-out-a-file", ["lessons", "--out", "{d}/data.csv", "--only", "coin_mle", "--fast", "--quiet"],
     ["Cannot write the lessons report into", "Not a directory"]),
    ("explore-out-a-file", ["explore", "--out", "{d}/data.csv"], ["Cannot write the explorer page into"]),
]


@pytest.mark.parametrize("argv, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_exits_2_with_one_line(folder, argv, fragments):
    out = run(*[a.format(d=folder) for a in argv])
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlemap: error: ") and "Traceback" not in out.stderr, out.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert out.stdout == ""


@pytest.mark.parametrize("argv", [BAD[0][1], BAD[4][1], BAD[6][1]], ids=["data", "spec", "prior"])
def test_debug_adds_the_traceback(folder, argv):
    out = run(*[a.format(d=folder) for a in argv], "--debug")
    assert out.returncode == 2
    assert "Traceback (most recent call last)" in out.stderr and out.stderr.rstrip().splitlines()[-1].startswith("mlemap: error: ")


def test_a_prior_wider_than_1e154_is_flat(folder):
    # normal(0, 1e300) is parsed in float64: its precision underflows to 0, so the MAP is least squares
    out = run("regress", str(folder / "data.csv"), "--formula", "y ~ x1 + x2", "--prior", "normal(0, 1e300)", "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    frame = pd.read_csv(folder / "data.csv")
    design = np.column_stack([np.ones(len(frame)), frame.x1, frame.x2])
    exact = np.linalg.lstsq(design, frame.y, rcond=None)[0]
    estimates = {c["label"]: c["estimate"] for c in got["coefficients"]}
    np.testing.assert_allclose([estimates["intercept"], estimates["x1"], estimates["x2"]], exact, rtol=1e-10)

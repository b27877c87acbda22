"""Every command reads well at 80 and 120 columns: no line wider than the terminal, no number cut
with an ellipsis, no trailing spaces; --json does not depend on the width."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from rich.cells import cell_len

from .helpers import run_cli

WIDTHS = (80, 120)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("width")
    rng = np.random.default_rng(11)
    n = 200
    frame = pd.DataFrame({"a_rather_long_feature_name": rng.normal(size=n), "x2": rng.normal(size=n),
                          "group": rng.choice(["north", "south", "east"], n)})
    eta = 0.4 + 1.1 * frame.a_rather_long_feature_name - 0.7 * frame.x2
    frame["y"] = eta + rng.normal(scale=0.5, size=n)
    frame["flag"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    frame["count"] = rng.poisson(np.exp(0.3 * eta))
    frame["v1"], frame["v2"] = rng.normal(size=n), rng.normal(size=n) + 3
    path = d / "table.csv"
    frame.to_csv(path, index=False)
    return str(path)


COMMANDS = {
    "fit": ["fit", "@waiting_times", "--family", "gamma"],
    "fit-map": ["fit", "@coin_flips", "--column", "heads", "--family", "bernoulli", "--prior", "probs=beta(2, 2)"],
    "fit-fixed": ["fit", "{d}", "--column", "y", "--family", "studentt", "--fixed", "df=4"],
    "fit-categorical": ["fit", "{d}", "--column", "group", "--family", "categorical"],
    "fit-multivariate": ["fit", "{d}", "--column", "v1,v2", "--family", "multivariate_normal"],
    "compare-continuous": ["compare", "@waiting_times", "--families",
                           "gamma,weibull,lognormal,exponential,normal,beta,pareto"],
    "compare-discrete": ["compare", "{d}", "--column", "count"],
    "regress": ["regress", "@claims", "--formula", "claims ~ age + C(urban)", "--family", "poisson",
                "--exposure", "exposure"],
    "regress-lasso": ["regress", "{d}", "--formula", "flag ~ a_rather_long_feature_name + x2 + C(group)",
                      "--family", "bernoulli", "--prior", "lasso(0.01)"],
    "regress-softmax": ["regress", "{d}", "--formula", "group ~ a_rather_long_feature_name + x2",
                        "--family", "categorical"],
    "path": ["path", "@classification", "--formula", "label ~ x1 + x2", "--family", "bernoulli", "--n-alphas", "8",
             "--select", "cv"],
    "families": ["families"],
    "tour": ["tour"],
}
NUMBER_CUT = re.compile(r"[0-9.]…|…[0-9.]")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_fits_the_width_without_cutting_numbers(data, name, width):
    done = run_cli(*[a.format(d=data) for a in COMMANDS[name]], columns=width)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines
    for line in lines:
        assert cell_len(line) <= width, f"{cell_len(line)} > {width}: {line!r}"
        assert line == line.rstrip(), f"trailing spaces: {line!r}"
        assert not NUMBER_CUT.search(line), f"a number is cut: {line!r}"
        assert "…" not in line, line


def test_optional_columns_are_left_out_by_name_not_cut():
    narrow = run_cli(*COMMANDS["compare-continuous"], columns=80).stdout
    wide = run_cli(*COMMANDS["compare-continuous"], columns=120).stdout
    assert "not shown at 80 columns: KS, AD" in narrow
    assert " KS " in wide and "not shown" not in wide
    for family in ("gamma", "weibull", "lognormal", "exponential", "normal", "beta", "pareto"):
        assert family in narrow


@pytest.mark.parametrize("name", ["fit", "compare-discrete", "regress", "path"])
def test_json_does_not_depend_on_the_width(data, name):
    argv = [a.format(d=data) for a in COMMANDS[name]] + ["--json"]
    narrow, wide = (run_cli(*argv, columns=w) for w in WIDTHS)
    assert narrow.stdout == wide.stdout
    assert narrow.stdout.count("\n") == 1
    json.loads(narrow.stdout)

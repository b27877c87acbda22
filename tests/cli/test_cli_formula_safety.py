"""The command line refuses formula injections and malformed prior/fixed specs with exit status 2 and
one line on standard error, names the option at fault, and never runs code from a formula."""

import contextlib
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mlemap.cli.main import main

pytest.importorskip("formulaic")


def cli(capsys, *argv):
    """``mlemap ARGV`` in this process: (exit status, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def refused(capsys, *argv) -> str:
    code, out, err = cli(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlemap: error: "), err
    assert "Traceback" not in err and out == ""
    return lines[0]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(8)
    n = 60
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "g": rng.choice(["a", "b"], n),
                          "exposure": rng.uniform(0.5, 2.0, n)})
    frame["y"] = frame.x1 + rng.normal(size=n)
    frame["count"] = rng.poisson(np.exp(0.3 * frame.x1))
    path = tmp_path_factory.mktemp("formula") / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


INJECTIONS = [
    ("y ~ . + I(__import__('os').system('touch pwned') + x1)", "'__import__'"),
    ("y ~ x1 + I(__import__('os').system('touch M').bit_length())", "'__import__'"),
    ("y ~ I(x1 + 0*len(open('FILE','w').write('')))", "'len'"),
    ("y ~ I(x1.__class__)", "attribute access"),
    ("y ~ I(x1[0])", "subscripts"),
    ("y ~ x1 + open('FILE', 'w')", "'open'"),
]


@pytest.mark.parametrize("command", ["regress", "path"])
@pytest.mark.parametrize("formula, fragment", INJECTIONS, ids=[f"injection{i}" for i in range(len(INJECTIONS))])
def test_formula_injections_exit_2_and_write_nothing(capsys, table, tmp_path, command, formula, fragment):
    with contextlib.chdir(tmp_path):
        line = refused(capsys, command, table, "--formula", formula)
    assert os.listdir(tmp_path) == []
    assert fragment in line and "at character" in line


def test_there_is_no_unsafe_formula_option(capsys, table):
    line = refused(capsys, "regress", table, "--formula", "y ~ x1", "--unsafe-formula")
    assert "unrecognized arguments" in line


def test_formula_model_on_the_command_line_still_works(capsys, table):
    code, out, err = cli(capsys, "regress", table, "--formula", "y ~ x1 + C(g) + I(x2 ** 2)", "--json", "--quiet")
    assert code == 0, err
    assert '"I(x2 ** 2)"' in out and '"C(g)[T.b]"' in out


@pytest.mark.parametrize("option", ["--exposure", "--offset", "--weights"])
def test_an_unknown_column_is_blamed_on_its_own_option(capsys, table, option):
    line = refused(capsys, "regress", table, "--formula", "count ~ x1", "--family", "poisson", option, "nope")
    assert f"No column 'nope' (from {option})" in line


def test_path_blames_weights(capsys, table):
    line = refused(capsys, "path", table, "--formula", "y ~ x1 + x2", "--weights", "nope")
    assert "(from --weights)" in line


SPECS = [
    (["fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma",
      "--prior", "concentration=gamma(" + "-" * 5000 + "1, 1)"], "deeper than 16 levels"),
    (["fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma",
      "--prior", "concentration=gamma(" + "-" * 100_000 + "1, 1)"], "the limit is 10000"),
    (["fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma",
      "--fixed", "rate=" + "-" * 5000 + "1"], "deeper than 16 levels"),
    (["fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma",
      "--fixed", "rate=" + "+".join(["1"] * 3000)], "deeper than 16 levels"),
    (["fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma",
      "--prior", "rate=gamma(" + "[" * 2000 + "1" + "]" * 2000 + ", 1)"], "deeper than 16 levels"),
    (["fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma",
      "--prior", "rate=gamma(2, rate=1, rate=2)"], "'rate' is given twice"),
    (["fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma",
      "--prior", "rate=gamma(2, 1, concentration=3)"], "'concentration' is given twice"),
    (["fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma",
      "--prior", "concentration=gamma(1e999, 1)"], "concentration = inf is not finite"),
    (["regress", "@claims", "--formula", "claims ~ age", "--family", "poisson",
      "--prior", "lasso(alpha=1, alpha=2)"], "'alpha' is given twice"),
    (["regress", "@claims", "--formula", "claims ~ age", "--family", "poisson",
      "--prior", "normal(0, 1e999)"], "scale = inf is not finite"),
    (["regress", "@claims", "--formula", "claims ~ age", "--family", "poisson",
      "--prior", "lasso(" + "-" * 100_000 + "1)"], "the limit is 10000"),
]


@pytest.mark.parametrize("argv, fragment", SPECS, ids=[f"spec{i}" for i in range(len(SPECS))])
def test_bad_specs_exit_2_with_one_line(capsys, argv, fragment):
    line = refused(capsys, *argv)
    assert fragment in line, line
    assert "starting" not in line and len(line) < 400


def test_marker_file_never_appears_from_a_real_process(table, tmp_path):
    """The entry point in a child process, on the issue's '.' injection (once evaluated unrestricted)."""
    formula = "y ~ . + I(__import__('os').system('touch pwned') + x1)"
    out = subprocess.run([sys.executable, "-m", "mlemap", "regress", table, "--formula", formula],
                         capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "120"}, timeout=120)
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "'__import__'" in out.stderr
    assert os.listdir(tmp_path) == []

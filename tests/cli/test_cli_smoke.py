"""A few runs of the installed ``mlemap`` command as real processes: the entry point, standard
input from a pipe, start-up without heavy imports, and a clean standard error (``python -m mlemap``
runs as a process in tests/cli/test_cli_formula_safety.py). Everything else about the
command line is tested in-process (tests/cli/test_cli.py).

``PYTHONPROFILEIMPORTTIME=1`` makes the process list every module it imports on standard error
(lines ``import time: ... | name``), which shows what a command loads.
"""

import json

import numpy as np
import pytest

from .helpers import EXE, run_process

pytestmark = pytest.mark.skipif(EXE is None, reason="the mlemap command is not installed")

HEAVY = {"torch", "pandas", "scipy.stats", "sklearn", "matplotlib", "formulaic"}


def run_listing_imports(*args, stdin=None):
    """The installed command's result, its standard error without the import lines, and the heavy
    modules it imported."""
    done = run_process(*args, stdin=stdin, env={"PYTHONPROFILEIMPORTTIME": "1"})
    lines = done.stderr.splitlines()
    imported = {line.split("|")[2].strip() for line in lines if line.startswith("import time:") and line.count("|") == 2}
    stderr = "\n".join(line for line in lines if not line.startswith("import time:"))
    return done, stderr, imported & HEAVY


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("smoke") / "small.csv"
    x = np.random.default_rng(0).gamma(2.0, 1.5, 300)
    np.savetxt(path, x, header="x", comments="", fmt="%.10g")
    return path


def test_a_small_fit_from_a_pipe_prints_clean_lines_and_imports_torch_but_not_pandas_scipy_stats_or_sklearn(small_csv):
    done, stderr, imported = run_listing_imports("fit", "-", "--family", "gamma", stdin=small_csv.read_text())
    assert done.returncode == 0, stderr
    assert "concentration" in done.stdout and "300" in done.stdout and stderr == ""
    assert all(line == line.rstrip() for line in done.stdout.splitlines())
    assert imported == {"torch"}


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["families"], ["fit", "--help"]])
def test_help_version_and_families_import_no_torch(argv):
    done, stderr, imported = run_listing_imports(*argv)
    assert done.returncode == 0 and stderr == ""
    assert imported == set()


def test_a_usage_error_exits_2_with_one_line_on_stderr(small_csv):
    done = run_process("fit", str(small_csv), "--column", "x")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("mlemap: error: ") and "--family" in done.stderr


def test_a_quiet_json_run_writes_nothing_to_stderr_and_a_path_loads_no_scikit_learn_or_scipy_stats():
    # weights read from a file are read-only NumPy views, which torch warns about (once per process)
    done, stderr, imported = run_listing_imports("path", "@claims", "--formula", "claims ~ age + urban", "--family",
                                                 "poisson", "--weights", "exposure", "--n-alphas", "5", "--quiet", "--json")
    assert done.returncode == 0, stderr
    assert stderr == ""
    assert len(json.loads(done.stdout)["alphas"]) == 5
    assert imported == {"torch", "pandas", "formulaic"}

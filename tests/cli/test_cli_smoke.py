"""A few runs of the installed ``mlemap`` command as real processes: the entry point, standard
input, start-up without heavy imports, and a clean standard error. Everything else about the
command line is tested in-process (tests/cli/test_cli.py)."""

import json

import numpy as np
import pytest

from .helpers import EXE, run_process

pytestmark = pytest.mark.skipif(EXE is None, reason="the mlemap command is not installed")

#: runs ``main(argv)`` and reports, on the last line of standard error, which heavy modules it imported
PROBE = """
import sys
from mlemap.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = ("torch", "pandas", "scipy.stats", "sklearn", "matplotlib", "formulaic")
print("imported:", ",".join(m for m in heavy if m in sys.modules), file=sys.stderr)
"""


def imported(*args) -> set[str]:
    done = run_process("-c", PROBE, *args, python=True)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("imported:"), done.stderr
    return {m for m in last.split(":", 1)[1].strip().split(",") if m}


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("smoke") / "small.csv"
    x = np.random.default_rng(0).gamma(2.0, 1.5, 300)
    np.savetxt(path, x, header="x", comments="", fmt="%.10g")
    return path


def test_the_installed_command_fits_a_shipped_data_set():
    done = run_process("fit", "@waiting_times", "--family", "gamma")
    assert done.returncode == 0, done.stderr
    assert "concentration" in done.stdout and done.stderr == ""
    assert all(line == line.rstrip() for line in done.stdout.splitlines())


def test_standard_input_and_python_dash_m():
    csv = "count\n" + "\n".join(str(v) for v in [3, 1, 4, 1, 5, 9, 2, 6]) + "\n"
    done = run_process("fit", "-", "--column", "count", "--family", "poisson", "--json", stdin=csv)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["params"]["rate"] == pytest.approx(31 / 8, rel=1e-12)
    version = run_process("-m", "mlemap", "--version", python=True)
    assert version.returncode == 0 and version.stdout.startswith("mlemap ")


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["families"], ["fit", "--help"]])
def test_help_version_and_families_import_no_torch(argv):
    assert imported(*argv) == set()


def test_a_small_fit_imports_torch_but_not_pandas_scipy_stats_or_sklearn(small_csv):
    assert imported("fit", str(small_csv), "--column", "x", "--family", "gamma") == {"torch"}


def test_a_usage_error_exits_2_with_one_line_on_stderr(small_csv):
    done = run_process("fit", str(small_csv), "--column", "x")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("mlemap: error: ") and "--family" in done.stderr


def test_a_quiet_json_run_writes_nothing_to_stderr():
    # weights read from a file are read-only NumPy views: torch warns once per process about wrapping them
    done = run_process("path", "@claims", "--formula", "claims ~ age + urban", "--family", "poisson",
                       "--weights", "exposure", "--n-alphas", "5", "--quiet", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(json.loads(done.stdout)["alphas"]) == 5

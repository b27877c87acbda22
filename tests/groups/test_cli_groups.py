"""``mlemap fit ... --group-by COLUMN``, run in-process through ``mlemap.cli.main.main(argv)``."""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import mlemap as mm
from mlemap.cli.main import main


def run(*argv: str):
    """Exit code, standard output and standard error of ``mlemap ARGV`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.MlemapWarning)
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("groups")
    rng = np.random.default_rng(6)
    sizes = rng.integers(1, 40, 12)
    machine = np.repeat([f"M-{i}" for i in range(12)], sizes)
    frame = pd.DataFrame({
        "machine": machine,
        "hours": rng.weibull(1.5, sizes.sum()) * 100,
        "clicked": rng.binomial(1, rng.beta(2, 8, 12)[np.repeat(np.arange(12), sizes)]),
        "years": rng.uniform(0.5, 3.0, sizes.sum()),
    })
    frame["claims"] = rng.poisson(rng.gamma(2.0, 0.5, 12)[np.repeat(np.arange(12), sizes)] * frame["years"])
    frame.to_csv(d / "machines.csv", index=False)
    broken = frame.copy()
    broken.loc[3, "machine"] = None
    broken.to_csv(d / "missing_label.csv", index=False)
    return d, frame


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_one_row_per_group_in_every_format(data, suffix):
    d, frame = data
    out = d / f"groups{suffix}"
    code, stdout, stderr = run("fit", d / "machines.csv", "--column", "hours", "--group-by", "machine",
                               "--family", "weibull", "--out", out)
    assert code == 0, stderr
    assert "Grouped fit: weibull" in stdout and f"rows written to {out}" in stdout
    table = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".json": pd.read_json}[suffix](out)
    assert list(table.columns[:5]) == ["machine", "scale", "scale_se", "scale_lower", "scale_upper"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.MlemapWarning)
        g = mm.fit("weibull", frame["hours"], groups=frame["machine"])
    table = table.set_index("machine")
    for label in g.labels:
        if g.boundary[label].startswith("no estimate"):
            assert np.isnan(table.loc[label, "scale"])
            continue
        assert table.loc[label, "scale"] == pytest.approx(g.params.loc[label, "scale"], rel=1e-12)
        assert table.loc[label, "concentration_se"] == pytest.approx(g.se.loc[label, "concentration"], rel=1e-12)
        assert table.loc[label, "n"] == g.n[label]


def test_empirical_bayes_on_the_command_line(data):
    d, frame = data
    code, stdout, stderr = run("fit", d / "machines.csv", "--column", "clicked", "--group-by", "machine",
                               "--family", "bernoulli", "--prior", "estimate", "--json")
    assert code == 0, stderr
    payload = json.loads(stdout)
    eb = mm.fit("bernoulli", frame["clicked"], groups=frame["machine"], prior="estimate")
    assert payload["method"] == eb.method and payload["n_groups"] == 12
    for name in ("concentration1", "concentration0", "mean"):
        assert payload["prior"][name]["estimate"] == pytest.approx(eb.hyperparameters.loc[name, "estimate"], rel=1e-12)
    rows = {r["machine"]: r for r in payload["groups"]}
    assert rows["M-3"]["probs"] == pytest.approx(eb.params.loc["M-3", "probs"], rel=1e-12)
    assert rows["M-3"]["raw"] == pytest.approx(eb.raw["M-3"], rel=1e-12)
    code, stdout, stderr = run("fit", d / "machines.csv", "--column", "claims", "--group-by", "machine",
                               "--family", "poisson", "--prior", "estimate", "--exposure", "years")
    assert code == 0, stderr
    assert "learned prior on 'rate': Gamma(" in stdout
    assert all(len(line) <= 80 for line in stdout.splitlines())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--column", "hours", "--group-by", "machin", "--family", "weibull"], "No column 'machin' (from --group-by). Did you mean 'machine'?"),
        (["--column", "hours", "--group-by", "machine", "--family", "weibull", "--out", "x.xlsx"], "unknown suffix '.xlsx'"),
        (["--column", "hours", "--group-by", "machine", "--family", "weibull", "--prior", "estimate"], "The 'weibull' family has none"),
        (["--column", "hours", "--family", "weibull", "--out", "x.csv"], "--out belongs to a fit per group; add --group-by"),
        (["--column", "claims", "--group-by", "machine", "--family", "poisson", "--exposure", "years"], "--exposure applies to empirical Bayes"),
        (["--column", "hours", "--group-by", "machine", "--family", "weibull", "--ci", "profile"], "--ci profile is not available with --group-by"),
        (["--column", "hours,years", "--group-by", "machine", "--family", "weibull"], "give a single --column"),
    ],
)
def test_bad_input_exits_2_with_one_line(data, argv, message):
    d, _ = data
    code, stdout, stderr = run("fit", d / "machines.csv", *argv)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("mlemap: error: ") and message in stderr


def test_missing_group_labels_are_refused_or_dropped(data):
    d, frame = data
    code, _, stderr = run("fit", d / "missing_label.csv", "--column", "hours", "--group-by", "machine", "--family", "gamma")
    assert code == 2 and "1 row(s) have missing values in 'hours', 'machine'" in stderr and stderr.count("\n") == 1
    code, stdout, _ = run("fit", d / "missing_label.csv", "--column", "hours", "--group-by", "machine", "--family",
                          "gamma", "--missing", "drop")
    assert code == 0 and f"rows {len(frame) - 1:,} " in stdout

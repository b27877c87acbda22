"""The command line on censored and truncated data, run in-process: the same numbers as the Python API,
one line on standard error and exit status 2 for bad input."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import mlemap as mm
from mlemap.cli.main import main


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 200
    t = 3 * rng.weibull(1.5, n)
    c = rng.exponential(4, n)
    frame = pd.DataFrame({"time": np.minimum(t, c), "status": (t <= c).astype(int), "age": rng.normal(size=n)})
    low = np.floor(t)
    frame["low"] = np.where(low == 0, np.nan, low)
    frame["high"] = low + 1
    frame["bad_status"] = frame.status * 2 + 1
    path = tmp_path_factory.mktemp("censored") / "surv.csv"
    frame.to_csv(path, index=False)
    return str(path), frame


def run(capsys, *argv):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.MlemapWarning)
        code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fit_with_event_column_matches_the_api(table, capsys):
    path, frame = table
    code, out, err = run(capsys, "fit", path, "--column", "time", "--event", "status", "--family", "weibull", "--json")
    assert code == 0, err
    got = json.loads(out)
    ref = mm.fit("weibull", mm.censored(frame.time, event=frame.status))
    assert got["params"]["scale"] == pytest.approx(ref.params["scale"], rel=1e-12)
    assert got["loglik"] == pytest.approx(ref.loglik, rel=1e-12)
    assert got["censoring"].endswith("right-censored") and got["event"] == "status"


def test_fit_with_left_right_bounds_and_table_output(table, capsys):
    path, frame = table
    code, out, err = run(capsys, "fit", path, "--left", "low", "--right", "high", "--family", "lognormal")
    assert code == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.IdentifiabilityWarning)
        ref = mm.fit("lognormal", mm.censored(left=frame.low, right=frame.high))
    assert "left-censored" in out and f"{ref.params['loc']:.6g}" in out


def test_fit_truncated_below(table, capsys, tmp_path):
    path, frame = table
    png = tmp_path / "fit.png"
    code, out, err = run(capsys, "fit", path, "--column", "time", "--family", "normal", "--truncate-below", "0",
                         "--json", "--plot", str(png))
    assert code == 0, err
    ref = mm.fit("normal", frame.time.to_numpy(), truncation=(0.0, None))
    assert json.loads(out)["loglik"] == pytest.approx(ref.loglik, rel=1e-12)
    assert png.stat().st_size > 10_000


def test_compare_on_censored_data(table, capsys, tmp_path):
    path, frame = table
    png = tmp_path / "compare.png"
    code, out, err = run(capsys, "compare", path, "--column", "time", "--event", "status",
                         "--families", "weibull,lognormal,gamma", "--json", "--plot", str(png))
    assert code == 0, err
    got = json.loads(out)
    ref = mm.compare(mm.censored(frame.time, event=frame.status), families=["weibull", "lognormal", "gamma"])
    assert got["best"] == ref.best.family
    assert [c["family"] for c in got["candidates"]] == [c.family for c in ref.candidates]
    assert png.exists()


def test_regress_with_a_surv_formula(table, capsys):
    path, frame = table
    code, out, err = run(capsys, "regress", path, "--formula", "Surv(time, status) ~ age", "--json")
    assert code == 0, err
    got = json.loads(out)
    ref = mm.regress("Surv(time, status) ~ age", data=frame)
    assert got["family"] == "weibull" and got["loglik"] == pytest.approx(ref.loglik_, rel=1e-12)
    code, out, err = run(capsys, "regress", path, "--formula", "Surv(time, status) ~ age", "--family", "loglogistic")
    assert code == 0 and "loglogistic AFT" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["fit", "{path}", "--column", "time", "--event", "bad_status", "--family", "weibull"], "row 0 holds"),
        (["fit", "{path}", "--left", "low", "--family", "weibull"], "--left and --right go together"),
        (["fit", "{path}", "--family", "weibull"], "--column"),
        (["fit", "{path}", "--column", "time", "--event", "status", "--family", "von_mises"], "has none"),
        (["fit", "{path}", "--column", "age", "--event", "status", "--family", "weibull"], "outside the support"),
        (["fit", "{path}", "--column", "time", "--family", "normal", "--truncate-below", "1"], "outside the truncation range"),
        (["fit", "{path}", "--column", "time", "--event", "nope", "--family", "weibull"], "No column 'nope' (from --event)"),
        (["regress", "{path}", "--formula", "Surv(time, status) ~ age", "--family", "poisson"], "Unknown survival regression family"),
        (["regress", "{path}", "--formula", "age ~ Surv(time, status)"], "belongs on the left"),
    ],
)
def test_bad_input_exits_2_with_one_line(table, capsys, argv, fragment):
    path, _ = table
    code, out, err = run(capsys, *[a.format(path=path) for a in argv])
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("mlemap: error:") and fragment in err

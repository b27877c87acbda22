"""``--stream`` and ``--scheduler``: the command line over globs of Parquet files equals it in memory."""

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from mlemap.cli.streaming import wants_stream

from .helpers import run_cli as run


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The same 240 rows as one CSV file and as two Parquet files of row groups of 40 (a glob)."""
    folder = tmp_path_factory.mktemp("stream")
    rng = np.random.default_rng(11)
    n = 240
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "g": rng.choice(["u", "v", "w"], n)})
    eta = 0.3 + 1.2 * frame.x1 - 0.8 * frame.x2 + 0.4 * (frame.g == "v")
    frame["y"] = eta + rng.normal(size=n)
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    frame["count"] = rng.poisson(np.exp(0.3 * eta))
    frame["t"] = 2.0 + rng.standard_t(4, size=n)
    frame.to_csv(folder / "all.csv", index=False)
    frame.iloc[:130].to_parquet(folder / "part-1.parquet", row_group_size=40)
    frame.iloc[130:].to_parquet(folder / "part-2.parquet", row_group_size=40)
    return str(folder / "all.csv"), str(folder / "part-*.parquet")


def _json(*args):
    out = run(*args, "--json", "--quiet")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    for key in ("estimate", "se"):  # a regression's table, by label
        if "coefficients" in got:
            got[key] = {row["label"]: row[key] for row in got["coefficients"]}
    return got


def _assert_same(streamed: dict, in_memory: dict, keys, rtol: float) -> None:
    for key in keys:
        a, b = streamed[key], in_memory[key]
        if isinstance(a, dict):
            assert a.keys() == b.keys()
            np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], rtol=rtol, err_msg=key)
        else:
            assert a == pytest.approx(b, rel=rtol), key


CASES = [
    ("fit-studentt", ["fit", "{data}", "--family", "studentt", "--column", "t"], ["loglik", "params", "se"]),
    ("fit-normal-closed-form", ["fit", "{data}", "--family", "normal", "--column", "y"], ["loglik", "params", "se"]),
    ("regress-logistic", ["regress", "{data}", "--formula", "label ~ x1 + x2 + C(g)", "--family", "bernoulli"],
     ["loglik", "estimate", "se"]),
    ("regress-poisson", ["regress", "{data}", "--formula", "count ~ x1", "--family", "poisson"], ["loglik", "estimate"]),
]


@pytest.mark.parametrize("name, argv, keys", CASES, ids=[c[0] for c in CASES])
def test_a_glob_streams_to_the_in_memory_answer(files, name, argv, keys):
    csv, glob = files
    in_memory = _json(*[a.format(data=csv) for a in argv])
    streamed = _json(*[a.format(data=glob) for a in argv])
    _assert_same(streamed, in_memory, keys, rtol=1e-8)


def test_stream_forces_a_small_file_to_be_read_in_chunks(files):
    csv, _ = files
    argv = ["fit", csv, "--family", "studentt", "--column", "t"]
    in_memory, streamed = _json(*argv), _json(*argv, "--stream")
    _assert_same(streamed, in_memory, ["loglik", "params", "se"], rtol=1e-8)


def test_compare_over_a_glob_recognises_counts_and_ranks_as_in_memory(files):
    csv, glob = files
    in_memory, streamed = _json("compare", csv, "--column", "count"), _json("compare", glob, "--column", "count")
    ranked = [(r["family"], r["loglik"]) for r in streamed["candidates"] if r["status"] == "ok"]
    expected = [(r["family"], r["loglik"]) for r in in_memory["candidates"] if r["status"] == "ok"]
    assert [f for f, _ in ranked] == [f for f, _ in expected]
    assert "poisson" in [f for f, _ in ranked]
    np.testing.assert_allclose([v for _, v in ranked], [v for _, v in expected], rtol=1e-8)


def test_path_over_a_glob_has_the_in_memory_alphas(files):
    csv, glob = files
    argv = ["path", "{data}", "--formula", "y ~ x1 + x2 + C(g)", "--family", "gaussian", "--penalty", "l1",
            "--n-alphas", "8"]
    in_memory = _json(*[a.format(data=csv) for a in argv])
    streamed = _json(*[a.format(data=glob) for a in argv])
    assert streamed["features"] == in_memory["features"]
    np.testing.assert_allclose(streamed["alphas"], in_memory["alphas"], rtol=1e-10)


REFUSED = [
    ("plot", ["fit", "{glob}", "--family", "normal", "--column", "y", "--plot", "{png}"], "--plot"),
    ("missing-drop", ["fit", "{glob}", "--family", "normal", "--column", "y", "--missing", "drop"], "--missing drop"),
    ("two-columns", ["fit", "{glob}", "--family", "normal", "--column", "x1,x2"], "single --column"),
    ("unknown-weights", ["fit", "{glob}", "--family", "normal", "--column", "y", "--weights", "ww"], "ww"),
    ("censoring", ["fit", "{glob}", "--family", "weibull", "--column", "t", "--event", "label"], "--event"),
    ("truncation", ["compare", "{glob}", "--column", "t", "--truncate-below", "0"], "--truncate-below"),
    ("survival-formula", ["regress", "{glob}", "--formula", "Surv(t, label) ~ x1"], "Surv"),
]


@pytest.mark.parametrize("name, argv, fragment", REFUSED, ids=[c[0] for c in REFUSED])
def test_what_needs_the_data_in_memory_is_refused_with_one_line(files, tmp_path, name, argv, fragment):
    _, glob = files
    out = run(*[a.format(glob=glob, png=tmp_path / "x.png") for a in argv])
    assert out.returncode == 2
    assert fragment in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_when_the_data_stream(files, tmp_path):
    csv, glob = files

    def args(data, stream=False, scheduler=None):
        return argparse.Namespace(data=data, stream=stream, scheduler=scheduler)

    assert wants_stream(args(glob))
    assert wants_stream(args(str(tmp_path)))  # a folder
    assert not wants_stream(args(csv))  # small: in memory
    assert wants_stream(args(csv, stream=True))
    assert wants_stream(args(csv, scheduler="tcp://127.0.0.1:8786"))
    assert not wants_stream(args("-")) and not wants_stream(args("@claims"))


@pytest.mark.slow
def test_scheduler_runs_the_passes_on_a_cluster(files):
    distributed = pytest.importorskip("distributed")
    csv, glob = files
    argv = ["regress", "{data}", "--formula", "label ~ x1 + x2 + C(g)", "--family", "bernoulli"]
    in_memory = _json(*[a.format(data=csv) for a in argv])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        streamed = _json(*[a.format(data=glob) for a in argv], "--scheduler", cluster.scheduler_address)
    _assert_same(streamed, in_memory, ["loglik", "estimate", "se"], rtol=1e-8)

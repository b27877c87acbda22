"""Dask sources: partitions evaluated on the workers, results added on the driver, a lost worker changes nothing.

The tests on a cluster of worker processes (its start takes seconds) are marked slow; the rest run on
Dask's local scheduler.
"""

import collections
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest
import torch

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

from mlemap.core.sources_dask import DaskSource, tree_sum  # noqa: E402
from mlemap.core.sources_design import DesignSource  # noqa: E402
from mlemap.errors import DataError  # noqa: E402


@pytest.fixture(scope="module")
def processes():
    """Two worker processes of one thread each (the workers are restarted by their nannies when killed)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            yield client


def _columns(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=n)


class PerWorker:
    """Rows seen by each worker and torch's thread count there (a Counter adds with ``+``)."""

    def __call__(self, chunk):
        worker = distributed.get_worker()
        return collections.Counter({worker.address: len(chunk["y"]), f"threads={torch.get_num_threads()}": 1})


class SlowSum:
    """The sum of a chunk's ``y``, slowly, leaving a mark in ``folder`` when done."""

    def __init__(self, folder, seconds):
        self.folder, self.seconds = folder, seconds

    def __call__(self, chunk):
        time.sleep(self.seconds)
        value = chunk["y"].sum()
        open(os.path.join(self.folder, f"{os.getpid()}-{time.monotonic_ns()}"), "w").close()
        return value


def test_without_a_client_dask_local_scheduler_reduces_the_partitions():
    X, y = _columns()
    src = DaskSource({"X": da.from_array(X, chunks=(7, 2)), "y": da.from_array(y, chunks=11)})
    assert src.client is None and src.n_rows == 60 and src.n_partitions == 9
    chunk = next(iter(src.chunks()))
    assert isinstance(chunk["X"], np.ndarray) and chunk["X"].shape == (7, 3) and chunk["y"].dtype == torch.float64
    big = DaskSource({"y": da.from_array(np.arange(300_000.0), chunks=150_000)})  # partitions of several pieces
    assert [len(c["y"]) for c in big.chunks()] == [150_000, 150_000]
    assert float(big.map_reduce(lambda c: c["y"].sum())) == np.arange(300_000.0).sum()
    total = src.map_reduce(lambda c: torch.as_tensor(c["X"]).sum(0) + c["y"].sum())
    np.testing.assert_allclose(total.numpy(), X.sum(0) + y.sum(), rtol=1e-13)


@pytest.mark.slow
def test_partitions_are_evaluated_on_the_workers_with_one_torch_thread(processes, tmp_path):
    X, y = _columns(seed=1)
    src = DaskSource({"X": da.from_array(X, chunks=(5, 3)), "y": da.from_array(y, chunks=5)}, client=processes)
    seen = src.map_reduce(PerWorker())
    workers = set(processes.scheduler_info()["workers"])
    rows = {k: v for k, v in seen.items() if k in workers}
    assert sum(rows.values()) == 60 and len(rows) == 2  # both workers took part
    assert seen["threads=1"] == src.n_partitions


@pytest.mark.slow
def test_a_worker_killed_mid_reduction_does_not_change_the_sum(processes, tmp_path):
    X, y = _columns(n=120, seed=2)
    src = DaskSource({"X": da.from_array(X, chunks=(10, 3)), "y": da.from_array(y, chunks=10)}, client=processes)
    expected = src.map_reduce(lambda c: c["y"].sum())
    assert float(expected) == pytest.approx(y.sum(), rel=1e-14)
    pids = processes.run(os.getpid)
    victim = sorted(pids.values())[0]
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("sum", src.map_reduce(SlowSum(str(tmp_path), 0.25))))
    worker.start()
    deadline = time.monotonic() + 60
    while len(os.listdir(tmp_path)) < 2 and time.monotonic() < deadline:  # the pass is under way
        time.sleep(0.02)
    os.kill(victim, signal.SIGKILL)
    worker.join(timeout=120)
    assert not worker.is_alive()
    assert torch.equal(result["sum"], expected)  # the same bits: the tree of additions is fixed
    processes.wait_for_workers(2, timeout=60)
    assert victim not in processes.run(os.getpid).values()  # the worker was really lost and replaced


def test_formulas_on_dask_dataframes_equal_the_in_memory_expansion():
    from mlemap.formula import design

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"y": rng.poisson(2.0, 50).astype(float), "x": rng.normal(size=50),
                          "g": np.array(["a", "b", "c"])[rng.integers(0, 3, 50)]})
    src = DesignSource(DaskSource(dd.from_pandas(frame, npartitions=6)), "y ~ x * C(g)", family="poisson")
    reference = design("y ~ x * C(g)", frame)
    assert src.features == tuple(reference.X.columns) and src.n_rows == 50
    total = src.map_reduce(lambda c: torch.as_tensor(c["X"]).sum(0))
    np.testing.assert_allclose(total.numpy(), reference.X.to_numpy(dtype=float).sum(0), rtol=1e-13)


@pytest.mark.slow
def test_progress_per_pass_on_a_cluster(processes, capsys):
    X, y = _columns()
    src = DaskSource({"y": da.from_array(y, chunks=20)}, client=processes, progress=True)
    src.map_reduce(lambda c: c["y"].sum())
    err = capsys.readouterr().err
    assert "3 Dask partitions · pass 1" in err and "60 / 60 rows" in err


def test_bad_dask_data_get_typed_errors():
    y = np.arange(10.0)
    y[7] = np.nan
    with pytest.raises(DataError, match=r"'y' holds a missing value \(NaN\) at row 2 of partition 1"):
        DaskSource({"y": da.from_array(y, chunks=5)}).map_reduce(lambda c: c["y"].sum())
    with pytest.raises(DataError, match="same number of rows"):
        DaskSource({"X": da.zeros((4, 2)), "y": da.zeros(5)})
    with pytest.raises(DataError, match="must be a dask array"):
        DaskSource({"y": np.zeros(3)})
    with pytest.raises(DataError, match="dask DataFrame or a dict"):
        DaskSource([1, 2])
    frame = dd.from_pandas(pd.DataFrame({"g": ["a", "b"], "x": [1.0, 2.0]}), npartitions=1)
    with pytest.raises(DataError, match="'g' holds text"):
        DaskSource(frame).map_reduce(lambda c: 0)
    with pytest.raises(DataError, match="No column 'z'"):
        DaskSource(frame).raw(columns=["z"])


def test_the_source_travels_to_workers_as_an_empty_stub():
    import pickle

    src = DaskSource({"y": da.from_array(np.arange(4.0), chunks=2)})
    stub = pickle.loads(pickle.dumps(src))
    assert stub.columns == ("y",)
    with pytest.raises(RuntimeError, match="reduced on the driver"):
        stub.map_reduce(lambda c: 0)


def test_tree_sum_adds_in_a_fixed_pairwise_order():
    assert tree_sum(["a", "b", "c", "d", "e"]) == "abcde"
    parts = [np.float64(v) for v in (1e16, 1.0, -1e16, 1.0)]
    assert tree_sum(parts) == (parts[0] + parts[1]) + (parts[2] + parts[3])
    with pytest.raises(DataError, match="no partitions"):
        tree_sum([])


def test_dask_series_and_raw_partitions_with_missing_values_kept():
    frame = pd.DataFrame({"y": [1.0, np.nan, 3.0, 4.0], "g": ["a", None, "b", "a"]})
    ddf = dd.from_pandas(frame, npartitions=2)
    series = DaskSource({"y": ddf["g"].isna().astype(float)})
    assert float(series.map_reduce(lambda c: c["y"].sum())) == 1.0
    raw = DaskSource(ddf).raw(missing="keep")
    parts = list(raw.chunks())
    assert np.isnan(parts[0]["y"][1]) and pd.isna(parts[0]["g"][1])
    with pytest.raises(DataError, match="'y' has a missing value at row 1 of partition 0"):
        DaskSource(ddf).raw().map_reduce(lambda c: 0)
    counts = dd.from_pandas(pd.DataFrame({"k": pd.array([1, None, 3], dtype="Int64")}), npartitions=1)
    with pytest.raises(DataError, match=r"'k' holds a missing value \(NaN\) at row 1 of partition 0"):
        DaskSource(counts).map_reduce(lambda c: 0)

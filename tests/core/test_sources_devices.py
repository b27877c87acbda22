"""The device follows the data: contributions are computed where a source's tensors live.

The CPU cases run everywhere; the CUDA cases skip cleanly without a device (run them on a GPU
machine with ``python benchmarks/gpu_check.py``).
"""

import numpy as np
import pyarrow as pa
import pytest
import torch

from mlemap.core.distribution import DistributionModel
from mlemap.core.objective import Objective
from mlemap.core.regression import RegressionModel
from mlemap.core.source import InMemorySource
from mlemap.core.sources_design import DesignSource
from mlemap.core.sources_features import family_features
from mlemap.core.sources_files import scan
from mlemap.families.registry import resolve_family
from mlemap.glm.family import resolve_glm_family

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]


class _Layout:
    """loc, scale and df of Student's t from an unconstrained vector."""

    size = 3

    def unpack(self, u):
        return {"loc": u[0], "scale": u[1].exp(), "df": u[2].exp()}


def _regression(n=500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [0.5, -0.2, 0.1, 0.3])))).astype(float)
    return X, y, rng.uniform(0.5, 2.0, n)


def _on(device, *arrays):
    return [torch.as_tensor(a, device=device) for a in arrays]


def _same(c, ref, device, rtol=1e-12):
    for got, want in ((c.value, ref.value), (c.grad, ref.grad), (c.hess, ref.hess)):
        assert got.device.type == device
        np.testing.assert_allclose(got.cpu().numpy(), want.cpu().numpy(), rtol=rtol,
                                   atol=rtol * float(want.abs().max()))


@pytest.mark.parametrize("device", DEVICES)
def test_regression_contributions_run_on_the_tensors_device(device):
    X, y, w = _regression()
    model = RegressionModel(resolve_glm_family("bernoulli"), 4)
    theta = torch.tensor([0.1, -0.1, 0.2, 0.0, 0.3], dtype=torch.float64)
    reference = Objective(model, InMemorySource({"X": X, "y": torch.from_numpy(y), "weight": torch.from_numpy(w)}))
    Xd, yd, wd = _on(device, X, y, w)
    on_device = Objective(model, InMemorySource({"X": Xd, "y": yd, "weight": wd}, chunk_rows=64))
    _same(on_device.evaluate(theta.to(device), 2), reference.evaluate(theta, 2), device)


@pytest.mark.parametrize("device", DEVICES)
def test_distribution_contributions_run_on_the_tensors_device(device):
    rng = np.random.default_rng(1)
    x = rng.standard_t(5, 400) * 2 + 1
    family = resolve_family("studentt")
    model = DistributionModel(family, _Layout(), {})
    u = torch.tensor([0.8, 0.5, 1.2], dtype=torch.float64)
    reference = Objective(model, InMemorySource(family.features(torch.from_numpy(x), {}))).evaluate(u, 2)
    src = InMemorySource(family.features(torch.as_tensor(x, device=device), {}), chunk_rows=50)
    _same(Objective(model, src).evaluate(u.to(device), 2), reference, device)


@pytest.mark.parametrize("device", DEVICES)
def test_file_chunks_are_placed_on_the_requested_device(device, table_writer):
    X, y, w = _regression(n=90, seed=2)
    cols = {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "d": X[:, 3], "y": y, "w": w}
    path = table_writer(pa.table(cols), "data", "parquet")
    model = RegressionModel(resolve_glm_family("bernoulli"), 4)
    theta = torch.tensor([0.1, -0.1, 0.2, 0.0, 0.3], dtype=torch.float64)
    reference = Objective(model, InMemorySource({"X": X, "y": torch.from_numpy(y), "weight": torch.from_numpy(w)}))
    design = DesignSource(scan(path, chunk_rows=16), x=["a", "b", "c", "d"], y="y", family="bernoulli", weight="w",
                          device=device)
    chunk = next(iter(design.chunks()))
    assert all(v.device.type == device for k, v in chunk.items() if k != "X")
    # on the CPU the design matrix stays a NumPy array (its Gram matrix goes through BLAS)
    assert isinstance(chunk["X"], np.ndarray) if device == "cpu" else chunk["X"].device.type == device
    _same(Objective(model, design).evaluate(theta.to(device), 2), reference.evaluate(theta, 2), device)
    family = resolve_family("studentt")
    t_source = family_features(scan(path, column="a", chunk_rows=16, device=device), family)
    assert next(iter(t_source.chunks()))["x"].device.type == device


def test_float32_is_opt_in_and_costs_accuracy(table_writer):
    rng = np.random.default_rng(3)
    x = rng.standard_t(5, 1000) * 2 + 1
    path = table_writer(pa.table({"x": x}), "data", "parquet")
    family = resolve_family("studentt")
    model = DistributionModel(family, _Layout(), {})
    u64 = torch.tensor([0.8, 0.5, 1.2], dtype=torch.float64)
    full = Objective(model, family_features(scan(path, chunk_rows=100), family)).evaluate(u64, 2)
    single = Objective(model, family_features(scan(path, chunk_rows=100, dtype="float32"), family)).evaluate(
        u64.float(), 2)
    assert single.value.dtype == torch.float32 and full.value.dtype == torch.float64
    error = abs(float(single.value) - float(full.value)) / abs(float(full.value))
    assert 1e-12 < error < 1e-5  # single precision: about 7 digits, not 15


@CUDA
def test_dask_partitions_can_be_placed_on_the_device():
    da = pytest.importorskip("dask.array")
    from mlemap.core.sources_dask import DaskSource

    y = np.arange(100.0)
    src = DaskSource({"y": da.from_array(y, chunks=30)}, device="cuda")
    total = src.map_reduce(lambda c: c["y"].sum())
    assert total.device.type == "cuda" and float(total) == y.sum()

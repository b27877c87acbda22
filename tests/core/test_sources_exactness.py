"""Every kind of source gives the in-memory objective: value, gradient and Hessian to 1e-12 relative.

For distributions (features computed per chunk) and regressions (designs built per chunk), over
files in each format, Dask arrays and dask DataFrames, with chunks of 1 row, 7 rows and many rows;
and sufficient statistics reduced over a file equal the in-memory ones.
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
from mlemap.core.sources_features import FeatureMap, family_features
from mlemap.core.sources_files import scan
from mlemap.families.registry import resolve_family
from mlemap.glm.family import resolve_glm_family

KINDS = ["memory", "parquet", "csv", "arrow", "dask"]
CHUNKS = [1, 7, 10_000]
N = 40


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        yield client


def _dask_chunks(chunk_rows: int):
    """Partition sizes along the rows: for one-row chunks, six one-row partitions and one of the rest
    (the edge case at a fifth of the tasks that N one-row partitions would cost)."""
    return ((1,) * 6 + (N - 6,),) if chunk_rows == 1 else chunk_rows


def _dask_frame(frame, chunk_rows: int):
    import dask.dataframe as dd

    if chunk_rows == 1:
        return dd.from_pandas(frame, npartitions=1).repartition(divisions=[0, 1, 2, 3, 4, 5, 6, len(frame) - 1])
    return dd.from_pandas(frame, chunksize=chunk_rows)


def _client_if(kind, request):
    return request.getfixturevalue("dask_client") if kind.startswith("dask") else None


def _assert_same(c, ref):
    assert float(c.value) == pytest.approx(float(ref.value), rel=1e-12, abs=0)
    for got, want in ((c.grad, ref.grad), (c.hess, ref.hess)):
        scale = float(want.abs().max())
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-12 * scale)


def _raw_source(kind, columns, chunk_rows, writer):
    if kind == "memory":
        return InMemorySource({k: torch.from_numpy(v) for k, v in columns.items()}, chunk_rows=chunk_rows)
    if kind == "dask":
        import dask.array as da

        from mlemap.core.sources_dask import DaskSource

        return DaskSource({k: da.from_array(v, chunks=_dask_chunks(chunk_rows)) for k, v in columns.items()})
    path = writer(pa.table(columns), "data", kind, rows_per_group=max(3, chunk_rows // 2))
    return scan(path, chunk_rows=chunk_rows)


class _Layout:
    """Unconstrained vector -> natural parameters: positive ones through exp (what the model needs of a layout)."""

    def __init__(self, family):
        self.names = list(family.parameters)
        self.positive = {"scale", "df", "concentration", "rate"}
        self.size = len(self.names)

    def unpack(self, u):
        return {n: (u[i].exp() if n in self.positive else u[i]) for i, n in enumerate(self.names)}


DISTRIBUTIONS = {
    "studentt": lambda rng: rng.standard_t(4, N) * 2 + 1,
    "gamma": lambda rng: rng.gamma(2.5, 1.5, N),
    "normal": lambda rng: rng.normal(3, 2, N),
}


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("chunk_rows", CHUNKS)
def test_distribution_objectives_equal_the_in_memory_one(request, table_writer, name, kind, chunk_rows):
    _client_if(kind, request)
    rng = np.random.default_rng(7)
    family = resolve_family(name)
    x, w = DISTRIBUTIONS[name](rng), rng.uniform(0.5, 2.0, N)
    model = DistributionModel(family, _Layout(family), {})
    u = torch.as_tensor(rng.normal(0, 0.3, model.size))
    feats = dict(family.features(torch.from_numpy(x), {}), weight=torch.from_numpy(w))
    reference = Objective(model, InMemorySource(feats, chunk_rows=N)).evaluate(u, 2)
    source = family_features(_raw_source(kind, {"x": x, "w": w}, chunk_rows, table_writer), family, column="x",
                             weight="w")
    _assert_same(Objective(model, source).evaluate(u, 2), reference)
    if family.has_statistics:
        whole = family.statistics(feats, feats["weight"])
        reduced = source.map_reduce(lambda c: family.statistics(c, c["weight"]))
        assert float(reduced.weight) == pytest.approx(float(whole.weight), rel=1e-14)
        for key in whole.sums:
            assert float(reduced.sums[key]) == pytest.approx(float(whole.sums[key]), rel=1e-12)
        for key, (mean, m2) in whole.moments.items():
            assert float(reduced.moments[key][0]) == pytest.approx(float(mean), rel=1e-12)
            assert float(reduced.moments[key][1]) == pytest.approx(float(m2), rel=1e-12)


def _regression_data(family_name, rng):
    X = rng.normal(size=(N, 3)) * [1.0, 0.5, 2.0]
    eta = 0.2 + X @ [0.4, -0.3, 0.1]
    y = {"bernoulli": (rng.random(N) < 1 / (1 + np.exp(-eta))).astype(float),
         "poisson": rng.poisson(np.exp(eta)).astype(float),
         "categorical": rng.integers(0, 3, N).astype(float)}[family_name]
    return X, y, rng.uniform(0.5, 2.0, N), rng.normal(0, 0.2, N)


def _design_source(kind, family_name, X, y, w, o, chunk_rows, writer):
    """The rows as a regression source of ``kind`` (the softmax takes no offset)."""
    cols = {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y, "w": w, "o": o}
    softmax = family_name == "categorical"
    if kind == "dask":
        import dask.array as da

        from mlemap.core.sources_dask import DaskSource

        rows = _dask_chunks(chunk_rows)
        arrays = {"X": da.from_array(X, chunks=(rows[0] if chunk_rows == 1 else rows, 3)),
                  "y": da.from_array(y, chunks=rows), "weight": da.from_array(w, chunks=rows)}
        if not softmax:
            arrays["offset"] = da.from_array(o, chunks=rows)
        return DaskSource(arrays, labels=("y",) if softmax else ())
    if kind == "dask-frame":
        import pandas as pd

        from mlemap.core.sources_dask import DaskSource

        base = DaskSource(_dask_frame(pd.DataFrame(cols), chunk_rows))
    else:
        base = scan(writer(pa.table(cols), "data", kind, rows_per_group=max(3, chunk_rows // 2)), chunk_rows=chunk_rows)
    return DesignSource(base, x=["a", "b", "c"], y="y", family=family_name, weight="w", offset=None if softmax else "o")


@pytest.mark.parametrize("family_name", ["bernoulli", "poisson", "categorical"])
@pytest.mark.parametrize("kind", ["parquet", "csv", "arrow", "dask", "dask-frame"])
@pytest.mark.parametrize("chunk_rows", CHUNKS)
def test_regression_objectives_equal_the_in_memory_one(request, table_writer, family_name, kind, chunk_rows):
    _client_if(kind, request)
    rng = np.random.default_rng(11)
    X, y, w, o = _regression_data(family_name, rng)
    family = resolve_glm_family(family_name)
    model = RegressionModel(family, 3, n_classes=3 if family.multiclass else None)
    theta = torch.as_tensor(rng.normal(0, 0.3, model.size))
    y_t = torch.from_numpy(y.astype(np.int64)) if family.multiclass else torch.from_numpy(y)
    offset = None if family.multiclass else torch.from_numpy(o)
    reference = Objective(model, InMemorySource({"X": X, "y": y_t, "weight": torch.from_numpy(w), "offset": offset},
                                                chunk_rows=N)).evaluate(theta, 2)
    source = _design_source(kind, family_name, X, y, w, o, chunk_rows, table_writer)
    _assert_same(Objective(model, source).evaluate(theta, 2), reference)


def test_formula_designs_give_the_in_memory_objective(table_writer, mixed_table):
    from mlemap.formula import design

    table, frame = mixed_table(N, seed=3)
    formula = "y ~ x + C(g) + flag + x:C(g)"
    reference_design = design(formula, frame)
    Xr = reference_design.X.to_numpy(dtype=float)
    model = RegressionModel(resolve_glm_family("poisson"), Xr.shape[1])
    theta = torch.as_tensor(np.random.default_rng(5).normal(0, 0.2, model.size))
    reference = Objective(model, InMemorySource({"X": Xr, "y": torch.from_numpy(reference_design.y.to_numpy(float)),
                                                 "weight": torch.from_numpy(frame["w"].to_numpy())})).evaluate(theta, 2)
    for chunk_rows in CHUNKS:
        source = DesignSource(scan(table_writer(table, "data", "parquet"), chunk_rows=chunk_rows), formula,
                              family="poisson", weight="w")
        _assert_same(Objective(model, source).evaluate(theta, 2), reference)


def test_feature_maps_check_their_columns():
    from mlemap.errors import DataError

    src = InMemorySource({"x": torch.ones(3), "v": torch.ones(3)})
    with pytest.raises(DataError, match="Name the column"):
        family_features(src, resolve_family("normal"))
    with pytest.raises(DataError, match="No column 'z' \\(from weight=\\)"):
        family_features(src, resolve_family("normal"), column="x", weight="z")
    assert isinstance(family_features(src, resolve_family("normal"), column="x").fn, FeatureMap)

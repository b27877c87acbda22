"""Regression chunks from files: the same design columns in every chunk, equal to the in-memory expansion."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch

from mlemap.core.sources_design import DesignSource
from mlemap.core.sources_files import scan
from mlemap.errors import DataError, DataFileError, FormulaError
from mlemap.formula import design

FORMULAS = [
    "y ~ x + C(g) + C(k) + flag + x:C(g) + log(w)",
    "y ~ . - w",
    "log1p(y) ~ x + g + I(x ** 2)",
    "y ~ 0 + C(g) + sqrt(w)",
]


def _stack(source):
    chunks = list(source.chunks())
    return chunks, np.vstack([c["X"] for c in chunks]), torch.cat([c["y"] for c in chunks]).numpy()


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("fmt,chunk_rows", [("parquet", 1), ("csv", 7), ("arrow", 7), ("parquet", 1000)])
def test_formula_designs_equal_the_in_memory_expansion(table_writer, mixed_table, formula, fmt, chunk_rows):
    table, frame = mixed_table(60, seed=1)
    if fmt == "csv":  # CSV numbers are read as float64: C(k) levels are 1.0, 2.0, ...
        frame = frame.assign(k=frame["k"].astype(float))
    reference = design(formula, frame)
    src = DesignSource(scan(table_writer(table, "data", fmt), chunk_rows=chunk_rows), formula, family="poisson")
    chunks, X, y = _stack(src)
    assert src.features == tuple(reference.X.columns) and src.n_features == X.shape[1]
    assert src.fit_intercept == reference.fit_intercept and src.n_rows == 60
    assert all(isinstance(c["X"], np.ndarray) and c["X"].flags.c_contiguous for c in chunks)
    np.testing.assert_array_equal(X, reference.X.to_numpy(dtype=float))
    np.testing.assert_array_equal(y, reference.y.to_numpy(dtype=float))


def test_levels_come_from_the_whole_data_even_when_a_chunk_has_one(table_writer):
    frame = pd.DataFrame({"y": np.arange(6.0), "g": ["c", "c", "c", "a", "b", "a"]})
    path = table_writer(pa.Table.from_pandas(frame, preserve_index=False), "data", "parquet")
    src = DesignSource(scan(path, chunk_rows=3), "y ~ C(g)")
    first = next(iter(src.chunks()))
    assert src.levels == {"g": ["a", "b", "c"]} and src.features == ("C(g)[T.b]", "C(g)[T.c]")
    np.testing.assert_array_equal(first["X"], [[0, 1], [0, 1], [0, 1]])


@pytest.mark.parametrize("family,labels,expected_classes,dtype", [
    ("bernoulli", ["no", "yes", "yes", "no", "yes", "no"], ["no", "yes"], torch.float64),
    ("bernoulli", [True, False, True, True, False, False], [False, True], torch.float64),
    ("categorical", ["b", "c", "a", "a", "c", "b"], ["a", "b", "c"], torch.int64),
    ("categorical", [3.0, 1.0, 2.0, 2.0, 1.0, 3.0], [1.0, 2.0, 3.0], torch.int64),
])
def test_class_labels_are_sorted_and_coded_as_the_estimators_do(table_writer, family, labels, expected_classes, dtype):
    frame = pd.DataFrame({"label": labels, "x": np.linspace(0, 1, 6)})
    path = table_writer(pa.Table.from_pandas(frame, preserve_index=False), "data", "parquet")
    src = DesignSource(scan(path, chunk_rows=4), "label ~ x", family=family)
    chunks, X, y = _stack(src)
    assert list(src.classes) == expected_classes and chunks[0]["y"].dtype == dtype
    np.testing.assert_array_equal(y, np.unique(np.asarray(labels), return_inverse=True)[1])


def test_column_designs_weights_offsets_and_exposure(table_writer, mixed_table):
    table, frame = mixed_table(40)
    path = table_writer(table, "data", "arrow")
    src = DesignSource(scan(path, chunk_rows=9), x=["x", "flag", "k"], y="y", family="poisson", weight="w",
                       offset="x", exposure="w")
    chunks, X, y = _stack(src)
    np.testing.assert_array_equal(X, frame[["x", "flag", "k"]].to_numpy(dtype=float))
    np.testing.assert_array_equal(torch.cat([c["weight"] for c in chunks]).numpy(), frame["w"])
    np.testing.assert_allclose(torch.cat([c["offset"] for c in chunks]).numpy(), frame["x"] + np.log(frame["w"]),
                               rtol=1e-15)
    assert src.features == ("x", "flag", "k") and src.columns == ("X", "y", "weight", "offset")


def test_rows_with_missing_values_are_dropped_or_refused(table_writer, mixed_table):
    table, frame = mixed_table(30)
    frame.loc[[3, 17], "x"] = np.nan
    frame.loc[5, "g"] = None
    table = pa.Table.from_pandas(frame, preserve_index=False)
    path = table_writer(table, "holes", "parquet")
    formula = "y ~ x + C(g)"
    src = DesignSource(scan(path, chunk_rows=4), formula, missing="drop")
    reference = design(formula, frame, missing="drop")
    _, X, y = _stack(src)
    assert src.n_rows == 27
    np.testing.assert_array_equal(X, reference.X.to_numpy(dtype=float))
    np.testing.assert_array_equal(y, reference.y.to_numpy())
    with pytest.raises(DataFileError, match=r"'x' of the file '.*holes\.parquet' has a missing value at row 3"):
        DesignSource(scan(path, chunk_rows=4), formula).survey()


@pytest.mark.parametrize("formula,kwargs,error,pattern", [
    ("y ~ center(x)", {}, FormulaError, r"center\(\.\.\.\), whose state .* depends on all the rows"),
    ("y ~ bs(x, df=4)", {}, FormulaError, "bs"),
    ("y ~ x + nothere", {}, FormulaError, "nothere"),
    ("y ~ __import__('os')", {}, FormulaError, "dunder names are not allowed"),
    ("y ~ x", {"weight": "nothere"}, DataError, r"No column 'nothere' \(from weight=\)"),
    ("g ~ x", {"family": "bernoulli"}, DataError, "exactly two classes in 'g'; found 4"),
    ("g ~ x", {}, DataError, "'g' holds text"),
    ("x ~ y", {"family": "categorical"}, DataError, "continuous"),
    ("y ~ log(k - 1)", {}, DataError, r"design column 'log\(k - 1\)' is -inf"),
    ("y ~ sqrt(x)", {}, FormulaError, r"sqrt\(x\).* null values"),
], ids=["center", "spline", "unknown-column", "injection", "weight-column", "three-classes", "text-response",
        "continuous-labels", "infinite-design", "undefined-design"])
@pytest.mark.filterwarnings("ignore:(divide by zero|invalid value):RuntimeWarning")
def test_designs_refuse_what_they_cannot_build(table_writer, mixed_table, formula, kwargs, error, pattern):
    table, _ = mixed_table(30)
    path = table_writer(table, "data", "parquet")
    with pytest.raises(error, match=pattern):
        src = DesignSource(scan(path, chunk_rows=8), formula, **kwargs)
        src.map_reduce(lambda c: float(c["X"].sum()))


def test_design_arguments_are_checked():
    with pytest.raises(DataError, match="either as a formula"):
        DesignSource(None, "y ~ x", x=["x"], y="y")
    with pytest.raises(DataError, match="'missing'"):
        DesignSource(None, "y ~ x", missing="ignore")


def test_float32_designs_are_tensors_of_that_dtype(table_writer, mixed_table):
    table, frame = mixed_table(12)
    src = DesignSource(scan(table_writer(table, "data", "parquet"), chunk_rows=5), "y ~ x + C(g)", dtype="float32")
    chunk = next(iter(src.chunks()))
    assert chunk["X"].dtype == torch.float32 and chunk["y"].dtype == torch.float32
    np.testing.assert_allclose(chunk["X"][:, 2].numpy(), design("y ~ x + C(g)", frame).X.iloc[:5, 2], rtol=1e-7)

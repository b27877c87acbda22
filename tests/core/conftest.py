"""Fixtures of the core tests: small data files in every format the file sources read."""

import numpy as np
import pytest

FORMATS = ["parquet", "csv", "arrow"]


def write_table(table, path, fmt: str, rows_per_group: int = 13) -> str:
    """Write an Arrow table as Parquet (row groups of ``rows_per_group``), CSV or Arrow IPC (batches of it)."""
    import pyarrow.csv as pcsv
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    path = str(path)
    if fmt == "parquet":
        pq.write_table(table, path, row_group_size=rows_per_group)
    elif fmt == "csv":
        pcsv.write_csv(table, path)
    else:
        feather.write_feather(table, path, chunksize=rows_per_group, compression="uncompressed")
    return path


@pytest.fixture
def table_writer(tmp_path):
    """``write(table, name, fmt)`` -> the path of ``table`` written in ``fmt`` under a fresh folder."""

    def write(table, name: str, fmt: str, rows_per_group: int = 13) -> str:
        return write_table(table, tmp_path / f"{name}.{fmt}", fmt, rows_per_group)

    write.folder = tmp_path
    return write


@pytest.fixture
def mixed_table():
    """``make(n, seed)`` -> numbers, integers, booleans and text as an Arrow table and a DataFrame."""
    return make_mixed


def make_mixed(n: int = 50, seed: int = 0):
    """Numbers, integers, booleans and text, as an Arrow table and a pandas DataFrame."""
    import pandas as pd
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "x": rng.normal(size=n) * 3 + 1,
        "k": rng.integers(1, 4, n),
        "flag": rng.random(n) < 0.4,
        "g": np.array(["north", "east", "south", "west"])[rng.integers(0, 4, n)],
        "w": rng.uniform(0.5, 2.0, n),
        "y": rng.poisson(2.0, n).astype(float),
    })
    return pa.Table.from_pandas(frame, preserve_index=False), frame

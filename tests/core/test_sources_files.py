"""File sources: every row once and in order, in every format and chunk size; typed errors naming the file."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from mlemap.core.sources_files import FileSource, scan
from mlemap.errors import DataError, DataFileError

FORMATS = ["parquet", "csv", "arrow"]


def _concat(source, name):
    return torch.cat([c[name] for c in source.chunks()])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_chunks_hold_every_row_once_in_order(table_writer, mixed_table, fmt, chunk_rows):
    table, frame = mixed_table(50)
    src = scan(table_writer(table, "data", fmt), columns=["x", "k", "flag"], chunk_rows=chunk_rows)
    sizes = [len(c["x"]) for c in src.chunks()]
    assert sizes == [chunk_rows] * (50 // chunk_rows) + ([50 % chunk_rows] if 50 % chunk_rows else [])
    assert src.n_rows == 50 and src.columns == ("x", "k", "flag")
    for name in ("x", "k", "flag"):
        values = _concat(src, name)
        assert values.dtype == torch.float64
        np.testing.assert_array_equal(values.numpy(), frame[name].to_numpy(dtype=float))


def test_column_dtype_and_raw_views(table_writer, mixed_table):
    table, frame = mixed_table(20)
    path = table_writer(table, "data", "parquet")
    one = scan(path, column="x", dtype="float32", chunk_rows=6)
    assert one.columns == ("x",) and _concat(one, "x").dtype == torch.float32
    raw = scan(path, chunk_rows=6).raw()
    chunk = next(iter(raw.chunks()))
    assert chunk["g"].dtype == object and list(chunk["g"]) == list(frame["g"][:6])
    assert chunk["k"].dtype == np.int64 and chunk["flag"].dtype == bool


def test_globs_lists_and_folders_read_files_in_sorted_order(table_writer):
    paths = {}
    for i in (2, 0, 1):
        paths[i] = table_writer(pa.table({"x": np.full(3, float(i))}), f"part-{i}", "parquet")
    folder = str(table_writer.folder)
    by_glob = scan(os.path.join(folder, "part-*.parquet"), chunk_rows=2)
    assert by_glob.files == [paths[0], paths[1], paths[2]]
    assert _concat(by_glob, "x").tolist() == [0.0] * 3 + [1.0] * 3 + [2.0] * 3
    assert scan(folder).files == by_glob.files
    assert scan([paths[2], paths[0], paths[2]]).files == [paths[2], paths[0]]
    assert scan([paths[1], os.path.join(folder, "part-[02].parquet")]).n_rows == 9


def test_formats_mix_in_one_scan_and_csv_rows_are_counted(table_writer, mixed_table):
    table, frame = mixed_table(30)
    a = table_writer(table, "a", "csv")
    b = table_writer(table, "b", "arrow")
    src = scan([a, b], columns=["x", "w"], chunk_rows=8)
    assert src.n_rows == 60
    np.testing.assert_array_equal(_concat(src, "w").numpy(), np.tile(frame["w"].to_numpy(), 2))


def _corrupt(path, at):
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(b"\xff" * 8)


def test_a_corrupt_row_group_is_named_with_its_file(tmp_path):
    path = str(tmp_path / "c.parquet")
    pq.write_table(pa.table({"x": np.arange(30.0)}), path, row_group_size=10, write_page_checksum=True,
                   compression="none", use_dictionary=False)
    column = pq.read_metadata(path).row_group(1).column(0)
    _corrupt(path, column.data_page_offset + column.total_compressed_size - 8)  # values: the checksum fails
    src = scan(path, chunk_rows=4)
    with pytest.raises(DataFileError, match=r"row group 1 of the Parquet file '.*c\.parquet'") as err:
        src.map_reduce(lambda c: c["x"].sum())
    assert err.value.row_group == 1 and err.value.path == path
    _corrupt(path, column.data_page_offset)  # the page header
    with pytest.raises(DataFileError, match="row group 1") as err:
        scan(path).map_reduce(lambda c: c["x"].sum())
    assert err.value.row_group == 1


def test_a_corrupt_footer_is_reported_by_scan(tmp_path):
    path = str(tmp_path / "c.parquet")
    pq.write_table(pa.table({"x": np.arange(5.0)}), path)
    _corrupt(path, os.path.getsize(path) - 12)
    with pytest.raises(DataFileError, match="c.parquet") as err:
        scan(path)
    assert err.value.path == path


def _two_files(table_writer, second):
    a = table_writer(pa.table({"x": np.arange(4.0), "g": ["a", "b", "a", "b"]}), "a", "parquet")
    b = table_writer(second, "b", "parquet")
    return a, b


@pytest.mark.parametrize("second, columns, pattern", [
    (pa.table({"z": np.arange(3.0), "g": ["a", "b", "c"]}), ["x"], r"column 'x' is not in the file '.*b\.parquet'"),
    (pa.table({"x": ["1", "2"], "g": ["a", "b"]}), ["x"], r"'x' holds text \(string\) in the file '.*b\.parquet'"),
    (pa.table({"x": np.arange(3.0), "g": [1.0, 2.0, 3.0]}), ["g"], r"'g' holds numbers .* '.*b\.parquet'"),
    (pa.table({"x": pa.array([1, 2], pa.timestamp("s")), "g": ["a", "b"]}), ["x"],
     r"b\.parquet. has the type timestamp"),
], ids=["absent", "text-vs-numbers", "numbers-vs-text", "unreadable-type"])
def test_a_column_absent_or_of_another_kind_in_one_file_is_named_up_front(table_writer, second, columns, pattern):
    a, b = _two_files(table_writer, second)
    with pytest.raises(DataFileError, match=pattern) as err:
        scan([a, b], columns=columns)
    assert err.value.path == b


def test_missing_files_and_bad_arguments(table_writer, tmp_path):
    a = table_writer(pa.table({"x": np.arange(3.0)}), "a", "parquet")
    with pytest.raises(DataFileError, match="No file matches the pattern"):
        scan(str(tmp_path / "nothing-*.parquet"))
    with pytest.raises(DataFileError, match=r"'.*gone\.parquet' does not exist") as err:
        scan([a, str(tmp_path / "gone.parquet")])
    assert err.value.path.endswith("gone.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match="holds no Parquet, CSV or Arrow file"):
        scan(str(tmp_path / "empty"))
    (tmp_path / "notes.dat").write_text("x\n1\n")
    with pytest.raises(DataFileError, match="Cannot tell the format"):
        scan(str(tmp_path / "notes.dat"))
    assert scan(str(tmp_path / "notes.dat"), format="csv").n_rows == 1
    with pytest.raises(DataError, match="either 'column'"):
        scan(a, column="x", columns=["x"])
    with pytest.raises(DataError, match="chunk_rows"):
        scan(a, chunk_rows=0)
    with pytest.raises(DataFileError, match="must be a file path"):
        scan(3)


def test_a_file_removed_after_the_scan_is_named_when_read(table_writer):
    a = table_writer(pa.table({"x": np.arange(3.0)}), "a", "parquet")
    b = table_writer(pa.table({"x": np.arange(3.0)}), "b", "csv")
    src = scan([a, b])
    os.remove(b)
    with pytest.raises(DataFileError, match=r"'.*b\.csv' does not exist") as err:
        src.map_reduce(lambda c: c["x"].sum())
    assert err.value.path == b


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_and_non_finite_values_are_named_by_file_and_row(table_writer, fmt):
    holes = table_writer(pa.table({"w": np.ones(4), "x": pa.array([1.0, 2.0, None, 4.0])}), "holes", fmt)
    with pytest.raises(DataFileError, match=r"'x' of the file '.*holes\.\w+' has a missing value at row 2"):
        scan(holes, chunk_rows=3).map_reduce(lambda c: c["x"].sum())
    if fmt != "csv":  # CSV reads 'inf' and 'nan' as text or missing
        bad = table_writer(pa.table({"x": [1.0, 2.0, 3.0, np.inf]}), "bad", fmt)
        with pytest.raises(DataFileError, match=r"holds inf at row 3"):
            scan(bad, chunk_rows=2).map_reduce(lambda c: c["x"].sum())


def test_text_in_a_numeric_csv_column_after_the_first_block(tmp_path, monkeypatch):
    from mlemap.data import csv_files

    monkeypatch.setattr(csv_files, "BLOCK_BYTES", 256)
    path = tmp_path / "late.csv"
    path.write_text("x\n" + "".join(f"{i}\n" for i in range(200)) + "oops\n")
    src = scan(str(path))
    with pytest.raises(DataFileError, match=r"rows after row \d+ of the CSV file '.*late\.csv'.*invalid value 'oops'"):
        src.map_reduce(lambda c: c["x"].sum())


def test_text_columns_need_a_formula_and_empty_files_have_no_rows(table_writer, mixed_table):
    table, _ = mixed_table(10)
    path = table_writer(table, "data", "parquet")
    with pytest.raises(DataFileError, match="'g' holds text.*C\\(g\\)"):
        scan(path).map_reduce(lambda c: 0)
    empty = table_writer(pa.table({"x": pa.array([], pa.float64())}), "empty", "parquet")
    with pytest.raises(DataFileError, match="hold no rows"):
        scan(empty).map_reduce(lambda c: c["x"].sum())


def test_progress_bar_per_pass_and_silence(table_writer, capsys):
    path = table_writer(pa.table({"x": np.arange(40.0)}), "data", "parquet")
    src = scan(path, chunk_rows=8, progress=True)
    assert float(src.map_reduce(lambda c: c["x"].sum())) == 780.0
    src.map_reduce(lambda c: c["x"].sum())
    err = capsys.readouterr().err
    assert "pass 1" in err and "pass 2" in err and "40 / 40 rows" in err
    for quiet in (False, None):  # None: only on a terminal, and pytest's capture is not one
        scan(path, chunk_rows=8, progress=quiet).map_reduce(lambda c: c["x"].sum())
        assert capsys.readouterr().err == ""
    with pytest.raises(DataError, match="'progress'"):
        scan(path, progress="yes")


def test_sources_pickle_without_open_files(table_writer):
    import pickle

    path = table_writer(pa.table({"x": np.arange(5.0)}), "data", "csv")
    src = pickle.loads(pickle.dumps(scan(path, chunk_rows=2)))
    assert isinstance(src, FileSource) and float(src.map_reduce(lambda c: c["x"].sum())) == 10.0


_PEAK = textwrap.dedent("""
    import sys
    import torch
    from mlemap.core.sources_files import scan

    def status(key):
        return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith(key + ":"))

    src = scan(sys.argv[1], chunk_rows=int(sys.argv[2]))
    before = status("VmRSS")
    open("/proc/self/clear_refs", "w").write("5")  # the peak from here on (ru_maxrss keeps the parent's)
    src.map_reduce(lambda c: sum(float(v.sum()) for v in c.values()))
    print(status("VmHWM") - before)
""")


def _write_large(path, rows, columns=4):
    rng = np.random.default_rng(0)
    writer = None
    for start in range(0, rows, 1_000_000):
        m = min(1_000_000, rows - start)
        t = pa.table({f"c{j}": rng.standard_normal(m) for j in range(columns)})
        writer = writer or pq.ParquetWriter(path, t.schema)
        writer.write_table(t, row_group_size=500_000)
    writer.close()


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux's /proc to reset the peak")
def test_peak_memory_depends_on_the_chunk_not_on_the_file(tmp_path):
    """Peak resident memory of a pass, in a fresh process: a file 4x larger adds nothing measurable."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    growth = {}
    for rows in (2_000_000, 8_000_000):
        path = str(tmp_path / f"big{rows}.parquet")
        _write_large(path, rows)
        out = subprocess.run([sys.executable, "-c", _PEAK, path, "20000"], capture_output=True, text=True, env=env,
                             check=True)
        growth[rows] = int(out.stdout.strip().splitlines()[-1])
    big_file = 8_000_000 * 4 * 8
    assert 0 < growth[8_000_000] < 0.5 * big_file  # 256 MB of numbers, read a batch at a time
    assert growth[8_000_000] < growth[2_000_000] + 32e6  # a file 4x larger: the same peak


def test_arrow_streams_tab_separated_and_compressed_files(tmp_path):
    import gzip

    import pyarrow.csv as pcsv
    import pyarrow.ipc as ipc

    table = pa.table({"x": np.arange(10.0), "z": np.arange(10.0) ** 2})
    with ipc.new_stream(str(tmp_path / "s.arrows"), table.schema) as writer:
        for batch in table.to_batches(max_chunksize=3):
            writer.write_batch(batch)
    pcsv.write_csv(table, str(tmp_path / "t.tsv"), pcsv.WriteOptions(delimiter="\t"))
    pcsv.write_csv(table, str(tmp_path / "plain.csv"))
    with open(tmp_path / "plain.csv", "rb") as f, gzip.open(tmp_path / "c.csv.gz", "wb") as g:
        g.write(f.read())
    for name in ("s.arrows", "t.tsv", "c.csv.gz"):
        src = scan(str(tmp_path / name), column="z", chunk_rows=4)
        assert src.n_rows == 10 and _concat(src, "z").tolist() == (np.arange(10.0) ** 2).tolist(), name

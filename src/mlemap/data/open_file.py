"""The reader for a data file, chosen by its format (see :mod:`mlemap.data.readers`)."""

from __future__ import annotations

from .files import CSV, IPC, PARQUET, format_of
from .readers import FileReader


def open_reader(path: str, fmt: str | None = None, *, delimiter: str | None = None) -> FileReader:
    """The reader of ``path`` for its format (``fmt`` overrides the suffix)."""
    kind = format_of(path, fmt)
    if kind == PARQUET:
        from .parquet_files import ParquetReader

        return ParquetReader(path)
    if kind == CSV:
        from .csv_files import CsvReader

        return CsvReader(path, delimiter=delimiter)
    assert kind == IPC
    from .ipc_files import IpcReader

    return IpcReader(path)

"""Readers of one data file: its schema up front, then its rows as a stream of Arrow record batches.

Every kind of file (:mod:`~mlemap.data.parquet_files`, :mod:`~mlemap.data.csv_files`,
:mod:`~mlemap.data.ipc_files`) has a reader with the same small interface (and
:func:`mlemap.data.open_file.open_reader` picks the reader for a path):

* ``schema``: the Arrow schema, read when the reader is opened (a Parquet footer, an Arrow IPC
  header, the first block of a CSV file), so that a missing column or a column of the wrong type is
  reported before any row is read;
* ``n_rows``: the number of rows when the file says it without being read (``None`` for CSV);
* ``batches(columns, chunk_rows, kinds)``: the selected columns, a record batch at a time, never
  more than a bounded number of rows in memory; a read failure is a
  :class:`~mlemap.errors.DataFileError` naming the file (and the Parquet row group).

Readers hold no open file between passes and pickle as their path and schema.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

from ..errors import DataFileError


class FileReader:
    """Base class (see the module docstring)."""

    kind: str = ""

    def __init__(self, path: str):
        self.path = path
        self.schema = None
        self.n_rows: int | None = None

    def batches(self, columns: Sequence[str], chunk_rows: int, kinds: Mapping[str, str]) -> Iterator:
        raise NotImplementedError  # pragma: no cover - every reader overrides

    def count_rows(self) -> int:
        """The number of rows (a pass over the file where the format does not record it)."""
        if self.n_rows is None:
            first = self.schema.names[:1]
            self.n_rows = sum(b.num_rows for b in self.batches(first, 1 << 20, {}))
        return self.n_rows


def unreadable(path: str, kind: str, exc: BaseException, *, where: str = "", row_group: int | None = None,
               fix: str | None = None) -> DataFileError:
    """The error for a file (or part of one) that cannot be read, with the reader's reason."""
    if isinstance(exc, FileNotFoundError):
        return DataFileError(f"The file '{path}' does not exist (any more).", path=path, row_group=row_group)
    reason = (" ".join(str(exc).split()) or type(exc).__name__).rstrip(".")
    place = f"{where} of " if where else ""
    fix = fix or f"The file may be corrupt or not a {kind} file; rewrite it, or leave it out of the scan."
    return DataFileError(
        f"Cannot read {place}the {kind} file '{path}': {reason[:300]}. {fix}",
        path=path,
        row_group=row_group,
    )

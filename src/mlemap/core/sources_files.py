"""Data in files, read chunk by chunk: ``mm.scan("events/*.parquet")``.

:func:`scan` opens every file named (a path, a glob, a folder or a list: see
:mod:`mlemap.data.files`), reads their schemas and checks the selected columns up front (present in
every file, of a readable type, of the same kind everywhere), and returns a :class:`FileSource`: a
:class:`~mlemap.core.source.DataSource` whose chunks are read from the files, in order, each pass
anew. Nothing is kept between passes, so memory depends on the chunk size (``chunk_rows``), never
on the size of the files; the next chunk is read on a thread while the current one is reduced
(:mod:`~mlemap.data.prefetch`), and a reduction's function sees each chunk in cache-sized pieces
(:mod:`~mlemap.core.sources_pieces`):

.. math:: \\text{map\\_reduce}(f) = \\sum_{\\text{files}} \\sum_{\\text{chunks } c} f(c)

Chunks hold the selected columns as torch tensors (float64 unless ``dtype="float32"``; booleans as
0/1) on ``device``. A missing value, or a NaN or infinity (checked during the first complete pass),
is a :class:`~mlemap.errors.DataFileError` naming the file, the column and the row. Text columns
serve formulas: :meth:`FileSource.raw` yields the columns as they are (NumPy arrays of numbers,
booleans or strings) for :class:`~mlemap.core.sources_design.DesignSource`.
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Sequence

from ..data.arrow_columns import (
    NUMBER,
    TEXT,
    column_kinds,
    first_null,
    rebatch,
    to_numpy,
)
from ..data.prefetch import prefetched
from ..data.progress import check_progress, pass_progress
from ..errors import DataError, DataFileError
from .source import Chunk, DataSource
from .sources_pieces import PieceWise

#: numbers per chunk read from a file (rows x selected columns): 8 MB of float64 per column
FILE_CHUNK_ELEMENTS = 1 << 20
MISSING = ("error", "keep")


def scan(path, column: str | None = None, columns: Sequence[str] | None = None, *, chunk_rows: int | None = None,
         format: str | None = None, delimiter: str | None = None, progress: bool | None = None, dtype: Any = None,
         device: Any = None) -> "FileSource":
    """A lazy, chunked source over Parquet, CSV or Arrow IPC files (see the module docstring).

    Parameters
    ----------
    path : str, path-like, or a list of them
        A file, a glob pattern (``"events/*.parquet"``, ``"logs/**/*.csv"``), a folder, or a list.
    column : str, optional
        The one column to read (for a distribution fit: ``mm.fit("studentt", mm.scan(f, column="x"))``).
    columns : list of str, optional
        The columns to read (default: every column of the first file).
    chunk_rows : int, optional
        Rows per chunk (default: about a million numbers per chunk). Memory grows with it; the
        results do not depend on it beyond rounding.
    format : {"parquet", "csv", "tsv", "arrow"}, optional
        The format of every file (default: from each file's suffix).
    delimiter : str, optional
        The CSV field separator (default ``","``, a tab for ``.tsv``).
    progress : bool, optional
        A progress bar per pass (default: when standard error is a terminal).
    dtype, device :
        Of the chunks' tensors: float64 (default) or float32; the CPU (default) or a torch device.
    """
    from ..data.convert import resolve_dtype
    from ..data.files import expand_paths
    from ..data.open_file import open_reader

    if column is not None and columns is not None:
        raise DataError("Give either 'column' (one name) or 'columns' (a list of names) to scan(), not both.")
    if column is not None:
        if not isinstance(column, str):
            raise DataError(f"The 'column' argument of scan() must be a column name. Got {column!r}.")
        columns = [column]
    if columns is not None:
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns) or not columns:
            raise DataError(f"The 'columns' argument of scan() must be a non-empty list of column names. "
                            f"Got {columns!r}.")
        columns = list(dict.fromkeys(columns))
    readers = [open_reader(p, format, delimiter=delimiter) for p in expand_paths(path)]
    if columns is None:
        columns = list(readers[0].schema.names)
    kinds = column_kinds([(r.path, r.schema) for r in readers], columns)
    return FileSource(readers, kinds, chunk_rows=chunk_rows, dtype=resolve_dtype(dtype), device=device,
                      progress=check_progress(progress))


class FileSource(DataSource):
    """Chunks read from files, pass after pass (built by :func:`scan`)."""

    def __init__(self, readers, kinds: dict[str, str], *, chunk_rows: int | None, dtype, device, progress,
                 raw: bool = False, missing: str = "error"):
        self.readers = list(readers)
        self.kinds = dict(kinds)
        self.columns = tuple(kinds)
        if chunk_rows is None:
            chunk_rows = max(1024, FILE_CHUNK_ELEMENTS // max(1, len(self.columns)))
        if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows < 1:
            raise DataError(f"The 'chunk_rows' argument must be a positive integer. Got {chunk_rows!r} instead.")
        if missing not in MISSING:
            raise DataError(f"The 'missing' argument must be one of {', '.join(MISSING)}. Got {missing!r}.")
        self.chunk_rows = chunk_rows
        self.dtype = dtype
        self.device = device
        self.progress = progress
        self.is_raw = raw
        self.missing = missing
        self.passes = 0
        self._verified = raw  # finiteness is checked during the first complete pass of tensor chunks

    # ------------------------------------------------------------------ facts
    @property
    def files(self) -> list[str]:
        return [r.path for r in self.readers]

    @property
    def n_rows(self) -> int:
        return sum(r.count_rows() for r in self.readers)

    def rows_known(self) -> int | None:
        """The rows the files' metadata record (Parquet; a CSV's are known only after a pass)."""
        counts = [r.n_rows for r in self.readers]
        return None if any(c is None for c in counts) else int(sum(counts))

    def __repr__(self) -> str:
        return f"FileSource({self._what()}, columns={list(self.columns)}, chunk_rows={self.chunk_rows})"

    def locate(self, row: int) -> str | None:
        """``"row r of the file f"`` for the ``row``-th row counted over every file (None past the end)."""
        for reader in self.readers:
            n = reader.count_rows()
            if row < n:
                return f"row {row} of the file '{reader.path}'"
            row -= n
        return None

    def _what(self) -> str:
        return os.path.basename(self.files[0]) if len(self.readers) == 1 else f"{len(self.readers)} files"

    # ------------------------------------------------------------------ views
    def raw(self, *, missing: str = "error", columns: Sequence[str] | None = None) -> "FileSource":
        """The same files, chunks holding the columns as they are (NumPy arrays of numbers, integers kept,
        booleans, text as ``str`` objects); ``missing="keep"`` leaves missing values in (NaN or None) for the caller."""
        kinds = self.kinds if columns is None else self._kinds(columns)
        return FileSource(self.readers, kinds, chunk_rows=self.chunk_rows, dtype=self.dtype, device=self.device,
                          progress=self.progress, raw=True, missing=missing)

    def _kinds(self, columns: Sequence[str]) -> dict[str, str]:
        return column_kinds([(r.path, r.schema) for r in self.readers], list(columns))

    # ------------------------------------------------------------------ passes
    def batches(self) -> Iterator[tuple[str, int, Any]]:
        """``(path, first row in that file, record batch)`` of ``chunk_rows`` rows, file after file."""
        for reader in self.readers:
            offset = 0
            for batch in rebatch(reader.batches(self.columns, self.chunk_rows, self.kinds), self.chunk_rows):
                yield reader.path, offset, batch
                offset += batch.num_rows

    def chunks(self) -> Iterator[Chunk]:
        if not self.is_raw:
            text = [c for c, k in self.kinds.items() if k == TEXT]
            if text:
                raise DataFileError(
                    f"The column '{text[0]}' holds text, and a fit needs numbers. Select numeric columns "
                    f"(scan(..., columns=[...])) or use a formula, which reads text as categories "
                    f"(mm.regress('y ~ C({text[0]}) + ...', data=source)).",
                    path=self.files[0],
                )
        self.passes += 1
        total = sum(r.n_rows for r in self.readers) if all(r.n_rows is not None for r in self.readers) else None
        check = not self._verified
        with pass_progress(self.progress, f"{self._what()} · pass {self.passes}", total) as advance:
            for chunk, rows in prefetched(self._converted(check)):
                yield chunk
                advance(rows)
        self._verified = True

    def _converted(self, check_finite: bool) -> Iterator[tuple[Chunk, int]]:
        for path, offset, batch in self.batches():
            yield self._chunk(path, offset, batch, check_finite), batch.num_rows

    def _chunk(self, path: str, offset: int, batch, check_finite: bool) -> Chunk:
        from ..data.chunks import as_tensor, first_non_finite

        out = {}
        for name, kind in self.kinds.items():
            array = batch.column(name)
            if self.missing == "error":
                row = first_null(array)
                if row is not None:
                    raise DataFileError(
                        f"The column '{name}' of the file '{path}' has a missing value at row {offset + row} (rows "
                        "counted from 0 in that file). Fill in or drop missing values first"
                        + (", or pass missing='drop' to the formula." if self.is_raw else "."),
                        path=path,
                    )
            values = to_numpy(array, kind, keep_integers=self.is_raw)
            if self.is_raw:
                out[name] = values
                continue
            if check_finite and kind == NUMBER:
                row = first_non_finite(values)
                if row is not None:
                    raise DataFileError(
                        f"The column '{name}' of the file '{path}' holds {values[row]} at row {offset + row} (rows "
                        "counted from 0 in that file); the data must be finite. Remove or replace such values first.",
                        path=path,
                    )
            out[name] = as_tensor(values, self.dtype, self.device)
        return out

    def map_reduce(self, fn):
        """``fn`` over every chunk (in cache-sized pieces), added in chunk order."""
        piecewise = PieceWise(fn)
        total, empty = None, True
        for chunk in self.chunks():
            part = piecewise(chunk)
            total = part if empty else total + part
            empty = False
        if empty:
            raise DataFileError(f"The scanned files hold no rows ({self._what()}).", path=self.files[0])
        return total

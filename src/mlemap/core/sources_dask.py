"""Data in a Dask cluster: the partitions of dask arrays or a dask DataFrame, evaluated where they live.

A :class:`DaskSource` is a :class:`~mlemap.core.source.DataSource` whose chunks are the partitions
of a Dask collection (row blocks of dask arrays aligned on their rows, or the partitions of a dask
DataFrame). Its reduction runs ``fn`` on the workers, one task per partition (in cache-sized pieces:
:mod:`~mlemap.core.sources_pieces`), and adds the results on the driver in a fixed pairwise tree (so
a pass gives the same bits whichever worker finished first):

.. math:: \\text{map\\_reduce}(f) = \\sum_{p \\in \\text{partitions}} f(\\text{chunk}_p)

Dask is the distributed engine: the tasks go to whatever ``distributed.Client`` is active (a
``LocalCluster``, or a real cluster's scheduler), or to Dask's local scheduler when there is none.
With a client the collection is persisted once (``persist=True``), so later passes read the
partitions from the workers' memory, and a pass is one task submitted per partition on the futures
of the persisted partitions (no graph to build or optimise); a worker lost during a pass only makes
Dask recompute the partitions it held, and the sum is unchanged. Inside worker processes torch is
set to one thread (the workers are the parallelism) and the allocator keeps NumPy's temporaries on
the heap while a task runs (:mod:`~mlemap.core.worker_allocator`). Only ``f``'s results travel to the driver: contributions
(a value, a gradient, a Hessian) or sufficient statistics, never rows.

Chunks hold float64 tensors (or ``dtype``) on ``device``, ``X`` a NumPy design matrix and label
columns int64 (see :mod:`mlemap.data.chunks`); a NaN or infinity is a
:class:`~mlemap.errors.DataError` naming the column and the partition. :meth:`DaskSource.raw`
yields the columns as they are, for :class:`~mlemap.core.sources_design.DesignSource` (formulas
on dask DataFrames).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ..data.arrow_columns import BOOLEAN, NUMBER, TEXT
from ..data.progress import check_progress, pass_progress
from ..errors import DataError
from .source import Chunk, DataSource
from .sources_pieces import PieceWise
from .worker_allocator import roomy_allocator

_FRAME = "__frame__"


def active_client(client=None):
    """``client``, else the active ``distributed.Client``, else ``None`` (Dask's local scheduler)."""
    if client is not None:
        return client
    try:
        from distributed import default_client
    except ImportError:  # pragma: no cover - dask without distributed
        return None
    try:
        return default_client()
    except ValueError:
        return None


class DaskSource(DataSource):
    """The partitions of a Dask collection as chunks (see the module docstring).

    ``data`` is a dask DataFrame (``columns`` selects some), or a dict of column name -> dask array
    or dask Series with the same number of rows (``"X"`` may be 2-D).
    """

    def __init__(self, data, *, columns: Sequence[str] | None = None, client=None, persist: bool = True,
                 progress: bool | None = None, dtype: Any = None, device: Any = None, labels: Sequence[str] = ()):
        from ..data.convert import resolve_dtype

        self.client = active_client(client)
        parts, rows, kinds, frame, held = _partitions(data, columns, self.client, persist)
        self._parts, self._rows = parts, rows
        self._on_futures = self.client is not None and persist
        self._held = held  # the persisted collections: their partitions stay on the workers while held
        self.kinds = kinds
        self.columns = tuple(kinds)
        self.convert = Converter(frame=frame, columns=self.columns, kinds=kinds, dtype=resolve_dtype(dtype),
                                 device=device, labels=tuple(labels), raw=False, missing="error",
                                 driver=os.getpid())
        self.progress = check_progress(progress)
        self.passes = 0

    # ------------------------------------------------------------------ facts
    @property
    def n_rows(self) -> int:
        return int(sum(self._rows))

    def rows_known(self) -> int:
        return self.n_rows

    @property
    def n_partitions(self) -> int:
        return len(self._parts)

    def locate(self, row: int) -> str | None:
        """``"row r of partition p"`` for the ``row``-th row counted over every partition (None past the end)."""
        for index, n in enumerate(self._rows):
            if row < n:
                return f"row {row} of partition {index}"
            row -= int(n)
        return None

    def __repr__(self) -> str:
        return f"DaskSource({self.n_partitions} partitions, columns={list(self.columns)})"

    def __getstate__(self):
        # a reduction's function may hold the source (an objective does); the copy that travels
        # to the workers is never evaluated there, so it carries no client and no collection
        return {"columns": self.columns, "kinds": self.kinds, "_parts": None, "_held": None, "client": None,
                "_on_futures": False}

    def raw(self, *, missing: str = "error", columns: Sequence[str] | None = None) -> "DaskSource":
        """The same partitions, chunks holding the columns as they are (NumPy arrays; text as objects);
        ``missing="keep"`` leaves missing values in (NaN or None)."""
        new = object.__new__(DaskSource)
        new.__dict__.update(self.__dict__)
        cols = self.columns if columns is None else tuple(columns)
        unknown = [c for c in cols if c not in self.kinds]
        if unknown:
            raise DataError(f"No column '{unknown[0]}' in the Dask data. The columns are: {', '.join(self.columns)}.")
        new.kinds = {c: self.kinds[c] for c in cols}
        new.columns = cols
        new.convert = Converter(**{**self.convert.__dict__, "columns": cols, "kinds": new.kinds, "raw": True,
                                   "missing": missing})
        return new

    # ------------------------------------------------------------------ passes
    def _tasks(self, fn, piecewise: bool = True):
        import dask

        fn_node = dask.delayed(PieceWise(fn) if piecewise else fn, name=f"mlemap-fn-{uuid.uuid4().hex}",
                               traverse=False)
        conv = dask.delayed(self.convert, name=f"mlemap-convert-{uuid.uuid4().hex}", traverse=False)
        task = dask.delayed(evaluate_partition, pure=False)
        return [task(fn_node, conv, i, part) for i, part in enumerate(self._parts)]

    def _futures(self, fn, piecewise: bool = True) -> list:
        """One future per partition of ``fn`` of its chunk, computed on the cluster. Persisted
        partitions are futures already: each task is submitted on them (no graph to build)."""
        if not self._on_futures:
            return self.client.compute(self._tasks(fn, piecewise))
        fn = PieceWise(fn) if piecewise else fn
        return [self.client.submit(evaluate_partition, fn, self.convert, i, part, pure=False)
                for i, part in enumerate(self._parts)]

    def map_reduce(self, fn):
        """``fn`` on every partition where it lives, the results added on the driver in a fixed tree."""
        if self._parts is None:
            raise RuntimeError("a DaskSource is reduced on the driver, not inside a task")
        self.passes += 1
        label = f"{self.n_partitions} Dask partitions · pass {self.passes}"
        with pass_progress(self.progress, label, self.n_rows) as advance:
            if self.client is None:
                import dask

                results = list(dask.compute(*self._tasks(fn)))
                advance(self.n_rows)
            else:
                from distributed import as_completed

                futures = self._futures(fn)
                where = {f.key: i for i, f in enumerate(futures)}
                for done in as_completed(futures):
                    advance(int(self._rows[where[done.key]]))
                results = self.client.gather(futures)
        return tree_sum(results)

    def chunks(self) -> Iterator[Chunk]:
        """Partition after partition, brought to the driver (a reduction should use :meth:`map_reduce`)."""
        for task in self._tasks(_Identity(), piecewise=False):
            if self.client is None:
                yield task.compute()
            else:  # one partition at a time (on persisted partitions as on any others)
                yield self.client.compute(task).result()


class _Identity:
    def __call__(self, chunk):
        return chunk


def tree_sum(parts: list):
    """``parts[0] + parts[1] + ...`` added pairwise in a fixed order (depth log2 of the count)."""
    if not parts:
        raise DataError("The Dask collection has no partitions.")
    while len(parts) > 1:
        parts = [parts[i] + parts[i + 1] if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def evaluate_partition(fn, convert: "Converter", index: int, blocks: dict):
    """The task run on a worker: one partition's chunk, then ``fn`` of it."""
    if os.getpid() == convert.driver:
        return fn(convert(index, blocks))
    import torch

    if torch.get_num_threads() != 1:  # a worker process: the workers are the parallelism
        torch.set_num_threads(1)
    with roomy_allocator():
        return fn(convert(index, blocks))


@dataclass
class Converter:
    """A partition's blocks -> a chunk (picklable; runs on the workers)."""

    frame: bool
    columns: tuple[str, ...]
    kinds: dict[str, str]
    dtype: Any
    device: Any
    labels: tuple[str, ...]
    raw: bool
    missing: str
    driver: int

    def __call__(self, index: int, blocks: dict) -> Chunk:
        import pandas as pd

        from ..data.chunks import first_non_finite, numeric_chunk

        if self.frame:
            part = blocks[_FRAME]
            numbers = () if self.raw else (NUMBER, BOOLEAN)  # nullable integers: missing values become NaN
            arrays = {c: part[c].to_numpy(dtype=np.float64, na_value=np.nan) if self.kinds[c] in numbers
                      else part[c].to_numpy() for c in self.columns}
        else:
            arrays = {c: np.asarray(blocks[c]) for c in self.columns}
        for name, values in arrays.items():
            if self.raw:
                if self.missing == "error" and values.dtype.kind in "fcO" and pd.isna(values).any():
                    row = int(np.flatnonzero(pd.isna(values))[0])
                    raise DataError(f"The column '{name}' has a missing value at row {row} of partition {index}. "
                                    "Fill in or drop missing values first, or pass missing='drop' to the formula.")
                continue
            if self.kinds[name] == TEXT:
                raise DataError(f"The column '{name}' holds text, and a fit needs numbers; use a formula, which reads "
                                f"text as categories (C({name})).")
            if values.dtype.kind == "O":
                values = np.asarray(values, dtype=np.float64)
            row = first_non_finite(values) if values.dtype.kind == "f" else None
            if row is not None:
                bad = np.ravel(values[row])[0]
                what = "a missing value (NaN)" if np.isnan(bad) else bad
                raise DataError(f"The column '{name}' holds {what} at row {row} of partition {index}; the data must "
                                "be finite. Remove or replace such values first.")
        if self.raw:
            return arrays
        return numeric_chunk(arrays, dtype=self.dtype, device=self.device, labels=self.labels)


# ---------------------------------------------------------------------- collections -> partitions
def _partitions(data, columns, client, persist: bool):
    """``(partitions as dicts of blocks, rows per partition, kinds, is a frame, the collections)``; the blocks
    are futures when persisted on a client, delayed objects otherwise."""
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(data, dd.DataFrame):
        frame = data if columns is None else data[list(columns)]
        kinds = {str(c): _kind(frame[c].dtype, c) for c in frame.columns}
        frame = frame.rename(columns={c: str(c) for c in frame.columns})
        # the partitions are persisted as they will be read (no later optimisation of a persisted
        # collection, which can refer to keys it has fused away)
        blocks = frame.to_delayed()
        if persist and client is not None:
            blocks = _as_futures(client.persist(blocks), blocks)
            rows = client.gather([client.submit(len, b, pure=False) for b in blocks])
        else:
            import dask

            sizes = [dask.delayed(len)(b) for b in blocks]
            rows = client.gather(client.compute(sizes)) if client is not None else dask.compute(*sizes)
        parts = [{_FRAME: p} for p in blocks]
        return parts, np.asarray(rows, dtype=np.int64), kinds, True, blocks
    if not isinstance(data, Mapping) or not data:
        raise DataError("The data of a DaskSource must be a dask DataFrame or a dict of column name -> dask array. "
                        f"Got {type(data).__name__}.")
    arrays = {}
    for name, value in data.items():
        if value is None:
            continue
        if isinstance(value, dd.Series):
            value = value.to_dask_array(lengths=True)
        if not isinstance(value, da.Array):
            raise DataError(f"The column '{name}' must be a dask array or Series. Got {type(value).__name__}.")
        if value.ndim not in (1, 2):
            raise DataError(f"The column '{name}' must be 1-D (or 2-D for a design matrix). Got shape {value.shape}.")
        if any(np.isnan(c) for c in value.chunks[0]):
            value = value.compute_chunk_sizes()
        arrays[str(name)] = value
    first = next(iter(arrays.values()))
    lengths = {k: int(v.shape[0]) for k, v in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise DataError(f"The columns of a DaskSource must have the same number of rows; got {lengths}.")
    row_chunks = first.chunks[0]
    aligned = {k: v.rechunk({0: row_chunks, **({1: -1} if v.ndim == 2 else {})}) for k, v in arrays.items()}
    if persist and client is not None:
        aligned = dict(zip(aligned, client.persist(list(aligned.values())), strict=True))
        blocks = {k: _as_futures(v, v.to_delayed().reshape(-1)) for k, v in aligned.items()}
    else:
        blocks = {k: v.to_delayed().reshape(-1) for k, v in aligned.items()}
    parts = [{k: blocks[k][i] for k in aligned} for i in range(len(row_chunks))]
    kinds = {k: _kind(v.dtype, k) for k, v in aligned.items()}
    return parts, np.asarray(row_chunks, dtype=np.int64), kinds, False, aligned


def _as_futures(persisted, blocks) -> list:
    """The futures of a persisted collection, in the order of its ``blocks`` (delayed, by key)."""
    from distributed import futures_of

    by_key = {f.key: f for f in futures_of(persisted)}
    return [by_key[b.key] for b in blocks]


def _kind(dtype, name) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_numeric_dtype(dtype):
        return NUMBER
    types = pd.api.types
    if types.is_object_dtype(dtype) or types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return TEXT
    raise DataError(f"The column '{name}' has the type {dtype}, which mlemap cannot read (numbers, booleans, text).")

"""Data sources: rows of data yielded in chunks, evaluated where they live.

Every estimation problem reads its data through a :class:`DataSource`. A source knows its columns
and how many rows it has, yields *chunks* (a dict of column name -> rows, each a ``torch.Tensor``
or a NumPy array) and reduces a function over them:

.. math:: \\text{map\\_reduce}(f) = \\sum_{c \\in \\text{chunks}} f(c)

where the sum is the ``+`` of whatever ``f`` returns (a :class:`~mlemap.core.Contribution`, a
:class:`~mlemap.families.statistics.SufficientStatistics`, a number). The objective, its gradient
and Hessian, the sufficient statistics and the initial values are all such reductions, so a source
that holds its rows elsewhere (a file read chunk by chunk, the partitions of a Dask collection, a
tensor on a GPU) only has to implement :meth:`DataSource.chunks` and, where it can evaluate in
place, :meth:`DataSource.map_reduce`; nothing above the source knows which kind it is.

The in-memory source is the first kind: its chunks are views (no copies) of arrays already in
memory, sized to stay in cache, and large ones are reduced on threads. Row order never matters to
a reduction beyond rounding: sums over chunks are taken in a fixed order (that does not depend on
the number of threads), so the same data in the same order always give the same bits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import reduce
from typing import Any, Callable, Iterator, Mapping, TypeVar

import numpy as np
import torch

T = TypeVar("T")
Chunk = dict[str, Any]

#: numbers per in-memory chunk (rows x width): large enough to amortise Python overhead, small
#: enough for the per-chunk temporaries of a Hessian to stay in cache
CHUNK_ELEMENTS = 1 << 17
MIN_CHUNK_ROWS = 1024
#: in-memory sources of at least this many numbers reduce their chunks on threads
PARALLEL_ELEMENTS = 1 << 22
#: the chunks are reduced in this many consecutive groups, added in order; the grouping does not
#: depend on the number of threads, so the bits of a reduction do not depend on the machine
GROUPS = 8


def _n_rows(value) -> int:
    return int(value.shape[0])


def _take(value, index):
    if isinstance(value, torch.Tensor):
        return value[torch.as_tensor(index, device=value.device)]
    return np.ascontiguousarray(value[index])


class DataSource(ABC):
    """Base class: rows of named columns, yielded in chunks (see the module docstring)."""

    #: column names every chunk carries
    columns: tuple[str, ...] = ()

    @property
    @abstractmethod
    def n_rows(self) -> int:
        """The number of rows."""

    @abstractmethod
    def chunks(self) -> Iterator[Chunk]:
        """The rows, a chunk (a dict of columns) at a time."""

    def map_reduce(self, fn: Callable[[Chunk], T]) -> T:
        """``fn(chunk)`` for every chunk, added with ``+`` in chunk order."""
        return reduce(lambda a, b: a + b, (fn(c) for c in self.chunks()))

    def map(self, fn: Callable[[Chunk], Chunk], columns=None) -> "DataSource":
        """A source whose chunks are ``fn(chunk)`` (a row-wise transformation, such as features);
        ``columns`` names what the chunks then hold (default: the same columns)."""
        return MappedSource(self, fn, columns)

    @property
    def in_memory(self) -> bool:
        return False

    def rows_known(self) -> int | None:
        """The number of rows when it is known without reading the rows (None otherwise): it sizes
        the cutoff of a sample (:func:`~mlemap.core.sources_sample.hash_cutoff`)."""
        return None


class InMemorySource(DataSource):
    """Columns already in memory (tensors or arrays with the same number of rows).

    Chunks are row slices of about :data:`CHUNK_ELEMENTS` numbers; ``chunk_rows`` overrides the
    size (tests use it to prove that results do not depend on the chunking).
    """

    def __init__(self, columns: Mapping[str, Any], *, chunk_rows: int | None = None,
                 constants: Mapping[str, Any] | None = None):
        """``constants`` are values that are not per row (a scalar ``total_count``): every chunk carries them."""
        cols = {k: v for k, v in columns.items() if v is not None}
        if not cols:
            raise ValueError("a data source needs at least one column")
        self.constants = dict(constants or {})
        sizes = {k: _n_rows(v) for k, v in cols.items()}
        n = next(iter(sizes.values()))
        if any(s != n for s in sizes.values()):
            raise ValueError(f"columns of one source must have the same number of rows; got {sizes}")
        self._data = cols
        self.columns = tuple(cols)
        self._n = n
        if chunk_rows is None:
            width = max(int(np.prod(v.shape[1:])) if v.ndim > 1 else 1 for v in cols.values())
            chunk_rows = max(MIN_CHUNK_ROWS, CHUNK_ELEMENTS // max(width, 1))
        self.chunk_rows = max(1, int(chunk_rows))

    @property
    def n_rows(self) -> int:
        return self._n

    def rows_known(self) -> int:
        return self._n

    @property
    def in_memory(self) -> bool:
        return True

    def column(self, name: str):
        """The whole column (no copy)."""
        return self._data[name]

    def get(self, name: str, default=None):
        return self._data.get(name, default)

    def as_dict(self) -> Chunk:
        """All rows as one chunk (no copy)."""
        return {**self._data, **self.constants}

    @property
    def n_chunks(self) -> int:
        return max(1, -(-self._n // self.chunk_rows))

    def chunks(self) -> Iterator[Chunk]:
        for start, stop in self._bounds():
            yield self._chunk(start, stop)

    def _bounds(self) -> list[tuple[int, int]]:
        n, step = self._n, self.chunk_rows
        return [(start, min(start + step, n)) for start in range(0, n, step)] if n > step else [(0, n)]

    def _chunk(self, start: int, stop: int) -> Chunk:
        if start == 0 and stop == self._n:
            return self.as_dict()
        return {**{k: v[start:stop] for k, v in self._data.items()}, **self.constants}

    def map_reduce(self, fn: Callable[[Chunk], T]) -> T:
        """``fn`` over the chunks, added in order within :data:`GROUPS` consecutive groups of chunks
        and then across groups; large CPU sources evaluate the groups on threads (the NumPy and torch
        kernels release the GIL)."""
        bounds = self._bounds()
        if len(bounds) < 2:
            return fn(self._chunk(*bounds[0]))
        size = -(-len(bounds) // GROUPS)
        groups = [bounds[i:i + size] for i in range(0, len(bounds), size)]

        def run(group):
            return reduce(lambda a, b: a + b, (fn(self._chunk(*b)) for b in group))

        threads = min(len(groups), _cpu_threads()) if self._numbers() >= PARALLEL_ELEMENTS and self._on_cpu() else 1
        if threads <= 1:
            return reduce(lambda a, b: a + b, map(run, groups))
        from concurrent.futures import ThreadPoolExecutor

        from .threads import blas_single_thread

        with blas_single_thread(), ThreadPoolExecutor(max_workers=threads) as pool:
            return reduce(lambda a, b: a + b, pool.map(run, groups))

    def _numbers(self) -> int:
        return sum(int(np.prod(v.shape)) for v in self._data.values())

    def _on_cpu(self) -> bool:
        return all(not isinstance(v, torch.Tensor) or v.device.type == "cpu" for v in self._data.values())

    def rechunk(self, chunk_rows: int) -> "InMemorySource":
        return InMemorySource(self._data, chunk_rows=chunk_rows, constants=self.constants)

    def take(self, index) -> "InMemorySource":
        """The rows at ``index`` (an integer array), as a new in-memory source."""
        return InMemorySource({k: _take(v, index) for k, v in self._data.items()}, constants=self.constants)

    def with_columns(self, **columns) -> "InMemorySource":
        return InMemorySource({**self._data, **columns}, chunk_rows=self.chunk_rows, constants=self.constants)


class MappedSource(DataSource):
    """A source transformed chunk by chunk (lazily; nothing is kept)."""

    def __init__(self, base: DataSource, fn: Callable[[Chunk], Chunk], columns=None):
        self.base = base
        self.fn = fn
        self.columns = tuple(base.columns if columns is None else columns)

    def locate(self, row: int) -> str | None:
        """Where the row ``row`` is read from, as the base source says (None if it does not know)."""
        where = getattr(self.base, "locate", None)
        return None if where is None else where(row)

    @property
    def n_rows(self) -> int:
        return self.base.n_rows

    def rows_known(self) -> int | None:
        return self.base.rows_known()

    def chunks(self) -> Iterator[Chunk]:
        for c in self.base.chunks():
            yield self.fn(c)

    def map_reduce(self, fn: Callable[[Chunk], T]) -> T:
        return self.base.map_reduce(Then(self.fn, fn))


@dataclass
class Then:
    """``then(first(chunk))``, as ``then`` asks to see chunks (whole or in pieces); picklable when both are."""

    first: Callable[[Chunk], Chunk]
    then: Callable[[Chunk], Any]

    @property
    def whole_chunks(self) -> bool:
        return bool(getattr(self.then, "whole_chunks", False))

    def __call__(self, chunk: Chunk):
        return self.then(self.first(chunk))


def _cpu_threads() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


def as_source(columns: Mapping[str, Any] | DataSource) -> DataSource:
    """A source from a dict of in-memory columns (a source is returned as it is)."""
    if isinstance(columns, DataSource):
        return columns
    return InMemorySource(columns)

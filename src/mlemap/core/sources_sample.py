"""A sample of rows taken in one pass, the same whatever the order of the rows or the chunking.

Data that are not in memory still need a few things only a sample gives cheaply: starting values,
the centre and spread that standardise a fit, a warm start, a diagnosis of separation. A
:class:`RowSample` keeps the ``size`` *distinct* rows with the smallest hash of their values, each
with the number of times it occurs:

.. math:: S = \\{ r \\in \\text{distinct rows} : h(r) \\le h_{(k)} \\}, \\qquad c_r = \\#\\{i : x_i = r\\}

where :math:`h` is a 64-bit mix (splitmix64) of the rows' float64 bits and :math:`h_{(k)}` the
``size``-th smallest hash. It is a reduction like any other (``a + b`` is the sample of both
parts' rows, exactly), so it is computed where the chunks live, and the result depends only on the
multiset of rows: a row of the global sample has at most ``size - 1`` distinct rows with a smaller
hash in any part, so every part keeps all of its copies, and the counts are exact.

For continuous data (rows all distinct) this is a uniform random sample of ``size`` rows; for
discrete data with few distinct values it is the whole data, compressed to values and counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (wrapping uint64 arithmetic)."""
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


def row_hashes(rows: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of a 2-D float64 array (equal values, ``0.0`` and ``-0.0`` included, hash equally)."""
    bits = np.ascontiguousarray(rows + 0.0, dtype=np.float64).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
    h = np.full(rows.shape[0], _GOLDEN, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(rows.shape[1]):
            h = _mix(h ^ (bits[:, j] + _GOLDEN))
    return h


def _distinct_of_sorted(h: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array, in order."""
    return h if h.size < 2 else h[np.r_[True, h[1:] != h[:-1]]]


def _kth_distinct_of_sorted(h: np.ndarray, k: int):
    """The ``k``-th smallest distinct value of a sorted array (None when there are fewer)."""
    if h.size < k:
        return None
    distinct = _distinct_of_sorted(h)
    return distinct[k - 1] if distinct.size >= k else None


def _kth_distinct(h: np.ndarray, k: int):
    """The ``k``-th smallest distinct value of ``h`` (None when there are fewer)."""
    if h.size > 4 * k:
        candidates = h[h <= np.partition(h, k - 1)[k - 1]]
        distinct = _distinct_of_sorted(np.sort(candidates))
        if distinct.size >= k:
            return distinct[k - 1]
    distinct = _distinct_of_sorted(np.sort(h))
    return distinct[k - 1] if distinct.size >= k else None


@dataclass
class RowSample:
    """Distinct rows (``values``, 2-D float64) with their hashes (sorted) and ``counts`` (see the module docstring)."""

    size: int
    hashes: np.ndarray
    values: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray, size: int) -> "RowSample":
        """The sample of the rows of one chunk (a 2-D float64 array, or 1-D for one column)."""
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim == 1:
            rows = rows[:, None]
        h = row_hashes(rows)
        limit = _kth_distinct(h, size) if h.size > size else None
        index = np.arange(h.size) if limit is None else np.flatnonzero(h <= limit)
        # any sort will do: equal hashes are ordered by value below
        index = index[np.argsort(h[index])]
        return cls._merge_ties(size, h[index], np.take(rows, index, axis=0), np.ones(index.size))

    @staticmethod
    def _merge_ties(size: int, h: np.ndarray, rows: np.ndarray, counts: np.ndarray) -> "RowSample":
        """Rows sorted by hash: equal hashes ordered by value, identical rows merged (counts added)."""
        tied = np.r_[False, h[1:] == h[:-1]] if h.size else np.zeros(0, dtype=bool)
        if not tied.any():
            return RowSample(size, h, rows, counts)
        index = np.flatnonzero(tied)
        if not np.all(rows[index] == rows[index - 1]):
            # distinct rows with one hash (rare): ties broken by value, so the order is the data's own
            order = np.lexsort(tuple(rows[:, j] for j in range(rows.shape[1] - 1, -1, -1)) + (h,))
            h, rows, counts = h[order], rows[order], counts[order]
            index = np.flatnonzero(np.r_[False, h[1:] == h[:-1]])
        same = np.zeros(h.size, dtype=bool)
        same[index] = np.all(rows[index] == rows[index - 1], axis=1)
        if same.any():
            group = np.cumsum(~same) - 1
            counts = np.bincount(group, weights=counts)
            h, rows = h[~same], rows[~same]
        return RowSample(size, h, rows, counts)

    def __add__(self, other: "RowSample") -> "RowSample":
        if not isinstance(other, RowSample):
            return NotImplemented
        # the kept set is decided on the hashes (both parts sorted: a stable sort merges two runs),
        # and the rows are gathered once
        limits = [x for x in (self._limit(), other._limit()) if x is not None]
        h = np.concatenate([self.hashes, other.hashes])
        order = np.argsort(h, kind="stable")
        h = h[order]
        kth = _kth_distinct_of_sorted(h, self.size)
        if kth is not None:
            limits.append(kth)
        if limits:
            kept = int(np.searchsorted(h, min(limits), side="right"))
            h, order = h[:kept], order[:kept]
        rows = np.take(np.concatenate([self.values, other.values]), order, axis=0)
        counts = np.concatenate([self.counts, other.counts])[order]
        return RowSample._merge_ties(self.size, h, rows, counts)

    def _limit(self):
        """The largest hash this part is complete up to (None: it holds every distinct row of its data)."""
        if self.hashes.size < self.size or _distinct_of_sorted(self.hashes).size < self.size:
            return None
        return self.hashes[-1]

    @property
    def n_distinct(self) -> int:
        return int(self.hashes.size)

    @property
    def total(self) -> float:
        """Rows of the data the sample stands for when it is complete (all distinct rows kept)."""
        return float(self.counts.sum())

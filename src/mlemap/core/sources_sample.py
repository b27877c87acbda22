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

A part need not send all of its ``size`` smallest rows when the number of rows :math:`N` of the
whole data is known: with a *cutoff* :math:`t` (:func:`hash_cutoff`, set so that about
:math:`1.5 k` of the :math:`N` rows hash below it) each part keeps only its rows with
:math:`h \\le t`. Whenever the merged parts still hold ``size`` distinct rows, the result is the
same sample, bit for bit (the ``size``-th smallest hash is then below the cutoff); otherwise
(discrete data with few distinct values below the cutoff) the sample says so
(:attr:`RowSample.short`) and the caller takes it again without a cutoff.
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


def _min_known(a, b):
    """The smaller of two limits, either of which may be None (no limit)."""
    if a is None:
        return b
    return a if b is None else min(a, b)


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
        found = _kth_distinct_of_sorted(np.sort(h[h <= np.partition(h, k - 1)[k - 1]]), k)
        if found is not None:
            return found
    return _kth_distinct_of_sorted(np.sort(h), k)


def hash_cutoff(total_rows: int | None, size: int, oversample: float = 1.5):
    """The hash below which about ``oversample * size`` of ``total_rows`` rows fall (a ``np.uint64``),
    or None (no cutoff) when the number of rows is unknown or not far above ``size``."""
    if total_rows is None or total_rows <= 4 * size:
        return None
    return np.uint64(min(2.0**64 - 2.0**12, 2.0**64 * oversample * size / total_rows))


@dataclass
class RowSample:
    """Distinct rows (``values``, 2-D float64) with their hashes (sorted) and ``counts`` (see the module
    docstring); ``complete_to`` is the largest hash up to which every distinct row of the data is
    kept (None: every distinct row is)."""

    size: int
    hashes: np.ndarray
    values: np.ndarray
    counts: np.ndarray
    complete_to: np.uint64 | None = None

    @classmethod
    def of(cls, rows: np.ndarray, size: int, cutoff=None) -> "RowSample":
        """The sample of the rows of one chunk (a 2-D float64 array, or 1-D for one column); with a
        ``cutoff``, of its rows that hash at most that far."""
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim == 1:
            rows = rows[:, None]
        h = row_hashes(rows)
        index = None if cutoff is None else np.flatnonzero(h <= cutoff)
        below = h if index is None else h[index]
        limit = _kth_distinct(below, size) if below.size > size else None
        if limit is not None:
            kept = np.flatnonzero(below <= limit)
            index = kept if index is None else index[kept]
        elif index is None:
            index = np.arange(h.size)
        # any sort will do: equal hashes are ordered by value below
        index = index[np.argsort(h[index])]
        complete = _min_known(limit, cutoff)
        return cls._merge_ties(size, h[index], np.take(rows, index, axis=0), np.ones(index.size), complete)

    @property
    def short(self) -> bool:
        """Fewer than ``size`` distinct rows although the data may hold more (a cutoff was too low)."""
        return self.complete_to is not None and self.hashes.size < self.size

    @staticmethod
    def _merge_ties(size: int, h: np.ndarray, rows: np.ndarray, counts: np.ndarray, complete_to=None) -> "RowSample":
        """Rows sorted by hash: equal hashes ordered by value, identical rows merged (counts added)."""
        tied = np.r_[False, h[1:] == h[:-1]] if h.size else np.zeros(0, dtype=bool)
        if not tied.any():
            return RowSample(size, h, rows, counts, complete_to)
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
        return RowSample(size, h, rows, counts, complete_to)

    def __add__(self, other: "RowSample") -> "RowSample":
        if not isinstance(other, RowSample):
            return NotImplemented
        # the kept set is decided on the hashes (both parts sorted: a stable sort merges two runs),
        # and the rows are gathered once
        h = np.concatenate([self.hashes, other.hashes])
        order = np.argsort(h, kind="stable")
        h = h[order]
        limit = _min_known(_min_known(self.complete_to, other.complete_to), _kth_distinct_of_sorted(h, self.size))
        if limit is not None:
            kept = int(np.searchsorted(h, limit, side="right"))
            h, order = h[:kept], order[:kept]
        rows = np.take(np.concatenate([self.values, other.values]), order, axis=0)
        counts = np.concatenate([self.counts, other.counts])[order]
        return RowSample._merge_ties(self.size, h, rows, counts, limit)

    @property
    def n_distinct(self) -> int:
        return int(self.hashes.size)

    @property
    def total(self) -> float:
        """Rows of the data the sample stands for when it is complete (all distinct rows kept)."""
        return float(self.counts.sum())

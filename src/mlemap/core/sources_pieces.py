"""Large chunks evaluated in cache-sized pieces.

A file is best read in large batches (fewer, longer reads; a Dask partition is as large as its
owner made it), but a contribution is fastest on pieces that fit in the CPU's cache, the size the
in-memory source uses (:data:`~mlemap.core.source.CHUNK_ELEMENTS` numbers). :class:`PieceWise`
wraps a reduction's function so that it sees pieces of a chunk and returns their sum:

.. math:: f_\\text{piecewise}(c) = \\sum_{p \\in \\text{pieces}(c)} f(p)

which is the same sum, taken in a fixed order. Values that are not per row (a scalar
``total_count``) travel with every piece. A function that is cheaper on the whole chunk than as a
sum of pieces (a survey, whose order-free row sample would otherwise be merged piece by piece)
says so with a true ``whole_chunks`` attribute, and sees the chunk as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .source import CHUNK_ELEMENTS, MIN_CHUNK_ROWS, Chunk


def _rows(value) -> int | None:
    shape = getattr(value, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) >= 1 else None


def piece_rows(chunk: Chunk) -> int:
    """Rows per piece: about :data:`CHUNK_ELEMENTS` numbers of the chunk's widest column."""
    width = max([int(np.prod(v.shape[1:])) for v in chunk.values() if _rows(v) is not None] + [1])
    return max(MIN_CHUNK_ROWS, CHUNK_ELEMENTS // max(width, 1))


def pieces(chunk: Chunk, rows: int):
    """Row slices (views) of ``chunk`` of ``rows`` rows each, the last one shorter."""
    n = max((_rows(v) or 0) for v in chunk.values()) if chunk else 0
    if n <= rows:
        yield chunk
        return
    per_row = {k for k, v in chunk.items() if _rows(v) == n}
    for start in range(0, n, rows):
        yield {k: (v[start:start + rows] if k in per_row else v) for k, v in chunk.items()}


@dataclass
class PieceWise:
    """``fn`` summed over cache-sized pieces of a chunk (picklable: it travels to workers)."""

    fn: Callable[[Chunk], Any]
    rows: int | None = None

    def __call__(self, chunk: Chunk):
        if getattr(self.fn, "whole_chunks", False):
            return self.fn(chunk)
        total = None
        for piece in pieces(chunk, self.rows or piece_rows(chunk)):
            part = self.fn(piece)
            total = part if total is None else total + part
        return total

"""Chunks evaluated in cache-sized pieces: the same sum, every row once, constants carried."""

import numpy as np
import torch

from mlemap.core.source import CHUNK_ELEMENTS, MIN_CHUNK_ROWS
from mlemap.core.sources_pieces import PieceWise, piece_rows, pieces


def test_pieces_are_views_of_every_row_with_constants_attached():
    X = np.arange(20.0).reshape(10, 2)
    chunk = {"X": X, "y": torch.arange(10.0), "total_count": torch.tensor(3.0)}
    parts = list(pieces(chunk, 4))
    assert [len(p["y"]) for p in parts] == [4, 4, 2]
    assert all(p["total_count"] is chunk["total_count"] for p in parts)
    assert np.shares_memory(parts[1]["X"], X) and parts[1]["X"].flags.c_contiguous
    np.testing.assert_array_equal(np.vstack([p["X"] for p in parts]), X)


def test_piecewise_sums_match_the_whole_and_sizes_follow_the_width():
    rng = np.random.default_rng(0)
    chunk = {"X": rng.normal(size=(5000, 3)), "y": torch.from_numpy(rng.normal(size=5000))}
    whole = chunk["X"].sum() + float(chunk["y"].sum())
    calls = []

    def fn(c):
        calls.append(len(c["y"]))
        return c["X"].sum() + float(c["y"].sum())

    assert abs(PieceWise(fn, rows=1000)(chunk) - whole) < 1e-10 * abs(whole) + 1e-12
    assert calls[:5] == [1000] * 5
    assert piece_rows({"X": np.zeros((10, 100))}) == max(MIN_CHUNK_ROWS, CHUNK_ELEMENTS // 100)
    assert piece_rows({"x": torch.zeros(10)}) == CHUNK_ELEMENTS

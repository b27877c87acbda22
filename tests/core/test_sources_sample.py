"""The order-free row sample: merging the samples of any split of the rows gives the sample of them all."""

import numpy as np
import pytest

from mlemap.core.sources_sample import RowSample, row_hashes


def _reference(rows: np.ndarray, size: int):
    """The ``size`` distinct rows with the smallest hashes and their counts, by brute force (dicts)."""
    counts = {}
    for row in map(tuple, rows):
        counts[row] = counts.get(row, 0) + 1
    distinct = np.array(list(counts), dtype=np.float64).reshape(len(counts), rows.shape[1])
    h = row_hashes(distinct)
    order = np.lexsort(tuple(distinct[:, j] for j in range(distinct.shape[1] - 1, -1, -1)) + (h,))
    keep = np.sort(np.unique(h))[:size]
    order = order[np.isin(h[order], keep)]
    return h[order], distinct[order], np.array([counts[tuple(r)] for r in distinct[order]], dtype=float)


@pytest.mark.parametrize("levels", [None, 3, 40])  # continuous rows; few distinct rows; many duplicates
@pytest.mark.parametrize("size", [1, 17, 500])
def test_merged_samples_of_any_split_equal_the_brute_force_sample(levels, size):
    rng = np.random.default_rng(size + (levels or 0))
    n, d = 2000, 2
    rows = rng.standard_normal((n, d)) if levels is None else rng.integers(0, levels, (n, d)).astype(float)
    h, values, counts = _reference(rows, size)
    for trial in range(4):
        cuts = np.sort(rng.integers(0, n, trial * 3))
        parts = [RowSample.of(p, size) for p in np.split(rows[rng.permutation(n)], cuts)]
        rng.shuffle(parts)
        merged = parts[0]
        for part in parts[1:]:
            merged = merged + part if trial % 2 else part + merged
        np.testing.assert_array_equal(merged.hashes, h)
        np.testing.assert_array_equal(merged.values, values)
        np.testing.assert_array_equal(merged.counts, counts)
    if len(h) < size:  # every distinct row kept: the sample stands for all the rows
        assert merged.total == n
    assert not merged.short


@pytest.mark.parametrize("levels", [None, 40])
def test_a_cutoff_gives_the_same_sample_or_says_it_fell_short(levels):
    # parts send only their rows below the cutoff: the merged sample is the same, bit for bit, as long
    # as it holds `size` distinct rows; discrete rows with few distinct values below it fall short
    from mlemap.core.sources_sample import hash_cutoff

    rng = np.random.default_rng(7 + (levels or 0))
    n, d, size = 20_000, 2, 300
    rows = rng.standard_normal((n, d)) if levels is None else rng.integers(0, levels, (n, d)).astype(float)
    cutoff = hash_cutoff(n, size)
    assert cutoff is not None
    h, values, counts = _reference(rows, size)
    cuts = np.sort(rng.integers(0, n, 9))
    pieces = np.split(rows[rng.permutation(n)], cuts)
    merged = sum((RowSample.of(p, size, cutoff) for p in pieces[1:]), RowSample.of(pieces[0], size, cutoff))
    if levels is None:
        assert not merged.short
        sent = sum(RowSample.of(p, size, cutoff).hashes.size for p in pieces)
        assert sent < 3 * size  # about 1.5 size rows in all, not `size` from each of ten parts
        np.testing.assert_array_equal(merged.hashes, h)
        np.testing.assert_array_equal(merged.values, values)
        np.testing.assert_array_equal(merged.counts, counts)
    else:
        assert merged.short and merged.hashes.size < len(h)
        kept = np.isin(h, merged.hashes)  # what it holds is exact: every row below the cutoff, counted
        np.testing.assert_array_equal(merged.counts, counts[kept])


def test_no_cutoff_when_the_rows_are_unknown_or_few():
    from mlemap.core.sources_sample import hash_cutoff

    assert hash_cutoff(None, 50_000) is None
    assert hash_cutoff(150_000, 50_000) is None
    assert hash_cutoff(10_000_000, 50_000) == np.uint64(2.0**64 * 75_000 / 10_000_000)

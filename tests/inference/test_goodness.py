"""Pearson's chi-square of a discrete fit: one cell per value on narrow supports, at most
``MAX_CELLS`` intervals on wide ones (counts near 1e300 included)."""

import numpy as np
from scipy import stats

import mlemap as mm
from mlemap.inference.goodness import MAX_CELLS, goodness_of_fit


def _pearson_by_hand(x, rate):
    """Cells 0..max with the tails folded into the end cells, merged from the tails until every
    expected count is at least 5 (the rule of the module), computed from scipy's Poisson."""
    values = np.arange(x.min(), x.max() + 1)
    observed = np.array([(x == v).sum() for v in values], float)
    probs = stats.poisson.pmf(values, rate)
    probs[0] += stats.poisson.cdf(values[0] - 1, rate)
    probs[-1] += stats.poisson.sf(values[-1], rate)
    expected = x.size * probs
    obs, exp = list(observed), list(expected)

    def fold(i, j):  # add cell i to cell j, then drop cell i
        obs[j] += obs[i]
        exp[j] += exp[i]
        del obs[i], exp[i]

    while exp[0] < 5:
        fold(0, 1)
    while exp[-1] < 5:
        fold(len(exp) - 1, len(exp) - 2)
    i = 1
    while i < len(exp) - 1:
        if exp[i] < 5:
            fold(i, i + 1)
        else:
            i += 1
    obs, exp = np.array(obs), np.array(exp)
    return float(np.sum((obs - exp) ** 2 / exp)), len(obs) - 2


def test_narrow_support_matches_the_cell_by_cell_statistic():
    x = np.random.default_rng(4).poisson(3.0, 300)
    gof = goodness_of_fit(mm.fit("poisson", x))
    chi2, df = _pearson_by_hand(x, x.mean())
    np.testing.assert_allclose(gof.chi2, chi2, rtol=1e-10)
    assert gof.chi2_df == df
    np.testing.assert_allclose(gof.chi2_pvalue, stats.chi2.sf(chi2, df), rtol=1e-10)


def test_wide_support_is_cut_into_at_most_max_cells_intervals():
    x = np.random.default_rng(5).poisson(5e7, 400)  # a range of ~1e5 whole numbers
    assert x.max() - x.min() + 1 > MAX_CELLS
    gof = goodness_of_fit(mm.fit("poisson", x))
    assert np.isfinite(gof.chi2) and 0 < gof.chi2_df < MAX_CELLS
    assert gof.chi2_pvalue > 1e-4  # Poisson data fit by the Poisson


def test_counts_near_1e300_give_no_error():
    gof = goodness_of_fit(mm.fit("poisson", [1e300, 2e300, 3e300]))
    assert gof.chi2 is None or np.isfinite(gof.chi2)

"""Goodness-of-fit statistics of a fitted univariate family.

* Kolmogorov–Smirnov: :math:`D = \\sup_x |F_n(x) - \\hat F(x)|` (weighted empirical CDF with weights).
* Anderson–Darling: :math:`A^2 = -n - \\tfrac1n \\sum_{i=1}^n (2i - 1)\\,[\\log \\hat F(x_{(i)}) + \\log(1 - \\hat F(x_{(n+1-i)}))]`,
  which weights the tails more than KS.
* For discrete families, Pearson's :math:`X^2 = \\sum_j (O_j - E_j)^2 / E_j` over the support, with
  tail cells merged until every expected count is at least 5, and :math:`\\text{cells} - 1 - k` degrees
  of freedom.

The parameters are estimated from the same data, so the classical KS p-value would be
conservative; the statistics are reported for comparing fits, not as exact tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..families.scipy_map import to_scipy


@dataclass(frozen=True)
class GoodnessOfFit:
    ks: float | None = None
    ad: float | None = None
    chi2: float | None = None
    chi2_df: int | None = None
    chi2_pvalue: float | None = None


def goodness_of_fit(result) -> GoodnessOfFit:
    """KS and AD for continuous families, Pearson's chi-square for discrete ones; ``None`` where undefined."""
    problem = result.problem
    if not getattr(problem, "in_memory", True) or problem.x.dim() != 1:
        return GoodnessOfFit()  # the statistics sort every row: not computed for data read in passes
    dist = to_scipy(result.family_name, {**result.fixed, **result.params})
    if dist is None:
        return GoodnessOfFit()
    x = problem.x.detach().cpu().numpy()
    w = None if problem.weights is None else problem.weights.detach().cpu().numpy()
    if problem.family.discrete:
        return _chi_square(dist, x, w, result.k)
    return GoodnessOfFit(ks=_ks(dist, x, w), ad=_ad(dist, x, w))


def _ks(dist, x: np.ndarray, w: np.ndarray | None) -> float:
    order = np.argsort(x)
    xs = x[order]
    ws = np.ones_like(xs) if w is None else w[order]
    cum = np.cumsum(ws) / ws.sum()
    before = np.concatenate([[0.0], cum[:-1]])
    cdf = dist.cdf(xs)
    return float(max(np.max(cum - cdf), np.max(cdf - before)))


def _ad(dist, x: np.ndarray, w: np.ndarray | None) -> float | None:
    if w is not None:
        if not np.allclose(w, np.round(w)) or w.sum() > 5_000_000:
            return None
        x = np.repeat(x, np.round(w).astype(int))
    xs = np.sort(x)
    n = xs.size
    logcdf = dist.logcdf(xs)
    logsf = dist.logsf(xs[::-1])
    i = np.arange(1, n + 1)
    value = -n - np.sum((2 * i - 1) * (logcdf + logsf)) / n
    return float(value) if math.isfinite(value) else math.inf


#: the most cells of Pearson's statistic before merging: wider supports are cut into this many
#: intervals of whole numbers of equal length
MAX_CELLS = 10_000


def _chi_square(dist, x: np.ndarray, w: np.ndarray | None, k: int) -> GoodnessOfFit:
    weights = np.ones_like(x) if w is None else w
    n = weights.sum()
    lo, hi = float(x.min()), float(x.max())
    # cell j holds the whole numbers in [edges[j], edges[j + 1]); one value per cell when the range is small
    edges = np.unique(np.floor(np.linspace(lo, hi + 1, int(min(hi - lo + 1, MAX_CELLS)) + 1)))
    if edges.size < 2:  # the values are too large for whole-number steps to be represented
        return GoodnessOfFit()
    cell = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    observed = np.bincount(cell, weights=weights, minlength=edges.size - 1)
    below = dist.cdf(edges - 1)  # P(X < edge)
    probs = np.diff(below)
    probs[0] += below[0]  # the tails belong to the end cells
    probs[-1] += dist.sf(edges[-1] - 1)
    expected = n * probs
    obs_cells, exp_cells = _merge_small(observed, expected)
    if len(obs_cells) < 2:
        return GoodnessOfFit()
    chi2 = float(np.sum((obs_cells - exp_cells) ** 2 / exp_cells))
    df = len(obs_cells) - 1 - k
    pvalue = float(stats.chi2.sf(chi2, df)) if df > 0 else None
    return GoodnessOfFit(chi2=chi2, chi2_df=df if df > 0 else None, chi2_pvalue=pvalue)


def _merge_small(observed: np.ndarray, expected: np.ndarray, minimum: float = 5.0):
    """Merge neighbouring cells until every expected count is at least ``minimum`` (tails first)."""
    obs, exp = list(map(float, observed)), list(map(float, expected))

    def merge(i: int, j: int) -> None:  # fold cell i into its neighbour j
        o, e = obs[i], exp[i]
        obs[j] += o
        exp[j] += e
        del obs[i], exp[i]

    while len(exp) > 1 and exp[0] < minimum:
        merge(0, 1)
    while len(exp) > 1 and exp[-1] < minimum:
        merge(len(exp) - 1, len(exp) - 2)
    i = 1
    while i < len(exp) - 1:
        if exp[i] < minimum:
            merge(i, i + 1)
        else:
            i += 1
    return np.array(obs), np.array(exp)

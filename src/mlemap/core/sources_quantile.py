"""Exact quantiles of a column that is read chunk by chunk (the Laplace MLE's median, say).

A quantile is the smallest value :math:`v` whose cumulative weight :math:`W(x \\le v)` reaches a target
:math:`t` (:math:`t = k + 1` for the ``k``-th order statistic, :math:`t = qW` for a weighted quantile).
It is found in passes, each a reduction (:class:`Bracket`):

1. the order-free sample of the rows brackets :math:`v` between two of its quantiles, and gives
   thresholds spread over the data;
2. a pass adds up the weight below the bracket and at each threshold, and keeps the distinct values
   inside the bracket with their weights (a few percent of the rows for continuous data, a handful
   of values for discrete data);
3. the answer is read off the kept values; if the bracket missed or kept too many values, the next
   pass looks between the two thresholds around :math:`t`, which always narrows the search.

The conventions are those of the in-memory fit (:func:`~mlemap.families.location_scale.weighted_median`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

#: distinct values a pass may keep (8 bytes and a weight each)
KEEP = 4_000_000
THRESHOLDS = 255


@dataclass
class Tally:
    """What one pass learns about ``[low, high]``; ``a + b`` merges two parts."""

    below: float  # weight of x < low
    at: np.ndarray  # weight of x < threshold_j
    values: np.ndarray | None  # distinct values in [low, high] (None: too many)
    weights: np.ndarray | None
    above: float  # the smallest value above high (inf if none)

    def __add__(self, other: "Tally") -> "Tally":
        values = weights = None
        if self.values is not None and other.values is not None:
            values, weights = _compress(np.concatenate([self.values, other.values]),
                                        np.concatenate([self.weights, other.weights]))
            if values.size > KEEP:
                values = weights = None
        return Tally(self.below + other.below, self.at + other.at, values, weights, min(self.above, other.above))


def _compress(values: np.ndarray, weights: np.ndarray):
    unique, inverse = np.unique(values, return_inverse=True)
    return unique, np.bincount(inverse, weights=weights, minlength=unique.size)


@dataclass
class Bracket:
    """One chunk -> its :class:`Tally` over ``[low, high]`` and the thresholds (picklable)."""

    column: str
    weight: str | None
    low: float
    high: float
    thresholds: np.ndarray

    def __call__(self, chunk) -> Tally:
        x = chunk[self.column].detach().cpu().numpy().astype(np.float64, copy=False)
        w = np.ones(x.size) if self.weight is None else chunk[self.weight].detach().cpu().numpy().astype(np.float64)
        inside = (x >= self.low) & (x <= self.high)
        values, weights = _compress(x[inside], w[inside])
        if values.size > KEEP:
            values = weights = None
        order = np.argsort(x, kind="stable")
        cum = np.concatenate([[0.0], np.cumsum(w[order])])
        at = cum[np.searchsorted(x[order], self.thresholds, side="left")]
        below = float(cum[np.searchsorted(x[order], self.low, side="left")])
        over = x[x > self.high]
        return Tally(below, at, values, weights, float(over.min()) if over.size else math.inf)


def reaching(source, column: str, weight: str | None, target: float, sample_x: np.ndarray,
             sample_w: np.ndarray, total: float, max_passes: int = 64) -> tuple[float, float, float]:
    """``(v, W(x <= v), next)``: the smallest value whose cumulative weight reaches ``target``, that
    weight, and the smallest value above ``v`` (inf if none)."""
    order = np.argsort(sample_x, kind="stable")
    xs, cum = sample_x[order], np.cumsum(sample_w[order])
    share = cum / cum[-1]
    q = min(max(target / total, 0.0), 1.0)
    margin = 6.0 / math.sqrt(max(xs.size, 1)) + 1e-3

    def sample_quantile(p):
        return float(xs[min(int(np.searchsorted(share, p, side="left")), xs.size - 1)])

    low = -math.inf if q - margin <= 0 else sample_quantile(q - margin)
    high = math.inf if q + margin >= 1 else sample_quantile(q + margin)
    thresholds = np.unique(xs[np.linspace(0, xs.size - 1, min(THRESHOLDS, xs.size)).astype(int)])
    for _ in range(max_passes):
        tally = source.map_reduce(Bracket(column, weight, low, high, thresholds))
        if tally.values is not None and tally.below < target:
            cum_in = tally.below + np.cumsum(tally.weights)
            i = int(np.searchsorted(cum_in, target, side="left"))
            if i < tally.values.size:
                nxt = float(tally.values[i + 1]) if i + 1 < tally.values.size else tally.above
                return float(tally.values[i]), float(cum_in[i]), nxt
        # the bracket missed or kept too much: look between the thresholds around the target
        edges = np.concatenate([[-math.inf], thresholds, [math.inf]])
        weights = np.concatenate([[0.0], tally.at, [total]])
        j = int(np.searchsorted(weights, target, side="left"))  # W(x < edges[j]) >= target > W(x < edges[j - 1])
        low, high = float(edges[max(j - 1, 0)]), float(edges[min(j, edges.size - 1)])
        if math.isfinite(low) and math.isfinite(high):
            thresholds = np.unique(np.linspace(low, high, THRESHOLDS + 2)[1:-1])
        else:
            thresholds = np.array([low if math.isfinite(low) else high])
    raise RuntimeError("the quantile search did not narrow down")  # pragma: no cover - each pass narrows


def stream_quantile(source, column: str, weight: str | None, q: float, sample, n: int, total_weight: float, dtype,
                    device) -> torch.Tensor:
    """The ``q``-quantile of ``column`` (weighted by ``weight``), in the in-memory fit's convention:
    linear interpolation between order statistics without weights (the midpoint of the middle two for
    the median of more than 16,000,000 rows), the lower weighted quantile with weights (the midpoint
    where the cumulative weight meets the target exactly)."""
    sx, sw = (t.detach().cpu().numpy().astype(np.float64) for t in sample)
    as_t = lambda v: torch.tensor(v, dtype=dtype, device=device)  # noqa: E731
    if weight is not None:
        target = q * total_weight
        v, w_le, nxt = reaching(source, column, weight, target, sx, sw, total_weight)
        if math.isclose(w_le, target, rel_tol=1e-12) and math.isfinite(nxt):
            return (as_t(v) + as_t(nxt)) / 2
        return as_t(v)
    total = float(n)

    def order_statistic(k: int):
        v, c, nxt = reaching(source, column, None, k + 1.0, sx, sw, total)
        return v, c, nxt

    if q == 0.5 and n > 16_000_000:
        v, c, nxt = order_statistic((n - 1) // 2)
        if n % 2:
            return as_t(v)
        second = v if c >= n // 2 + 1 else nxt
        return (as_t(v) + as_t(second)) / 2
    pos = q * (n - 1)
    k = int(math.floor(pos))
    v, c, nxt = order_statistic(k)
    frac = pos - k
    if frac == 0 or k + 1 >= n:
        return as_t(v)
    second = v if c >= k + 2 else nxt
    return torch.lerp(as_t(v), as_t(second), torch.tensor(frac, dtype=dtype, device=device))

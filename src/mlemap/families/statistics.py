"""Additive sufficient statistics.

A :class:`SufficientStatistics` summarises a (weighted) sample for a family whose log-likelihood
depends on the data only through a few numbers. Two summaries of disjoint chunks combine with
``+`` into the summary of their union, so closed forms and statistics-based objectives run
unchanged on chunks of a large file or on the partitions of a distributed array (map-reduce).

Three kinds of field are kept, each with its own merge rule:

* ``sums``: weighted sums :math:`\\sum_i w_i t(x_i)`, merged by addition;
* ``moments``: weighted mean and centred second moment :math:`(\\bar t, M_2)` of a quantity
  (scalar or vector), merged with Chan's parallel formula, which avoids the cancellation of
  :math:`\\sum t^2 - (\\sum t)^2 / W`;
* ``extremes``: ``(min, max)`` of a quantity, merged elementwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class SufficientStatistics:
    """Weighted summary of a sample; ``a + b`` is the summary of the concatenated samples."""

    weight: torch.Tensor
    sums: dict[str, torch.Tensor] = field(default_factory=dict)
    moments: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    extremes: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)

    def __add__(self, other: "SufficientStatistics") -> "SufficientStatistics":
        if not isinstance(other, SufficientStatistics):
            return NotImplemented
        if (self.sums.keys(), self.moments.keys(), self.extremes.keys()) != (
            other.sums.keys(),
            other.moments.keys(),
            other.extremes.keys(),
        ):
            raise ValueError("cannot add sufficient statistics of different families")
        w = self.weight + other.weight
        moments = {}
        for key, (mean_a, m2_a) in self.moments.items():
            mean_b, m2_b = other.moments[key]
            delta = mean_b - mean_a
            mean = mean_a + delta * (other.weight / w)
            cross = torch.outer(delta, delta) if delta.dim() == 1 else delta * delta
            moments[key] = (mean, m2_a + m2_b + cross * (self.weight * other.weight / w))
        return SufficientStatistics(
            weight=w,
            sums={k: v + other.sums[k] for k, v in self.sums.items()},
            moments=moments,
            extremes={
                k: (torch.minimum(lo, other.extremes[k][0]), torch.maximum(hi, other.extremes[k][1]))
                for k, (lo, hi) in self.extremes.items()
            },
        )

    def __radd__(self, other):
        if other == 0:  # lets sum() start from 0
            return self
        return NotImplemented

    def mean(self, key: str) -> torch.Tensor:
        return self.moments[key][0]

    def m2(self, key: str) -> torch.Tensor:
        """Centred weighted sum of squares (a matrix for vector quantities)."""
        return self.moments[key][1]

    def total(self, key: str) -> torch.Tensor:
        """Weighted sum of a quantity, from ``sums`` or from ``moments`` (weight times mean)."""
        if key in self.sums:
            return self.sums[key]
        return self.weight * self.moments[key][0]


def weighted_moments(t: torch.Tensor, w: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return ``(W, mean, M2)`` of ``t`` (shape ``(n,)`` or ``(n, d)``) with optional weights ``w``."""
    if w is None:
        n = t.shape[0]
        W = torch.tensor(float(n), dtype=t.dtype, device=t.device)
        if t.dim() == 1:
            # one pass (sum and dot); the two-pass formula when cancellation would cost digits
            s1, s2 = t.sum(), torch.dot(t, t)
            mean = s1 / n
            m2 = s2 - s1 * mean
            if bool(m2 > 1e-4 * s2):
                return W, mean, m2
        mean = t.mean(0)
        centred = t - mean
        if t.dim() == 1:
            return W, mean, torch.dot(centred, centred)
        return W, mean, centred.T @ centred
    W = w.sum()
    mean = (w @ t) / W if t.dim() == 2 else (w * t).sum() / W
    centred = t - mean
    if t.dim() == 1:
        return W, mean, (w * centred * centred).sum()
    return W, mean, (centred * w[:, None]).T @ centred


def weighted_sum(t: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """``sum_i w_i t_i`` over the first axis."""
    if w is None:
        return t.sum(0)
    if t.dim() == 1:
        return (w * t).sum()
    return w @ t


def total_weight(x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    if w is None:
        return torch.tensor(float(x.shape[0]), dtype=x.dtype, device=x.device)
    return w.sum()

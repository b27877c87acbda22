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
* ``extremes``: ``(min, max)`` of a quantity, merged elementwise;
* ``log_gaps``: the weighted mean of a positive quantity as a float plus its rounding residual,
  :math:`\\bar t = m + c`, and the log-gap :math:`G = W(\\log\\bar t - \\overline{\\log t})`, computed as
  :math:`\\sum_i w_i \\psi(u_i) - W\\psi(\\bar u)` with :math:`u_i = (t_i - m)/m`,
  :math:`\\psi(u) = u - \\log(1 + u) \\ge 0`: no cancellation of two nearly equal logarithms, so a gamma
  sample with a coefficient of variation of 1e-12 keeps its digits; merged by
  :math:`G = G_a + G_b + W_a\\psi(\\delta_a) + W_b\\psi(\\delta_b)`, :math:`\\delta_a = (\\bar t_a - \\bar t)/\\bar t`
  (the residuals keep :math:`\\delta` exact when the chunks' means agree to many digits).
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
    log_gaps: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = field(default_factory=dict)

    def __add__(self, other: "SufficientStatistics") -> "SufficientStatistics":
        if not isinstance(other, SufficientStatistics):
            return NotImplemented
        if (self.sums.keys(), self.moments.keys(), self.extremes.keys(), self.log_gaps.keys()) != (
            other.sums.keys(),
            other.moments.keys(),
            other.extremes.keys(),
            other.log_gaps.keys(),
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
        log_gaps = {}
        for key, (mean_a, res_a, gap_a) in self.log_gaps.items():
            mean_b, res_b, gap_b = other.log_gaps[key]
            mean = mean_a + (mean_b - mean_a) * (other.weight / w)
            res = (self.weight * ((mean_a - mean) + res_a) + other.weight * ((mean_b - mean) + res_b)) / w
            delta_a = ((mean_a - mean) + (res_a - res)) / (mean + res)
            delta_b = ((mean_b - mean) + (res_b - res)) / (mean + res)
            shift = self.weight * excess_log(delta_a) + other.weight * excess_log(delta_b)
            log_gaps[key] = (mean, res, gap_a + gap_b + shift)
        return SufficientStatistics(
            weight=w,
            sums={k: v + other.sums[k] for k, v in self.sums.items()},
            moments=moments,
            extremes={
                k: (torch.minimum(lo, other.extremes[k][0]), torch.maximum(hi, other.extremes[k][1]))
                for k, (lo, hi) in self.extremes.items()
            },
            log_gaps=log_gaps,
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


def moments_of_x(f: dict[str, torch.Tensor], w: torch.Tensor | None) -> SufficientStatistics:
    """The weighted mean and centred sum of squares of ``f["x"]``, as statistics that add over chunks."""
    W, mean, m2 = weighted_moments(f["x"], w)
    return SufficientStatistics(weight=W, moments={"x": (mean, m2)})


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


def excess_log(u: torch.Tensor) -> torch.Tensor:
    """:math:`\\psi(u) = u - \\log(1 + u)` for :math:`u > -1`, by its Taylor series where :math:`|u| < 10^{-3}`
    (relative error below 1e-16 there, where the direct difference would lose every digit)."""
    small = u.abs() < 1e-3
    us = torch.where(small, u, torch.zeros_like(u))
    series = us * us * (0.5 - us * (1 / 3 - us * (0.25 - us * (0.2 - us / 6))))
    ul = torch.where(small, torch.ones_like(u), u)
    return torch.where(small, series, ul - torch.log1p(ul))


def weighted_log_gap(
    t: torch.Tensor, w: torch.Tensor | None, log_t: torch.Tensor | None = None
) -> tuple[torch.Tensor, ...]:
    """``(W, m, c, G)`` of a positive quantity: the mean :math:`\\bar t = m + c` (float and residual) and
    :math:`G = W(\\log\\bar t - \\overline{\\log t})`. From ``log_t`` directly when that difference is
    above 1e-4 (a relative error of at most 1e-11 |log t|), else as
    :math:`\\sum w_i\\psi(u_i) - W\\psi(\\bar u)` with :math:`u_i = (t_i - m)/m` (each deviation formed before
    dividing, exactly)."""
    W = total_weight(t, w)
    mean = weighted_sum(t, w) / W
    if log_t is not None and t.numel() > 1:  # (one row has no gap; also keeps the function vmap-able per row)
        gap = W * torch.log(mean) - weighted_sum(log_t, w)
        if bool(gap > 1e-4 * W):
            return W, mean, torch.zeros_like(mean), gap
    u = (t - mean) / mean
    u_bar = weighted_sum(u, w) / W
    return W, mean, mean * u_bar, weighted_sum(excess_log(u), w) - W * excess_log(u_bar)


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

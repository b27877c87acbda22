"""Numerical fits of location-scale and scale families run on standardised data.

If :math:`x` has the family's density with parameters :math:`\\theta`, then :math:`z = (x - c)/s` has
the same family's density with parameters :math:`\\theta'` given by :attr:`Family.equivariance`
(for a location-scale family :math:`\\mu' = (\\mu - c)/s`, :math:`\\sigma' = \\sigma/s`, shape
parameters unchanged; for a scale family only :math:`s`), and the log-likelihoods differ by the
Jacobian: :math:`\\ell_x(\\theta) = \\ell_z(\\theta') - W \\log s`. The engine fits :math:`z`, whose centre
is near 0 and spread near 1 whatever the units of :math:`x`, so that the optimiser's path and its
tolerances are the same for :math:`x` and :math:`a x + b` up to rounding; the estimate is mapped back.
:math:`s` is a power of two, so :math:`z` carries no rounding from the division. The centre and
spread are the (weighted) median and inter-quartile range (at least :math:`2^{-40}` of the range; the mean of :math:`|x|` for a scale
family), of the engine's subsample on large data.

Fits with priors are left as they are (a prior is a density in the original units).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..families.location_scale import weighted_quantile
from .distribution_problem import DistributionProblem


RANGE_FRACTION = 2.0**-40


@dataclass(frozen=True)
class Rescaling:
    """:math:`z = (x - c) / s` and the map of each parameter between the units of :math:`x` and :math:`z`."""

    shift: float
    scale: float
    kinds: dict[str, str]

    def to_standard(self, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: self._map(k, v, forward=True) for k, v in params.items()}

    def from_standard(self, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: self._map(k, v, forward=False) for k, v in params.items()}

    def _map(self, name: str, value: torch.Tensor, forward: bool) -> torch.Tensor:
        kind = self.kinds.get(name)
        c, s = self.shift, self.scale
        if kind == "location":
            return (value - c) / s if forward else value * s + c
        if kind == "scale":
            return value / s if forward else value * s
        if kind == "rate":
            return value * s if forward else value / s
        if kind == "log-location":
            return value - math.log(s) if forward else value + math.log(s)
        return value


def _median_and_iqr(x: torch.Tensor, w: torch.Tensor | None) -> tuple[float, float]:
    if w is not None:
        return float(weighted_quantile(x, w, 0.5)), float(weighted_quantile(x, w, 0.75) - weighted_quantile(x, w, 0.25))
    xs = torch.sort(x).values  # one sort, three order statistics
    at = lambda q: float(xs[int(round(q * (xs.numel() - 1)))])  # noqa: E731
    return at(0.5), at(0.75) - at(0.25)


def standardisation(problem: DistributionProblem, sample_size: int, sample_above: int) -> tuple[DistributionProblem, Rescaling] | None:
    """The standardised problem and its rescaling, or None when the family has no such symmetry (or priors)."""
    fam = problem.family
    kinds = fam.equivariance
    if not kinds or problem.priors or len(problem.event_shape) != 0 or fam.known_constants:
        return None
    x, w = problem.spread_sample(sample_size, sample_above)
    located = "location" in kinds.values()
    if located:
        centre, spread = _median_and_iqr(x, w)
        # ties around the quartiles can make the IQR tiny beside the range: the standardised data
        # would then overflow, so the spread is at least a fixed fraction of the range (unit-free)
        spread = max(spread, float(x.max() - x.min()) * RANGE_FRACTION)
    else:
        centre = 0.0
        spread = float((x.abs().mean() if w is None else (w * x.abs()).sum() / w.sum()))
    if not (math.isfinite(spread) and spread > 0 and math.isfinite(centre)):
        return None
    rescaling = Rescaling(centre, 2.0 ** round(math.log2(spread)), dict(kinds))
    if rescaling.shift == 0.0 and rescaling.scale == 1.0:
        return None
    fixed = {**problem.fixed, **rescaling.to_standard({k: v for k, v in problem.fixed.items() if k in kinds})}
    return problem.rescaled(rescaling.shift, rescaling.scale, located, fixed), rescaling

"""The exponential rate from right-censored (and left-truncated) data, in closed form.

With exact values and right-censoring times :math:`t_i` (weights :math:`w_i`), :math:`D = \\sum_{\\text{exact}} w_i`
events and a sample truncated below at :math:`\\tau \\ge 0`, the log-likelihood is

.. math:: \\ell(\\lambda) = D\\log\\lambda - \\lambda T, \\qquad T = \\sum_i w_i (t_i - \\tau),

so :math:`\\hat\\lambda = D / T`: events divided by the total time at risk. ``D`` and ``T`` are
additive statistics, so the fit and its standard error (:math:`\\hat\\lambda/\\sqrt D`) cost one pass.
"""

from __future__ import annotations

import math

import torch

from ..closed_form.registry import Solution, register_closed_form
from ..families.positive import Exponential
from ..families.statistics import SufficientStatistics, weighted_sum
from .data import EXACT, INTERVAL, LEFT, RIGHT
from .family import CensoredFamily


class CensoredExponential(CensoredFamily):
    """An exponential family observed exactly or right-censored, with statistics ``events`` and ``exposure``."""

    #: the registry lists closed forms by family name: this one is the exponential's
    name = "exponential"

    def statistics(self, f, w):
        kind, t = f["kind"], f["low"]
        observed = (kind == EXACT) | (kind == RIGHT)
        floor = max(self.truncation[0], 0.0)
        exposure = torch.where(observed, t - floor, torch.zeros_like(t))
        events = (kind == EXACT).to(t.dtype)
        W = weighted_sum(torch.ones_like(t), w)
        return SufficientStatistics(W, sums={"events": weighted_sum(events, w), "exposure": weighted_sum(exposure, w)})

    def log_likelihood_stats(self, s, p):
        rate = p["rate"]
        return torch.special.xlogy(s.sums["events"], rate) - rate * s.sums["exposure"]


def exponential_applies(family, data, truncation) -> bool:
    """Exponential, no upper truncation, and no left- or interval-censored row."""
    if type(family) is not Exponential or truncation[1] != math.inf:
        return False
    if data is None:
        return True
    kinds = data.kinds
    return not bool(((kinds == LEFT) | (kinds == INTERVAL)).any())


@register_closed_form(CensoredExponential, free={"rate"})
def exponential_rate(problem):
    """:math:`\\hat\\lambda = D / T` (events over total time at risk)."""
    s = problem.statistics
    events, exposure = s.sums["events"], s.sums["exposure"]
    boundary = {}
    if not bool(events > 0):
        boundary["rate"] = "no value was observed (every one is censored), so the likelihood increases as the rate falls to 0"
    return Solution({"rate": events / exposure}, boundary=boundary)

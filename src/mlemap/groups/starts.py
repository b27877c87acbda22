"""Starting values of every group at once, for families where a few batched passes over the rows land
next to each group's estimate.

A registered start returns per-group values of the free parameters and a mask of the groups it
found; the other groups keep the family's own start (:func:`.routes._group_starts`). A start only
decides how many passes the batched trust-region Newton (:mod:`.newton`) needs: every group is still
judged by the exact convergence criteria on its full objective, from wherever it starts.

**Weibull** (the single fit's :meth:`~mlemap.families.positive.Weibull.fast_mle`, for all groups at
once): the scale is profiled out, :math:`\\hat\\lambda(k)^k = \\sum w_i x_i^k / W`, and the concave
profile log-likelihood is maximised by Newton in :math:`k` from the Gumbel moments of
:math:`\\log x` (:math:`k_0 = \\pi / (\\sqrt6\\, s_{\\log x})`, the family's own start). With
:math:`y_i = \\log x_i - c` (:math:`c` the group's largest :math:`\\log x`, so no term overflows) and
:math:`S_j = \\sum w_i e^{k y_i} y_i^j`,

.. math:: \\ell_p'(k) = W/k - W S_1/S_0 + \\textstyle\\sum w_i y_i, \\qquad
          \\ell_p''(k) = -W/k^2 - W\\,(S_2/S_0 - (S_1/S_0)^2) < 0,

one pass over the rows of the groups still iterating per step. A group stops when its step is below
:math:`10^{-7} k` (``STEP_TOL``: Newton converges quadratically, so the next iterate is exact to
about :math:`10^{-14}`) or its profile Newton decrement is below :math:`10^{-15} W` (the single fit's
rule); it takes that last step, with :math:`S_0` at the new :math:`k` from Taylor's formula
:math:`S_0 + \\delta S_1 + \\tfrac12\\delta^2 S_2` (remainder :math:`O(\\delta^3)`, below rounding), and
:math:`\\log\\hat\\lambda = (\\log(S_0/W) + k c) / k`. At that point both components of the full
gradient vanish (the scale's by construction, the shape's as the profile's derivative).

**Gamma** (the single fit's :meth:`~mlemap.families.positive.Gamma.fast_mle`, from each group's
statistics, no pass over the rows): :math:`\\log\\alpha - \\digamma(\\alpha) = G/W` (the log-gap per
weight) by Newton in :math:`\\log\\alpha` from Minka's start, steps clipped to :math:`\\pm 5`, one more
step once a step is below :math:`10^{-12}`; then :math:`\\hat\\beta = \\alpha / \\bar x`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..families.gamma_functions import log_minus_digamma_batch
from ..families.positive import Gamma, Weibull, minka_start
from .segments import Segments
from .statistics import take

#: a profile Newton step below this share of k leaves the next iterate exact to rounding (quadratic convergence)
STEP_TOL = 1e-7

#: family type -> start(problem, names, groups) -> (values (B,) per name, found (B,) bool) or None
STARTS: dict[type, Callable] = {}


def register_start(family: type):
    def decorate(fn):
        STARTS[family] = fn
        return fn

    return decorate


def batched_start(problem, names: list[str], init: dict, groups: torch.Tensor):
    """The registered start of exactly this family type for the groups ``groups`` (ascending codes), or
    None: no start registered, starting values given, parameters held at fixed values, or priors (the
    MAP is not the likelihood's maximum)."""
    start = STARTS.get(type(problem.family))
    if start is None or any(n in init for n in names) or problem.priors or problem.fixed:
        return None
    return start(problem, names, groups)


@register_start(Weibull)
def weibull_profile(problem, names: list[str], groups: torch.Tensor, max_iter: int = 30):
    """Profile Newton in the shape of every group (see the module docstring)."""
    if sorted(names) != ["concentration", "scale"]:
        return None
    segments = Segments(problem.index.count[groups])
    everyone = groups.numel() == problem.n_groups
    rows = None if everyone else problem.index.rows_of(groups)
    log_x = problem.features["log_x"]
    log_x = log_x if rows is None else log_x[rows]
    w = problem.weights if rows is None or problem.weights is None else problem.weights[rows]
    W = segments.lengths.to(log_x.dtype) if w is None else segments.sum(w)
    c = segments.max(log_x)
    y = segments.rowwise(torch.sub, log_x, c)
    Ly = segments.sum(y if w is None else w * y)
    centred = segments.rowwise(torch.sub, y, Ly / W)
    m2 = segments.sum(centred * centred if w is None else w * centred * centred)
    k = (math.pi / math.sqrt(6)) / torch.sqrt(m2 / W).clamp_min(1e-8)

    found = torch.zeros(groups.numel(), dtype=torch.bool, device=groups.device)
    running = torch.ones_like(found)
    log_scale = torch.full_like(k, math.nan)
    live, seg, y_live, w_live = torch.arange(groups.numel(), device=groups.device), segments, y, w
    for _ in range(max_iter):
        k_live, W_live = k[live], W[live]
        s0, s1, s2 = _exp_moments(seg, k_live, y_live, w_live)
        m1 = s1 / s0
        grad = W_live / k_live - W_live * m1 + Ly[live]
        hess = -W_live / (k_live * k_live) - W_live * (s2 / s0 - m1 * m1)
        step = grad / hess
        new = k_live - step
        new = torch.where(new > 0, new, 0.5 * k_live)
        active = running[live] & torch.isfinite(new) & (hess < 0)  # a group that cannot step gives up
        k[live] = torch.where(active, new, k_live)
        done = active & ((step.abs() <= STEP_TOL * k_live) | (grad * grad / -hess <= 1e-15 * W_live.clamp_min(1.0)))
        # S_0 at the new k by Taylor's formula: the step is below 1e-7 k, so the remainder is below rounding
        delta, at = -step[done], live[done]
        s0_new = s0[done] + delta * (s1[done] + 0.5 * delta * s2[done])
        log_scale[at] = (torch.log(s0_new / W[at]) + k[at] * c[at]) / k[at]
        found[at] = True
        stay = active & ~done
        running[live] = stay
        if not bool(stay.any()):
            break
        if 2 * int(stay.sum()) < stay.numel():  # later passes read only the rows of the groups still iterating
            live = live[stay]
            seg, positions = seg.select(stay)
            y_live = y_live[positions]
            w_live = None if w_live is None else w_live[positions]
    found &= torch.isfinite(log_scale)
    nan = torch.full_like(k, math.nan)
    return {"scale": torch.where(found, torch.exp(log_scale), nan), "concentration": torch.where(found, k, nan)}, found


def _exp_moments(seg: Segments, k: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None):
    """:math:`S_j = \\sum_{i \\in b} w_i e^{k_b y_i} y_i^j` for :math:`j \\le 2`, per group."""
    e = torch.exp(seg.rowwise(torch.mul, y, k))
    if w is not None:
        e = w * e
    ey = e * y
    return seg.sum(e), seg.sum(ey), seg.sum(ey * y)


@register_start(Gamma)
def gamma_profile(problem, names: list[str], groups: torch.Tensor, max_iter: int = 100):
    """Newton on the gamma MLE equation of every group, from its statistics (see the module docstring)."""
    if sorted(names) != ["concentration", "rate"] or problem.statistics is None:
        return None
    stats = take(problem.statistics, groups)
    mean, residual, gap = stats.log_gaps["x"]
    mean = mean + residual
    target = gap / stats.weight
    usable = torch.isfinite(target) & (target > 0)
    target = torch.where(usable, target, torch.ones_like(target))
    a = minka_start(target)
    settled = torch.zeros_like(usable)
    found = torch.zeros_like(usable)
    for _ in range(max_iter):
        value, slope = log_minus_digamma_batch(a)
        step = (value - target) / slope
        a = torch.where(found, a, a * torch.exp(-step.clamp(-5.0, 5.0)))
        found |= settled  # one more step after reaching rounding level
        settled = step.abs() <= 1e-12
        if bool(found.all()):
            break
    found &= usable & torch.isfinite(a)
    nan = torch.full_like(a, math.nan)
    return {"concentration": torch.where(found, a, nan), "rate": torch.where(found, a / mean, nan)}, found

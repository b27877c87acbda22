"""The Weibull MLE from exact and right-censored values, with the scale profiled out.

With :math:`D = \\sum_{\\text{exact}} w_i` events, :math:`L = \\sum_{\\text{exact}} w_i\\log t_i` and
:math:`\\mu = \\lambda^k`, the log-likelihood :math:`D\\log k - D\\log\\mu + (k - 1)L - \\sum_i w_i t_i^k/\\mu`
(every row, censored or not, contributes its cumulative hazard) is maximised over :math:`\\mu` by
:math:`\\hat\\mu(k) = \\sum_i w_i t_i^k / D`, leaving

.. math:: \\ell_p(k) = D\\log k - D\\big(kc + \\log S_0 - \\log D\\big) + (k - 1)L - D,
          \\qquad S_j = \\sum_i w_i e^{k y_i} y_i^j,\\; y_i = \\log t_i - c,

with :math:`\\ell_p' = D/k - D(c + S_1/S_0) + L` and :math:`\\ell_p'' = -D/k^2 - D(S_2/S_0 - (S_1/S_0)^2) < 0`.
Newton's method in :math:`\\log k` (steps capped at a factor :math:`e`) then needs one pass over the
data per step. This is the fast path of :class:`~mlemap.censoring.family.CensoredFamily` for the
Weibull family when no row is left- or interval-censored and there is no truncation.
"""

from __future__ import annotations

import math

import torch

from ..families.positive import Weibull
from ..families.statistics import weighted_sum
from .data import EXACT, RIGHT

SUBSAMPLE_ABOVE = 200_000


def weibull_right_censored_mle(family, problem, max_iter: int = 100):
    """``(params, iterations, converged)`` or ``None`` when the fast path does not apply."""
    if type(family.base) is not Weibull or set(problem.free) != {"scale", "concentration"}:
        return None
    if family.truncation != (-math.inf, math.inf):
        return None
    f, w = problem.features, problem.weights
    kind = f["kind"]
    exact = kind == EXACT
    used = exact | (kind == RIGHT)
    if not bool(used.all()):
        return None
    D = weighted_sum(exact.to(f["low"].dtype), w)
    if not bool(D > 0):
        return None
    lt = torch.log(f["low"])
    L = weighted_sum(torch.where(exact, lt, torch.zeros_like(lt)), w)
    c = lt.max()
    y = lt - c
    k = _start(family, problem)
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        e = torch.exp(k * y)
        ey = e * y
        s0, s1, s2 = weighted_sum(e, w), weighted_sum(ey, w), weighted_sum(ey * y, w)
        m1 = s1 / s0
        grad = D / k - D * (m1 + c) + L
        hess = -D / k**2 - D * (s2 / s0 - m1 * m1)
        # Newton in log k: d/dlogk = k grad, d2/dlogk2 = k^2 hess + k grad
        g_log, h_log = k * grad, k * k * hess + k * grad
        step = -g_log / h_log if bool(h_log < 0) else torch.sign(g_log)
        step = step.clamp(-1.0, 1.0)
        k = k * torch.exp(step)
        if bool(step.abs() <= 1e-14) or float(g_log * g_log / (-h_log).clamp_min(1e-300)) <= 1e-28 * float(D):
            converged = True
            break
    e = torch.exp(k * y)
    log_scale = (torch.log(weighted_sum(e, w) / D) + k * c) / k
    return {"scale": torch.exp(log_scale), "concentration": k}, it, converged


def _start(family, problem) -> torch.Tensor:
    """The concentration from the pseudo-sample's log-moments (on a subsample when the data are large)."""
    f, w = problem.features, problem.weights
    if problem.n_obs > SUBSAMPLE_ABOVE:
        f, w, _ = problem.subsample_features(50_000)
    start = family.initial(f, w, problem.fixed)
    return torch.as_tensor(start["concentration"], dtype=problem.dtype, device=problem.device)

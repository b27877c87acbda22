"""Nonparametric estimates of a distribution from censored observations.

* :func:`kaplan_meier`, for exact and right-censored values:
  :math:`\\hat S(t) = \\prod_{t_j \\le t} (1 - d_j / n_j)` over the distinct event times, with ``d_j`` the
  (weighted) events at :math:`t_j` and ``n_j`` the weight still at risk (values censored at
  :math:`t_j` are at risk there); Greenwood's variance
  :math:`\\hat S^2 \\sum_{t_j \\le t} d_j / (n_j (n_j - d_j))` and the band
  :math:`\\hat S \\exp(\\pm z\\,\\mathrm{se}(\\log\\hat S))` (R's ``survfit`` default, ``conf.type = "log"``).
* :func:`turnbull`, for any mix of exact, left-, right- and interval-censored values: Turnbull's
  (1976) nonparametric MLE. The mass sits on the *innermost intervals* (a left end followed by a
  right end with no other end between them); the masses :math:`p_j` solve the self-consistency
  equations :math:`p_j = \\tfrac1W \\sum_i w_i \\alpha_{ij} p_j / \\sum_k \\alpha_{ik} p_k` (EM), where
  :math:`\\alpha_{ij} = 1` when innermost interval ``j`` lies in observation ``i``'s range. Each
  observation covers a contiguous run of innermost intervals, so one EM step costs
  :math:`O(n + m)` by cumulative sums. Inside an innermost interval of positive length the NPMLE
  does not say how the mass is spread: the cdf is known only at its ends.

Ranges are ``(low, high]`` (an exact value is the point itself), as in :mod:`mlemap.censoring.family`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass
class KaplanMeier:
    """Event ``times``, the survival just after each, and its pointwise ``level`` band."""

    times: np.ndarray
    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray


@dataclass
class Turnbull:
    """Innermost intervals ``(left, right]`` (``left == right``: a point) and their masses ``probs``."""

    left: np.ndarray
    right: np.ndarray
    probs: np.ndarray
    n_iter: int
    converged: bool

    def cdf_steps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(left, right, cdf after)``: the cdf is ``cdf before`` up to ``left`` and ``cdf after`` from ``right``."""
        return self.left, self.right, np.cumsum(self.probs)


def kaplan_meier(time, event, weights=None, level: float = 0.95) -> KaplanMeier:
    """Kaplan–Meier estimate with Greenwood's log-scale band (see the module docstring)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    w = np.ones_like(time) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(time, kind="stable")
    t, e, w = time[order], event[order], w[order]
    uniq, start = np.unique(t, return_index=True)
    at_risk = w.sum() - np.concatenate([[0.0], np.cumsum(w)])[start]
    events = np.bincount(np.searchsorted(uniq, t[e]), weights=w[e], minlength=uniq.size)
    keep = events > 0
    times, n, d = uniq[keep], at_risk[keep], events[keep]
    factor = 1 - d / n
    surv = np.cumprod(factor)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_log = np.cumsum(np.where(n > d, d / (n * (n - d)), np.inf))
    z = stats.norm.ppf(0.5 + level / 2)
    se = np.sqrt(var_log)
    # once every unit at risk has failed the estimate is 0 and Greenwood's variance infinite: the band is [0, 0]
    dead = surv == 0
    lower = np.where(dead, 0.0, surv * np.exp(-z * np.where(dead, 0.0, se)))
    upper = np.where(dead, 0.0, np.minimum(surv * np.exp(z * np.where(dead, 0.0, se)), 1.0))
    return KaplanMeier(times, surv, lower, upper, n, d)


def turnbull(low, high, weights=None, *, tol: float = 1e-10, max_iter: int = 100_000) -> Turnbull:
    """Turnbull's NPMLE of ranges ``(low, high]`` (``low == high``: exact), by EM (see the module docstring)."""
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    w = np.ones_like(low) if weights is None else np.asarray(weights, dtype=float)
    exact = low == high
    # an end as a key (value, flag): flag 0 = the value itself, 1 = just above it (an open left end)
    l_key = np.column_stack([low, np.where(exact, 0, 1)])
    r_key = np.column_stack([high, np.zeros_like(high)])
    keys = np.concatenate([l_key, r_key])
    side = np.concatenate([np.zeros(low.size), np.ones(high.size)])  # 0 = left end, 1 = right end
    order = np.lexsort((side, keys[:, 1], keys[:, 0]))
    s_keys, s_side = keys[order], side[order]
    starts = np.flatnonzero((s_side[:-1] == 0) & (s_side[1:] == 1))
    q, p = s_keys[starts], s_keys[starts + 1]
    m = starts.size
    # observation i covers innermost intervals j_lo..j_hi: q_j >= L_i and p_j <= R_i (lexicographic keys)
    q_code = _codes(q, keys)
    p_code = _codes(p, keys)
    j_lo = np.searchsorted(q_code, _codes(l_key, keys), side="left")
    j_hi = np.searchsorted(p_code, _codes(r_key, keys), side="right") - 1
    probs = np.full(m, 1.0 / m)
    W = w.sum()
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        cum = np.concatenate([[0.0], np.cumsum(probs)])
        denom = cum[j_hi + 1] - cum[j_lo]
        ratio = np.where(denom > 0, w / np.where(denom > 0, denom, 1.0), 0.0)
        diff = np.zeros(m + 1)
        np.add.at(diff, j_lo, ratio)
        np.add.at(diff, j_hi + 1, -ratio)
        new = probs * np.cumsum(diff)[:m] / W
        change = np.abs(new - probs).max()
        probs = new
        if change <= tol:
            converged = True
            break
    return Turnbull(q[:, 0], p[:, 0], probs / probs.sum(), it, converged)


def _codes(points: np.ndarray, universe: np.ndarray) -> np.ndarray:
    """Integer ranks of lexicographic keys ``(value, flag)`` within ``universe`` (order-preserving)."""
    values = np.unique(universe[:, 0])
    rank = np.searchsorted(values, points[:, 0])
    return rank * 2 + points[:, 1].astype(np.int64)


def nonparametric(low: np.ndarray, high: np.ndarray, weights=None):
    """Kaplan–Meier when every range is exact or right-open, else Turnbull's NPMLE."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    exact = low == high
    right = np.isinf(high) & ~exact
    if np.all(exact | right) and np.all(np.isfinite(low)):
        return kaplan_meier(low, exact, weights)
    return turnbull(low, high, weights)

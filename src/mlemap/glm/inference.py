"""Standard errors, Wald statistics and intervals for regression coefficients.

Covariances are over the packed parameters ``[coef..., intercept]`` (one block per linear
predictor for the softmax), on the likelihood's own scale:

* ``"observed"``: the inverse of the exact Hessian :math:`H` of the negative log-likelihood at the
  MLE (the observed information); with a Gaussian (ridge) or other smooth prior the Hessian of the
  negative log-posterior, i.e. the covariance of the Laplace approximation to the posterior;
* ``"sandwich"``: :math:`H^{-1} M H^{-1}` with :math:`M = \\sum_i w_i\\, g_i g_i^\\top` the outer products
  of the per-observation score :math:`g_i = \\tilde x_i\\, \\partial_\\eta \\text{nll}_i` (White's HC0;
  frequency weights count each row ``w_i`` times). Consistent when the variance function is wrong;
* ``"laplace_active"`` (L1 fits only): the observed-information covariance of the non-zero
  coefficients with the zeros held at zero -- conditional on the selected set.

Wald statistics and intervals are those of :mod:`mlemap.inference.intervals`, shared with ``fit``.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from .gram import weighted_gram

_BLOCK = 8192


def invert_information(H: np.ndarray, keep: np.ndarray | None = None, *, owner: str = "", what: str = "Hessian"):
    """:math:`H^{-1}` over the ``keep`` rows/columns (NaN elsewhere); ``(cov, reason)`` -- the shared
    inversion of :func:`mlemap.inference.covariance.invert_information` on a NumPy matrix."""
    from ..inference.covariance import invert_information as invert

    p = H.shape[0]
    keep = np.ones(p, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    cov = np.full((p, p), np.nan)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return cov, None
    inv, reason = invert(torch.as_tensor(H[np.ix_(idx, idx)], dtype=torch.float64), what=what, subject=owner,
                         advice="Their standard errors are undefined (NaN); drop collinear columns or add a prior.")
    if reason is None:
        cov[np.ix_(idx, idx)] = inv.numpy()
    return cov, reason


def sandwich(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    """:math:`B M B` with NaN rows/columns of ``B`` kept NaN."""
    keep = ~np.isnan(np.diag(bread))
    out = np.full_like(bread, np.nan)
    idx = np.flatnonzero(keep)
    B = bread[np.ix_(idx, idx)]
    out[np.ix_(idx, idx)] = B @ meat[np.ix_(idx, idx)] @ B
    return 0.5 * (out + out.T)


def score_outer(X: np.ndarray, scores: np.ndarray, weights: np.ndarray | None, intercept: bool) -> np.ndarray:
    """:math:`\\sum_i w_i\\, (r_i \\otimes \\tilde x_i)(r_i \\otimes \\tilde x_i)^\\top` for per-row score
    factors ``r`` of shape ``(n,)`` or ``(n, k)`` (one per linear predictor)."""
    w = np.ones(X.shape[0]) if weights is None else weights
    if scores.ndim == 1:
        return weighted_gram(X, w * scores * scores, intercept)
    k = scores.shape[1]
    p1 = X.shape[1] + int(intercept)
    M = np.zeros((k * p1, k * p1))
    for a in range(k):
        for b in range(a, k):
            M_ab = _signed_gram(X, w * scores[:, a] * scores[:, b], intercept)
            M[a * p1:(a + 1) * p1, b * p1:(b + 1) * p1] = M_ab
            M[b * p1:(b + 1) * p1, a * p1:(a + 1) * p1] = M_ab.T
    return M


def _signed_gram(X: np.ndarray, h: np.ndarray, intercept: bool) -> np.ndarray:
    """:math:`\\tilde X^\\top \\mathrm{diag}(h) \\tilde X` for weights of any sign."""
    pos, neg = np.clip(h, 0, None), np.clip(-h, 0, None)
    out = weighted_gram(X, pos, intercept)
    if neg.any():
        out -= weighted_gram(X, neg, intercept)
    return out


def profile_bounds(profile, estimate: float, se: float, loglik: float, level: float, max_se: float = 60.0):
    """Profile-likelihood interval: where :math:`2(\\hat\\ell - \\ell_p(c)) = \\chi^2_{1,\\text{level}}`.

    ``profile(c)`` returns the maximised log-likelihood with the parameter held at ``c``. The
    bracket grows in steps of the Wald standard error; a side that never reaches the threshold
    within ``max_se`` standard errors is infinite.
    """
    from scipy.optimize import brentq

    crit = float(stats.chi2.ppf(level, 1))
    target = lambda c: 2 * (loglik - profile(c)) - crit
    step = se if np.isfinite(se) and se > 0 else max(abs(estimate), 1.0)
    out = []
    for sign in (-1.0, 1.0):
        inner, k = estimate, 1.0
        found = np.nan
        while k <= max_se:
            outer = estimate + sign * k * step
            if target(outer) > 0:
                found = brentq(target, min(inner, outer), max(inner, outer), xtol=1e-10 * max(1.0, abs(estimate)))
                break
            inner, k = outer, k * 2
        out.append(found if np.isfinite(found) else sign * np.inf)
    return out[0], out[1]

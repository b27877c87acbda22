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

Wald: :math:`z = \\hat\\beta / \\text{SE}`, two-sided p-value :math:`2\\Phi(-|z|)`, interval
:math:`\\hat\\beta \\pm z_{1-\\alpha/2} \\text{SE}`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import IdentifiabilityWarning, warn
from .gram import weighted_gram

_BLOCK = 8192


def invert_information(H: np.ndarray, keep: np.ndarray | None = None, *, owner: str = "", what: str = "Hessian"):
    """:math:`H^{-1}` over the ``keep`` rows/columns (NaN elsewhere); ``(cov, reason)``.

    A singular or indefinite block gives NaN and a reason (and an :class:`IdentifiabilityWarning`).
    """
    p = H.shape[0]
    keep = np.ones(p, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    cov = np.full((p, p), np.nan)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return cov, None
    Hk = H[np.ix_(idx, idx)]
    if not np.all(np.isfinite(Hk)):
        return cov, f"the {what} is not finite at the estimate"
    Hs = 0.5 * (Hk + Hk.T)
    d = np.sqrt(np.clip(np.diag(Hs), 1e-300, None))
    evals, evecs = np.linalg.eigh(Hs / np.outer(d, d))
    top = float(np.abs(evals).max())
    if float(evals.min()) <= 1e-13 * top:
        kind = "singular" if float(evals.min()) >= -1e-13 * top else "not positive definite"
        reason = f"the {what} is {kind} at the estimate (smallest scaled eigenvalue {float(evals.min()):.3g})"
        warn(
            f"The {what} of {owner} is {kind} at the estimate: some coefficients are not identified by the data, "
            "so their standard errors are undefined (NaN). Drop collinear columns or add a prior.",
            IdentifiabilityWarning,
        )
        return cov, reason
    inv = (evecs / evals) @ evecs.T
    cov[np.ix_(idx, idx)] = inv / np.outer(d, d)
    return cov, None


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


def wald(estimate: np.ndarray, se: np.ndarray, level: float = 0.95):
    """``(z, pvalue, lower, upper)`` elementwise (NaN where the SE is NaN or zero)."""
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, estimate / se, np.nan)
    p = 2 * stats.norm.sf(np.abs(z))
    q = float(stats.norm.ppf(0.5 + level / 2))
    return z, p, estimate - q * se, estimate + q * se


def check_level(level) -> float:
    from ..errors import ParameterError

    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ParameterError(f"The 'level' argument must be a number in (0, 1), e.g. 0.95. Got {level!r} instead.")
    return float(level)


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

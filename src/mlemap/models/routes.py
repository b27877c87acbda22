"""Routes shared by the estimators: the L1 (lasso / elastic-net / Laplace-prior) fit and its
optional standard errors, aliasing bookkeeping, and the packing of results.

Standard errors after an L1 fit are not reported unless asked for (``cov_type``), because the
usual ones are not valid there: the estimate is the mode of a posterior with a kink at zero, which
has no Gaussian sampling distribution; the coefficients at exactly zero are not estimated with an
error of their own; and choosing the non-zero set from the same data makes naive intervals too
narrow (post-selection inference). ``cov_type="laplace_active"`` gives the observed-information
covariance of the non-zero coefficients with the zeros held at zero (conditional on the selected
set), ``cov_type="sandwich"`` the robust version of the same.
"""

from __future__ import annotations

import numpy as np

from ..errors import IdentifiabilityWarning, warn
from ..glm.design import Aliasing
from ..glm.inference import invert_information, sandwich

L1_SE_REASON = (
    "not reported for an L1 (Laplace-prior) fit: the estimate is the mode of a posterior with a kink at 0, which "
    "has no Gaussian sampling distribution, coefficients at exactly 0 are not estimated with an error of their own, "
    "and selecting the non-zero set with the same data invalidates naive standard errors; ask for "
    "cov_type='laplace_active' (covariance of the non-zero coefficients given the selected set) or "
    "cov_type='sandwich' explicitly"
)


def l1_fit(X, y, family, l1, l2, *, sample_weight, offset, fit_intercept, penalize_intercept, tol, max_iter,
           coef_init=None, intercept_init=None):
    """``fit_penalized`` with the intercept penalised, when asked, as a column of ones.

    Returns ``(coef, intercept, n_iter, converged, message)``.
    """
    from ..glm.penalized import fit_penalized

    if fit_intercept and penalize_intercept:
        Xa = np.hstack([X, np.ones((X.shape[0], 1))])
        init = None
        if coef_init is not None:
            ci = np.asarray(coef_init)
            ii = np.asarray(intercept_init)
            init = np.concatenate([ci, ii[..., None] if ci.ndim == 2 else np.atleast_1d(ii)], axis=-1)
        res = fit_penalized(Xa, y, family, l1, l2, sample_weight=sample_weight, offset=offset, fit_intercept=False,
                            coef_init=init, tol=tol, max_iter=max_iter)
        coef = np.asarray(res.coef)
        return coef[..., :-1].copy(), (coef[..., -1].copy() if coef.ndim == 2 else float(coef[-1])), res.n_iter, \
            res.converged, res.message
    res = fit_penalized(X, y, family, l1, l2, sample_weight=sample_weight, offset=offset, fit_intercept=fit_intercept,
                        coef_init=coef_init, intercept_init=intercept_init, tol=tol, max_iter=max_iter)
    return np.asarray(res.coef), res.intercept, res.n_iter, res.converged, res.message


def l1_covariance(cov_type: str, packed: np.ndarray, intercept_mask: np.ndarray, hessian_fn, meat_fn, owner: str):
    """Covariance after an L1 fit: NaN with the reason unless ``cov_type`` asks for the active set.

    ``hessian_fn(active)`` returns the Hessian of the penalised objective (on the likelihood's scale)
    restricted to the boolean mask ``active``; ``meat_fn(active)`` the outer product of the scores.
    """
    p = packed.size
    if cov_type not in ("laplace_active", "sandwich"):
        return np.full((p, p), np.nan), {"coefficients": L1_SE_REASON}, "not reported (L1 prior)"
    active = (packed != 0) | intercept_mask
    cov = np.full((p, p), np.nan)
    idx = np.flatnonzero(active)
    H = hessian_fn(active)
    inv, reason = invert_information(H, owner=owner)
    if reason is not None:
        return cov, {"coefficients": reason}, "undefined"
    if cov_type == "sandwich":
        inv = sandwich(inv, meat_fn(active))
        label = "sandwich on the non-zero coefficients (zeros held at 0)"
    else:
        label = "Laplace approximation on the non-zero coefficients (zeros held at 0)"
    cov[np.ix_(idx, idx)] = inv
    reasons = {}
    if (~active).any():
        reasons["zero coefficients"] = "held at exactly 0 by the L1 prior (not estimated with error)"
    return cov, reasons, label


def expand_aliasing(cov_kept: np.ndarray, kept: list[int], p: int) -> np.ndarray:
    cov = np.full((p, p), np.nan)
    cov[np.ix_(kept, kept)] = cov_kept
    return cov


def warn_aliasing(alias: Aliasing, owner: str) -> tuple[dict, dict]:
    """Warn about aliased columns; return ``(se_reasons, status)`` keyed by label."""
    if not alias.deficient:
        return {}, {}
    warn(alias.message(owner), IdentifiabilityWarning)
    reasons = {alias.labels[a]: f"aliased ({alias.relations[a]})" for a in alias.aliased}
    status = {alias.labels[a]: "aliased (set to 0)" for a in alias.aliased}
    return reasons, status

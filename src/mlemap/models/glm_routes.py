"""Fitting routes of the non-Gaussian smooth models (logistic, softmax, Poisson): maximum likelihood
and ridge-type priors by Newton, L1 priors by the penalised solver, other priors by autograd.

The results are packed per linear predictor ``[coef..., intercept]``; for the softmax model the
rows are the classes (a reference class, if any, is a row of zeros with undefined standard errors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import SeparationWarning, warn
from ..glm.design import INTERCEPT, gram_aliasing
from ..glm.gram import weighted_gram
from ..glm.inference import invert_information, sandwich, score_outer
from ..glm.newton import SUBSAMPLE, GLMObjective, lbfgs_solve, newton_solve
from ..glm.separation import find_separation
from ..core.estimate import Estimate
from .base import effective_k, regression_estimate
from .routes import l1_covariance, l1_fit, warn_aliasing

#: problems up to this size (rows x parameters) test for separation as soon as the predictor runs away
EARLY_CHECK_SIZE = 2_000_000
#: above this many parameters L-BFGS replaces Newton (the exact Hessian is computed once, at the end)
WIDE = 1000


@dataclass
class Problem:
    """The data and layout of one fit."""

    X: np.ndarray
    y: np.ndarray  # float responses or integer class codes
    family: object
    w: np.ndarray | None
    offset: np.ndarray | None
    W: float
    features: list[str]
    n_rows: int = 1  # linear predictors in the output (classes for softmax)
    free: list[int] | None = None  # rows with their own coefficients (softmax)
    row_names: list[str] | None = None
    class_names: list | None = None

    @property
    def d(self) -> int:
        return self.X.shape[1]


def labels_for(pb: Problem, intercept: bool) -> list[str]:
    per_row = pb.features + ([INTERCEPT] if intercept else [])
    if pb.row_names is None:
        return per_row
    return [f"{r}:{lab}" for r in pb.row_names for lab in per_row]


def _alias_check(pb: Problem, intercept: bool):
    X, w = pb.X, pb.w
    rows = np.ones(X.shape[0], bool) if w is None else w > 0
    idx = np.flatnonzero(rows)
    m = min(SUBSAMPLE, max(10_000, 500 * (pb.d + 1)))  # plenty of rows to reveal an exact dependence
    if idx.size > 4 * m:
        sub = np.sort(np.random.default_rng(1).choice(idx, m, replace=False))
        G = weighted_gram(np.ascontiguousarray(X[sub]), np.ones(sub.size), intercept)
        labels = pb.features + ([INTERCEPT] if intercept else [])
        order = ([pb.d] if intercept else []) + list(range(pb.d))
        alias = gram_aliasing(G, labels, order=order)
        if not alias.deficient:
            return alias
    G = weighted_gram(X, rows.astype(float), intercept)
    labels = pb.features + ([INTERCEPT] if intercept else [])
    order = ([pb.d] if intercept else []) + list(range(pb.d))
    return gram_aliasing(G, labels, order=order)


def _expand(pb: Problem, intercept: bool, kept_cols: list[int], free_rows: list[int], values_red, cov_red):
    """Reduced packed (free rows x kept columns) -> full packed (all rows x all columns)."""
    p1 = pb.d + int(intercept)
    cols = list(kept_cols) + ([pb.d] if intercept else [])
    index = [r * p1 + c for r in free_rows for c in cols]
    full_vals = np.zeros(pb.n_rows * p1)
    full_vals[index] = values_red
    full_cov = np.full((pb.n_rows * p1, pb.n_rows * p1), np.nan)
    full_cov[np.ix_(index, index)] = cov_red
    return full_vals, full_cov


def _split(pb: Problem, intercept: bool, packed: np.ndarray):
    rows = packed.reshape(pb.n_rows, -1)
    coef = rows[:, : pb.d].copy()
    icpt = rows[:, pb.d].copy() if intercept else np.zeros(pb.n_rows)
    if pb.row_names is None:
        return coef[0], float(icpt[0])
    return coef, icpt


def _centred_inverse(H: np.ndarray, k: int, p1: int, owner: str):
    """Inverse of a Hessian that is flat along a common shift of the ``k`` intercepts: the covariance
    of the centred (sum-zero) intercepts, :math:`(H + nn^\\top)^{-1} - nn^\\top`."""
    n = np.zeros(H.shape[0])
    n[[r * p1 + p1 - 1 for r in range(k)]] = 1.0 / np.sqrt(k)
    inv, reason = invert_information(H + np.outer(n, n), owner=owner)
    if reason is None:
        inv = inv - np.outer(n, n)
    return inv, reason


def newton_route(est, pb: Problem, l2: float, plan, *, map_fit: bool) -> Estimate:
    """Maximum likelihood (``l2 = 0``) or a Gaussian prior of precision ``l2`` by Newton."""
    owner = est._owner()
    intercept = est.fit_intercept
    reasons: dict[str, str] = {}
    status: dict[str, str] = {}
    notes: list[str] = []
    kept_cols = list(range(pb.d))
    if l2 == 0:
        alias = _alias_check(pb, intercept)
        if alias.deficient:
            r, s = warn_aliasing(alias, owner)
            prefixes = [""] if pb.row_names is None else [f"{pb.row_names[q]}:" for q in (pb.free or [])]
            for lab, why in r.items():
                for pre in prefixes:
                    reasons[pre + lab] = why
                    status[pre + lab] = s[lab]
            kept_cols = [j for j in alias.kept if j < pb.d]
    X = pb.X if len(kept_cols) == pb.d else np.ascontiguousarray(pb.X[:, kept_cols])
    free_rows = pb.free if pb.free is not None else [0]
    obj = GLMObjective(X, pb.y, pb.family, sample_weight=pb.w, offset=pb.offset, intercept=intercept, l2=l2,
                       penalize_intercept=est.penalize_intercept, n_classes=pb.n_rows if pb.free is not None else None,
                       free=pb.free)
    classify = pb.family.name in ("bernoulli", "categorical")
    labels_k = [pb.features[j] for j in kept_cols] + ([INTERCEPT] if intercept else [])
    found: list = []

    def separation():
        return find_separation(X, pb.y.astype(np.int64), labels=labels_k, class_names=list(pb.class_names),
                               intercept=intercept, sample_weight=pb.w, free=pb.free if pb.family.multiclass else None)

    def check(theta) -> bool:
        # stop as soon as separation is confirmed, before the Hessian becomes numerically singular
        found[:] = [separation()]
        return found[0] is not None

    small = X.shape[0] * obj.size <= EARLY_CHECK_SIZE
    if obj.size > WIDE:
        fit = lbfgs_solve(obj, tol=est.tol, max_iter=est.max_iter)
    else:
        fit = newton_solve(obj, tol=est.tol, max_iter=est.max_iter, watch_divergence=classify and l2 == 0,
                           divergence_check=check if (classify and l2 == 0 and small) else None)
    sep = found[0] if found else None
    lin_max = float((fit.eta if pb.w is None else fit.eta[torch.from_numpy(pb.w > 0)]).abs().max())
    if sep is None and classify and l2 == 0 and (fit.diverging or not fit.converged or lin_max > 20):
        sep = separation()
    p1_red = len(kept_cols) + int(intercept)
    label_all = labels_for(pb, intercept)
    if sep is not None:
        warn(sep.message(owner), SeparationWarning)
        cov_red = np.full((obj.size, obj.size), np.nan)
        reasons["all coefficients"] = (
            "undefined: the maximum-likelihood estimate does not exist (separation); the reported values are the "
            "last iterate along a diverging direction"
        )
        for r_pos, row in enumerate(free_rows):
            for c_pos in range(p1_red):
                if sep.diverging[r_pos, c_pos]:
                    col = kept_cols[c_pos] if c_pos < len(kept_cols) else pb.d
                    status[label_all[row * (pb.d + int(intercept)) + col]] = "diverging (separation)"
        cov_label = "undefined (separation)"
    else:
        if pb.free is not None and len(pb.free) == pb.n_rows and intercept and not est.penalize_intercept:
            cov_red, reason = _centred_inverse(fit.hessian, obj.k, obj.p1, owner)
        else:
            cov_red, reason = invert_information(fit.hessian, owner=owner)
        if reason:
            reasons["all coefficients"] = reason
        cov_label = "Laplace approximation (posterior Hessian)" if map_fit else "observed information"
        if est.cov_type == "sandwich" and reason is None:
            scores = pb.family.grad(obj.y, fit.eta)
            if pb.family.multiclass:
                scores = scores[:, obj.free]
            cov_red = sandwich(cov_red, score_outer(X, scores.numpy(), pb.w, intercept))
            cov_label = "sandwich (HC0)" + (" around the posterior mode" if map_fit else "")
    packed, cov = _expand(pb, intercept, kept_cols, free_rows, fit.theta, cov_red)
    coef, icpt = _split(pb, intercept, packed)
    wt = None if pb.w is None else torch.from_numpy(pb.w)
    loglik = float(pb.family.log_likelihood(obj.y, fit.eta, wt))
    if map_fit:
        H_lik = fit.hessian.copy()
        H_lik[np.diag_indices_from(H_lik)] -= l2 * obj.penalised
        k = effective_k(fit.hessian, H_lik)
    else:
        k = float(obj.size)
    converged = fit.converged and sep is None
    message = fit.message if sep is None else "stopped: separation (the MLE does not exist)"
    solver = ("L-BFGS" if obj.size > WIDE else "Newton (exact Hessian)") + (" with ridge prior" if map_fit else "")
    res = regression_estimate(coef, icpt, cov, label_all, loglik, k, fit.n_iter, converged, message, solver,
                        "MAP" if map_fit else "MLE", pb.W, None, reasons, status, notes,
                        plan.describe(pb.family.name, pb.W) if map_fit else "", objective=fit.objective,
                        cov_label=cov_label, separation=sep)
    return res


def l1_route(est, pb: Problem, l1: float, l2: float, plan) -> Estimate:
    owner = est._owner()
    intercept = est.fit_intercept
    coef, icpt, n_iter, conv, msg = l1_fit(pb.X, pb.y, pb.family, l1, l2, sample_weight=pb.w, offset=pb.offset,
                                           fit_intercept=intercept, penalize_intercept=est.penalize_intercept,
                                           tol=1e-10, max_iter=max(est.max_iter, 10_000))
    coef = np.asarray(coef, float)
    all_rows = pb.row_names is not None
    icpt_arr = np.atleast_1d(np.asarray(icpt, float))
    rows = coef.reshape(pb.n_rows, -1)
    packed = np.hstack([rows, icpt_arr[:, None]]).reshape(-1) if intercept else rows.reshape(-1)
    p1 = pb.d + int(intercept)
    icpt_mask = np.zeros(packed.size, bool)
    if intercept and not est.penalize_intercept:
        icpt_mask[[r * p1 + pb.d for r in range(pb.n_rows)]] = True
    free = list(range(pb.n_rows)) if all_rows else None

    def objective_on(active):
        cols = np.flatnonzero(active.reshape(pb.n_rows, p1)[:, : pb.d].any(axis=0))
        return cols

    def evaluate(active):
        """Hessian (or meat) over the active packed parameters, via the Newton objective."""
        cols = objective_on(active)
        Xa = np.ascontiguousarray(pb.X[:, cols])
        obj = GLMObjective(Xa, pb.y, pb.family, sample_weight=pb.w, offset=pb.offset, intercept=intercept, l2=l2,
                           penalize_intercept=est.penalize_intercept, n_classes=pb.n_rows if all_rows else None,
                           free=free)
        theta = np.hstack([rows[:, cols], icpt_arr[:, None]]).reshape(-1) if intercept else rows[:, cols].reshape(-1)
        eta = obj.eta(obj.linear(theta))
        pos = [r * p1 + c for r in range(pb.n_rows) for c in (list(cols) + ([pb.d] if intercept else []))]
        sel = active[pos]
        return obj, eta, sel, theta

    def hess(active):
        obj, eta, sel, theta = evaluate(active)
        H = obj.hessian(theta, eta)
        return H[np.ix_(sel, sel)]

    def meat(active):
        obj, eta, sel, _ = evaluate(active)
        scores = pb.family.grad(obj.y, eta)
        if pb.family.multiclass:
            scores = scores[:, obj.free]
        M = score_outer(obj.X, scores.numpy(), pb.w, intercept)
        return M[np.ix_(sel, sel)]

    cov, reasons, label = l1_covariance(est.cov_type, packed, icpt_mask, hess, meat, owner)
    coef_out, icpt_out = _split(pb, intercept, packed)
    eta = pb.X @ rows.T + (icpt_arr if intercept else 0.0)
    eta_t = torch.from_numpy(np.ascontiguousarray(eta if all_rows else eta[:, 0] + (0 if pb.offset is None else pb.offset)))
    wt = None if pb.w is None else torch.from_numpy(pb.w)
    loglik = float(pb.family.log_likelihood(torch.from_numpy(pb.y), eta_t, wt))
    k = float(np.count_nonzero(coef)) + (pb.n_rows if intercept else 0)
    return regression_estimate(coef_out, icpt_out, cov, labels_for(pb, intercept), loglik, k, n_iter, conv, msg,
                         "penalised solver (L1)", "MAP", pb.W, None, reasons, {}, [], plan.describe(pb.family.name, pb.W),
                         cov_label=label)


def generic_route(est, pb: Problem, plan) -> Estimate:
    from ..glm.map import fit_map_autograd

    owner = est._owner()
    intercept = est.fit_intercept
    all_rows = pb.row_names is not None
    res = fit_map_autograd(pb.X, pb.y, pb.family, plan.dist, sample_weight=pb.w, offset=pb.offset,
                           intercept=intercept, penalize_intercept=est.penalize_intercept,
                           n_classes=pb.n_rows if all_rows else None, max_iter=est.max_iter, tol=est.tol)
    p1 = pb.d + int(intercept)
    if all_rows and intercept and not est.penalize_intercept:
        cov, reason = _centred_inverse(res.hessian, pb.n_rows, p1, owner)
        rows = res.theta.reshape(pb.n_rows, p1)
        rows[:, pb.d] -= rows[:, pb.d].mean()
        theta = rows.reshape(-1)
    else:
        cov, reason = invert_information(res.hessian, owner=owner, what="posterior Hessian")
        theta = res.theta
    reasons = {"all coefficients": reason} if reason else {}
    obj = GLMObjective(pb.X, pb.y, pb.family, sample_weight=pb.w, offset=pb.offset, intercept=intercept,
                       n_classes=pb.n_rows if all_rows else None, free=list(range(pb.n_rows)) if all_rows else None)
    eta = obj.eta(obj.linear(theta))
    label = "Laplace approximation (posterior Hessian)"
    if est.cov_type == "sandwich" and reason is None:
        scores = pb.family.grad(obj.y, eta)
        cov = sandwich(cov, score_outer(pb.X, scores.numpy(), pb.w, intercept))
        label = "sandwich around the posterior mode"
    H_lik = obj.hessian(theta, eta)
    k = effective_k(res.hessian, H_lik)
    coef, icpt = _split(pb, intercept, theta)
    wt = None if pb.w is None else torch.from_numpy(pb.w)
    loglik = float(pb.family.log_likelihood(obj.y, eta, wt))
    return regression_estimate(coef, icpt, cov, labels_for(pb, intercept), loglik, k, res.n_iter, res.converged, res.message,
                         "Newton (autograd Hessian)", "MAP", pb.W, None, reasons, {}, [], plan.describe(pb.family.name, pb.W),
                         objective=res.objective, cov_label=label)


def fit_route(est, pb: Problem, plan) -> Estimate:
    """Dispatch on the prior (see :mod:`mlemap.models.prior`)."""
    if plan.kind == "none":
        return newton_route(est, pb, 0.0, plan, map_fit=False)
    if plan.kind == "penalty":
        l1, l2 = plan.penalty.weights(pb.family.name, pb.W)
        if l1 > 0:
            return l1_route(est, pb, l1, l2, plan)
        return newton_route(est, pb, l2, plan, map_fit=True)
    if plan.kind == "normal":
        return newton_route(est, pb, 1.0 / plan.scale**2, plan, map_fit=True)
    if plan.kind == "laplace":
        return l1_route(est, pb, 1.0 / plan.scale, 0.0, plan)
    return generic_route(est, pb, plan)

"""Fitting routes of the non-Gaussian smooth models (logistic, softmax, Poisson): maximum likelihood
and ridge-type priors by the core's Newton solver, L1 priors by the penalised solver, other priors
by autograd.

Each route takes a :class:`~mlemap.core.regression.RegressionProblem` (the estimator's data, no
prior yet) and returns an :class:`~mlemap.core.estimate.Estimate` whose parameters are packed per
linear predictor ``[coef..., intercept]``; for the softmax model the rows are the classes (a
reference class, if any, is a row of zeros with undefined standard errors).
"""

from __future__ import annotations

import numpy as np
import torch

from ..core.estimate import Estimate
from ..core.optimize import solve
from ..core.regression import RegressionProblem
from ..errors import MethodError, SeparationWarning, warn
from ..glm.design import INTERCEPT
from ..glm.inference import invert_information, sandwich, score_outer
from ..glm.separation import find_separation
from ..glm.zero_counts import find_zero_counts
from .base import effective_k, regression_estimate
from .routes import l1_covariance, l1_fit, warn_aliasing

#: problems up to this size (rows x parameters) test for separation as soon as the predictor runs away
EARLY_CHECK_SIZE = 2_000_000
#: rows on which the divergence watch follows the linear predictor
WATCH_ROWS = 20_000
#: above this many parameters L-BFGS replaces Newton (the exact Hessian is computed once, at the end)
WIDE = 1000


def _expand(pb: RegressionProblem, kept_cols: list[int], free_rows: list[int], values_red, cov_red):
    """Reduced packed (free rows x kept columns) -> full packed (all rows x all columns)."""
    d, intercept = pb.n_features, pb.model.intercept
    p1 = d + int(intercept)
    cols = list(kept_cols) + ([d] if intercept else [])
    index = [r * p1 + c for r in free_rows for c in cols]
    full_vals = np.zeros(pb.n_rows * p1)
    full_vals[index] = values_red
    full_cov = np.full((pb.n_rows * p1, pb.n_rows * p1), np.nan)
    full_cov[np.ix_(index, index)] = cov_red
    return full_vals, full_cov


def _split(pb: RegressionProblem, packed: np.ndarray):
    d = pb.n_features
    rows = packed.reshape(pb.n_rows, -1)
    coef = rows[:, :d].copy()
    icpt = rows[:, d].copy() if pb.model.intercept else np.zeros(pb.n_rows)
    if pb.row_names is None:
        return coef[0], float(icpt[0])
    return coef, icpt


class _DivergenceWatch:
    """Stops the solver when the linear predictor runs away, the sign of an MLE at infinity (separation).

    When ``confirm`` is given, the separation test runs whenever the largest linear predictor
    passes 8, 16, 32, ... and stops the iteration as soon as it finds one; otherwise a predictor
    above 25 with coefficients above 5 after 8 iterations stops it, and the caller tests then. The
    predictor is watched on at most ``WATCH_ROWS`` rows (a diverging direction shows on any of
    them, and the watch then costs little next to an iteration).
    """

    def __init__(self, pb: RegressionProblem, confirm=None):
        self.pb = pb
        self.confirm = confirm
        self.rows, self.positive = pb.watch_rows(WATCH_ROWS)
        self.calls = 0
        self.check_at = 8.0
        self.found = None
        self.diverging = False

    def largest(self, x) -> float:
        eta = self.pb.model.eta_of(self.rows, self.pb.theta(x))
        return float((eta if self.positive is None else eta[self.positive]).abs().max())

    def __call__(self, x, f) -> bool:
        self.calls += 1
        if self.calls < 3:
            return False
        big = self.largest(x)
        if self.confirm is not None and big > self.check_at:
            self.check_at *= 2  # a negative test is repeated only once the predictor has doubled
            self.found = self.confirm()
            if self.found is not None:
                self.diverging = True
                return True
        if self.calls >= 9 and big > 25.0 and float(self.pb.theta(x).abs().max()) > 5.0:
            self.diverging = True
            return True
        return False


def newton_route(est, pb: RegressionProblem, l2: float, plan, *, map_fit: bool) -> Estimate:
    """Maximum likelihood (``l2 = 0``) or a Gaussian prior of precision ``l2`` by Newton."""
    owner = est._owner()
    intercept = pb.model.intercept
    d = pb.n_features
    reasons: dict[str, str] = {}
    status: dict[str, str] = {}
    kept_cols = list(range(d))
    if l2 == 0:
        alias = pb.aliasing()
        if alias.deficient:
            r, s = warn_aliasing(alias, owner)
            prefixes = [""] if pb.row_names is None else [f"{pb.row_names[q]}:" for q in pb.model.free]
            for lab, why in r.items():
                for pre in prefixes:
                    reasons[pre + lab] = why
                    status[pre + lab] = s[lab]
            kept_cols = [j for j in alias.kept if j < d]
    sub = pb.restrict(kept_cols).with_penalty(l2, est.penalize_intercept)
    free_rows = sub.model.free
    classify = pb.family.name in ("bernoulli", "categorical") and l2 == 0
    # with a ridge prior the intercept alone can still run off: when it is not penalised and every count is 0
    counts = pb.family.name == "poisson" and (l2 == 0 or intercept and not est.penalize_intercept and sub.no_events())
    labels_k = sub.labels()[: sub.model.p1] if pb.row_names is None else (
        sub.features + ([INTERCEPT] if intercept else []))

    def separation():
        """The direction along which the likelihood has no maximum: separated classes, or zero counts
        (found on the order-free sample of a source's rows, then confirmed or refuted on every row)."""
        X, y, weight, on_sample = sub.separation_rows()
        if counts:
            found = find_zero_counts(X, y, labels=labels_k, intercept=intercept, sample_weight=weight)
        else:
            found = find_separation(X, y.astype(np.int64), labels=labels_k, class_names=list(pb.class_names),
                                    intercept=intercept, sample_weight=weight,
                                    free=free_rows if pb.family.multiclass else None)
        if found is not None and on_sample:
            found = sub.confirm_separation(found)
            if found is not None and hasattr(found, "note"):
                found.note = (f"The separating direction was found on a sample of {X.shape[0]:,} distinct rows and "
                              f"holds on all {sub.n_obs:,} rows.")
        return found

    classify = classify or counts

    small = sub.n_obs * sub.size <= EARLY_CHECK_SIZE
    watch = _DivergenceWatch(sub, separation if small else None) if classify else None
    wide = sub.size > WIDE
    res = solve(sub, solver="lbfgs" if wide else "newton", max_iter=est.max_iter, callback=watch,
                **({} if wide else {"ftol": min(est.tol, 1e-15)}))
    x = res.x
    H_x = res.hess if res.hess is not None else sub.objective().value_grad_hess(x)[2]
    theta = sub.theta(x)
    summary = sub.fit_summary(theta, meat=est.cov_type == "sandwich")
    sep = watch.found if watch is not None else None
    if sep is None and classify:
        if watch.diverging or not res.converged or summary.largest > 20:
            sep = separation()
    p1_red = len(kept_cols) + int(intercept)
    label_all = pb.labels()
    if sep is not None:
        warn(sep.message(owner), SeparationWarning)
        cov_red = np.full((sub.model.size, sub.model.size), np.nan)
        reasons["all coefficients"] = (
            f"undefined: the maximum-likelihood estimate does not exist ({sep.cause}); the reported values are the "
            "last iterate along a diverging direction"
        )
        for r_pos, row in enumerate(free_rows):
            for c_pos in range(p1_red):
                if sep.diverging[r_pos, c_pos]:
                    col = kept_cols[c_pos] if c_pos < len(kept_cols) else d
                    status[label_all[row * (d + int(intercept)) + col]] = f"diverging ({sep.cause})"
        cov_label = f"undefined ({sep.cause})"
    else:
        cov_x, reason = invert_information(H_x.numpy(), owner=owner)
        cov_red = cov_x if sub.basis is None else sub.basis.numpy() @ cov_x @ sub.basis.numpy().T
        if reason:
            reasons["all coefficients"] = reason
        cov_label = "Laplace approximation (posterior Hessian)" if map_fit else "observed information"
        if est.cov_type == "sandwich" and reason is None:
            cov_red = sandwich(cov_red, summary.meat)
            cov_label = "sandwich (HC0)" + (" around the posterior mode" if map_fit else "")
    packed, cov = _expand(pb, kept_cols, free_rows, theta.numpy(), cov_red)
    coef, icpt = _split(pb, packed)
    loglik = summary.loglik
    k = effective_k(H_x.numpy(), (H_x - sub.penalty_hessian()).numpy()) if map_fit else float(sub.size)
    converged = res.converged and sep is None
    message = res.message if sep is None else f"stopped: {sep.cause} (the MLE does not exist)"
    solver = ("L-BFGS" if wide else "Newton (exact Hessian)") + (" with ridge prior" if map_fit else "")
    return regression_estimate(coef, icpt, cov, label_all, loglik, k, res.n_iter, converged, message, solver,
                               "MAP" if map_fit else "MLE", pb.total_weight, None, reasons, status, [],
                               plan.describe(pb.family.name, pb.total_weight) if map_fit else "",
                               objective=float(res.fun), cov_label=cov_label, separation=sep,
                               report=getattr(res, "report", None))


def l1_route(est, pb: RegressionProblem, l1: float, l2: float, plan) -> Estimate:
    owner = est._owner()
    intercept = pb.model.intercept
    d = pb.n_features
    if pb.in_memory:
        coef, icpt, n_iter, conv, msg = l1_fit(pb.X, np.asarray(pb.y), pb.family, l1, l2, sample_weight=pb.weight,
                                               offset=pb.offset, fit_intercept=intercept,
                                               penalize_intercept=est.penalize_intercept, tol=1e-10,
                                               max_iter=max(est.max_iter, 10_000))
    else:
        from ..glm.penalized_gram import fit_penalized_source

        coef, icpt, n_iter, conv, msg = fit_penalized_source(pb, l1, l2, penalize_intercept=est.penalize_intercept,
                                                             tol=1e-10, max_iter=max(est.max_iter, 10_000))
    coef = np.asarray(coef, float)
    icpt_arr = np.atleast_1d(np.asarray(icpt, float))
    rows = coef.reshape(pb.n_rows, -1)
    packed = np.hstack([rows, icpt_arr[:, None]]).reshape(-1) if intercept else rows.reshape(-1)
    p1 = d + int(intercept)
    icpt_mask = np.zeros(packed.size, bool)
    if intercept and not est.penalize_intercept:
        icpt_mask[[r * p1 + d for r in range(pb.n_rows)]] = True
    full = pb.with_penalty(l2, est.penalize_intercept)
    if pb.row_names is not None:
        full = full._replace(free=list(range(pb.n_rows)))

    def restricted(active):
        """The problem on the active columns, the packed coefficients there, and the active entries."""
        cols = list(np.flatnonzero(active.reshape(pb.n_rows, p1)[:, :d].any(axis=0)))
        sub = full.restrict(cols)
        theta = np.hstack([rows[:, cols], icpt_arr[:, None]]).reshape(-1) if intercept else rows[:, cols].reshape(-1)
        pos = [r * p1 + c for r in range(pb.n_rows) for c in (cols + ([d] if intercept else []))]
        return sub, torch.from_numpy(theta), active[pos]

    def hess(active):
        sub, theta, sel = restricted(active)
        H = sub.theta_objective().value_grad_hess(theta)[2].numpy()
        return H[np.ix_(sel, sel)]

    def meat(active):
        sub, theta, sel = restricted(active)
        M = sub.fit_summary(theta, meat=True).meat
        return M[np.ix_(sel, sel)]

    cov, reasons, label = l1_covariance(est.cov_type, packed, icpt_mask, hess, meat, owner)
    coef_out, icpt_out = _split(pb, packed)
    loglik = full.fit_summary(torch.from_numpy(packed)).loglik
    k = float(np.count_nonzero(coef)) + (pb.n_rows if intercept else 0)
    return regression_estimate(coef_out, icpt_out, cov, pb.labels(), loglik, k, n_iter, conv, msg,
                               "penalised solver (L1)", "MAP", pb.total_weight, None, reasons, {}, [],
                               plan.describe(pb.family.name, pb.total_weight), cov_label=label)


def generic_route(est, pb: RegressionProblem, plan) -> Estimate:
    from ..glm.map import fit_map_autograd

    owner = est._owner()
    if not pb.in_memory:
        raise MethodError(f"{owner} with a prior other than a penalty (ridge, lasso, elastic net), a Normal or a Laplace "
                          "distribution fits in memory only; load the data, or use one of those priors.")
    intercept = pb.model.intercept
    all_rows = pb.row_names is not None
    res = fit_map_autograd(pb.X, np.asarray(pb.y), pb.family, plan.dist, sample_weight=pb.weight, offset=pb.offset,
                           intercept=intercept, penalize_intercept=est.penalize_intercept,
                           n_classes=pb.n_rows if all_rows else None, max_iter=est.max_iter, tol=est.tol)
    full = pb._replace(free=list(range(pb.n_rows))) if all_rows else pb
    theta = res.theta
    if full.basis is not None:
        # a common shift of the intercepts changes nothing: report the centred ones, whose covariance is
        # the inverse of the Hessian on the sum-zero subspace
        T = full.basis.numpy()
        theta = T @ (T.T @ theta)
        cov_x, reason = invert_information(T.T @ res.hessian @ T, owner=owner, what="posterior Hessian")
        cov = T @ cov_x @ T.T
    else:
        cov, reason = invert_information(res.hessian, owner=owner, what="posterior Hessian")
    reasons = {"all coefficients": reason} if reason else {}
    rows = full.rows_all()
    theta_t = torch.from_numpy(theta)
    label = "Laplace approximation (posterior Hessian)"
    if est.cov_type == "sandwich" and reason is None:
        cov = sandwich(cov, score_outer(pb.X, full.model.scores(rows, theta_t).numpy(), pb.weight, intercept))
        label = "sandwich around the posterior mode"
    H_lik = full.theta_objective().value_grad_hess(theta_t)[2].numpy()
    k = effective_k(res.hessian, H_lik)
    coef, icpt = _split(pb, theta)
    loglik = float(full.model.log_likelihood(rows, theta_t))
    return regression_estimate(coef, icpt, cov, pb.labels(), loglik, k, res.n_iter, res.converged, res.message,
                               "Newton (autograd Hessian)", "MAP", pb.total_weight, None, reasons, {}, [],
                               plan.describe(pb.family.name, pb.total_weight), objective=res.objective,
                               cov_label=label)


def fit_route(est, pb: RegressionProblem, plan) -> Estimate:
    """Dispatch on the prior (see :mod:`mlemap.models.prior`)."""
    W = pb.total_weight
    if plan.kind == "none":
        return newton_route(est, pb, 0.0, plan, map_fit=False)
    if plan.kind == "penalty":
        l1, l2 = plan.penalty.weights(pb.family.name, W)
        if l1 > 0:
            return l1_route(est, pb, l1, l2, plan)
        return newton_route(est, pb, l2, plan, map_fit=True)
    if plan.kind == "normal":
        return newton_route(est, pb, 1.0 / (plan.scale * plan.scale), plan, map_fit=True)
    if plan.kind == "laplace":
        return l1_route(est, pb, 1.0 / plan.scale, 0.0, plan)
    return generic_route(est, pb, plan)

"""Laplace regression: :math:`y_i \\mid x_i \\sim \\text{Laplace}(x_i^\\top\\beta + b_0, b)`.

Maximum likelihood is least absolute deviations (median regression), solved exactly as a linear
program (:mod:`mlemap.glm.lad`); ``scale_`` is the MLE :math:`\\hat b = \\sum_i w_i|r_i| / W`.
Standard errors: ``cov_type="observed"`` uses the LAD asymptotic covariance under Laplace errors,
:math:`\\hat b^2 (\\tilde X^\\top W \\tilde X)^{-1}` (derivation in :mod:`mlemap.glm.lad`);
``cov_type="bootstrap"`` the covariance of ``n_boot`` row-resampled refits (no assumption on the
error distribution).

Priors: ``mm.priors.lasso(alpha)`` (scikit-learn's ``QuantileRegressor(quantile=0.5, alpha)``) or
``td.Laplace(0, s)`` (lasso with :math:`\\lambda_1 = b / s`, alternated with the update of ``b``),
both solved by the L1 linear program. Smooth (e.g. Gaussian) priors would need a quadratic program
and are not offered.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..core.regression import RegressionProblem
from ..errors import ParameterError, PriorError
from ..glm.design import as_offset, as_response, as_sample_weight
from ..glm.family import LaplaceGLM
from ..glm.gram import single_threaded_torch, weighted_gram
from ..glm.inference import invert_information
from ..glm.lad import solve_lad
from .base import RegressionBase, regression_estimate
from .routes import l1_covariance, l1_fit
from .sources import refuse_source


class LaplaceRegression(RegressorMixin, RegressionBase):
    """Least absolute deviations as the maximum-likelihood fit of Laplace errors.

    Parameters
    ----------
    prior : None, ``mm.priors.lasso(alpha)`` or ``td.Laplace(0.0, s)``
    fit_intercept, penalize_intercept : bool
    max_iter, tol : for the alternation of a ``td.Laplace`` prior with the scale update.
    cov_type : {"observed", "bootstrap", "laplace_active"}
    n_boot : int
        Bootstrap replicates for ``cov_type="bootstrap"`` (rows resampled with a fixed seed).
    """

    _family = "laplace"
    _dispersion_name = "b"

    def __init__(self, *, prior=None, fit_intercept=True, penalize_intercept=False, max_iter=100, tol=1e-10,
                 cov_type="observed", n_boot=200):
        self.prior = prior
        self.fit_intercept = fit_intercept
        self.penalize_intercept = penalize_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type
        self.n_boot = n_boot

    def _cov_types(self):
        return ("observed", "bootstrap", "laplace_active")

    @single_threaded_torch
    def fit(self, X, y=None, sample_weight=None, offset=None):
        plan = self._check_params()
        owner = self._owner()
        refuse_source(self, X)
        if self.cov_type == "bootstrap" and (
            isinstance(self.n_boot, bool) or not isinstance(self.n_boot, numbers.Integral) or self.n_boot < 2
        ):
            raise ParameterError(
                f"The 'n_boot' parameter of {owner} must be an int in the range [2, inf). Got {self.n_boot!r} instead."
            )
        X = self._validate_X(X, reset=True)
        n = X.shape[0]
        y = as_response(y, n=n, owner=owner)
        w = as_sample_weight(sample_weight, n=n, owner=owner)
        off = as_offset(offset, None, n=n, owner=owner)
        pb = RegressionProblem(LaplaceGLM(), X, y, weight=w, offset=off, intercept=self.fit_intercept,
                               features=self._feature_labels())
        labels, W = pb.labels(), pb.total_weight
        if plan.kind == "none":
            fit = self._lad(X, y, w, off, labels, W)
        elif plan.has_l1() and not (plan.kind == "penalty" and plan.penalty.l1_ratio < 1):
            fit = self._l1(X, y, w, off, labels, W, plan)
        else:
            raise PriorError(
                f"{owner} supports prior=None, mm.priors.lasso(alpha) or td.Laplace(0, s); got {plan.describe('laplace', W)}. "
                "The Laplace likelihood is not differentiable, so a smooth (ridge-type) prior would need a quadratic "
                "program; use LinearRegression for Gaussian errors with such a prior."
            )
        self._finish(fit)
        return self

    def _loglik(self, y, fitted, w, off, b):
        eta = torch.from_numpy(fitted if off is None else fitted + off)
        wt = None if w is None else torch.from_numpy(w)
        return float(LaplaceGLM().log_likelihood(torch.from_numpy(y), eta, wt, dispersion=b))

    def _lad(self, X, y, w, off, labels, W):
        sol = solve_lad(X, y, sample_weight=w, offset=off, fit_intercept=self.fit_intercept)
        b = sol.sad / W
        G = weighted_gram(X, np.ones(X.shape[0]) if w is None else w, self.fit_intercept)
        reasons = {}
        if self.cov_type == "bootstrap":
            cov = self._bootstrap(X, y, w, off)
            label = f"bootstrap ({self.n_boot} row resamples)"
        else:
            inv, reason = invert_information(G, owner=self._owner(), what="Fisher information")
            cov = b * b * inv
            if reason:
                reasons["all coefficients"] = reason
            label = "Laplace-model asymptotic covariance b^2 (X'WX)^-1"
        fitted = X @ sol.coef + sol.intercept
        loglik = self._loglik(y, fitted, w, off, b) if b > 0 else math.inf
        k = X.shape[1] + int(self.fit_intercept) + 1
        return regression_estimate(sol.coef, sol.intercept, cov, labels, loglik, k, sol.n_iter, True, sol.message,
                             "linear program (HiGHS)", "MLE", W, b, reasons, {}, [], cov_label=label)

    def _bootstrap(self, X, y, w, off):
        rng = np.random.default_rng(0)
        n = X.shape[0]
        draws = []
        for _ in range(int(self.n_boot)):
            idx = rng.integers(0, n, n)
            ww = None if w is None else w[idx]
            if ww is not None and not ww.sum() > 0:
                continue
            s = solve_lad(X[idx], y[idx], sample_weight=ww, offset=None if off is None else off[idx],
                          fit_intercept=self.fit_intercept)
            draws.append(np.append(s.coef, s.intercept) if self.fit_intercept else s.coef)
        return np.cov(np.asarray(draws), rowvar=False).reshape(len(draws[0]), len(draws[0]))

    def _l1(self, X, y, w, off, labels, W, plan):
        family = LaplaceGLM()
        d = X.shape[1]
        if plan.kind == "penalty":
            l1, _ = plan.penalty.weights("laplace", W)
            coef, icpt, n_iter, conv, msg = l1_fit(X, y, family, l1, 0.0, sample_weight=w, offset=off,
                                                   fit_intercept=self.fit_intercept,
                                                   penalize_intercept=self.penalize_intercept, tol=1e-10,
                                                   max_iter=10_000)
            r = y - X @ coef - icpt - (0 if off is None else off)
            b = float(np.sum(np.abs(r) if w is None else w * np.abs(r))) / W
        else:  # td.Laplace(0, s): l1 = b / s, alternated with b = SAD / W
            s = plan.scale
            b = float(np.average(np.abs(y - np.median(y)), weights=w)) or 1.0
            conv, n_iter = False, 0
            for _ in range(self.max_iter):
                l1 = b / s
                coef, icpt, it, ok, msg = l1_fit(X, y, family, l1, 0.0, sample_weight=w, offset=off,
                                                 fit_intercept=self.fit_intercept,
                                                 penalize_intercept=self.penalize_intercept, tol=1e-10,
                                                 max_iter=10_000)
                n_iter += it
                r = y - X @ coef - icpt - (0 if off is None else off)
                new = float(np.sum(np.abs(r) if w is None else w * np.abs(r))) / W
                if abs(new - b) <= self.tol * max(b, 1e-300):
                    b, conv = new, ok
                    break
                b = new
            l1 = b / s
        coef = np.asarray(coef, float)
        icpt = float(icpt) if self.fit_intercept else 0.0
        packed = np.append(coef, icpt) if self.fit_intercept else coef.copy()
        icpt_mask = np.zeros(packed.size, bool)
        if self.fit_intercept and not self.penalize_intercept:
            icpt_mask[d] = True

        def hess(active):
            Xa = X[:, np.flatnonzero(active[:d])]
            return weighted_gram(Xa, np.ones(X.shape[0]) if w is None else w, self.fit_intercept and bool(active[-1])) / b**2

        def meat(active):  # not offered for LaplaceRegression
            return hess(active)

        cov, reasons, label = l1_covariance(self.cov_type, packed, icpt_mask, hess, meat, self._owner())
        loglik = self._loglik(y, X @ coef + icpt, w, off, b) if b > 0 else math.inf
        k = float(np.count_nonzero(coef)) + int(self.fit_intercept) + 1
        text = plan.describe("laplace", W, b)
        if plan.kind != "penalty":
            text += f"; equivalent to an L1 penalty lambda_1 = b/s = {l1:.6g}"
        return regression_estimate(coef, icpt, cov, labels, loglik, k, n_iter, conv, msg, "linear program (L1)", "MAP", W, b,
                             reasons, {}, [], text, cov_label=label)

    def predict(self, X, offset=None):
        """The conditional median :math:`x^\\top\\hat\\beta + \\hat b_0` (+ offset)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        out = X @ self.coef_ + self.intercept_
        if offset is not None:
            out = out + as_offset(offset, None, n=X.shape[0], owner=self._owner())
        return out

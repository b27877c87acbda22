"""Linear regression: the Gaussian likelihood :math:`y_i \\mid x_i \\sim \\mathcal N(x_i^\\top\\beta + b, \\sigma^2)`.

Maximum likelihood is weighted least squares,

.. math:: \\hat\\beta = \\arg\\min \\sum_i w_i (y_i - x_i^\\top\\beta - b)^2, \\qquad \\hat\\sigma^2 = \\frac{1}{W}\\sum_i w_i r_i^2,

solved by QR with iterative refinement (:mod:`mlemap.glm.lstsq`). ``scale_`` is the MLE
:math:`\\hat\\sigma` (divisor ``W``, not ``W - p``), and the standard errors come from the observed
information :math:`\\tilde X^\\top W \\tilde X / \\hat\\sigma^2`; the classical OLS standard errors are
``se_ * sqrt(W / (W - p))``. Sample weights are frequency weights: for known variances
(weighted least squares) pass ``1 / variance`` rescaled to mean 1.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..core.regression import RegressionProblem
from ..errors import BoundaryWarning, MethodError, warn
from ..glm.design import as_offset, as_response, as_sample_weight
from ..glm.family import GaussianGLM
from ..glm.gram import single_threaded_torch
from ..glm.inference import invert_information, sandwich
from ..glm.lstsq import solve_lstsq
from .base import RegressionBase, effective_k, regression_estimate
from .linear_data import LinearFactor, LinearRows
from .routes import l1_covariance, warn_aliasing
from .sources import source_problem


class LinearRegression(RegressorMixin, RegressionBase):
    """Linear regression by maximum likelihood or MAP.

    Parameters
    ----------
    prior : None, Penalty or torch distribution
        ``None``: maximum likelihood (ordinary / weighted least squares, no hidden penalty).
        ``mm.priors.ridge(alpha)``: minimises :math:`\\lVert y - X\\beta\\rVert^2 + \\alpha\\lVert\\beta\\rVert^2`
        (``sklearn.linear_model.Ridge``); ``lasso``/``elastic_net`` as ``Lasso``/``ElasticNet``.
        A distribution such as ``td.Normal(0.0, 2.0)`` is an i.i.d. prior on every coefficient, in the
        units of ``y`` per unit of ``x``; the MAP of the joint objective in :math:`(\\beta, \\sigma)`.
    fit_intercept, penalize_intercept : bool
    max_iter, tol : iteration limit and tolerance of the iterative routes (L1, general priors).
    cov_type : {"observed", "sandwich", "laplace_active"}
        ``"sandwich"``: heteroscedasticity-robust (HC0) standard errors.
    """

    _family = "gaussian"
    _dispersion_name = "sigma"

    def __init__(self, *, prior=None, fit_intercept=True, penalize_intercept=False, max_iter=500, tol=1e-12,
                 cov_type="observed"):
        self.prior = prior
        self.fit_intercept = fit_intercept
        self.penalize_intercept = penalize_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type

    @single_threaded_torch
    def fit(self, X, y=None, sample_weight=None, offset=None):
        """Fit the model; ``offset`` is added to the linear predictor (a known part of the mean). ``X``
        may also be a design over files (``fit(design)``) or a dask array with dask ``y`` (see
        :mod:`mlemap.models.sources`): the routes then read the survey's triangular factor."""
        plan = self._check_params()
        owner = self._owner()
        self._profile_data = None
        pb = source_problem(self, X, y, sample_weight, offset, family=GaussianGLM())
        if pb is not None:
            data = LinearFactor(pb, pb.labels())
        else:
            X = self._validate_X(X, reset=True)
            n = X.shape[0]
            y = as_response(y, n=n, owner=owner)
            w = as_sample_weight(sample_weight, n=n, owner=owner)
            off = as_offset(offset, None, n=n, owner=owner)
            pb = RegressionProblem(GaussianGLM(), X, y, weight=w, offset=off, intercept=self.fit_intercept,
                                   features=self._feature_labels())
            data = LinearRows(X, y, w, off, self.fit_intercept, pb.labels())
        labels, W = pb.labels(), pb.total_weight
        if plan.kind == "none":
            fit = self._ols(data, labels, W)
            if pb.in_memory:
                self._profile_data = (data.X, data.y, data.w, data.offset, GaussianGLM())
        elif plan.kind == "penalty" and not plan.penalty.has_l1:
            fit = self._ridge(data, labels, W, plan.penalty.weights("gaussian", W)[1], plan)
        elif plan.kind == "normal":
            fit = self._normal_prior(data, labels, W, plan)
        elif plan.has_l1():
            if not pb.in_memory and self.fit_intercept and self.penalize_intercept:
                raise MethodError(f"{owner} with an L1 prior and penalize_intercept=True fits data in memory only.")
            fit = self._l1(data, labels, W, plan)
        else:
            if not pb.in_memory:
                raise MethodError(f"{owner} with a prior other than a penalty or a Normal or Laplace distribution fits "
                                  "data in memory only; load the data, or use one of those priors.")
            fit = self._generic(data, labels, W, plan)
        self._finish(fit)
        return self

    # ------------------------------------------------------------------ routes
    def _scale(self, rss, W):
        sigma2 = rss / W
        if not sigma2 > 0:
            warn(
                f"{self._owner()}: every residual is zero (a perfect fit), so the maximum-likelihood sigma is 0 and "
                "the likelihood is unbounded; the standard errors are 0. Check for a response copied into X or "
                "fewer observations than coefficients.",
                BoundaryWarning,
            )
            sigma2 = 0.0
        return sigma2

    def _ols(self, data, labels, W):
        sol = data.solve()
        reasons, status = warn_aliasing(sol.aliasing, self._owner())
        sigma2 = self._scale(sol.rss, W)
        keep = ~np.isnan(np.diag(sol.inv_gram))
        if self.cov_type == "sandwich":
            cov = sandwich(sol.inv_gram, data.meat(sol.coef, sol.intercept))
            label = "sandwich (HC0)"
        else:
            cov = sigma2 * sol.inv_gram
            label = "observed information"
        loglik = data.loglik(sol.coef, sol.intercept, sigma2) if sigma2 > 0 else math.inf
        return regression_estimate(sol.coef, sol.intercept, cov, labels, loglik, float(keep.sum()) + 1, sol.n_refine, True,
                             f"QR solve with {sol.n_refine} refinement step(s) (condition number {sol.cond:.3g})",
                             "Householder QR + refinement", "MLE", W, math.sqrt(sigma2), reasons, status, [],
                             cov_label=label)

    def _ridge(self, data, labels, W, l2, plan, sigma2=None, notes=None, n_iter=0, joint=None):
        """Ridge by QR. ``joint(sol, sigma2)`` gives ``(cov, cov_label, converged, message, solver)`` for the
        td.Normal-prior route, whose covariance is joint in the coefficients and sigma."""
        sol = data.solve(l2, self.penalize_intercept)
        reasons, status = warn_aliasing(sol.aliasing, self._owner())
        if sigma2 is None:
            sigma2 = self._scale(sol.rss, W)
        G = data.gram()
        if self.cov_type == "sandwich":
            cov = sandwich(sol.inv_gram, data.meat(sol.coef, sol.intercept))
            label = "sandwich (HC0) around the posterior mode"
        else:
            cov = sigma2 * sol.inv_gram
            label = "Laplace approximation (ridge posterior given sigma)"
        keep = ~np.isnan(np.diag(sol.inv_gram))
        H_post = G.copy()
        H_post[np.diag_indices_from(H_post)] += l2 * self._penalised_mask(data.d)
        k = effective_k(H_post, G, keep) + 1
        loglik = data.loglik(sol.coef, sol.intercept, sigma2) if sigma2 > 0 else math.inf
        text = plan.describe("gaussian", W, sigma2)
        converged, message, solver = True, "QR solve of the ridge system", "Householder QR + refinement (ridge)"
        if joint is not None:
            joint_cov, joint_label, converged, message, solver = joint(sol, sigma2)
            if joint_cov is not None:
                cov, label = joint_cov, joint_label
        return regression_estimate(sol.coef, sol.intercept, cov, labels, loglik, k, n_iter or sol.n_refine, converged,
                                   message, solver, "MAP", W, math.sqrt(sigma2), reasons, status, list(notes or []), text,
                                   cov_label=label)

    def _penalised_mask(self, d):
        mask = np.ones(d + int(self.fit_intercept))
        if self.fit_intercept and not self.penalize_intercept:
            mask[d] = 0.0
        return mask

    def _normal_prior(self, data, labels, W, plan):
        """td.Normal(0, s): ridge with l2 = sigma^2 / s^2, alternated with sigma^2 = RSS / W."""
        s2 = plan.scale * plan.scale  # inf for a scale beyond 1e154: a flat prior, precision 0
        sigma2 = data.variance() or 1.0
        converged = False
        for it in range(1, self.max_iter + 1):
            sol = data.solve(sigma2 / s2, self.penalize_intercept, max_refine=3)
            new = sol.rss / W
            if abs(new - sigma2) <= self.tol * max(sigma2, 1e-300) * 1e3:
                sigma2, converged = new, True
                break
            sigma2 = new
        message = "alternating ridge solve and sigma update" + ("" if converged else f": no fixed point in max_iter={self.max_iter}")

        def joint(sol, sigma2):
            """The joint Laplace approximation over (coef, intercept, sigma)."""
            G = data.gram()
            cross = data.cross(sol.coef, sol.intercept)
            p = G.shape[0]
            H = np.zeros((p + 1, p + 1))
            H[:p, :p] = G / sigma2 + np.diag(self._penalised_mask(data.d) / s2)
            H[:p, p] = H[p, :p] = 2 * cross / sigma2**1.5
            H[p, p] = 2 * W / sigma2
            joint_cov = None
            if self.cov_type != "sandwich":
                joint_cov = invert_information(H, owner=self._owner(), what="posterior Hessian")[0][:p, :p]
            return (joint_cov, "Laplace approximation (joint in coefficients and sigma)", converged, message,
                    "ridge / sigma alternation")

        return self._ridge(data, labels, W, sigma2 / s2, plan, sigma2=sigma2, n_iter=it, joint=joint)

    def _l1(self, data, labels, W, plan):
        d = data.d
        if plan.kind == "penalty":
            l1, l2 = plan.penalty.weights("gaussian", W)
            coef, icpt, n_iter, conv, msg = data.l1_solver(l1, l2, penalize_intercept=self.penalize_intercept,
                                                           tol=1e-10, max_iter=max(self.max_iter, 10_000))
            sigma2 = self._scale(data.rss(coef, icpt), W)
        else:  # td.Laplace(0, b): lasso with l1 = sigma^2 / b, alternated with sigma
            b = plan.scale
            l2 = 0.0
            sigma2 = data.variance() or 1.0
            coef = icpt = None
            conv = False
            total_iter = 0
            for _ in range(self.max_iter):
                l1 = sigma2 / b
                coef, icpt, n_iter, ok, msg = data.l1_solver(l1, 0.0, penalize_intercept=self.penalize_intercept,
                                                             tol=1e-12, max_iter=10_000, coef_init=coef,
                                                             intercept_init=icpt)
                total_iter += n_iter
                new = data.rss(coef, icpt) / W
                if abs(new - sigma2) <= 1e-10 * sigma2:
                    sigma2, conv = new, ok
                    break
                sigma2 = new
            n_iter = total_iter
            l1 = sigma2 / b
        packed = np.append(coef, icpt) if self.fit_intercept else np.asarray(coef, float)
        icpt_mask = np.zeros(packed.size, bool)
        if self.fit_intercept and not self.penalize_intercept:
            icpt_mask[d] = True

        def hess(active):
            G = data.gram(np.flatnonzero(active[:d]), self.fit_intercept and bool(active[-1]))
            pen = np.ones(G.shape[0]) * l2
            if self.fit_intercept and active[-1] and not self.penalize_intercept:
                pen[-1] = 0.0
            return (G + np.diag(pen)) / sigma2

        def meat(active):
            return data.meat(coef, icpt, sigma2, np.flatnonzero(active[:d]), self.fit_intercept and bool(active[-1]))

        cov, reasons, label = l1_covariance(self.cov_type, packed, icpt_mask, hess, meat, self._owner())
        loglik = data.loglik(coef, icpt, sigma2) if sigma2 > 0 else math.inf
        k = float(np.count_nonzero(coef)) + int(self.fit_intercept) + 1
        text = plan.describe("gaussian", W, sigma2) if plan.kind == "penalty" else (
            plan.describe("gaussian", W) + f"; equivalent to lasso with lambda_1 = sigma^2/b = {l1:.6g}")
        return regression_estimate(coef, icpt, cov, labels, loglik, k, n_iter, conv, msg, "coordinate descent (L1)", "MAP", W,
                             math.sqrt(sigma2), reasons, {}, [], text, cov_label=label)

    def _generic(self, data, labels, W, plan):
        from ..glm.map import fit_map_autograd

        X, y, w, off = data.X, data.y, data.w, data.offset
        res = fit_map_autograd(X, y, GaussianGLM(), plan.dist, sample_weight=w, offset=off,
                               intercept=self.fit_intercept, penalize_intercept=self.penalize_intercept,
                               max_iter=self.max_iter, tol=self.tol)
        d = X.shape[1]
        p = res.theta.size
        coef, icpt = res.theta[:d], (float(res.theta[d]) if self.fit_intercept else 0.0)
        sigma2 = res.scale**2
        inv, reason = invert_information(res.hessian, owner=self._owner(), what="posterior Hessian")
        cov = inv[:p, :p]
        reasons = {"coefficients": reason} if reason else {}
        label = "Laplace approximation (joint in coefficients and sigma)"
        if self.cov_type == "sandwich":
            cov = sandwich(cov, data.meat(coef, icpt, sigma2))
            label = "sandwich around the posterior mode"
        G = data.gram() / sigma2
        k = effective_k(res.hessian[:p, :p], G) + 1
        loglik = data.loglik(coef, icpt, sigma2)
        return regression_estimate(coef, icpt, cov, labels, loglik, k, res.n_iter, res.converged, res.message,
                             "Newton (autograd Hessian)", "MAP", W, res.scale, reasons, {}, [],
                             plan.describe("gaussian", W), objective=res.objective, cov_label=label)

    # ------------------------------------------------------------------ profile likelihood
    def _profile_loglik(self, j: int, value: float) -> float:
        """Gaussian log-likelihood maximised over the other coefficients and sigma with parameter ``j`` at ``value``."""
        from .profile import training_data

        X, y, w, off, _ = training_data(self)
        d = X.shape[1]
        base = np.zeros(X.shape[0]) if off is None else off.copy()
        if j < d:
            base = base + value * X[:, j]
            Xr = np.delete(X, j, axis=1)
            icpt = self.fit_intercept
        else:
            base = base + value
            Xr, icpt = X, False
        if Xr.shape[1] == 0 and not icpt:
            r = y - base
        else:
            Xs = Xr if Xr.shape[1] else np.zeros((X.shape[0], 1))
            sol = solve_lstsq(Xs, y, sample_weight=w, offset=base, fit_intercept=icpt, max_refine=2)
            r = y - base - (Xs @ sol.coef + sol.intercept)
        W = float(X.shape[0] if w is None else w.sum())
        rss = float(np.sum(r * r if w is None else w * r * r))
        return -0.5 * W * (math.log(2 * math.pi) + math.log(rss / W) + 1)

    # ------------------------------------------------------------------ prediction
    def predict(self, X, offset=None):
        """:math:`X\\hat\\beta + \\hat b` (+ offset)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        out = X @ self.coef_ + self.intercept_
        if offset is not None:
            out = out + as_offset(offset, None, n=X.shape[0], owner=self._owner())
        return out


__all__ = ["LinearRegression"]

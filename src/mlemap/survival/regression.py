"""``SurvivalRegression``: accelerated failure time models, parametrised exactly as R's ``survreg``.

.. math:: \\log T_i = b + x_i^\\top\\beta + \\sigma W_i

(``T`` itself for the normal and logistic families: Tobit-type censored regression), with ``W``
extreme-value for ``weibull`` (``exponential``: :math:`\\sigma = 1`; ``rayleigh``: :math:`\\sigma = 1/2`),
normal for ``lognormal`` / ``normal`` and logistic for ``loglogistic`` / ``logistic``. ``coef_`` and
``intercept_`` are survreg's coefficients (on the log-time scale), ``scale_`` survreg's scale
:math:`\\sigma`; the standard errors cover ``log(scale)`` as survreg's table does. For the Weibull
family the shape of :math:`T \\mid x` is :math:`k = 1/\\sigma` and its scale :math:`\\lambda(x) = e^{b + x^\\top\\beta}`
(so a coefficient :math:`\\beta_j` multiplies the hazard by :math:`e^{-k\\beta_j}` per unit of :math:`x_j`).

The model is a model of the core (:mod:`mlemap.survival.aft`): chunks contribute the exact
negative log-likelihood, gradient and Hessian in :math:`(\\beta, b, \\log\\sigma)`, formed in
:math:`(\\eta, \\log\\sigma)`-space; :func:`mlemap.core.optimize.solve` minimises it (Newton with the exact
Hessian, warm-started on a subsample when the rows are many), and the result is an
:class:`~mlemap.core.estimate.Estimate` that the fitted attributes are views of. Priors work as for
the other estimators (:mod:`mlemap.survival.priors`).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..core.estimate import Convergence, Estimate
from ..core.optimize import minimize, solve
from ..errors import FamilyError, ParameterError
from ..glm.design import INTERCEPT, as_sample_weight
from ..inference.covariance import Covariance, invert_information
from ..models.base import RegressionBase, effective_k
from ..models.routes import l1_covariance
from .aft import DISTRIBUTIONS, AFTModel, SurvivalProblem
from .priors import CoefficientPenalty, proximal_newton
from .rows import survival_rows

LOG_SCALE = "log(scale)"
#: Newton's tolerance on half its decrement, relative to the objective
PRECISE = 1e-24


class SurvivalRegression(RegressionBase):
    """Accelerated failure time regression (survreg's parametrisation; see the module docstring).

    Parameters
    ----------
    family : {"weibull", "exponential", "rayleigh", "lognormal", "loglogistic", "normal", "logistic"}
    prior : None, Penalty or torch distribution
        ``mm.priors.ridge/lasso/elastic_net(alpha)`` (scikit-learn's scaling of the mean negative
        log-likelihood) or a scalar distribution for every coefficient; ``None`` is maximum likelihood.
    fit_intercept, penalize_intercept, max_iter, cov_type : as in the other estimators.
    tol : float
        The L1 route stops when the KKT residual is below ``tol`` (relative to the gradient's scale);
        the smooth routes run Newton until its decrement is at rounding level.
    scale : float, optional
        Hold survreg's scale at this value instead of estimating it (as survreg's ``scale=``).
    """

    _dispersion_name = "survreg scale"

    def __init__(self, family="weibull", *, prior=None, fit_intercept=True, penalize_intercept=False, scale=None,
                 max_iter=100, tol=1e-12, cov_type="observed"):
        self.family = family
        self.prior = prior
        self.fit_intercept = fit_intercept
        self.penalize_intercept = penalize_intercept
        self.scale = scale
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type

    @property
    def _family(self) -> str:
        return str(self.family)

    def _validate_X(self, X, *, reset: bool) -> np.ndarray:
        """As the other estimators, and also a design with no columns (``Surv(t, e) ~ 1``: the intercept only)."""
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) == 2 and shape[1] == 0 and shape[0] > 0:
            if reset:
                self.__dict__.pop("formula_spec_", None)
                self.n_features_in_ = 0
                self.__dict__.pop("feature_names_in_", None)
            elif self.n_features_in_ != 0:
                return super()._validate_X(X, reset=False)
            return np.zeros((shape[0], 0))
        return super()._validate_X(X, reset=reset)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, event=None, sample_weight=None):
        """Fit to times ``y`` with ``event`` (1 = observed, 0 = right-censored; all observed when
        omitted), or to censored data ``y`` (:func:`mlemap.censored`, ``scipy.stats.CensoredData``).

        The chunks are tall and narrow, so their matrix-vector products are bound by memory: BLAS and
        torch run on one thread (several threads only wait on each other, badly so on a busy machine)."""
        from threadpoolctl import threadpool_limits

        from ..glm.gram import torch_single_thread

        with threadpool_limits(limits=1, user_api="blas"), torch_single_thread():
            return self._fit(X, y, event, sample_weight)

    def _fit(self, X, y, event, sample_weight):
        plan = self._check_params()
        law, log_time, fixed_scale = self._distribution()
        owner = self._owner()
        X = self._validate_X(X, reset=True)
        n, d = X.shape
        rows = survival_rows(y, event, n=n, log_time=log_time, family=self.family, owner=owner)
        w = as_sample_weight(sample_weight, n=n, owner=owner)
        W = float(n if w is None else w.sum())
        model = AFTModel(law, d, intercept=self.fit_intercept, fixed_scale=fixed_scale)
        mask = np.zeros(model.size, dtype=bool)
        mask[:d] = True
        if self.fit_intercept and self.penalize_intercept:
            mask[d] = True
        l1, l2, dist = self._penalty_weights(plan, W)
        penalty = CoefficientPenalty(mask, l2, dist) if (l2 > 0 or dist is not None) else None
        problem = SurvivalProblem(model, np.ascontiguousarray(X, dtype=np.float64), rows.y1, rows.y2, rows.kind,
                                  rows.jacobian, w, penalty)
        self._profile_data = problem if not plan.is_map else None
        if l1 > 0:
            theta, converged, n_iter, message = proximal_newton(problem.objective(), problem.initial(), l1, mask,
                                                                max_iter=self.max_iter, tol=self.tol)
            theta = torch.from_numpy(theta)
            solver = "proximal Newton"
        else:
            # a decrement of 1e-24 |f| is at rounding level: the estimate is as precise as the data allow
            res = solve(problem, solver="newton", max_iter=self.max_iter, ftol=PRECISE)
            theta, converged, n_iter, message, solver = res.x, res.converged, res.n_iter, res.message, res.solver
        self._finish(self._estimate(problem, model, theta, plan, l1, mask, W, n, converged, n_iter, message, solver))
        self.n_events_ = int((rows.kind == 0).sum())
        return self

    def _distribution(self):
        if not isinstance(self.family, str) or self.family.lower() not in DISTRIBUTIONS:
            raise FamilyError(
                f"The 'family' parameter of SurvivalRegression must be one of {', '.join(map(repr, DISTRIBUTIONS))}. "
                f"Got {self.family!r} instead."
            )
        law, log_time, fixed = DISTRIBUTIONS[self.family.lower()]
        if self.scale is not None:
            if isinstance(self.scale, bool) or not isinstance(self.scale, numbers.Real) or not (
                    math.isfinite(self.scale) and self.scale > 0):
                raise ParameterError(
                    f"The 'scale' parameter of SurvivalRegression must be None (estimated) or a float in the range "
                    f"(0, inf). Got {self.scale!r} instead."
                )
            if fixed is not None and float(self.scale) != fixed:
                raise ParameterError(
                    f"The '{self.family}' family has its scale fixed at {fixed}; leave 'scale' out or use family='weibull'."
                )
            fixed = float(self.scale)
        return law, log_time, fixed

    def _penalty_weights(self, plan, W: float):
        """``(lambda_1, lambda_2, distribution)`` on the log-likelihood's own scale."""
        if plan.kind == "none":
            return 0.0, 0.0, None
        if plan.kind == "penalty":
            a, rho = plan.penalty.alpha, plan.penalty.l1_ratio
            return W * a * rho, W * a * (1 - rho), None
        if plan.kind == "normal":
            return 0.0, 1.0 / plan.scale**2, None
        if plan.kind == "laplace":
            return 1.0 / plan.scale, 0.0, None
        return 0.0, 0.0, plan.dist

    # ------------------------------------------------------------------ the estimate
    def _labels(self, model: AFTModel) -> list[str]:
        labels = self._feature_labels() + ([INTERCEPT] if model.intercept else [])
        return labels + ([LOG_SCALE] if model.fixed_scale is None else [])

    def _estimate(self, problem, model, theta, plan, l1, mask, W, n, converged, n_iter, message, solver) -> Estimate:
        theta = theta.detach().to(torch.float64)
        labels = self._labels(model)
        objective = problem.objective()
        value, grad, H = objective.value_grad_hess(theta)
        lik = model_only(problem).value_grad_hess(theta)
        loglik = -float(lik[0])
        H_np = H.numpy()
        reasons, notes = {}, []
        if l1 > 0:
            packed = theta.numpy()
            intercept_mask = ~mask
            cov, reasons, kind = l1_covariance(
                self.cov_type, packed, intercept_mask,
                lambda active: H_np[np.ix_(active, active)], lambda active: _meat(problem, theta)[np.ix_(active, active)],
                self._owner())
            k = float(np.count_nonzero(packed[mask]) + (~mask).sum())
        else:
            inv, reason = invert_information(H, subject=f"the {self._owner()} fit",
                                             advice="Check for constant or collinear columns of X, or give a prior.")
            cov = inv.numpy()
            if reason is not None:
                reasons = {lab: reason for lab in labels}
            kind = "Laplace approximation" if plan.is_map else "observed information"
            if self.cov_type == "sandwich" and reason is None:
                cov = cov @ _meat(problem, theta) @ cov
                kind = "sandwich" if not plan.is_map else "sandwich (Laplace)"
            k = float(model.size) if not plan.is_map else effective_k(H_np, lik[2].numpy())
        covariance = Covariance([(lab, 0) for lab in labels], torch.as_tensor(np.asarray(cov, dtype=np.float64)),
                                {lab: torch.Size() for lab in labels}, reasons)
        _, _, s = model.split(theta.numpy())
        grad_norm = float(grad.abs().max()) if l1 == 0 else None
        return Estimate(
            params={lab: theta[i] for i, lab in enumerate(labels)},
            estimator="MAP" if plan.is_map else "MLE",
            method="numerical",
            covariance=covariance,
            loglik=loglik,
            log_prior=-(float(value) - float(lik[0])) - (l1 * float(np.abs(theta.numpy()[mask]).sum())),
            k=k,
            n=W,
            n_obs=n,
            convergence=Convergence(bool(converged), int(n_iter), solver, message, grad_norm, None, float(value)),
            notes=notes,
            covariance_kind=kind,
            dispersion=math.exp(s),
            prior_description=plan.describe(self.family, W) if plan.kind not in ("none", "penalty")
            else self._penalty_text(plan, W, l1),
        )

    def _penalty_text(self, plan, W: float, l1: float) -> str:
        if plan.kind == "none":
            return "none (maximum likelihood)"
        a, rho = plan.penalty.alpha, plan.penalty.l1_ratio
        parts = []
        if rho > 0:
            parts.append(f"Laplace(0, b={1 / (W * a * rho):.6g})")
        if rho < 1:
            parts.append(f"Normal(0, sd={1 / math.sqrt(W * a * (1 - rho)):.6g})")
        label = plan.penalty.kind if plan.penalty.kind != "elastic_net" else f"elastic_net(l1_ratio={rho:g})"
        return (f"{label} alpha = {a:g} with n = {W:g} is the prior {' x '.join(parts)} on each coefficient "
                f"(objective: mean negative log-likelihood + {a:g} * ({rho:g} ||w||_1 + {1 - rho:g}/2 ||w||_2^2))")

    def _finish(self, estimate: Estimate) -> None:
        super()._finish(estimate)
        labels = estimate.labels
        se = estimate.se_vector()
        self.log_scale_se_ = float(se[labels.index(LOG_SCALE)]) if LOG_SCALE in labels else 0.0
        if self._distribution()[0].name == "extreme":
            self.shape_ = 1.0 / self.scale_

    # ------------------------------------------------------------------ inference
    def _profile_loglik(self, j: int, value: float) -> float:
        """Maximised log-likelihood with packed coordinate ``j`` held at ``value``."""
        problem = self._profile_data
        theta = self.estimate_.vector().copy()
        fixed = _HeldCoordinate(problem.model, j, value)
        x0 = torch.from_numpy(np.delete(theta, j))
        from ..core.objective import Objective

        res = minimize(Objective(fixed, problem.source), x0, solver="newton", max_iter=self.max_iter)
        return -float(res.fun)

    def summary(self, level: float = 0.95):
        """survreg's table (coefficients and log(scale)), fit statistics, and for the Weibull family the
        reading as shape and scale of :math:`T \\mid x`."""
        out = super().summary(level=level)
        out.title = f"{self.estimate_.estimator} fit of SurvivalRegression ({self.family} AFT)"
        out.facts.insert(4, ("Events", f"{self.n_events_:,} exact of {self.estimate_.n_obs:,}"))
        out.data["n_events"] = self.n_events_
        if hasattr(self, "shape_"):
            base = math.exp(self.intercept_) if self.fit_intercept else 1.0
            out.lines.append(
                f"Weibull reading: T | x ~ Weibull(shape = 1/scale = {self.shape_:.6g}, scale = exp(intercept + x'coef)); "
                f"at x = 0 the scale is {base:.6g}; a coefficient c multiplies the hazard by exp(-c * shape) per unit."
            )
            out.data["weibull_shape"] = self.shape_
        return out

    # ------------------------------------------------------------------ prediction
    def predict_linear(self, X) -> np.ndarray:
        """:math:`\\eta = b + x^\\top\\beta` (the location of log T, or of T for normal/logistic)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return X @ self.coef_ + self.intercept_

    def predict_quantile(self, X, q: float = 0.5) -> np.ndarray:
        """The ``q``-quantile of :math:`T \\mid x`."""
        if not 0 < q < 1:
            raise ParameterError(f"The quantile 'q' must lie strictly between 0 and 1. Got {q!r} instead.")
        law, log_time, _ = self._distribution()
        y = self.predict_linear(X) + self.scale_ * float(law.quantile(np.float64(q)))
        return np.exp(y) if log_time else y

    def predict(self, X) -> np.ndarray:
        """The median survival time of :math:`T \\mid x`."""
        return self.predict_quantile(X, 0.5)

    def predict_survival(self, X, times) -> np.ndarray:
        """:math:`S(t \\mid x)` for every row of ``X`` (rows) and time in ``times`` (columns)."""
        law, log_time, _ = self._distribution()
        eta = self.predict_linear(X)
        t = np.atleast_1d(np.asarray(times, dtype=float))
        with np.errstate(divide="ignore"):
            y = np.log(t) if log_time else t
        z = (y[None, :] - eta[:, None]) / self.scale_
        return np.exp(law.log_sf(z))


class _HeldCoordinate:
    """The AFT model with coordinate ``j`` of ``theta`` held at ``value`` (for profile likelihoods)."""

    def __init__(self, model: AFTModel, j: int, value: float):
        self.model, self.j, self.value = model, j, float(value)
        self.size = model.size - 1

    def contribution(self, chunk, x, order: int):
        theta = torch.cat([x[: self.j], torch.tensor([self.value], dtype=torch.float64), x[self.j:]])
        c = self.model.contribution(chunk, theta, order)
        keep = [i for i in range(self.model.size) if i != self.j]
        grad = None if c.grad is None else c.grad[keep]
        hess = None if c.hess is None else c.hess[keep][:, keep]
        return type(c)(c.value, grad, hess)


def model_only(problem: SurvivalProblem):
    """The objective of ``problem`` without its penalty (the negative log-likelihood)."""
    from ..core.objective import Objective

    return Objective(problem.model, problem.source)


def _meat(problem: SurvivalProblem, theta: torch.Tensor) -> np.ndarray:
    """:math:`\\sum_i w_i^2 g_i g_i^\\top` of the per-row scores (the sandwich's middle)."""
    model = problem.model
    t = theta.numpy()
    total = np.zeros((model.size, model.size))
    for chunk in problem.source.chunks():
        _, l_eta, l_s, *_ = model.row_derivatives(chunk, t)
        w = chunk.get("weight")
        cols = [chunk["X"] * l_eta[:, None]]
        if model.intercept:
            cols.append(l_eta[:, None])
        if model.fixed_scale is None:
            cols.append(l_s[:, None])
        G = np.hstack(cols)
        if w is not None:
            G = G * w[:, None]
        total += G.T @ G
    return total

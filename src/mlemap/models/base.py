"""Shared machinery of the regression estimators: parameter checks, input handling, the fitted
attributes and their inference, ``conf_int`` and ``summary``.

Each estimator's ``fit`` builds a :class:`~mlemap.core.regression.RegressionProblem`, solves it by
its family's route and hands the :class:`~mlemap.core.estimate.Estimate` to
:meth:`RegressionBase._finish`, which keeps it as ``estimate_`` and sets the scikit-learn style
attributes:

``coef_``, ``intercept_``, ``se_`` (``coef_``'s shape), ``intercept_se_``, ``cov_`` (DataFrame over
every coefficient and intercept), ``z_``, ``pvalues_``, ``loglik_``, ``aic_``, ``bic_``,
``n_iter_``, ``converged_``, ``n_features_in_``, ``feature_names_in_`` (DataFrame input).

``aic_ = -2 loglik_ + 2 k`` and ``bic_ = -2 loglik_ + k log W`` (``W`` = total weight). ``k`` counts
the estimated parameters (the dispersion included for the gaussian and laplace families); for a
MAP fit it is the effective number of parameters :math:`\\mathrm{tr}(H_\\text{post}^{-1} H_\\text{lik})`
(ridge-type priors) or the number of non-zero coefficients (L1 priors).
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..core.estimate import Convergence, Estimate
from ..errors import ArgumentError, ConvergenceWarning, MethodError, ParameterError, warn
from ..glm.design import as_design_matrix, check_n_features, feature_names_of
from ..glm.inference import profile_bounds
from ..inference.covariance import Covariance
from ..inference.intervals import check_level, wald
from .prior import PriorPlan, resolve_prior

COV_TYPES = ("observed", "sandwich", "laplace_active")


def regression_estimate(coef, intercept, cov, labels, loglik, k, n_iter, converged, message, solver, estimator,
                        total_weight, scale=None, se_reasons=None, status=None, notes=None, prior_text="",
                        objective=float("nan"), cov_label="observed information", separation=None,
                        report=None) -> Estimate:
    """The :class:`~mlemap.core.estimate.Estimate` of a regression route: one scalar parameter per
    packed label ``[coef..., intercept]`` (per linear predictor), their covariance over the labels,
    and the dispersion, per-label status, prior and diagnostics the summary shows."""
    coef = np.asarray(coef, dtype=float)
    rows = coef.reshape(-1, coef.shape[-1]) if coef.ndim == 2 else coef.reshape(1, -1)
    icpt = np.atleast_1d(np.asarray(intercept, dtype=float))
    packed = np.hstack([rows, icpt[:, None]]).reshape(-1) if len(labels) == rows.size + rows.shape[0] else rows.reshape(-1)
    values = torch.as_tensor(packed, dtype=torch.float64)
    params = {lab: values[i] for i, lab in enumerate(labels)}
    covariance = Covariance([(lab, 0) for lab in labels], torch.as_tensor(np.asarray(cov, dtype=float)),
                            {lab: torch.Size() for lab in labels}, dict(se_reasons or {}))
    return Estimate(
        params=params,
        estimator=estimator,
        method="numerical",
        covariance=covariance,
        loglik=loglik,
        k=k,
        n=total_weight,
        n_obs=0,
        convergence=Convergence(bool(converged), int(n_iter), solver, message, None, report, objective),
        notes=list(notes or []),
        covariance_kind=cov_label,
        dispersion=scale,
        status=dict(status or {}),
        prior_description=prior_text,
        diagnostics={} if separation is None else {"separation": separation},
    )


def check_constructor_arguments(cls: type, args: tuple, kwargs: dict) -> None:
    """Raise :class:`ArgumentError` for positional arguments or unknown keywords of ``cls(...)``."""
    known = [p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    listed = ", ".join(known)
    if args:
        raise ArgumentError(
            f"{cls.__name__} takes keyword arguments only (got {len(args)} positional: {args[0]!r}, ...). Name "
            f"them, for example {cls.__name__}({known[0]}=...); its arguments are: {listed}."
        )
    unknown = [k for k in kwargs if k not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ArgumentError(
            f"{cls.__name__} got the unknown argument {unknown[0]!r}.{hint} Its arguments are: {listed}."
        )


class RegressionBase(BaseEstimator):
    """Base class (not an estimator by itself)."""

    _family = ""
    _dispersion_name: str | None = None

    def __new__(cls, *args, **kwargs):
        """Refuse arguments the constructor does not take with a typed error (Python's would say only
        "unexpected keyword argument"): scikit-learn needs every parameter in the signature, so the
        check runs before ``__init__``."""
        if args or kwargs:
            check_constructor_arguments(cls, args, kwargs)
        return super().__new__(cls)

    # ------------------------------------------------------------------ parameter checks
    def _owner(self) -> str:
        return type(self).__name__

    def _check_params(self) -> PriorPlan:
        owner = self._owner()
        for name in ("fit_intercept", "penalize_intercept"):
            value = getattr(self, name, False)
            if not isinstance(value, (bool, np.bool_)):
                raise ParameterError(f"The '{name}' parameter of {owner} must be an instance of 'bool'. Got {value!r} instead.")
        max_iter = getattr(self, "max_iter", 1)
        if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
            raise ParameterError(
                f"The 'max_iter' parameter of {owner} must be an int in the range [1, inf). Got {max_iter!r} instead."
            )
        tol = getattr(self, "tol", 1.0)
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol > 0 or not math.isfinite(tol):
            raise ParameterError(f"The 'tol' parameter of {owner} must be a float in the range (0, inf). Got {tol!r} instead.")
        cov_type = getattr(self, "cov_type", "observed")
        if cov_type not in self._cov_types():
            raise ParameterError(
                f"The 'cov_type' parameter of {owner} must be one of {', '.join(map(repr, self._cov_types()))}. "
                f"Got {cov_type!r} instead."
            )
        return resolve_prior(self.prior, owner)

    def _cov_types(self) -> tuple[str, ...]:
        return COV_TYPES

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_profile_data", None)  # training data, kept only for profile intervals
        return state

    # ------------------------------------------------------------------ input
    def _validate_X(self, X, *, reset: bool) -> np.ndarray:
        owner = self._owner()
        if reset:
            self.__dict__.pop("formula_spec_", None)  # a refit on a plain design forgets the formula
        elif getattr(self, "formula_spec_", None) is not None:
            X = self.formula_spec_(X)  # a DataFrame of raw columns -> the formula's design (mm.regress)
        arr = as_design_matrix(X, owner=owner)
        if reset:
            self.n_features_in_ = arr.shape[1]
            names = feature_names_of(X)
            if names is not None:
                self.feature_names_in_ = names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            check_n_features(arr, self.n_features_in_, owner=owner)
            _check_names(self, X)
        return arr

    def _feature_labels(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
        return [f"x{j}" for j in range(self.n_features_in_)]

    # ------------------------------------------------------------------ fitted attributes
    def _finish(self, estimate: Estimate) -> None:
        """Set the fitted attributes from the route's estimate (kept as ``estimate_``)."""
        self.estimate_ = estimate
        coef, icpt = self._split_packed(self._packed_values())
        self.coef_ = coef
        if self.fit_intercept:
            self.intercept_ = icpt
        else:
            self.intercept_ = np.zeros(self._n_rows()) if self._multi_row() else 0.0
        import pandas as pd

        labels = estimate.labels
        cov = estimate.covariance.matrix.numpy()
        self.cov_ = pd.DataFrame(cov, index=labels, columns=labels)
        coef_se, icpt_se = self._split_packed(self._packed_se())
        self.se_ = coef_se
        self.intercept_se_ = icpt_se
        z, p, _, _ = wald(self.coef_, self.se_)
        self.z_, self.pvalues_ = z, p
        self.loglik_ = estimate.loglik
        W = estimate.n
        self.aic_ = -2 * self.loglik_ + 2 * estimate.k
        self.bic_ = -2 * self.loglik_ + estimate.k * math.log(W) if W > 0 else float("nan")
        self.n_iter_ = estimate.convergence.n_iter
        self.converged_ = estimate.converged
        if estimate.dispersion is not None:
            self.scale_ = float(estimate.dispersion)
        self.separation_ = estimate.diagnostics.get("separation")
        if not self.converged_ and self.separation_ is None:
            warn(
                f"{self._owner()} did not converge: {estimate.convergence.message}. Try a larger max_iter, standardising "
                "the columns of X, or a prior (e.g. prior=mm.priors.ridge(1.0)); the estimates are those of the last "
                "iteration.",
                ConvergenceWarning,
            )

    def _n_rows(self) -> int:
        """Linear predictors in the packing (classes for the softmax)."""
        return len(getattr(self, "classes_", ())) if self._multi_row() else 1

    def _multi_row(self) -> bool:
        return False

    def _packed_values(self) -> np.ndarray:
        return self.estimate_.vector()

    def _packed_se(self) -> np.ndarray:
        return self.estimate_.se_vector()

    def _split_packed(self, values: np.ndarray):
        d = self.n_features_in_
        if self._multi_row():
            rows = values.reshape(self._n_rows(), -1)
            return rows[:, :d].copy(), (rows[:, d].copy() if self.fit_intercept else np.full(rows.shape[0], np.nan))
        return values[:d].copy(), (float(values[d]) if self.fit_intercept else float("nan"))

    # ------------------------------------------------------------------ inference
    def conf_int(self, level: float = 0.95, method: str = "wald"):
        """Intervals for every coefficient and intercept, as a DataFrame with ``lower``/``upper``.

        ``method="wald"``: :math:`\\hat\\theta \\pm z_{1-\\alpha/2}\\,\\mathrm{SE}` (for a MAP fit with a smooth
        prior, the Laplace-approximation credible interval). ``method="profile"``: the
        profile-likelihood interval, for maximum-likelihood fits of the single-output families.
        """
        import pandas as pd

        check_is_fitted(self)
        level = check_level(level)
        est, se = self._packed_values(), self._packed_se()
        if method == "wald":
            _, _, lo, hi = wald(est, se, level)
        elif method == "profile":
            lo, hi = self._profile_intervals(est, se, level)
        else:
            raise MethodError(f"The 'method' argument of conf_int must be 'wald' or 'profile'. Got {method!r} instead.")
        return pd.DataFrame({"lower": lo, "upper": hi}, index=self.estimate_.labels)

    def _profile_intervals(self, est, se, level):
        fit = self.estimate_
        if fit.estimator != "MLE" or not hasattr(self, "_profile_loglik"):
            raise MethodError(
                f"Profile intervals of {self._owner()} are available for maximum-likelihood fits of the linear, "
                "logistic and Poisson models; use method='wald'."
            )
        lo, hi = np.full(est.size, np.nan), np.full(est.size, np.nan)
        for j in range(est.size):
            if np.isnan(se[j]):
                continue
            lo[j], hi[j] = profile_bounds(lambda c, j=j: self._profile_loglik(j, c), est[j], se[j], fit.loglik, level)
        return lo, hi

    def summary(self, level: float = 0.95):
        """Coefficient table (estimate, SE, z, p-value, interval), fit statistics and notes."""
        from ..report import format as fmt
        from ..report.coefficients import CoefficientRow, CoefficientSummary

        check_is_fitted(self)
        level = check_level(level)
        fit = self.estimate_
        conv = fit.convergence
        est, se = self._packed_values(), self._packed_se()
        z, p, lo, hi = wald(est, se, level)
        rows = [
            CoefficientRow(lab, float(est[i]), float(se[i]), float(z[i]), float(p[i]), float(lo[i]), float(hi[i]),
                           fit.status.get(lab, ""))
            for i, lab in enumerate(fit.labels)
        ]
        map_fit = fit.estimator == "MAP"
        state = "converged" if fit.converged else "NOT converged"
        facts = [
            ("Model", f"{self._owner()} ({self._family} likelihood)"),
            ("Estimator", fit.estimator),
            ("Solver", f"{conv.solver} ({conv.n_iter} iterations, {state})"),
            ("Observations", fmt.number(fit.n, 10)),
            ("Log-likelihood", fmt.number(fit.loglik, 10)),
            ("AIC", fmt.number(self.aic_, 10)),
            ("BIC", fmt.number(self.bic_, 10)),
        ]
        if fit.dispersion is not None:
            facts.append((f"Scale ({self._dispersion_name})", fmt.number(fit.dispersion, 8)))
        facts.append(("Standard errors", fit.covariance_kind))
        lines = [f"Prior: {fit.prior_description}"] if map_fit else []
        notes = list(fit.notes)
        for lab, why in fit.covariance.reasons.items():
            notes.append(f"standard error of {lab} undefined: {why}")
        if not fit.converged:
            notes.append(f"solver message: {conv.message}")
        interval = f"{level:.0%} credible (Laplace)" if map_fit else f"{level:.0%} CI (Wald)"
        k, k_effective = _parameter_counts(fit, rows)
        data = {
            "model": self._owner(),
            "family": self._family,
            "estimator": fit.estimator,
            "solver": conv.solver,
            "n": fit.n,
            "loglik": fit.loglik,
            "aic": self.aic_,
            "bic": self.bic_,
            "k": k,
            "k_effective": k_effective,
            "scale": fit.dispersion,
            "converged": fit.converged,
            "n_iter": conv.n_iter,
            "message": conv.message,
            "prior": fit.prior_description if map_fit else None,
            "cov_type": fit.covariance_kind,
            "ci_method": "credible" if map_fit else "wald",
            "ci_level": level,
        }
        title = f"{fit.estimator} fit of {self._owner()}"
        return CoefficientSummary(title, facts, rows, interval, "posterior sd" if map_fit else "std. error", notes, data,
                                  lines)

    def plot(self, ax=None, level: float = 0.95, intercept: bool = False, method: str = "wald"):
        """Coefficient plot: every estimate with its ``level`` interval (see :func:`mlemap.plots.coefficients`)."""
        from ..plots import coefficients

        check_is_fitted(self)
        return coefficients(self, ax=ax, level=level, intercept=intercept, method=method)


def _check_names(estimator, X) -> None:
    """scikit-learn's feature-name consistency warnings (fit with names, predict without, or changed)."""
    from sklearn.utils.validation import validate_data

    try:
        validate_data(estimator, X, reset=False, skip_check_array=True)
    except ValueError:
        pass  # shape problems were reported by our own checks


def _parameter_counts(fit: Estimate, rows) -> tuple[int, float]:
    """``(k, k_effective)``: the number of estimated parameters, and the number AIC and BIC count.

    They are equal except for MAP fits with a smooth (ridge-type) prior, whose effective number of
    parameters :math:`\\mathrm{tr}(H_\\text{post}^{-1} H_\\text{lik})` is not a whole number; ``k`` then
    counts the coefficients that are estimated (not a fixed reference row, not aliased) and the scale.
    """
    if abs(fit.k - round(fit.k)) < 1e-9:
        return int(round(fit.k)), float(fit.k)
    fixed = ("reference", "aliased")
    estimated = sum(1 for r in rows if not r.status.startswith(fixed))
    return estimated + int(fit.dispersion is not None), float(fit.k)


def effective_k(H_post: np.ndarray, H_lik: np.ndarray, keep: np.ndarray | None = None) -> float:
    """:math:`\\mathrm{tr}(H_\\text{post}^{-1} H_\\text{lik})` over the ``keep`` parameters."""
    idx = np.arange(H_post.shape[0]) if keep is None else np.flatnonzero(keep)
    if idx.size == 0:
        return 0.0
    A = H_post[np.ix_(idx, idx)]
    B = H_lik[np.ix_(idx, idx)]
    try:
        return float(np.trace(np.linalg.solve(A, B)))
    except np.linalg.LinAlgError:
        return float(idx.size)

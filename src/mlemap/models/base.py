"""Shared machinery of the regression estimators: parameter checks, input handling, the fitted
attributes and their inference, ``conf_int`` and ``summary``.

Each estimator's ``fit`` solves its family's problem and hands a :class:`RegressionFit` to
:meth:`RegressionBase._finish`, which sets the scikit-learn style attributes:

``coef_``, ``intercept_``, ``se_`` (``coef_``'s shape), ``intercept_se_``, ``cov_`` (DataFrame over
every coefficient and intercept), ``z_``, ``pvalues_``, ``loglik_``, ``aic_``, ``bic_``,
``n_iter_``, ``converged_``, ``n_features_in_``, ``feature_names_in_`` (DataFrame input).

``aic_ = -2 loglik_ + 2 k`` and ``bic_ = -2 loglik_ + k log W`` (``W`` = total weight). ``k`` counts
the estimated parameters (the dispersion included for the gaussian and laplace families); for a
MAP fit it is the effective number of parameters :math:`\\mathrm{tr}(H_\\text{post}^{-1} H_\\text{lik})`
(ridge-type priors) or the number of non-zero coefficients (L1 priors).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..errors import ConvergenceWarning, MethodError, ParameterError, warn
from ..glm.design import INTERCEPT, as_design_matrix, check_n_features, feature_names_of
from ..glm.inference import check_level, profile_bounds, wald
from .prior import PriorPlan, resolve_prior

COV_TYPES = ("observed", "sandwich", "laplace_active")


@dataclass
class RegressionFit:
    """What a family's solver hands back to the estimator."""

    coef: np.ndarray  # (d,) or (K, d)
    intercept: float | np.ndarray
    cov: np.ndarray  # over the packed labels
    labels: list[str]
    loglik: float
    k: float
    n_iter: int
    converged: bool
    message: str
    solver: str
    estimator: str  # "MLE" or "MAP"
    total_weight: float
    scale: float | None = None
    se_reasons: dict[str, str] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    prior_text: str = ""
    objective: float = float("nan")
    cov_label: str = "observed information"
    separation: object = None


class RegressionBase(BaseEstimator):
    """Base class (not an estimator by itself)."""

    _family = ""
    _dispersion_name: str | None = None

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
    def _finish(self, fit: RegressionFit) -> None:
        self.coef_ = np.asarray(fit.coef, dtype=float)
        self.intercept_ = fit.intercept if np.ndim(fit.intercept) else float(fit.intercept)
        import pandas as pd

        self.cov_ = pd.DataFrame(fit.cov, index=fit.labels, columns=fit.labels)
        se_all = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
        se_all = np.where(np.isnan(np.diag(fit.cov)), np.nan, se_all)
        coef_se, icpt_se = self._split_packed(se_all, fit)
        self.se_ = coef_se
        self.intercept_se_ = icpt_se
        z, p, _, _ = wald(self.coef_, self.se_)
        self.z_, self.pvalues_ = z, p
        self.loglik_ = float(fit.loglik)
        W = fit.total_weight
        self.aic_ = -2 * self.loglik_ + 2 * fit.k
        self.bic_ = -2 * self.loglik_ + fit.k * math.log(W) if W > 0 else float("nan")
        self.n_iter_ = int(fit.n_iter)
        self.converged_ = bool(fit.converged)
        if fit.scale is not None:
            self.scale_ = float(fit.scale)
        self._fit = fit
        self.separation_ = fit.separation
        if not fit.converged and fit.separation is None:
            warn(
                f"{self._owner()} did not converge: {fit.message}. Try a larger max_iter, standardising the columns "
                "of X, or a prior (e.g. prior=mm.priors.ridge(1.0)); the estimates are those of the last iteration.",
                ConvergenceWarning,
            )

    def _split_packed(self, values: np.ndarray, fit: RegressionFit):
        d = self.n_features_in_
        if np.ndim(fit.coef) == 2:
            rows = values.reshape(np.shape(fit.coef)[0], -1)
            return rows[:, :d].copy(), (rows[:, d].copy() if self.fit_intercept else np.full(rows.shape[0], np.nan))
        return values[:d].copy(), (float(values[d]) if self.fit_intercept else float("nan"))

    def _packed_estimates(self) -> np.ndarray:
        if np.ndim(self.coef_) == 2:
            icpt = np.asarray(self.intercept_, dtype=float).reshape(-1, 1)
            rows = np.hstack([self.coef_, icpt]) if self.fit_intercept else self.coef_
            return rows.reshape(-1)
        return np.append(self.coef_, self.intercept_) if self.fit_intercept else self.coef_.copy()

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
        fit = self._fit
        est = self._packed_estimates()
        se = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
        se = np.where(np.isnan(np.diag(fit.cov)), np.nan, se)
        if method == "wald":
            _, _, lo, hi = wald(est, se, level)
        elif method == "profile":
            lo, hi = self._profile_intervals(est, se, level)
        else:
            raise MethodError(f"The 'method' argument of conf_int must be 'wald' or 'profile'. Got {method!r} instead.")
        return pd.DataFrame({"lower": lo, "upper": hi}, index=fit.labels)

    def _profile_intervals(self, est, se, level):
        fit = self._fit
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
        fit = self._fit
        est = self._packed_estimates()
        se = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
        se = np.where(np.isnan(np.diag(fit.cov)), np.nan, se)
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
            ("Solver", f"{fit.solver} ({fit.n_iter} iterations, {state})"),
            ("Observations", fmt.number(fit.total_weight, 10)),
            ("Log-likelihood", fmt.number(fit.loglik, 10)),
            ("AIC", fmt.number(self.aic_, 10)),
            ("BIC", fmt.number(self.bic_, 10)),
        ]
        if fit.scale is not None:
            facts.append((f"Scale ({self._dispersion_name})", fmt.number(fit.scale, 8)))
        facts.append(("Standard errors", fit.cov_label))
        lines = [f"Prior: {fit.prior_text}"] if map_fit else []
        notes = list(fit.notes)
        for lab, why in fit.se_reasons.items():
            notes.append(f"standard error of {lab} undefined: {why}")
        if not fit.converged:
            notes.append(f"solver message: {fit.message}")
        interval = f"{level:.0%} credible (Laplace)" if map_fit else f"{level:.0%} CI (Wald)"
        k, k_effective = _parameter_counts(fit, rows)
        data = {
            "model": self._owner(),
            "family": self._family,
            "estimator": fit.estimator,
            "solver": fit.solver,
            "n": fit.total_weight,
            "loglik": fit.loglik,
            "aic": self.aic_,
            "bic": self.bic_,
            "k": k,
            "k_effective": k_effective,
            "scale": fit.scale,
            "converged": fit.converged,
            "n_iter": fit.n_iter,
            "message": fit.message,
            "prior": fit.prior_text if map_fit else None,
            "cov_type": fit.cov_label,
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


def packed_labels(feature_labels: list[str], intercept: bool, row_names: list[str] | None = None) -> list[str]:
    per_row = list(feature_labels) + ([INTERCEPT] if intercept else [])
    if row_names is None:
        return per_row
    return [f"{r}:{lab}" for r in row_names for lab in per_row]


def _parameter_counts(fit: RegressionFit, rows) -> tuple[int, float]:
    """``(k, k_effective)``: the number of estimated parameters, and the number AIC and BIC count.

    They are equal except for MAP fits with a smooth (ridge-type) prior, whose effective number of
    parameters :math:`\\mathrm{tr}(H_\\text{post}^{-1} H_\\text{lik})` is not a whole number; ``k`` then
    counts the coefficients that are estimated (not a fixed reference row, not aliased) and the scale.
    """
    if abs(fit.k - round(fit.k)) < 1e-9:
        return int(round(fit.k)), float(fit.k)
    fixed = ("reference", "aliased")
    estimated = sum(1 for r in rows if not r.status.startswith(fixed))
    return estimated + int(fit.scale is not None), float(fit.k)


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

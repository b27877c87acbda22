"""Softmax (multinomial logistic) regression: :math:`P(y_i = k \\mid x_i) \\propto e^{x_i^\\top\\beta_k + b_k}`.

The negative log-likelihood is the sum of ``cross_entropy``. Without a prior the model fixes a
reference class (the first of ``classes_`` unless ``reference_class`` names another) whose
coefficients are 0, so that the maximum-likelihood estimate is identified and has standard errors:
``coef_`` has shape ``(n_classes, n_features)`` with the reference row zero (its standard errors
undefined: it is not estimated). With a prior every class keeps its own row, as in
scikit-learn's multinomial ``LogisticRegression``; the intercepts are then identified only up to a
common shift and are reported centred (summing to zero), with the covariance of the centred values.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..core.regression import RegressionProblem
from ..errors import ParameterError
from ..glm.design import as_labels, as_sample_weight, check_classes, show_label
from ..glm.family import CategoricalGLM
from ..glm.gram import single_threaded_torch
from .base import COV_TYPES, RegressionBase
from .glm_routes import fit_route
from .sources import source_problem


class SoftmaxRegression(ClassifierMixin, RegressionBase):
    """Multinomial logistic regression by maximum likelihood or MAP.

    Parameters
    ----------
    prior : None, Penalty or torch distribution
        ``mm.priors.ridge(alpha)`` gives scikit-learn's multinomial ``LogisticRegression(C=1/alpha)``.
    reference_class : label or None
        The class whose coefficients are fixed at 0 in a maximum-likelihood fit (default: the first
        of ``classes_``). Ignored with a prior.
    fit_intercept, penalize_intercept, max_iter, tol, cov_type : as in :class:`LogisticRegression`.
    """

    _family = "categorical"

    def __init__(self, *, prior=None, reference_class=None, fit_intercept=True, penalize_intercept=False,
                 max_iter=100, tol=1e-12, cov_type="observed"):
        self.prior = prior
        self.reference_class = reference_class
        self.fit_intercept = fit_intercept
        self.penalize_intercept = penalize_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type

    def _cov_types(self):
        return COV_TYPES

    @single_threaded_torch
    def fit(self, X, y=None, sample_weight=None):
        """Fit on ``X`` and labels ``y``; ``X`` may also be a design over files (``fit(design)``) or a
        dask array with dask ``y`` (see :mod:`mlemap.models.sources`)."""
        plan = self._check_params()
        owner = self._owner()
        pb = source_problem(self, X, y, sample_weight, family=CategoricalGLM(), labels=True,
                            free_classes=lambda classes: self._free_classes(classes, plan))
        if pb is not None:
            self._finish(self._reference_rows(fit_route(self, pb, plan), pb.class_names, plan))
            return self
        X = self._validate_X(X, reset=True)
        n = X.shape[0]
        codes, classes = as_labels(y, n=n, owner=owner)
        w = as_sample_weight(sample_weight, n=n, owner=owner)
        check_classes(codes, classes, owner=owner, weights=w)
        self.classes_ = classes
        K = len(classes)
        free = self._free_classes(classes, plan)
        pb = RegressionProblem(CategoricalGLM(), X, codes, weight=w, intercept=self.fit_intercept, n_classes=K, free=free,
                               features=self._feature_labels(), row_names=[str(c) for c in classes],
                               class_names=list(classes))
        self._finish(self._reference_rows(fit_route(self, pb, plan), classes, plan))
        return self

    def _free_classes(self, classes, plan) -> list[int]:
        """The classes with their own coefficients: all but the reference class in a maximum-likelihood fit."""
        K = len(classes)
        if plan.kind == "none":
            ref = self._reference_index(classes)
            self.reference_class_ = classes[ref]
            return [k for k in range(K) if k != ref]
        self.reference_class_ = None
        return list(range(K))

    def _reference_rows(self, fit, classes, plan):
        """The reference class's row of the estimate marked as fixed at 0 (maximum likelihood)."""
        if plan.kind == "none":
            ref = self._reference_index(classes)
            fit.covariance.reasons[f"{classes[ref]!s} (reference class)"] = "fixed at 0 to identify the model (not estimated)"
            for lab in fit.labels:
                if lab.startswith(f"{classes[ref]!s}:"):
                    fit.status.setdefault(lab, "reference (fixed at 0)")
        return fit

    def _multi_row(self) -> bool:
        return True

    def _reference_index(self, classes) -> int:
        if self.reference_class is None:
            return 0
        matches = [k for k, c in enumerate(classes) if c == self.reference_class]
        if not matches:
            shown = ", ".join(show_label(c) for c in classes)
            raise ParameterError(
                f"The 'reference_class' parameter of SoftmaxRegression must be one of the classes ({shown}). "
                f"Got {self.reference_class!r} instead."
            )
        return matches[0]

    def _linear(self, X):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return X @ self.coef_.T + self.intercept_

    def decision_function(self, X):
        """Linear predictors, one column per class (:math:`X\\hat B^\\top + \\hat b`); with two classes
        the difference of the second and the first column, as scikit-learn's binary convention."""
        eta = self._linear(X)
        return eta[:, 1] - eta[:, 0] if eta.shape[1] == 2 else eta

    def predict_proba(self, X):
        return softmax(self._linear(X), axis=1)

    def predict_log_proba(self, X):
        return log_softmax(self._linear(X), axis=1)

    def predict(self, X):
        eta = self._linear(X)
        return self.classes_[np.argmax(eta, axis=1)]

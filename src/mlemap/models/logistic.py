"""Logistic regression: :math:`y_i \\mid x_i \\sim \\text{Bernoulli}(\\sigma(x_i^\\top\\beta + b))`.

The negative log-likelihood is the sum of ``binary_cross_entropy_with_logits``; maximum
likelihood by Newton with the exact Hessian :math:`\\tilde X^\\top \\mathrm{diag}(w\\,p(1-p)) \\tilde X`
(no hidden penalty, unlike scikit-learn's default ``C=1``). With ``prior=mm.priors.ridge(alpha)``
the objective is scikit-learn's ``LogisticRegression(C=1/alpha)``:
:math:`\\sum_i w_i \\,\\text{logloss}_i + \\tfrac{\\alpha}{2}\\lVert\\beta\\rVert^2`.

Labels: any two distinct values (numbers or strings); ``classes_`` holds them sorted and the
model is for the probability of ``classes_[1]``. Fractional or more than two labels raise a
:class:`~mlemap.DataError`. Perfect or quasi-perfect separation is detected (the MLE does not
exist): a :class:`~mlemap.SeparationWarning` names the separating combination and the diverging
coefficients are flagged in ``summary()`` with no standard errors.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..core.regression import RegressionProblem
from ..glm.design import as_labels, as_sample_weight, check_classes
from ..glm.family import BernoulliGLM
from ..glm.gram import single_threaded_torch
from .base import RegressionBase
from .glm_routes import fit_route
from .sources import source_problem


class LogisticRegression(ClassifierMixin, RegressionBase):
    """Binary logistic regression by maximum likelihood or MAP.

    Parameters
    ----------
    prior : None, Penalty or torch distribution
        ``None`` (MLE), ``mm.priors.ridge/lasso/elastic_net(alpha)`` (scikit-learn's ``C = 1/alpha``),
        or an i.i.d. prior on every coefficient such as ``td.Normal(0.0, 2.5)`` or ``td.StudentT(3.0)``.
    fit_intercept, penalize_intercept : bool
    max_iter : int
        Newton iterations.
    tol : float
        Stop when the Newton decrement (the estimated distance to the optimum of the objective)
        is below ``tol * max(1, |objective|)``.
    cov_type : {"observed", "sandwich", "laplace_active"}

    Attributes
    ----------
    coef_ : (n_features,) ; intercept_ : float ; se_, intercept_se_, cov_, z_, pvalues_ ;
    loglik_, aic_, bic_, n_iter_, converged_, classes_, separation_ (None or the separation found).
    """

    _family = "bernoulli"

    def __init__(self, *, prior=None, fit_intercept=True, penalize_intercept=False, max_iter=100, tol=1e-12,
                 cov_type="observed"):
        self.prior = prior
        self.fit_intercept = fit_intercept
        self.penalize_intercept = penalize_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type

    @single_threaded_torch
    def fit(self, X, y=None, sample_weight=None):
        """Fit on ``X`` (rows x features) and labels ``y``; ``X`` may also be a design over files
        (``fit(design)``) or a dask array with dask ``y`` (see :mod:`mlemap.models.sources`)."""
        plan = self._check_params()
        owner = self._owner()
        pb = source_problem(self, X, y, sample_weight, family=BernoulliGLM(), labels=True, max_classes=2)
        if pb is not None:
            self._profile_data = None
            self._finish(fit_route(self, pb, plan))
            return self
        X = self._validate_X(X, reset=True)
        n = X.shape[0]
        codes, classes = as_labels(y, n=n, owner=owner)
        w = as_sample_weight(sample_weight, n=n, owner=owner)
        check_classes(codes, classes, owner=owner, weights=w, max_classes=2)
        self.classes_ = classes
        pb = RegressionProblem(BernoulliGLM(), X, codes.astype(np.float64), weight=w, intercept=self.fit_intercept,
                               features=self._feature_labels(), class_names=list(classes))
        self._profile_data = (X, pb.y, w, None, pb.family) if plan.kind == "none" else None
        self._finish(fit_route(self, pb, plan))
        return self

    def decision_function(self, X):
        """The log-odds of ``classes_[1]``: :math:`x^\\top\\hat\\beta + \\hat b`."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return X @ self.coef_ + self.intercept_

    def predict_proba(self, X):
        eta = self.decision_function(X)
        return np.column_stack([expit(-eta), expit(eta)])

    def predict_log_proba(self, X):
        eta = self.decision_function(X)
        return np.column_stack([log_expit(-eta), log_expit(eta)])

    def predict(self, X):
        scores = self.decision_function(X)
        return self.classes_[(scores > 0).astype(int)]

    def _profile_loglik(self, j: int, value: float) -> float:
        from .profile import glm_profile_loglik

        return glm_profile_loglik(self, j, value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

"""Poisson regression: :math:`y_i \\mid x_i \\sim \\text{Poisson}(\\mu_i)`, :math:`\\log\\mu_i = x_i^\\top\\beta + b + o_i`.

The offset :math:`o_i` is ``offset + log(exposure)``: with an exposure (time at risk, population)
the coefficients describe rates. Maximum likelihood by Newton with the exact Hessian
:math:`\\tilde X^\\top \\mathrm{diag}(w\\mu) \\tilde X`; ``prior=mm.priors.ridge(alpha)`` gives
scikit-learn's ``PoissonRegressor(alpha)``:
:math:`\\frac{1}{2W}\\sum_i w_i\\, \\text{deviance}_i + \\tfrac{\\alpha}{2}\\lVert\\beta\\rVert^2`.

The response must hold counts (whole numbers >= 0). ``quasi=True`` accepts any non-negative response
(Poisson pseudo-maximum likelihood, e.g. for rates or amounts): the estimating equations
:math:`\\tilde X^\\top W (y - \\mu) = 0` stay valid, the reported log-likelihood becomes a
quasi-log-likelihood (with :math:`\\log\\Gamma(y + 1)`), and ``cov_type="sandwich"`` gives the
standard errors that do not assume the Poisson variance.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..core.regression import RegressionProblem
from ..errors import DataError, ParameterError
from ..glm.design import as_offset, as_response, as_sample_weight
from ..glm.family import PoissonGLM
from ..glm.gram import single_threaded_torch
from .base import RegressionBase
from .glm_routes import fit_route
from .sources import CountCheck, source_problem


class PoissonRegression(RegressorMixin, RegressionBase):
    """Poisson regression with a log link by maximum likelihood or MAP.

    Parameters
    ----------
    prior : None, Penalty or torch distribution
    fit_intercept, penalize_intercept, max_iter, tol, cov_type : as in :class:`LogisticRegression`.
    quasi : bool, default False
        Accept non-integer non-negative responses (see the module docstring).
    """

    _family = "poisson"

    def __init__(self, *, prior=None, fit_intercept=True, penalize_intercept=False, max_iter=100, tol=1e-12,
                 cov_type="observed", quasi=False):
        self.prior = prior
        self.fit_intercept = fit_intercept
        self.penalize_intercept = penalize_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type
        self.quasi = quasi

    @single_threaded_torch
    def fit(self, X, y=None, sample_weight=None, offset=None, exposure=None):
        """Fit; ``offset`` is added to the log-mean, ``exposure`` multiplies the mean (offset ``log(exposure)``).
        ``X`` may also be a design over files (``fit(design)``) or a dask array with dask ``y`` (and dask
        weights, offset, exposure): see :mod:`mlemap.models.sources`."""
        plan = self._check_params()
        if not isinstance(self.quasi, (bool, np.bool_)):
            raise ParameterError(f"The 'quasi' parameter of PoissonRegression must be an instance of 'bool'. Got {self.quasi!r} instead.")
        owner = self._owner()
        pb = source_problem(self, X, y, sample_weight, offset, exposure, family=PoissonGLM(),
                            check=CountCheck(owner, bool(self.quasi)))
        if pb is not None:
            self._profile_data = None
            self._finish(fit_route(self, pb, plan))
            return self
        X = self._validate_X(X, reset=True)
        n = X.shape[0]
        y = as_response(y, n=n, owner=owner)
        family = PoissonGLM()
        if self.quasi:
            if (y < 0).any():
                i = int(np.flatnonzero(y < 0)[0])
                raise DataError(
                    f"The 'y' argument of PoissonRegression must be non-negative; found {y[i]} at row {i} "
                    f"({int((y < 0).sum())} such value(s)). A log-linear mean cannot fit negative responses."
                )
        else:
            family.validate(torch.from_numpy(y))
        w = as_sample_weight(sample_weight, n=n, owner=owner)
        off = as_offset(offset, exposure, n=n, owner=owner)
        pb = RegressionProblem(family, X, y, weight=w, offset=off, intercept=self.fit_intercept,
                               features=self._feature_labels())
        self._profile_data = (X, y, w, off, family) if plan.kind == "none" else None
        self._finish(fit_route(self, pb, plan))
        return self

    def predict(self, X, offset=None, exposure=None):
        """The mean :math:`\\hat\\mu = \\exp(x^\\top\\hat\\beta + \\hat b + o)`."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        eta = X @ self.coef_ + self.intercept_
        off = as_offset(offset, exposure, n=X.shape[0], owner=self._owner())
        if off is not None:
            eta = eta + off
        return np.exp(eta)

    def _profile_loglik(self, j: int, value: float) -> float:
        from .profile import glm_profile_loglik

        return glm_profile_loglik(self, j, value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

"""The result of :func:`~mlemap.regularization_path`: coefficients per alpha, fit statistics, selection.

Fit statistics (computed on first access and cached):

* ``loglik[k]`` — the log-likelihood at ``alphas[k]``, constants included, with the dispersion of the
  gaussian (and laplace) family at its maximum-likelihood value given the coefficients
  (:math:`\\hat\\sigma^2 = \\sum_i w_i r_i^2 / W`);
* ``bic[k] = -2 loglik[k] + log(W) * df[k]`` with :math:`W = \\sum_i w_i` (the number of observations
  without weights) and ``df`` = the number of non-zero coefficients + the intercepts (1, or ``K``
  for categorical) + 1 for an estimated dispersion (gaussian, laplace). The non-zero count is the
  lasso's degrees of freedom (Zou, Hastie and Tibshirani 2007); for ridge it overstates them.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from ..errors import MethodError
from ..glm.penalized_core import family_threads


class RegularizationPath:
    """Coefficients along a grid of ``alphas`` (decreasing). See :func:`~mlemap.regularization_path`.

    Attributes: ``alphas`` (n_alphas,); ``coefs`` (n_features, n_alphas), or (n_classes,
    n_features, n_alphas) for categorical; ``intercepts`` (n_alphas,) or (n_classes, n_alphas);
    ``nnz`` non-zero coefficients per alpha; ``n_iter`` coordinate-descent sweeps per alpha;
    ``converged`` and ``kkt_violation`` (relative) per alpha; ``loglik``, ``df`` and ``bic`` per
    alpha (computed on first access); ``alpha_max``; ``selection`` (after :meth:`select`).
    """

    def __init__(self, *, family, penalty, l1_ratio, alphas, alpha_max, solution, data, fit_intercept, settings):
        self._family = family
        self.family = family.name
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.alpha_max = float(alpha_max)
        self.fit_intercept = fit_intercept
        self._data = data
        self._settings = settings
        self._solution = solution
        self.coefs = np.moveaxis(solution.coefs, 0, -1)
        self.intercepts = np.moveaxis(solution.intercepts, 0, -1)
        self.n_iter = solution.n_iter
        self.converged = solution.converged
        self.kkt_violation = solution.kkt
        self.nnz = np.count_nonzero(solution.coefs.reshape(len(alphas), -1), axis=1)
        if getattr(data, "in_memory", True):
            X, _, w, _ = data
            self.n_obs = float(X.shape[0] if w is None else w.sum())
            self.n_features = X.shape[1]
        else:  # a problem over a source (its rows are read in passes)
            self.n_obs = data.total_weight
            self.n_features = data.n_features
        self.feature_names = [f"x{j}" for j in range(self.n_features)]
        self.selection = None

    # ------------------------------------------------------------------ statistics
    def linear_predictor(self, X=None, offset=None) -> np.ndarray:
        """:math:`\\eta` at every alpha: shape ``(n, n_alphas)`` (``(n, K, n_alphas)`` for categorical)."""
        from ..glm.penalized_core import check_design

        if X is None:
            if not self.in_memory:
                raise MethodError("The path was fitted on data read in passes: give the rows, "
                                  "path.linear_predictor(X, offset).")
            X, offset = self._data[0], self._data[3]
        else:
            X = check_design(X)
        sol = self._solution
        if sol.coefs.ndim == 3:
            m, K, d = sol.coefs.shape
            eta = (X @ sol.coefs.reshape(m * K, d).T).reshape(-1, m, K).transpose(0, 2, 1) + sol.intercepts.T[None]
            if offset is not None:
                eta = eta + (offset[:, :, None] if offset.ndim == 2 else offset[:, None, None])
            return eta
        eta = X @ sol.coefs.T + sol.intercepts[None, :]
        return eta if offset is None else eta + offset[:, None]

    @cached_property
    def loglik(self) -> np.ndarray:
        """Log-likelihood at each alpha (constants included; gaussian/laplace dispersion at its MLE)."""
        if not self.in_memory:
            from ..core.regression_stream import path_log_likelihood

            return path_log_likelihood(self._data, self._solution.coefs, self._solution.intercepts)
        _, y, w, _ = self._data
        eta = self.linear_predictor()
        y_t = torch.from_numpy(y)
        w_t = None if w is None else torch.from_numpy(w)
        out = np.empty(len(self.alphas))
        with torch.no_grad(), family_threads(len(y)):
            for k in range(len(self.alphas)):
                e = torch.from_numpy(np.ascontiguousarray(eta[..., k]))
                out[k] = float(self._family.log_likelihood(y_t, e, w_t))
        return out

    @property
    def in_memory(self) -> bool:
        """Whether the path's rows are in memory (else they are read from a source in passes)."""
        return getattr(self._data, "in_memory", True)

    @cached_property
    def df(self) -> np.ndarray:
        """Degrees of freedom used by the BIC: non-zeros + intercepts + dispersion."""
        n_int = (self.coefs.shape[0] if self.coefs.ndim == 3 else 1) if self.fit_intercept else 0
        extra = n_int + (1 if self._family.dispersion else 0)
        return self.nnz + extra

    @cached_property
    def bic(self) -> np.ndarray:
        """``-2 loglik + log(W) df`` at each alpha (see the module docstring)."""
        return -2.0 * self.loglik + np.log(self.n_obs) * self.df

    # ------------------------------------------------------------------ selection and views
    def select(self, method: str = "cv", *, cv: int = 5, seed: int | None = 0):
        """Choose an alpha: ``"cv"`` (K-fold cross-validated held-out deviance, ``cv`` folds, shuffled
        with ``seed``; stratified by class for bernoulli/categorical) or ``"bic"`` (smallest BIC).
        Returns a :class:`~mlemap.paths.select.Selection` and remembers it for ``plot``/``summary``."""
        from .select import select_bic, select_cv

        if method == "cv":
            self.selection = select_cv(self, cv=cv, seed=seed)
        elif method == "bic":
            self.selection = select_bic(self)
        else:
            raise MethodError(f"Unknown selection method {method!r}. Valid methods are: 'cv', 'bic'.")
        return self.selection

    def coef_at(self, index: int):
        """``(coef, intercept)`` at ``alphas[index]``."""
        return self.coefs[..., index], self.intercepts[..., index]

    def plot(self, ax=None):
        """Coefficient paths against log10(alpha); returns the matplotlib axes."""
        from .plot import plot_path

        return plot_path(self, ax=ax)

    def summary(self):
        """Table of alphas, non-zeros, log-likelihood and BIC, with the selected alpha marked."""
        from ..report.path_summary import PathSummary

        return PathSummary.of_path(self)

    def __repr__(self) -> str:
        sel = "" if self.selection is None else f", selected alpha={self.selection.alpha:.4g} ({self.selection.method})"
        return (
            f"RegularizationPath(family={self.family!r}, penalty={self.penalty!r}, n_alphas={len(self.alphas)}, "
            f"alphas=[{self.alphas[0]:.4g} .. {self.alphas[-1]:.4g}]{sel})"
        )

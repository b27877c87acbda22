"""What the linear regression's routes read of the rows: in memory, or from a source's factor.

Every route of :class:`~mlemap.models.linear.LinearRegression` (least squares, ridge, a Normal prior,
the lasso and elastic net) needs a few quantities of the data, each provided here twice:

* :class:`LinearRows`, the rows in memory: QR with refinement (:func:`~mlemap.glm.lstsq.solve_lstsq`),
  Gram matrices and residuals from the arrays;
* :class:`LinearFactor`, rows read from a source: everything from the triangular factor
  :math:`R_0` of :math:`\\sqrt{w}\\,[1, X, y - o]` reduced in the survey pass (the Gram matrix is
  :math:`R_0^\\top R_0`; the centred one, which the lasso's coordinate descent uses, is that of the
  rows of :math:`R_0` below the intercept's), and the sandwich's meat by one more pass.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..glm.family import GaussianGLM
from ..glm.gram import weighted_gram
from ..glm.inference import score_outer
from ..glm.lstsq import lstsq_from_factor, solve_lstsq


class LinearRows:
    """The rows ``X, y, w, offset`` in memory."""

    def __init__(self, X, y, w, offset, fit_intercept: bool, labels: list[str]):
        self.X, self.y, self.w, self.offset = X, y, w, offset
        self.fit_intercept = fit_intercept
        self.labels = labels
        self.d = X.shape[1]
        self.W = float(X.shape[0] if w is None else w.sum())

    def solve(self, l2: float = 0.0, penalize_intercept: bool = False, max_refine: int = 10):
        return solve_lstsq(self.X, self.y, sample_weight=self.w, offset=self.offset, fit_intercept=self.fit_intercept,
                           l2=l2, penalize_intercept=penalize_intercept, labels=self.labels, max_refine=max_refine)

    def residuals(self, coef, intercept) -> np.ndarray:
        return self.y - (self.X @ coef + intercept) - (0 if self.offset is None else self.offset)

    def rss(self, coef, intercept) -> float:
        r = self.residuals(coef, intercept)
        return float(np.sum(r * r if self.w is None else self.w * r * r))

    def gram(self, columns=None, intercept: bool | None = None) -> np.ndarray:
        """:math:`\\tilde X^\\top W \\tilde X` over ``columns`` (all) and the intercept (when fitted, or as asked)."""
        X = self.X if columns is None else self.X[:, columns]
        icpt = self.fit_intercept if intercept is None else intercept
        return weighted_gram(X, np.ones(self.X.shape[0]) if self.w is None else self.w, icpt)

    def cross(self, coef, intercept) -> np.ndarray:
        """:math:`\\tilde X^\\top W r` at the fit."""
        r = self.residuals(coef, intercept)
        wr = r if self.w is None else self.w * r
        Xr = self.X.T @ wr
        return np.append(Xr, wr.sum()) if self.fit_intercept else Xr

    def meat(self, coef, intercept, scale: float = 1.0, columns=None, with_intercept: bool | None = None) -> np.ndarray:
        """:math:`\\sum_i w_i (r_i/s)^2 \\tilde x_i \\tilde x_i^\\top` over ``columns`` (the sandwich's meat)."""
        X = self.X if columns is None else self.X[:, columns]
        icpt = self.fit_intercept if with_intercept is None else with_intercept
        return score_outer(X, self.residuals(coef, intercept) / scale, self.w, icpt)

    def loglik(self, coef, intercept, sigma2: float) -> float:
        fitted = self.X @ coef + intercept
        eta = torch.from_numpy(fitted if self.offset is None else fitted + self.offset)
        wt = None if self.w is None else torch.from_numpy(self.w)
        return float(GaussianGLM().log_likelihood(torch.from_numpy(self.y), eta, wt, dispersion=math.sqrt(sigma2)))

    def variance(self) -> float:
        """The weighted variance of ``y`` (a start for sigma^2)."""
        return float(np.average((self.y - np.average(self.y, weights=self.w)) ** 2, weights=self.w))

    def l1_solver(self, l1, l2, *, penalize_intercept, tol, max_iter, coef_init=None, intercept_init=None):
        from .routes import l1_fit

        return l1_fit(self.X, self.y, GaussianGLM(), l1, l2, sample_weight=self.w, offset=self.offset,
                      fit_intercept=self.fit_intercept, penalize_intercept=penalize_intercept, tol=tol,
                      max_iter=max_iter, coef_init=coef_init, intercept_init=intercept_init)


class LinearFactor:
    """Rows read from a source, through the survey's triangular factor (see the module docstring)."""

    def __init__(self, problem, labels: list[str]):
        self.problem = problem
        self.R0 = problem.found.r
        self.fit_intercept = problem.model.intercept
        self.labels = labels
        self.d = problem.model.d
        self.W = problem.total_weight
        self.n = problem.n_obs
        full = self.R0.T @ self.R0  # Gram of sqrt(w) [1, X, y - o] in the factor's order
        p = self.d + int(self.fit_intercept)
        public = list(range(int(self.fit_intercept), p)) + ([0] if self.fit_intercept else [])
        self._gram = full[np.ix_(public, public)]
        self._cross = full[public, p]
        self._yy = float(full[p, p])

    def solve(self, l2: float = 0.0, penalize_intercept: bool = False, max_refine: int = 10):
        return lstsq_from_factor(self.R0, self.n, fit_intercept=self.fit_intercept, l2=l2,
                                 penalize_intercept=penalize_intercept, labels=self.labels)

    def _packed(self, coef, intercept) -> np.ndarray:
        return np.append(coef, intercept) if self.fit_intercept else np.asarray(coef, dtype=float)

    def rss(self, coef, intercept) -> float:
        p = self.d + int(self.fit_intercept)
        packed = self._packed(coef, intercept)
        ordered = np.append(packed[self.d:], packed[:self.d]) if self.fit_intercept else packed
        r = self.R0 @ np.append(ordered, -1.0)
        return float(r @ r) if p else self._yy

    def gram(self, columns=None, intercept: bool | None = None) -> np.ndarray:
        icpt = self.fit_intercept if intercept is None else intercept
        cols = list(range(self.d)) if columns is None else list(columns)
        keep = cols + ([self.d] if icpt else [])
        return self._gram[np.ix_(keep, keep)]

    def cross(self, coef, intercept) -> np.ndarray:
        return self._cross - self._gram @ self._packed(coef, intercept)

    def meat(self, coef, intercept, scale: float = 1.0, columns=None, with_intercept: bool | None = None) -> np.ndarray:
        theta = torch.from_numpy(self._packed(coef, intercept))
        M = self.problem.fit_summary(theta, meat=True).meat / scale**2
        icpt = self.fit_intercept if with_intercept is None else with_intercept
        cols = list(range(self.d)) if columns is None else list(columns)
        keep = cols + ([self.d] if icpt else [])
        return M[np.ix_(keep, keep)]

    def loglik(self, coef, intercept, sigma2: float) -> float:
        rss = self.rss(coef, intercept)
        return -0.5 * self.W * math.log(2 * math.pi) - 0.5 * self.W * math.log(sigma2) - rss / (2 * sigma2)

    def variance(self) -> float:
        if not self.fit_intercept:  # the centred sum of squares from the uncentred moments
            total = float(self.problem.found.sums.weight)
            wy = float(self.problem.found.sums.wy - self.problem.found.sums.wo)
            return max(self._yy / total - (wy / total) ** 2, 0.0)
        # below the intercept's row, the factor's target column holds the centred target
        return float(self.R0[1:, -1] @ self.R0[1:, -1]) / self.W

    def l1_solver(self, l1, l2, *, penalize_intercept, tol, max_iter, coef_init=None, intercept_init=None):
        from ..glm.cd_gaussian import GaussianCDSolver
        from ..glm.penalized_core import strong_set

        solver = GaussianCDSolver.from_factor(self.R0, self.W, self.fit_intercept and not penalize_intercept)
        if coef_init is None:
            beta0 = solver.null_beta.copy()
            ws = strong_set(solver.null_grad, beta0, l1, solver.scale)
        else:
            beta0, ws = np.array(coef_init, dtype=float), np.arange(self.d, dtype=np.int64)
        if self.fit_intercept and penalize_intercept:
            raise NotImplementedError  # pragma: no cover - refused by the route
        beta, b, info = solver.solve(l1, l2, beta0, None, ws, tol, max_iter)
        message = "converged" if info.converged else f"stopped after {info.n_iter} sweeps (KKT {info.kkt:.2e})"
        return beta, b, info.n_iter, info.converged, message

"""L1-penalised least absolute deviations (Laplace likelihood with a Laplace prior) as a linear program.

Minimises :math:`\\sum_i w_i |y_i - o_i - x_i^\\top\\beta - b| + \\lambda_1 \\lVert\\beta\\rVert_1` exactly.
With :math:`\\beta = \\beta^+ - \\beta^-`, :math:`b = b^+ - b^-` and residuals :math:`r = r^+ - r^-`
(all parts non-negative) it is the LP

.. math:: \\min\\ \\lambda_1 1^\\top(\\beta^+ + \\beta^-) + w^\\top(r^+ + r^-) \\quad
   \\text{s.t.}\\ X\\beta^+ - X\\beta^- + b^+ - b^- + r^+ - r^- = y - o,

solved by HiGHS (as scikit-learn's ``QuantileRegressor`` at ``quantile=0.5``). An L2 part makes it a
quadratic program, which this solver does not handle.
"""

from __future__ import annotations

import numpy as np

from ..errors import EstimationError, MethodError
from .penalized_core import SolveInfo


class LadLPSolver:
    n_classes = None

    def __init__(self, X, y, w, offset, fit_intercept):
        self.X, self.n_features = X, X.shape[1]
        self.target = y if offset is None else y - offset
        self.w = np.ones(X.shape[0]) if w is None else w
        self.fit_intercept = fit_intercept
        self.total_weight = float(self.w.sum())
        self.null_beta = np.zeros(self.n_features)
        self.null_intercept = _weighted_median(self.target, self.w) if fit_intercept else 0.0
        self.null_grad = -(self.X.T @ (self.w * _null_subgradient(self.target - self.null_intercept, self.w,
                                                                   fit_intercept)))
        self.scale = float(np.abs(self.null_grad).max())

    def solve(self, l1, l2, beta, intercept, ws, tol, max_iter):
        del beta, intercept, ws
        if l2 > 0:
            raise MethodError(
                "The laplace family takes an L1 penalty only (an exact linear program); an L2 part "
                f"(l2 = {l2:g}) would make it a quadratic program. Use lasso (l1_ratio=1) with this family."
            )
        d = self.n_features
        if l1 >= self.scale and self.fit_intercept:
            # beta = 0 is optimal here; the LP could return another vertex of a tied optimum
            message = "the intercept-only fit is optimal (l1 at or above the gradient scale)"
            info = SolveInfo(0, 0, True, 0.0, self.null_grad.copy(), message)
            return self.null_beta.copy(), self.null_intercept, info
        from scipy import sparse
        from scipy.optimize import linprog

        keep = self.w > 0
        Xk, yk, wk = self.X[keep], self.target[keep], self.w[keep]
        nk = Xk.shape[0]
        ones = np.ones((nk, 1)) if self.fit_intercept else np.zeros((nk, 0))
        eye = sparse.eye(nk, format="csc")
        A = sparse.hstack([sparse.csc_matrix(Xk), sparse.csc_matrix(-Xk), ones, -ones, eye, -eye], format="csc")
        n_b = 2 if self.fit_intercept else 0
        c = np.concatenate([np.full(2 * d, l1), np.zeros(n_b), wk, wk])
        res = linprog(c, A_eq=A, b_eq=yk, bounds=(0, None), method="highs",
                      options={"maxiter": int(max_iter), "primal_feasibility_tolerance": 1e-10,
                               "dual_feasibility_tolerance": 1e-10})
        if res.x is None:
            raise EstimationError(f"The L1 least-absolute-deviations linear program failed: {res.message}")
        x = res.x
        beta = x[:d] - x[d:2 * d]
        beta[np.abs(beta) < 1e-14 * max(1.0, np.abs(beta).max())] = 0.0
        b = float(x[2 * d] - x[2 * d + 1]) if self.fit_intercept else 0.0
        r = self.target - self.X @ beta - b
        grad = -(self.X.T @ (self.w * np.sign(r)))
        info = SolveInfo(int(getattr(res, "nit", 0)), 0, res.status == 0, 0.0, grad, str(res.message))
        return beta, b, info


def _null_subgradient(r: np.ndarray, w: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """A subgradient ``s`` of ``|r|`` at the intercept-only fit with ``sum w s = 0`` (the intercept's
    optimality): ``sign(r)`` where ``r != 0``, one common value on the zero residuals. ``alpha_max``
    from it is exact when at most one residual is zero (ties at the median can lower it)."""
    s = np.sign(r)
    zero = r == 0
    if fit_intercept and zero.any():
        s[zero] = np.clip(-(w[~zero] @ s[~zero]) / w[zero].sum(), -1.0, 1.0)
    return s


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    half = 0.5 * cum[-1]
    i = int(np.searchsorted(cum, half))
    if np.isclose(cum[i], half) and i + 1 < len(v):
        return 0.5 * (v[i] + v[i + 1])
    return float(v[i])

"""Coordinate descent for the L1/L2-penalised Gaussian likelihood (lasso, elastic net).

Minimises :math:`\\tfrac12 \\sum_i w_i (y_i - o_i - x_i^\\top\\beta - b)^2 + \\lambda_1\\lVert\\beta\\rVert_1 + \\tfrac{\\lambda_2}{2}\\lVert\\beta\\rVert_2^2`.
The unpenalised intercept is profiled out by centring: with weighted means :math:`m = X^\\top w / W`
and :math:`\\bar y`, the problem in :math:`\\beta` uses :math:`\\tilde X = X - 1 m^\\top`,
:math:`\\tilde y = y - o - \\bar y` and :math:`b = \\bar y - m^\\top\\beta`.

Two variants (as in scikit-learn and glmnet):

* **Gram** (``n > d``): :math:`Q = \\tilde X^\\top W \\tilde X` and :math:`q = \\tilde X^\\top W \\tilde y`
  are formed once (one BLAS ``syrk``); a coordinate update then costs :math:`O(d)` and the
  correlations :math:`\\rho = q - Q\\beta` are exact at every point of a path. :math:`Q` is computed
  from the raw columns as :math:`X^\\top W X - W m m^\\top` except for the columns whose mean is
  larger than their standard deviation, whose rows are computed from centred values (no
  cancellation).
* **Residual** (wide data): the centred, weighted columns are kept (Fortran order) with the
  residual :math:`r = \\tilde y - \\tilde X\\beta`; an update costs :math:`O(n)`.
"""

from __future__ import annotations

import numpy as np

from . import cd_kernels as K
from .penalized_core import SolveInfo, kkt_violation

GRAM_MAX_FEATURES = 6000


class GaussianCDSolver:
    """The data of one penalised least-squares problem, prepared once and solved for many penalties."""

    n_classes = None

    def __init__(self, X, y, w, offset, fit_intercept: bool, method: str = "auto"):
        n, d = X.shape
        self.n_features = d
        self.fit_intercept = fit_intercept
        yo = y if offset is None else y - offset
        self.total_weight = float(n if w is None else w.sum())
        W = self.total_weight
        if fit_intercept:
            self.m = (X.T @ w if w is not None else X.sum(axis=0)) / W
            self.ybar = float((w @ yo if w is not None else yo.sum()) / W)
        else:
            self.m = np.zeros(d)
            self.ybar = 0.0
        yc = yo - self.ybar
        self.use_gram = method == "gram" or (method == "auto" and n > d and d <= GRAM_MAX_FEATURES)
        if self.use_gram:
            self._build_gram(X, yc, w)
            self.scale = float(np.abs(self.q).max())
            self._cache = (np.zeros(d), self.q.copy())
        else:
            self._build_residual(X, yc, w)
            self.scale = float(np.abs(self.Xc.T @ self.yc).max())
            self._cache = (np.zeros(d), self.yc.copy())
        self.null_beta = np.zeros(d)
        self.null_intercept = self.ybar
        self.null_grad = -(self.q.copy() if self.use_gram else self.Xc.T @ self.yc)

    @classmethod
    def from_factor(cls, R0: np.ndarray, total_weight: float, fit_intercept: bool) -> "GaussianCDSolver":
        """The Gram variant from the triangular factor ``R0`` of :math:`\\sqrt{w}\\,[1, X, y - o]` (intercept
        column first when fitted), as rows read in chunks give it: below the intercept's row the factor is
        that of the centred columns, so :math:`Q`, :math:`q` and :math:`\\tilde y^\\top W \\tilde y` come without
        cancellation, and the weighted means are the intercept row divided by :math:`\\sqrt W`."""
        self = cls.__new__(cls)
        off = int(fit_intercept)
        d = R0.shape[1] - 1 - off
        self.n_features = d
        self.fit_intercept = fit_intercept
        self.total_weight = float(total_weight)
        if fit_intercept:
            self.m = R0[0, 1:d + 1] / R0[0, 0]
            self.ybar = float(R0[0, d + 1] / R0[0, 0])
        else:
            self.m = np.zeros(d)
            self.ybar = 0.0
        block = R0[off:, off:]
        G = block.T @ block
        self.use_gram = True
        self.Q = np.ascontiguousarray(G[:d, :d])
        self.q = G[:d, d].copy()
        self.yy = float(G[d, d])
        self.scale = float(np.abs(self.q).max()) if d else 0.0
        self._cache = (np.zeros(d), self.q.copy())
        self.null_beta = np.zeros(d)
        self.null_intercept = self.ybar
        self.null_grad = -self.q.copy()
        return self

    # ------------------------------------------------------------------ preparation
    def _build_gram(self, X, yc, w):
        W, m = self.total_weight, self.m
        wy = yc if w is None else w * yc
        if w is None:
            G = X.T @ X
        else:
            Xw = X * np.sqrt(w)[:, None]
            G = Xw.T @ Xw
            del Xw
        q = X.T @ wy
        if self.fit_intercept:
            raw_diag = np.diag(G).copy()
            bad = np.flatnonzero(W * m * m > 0.5 * raw_diag)
            G -= W * np.outer(m, m)
            q -= m * wy.sum()
            if bad.size:
                Xb = X[:, bad] - m[bad]
                Xbw = Xb if w is None else Xb * w[:, None]
                rows = Xbw.T @ X
                rows[:, bad] = Xbw.T @ Xb
                G[bad, :] = rows
                G[:, bad] = rows.T
                q[bad] = Xbw.T @ yc
        self.Q = np.ascontiguousarray(G)
        self.q = q
        self.yy = float(yc @ wy)

    def _build_residual(self, X, yc, w):
        n, d = X.shape
        Xc = np.empty((n, d), order="F")
        np.subtract(X, self.m, out=Xc)
        if w is not None:
            sw = np.sqrt(w)
            Xc *= sw[:, None]
            yc = yc * sw
        self.Xc = Xc
        self.yc = np.ascontiguousarray(yc)
        self.sq = np.einsum("ij,ij->j", Xc, Xc)

    # ------------------------------------------------------------------ solving
    def intercept(self, beta: np.ndarray) -> float:
        return self.ybar - float(self.m @ beta) if self.fit_intercept else 0.0

    def _state(self, beta):
        """Correlations (Gram) or residual at ``beta``, reusing the last solution's when it matches."""
        cached_beta, cached = self._cache
        if np.array_equal(cached_beta, beta):
            return cached.copy()
        if self.use_gram:
            return self.q - self.Q @ beta
        return self.yc - self.Xc @ beta

    def solve(self, l1, l2, beta, intercept, ws, tol, max_iter):
        """Minimise from ``beta`` (the intercept follows from it); returns ``(beta, intercept, info)``."""
        del intercept
        beta = np.array(beta, dtype=np.float64)
        d = self.n_features
        tol_abs = tol * max(self.scale, np.finfo(float).tiny)
        state = self._state(beta)
        in_ws = np.zeros(d, dtype=bool)
        in_ws[ws] = True
        ws = np.flatnonzero(in_ws).astype(np.int64)
        total, converged, worst = 0, False, np.inf
        while True:
            if self.use_gram:
                before = beta[ws].copy()
                sweeps, _ = K.gram_cd(self.Q, state, beta, ws, l1, l2, tol_abs, max(max_iter - total, 0))
                if ws.size * 3 <= d:  # the kernel kept rho on the working set only
                    delta = beta[ws] - before
                    moved = delta != 0
                    K.gram_refresh(self.Q, state, ws[moved], delta[moved], in_ws)
                rho = state
            else:
                sweeps, _ = K.residual_cd(self.Xc, state, self.sq, beta, ws, l1, l2, tol_abs, max(max_iter - total, 0))
                rho = self.Xc.T @ state
            total += sweeps
            viol = kkt_violation(-rho, beta, l1, l2)
            worst = float(viol.max())
            if worst <= tol_abs:
                converged = True
                break
            if total >= max_iter:
                break
            new = (viol > tol_abs) & ~in_ws
            if new.any():
                in_ws |= new
                ws = np.flatnonzero(in_ws).astype(np.int64)
        self._cache = (beta.copy(), state.copy())
        grad = -(state if self.use_gram else self.Xc.T @ state)
        info = SolveInfo(total, 0, converged, worst, grad)
        return beta, self.intercept(beta), info

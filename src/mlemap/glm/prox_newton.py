"""Proximal Newton for L1/L2-penalised GLMs (bernoulli, poisson, categorical).

Minimises :math:`F(\\beta, b) = \\sum_i w_i\\,\\text{nll}(y_i, \\eta_i) + \\lambda_1\\lVert\\beta\\rVert_1 + \\tfrac{\\lambda_2}{2}\\lVert\\beta\\rVert_2^2`,
:math:`\\eta = X\\beta + b + o`, with the family's per-observation derivatives ``grad`` and ``hess``
in :math:`\\eta` (Friedman, Hastie and Tibshirani 2010; Lee, Sun and Saunders 2014):

1. at the current point, :math:`g_i = w_i \\partial_\\eta \\text{nll}` and :math:`h_i = w_i \\partial^2_\\eta \\text{nll}`
   (IRLS weights; for the softmax the full ``K x K`` blocks);
2. coordinate descent minimises the penalised quadratic model
   :math:`\\sum_i g_i u_i + \\tfrac12 \\sum_i h_i u_i^2 + \\text{penalty}` in the step, over a working
   set of features (strong-rule screening plus every feature that violates the KKT conditions);
3. a backtracking line search on the true objective accepts :math:`t\\Delta` when
   :math:`F(\\theta + t\\Delta) \\le F(\\theta) + 10^{-4} t D` with
   :math:`D = g^\\top u + P(\\beta + \\Delta) - P(\\beta) < 0` (``P`` the penalty, ``u`` the step in
   :math:`\\eta`);
4. stop when the KKT violation over all features is at most ``tol`` times the gradient scale.

The inner tolerance tightens with the outer violation (``min(0.1 v, v^2 / scale)``), which keeps
Newton's fast local convergence without solving early models exactly.

Inner solver. For tall data (``n >= 2 |working set|``) the quadratic model is handled through the
weighted Gram matrix :math:`\\tilde X_W^\\top \\mathrm{diag}(h) \\tilde X_W` of the working set
(one BLAS pass over the data, then sweeps that cost :math:`O(|W|)` per coordinate instead of
:math:`O(n)`), and that matrix is kept as the Hessian for the following steps, along the path
too, until progress slows (the violation falls by less than 4x or the line search shortens the
step) or the working set grows; the line search on the true objective keeps every step safe.
Otherwise coordinate descent runs on the columns with the residual-like vector
:math:`v = g + h u` (:func:`~.cd_kernels.irls_cd`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError
from . import cd_kernels as K
from .penalized_core import SolveInfo, family_threads, kkt_violation

MAX_OUTER = 200
ARMIJO = 1e-4
GRAM_MIN_ROWS_PER_FEATURE = 2
GRAM_MAX_FEATURES = 6000
GRAM_BLOCK = 2048


class _NewtonBase:
    """Shared outer loop; subclasses define the model-specific pieces."""

    def _setup_common(self, X, y, w, offset, fit_intercept, family):
        self.X = np.asfortranarray(X)
        self.family = family
        self.fit_intercept = fit_intercept
        self.n, self.n_features = X.shape
        self.w = w
        self.total_weight = float(self.n if w is None else w.sum())
        self.offset = offset

    def _loss(self, eta: np.ndarray) -> float:
        with torch.no_grad(), family_threads(self.n):
            val = self.family.nll(self._y_t, torch.from_numpy(eta))
            if self.w is not None:
                val = val * self._w_t
            return float(val.sum())

    def _penalty(self, beta, l1, l2):
        return l1 * float(np.abs(beta).sum()) + 0.5 * l2 * float((beta * beta).sum())

    def _null(self, b0):
        """Intercept-only fit (``beta = 0``), the point where every path starts."""
        beta = np.zeros(self._beta_shape)
        empty = np.zeros(0, dtype=np.int64)
        if not self.fit_intercept:
            eta = self._eta(beta, b0)
            return beta, b0, self._gradients(eta)[2]
        eta = self._eta(beta, b0)
        g = self._gradients(eta)[0]
        tol_abs = 1e-13 * max(float(np.abs(g).sum()), 1.0)
        beta, b, info = self._newton(np.inf, 0.0, beta, b0, empty, tol_abs, 10_000, 1.0)
        return beta, b, info.grad

    def solve(self, l1, l2, beta, intercept, ws, tol, max_iter):
        tol_abs = tol * max(self.scale, np.finfo(float).tiny)
        return self._newton(l1, l2, np.array(beta, dtype=np.float64), np.array(intercept, dtype=np.float64),
                            np.asarray(ws, dtype=np.int64), tol_abs, max_iter, self.scale)

    def _newton(self, l1, l2, beta, b, ws, tol_abs, max_iter, scale):
        d = self.n_features
        in_ws = np.zeros(d, dtype=bool)
        in_ws[ws] = True
        eta = self._eta(beta, b)
        pen = self._penalty(beta, l1, l2) if np.isfinite(l1) else 0.0
        F = self._loss(eta) + pen
        g, h, grad = self._gradients(eta)
        total, outer, converged, worst = 0, 0, False, np.inf
        refresh, previous = False, np.inf
        while True:
            viol = kkt_violation(grad, beta, l1, l2)
            feat = viol.max(axis=0) if viol.ndim == 2 else viol
            worst = float(feat.max()) if feat.size else 0.0
            if self.fit_intercept:
                worst = max(worst, float(np.abs(self._intercept_grad(g)).max()))
            if worst <= tol_abs:
                converged = True
                break
            refresh = refresh or worst > 0.25 * previous
            previous = worst
            if outer >= MAX_OUTER or total >= max_iter:
                break
            if np.isfinite(l1):
                in_ws |= feat > tol_abs
            ws = np.flatnonzero(in_ws).astype(np.int64)
            inner_tol = max(0.5 * tol_abs, min(0.1 * worst, worst * worst / max(scale, 1e-300)))
            new_beta, new_b, u, sweeps = self._inner(g, h, grad, beta, b, ws, l1, l2, inner_tol,
                                                     max(max_iter - total, 1), refresh)
            refresh = False
            total += sweeps
            outer += 1
            step = new_beta - beta
            db = new_b - b
            pen_new = self._penalty(new_beta, l1, l2) if np.isfinite(l1) else 0.0
            D = float((g * u).sum()) + (pen_new - pen)
            t, accepted = 1.0, False
            for _ in range(60):
                eta_t = eta + t * u
                pen_t = self._penalty(beta + t * step, l1, l2) if np.isfinite(l1) else 0.0
                F_t = self._loss(eta_t) + pen_t
                if np.isfinite(F_t) and (F_t <= F + ARMIJO * t * D or D >= -1e-15 * abs(F)):
                    accepted = True
                    break
                t *= 0.5
            if not accepted:
                break
            refresh = t < 1.0
            beta = beta + t * step
            b = b + t * db
            eta, F, pen = eta_t, F_t, pen_t
            g, h, grad = self._gradients(eta)
        if self.fit_intercept:
            b = self._normalise_intercept(b)
        return beta, b, SolveInfo(total, outer, converged, worst, grad)

    def _normalise_intercept(self, b):
        return b


class ProxNewtonSolver(_NewtonBase):
    """Bernoulli or Poisson: one linear predictor per observation."""

    n_classes = None

    def __init__(self, X, y, w, offset, fit_intercept, family):
        self._setup_common(X, y, w, offset, fit_intercept, family)
        self._beta_shape = (self.n_features,)
        self._gram = None
        self._y_t = torch.from_numpy(y)
        self._w_t = None if w is None else torch.from_numpy(w)
        active = y if w is None else y[w > 0]
        if fit_intercept and family.name == "bernoulli" and (active.min() == active.max()):
            raise DataError(
                f"The 'y' argument holds a single class ({active[0]:g}); the intercept of a logistic model is then "
                "infinite. Both classes 0 and 1 must occur."
            )
        if fit_intercept and family.name == "poisson" and active.max() == 0:
            raise DataError(
                "The 'y' argument holds only zero counts; the intercept of a Poisson model is then -inf. "
                "At least one positive count is needed."
            )
        W = self.total_weight
        ybar = float((active * (w[w > 0] if w is not None else 1)).sum() / W)
        b0 = 0.0
        if fit_intercept:
            b0 = float(np.log(ybar / (1 - ybar))) if family.name == "bernoulli" else float(np.log(ybar))
            if offset is not None:
                b0 -= float(np.average(offset, weights=w))
        self.null_beta, self.null_intercept, self.null_grad = self._null(b0)
        self.scale = float(np.abs(self.null_grad).max())

    def _eta(self, beta, b):
        eta = np.full(self.n, float(b))
        nz = np.flatnonzero(beta)
        if nz.size:
            K.add_columns(self.X, nz.astype(np.int64), beta[nz], eta)
        if self.offset is not None:
            eta += self.offset
        return eta

    def _gradients(self, eta):
        """(w * d nll / d eta, w * d2 nll / d eta2, X^T g)."""
        with torch.no_grad(), family_threads(self.n):
            e = torch.from_numpy(eta)
            g = self.family.grad(self._y_t, e).numpy()
            h = self.family.hess(self._y_t, e).numpy()
        if self.w is not None:
            g = g * self.w
            h = h * self.w
        return g, h, self.X.T @ g

    def _intercept_grad(self, g):
        return np.array([g.sum()])

    def _inner(self, g, h, grad, beta, b, ws, l1, l2, tol, max_sweeps, refresh):
        if GRAM_MIN_ROWS_PER_FEATURE * ws.size <= self.n and ws.size <= GRAM_MAX_FEATURES:
            return self._inner_gram(g, h, grad, beta, b, ws, l1, l2, tol, max_sweeps, refresh)
        d = self.n_features
        c = np.zeros(d)
        m = np.zeros(d) if self.fit_intercept else np.zeros(0)
        if ws.size:
            K.centred_curvature(self.X, h, ws, m, c)
        v = g.copy()
        u = np.zeros(self.n)
        new_beta = beta.copy()
        sweeps, db_c, _ = K.irls_cd(self.X, h, v, u, m, c, new_beta, ws, self.fit_intercept, float(h.sum()),
                                    l1, l2, tol, max_sweeps)
        # centred parametrisation: b' = b + m.beta
        db = db_c - float(m @ (new_beta - beta)) if self.fit_intercept else 0.0
        return new_beta, b + db, u, sweeps

    def _inner_gram(self, g, h, grad, beta, b, ws, l1, l2, tol, max_sweeps, refresh):
        """The same quadratic model through the weighted Gram matrix of the working set. The Gram
        matrix is rebuilt only when asked (slow progress, a partial step) or when the working set
        grows; otherwise the last one serves as the Hessian (a lagged-Hessian Newton step)."""
        cache = self._gram
        if refresh or cache is None or not np.isin(ws, cache[0], assume_unique=True).all():
            cache = self._gram = self._build_gram(h, ws)
        cols, G, m, sum_h = cache
        local = np.searchsorted(cols, ws).astype(np.int64)
        sum_g = float(g.sum())
        rho = -(grad[cols] - m[cols] * sum_g) if self.fit_intercept else -grad[cols]
        sub = beta[cols].copy()
        sweeps, _ = K.gram_cd(G, rho, sub, local, l1, l2, tol, max_sweeps)
        new_beta = beta.copy()
        new_beta[cols] = sub
        delta = sub - beta[cols]
        moved = delta != 0
        u = np.zeros(self.n)
        if moved.any():
            K.add_columns(self.X, cols[moved], delta[moved], u)
        db = 0.0
        if self.fit_intercept:
            db_c = -sum_g / sum_h if sum_h > 0 else 0.0
            shift = float(m[cols[moved]] @ delta[moved])
            u += db_c - shift
            db = db_c - shift
        return new_beta, b + db, u, sweeps

    def _build_gram(self, h, cols):
        """``(cols, G, m, sum h)`` with ``G = (X_c - 1 m^T)^T diag(h) (X_c - 1 m^T)`` over ``cols``, ``m``
        the ``h``-weighted column means (zero without an intercept); accumulated over row blocks."""
        d = self.n_features
        sum_h = float(h.sum())
        m = np.zeros(d)
        if self.fit_intercept and sum_h > 0:
            m[cols] = (self.X[:, cols].T @ h if cols.size < d else self.X.T @ h) / sum_h
        k = cols.size
        G = np.zeros((k, k))
        full = cols.size == d
        mc = m[cols]
        for start in range(0, self.n, GRAM_BLOCK):
            stop = min(start + GRAM_BLOCK, self.n)
            B = self.X[start:stop] if full else self.X[start:stop, cols]
            B = (B - mc) * np.sqrt(h[start:stop])[:, None]
            G += B.T @ B
        return cols.copy(), G, m, sum_h


class MultinomialProxNewtonSolver(_NewtonBase):
    """Softmax with every class its own row of coefficients (``beta`` of shape ``(K, d)``)."""

    def __init__(self, X, y, w, offset, fit_intercept, family, n_classes):
        self._setup_common(X, y, w, offset, fit_intercept, family)
        self.n_classes = n_classes
        self._beta_shape = (n_classes, self.n_features)
        self._y_t = torch.from_numpy(y)
        self._w_t = None if w is None else torch.from_numpy(w)
        labels = y.astype(np.int64)
        self._onehot = np.zeros((n_classes, self.n))
        self._onehot[labels, np.arange(self.n)] = 1.0
        weights = np.ones(self.n) if w is None else w
        counts = self._onehot @ weights
        if fit_intercept and np.any(counts <= 0):
            missing = [int(k) for k in np.flatnonzero(counts <= 0)]
            raise DataError(
                f"The 'y' argument has no observation of class(es) {missing} among labels 0..{n_classes - 1}; "
                "their intercepts would be -inf. Relabel the classes that occur as 0..K-1."
            )
        b0 = np.log(np.maximum(counts, 1e-300) / counts.sum()) if fit_intercept else np.zeros(n_classes)
        if fit_intercept:
            b0 -= b0.mean()
        self.null_beta, self.null_intercept, self.null_grad = self._null(b0)
        self.scale = float(np.abs(self.null_grad).max())

    def _eta(self, beta, b):
        eta = (self.X @ beta.T if np.any(beta) else np.zeros((self.n, self.n_classes))) + b
        if self.offset is not None:
            eta = eta + (self.offset if self.offset.ndim == 2 else self.offset[:, None])
        return np.ascontiguousarray(eta)

    def _gradients(self, eta):
        with torch.no_grad(), family_threads(self.n):
            P = self.family.mean(torch.from_numpy(eta)).numpy()
        PT = np.ascontiguousarray(P.T)
        G = PT - self._onehot
        if self.w is not None:
            G = G * self.w
        return G.T, PT, G @ self.X

    def _intercept_grad(self, g):
        return g.sum(axis=0)

    def _inner(self, g, PT, grad, beta, b, ws, l1, l2, tol, max_sweeps, refresh):
        G = g.T
        w = np.ones(self.n) if self.w is None else self.w
        WP = PT * w
        HD = WP * (1.0 - PT)
        C = np.zeros(self._beta_shape)
        if ws.size:
            K.class_curvature(self.X, HD, ws, C)
        Cb = HD.sum(axis=1)
        V = np.ascontiguousarray(G.copy())
        U = np.zeros_like(V)
        new_beta = beta.copy()
        db = np.zeros(self.n_classes)
        sweeps, _ = K.multinomial_cd(self.X, V, U, PT, WP, C, Cb, new_beta, db, ws, self.fit_intercept, l1, l2,
                                     tol, max_sweeps)
        return new_beta, b + db, U.T, sweeps

    def _normalise_intercept(self, b):
        return b - b.mean()  # the likelihood only sees differences between classes

"""Penalised GLMs on rows read in passes: proximal Newton whose model is solved on the Gram matrix.

For a regression over a source (a file scan, a Dask collection: a
:class:`~mlemap.core.regression_stream.SourceRegressionProblem`) the objective

.. math:: F(\\theta) = f(\\theta) + \\lambda_1 \\sum_{j \\in P} |\\theta_j| + \\tfrac{\\lambda_2}{2} \\sum_{j \\in P} \\theta_j^2,
   \\qquad f(\\theta) = \\sum_i w_i\\, \\text{nll}(y_i \\mid \\eta_i)

(``P`` the penalised coordinates: every coefficient, the intercepts only when asked) is minimised as
Spark's and glmnet's IRLS do it, the rows being read once per step:

1. one pass gives :math:`f`, :math:`g = \\nabla f` and :math:`H = \\nabla^2 f = \\tilde X^\\top W \\tilde X` (per
   class block for the softmax) at :math:`\\theta`;
2. the penalised quadratic model :math:`g^\\top(z - \\theta) + \\tfrac12 (z - \\theta)^\\top H (z - \\theta)` plus the
   penalty is minimised on the driver: the unpenalised coordinates (intercepts) are profiled out
   exactly (a Schur complement), and coordinate descent runs on the remaining Gram matrix
   (:func:`~mlemap.glm.cd_kernels.gram_cd`, the kernel of the Gaussian solver);
3. a backtracking line search on the true :math:`F` (a pass per trial, which brings the next step's
   Hessian with it) accepts :math:`\\theta + t(z - \\theta)`;
4. it stops when the KKT violation is at most ``tol`` times the gradient scale (that of the
   in-memory solvers: the largest coefficient gradient at the intercept-only fit).

The first point is the in-memory solver's answer on the order-free sample of the rows (weights
scaled to the data's total), so a handful of passes reach the exact full-data optimum.
"""

from __future__ import annotations

import numpy as np

from . import cd_kernels as K
from .penalized_core import kkt_violation

MAX_OUTER = 100
ARMIJO = 1e-4
#: share of max(1, |F|) below which differences of F are rounding
RESOLUTION = 1e-12


def _penalty(theta: np.ndarray, mask: np.ndarray, l1: float, l2: float) -> float:
    t = theta[mask]
    return l1 * float(np.abs(t).sum()) + 0.5 * l2 * float((t * t).sum())


def _violation(g: np.ndarray, theta: np.ndarray, mask: np.ndarray, l1: float, l2: float) -> float:
    pen = kkt_violation(g[mask], theta[mask], l1, l2)
    free = np.abs(g[~mask])
    return float(max(pen.max() if pen.size else 0.0, free.max() if free.size else 0.0))


def model_step(g: np.ndarray, H: np.ndarray, theta: np.ndarray, mask: np.ndarray, l1: float, l2: float, tol: float,
               max_sweeps: int) -> tuple[np.ndarray, int]:
    """The minimiser ``z`` of the penalised quadratic model at ``theta`` and the sweeps it took.

    With :math:`b = H\\theta - g` the model is :math:`\\tfrac12 z^\\top H z - b^\\top z` plus the penalty; the
    unpenalised block ``U`` is :math:`z_U = H_{UU}^{+}(b_U - H_{UP} z_P)`, leaving
    :math:`Q = H_{PP} - H_{PU} H_{UU}^{+} H_{UP}`, :math:`q = b_P - H_{PU} H_{UU}^{+} b_U` for coordinate descent."""
    P, U = np.flatnonzero(mask), np.flatnonzero(~mask)
    b = H @ theta - g
    if U.size:
        inv = np.linalg.pinv(H[np.ix_(U, U)], hermitian=True)
        A = H[np.ix_(P, U)] @ inv
        Q = H[np.ix_(P, P)] - A @ H[np.ix_(U, P)]
        q = b[P] - A @ b[U]
    else:
        Q, q = H[np.ix_(P, P)], b[P]
    Q = np.ascontiguousarray(0.5 * (Q + Q.T))
    zP = theta[P].copy()
    rho = q - Q @ zP
    sweeps, _ = K.gram_cd(Q, rho, zP, np.arange(P.size, dtype=np.int64), l1, l2, tol, max_sweeps)
    z = theta.copy()
    z[P] = zP
    if U.size:
        z[U] = inv @ (b[U] - H[np.ix_(U, P)] @ zP)
    return z, int(sweeps)


class SourcePenalizedSolver:
    """The solver state of a penalised problem over a source, with the interface of the in-memory
    solvers (:func:`~mlemap.glm.penalized.make_solver`), so that a path reuses it across penalties:
    ``solve(l1, l2, beta, intercept, ws, tol, max_iter)`` from a warm start, ``null_*`` at the
    intercept-only fit and ``scale`` (the largest coefficient gradient there)."""

    def __init__(self, pb, penalize_intercept: bool = False):
        m = pb.model
        self.pb = pb
        self.model = m
        self.objective = pb.theta_objective()
        self.n_features = m.d
        self.total_weight = pb.total_weight
        self.n_classes = m.n_classes if m.multiclass else None
        mask = np.zeros((m.k, m.p1), dtype=bool)
        mask[:, :m.d] = True
        if m.intercept and penalize_intercept:
            mask[:, m.d] = True
        self.mask = mask.reshape(-1)
        self.penalize_intercept = penalize_intercept
        self.passes = 0
        self._null = None
        self._scale = None

    # ------------------------------------------------------------------ packing
    def pack(self, beta, intercept) -> np.ndarray:
        m = self.model
        rows = np.zeros((m.k, m.p1))
        rows[:, :m.d] = np.asarray(beta, dtype=float).reshape(m.k, m.d)
        if m.intercept:
            rows[:, m.d] = np.atleast_1d(np.asarray(intercept, dtype=float))
        return rows.reshape(-1)

    def unpack(self, theta: np.ndarray):
        m = self.model
        rows = theta.reshape(m.k, m.p1)
        coef = rows[:, :m.d].copy()
        icpt = rows[:, m.d].copy() if m.intercept else np.zeros(m.k)
        if m.multiclass and m.intercept and not self.penalize_intercept and m.k == m.n_classes:
            icpt = icpt - icpt.mean()
        if m.multiclass:
            return coef, icpt
        return coef[0], float(icpt[0])

    # ------------------------------------------------------------------ the intercept-only fit
    def _null_fit(self):
        if self._null is None:
            theta = self.pb.found.sums.initial(self.model)
            theta, _, _, g, _ = self._minimise(theta, np.inf, 0.0, 1e-13 * max(self.total_weight, 1.0), 200)
            coef_grad = g.reshape(self.model.k, self.model.p1)[:, :self.model.d]
            self._null = (theta, coef_grad if self.model.multiclass else coef_grad[0])
        return self._null

    @property
    def null_beta(self) -> np.ndarray:
        return np.zeros((self.model.k, self.model.d)) if self.model.multiclass else np.zeros(self.model.d)

    @property
    def null_intercept(self):
        return self.unpack(self._null_fit()[0])[1]

    @property
    def null_grad(self) -> np.ndarray:
        return self._null_fit()[1]

    @property
    def scale(self) -> float:
        if self._scale is None:
            self._scale = float(np.abs(self.null_grad).max()) if self.model.d else 0.0
        return self._scale

    # ------------------------------------------------------------------ solving
    def solve(self, l1, l2, beta, intercept, ws, tol, max_iter):
        from .penalized_core import SolveInfo

        tol_abs = tol * max(self.scale, np.finfo(float).tiny)
        theta, n_iter, converged, g, worst = self._minimise(self.pack(beta, intercept), l1, l2, tol_abs, max_iter)
        coef_grad = g.reshape(self.model.k, self.model.p1)[:, :self.model.d]
        beta, b = self.unpack(theta)
        return beta, b, SolveInfo(n_iter, 0, converged, worst, coef_grad if self.model.multiclass else coef_grad[0])

    def _minimise(self, theta, l1, l2, tol_abs, max_iter):
        """Proximal Newton from ``theta`` (see the module docstring): ``(theta, sweeps, converged, grad, violation)``."""
        mask, scale = self.mask, max(self._scale if self._scale is not None else tol_abs, 1e-300)
        lam = 0.0 if not np.isfinite(l1) else l1
        total = outer = 0
        while True:
            c = self.objective.evaluate(_tensor(theta), 2)
            self.passes += 1
            f, g, H = float(c.value), c.grad.cpu().numpy(), c.hess.cpu().numpy()
            if not np.isfinite(l1):  # the intercept-only fit: coefficients held at 0
                worst = float(np.abs(g[~mask]).max()) if (~mask).any() else 0.0
            else:
                worst = _violation(g, theta, mask, l1, l2)
            if worst <= tol_abs:
                return theta, total, True, g, worst
            if outer >= MAX_OUTER or total >= max_iter:
                return theta, total, False, g, worst
            inner_tol = max(0.5 * tol_abs, min(0.1 * worst, worst * worst / scale))
            if np.isfinite(l1):
                z, sweeps = model_step(g, H, theta, mask, l1, l2, inner_tol, max(max_iter - total, 1))
            else:
                z, sweeps = _intercept_step(g, H, theta, mask), 1
            total += sweeps
            outer += 1
            step = z - theta
            F0 = f + _penalty(theta, mask, lam, l2)
            decrease = float(g @ step) + _penalty(z, mask, lam, l2) - _penalty(theta, mask, lam, l2)
            # where the predicted decrease is below the resolution of F, F cannot judge the step: the full
            # step is kept when F does not rise beyond that resolution (the next KKT check judges it)
            resolution = RESOLUTION * max(1.0, abs(F0))
            t = 1.0
            while True:
                trial = theta + t * step
                F = float(self.objective.value(_tensor(trial))) + _penalty(trial, mask, lam, l2)
                self.passes += 1
                if F <= F0 + ARMIJO * t * min(decrease, 0.0) or t < 1e-10:
                    break
                if t == 1.0 and -decrease <= resolution and F <= F0 + resolution:
                    break
                t *= 0.5
            if t < 1e-10 and not F <= F0:
                return theta, total, False, g, worst
            theta = trial


def _intercept_step(g: np.ndarray, H: np.ndarray, theta: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Newton on the unpenalised coordinates only (the others held)."""
    U = np.flatnonzero(~mask)
    z = theta.copy()
    if U.size:
        z[U] = theta[U] - np.linalg.pinv(H[np.ix_(U, U)], hermitian=True) @ g[U]
    return z


def fit_penalized_source(pb, l1: float, l2: float, *, penalize_intercept: bool = False, tol: float = 1e-10,
                         max_iter: int = 10_000):
    """The penalised MAP of a problem over a source (see the module docstring).

    Returns ``(coef, intercept, n_iter, converged, message)`` as the in-memory ``l1_fit``: ``coef``
    ``(d,)`` and a float intercept, or ``(K, d)`` and ``K`` intercepts (centred to sum to zero when
    they are not penalised) for the softmax.
    """
    solver = SourcePenalizedSolver(pb, penalize_intercept)
    theta, scale = _sample_start(pb, l1, l2, solver.mask)
    tol_abs = tol * max(scale, np.finfo(float).tiny)
    solver._scale = scale  # the sample's gradient scale stands in for the intercept-only fit's
    theta, n_iter, converged, _, worst = solver._minimise(theta, l1, l2, tol_abs, max_iter)
    coef, icpt = solver.unpack(theta)
    if converged:
        message = (f"converged: KKT violation {worst / max(scale, 1e-300):.2e} <= tol {tol:g} (relative to the gradient "
                   f"scale {scale:.4g}), {solver.passes} passes over the data")
    else:
        message = (f"stopped with KKT violation {worst / max(scale, 1e-300):.2e} > tol {tol:g} after {solver.passes} "
                   "passes; increase max_iter or standardise the columns")
    return coef, icpt, n_iter, converged, message


def _tensor(theta: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(theta))


def _sample_start(pb, l1: float, l2: float, mask: np.ndarray) -> tuple[np.ndarray, float]:
    """The penalised solution on the sample (weights scaled to the data's total) and the gradient scale."""
    from .penalized import make_solver
    from .penalized_core import strong_set

    sample = pb.sample_problem()
    solver = make_solver(sample)
    beta0 = solver.null_beta.copy()
    ws = strong_set(solver.null_grad, beta0, l1, solver.scale)
    beta, b, _ = solver.solve(l1, l2, beta0, solver.null_intercept, ws, 1e-8, 10_000)
    m = pb.model
    rows = np.zeros((m.k, m.p1))
    rows[:, :m.d] = np.asarray(beta).reshape(m.k, m.d)
    if m.intercept:
        rows[:, m.d] = np.atleast_1d(b)
    return rows.reshape(-1), float(solver.scale)

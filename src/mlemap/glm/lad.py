"""Laplace regression = least absolute deviations (median regression), solved exactly as a linear program.

Maximum likelihood under :math:`y_i \\mid x_i \\sim \\text{Laplace}(\\tilde x_i^\\top\\beta, b)`:

.. math:: \\hat\\beta = \\arg\\min_\\beta \\sum_i w_i |y_i - o_i - \\tilde x_i^\\top\\beta|, \\qquad \\hat b = \\frac{1}{W}\\sum_i w_i |r_i|.

The primal LP is :math:`\\min \\sum_i w_i (u_i + v_i)` subject to :math:`\\tilde X\\beta + u - v = y - o`,
:math:`u, v \\ge 0`. Its dual has one variable per row and one equality per coefficient,

.. math:: \\max_a\\; (y - o)^\\top a \\quad \\text{s.t.}\\quad \\tilde X^\\top a = 0,\\; -w \\le a \\le w,

which HiGHS solves; :math:`\\hat\\beta` is read from the multipliers of its equality constraints.
The program is equilibrated first: each column of :math:`\\tilde X` is divided by its largest
absolute value :math:`c_j` and the response by its own, so that a column on a scale of
:math:`10^{-8}` is not lost in the solver's tolerances (the coefficients are mapped back by
:math:`\\beta_j = \\beta^s_j \\cdot s_y / c_j`); the duality gap between the primal sum of absolute
deviations and the dual objective certifies the optimum.
The solution is a vertex: with continuous data it interpolates ``p`` observations. When the
minimiser is not unique (e.g. an even number of points for the median) one of the minimisers is
returned.

Standard errors. The Laplace log-likelihood is not twice differentiable in :math:`\\beta`, so there
is no observed information. The LAD estimator is asymptotically normal (Bassett and Koenker, 1978):

.. math:: \\hat\\beta \\approx \\mathcal N\\Big(\\beta,\\; \\frac{1}{4 f(0)^2}\\,(\\tilde X^\\top W \\tilde X)^{-1}\\Big)

with :math:`f` the density of the errors at their median. For Laplace errors
:math:`f(0) = 1/(2b)`, so :math:`1/(4f(0)^2) = b^2` and the covariance is
:math:`\\hat b^2 (\\tilde X^\\top W \\tilde X)^{-1}` -- the inverse of the Fisher information
:math:`\\tilde X^\\top W \\tilde X / b^2` (the variance of the score :math:`\\operatorname{sign}(r_i)\\tilde x_i / b`).
This is ``cov_type="observed"`` of :class:`~mlemap.LaplaceRegression`; ``cov_type="bootstrap"``
resamples rows instead and does not assume Laplace errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from ..errors import EstimationError


@dataclass
class LadFit:
    coef: np.ndarray
    intercept: float
    sad: float  # weighted sum of absolute deviations
    n_iter: int
    message: str


def solve_lad(X: np.ndarray, y: np.ndarray, *, sample_weight=None, offset=None, fit_intercept: bool = True) -> LadFit:
    n, d = X.shape
    target = y if offset is None else y - offset
    w = np.ones(n) if sample_weight is None else sample_weight
    A = np.hstack([X, np.ones((n, 1))]) if fit_intercept else X
    p = A.shape[1]
    col = np.abs(A).max(axis=0)
    col[col == 0] = 1.0
    scale_y = float(np.abs(target).max()) or 1.0
    As, ys = A / col, target / scale_y
    res = linprog(-ys, A_eq=sparse.csr_matrix(As.T), b_eq=np.zeros(p), bounds=np.column_stack([-w, w]),
                  method="highs")
    if res.status != 0 or res.x is None:
        raise EstimationError(f"The least-absolute-deviations linear program failed: {res.message}")
    marg = np.asarray(res.eqlin.marginals) * scale_y / col
    best = None
    for beta in (marg, -marg):
        sad = float(np.sum(w * np.abs(target - A @ beta)))
        if best is None or sad < best[1]:
            best = (beta, sad)
    beta, sad = best
    dual = float(target @ res.x)  # the dual objective: equals the minimum at the optimum
    if sad - dual > 1e-7 * sad + 1e-10 * float(np.sum(w * np.abs(target))):
        raise EstimationError(
            f"The least-absolute-deviations linear program stopped with a duality gap: sum of absolute deviations "
            f"{sad:.10g} against the dual bound {dual:.10g}. Rescale the columns of X to comparable ranges."
        )
    return LadFit(beta[:d].copy(), float(beta[d]) if fit_intercept else 0.0, sad, int(res.nit), res.message)

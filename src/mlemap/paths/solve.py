"""The path loop: warm starts and strong-rule screening over a decreasing grid of penalties.

For :math:`\\lambda^{(1)} > \\lambda^{(2)} > \\dots` each solve starts from the previous solution and
works on the features kept by the sequential strong rule
:math:`|\\nabla_j f(\\hat\\beta^{(k-1)})| \\ge 2\\lambda_1^{(k)} - \\lambda_1^{(k-1)}` plus the non-zeros;
the solver then checks the KKT conditions on every discarded feature and brings back any that
violate them, so the path equals independent (cold) solves at each penalty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..glm.penalized_core import strong_set


@dataclass
class PathSolution:
    coefs: np.ndarray  # (n_alphas, *coef_shape)
    intercepts: np.ndarray  # (n_alphas, *intercept_shape)
    n_iter: np.ndarray
    converged: np.ndarray
    kkt: np.ndarray  # relative KKT violation per alpha


def solve_path(solver, l1s: np.ndarray, l2s: np.ndarray, tol: float, max_iter: int) -> PathSolution:
    beta = solver.null_beta.copy()
    b = np.array(solver.null_intercept, dtype=np.float64)
    grad = solver.null_grad
    l1_prev = solver.scale
    m = len(l1s)
    coefs = np.zeros((m, *beta.shape))
    intercepts = np.zeros((m, *b.shape))
    n_iter = np.zeros(m, dtype=np.int64)
    converged = np.zeros(m, dtype=bool)
    kkt = np.zeros(m)
    d = solver.n_features
    scale = solver.scale if solver.scale > 0 else 1.0
    for k, (l1, l2) in enumerate(zip(l1s, l2s)):
        ws = strong_set(grad, beta, l1, l1_prev) if l1 > 0 else np.arange(d, dtype=np.int64)
        beta, b, info = solver.solve(float(l1), float(l2), beta, b, ws, tol, max_iter)
        b = np.array(b, dtype=np.float64)
        coefs[k], intercepts[k] = beta, b
        n_iter[k], converged[k], kkt[k] = info.n_iter, info.converged, info.kkt / scale
        grad, l1_prev = info.grad, l1
    return PathSolution(coefs, intercepts, n_iter, converged, kkt)

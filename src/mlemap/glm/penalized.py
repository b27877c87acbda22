"""MAP estimation under Laplace and Gaussian priors: the L1/elastic-net-penalised GLM.

:func:`fit_penalized` minimises

.. math:: \\sum_i w_i\\, \\text{nll}(y_i \\mid \\eta_i) + \\lambda_1 \\lVert\\beta\\rVert_1 + \\tfrac{\\lambda_2}{2} \\lVert\\beta\\rVert_2^2,
   \\qquad \\eta = X\\beta + b + \\text{offset},

with ``nll`` the family's per-observation negative log-likelihood at unit dispersion and an
unpenalised intercept ``b``. :class:`~mlemap.priors.penalties.Penalty` converts scikit-learn's
``alpha``/``l1_ratio`` to :math:`(\\lambda_1, \\lambda_2)`. The solver depends on the family:

==============================  ==============================================================
gaussian                        coordinate descent (Gram variant when ``n > d``) — :mod:`.cd_gaussian`
bernoulli, poisson, categorical proximal Newton: IRLS quadratic model, inner coordinate descent,
                                line search on the true objective — :mod:`.prox_newton`
laplace                         exact linear program (HiGHS), L1 only — :mod:`.lad_lasso`
==============================  ==============================================================

Coordinate descent stops on the KKT conditions (see :mod:`.penalized_core`) with the violation at
most ``tol`` times the gradient scale :math:`\\max_j |\\nabla_j f|` at the intercept-only fit (the
smallest :math:`\\lambda_1` with all coefficients zero), and gives exact zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConvergenceWarning, DataError, ShapeError, warn
from .cd_gaussian import GaussianCDSolver
from .family import resolve_glm_family
from .lad_lasso import LadLPSolver
from .penalized_core import (
    check_design,
    check_offset,
    check_positive_int,
    check_response,
    check_strength,
    check_tol,
    check_weights,
    family_threads,
    strong_set,
)
from .prox_newton import MultinomialProxNewtonSolver, ProxNewtonSolver


@dataclass
class PenalizedFit:
    """Result of :func:`fit_penalized`.

    ``coef`` has shape ``(d,)`` (``(K, d)`` for the categorical family, every class its own row) and
    ``intercept`` is a float (an array of ``K`` values, centred to sum to zero, for the categorical
    family). ``n_iter`` counts coordinate-descent sweeps (simplex iterations for the laplace LP),
    ``n_outer`` proximal-Newton steps. ``kkt_violation`` is the largest violation of the optimality
    conditions relative to the gradient scale; ``objective`` is the minimised value.
    """

    coef: np.ndarray
    intercept: float | np.ndarray
    n_iter: int
    converged: bool
    message: str
    objective: float = float("nan")
    kkt_violation: float = float("nan")
    n_outer: int = 0
    l1: float = 0.0
    l2: float = 0.0
    family: str = ""


def n_classes_of(y: np.ndarray) -> int:
    K = int(y.max()) + 1
    if K < 2:
        raise DataError(
            "The 'y' argument of a categorical model holds a single class (label 0); at least two classes "
            "are needed."
        )
    return K


def make_solver(problem, *, gaussian_method: str = "auto"):
    """Prepare the solver state for a :class:`~mlemap.core.regression.RegressionProblem` (reused across the
    penalties of a path): the structure-exploiting solver its family registers."""
    X, y, w, offset = problem.X, np.asarray(problem.y), problem.weight, problem.offset
    intercept, family = problem.model.intercept, problem.family
    if family.name == "gaussian":
        return GaussianCDSolver(X, y, w, offset, intercept, gaussian_method)
    if family.name == "laplace":
        return LadLPSolver(X, y, w, offset, intercept)
    if family.multiclass:
        return MultinomialProxNewtonSolver(X, y, w, offset, intercept, family, problem.n_rows)
    return ProxNewtonSolver(X, y, w, offset, intercept, family)


def prepare(X, y, family, sample_weight, offset, fit_intercept: bool = True, n_classes: int | None = None):
    """The checked :class:`~mlemap.core.regression.RegressionProblem` of the penalised solvers and the path."""
    from ..core.regression import RegressionProblem

    family = resolve_glm_family(family)
    X = check_design(X)
    n = X.shape[0]
    y = check_response(y, n, family)
    w = check_weights(sample_weight, n)
    K = (n_classes or n_classes_of(y)) if family.multiclass else None
    offset = check_offset(offset, n, K)
    return RegressionProblem(family, X, y, weight=w, offset=offset, intercept=bool(fit_intercept), n_classes=K)


def linear_predictor(X, coef, intercept, offset):
    eta = X @ (coef.T if coef.ndim == 2 else coef) + intercept
    if offset is not None:
        eta = eta + (offset[:, None] if (coef.ndim == 2 and offset.ndim == 1) else offset)
    return eta


def objective(family, X, y, w, offset, coef, intercept, l1, l2) -> float:
    eta = linear_predictor(X, coef, intercept, offset)
    with torch.no_grad(), family_threads(len(y)):
        nll = family.nll(torch.from_numpy(y), torch.from_numpy(np.ascontiguousarray(eta))).numpy()
    loss = float(nll.sum() if w is None else (w * nll).sum())
    return loss + l1 * float(np.abs(coef).sum()) + 0.5 * l2 * float((coef * coef).sum())


def fit_penalized(
    X,
    y,
    family,
    l1,
    l2,
    *,
    sample_weight=None,
    offset=None,
    fit_intercept=True,
    coef_init=None,
    intercept_init=None,
    tol=1e-10,
    max_iter=10_000,
) -> PenalizedFit:
    """Minimise ``sum_i w_i nll(y_i, eta_i) + l1 ||beta||_1 + (l2 / 2) ||beta||_2^2`` (see the module docstring).

    Parameters
    ----------
    X : (n, d) array-like (NumPy, torch, pandas); y : (n,) responses (labels ``0..K-1`` for categorical).
    family : a :class:`~mlemap.glm.family.GLMFamily` instance or its name.
    l1, l2 : the penalty weights :math:`\\lambda_1, \\lambda_2 \\ge 0` (``Penalty.weights`` gives them
        from scikit-learn's ``alpha``).
    sample_weight, offset : optional, one per observation (offset ``(n, K)`` allowed for categorical).
    coef_init, intercept_init : warm start.
    tol : KKT tolerance relative to the gradient scale; max_iter : coordinate-descent sweeps in total.
    """
    problem = prepare(X, y, family, sample_weight, offset, bool(fit_intercept))
    family, X, y, w, offset = problem.family, problem.X, problem.y, problem.weight, problem.offset
    l1, l2 = check_strength(l1, "l1"), check_strength(l2, "l2")
    tol = check_tol(tol, "fit_penalized")
    max_iter = check_positive_int(max_iter, "max_iter", "fit_penalized")
    solver = make_solver(problem)
    shape = solver.null_beta.shape
    if coef_init is None:
        beta0 = solver.null_beta.copy()
        ws = strong_set(solver.null_grad, beta0, l1, solver.scale)
    else:
        beta0 = np.array(coef_init, dtype=np.float64)
        if beta0.shape != shape:
            raise ShapeError(f"The 'coef_init' argument must have shape {shape}. Got shape {beta0.shape} instead.")
        ws = np.arange(X.shape[1], dtype=np.int64)
    b0 = solver.null_intercept if intercept_init is None or not fit_intercept else intercept_init
    beta, b, info = solver.solve(l1, l2, beta0, b0, ws, tol, max_iter)
    rel = info.kkt / solver.scale if solver.scale > 0 else info.kkt
    if info.message:
        message = info.message
    elif info.converged:
        message = f"converged: KKT violation {rel:.2e} <= tol {tol:g} (relative to the gradient scale {solver.scale:.4g})"
    else:
        message = (
            f"stopped after {info.n_iter} coordinate-descent sweeps ({info.n_outer} Newton steps) with KKT violation "
            f"{rel:.2e} > tol {tol:g}. Increase max_iter, standardise the columns of X, or loosen tol."
        )
        warn(f"fit_penalized ({family.name}, l1={l1:g}, l2={l2:g}) {message}", ConvergenceWarning)
    return PenalizedFit(
        coef=beta,
        intercept=b if solver.n_classes else float(b),
        n_iter=int(info.n_iter),
        converged=bool(info.converged),
        message=message,
        objective=objective(family, X, y, w, offset, beta, b, l1, l2),
        kkt_violation=float(rel),
        n_outer=int(info.n_outer),
        l1=l1,
        l2=l2,
        family=family.name,
    )

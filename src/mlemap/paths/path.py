"""``regularization_path``: MAP estimates over a decreasing grid of penalty strengths.

For each ``alpha`` of the grid the path minimises

.. math:: \\sum_i w_i\\,\\text{nll}(y_i \\mid x_i^\\top\\beta + b + o_i) + \\lambda_1(\\alpha)\\lVert\\beta\\rVert_1
   + \\tfrac{\\lambda_2(\\alpha)}{2}\\lVert\\beta\\rVert_2^2

with :math:`(\\lambda_1, \\lambda_2)` from scikit-learn's ``alpha`` for the family (see
:mod:`mlemap.paths.grid`), using the :mod:`mlemap.glm.penalized` solvers with warm starts and
strong-rule screening (:mod:`mlemap.paths.solve`).
"""

from __future__ import annotations

import numpy as np

from ..core.sources_input import is_source_input
from ..errors import ConvergenceWarning, warn
from ..glm.penalized import make_solver, prepare
from ..glm.penalized_core import check_positive_int, check_tol
from . import grid
from .checks import check_grid_exists, check_not_degenerate, warn_unpenalised_separation
from .result import RegularizationPath
from .solve import solve_path


def regularization_path(
    X,
    y=None,
    family="gaussian",
    penalty="l1",
    *,
    l1_ratio=None,
    n_alphas=100,
    alphas=None,
    eps=1e-3,
    fit_intercept=True,
    sample_weight=None,
    offset=None,
    tol=1e-10,
    max_iter=10_000,
) -> RegularizationPath:
    """Fit the penalised model at every ``alpha`` of a grid, largest first.

    Parameters
    ----------
    X : (n, d) design; y : (n,) response (labels ``0..K-1`` for ``family="categorical"``).
    family : 'gaussian', 'bernoulli', 'poisson', 'categorical' or 'laplace' (or a GLMFamily).
    penalty : 'l1' (lasso), 'elastic_net' or 'l2' (ridge); ``l1_ratio`` mixes them for 'elastic_net'
        (default 0.5) and is fixed at 1 and 0 for the others.
    n_alphas, eps : size of the default grid, from ``alpha_max`` (all coefficients zero) down to
        ``eps * alpha_max`` on a log scale. ``alphas`` replaces the grid (sorted decreasing).
    fit_intercept, sample_weight, offset : as in :func:`~mlemap.glm.penalized.fit_penalized`.
    tol, max_iter : per-alpha KKT tolerance (relative to ``alpha_max``'s gradient scale) and
        coordinate-descent sweeps.

    Returns
    -------
    RegularizationPath with ``alphas`` (decreasing), ``coefs`` of shape ``(n_features, n_alphas)``
    (``(n_classes, n_features, n_alphas)`` for categorical) as ``sklearn.linear_model.lasso_path``,
    ``intercepts``, ``loglik``, ``nnz``, ``n_iter``, and ``select``, ``plot``, ``summary``.
    """
    name, ratio = grid.resolve_penalty(penalty, l1_ratio)
    if is_source_input(X):
        problem, solver = source_solver(X, y, family, sample_weight, offset, bool(fit_intercept))
        family, data, feature_names = problem.family, problem, problem.features
        names = list(feature_names)
        grid.check_family_penalty(family.name, ratio)
    else:
        columns = getattr(X, "columns", None)
        feature_names = [str(c) for c in columns] if columns is not None else None
        problem = prepare(X, y, family, sample_weight, offset, bool(fit_intercept))
        family, X, y, w, offset = problem.family, problem.X, problem.y, problem.weight, problem.offset
        names = feature_names or [f"x{j}" for j in range(X.shape[1])]
        check_not_degenerate(X, np.asarray(y), w, family.name, bool(fit_intercept), names)
        data = (X, y, w, offset)
        grid.check_family_penalty(family.name, ratio)
        solver = make_solver(problem)
    tol = check_tol(tol, grid.OWNER)
    max_iter = check_positive_int(max_iter, "max_iter", grid.OWNER)
    c1, c2 = grid.penalty_factors(name, ratio, family.name, solver.total_weight)
    a_max = grid.alpha_max(solver.scale, name, ratio, c1, c2)
    if alphas is None:
        check_grid_exists(a_max)
        n_alphas = grid.check_n_alphas(n_alphas)
        alpha_grid = grid.default_grid(a_max, n_alphas, grid.check_eps(eps))
    else:
        alpha_grid = grid.check_alphas(alphas)
    solution = solve_path(solver, c1 * alpha_grid, c2 * alpha_grid, tol, max_iter)
    in_memory = not is_source_input(X)  # over a source, alpha = 0 is diagnosed by the regression's own route
    if in_memory and warn_unpenalised_separation(X, np.asarray(y), w, family, bool(fit_intercept), alpha_grid,
                                                 names) is not None:
        solution.converged[alpha_grid == 0] = False  # no maximum there: said by the warning above
        unconverged = ~solution.converged & (alpha_grid > 0)
    else:
        unconverged = ~solution.converged
    if unconverged.any():
        bad = alpha_grid[unconverged]
        warn(
            f"regularization_path did not converge at {bad.size} of {alpha_grid.size} alphas (the first at alpha="
            f"{bad[0]:.4g}, KKT violation {solution.kkt[unconverged][0]:.2e} > tol {tol:g}). Increase "
            "max_iter, standardise the columns of X, or stop the grid at a larger eps.",
            ConvergenceWarning,
        )
    result = RegularizationPath(
        family=family,
        penalty=name,
        l1_ratio=ratio,
        alphas=alpha_grid,
        alpha_max=a_max,
        solution=solution,
        data=data,
        fit_intercept=bool(fit_intercept),
        settings={"tol": tol, "max_iter": max_iter},
    )
    result.feature_names = names
    return result


class _PathOwner:
    """What :func:`~mlemap.models.sources.source_problem` reads of its caller, for a path."""

    def __init__(self, fit_intercept: bool):
        self.fit_intercept = fit_intercept

    def _owner(self) -> str:
        return grid.OWNER


def source_solver(X, y, family, sample_weight, offset, fit_intercept: bool):
    """``(problem, solver)`` of a path over a source: the Gaussian solver from the survey's factor, the
    others by proximal Newton on the aggregated Gram matrix, a pass per step
    (:mod:`mlemap.glm.penalized_gram`)."""
    from ..errors import MethodError
    from ..glm.cd_gaussian import GaussianCDSolver
    from ..glm.family import resolve_glm_family
    from ..glm.penalized_gram import SourcePenalizedSolver
    from ..models.sources import source_problem

    family = resolve_glm_family(family)
    if family.name == "laplace":
        raise MethodError("A laplace-family path solves linear programs on every row at once; fit it in memory.")
    owner = _PathOwner(fit_intercept)
    problem = source_problem(owner, X, y, sample_weight, offset, family=family,
                             labels=family.name in ("bernoulli", "categorical"))
    if family.name == "gaussian":
        return problem, GaussianCDSolver.from_factor(problem.found.r, problem.total_weight, fit_intercept)
    return problem, SourcePenalizedSolver(problem)

"""The one optimiser entry point: :func:`minimize` an objective, :func:`solve` a problem.

Smooth solvers are flat functions registered by name (:func:`register_solver`); each takes an
objective with ``value``, ``value_and_grad`` and ``value_grad_hess`` (an
:class:`~mlemap.core.objective.Objective`), a starting vector and options, and returns an
:class:`~mlemap.optim.result.OptimizeResult`:

* ``"newton"``: trust-region Newton with the exact Hessian and parameter scaling (the default);
* ``"lbfgs"``: limited-memory BFGS, for many parameters (the exact Hessian is computed once at the
  end for the standard errors);
* ``"powell"``: derivative-free, for likelihoods with kinks.

:func:`solve` runs a :class:`~mlemap.core.problem.Problem`: on large data it first solves the same
problem on a random subsample of the rows (weights scaled up), so that the full data only pays for
the last, quadratically convergent steps, then minimises the full objective from there.
The full-data steps then reuse the Hessian while the Newton decrement falls fourfold per step
(``hessian="lazy"``); convergence is always judged on the full problem's exact derivatives.

Structure-exploiting solvers (least squares by QR, coordinate descent on a Gram matrix, the LAD
linear program) are chosen by the front ends for the problems they apply to.
"""

from __future__ import annotations

from typing import Callable

import torch

SOLVERS: dict[str, Callable] = {}

#: problems with more rows than this are warm-started on a subsample of ``SUBSAMPLE_SIZE`` rows
SUBSAMPLE_ABOVE = 200_000
SUBSAMPLE_SIZE = 50_000
#: above this many coordinates "auto" chooses L-BFGS
NEWTON_MAX_PARAMETERS = 1000


def register_solver(name: str):
    """Decorator: register ``fn(objective, x0, *, max_iter, callback, **options)`` under ``name``."""

    def decorate(fn):
        SOLVERS[name] = fn
        return fn

    return decorate


def solver_names() -> list[str]:
    return sorted(SOLVERS)


def minimize(objective, x0: torch.Tensor, *, solver: str = "newton", max_iter: int = 200, callback=None, **options):
    """Minimise ``objective`` from ``x0`` with the registered ``solver``."""
    if solver == "auto":
        solver = "newton" if x0.numel() <= NEWTON_MAX_PARAMETERS else "lbfgs"
    try:
        fn = SOLVERS[solver]
    except KeyError:
        raise ValueError(f"unknown solver {solver!r}; registered: {', '.join(solver_names())}") from None
    return fn(objective, x0, max_iter=max_iter, callback=callback, **options)


def solve(problem, x0: torch.Tensor | None = None, *, solver: str = "auto", max_iter: int = 200, callback=None,
          warm_start: bool = True, **options):
    """Minimise a problem's objective, warm-started on a subsample of the rows when they are many;
    from ``x0``, or from the problem's own ``initial()`` where it has one."""
    x = problem.initial() if x0 is None else x0
    objective = problem.objective()
    newton = solver == "newton" or (solver == "auto" and x.numel() <= NEWTON_MAX_PARAMETERS)
    in_memory = getattr(problem, "in_memory", True)
    # rows read in passes are warm-started on their sample whatever their number: a pass costs a read
    if warm_start and newton and (problem.n_obs > SUBSAMPLE_ABOVE or not in_memory):
        sub = problem.subsample(SUBSAMPLE_SIZE)
        # the sample's optimum only needs to be near the full one, which is tens of the full data's
        # standard errors away from it: a decrement of 1e-7 |f| (a fraction of one), the gradient to
        # match, and no polishing
        warm = minimize(sub.objective(), x, solver="newton", max_iter=max_iter,
                        **{**options, "ftol": 1e-7, "gtol": 1e-3, "polish": False})
        if warm.converged:
            # a few steps from here: in memory, keep the subsample's Hessian while the steps converge
            # quadratically; a pass over a source brings the exact Hessian with the gradient anyway
            lazy = {"hessian": "lazy", "hessian0": warm.hess} if in_memory else {}
            result = minimize(objective, warm.x, solver="newton", max_iter=max_iter, callback=callback,
                              **{**lazy, **options})
            if result.n_iter > 0 or result.converged:
                return result
    return minimize(objective, x, solver=solver, max_iter=max_iter, callback=callback, **options)


# ---------------------------------------------------------------------- the registered smooth solvers
@register_solver("newton")
def _newton(objective, x0, *, max_iter, callback=None, **options):
    from ..optim import trust_region_newton

    return trust_region_newton(objective.value_grad_hess, objective.value, x0, fg=objective.value_and_grad,
                               max_iter=max_iter, callback=callback, **options)


@register_solver("lbfgs")
def _lbfgs(objective, x0, *, max_iter, callback=None, **options):
    from ..optim import lbfgs

    options.pop("ftol", None)
    return lbfgs(objective.value_and_grad, x0, max_iter=max(max_iter, 1000), **options)


@register_solver("powell")
def _powell(objective, x0, *, max_iter, callback=None, **options):
    from ..optim import powell

    return powell(objective.value, x0, max_iter=max_iter)

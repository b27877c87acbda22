"""The numerical route: minimise the negative log-likelihood (minus log-prior) over unconstrained space.

0. Location-scale and scale families without priors are fitted on standardised data and mapped
   back (:mod:`mlemap.standardize`), so that the fit does not depend on the units of the data.
1. Starting values from the family (method of moments or robust quantiles; on a random subsample
   of 50,000 rows when the sample is larger), overridden by ``init``, moved strictly inside.
2. Parameters whose MLE is a sample extreme (the uniform's bounds, the Pareto scale) and that have
   no prior are set to that extreme; the likelihood is monotone in them.
3. On large samples without sufficient statistics, Newton runs first on the subsample (weights
   scaled up), so that the full data only needs the last two or three quadratically convergent steps.
4. Trust-region Newton with the exact Hessian and scaled parameters (few parameters), L-BFGS
   (many), or Powell's derivative-free method for likelihoods with kinks (Laplace); then
   coordinates that ran to the boundary are snapped to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import ConvergenceWarning, EstimationError, MethodError, warn
from ..families.base import clamp_interior
from ..families.transforms import finite_bounds, is_positive_definite, is_simplex
from ..inference.boundary import RUNAWAY, no_maximum_message, runs_to_infinity, snap_runaways
from ..optim import OptimizeResult
from .optimize import minimize
from .standardize import Rescaling, standardisation

SUBSAMPLE_ABOVE = 200_000
SUBSAMPLE_SIZE = 50_000
NEWTON_MAX_PARAMETERS = 200


@dataclass
class NumericalOutcome:
    params: dict[str, torch.Tensor]
    optimum: OptimizeResult
    names: list[str]
    infinite: dict[str, str]
    extremes: dict[str, torch.Tensor]


def starting_values(problem, names: list[str], init: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    fam = problem.family
    feats, w, fixed = problem.start_sample(SUBSAMPLE_SIZE, SUBSAMPLE_ABOVE)
    start = fam.initial(feats, w, {**fixed, **init}) if not init or set(names) - set(init) else {}
    start = {**start, **init}
    missing = [n for n in names if n not in start]
    if missing:
        raise EstimationError(f"No starting value for {missing}; pass init={{...}} for them.")
    out = {}
    for n in names:
        v = torch.as_tensor(start[n], dtype=problem.dtype, device=problem.device).reshape(problem.shapes[n])
        c = problem.constraint(n)
        if is_simplex(c):
            v = (v.clamp_min(0) + 1e-3 / v.numel())
            v = v / v.sum()
        elif not is_positive_definite(c) and n not in init:
            lo, hi = finite_bounds(c)
            v = clamp_interior(v, lo, hi, 1e-3)
        out[n] = v
    return out


def data_extremes(problem) -> dict[str, torch.Tensor]:
    """Parameters whose MLE is a sample extreme, when they are free and have no prior."""
    out = {}
    for name, side in problem.family.bounded_by_data.items():
        if name in problem.free and name not in problem.priors:
            out[name] = problem.ctx.min if side == "min" else problem.ctx.max
    return out


def solve_numerically(problem, init: dict[str, torch.Tensor], *, max_iter: int = 200, solver: str = "auto") -> NumericalOutcome:
    if solver == "auto" and not problem.priors and not init:
        fast = _fast_path(problem, max_iter)  # the profile solvers are unit-free by construction
        if fast is not None:
            return fast
    found = standardisation(problem, SUBSAMPLE_SIZE, SUBSAMPLE_ABOVE)
    if found is None:
        return _solve(problem, init, max_iter, solver)
    standard, rescaling = found
    outcome = _solve(standard, rescaling.to_standard(init), max_iter, solver)
    return _map_back(outcome, problem, standard, rescaling)


def _map_back(outcome: NumericalOutcome, problem, standard, rescaling: Rescaling) -> NumericalOutcome:
    """The outcome in the original units: parameters, and the optimiser's point, gradient and Hessian
    in the original unconstrained coordinates (:math:`g = J^{-\\top} g'`, :math:`H = J^{-\\top} H' J^{-1}`)."""
    res = outcome.optimum
    names = outcome.names
    if names and res.x.numel() == standard.layout(names).size:
        original, scaled = problem.layout(names), standard.layout(names)

        def to_original(u):
            return original.pack(rescaling.from_standard(scaled.unpack(u))).to(u.dtype)

        J = torch.autograd.functional.jacobian(to_original, res.x)
        res.x = to_original(res.x)
        if res.grad is not None:
            res.grad = torch.linalg.solve(J.T, res.grad)
        if res.hess is not None:
            inv = torch.linalg.inv(J)
            res.hess = inv.T @ res.hess @ inv
        res.fun = res.fun + float(problem.total_weight) * math.log(rescaling.scale)
    params = rescaling.from_standard(outcome.params)
    extremes = rescaling.from_standard(outcome.extremes)
    return NumericalOutcome(params, res, names, outcome.infinite, extremes)


def _fast_path(problem, max_iter: int) -> NumericalOutcome | None:
    fast = _fast_mle(problem, max_iter)
    if fast is None:
        return None
    params, n_iter, converged, *hessian = fast
    names = list(problem.free)
    zero = torch.zeros(0, dtype=problem.dtype)
    x, hess = zero, None
    if hessian:  # the exact Hessian in the unconstrained coordinates: the standard errors reuse it
        x, hess = problem.layout(names).pack(params).to(problem.dtype), hessian[0]
    message = "profile Newton converged" if converged else "profile Newton did not converge"
    result = OptimizeResult(x, math.nan, zero, hess, n_iter, n_iter, converged, message, "profile-newton")
    result.grad = None
    return NumericalOutcome(params, result, names, {}, {})


def _solve(problem, init: dict[str, torch.Tensor], max_iter: int, solver: str) -> NumericalOutcome:
    at_limit = problem.family.limit_estimates(problem)
    extremes = {**data_extremes(problem), **at_limit}
    names = [n for n in problem.free if n not in extremes]
    held_infinite = {n: "infinite" for n in at_limit}
    if not names:
        dummy = OptimizeResult(torch.zeros(0), 0.0, torch.zeros(0), None, 0, 0, True, "closed by the data extremes", "none")
        return NumericalOutcome(dict(extremes), dummy, [], held_infinite, extremes)

    start = starting_values(problem, names, {k: v for k, v in init.items() if k in names})
    problem.family.validate_start(problem.check_features, {**problem.fixed, **extremes, **start}, names)
    objective = problem.objective(names, fixed=extremes)
    layout = objective.model.layout
    u0 = layout.pack(start).to(problem.dtype)
    if not bool(torch.isfinite(objective.value(u0))):
        raise EstimationError(
            f"The objective is not finite at the starting values {_show(start)}. Pass init={{...}} with values at "
            "which every observation has positive density."
        )
    if solver == "auto":
        if not problem.family.smooth:
            solver = "powell"
        else:
            solver = "newton" if layout.size <= NEWTON_MAX_PARAMETERS else "lbfgs"
    u_start = u0
    # data read in passes are warm-started on their sample whatever their size: a pass costs a read
    if solver == "newton" and objective.stats is None and (problem.n_obs > SUBSAMPLE_ABOVE or not problem.in_memory):
        sub = problem.subsample_objective(SUBSAMPLE_SIZE, names, fixed=extremes)
        warm = minimize(sub, u0, solver="newton", max_iter=max_iter, ftol=1e-12, polish=False)
        if warm.converged and bool(torch.isfinite(objective.value(warm.x))):
            u_start = warm.x
    if solver == "newton":
        watch = [n for n in problem.family.limits if n in names and n not in problem.priors]
        stop = (lambda u, f: bool(_beyond_limits(problem, names, layout.unpack(u)))) if watch else None
        result = minimize(objective, u_start, solver="newton", max_iter=max_iter, callback=stop)
    else:
        result = minimize(objective, u_start, solver=solver, max_iter=max_iter)
    if not result.converged:
        diverging = runs_to_infinity(objective.value, layout, u0, result.x)
        if diverging:
            raise EstimationError(no_maximum_message(problem.family.name, diverging, bool(problem.priors)))
    params = layout.unpack(result.x)
    beyond = _beyond_limits(problem, names, params)
    if beyond and len(beyond) < len(names):
        # a parameter ran past the value where the model equals its limit (Student's t -> normal):
        # hold it there and converge the others given it
        held = {n: params[n].detach() for n in beyond}
        rest = [n for n in names if n not in beyond]
        sub_obj = problem.objective(rest, fixed={**extremes, **held})
        sub_u0 = sub_obj.model.layout.pack({n: params[n] for n in rest}).to(problem.dtype)
        sub = minimize(sub_obj, sub_u0, solver="newton", max_iter=max_iter)
        params = {**sub_obj.model.layout.unpack(sub.x), **held}
        sub.message = f"{sub.message}, with {', '.join(beyond)} held at its limit"
        result = sub
    u_final = layout.pack(params).to(problem.dtype)
    curvature = None
    if bool(((u_final - u0).abs() > RUNAWAY).any()):
        hess = result.hess if result.hess is not None and torch.equal(result.x, u_final) else objective.value_grad_hess(u_final)[2]
        curvature = torch.diagonal(hess)
    params, infinite = snap_runaways(layout.slots, u_final, u0, params, curvature, problem.total_weight)
    params = {**params, **extremes}
    return NumericalOutcome(params, result, names, {**infinite, **held_infinite}, extremes)


def _fast_mle(problem, max_iter: int):
    """The family's specialised MLE, or None; data read in passes skip the ones that need every row in memory."""
    try:
        return problem.family.fast_mle(problem, max_iter=max_iter)
    except MethodError:
        if problem.in_memory:
            raise
        return None


def _beyond_limits(problem, names: list[str], params: dict[str, torch.Tensor]) -> list[str]:
    return [
        n
        for n, limit in problem.family.limits.items()
        if n in names and n not in problem.priors and bool((params[n] > limit).all())
    ]


def warn_if_not_converged(problem, outcome: NumericalOutcome) -> str | None:
    res = outcome.optimum
    if res.converged:
        return None
    if res.report is not None and res.report.singular:
        # stationary on a flat ridge (parameters the data do not separate): not a strict minimum, so not
        # converged; the standard errors name the parameters and warn (IdentifiabilityWarning)
        return None
    criteria = ""
    if res.report is not None and res.report.failed:
        criteria = f"Failed: {', '.join(res.report.failed)}; {res.report.advice}. "
    advice = (
        "Try init={...} closer to the answer, a larger max_iter, fixing a parameter you know, or a weakly "
        "informative prior on the parameter that wanders."
    )
    if res.nonfinite_trials > 5:
        advice = (
            f"The line search kept reaching parameter values where the likelihood is zero ({res.nonfinite_trials} "
            "times): the maximum probably sits on a support edge that depends on the data (a non-regular "
            "estimate, such as a location below which no observation can lie). Fix that parameter at its "
            "data bound, or reparametrise. " + advice
        )
    gradient = "" if res.grad_norm is None else f", largest gradient component {res.grad_norm:.3g}"
    message = (
        f"The {res.solver} optimiser did not converge for the '{problem.family.name}' fit ({res.message}; "
        f"{res.n_iter} iterations{gradient}). {criteria}{advice}"
    )
    warn(message, ConvergenceWarning)
    return message


def _show(values: dict[str, torch.Tensor]) -> str:
    return "{" + ", ".join(f"{k}: {v.tolist()}" for k, v in values.items()) + "}"

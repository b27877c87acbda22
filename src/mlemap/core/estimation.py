"""Running a distribution problem: the closed-form, numerical and discrete-prior routes.

The estimator is

.. math:: \\hat\\theta = \\arg\\max_\\theta \\Big[\\sum_i w_i \\log p(x_i \\mid \\theta) + \\sum_j \\log \\pi_j(\\theta_j)\\Big]

with no prior term for a maximum-likelihood fit. :func:`estimate` chooses the route for a validated
problem: a registered closed form (MLEs and conjugate pairs, computed from the sufficient
statistics), the numerical engine (:mod:`mlemap.core.numerical`), or, when a parameter has a
:class:`~mlemap.DiscretePrior`, enumeration of its candidates; it returns the
:class:`~mlemap.core.estimate.Estimate`, which the front ends wrap (``FitResult``) and the inference
layer re-runs (profile likelihoods, bootstrap replicates) without going through them.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Callable

import torch
import torch.distributions as td

from ..closed_form import find_closed_form
from ..closed_form.registry import registered
from ..errors import BoundaryWarning, MethodError, MlemapWarning, warn
from ..families.transforms import is_positive_definite
from ..inference.boundary import on_boundary
from ..inference.covariance import hessian_covariance
from ..priors.discrete import DiscretePrior
from .distribution_problem import DistributionProblem
from .estimate import Convergence, Estimate
from .numerical import solve_numerically, warn_if_not_converged


def estimate(problem: DistributionProblem, *, method: str = "auto", init=None, max_iter: int = 200, solver: str = "auto") -> Estimate:
    """Run the chosen route on a validated problem and return its :class:`Estimate`."""
    init = init or {}
    if any(t.is_discrete for t in problem.priors.values()):
        return _discrete_prior_route(problem, method, init, max_iter, solver)
    prior_types = {t.key: type(t.prior) for t in problem.priors.values()}
    entry = find_closed_form(problem.family, problem.free, prior_types)
    if method == "closed-form" and entry is None:
        raise MethodError(_no_closed_form_message(problem, prior_types))
    if entry is not None and method != "numerical":
        return _closed_form_route(problem, entry)
    return _numerical_route(problem, init, max_iter, solver)


# ---------------------------------------------------------------------- routes
def _closed_form_route(problem: DistributionProblem, entry) -> Estimate:
    solution = entry.solve(problem)
    params = problem.family.canonical({n: solution.params[n] for n in problem.free})
    boundary, held = _boundary(problem, params, dict(solution.boundary))
    notes, warns = _boundary_warnings(problem, boundary)
    return _result(
        problem, params, "closed-form", Convergence(True, 0, "", "closed-form estimate"), boundary, held,
        notes=notes, warns=warns, posterior=solution.posterior, predictive=solution.predictive,
    )


def _numerical_route(problem: DistributionProblem, init, max_iter: int, solver: str) -> Estimate:
    outcome = solve_numerically(problem, init, max_iter=max_iter, solver=solver)
    params = problem.family.canonical(outcome.params)
    reasons = {n: problem.family.boundary_note(n) or "the likelihood keeps increasing towards infinity" for n in outcome.infinite}
    for name, limit in problem.family.limits.items():
        if name in outcome.names and name not in problem.priors and bool((params[name] > limit).all()):
            reasons[name] = problem.family.boundary_note(name) or f"{name} grows without bound"
    boundary, held = _boundary(problem, params, reasons)
    warns = []
    message = warn_if_not_converged(problem, outcome)
    if message:
        warns.append(message)
    notes, bwarns = _boundary_warnings(problem, boundary)
    res = outcome.optimum
    cache = None
    if res.hess is not None and not boundary and not outcome.extremes:
        cache = (outcome.names, res.x, res.hess)
    convergence = Convergence(res.converged, res.n_iter, res.solver, res.message, res.grad_norm,
                              getattr(res, "report", None))
    return _result(problem, params, "numerical", convergence, boundary, held, notes=notes, warns=warns + bwarns,
                   hessian_cache=cache)


def _discrete_prior_route(problem: DistributionProblem, method: str, init, max_iter: int, solver: str) -> Estimate:
    """MAP over the candidates of each discrete prior: :math:`\\arg\\max_i\\, \\ell(v_i) + \\log\\pi_i`.

    With other free parameters, each candidate is scored at their conditional estimate (the profile
    posterior), and the posterior table uses those maximised scores.
    """
    discrete = {b: t for b, t in problem.priors.items() if t.is_discrete}
    bases = list(discrete)
    grids = [range(discrete[b].prior.values.shape[0]) for b in bases]
    combos = list(itertools.product(*grids))
    if len(combos) > 100_000:
        raise MethodError(f"The discrete priors define {len(combos)} candidate combinations; keep it under 100,000.")
    scores, inner_results = [], []
    for combo in combos:
        cand = {b: discrete[b].prior.values[i].to(problem.dtype) for b, i in zip(bases, combo)}
        log_pi = sum(float(torch.log(discrete[b].prior.probs[i])) for b, i in zip(bases, combo))
        sub = problem.with_fixed(cand)
        if sub.free:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MlemapWarning)
                inner = estimate(sub, method=method, init={k: v for k, v in init.items() if k in sub.free}, max_iter=max_iter, solver=solver)
            score = inner.loglik + inner.log_prior + log_pi
        else:
            inner = None
            score = float(sub.log_likelihood({})) + log_pi
        scores.append(score)
        inner_results.append((cand, inner))
    scores_t = torch.tensor(scores, dtype=torch.float64)
    post = torch.softmax(scores_t, 0) if bool(torch.isfinite(scores_t).any()) else torch.full_like(scores_t, math.nan)
    best = int(torch.argmax(scores_t))
    cand, inner = inner_results[best]
    params = {**cand, **({} if inner is None else inner.params)}
    posterior = {}
    for j, b in enumerate(bases):
        values = discrete[b].prior.values
        probs = torch.zeros(values.shape[0], dtype=torch.float64)
        for p, combo in zip(post, combos):
            probs[combo[j]] += p
        posterior[discrete[b].key] = DiscretePrior(values, probs / probs.sum())
    notes = []
    if inner is not None:
        notes.append(
            "posterior probabilities of the candidates use the maximised (profile) likelihood of the other "
            f"parameters ({', '.join(inner.params)})"
        )
    predictive = _mixture_predictive(problem, combos, post, inner_results) if inner is None else None
    held = {b: params[b] for b in bases}
    reasons = {b: "the parameter has a discrete prior: see the posterior table" for b in bases}
    boundary = dict(inner.boundary) if inner is not None else {}
    if inner is not None:
        held.update(inner.held)
        posterior.update(inner.posterior)
    convergence = Convergence(True, 0, "", "enumerated the candidate values")
    if inner is not None:
        c = inner.convergence
        convergence = Convergence(c.converged, c.n_iter, c.solver, "enumerated the candidate values", c.grad_norm, c.report)
    method = "discrete-prior" if inner is None else f"discrete-prior + {inner.method}"
    return _result(problem, params, method, convergence, boundary, held, notes=notes, posterior=posterior,
                   predictive=predictive, extra_reasons=reasons)


def _result(problem: DistributionProblem, params, method: str, convergence: Convergence, boundary, held, *, notes=(), warns=(),
            posterior=None, predictive=None, hessian_cache=None, extra_reasons=None) -> Estimate:
    """The :class:`Estimate` of a route: covariance, log-likelihood and log-prior computed on first use."""
    params = {n: params[n] for n in problem.free}
    estimator = "MAP" if problem.priors else "MLE"

    def covariance():
        reasons = dict(extra_reasons or {})
        for name, why in boundary.items():
            reasons.setdefault(name, f"the estimate is on the boundary ({why})")
        kind = "negative log-posterior Hessian" if estimator == "MAP" else "observed information"
        return hessian_covariance(problem, params, held, reasons, kind, cached=hessian_cache)

    estimate = Estimate(
        params=params,
        estimator=estimator,
        method=method,
        covariance=covariance,
        loglik=lambda: problem.log_likelihood(params),
        log_prior=(lambda: problem.log_prior(params)) if problem.priors else 0.0,
        k=problem.free_dimension,
        n=problem.total_weight,
        n_obs=problem.n_obs,
        convergence=convergence,
        boundary=boundary,
        held=held,
        posterior=posterior,
        predictive=predictive,
        notes=list(notes),
        warnings=list(warns),
        covariance_kind="Laplace approximation" if estimator == "MAP" else "observed information",
    )
    return estimate


def _mixture_predictive(problem, combos, post, inner_results) -> Callable[..., td.Distribution]:
    def predictive(**options):
        stacked = {}
        for cand, _ in inner_results:
            for k, v in cand.items():
                stacked.setdefault(k, []).append(v)
        params = {**problem.fixed, **{k: torch.stack(v) for k, v in stacked.items()}}
        params.update({k: torch.as_tensor(v, dtype=problem.dtype) for k, v in options.items()})
        components = problem.family.distribution(params)
        mixing = td.Categorical(probs=post.to(problem.dtype), validate_args=False)
        return td.MixtureSameFamily(mixing, components, validate_args=False)

    return predictive


# ---------------------------------------------------------------------- boundary bookkeeping
def _boundary(problem: DistributionProblem, params, reasons: dict[str, str]):
    """Flag estimates on the edge of the space; return ``(boundary reasons, held element masks)``."""
    boundary = {k: v for k, v in reasons.items() if v}
    held: dict[str, torch.Tensor] = {}
    fam = problem.family
    for name in problem.free:
        value = params[name]
        if name in fam.bounded_by_data and name not in problem.priors:
            boundary.setdefault(name, fam.boundary_note(name) or "the estimate is a sample extreme")
            held[name] = value
            continue
        c = problem.constraint(name)
        if is_positive_definite(c):
            continue
        mask = on_boundary(value, c)
        if name in boundary and name not in problem.priors and not bool(mask.any()):
            held[name] = value  # ran off to infinity: no finite point to expand around
            continue
        if bool(mask.any()):
            boundary.setdefault(name, fam.boundary_note(name) or "the estimate is on the edge of the parameter space")
            h = torch.full_like(value, math.nan)
            held[name] = torch.where(mask, value, h) if not bool(mask.all()) else value
    return boundary, held


def _boundary_warnings(problem: DistributionProblem, boundary: dict[str, str]) -> tuple[list[str], list[str]]:
    notes, warns = [], []
    if not problem.family.smooth:
        notes.append(
            f"standard errors use the expected Fisher information: the '{problem.family.name}' log-likelihood "
            "is not twice differentiable everywhere, so its observed curvature is not informative"
        )
    for name, why in boundary.items():
        note = f"'{name}' is on the boundary of its space: {why}; its standard error is undefined"
        notes.append(note)
        if name in problem.family.bounded_by_data and name not in problem.priors:
            continue  # expected for these families: a note, not a warning
        if problem.priors.get(name) is None:
            message = f"{note}. A profile interval (conf_int(method='profile')) still applies; a prior keeps the estimate inside."
            warn(message, BoundaryWarning)
            warns.append(message)
    return notes, warns


def _no_closed_form_message(problem: DistributionProblem, prior_types: dict[str, type]) -> str:
    fam = problem.family
    available = [
        (free, priors) for name, free, priors in registered() if name == getattr(type(fam), "name", None)
    ]
    what = "an MLE" if not prior_types else "a MAP with priors " + ", ".join(f"{k}={t.__name__}" for k, t in prior_types.items())
    if available:
        options = "; ".join(
            f"free {list(free)}" + (f" with priors {dict(pr)}" if pr else "") for free, pr in available
        )
        return (
            f"No closed form for {what} of the '{fam.name}' family with free parameters {problem.free}. "
            f"Closed forms exist for: {options}. Use method='numerical' or method='auto'."
        )
    return (
        f"The '{fam.name}' family has no closed-form estimator. Use method='auto' (the default) or "
        "method='numerical'."
    )


def estimate_at(problem, params, method: str, convergence: Convergence, boundary: dict[str, str]) -> Estimate:
    """The :class:`Estimate` of ``problem`` at ``params`` found by another solver (the batched Newton of
    many groups): the boundary bookkeeping, notes, covariance and log-likelihood of the numerical route."""
    boundary, held = _boundary(problem, params, dict(boundary))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", MlemapWarning)
        notes, warns = _boundary_warnings(problem, boundary)
    return _result(problem, params, method, convergence, boundary, held, notes=notes, warns=warns)

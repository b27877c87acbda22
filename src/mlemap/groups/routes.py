"""The two vectorised routes of a grouped fit: closed forms from grouped statistics, and one batched Newton.

* **Closed form**: the registered closed form of the family (:mod:`mlemap.closed_form`) runs once on
  the batch of every group's sufficient statistics; the registered formulas and conjugate posterior
  updates are elementwise in the statistics, so each group gets exactly its single-fit answer.
* **Numerical**: one trust-region Newton (:mod:`.newton`) over all groups, with the objective of
  :mod:`.objective`, every group started from the family's starting values on the pooled data (or
  ``init``). As in the single fit, parameters whose estimate is a sample extreme are set to their
  group's extreme, a parameter that runs past the value where the model reaches its limit (Student's
  t with ``df`` growing) is held there while the others converge, and coordinates that ran off
  towards a bound are snapped to it.

Both then flag boundary estimates, compute standard errors from each group's block of the Hessian
(:mod:`.covariance`) and the log-likelihood per group. Groups whose estimate does not exist (the
family's identifiability check refuses their sample) are left out and reported with the reason.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from ..families.base import clamp_interior
from ..families.transforms import finite_bounds
from ..inference.boundary import RUNAWAY, snap_runaways
from ..core.layout import ParameterLayout
from .covariance import standard_errors
from .estimate import GroupEstimates, boundary_flags, no_reasons
from .newton import CALLBACK, batched_trust_region
from .objective import BatchObjective
from .starts import batched_start
from .statistics import take


class _StatisticsView:
    """What a registered closed form reads of a problem, with the statistics of a batch of groups."""

    def __init__(self, problem, statistics):
        self.family = problem.family
        self.free = problem.free
        self.fixed = problem.fixed
        self.priors = problem.priors
        self.statistics = statistics


def closed_form_groups(problem, entry, ok: torch.Tensor) -> GroupEstimates:
    """Every group's closed-form estimate (and conjugate posterior) from its statistics."""
    if ok.numel() == 0:
        return _nothing(problem, "closed-form")
    solution = entry.solve(_StatisticsView(problem, take(problem.statistics, ok)))
    values = problem.family.canonical({n: solution.params[n] for n in problem.free})
    params = _spread(problem, values, ok)
    reasons = no_reasons(problem.n_groups, problem.free)
    for name, why in solution.boundary.items():
        reasons[name][ok.cpu().numpy()] = why
    posterior = dict(solution.posterior)
    est = _finish(problem, params, reasons, ok, method="closed-form", posterior=posterior)
    est.posterior_codes = ok
    return est


def numerical_groups(problem, ok: torch.Tensor, init: dict, max_iter: int) -> GroupEstimates:
    """Every group's estimate by one batched trust-region Newton (see the module docstring)."""
    if ok.numel() == 0:
        return _nothing(problem, "numerical")
    family = problem.family
    extremes = _data_extremes(problem)
    names = [n for n in problem.free if n not in extremes]
    objective = BatchObjective(problem, names, extremes)
    start = _starting_values(problem, names, init)
    u0 = objective.unconstrained({n: start[n].expand(ok.numel()).clone() for n in names})
    own = _own_starts(problem, names, init, ok)
    if own is not None:  # each group from its own starting values where they are usable
        u_own = objective.unconstrained(own)
        usable = torch.isfinite(u_own).all(1)
        u0[usable] = u_own[usable]
    watch = [n for n in family.limits if n in names and n not in problem.priors]

    def beyond(u, local):
        theta = objective.natural(u)
        out = torch.zeros(u.shape[0], dtype=torch.bool, device=u.device)
        for n in watch:
            out |= theta[n] > family.limits[n]
        return out

    result = batched_trust_region(lambda u, local: objective.evaluate(u, ok[local]), u0, max_iter=max_iter,
                                  stop=beyond if watch else None, **tolerances(problem.dtype))
    theta = objective.natural(result.u)
    solved = {n: v.clone() for n, v in theta.items()}  # where the solver's last evaluation was made
    messages = result.messages()
    converged, n_iter, report = result.converged.clone(), result.n_iter.clone(), result.report
    reasons = no_reasons(problem.n_groups, problem.free)
    limited = torch.nonzero(result.stop == CALLBACK).reshape(-1)
    if limited.numel() and len(watch) < len(names):
        theta, converged, n_iter = _hold_at_limit(problem, objective, names, watch, extremes, ok, limited, theta,
                                                  converged, n_iter, messages, max_iter)
    for n in watch:
        past = (theta[n] > family.limits[n]).cpu().numpy()
        reasons[n][ok.cpu().numpy()[past]] = family.boundary_note(n) or f"{n} grows without bound"
    theta = _snap_runaways(problem, objective, names, result, u0, theta, ok, reasons)
    values = {**theta, **{n: v[ok] for n, v in extremes.items()}}
    params = _spread(problem, values, ok)
    known = None
    if not extremes:  # the solver's last evaluation, in natural coordinates, where the estimate is its point
        same = torch.stack([(theta[n] == solved[n]) for n in names], 1).all(1)
        known = (same, *objective.to_natural(result.u, result.f, result.g, result.H))
    est = _finish(problem, params, reasons, ok, method="numerical", known=known)
    est.converged[ok] = converged
    est.n_iter[ok] = n_iter
    est.messages = GroupMessages(messages, ok, problem.n_groups)
    est.reports = (ok, report, result.g.abs().amax(1))
    est.solver = "batched trust-region Newton"
    return est


# ---------------------------------------------------------------------- pieces of the numerical route
def tolerances(dtype: torch.dtype) -> dict[str, float]:
    """The criteria's tolerances: the single fit's in float64; in a lower precision (float32, opted in)
    the rounding level of that precision (10 eps for the decrement, sqrt(eps) for the gradient)."""
    if dtype == torch.float64:
        return {"ftol": 1e-15, "gtol": 1e-6}
    eps = torch.finfo(dtype).eps
    return {"ftol": 10 * eps, "gtol": math.sqrt(eps)}


def _data_extremes(problem) -> dict[str, torch.Tensor]:
    """Parameters whose estimate is a sample extreme (free, no prior): each group's extreme."""
    out = {}
    for name, side in problem.family.bounded_by_data.items():
        if name in problem.free and name not in problem.priors:
            values = problem.x.reshape(problem.n_rows, -1)[:, 0]
            reduce = "amin" if side == "min" else "amax"
            out[name] = torch.empty(problem.n_groups, dtype=values.dtype, device=values.device).scatter_reduce_(
                0, problem.codes, values, reduce, include_self=False)
    return out


def _starting_values(problem, names: list[str], init: dict) -> dict[str, torch.Tensor]:
    """The family's starting values on the pooled data (``init`` where given), strictly inside."""
    fam = problem.family
    given = {k: v for k, v in init.items() if k in names}
    start = fam.initial(problem.features, problem.weights, {**problem.fixed, **given}) if set(names) - set(given) else {}
    start = {**start, **given}
    out = {}
    for n in names:
        v = torch.as_tensor(start[n], dtype=problem.dtype, device=problem.device).reshape(())
        if n not in given:
            lo, hi = finite_bounds(problem.constraint(n))
            v = clamp_interior(v, lo, hi, 1e-3)
        out[n] = v
    return out


def _own_starts(problem, names: list[str], init: dict, ok: torch.Tensor) -> dict[str, torch.Tensor] | None:
    """Each group's own starting values: the family's batched start (:mod:`.starts`) where registered,
    the family's ``initial`` per group (:func:`_group_starts`) for the groups it did not find."""
    quick = batched_start(problem, names, init, ok)
    if quick is None:
        return _group_starts(problem, names, init, ok)
    values, found = quick
    if bool(found.all()):
        return values
    missing = torch.nonzero(~found).reshape(-1)
    rest = _group_starts(problem, names, init, ok[missing])
    for n in names:
        values[n][missing] = math.nan if rest is None else rest[n]
    return values


def _group_starts(problem, names: list[str], init: dict, ok: torch.Tensor) -> dict[str, torch.Tensor] | None:
    """Each group's own starting values: the family's ``initial`` on the group's rows, for all groups
    at once (rows padded to the largest group with weight 0, ``vmap`` over the groups). None where
    that does not apply (uneven groups that would need too much padding, values fixed per row, or
    starting values that need the whole sample at once, such as quantiles)."""
    counts = problem.index.count[ok]
    B, longest = ok.numel(), int(counts.max())
    per_row = [k for k, v in problem.fixed.items() if v.dim() > 0]
    if per_row or B * longest > 4 * problem.n_rows + 4096:
        return None
    rows = problem.index.rows_of(ok)
    local = torch.repeat_interleave(torch.arange(B, device=ok.device), counts)
    slot = torch.arange(rows.numel(), device=ok.device) - (torch.cumsum(counts, 0) - counts)[local]
    padded = problem.index.start[ok].unsqueeze(1).expand(B, longest).clone()  # padding repeats the first row
    padded[local, slot] = rows
    weights = torch.zeros(B, longest, dtype=problem.dtype, device=problem.device)
    weights[local, slot] = 1.0 if problem.weights is None else problem.weights[rows]
    n = problem.n_rows
    feats = {k: v[padded] for k, v in problem.features.items() if v.dim() > 0 and v.shape[0] == n}
    constants = {k: v for k, v in problem.features.items() if k not in feats}
    given = {k: v for k, v in init.items() if k in names}

    def one(f, w):
        values = problem.family.initial({**f, **constants}, w, {**problem.fixed, **given})
        return {k: torch.as_tensor(values[k]) for k in names}

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            starts = torch.func.vmap(one)(feats, weights)
    except Exception:  # noqa: BLE001 - any operation vmap cannot batch: the pooled start stays
        return None
    out = {}
    for n in names:
        v = starts[n].to(problem.dtype).reshape(B)
        if n in given:
            v = torch.as_tensor(given[n], dtype=problem.dtype, device=problem.device).expand(B).clone()
        else:
            lo, hi = finite_bounds(problem.constraint(n))
            v = clamp_interior(v, lo, hi, 1e-3)
        out[n] = v
    return out


def _hold_at_limit(problem, objective, names, watch, extremes, ok, limited, theta, converged, n_iter, messages, max_iter):
    """Groups whose limited parameter ran past its limit: hold it there and converge the others."""
    rest = [n for n in names if n not in watch]
    held_values = {**{k: v.clone() for k, v in extremes.items()}}
    for n in watch:
        full = torch.full((problem.n_groups,), math.nan, dtype=problem.dtype, device=problem.device)
        full[ok[limited]] = theta[n][limited]
        held_values[n] = full
    sub = BatchObjective(problem, rest, held_values)
    codes = ok[limited]
    u0 = sub.unconstrained({n: theta[n][limited] for n in rest})
    again = batched_trust_region(lambda u, local: sub.evaluate(u, codes[local]), u0, max_iter=max_iter,
                                 **tolerances(problem.dtype))
    solved = sub.natural(again.u)
    theta = {n: v.clone() for n, v in theta.items()}
    for n in rest:
        theta[n][limited] = solved[n]
    converged[limited] = again.converged
    n_iter[limited] = again.n_iter
    for b, j in enumerate(limited.tolist()):
        messages.extra[j] = f"{again.message(b)}, with {', '.join(watch)} held at its limit"
    return theta, converged, n_iter


def _snap_runaways(problem, objective, names, result, u0, theta, ok, reasons):
    """Coordinates that ran far from their start with no curvature left: snapped to their bound, or
    flagged as running off to infinity (the single fit's rule, group by group where it applies)."""
    moved = (result.u - u0).abs() > RUNAWAY
    suspects = torch.nonzero(moved.any(1)).reshape(-1)
    if suspects.numel() == 0:
        return theta
    layout = ParameterLayout(names, {n: torch.Size() for n in names}, {n: problem.constraint(n) for n in names})
    theta = {n: v.clone() for n, v in theta.items()}
    for b in suspects.tolist():
        code = int(ok[b])
        params = {n: theta[n][b] for n in names}
        curvature = torch.diagonal(result.H[b])
        snapped, infinite = snap_runaways(layout.slots, result.u[b], u0[b], params, curvature, float(problem.weight[code]))
        for n in names:
            theta[n][b] = snapped[n]
        for n in infinite:
            reasons[n][code] = problem.family.boundary_note(n) or "the likelihood keeps increasing towards infinity"
    return theta


class GroupMessages:
    """The solver's messages indexed by group code (empty for groups without an estimate)."""

    def __init__(self, messages, ok: torch.Tensor, n_groups: int):
        self.messages = messages
        self.position = torch.full((n_groups,), -1, dtype=torch.int64)
        self.position[ok.cpu()] = torch.arange(ok.numel())

    def __len__(self) -> int:
        return int(self.position.shape[0])

    def __getitem__(self, code: int) -> str:
        b = int(self.position[code])
        return "" if b < 0 else self.messages[b]

    def __iter__(self):
        return (self[c] for c in range(len(self)))


# ---------------------------------------------------------------------- shared
def _nothing(problem, method: str) -> GroupEstimates:
    """The estimates when no group has one (every group's sample is degenerate)."""
    G = problem.n_groups
    nan = torch.full((G,), math.nan, dtype=problem.dtype, device=problem.device)
    free = list(problem.free)
    return GroupEstimates(
        names=free, params={n: nan.clone() for n in free}, se={n: nan.clone() for n in free}, loglik=nan.clone(),
        log_prior=torch.zeros(G, dtype=problem.dtype, device=problem.device),
        converged=torch.zeros(G, dtype=torch.bool, device=problem.device),
        n_iter=torch.zeros(G, dtype=torch.int64, device=problem.device), estimator="MAP" if problem.priors else "MLE",
        method=method, boundary=no_reasons(G, free), held={n: torch.ones(G, dtype=torch.bool) for n in free},
        se_reasons=no_reasons(G, free),
    )


def _spread(problem, values: dict[str, torch.Tensor], ok: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-group values of the groups ``ok`` placed in full-length tensors (NaN for the others)."""
    out = {}
    for name in problem.free:
        full = torch.full((problem.n_groups,), math.nan, dtype=problem.dtype, device=problem.device)
        full[ok] = torch.as_tensor(values[name], dtype=problem.dtype, device=problem.device).reshape(-1).expand(ok.numel())
        out[name] = full
    return out


def _finish(problem, params, reasons, ok, *, method: str, posterior=None, known=None) -> GroupEstimates:
    """Boundary flags, standard errors, log-likelihood and log-prior of the groups ``ok``.

    ``known`` may give ``(mask, f, g, H)`` over ``ok``: the objective, gradient and Hessian in the
    natural parameters already computed at the estimates where ``mask`` holds (the solver's last point).
    """
    G = problem.n_groups
    reasons, held = boundary_flags(problem, params, reasons)
    estimator = "MAP" if problem.priors else "MLE"
    what = "negative log-posterior Hessian" if estimator == "MAP" else "observed information"
    free = list(problem.free)
    objective = BatchObjective(problem, free)
    theta = {n: params[n][ok] for n in free}
    held_ok = torch.stack([held[n][ok] for n in free], 1)
    finite = torch.isfinite(torch.stack(list(theta.values()), 1)).all(1)
    se_reasons = {n: np.full(G, None, dtype=object) for n in free}
    se = {n: torch.full((G,), math.nan, dtype=problem.dtype, device=problem.device) for n in free}
    rows = torch.nonzero(finite & ~held_ok.all(1)).reshape(-1)
    if rows.numel():
        H = torch.empty(rows.numel(), len(free), len(free), dtype=problem.dtype, device=problem.device)
        reuse = known[0][rows] if known is not None else torch.zeros(rows.numel(), dtype=torch.bool)
        if bool(reuse.any()):
            H[reuse] = known[3][rows[reuse]]
        if not bool(reuse.all()):
            fresh = rows[~reuse]
            H[~reuse] = objective.natural_derivatives({n: theta[n][fresh] for n in free}, ok[fresh])[2]
        values, failures = standard_errors(H, held_ok[rows], what)
        for j, n in enumerate(free):
            se[n][ok[rows]] = values[:, j]
        for b, why in failures.items():
            for j, n in enumerate(free):
                if not bool(held_ok[rows[b], j]):
                    se_reasons[n][int(ok[rows[b]])] = why
    for n in free:
        mask = held[n].cpu().numpy()
        for code in np.flatnonzero(mask):
            if reasons[n][code] is not None:
                se_reasons[n][code] = f"the estimate is on the boundary ({reasons[n][code]})"
    for key, dist in (posterior or {}).items():
        if key in free and estimator == "MAP":
            se[key][ok] = dist.variance.sqrt()
            se_reasons[key][ok.cpu().numpy()] = None
    loglik = torch.full((G,), math.nan, dtype=problem.dtype, device=problem.device)
    log_prior = torch.zeros(G, dtype=problem.dtype, device=problem.device)
    if problem.priors:
        with torch.no_grad():
            log_prior[ok] = objective.log_prior(theta)
    if known is not None and bool(known[0].all()):
        loglik[ok] = -known[1] - log_prior[ok]  # the minimised objective is minus log-likelihood minus log-prior
    else:
        loglik[ok] = objective.log_likelihood(theta, ok)
    converged = torch.zeros(G, dtype=torch.bool, device=problem.device)
    converged[ok] = True
    return GroupEstimates(
        names=free, params=params, se=se, loglik=loglik, log_prior=log_prior, converged=converged,
        n_iter=torch.zeros(G, dtype=torch.int64, device=problem.device), estimator=estimator, method=method,
        boundary=reasons, held=held, se_reasons=se_reasons, posterior=dict(posterior or {}),
    )

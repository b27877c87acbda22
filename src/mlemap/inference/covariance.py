"""Covariance of the estimates from the exact Hessian (observed information) and the delta method.

At the estimate :math:`\\hat u` in unconstrained coordinates the observed information is the exact
autograd Hessian :math:`H = \\nabla^2 f(\\hat u)` of the negative log-likelihood (minus log-prior for a
MAP, giving the Laplace approximation). The covariance of the natural parameters is
:math:`J H^{-1} J^\\top` with :math:`J = \\partial\\theta / \\partial u`; at an interior optimum this equals
the inverse Hessian in natural coordinates, and it handles parameters with fewer free dimensions
than entries (a simplex, a covariance matrix).

Elements on the boundary, parameters that are sample extremes and parameters with a discrete prior
are held at their value: they get no standard error (NaN, with the reason recorded), and the others
are conditional on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.distributions import constraints

from ..core.layout import ParameterLayout
from ..errors import IdentifiabilityWarning, warn
from ..families.transforms import is_positive_definite, is_simplex


@dataclass
class Covariance:
    """Covariance matrix over the flattened free natural parameters, with element labels."""

    index: list[tuple[str, int]]
    matrix: torch.Tensor
    shapes: dict[str, torch.Size]
    reasons: dict[str, str] = field(default_factory=dict)

    def block(self, name: str) -> torch.Tensor:
        rows = [i for i, (n, _) in enumerate(self.index) if n == name]
        return self.matrix[rows][:, rows]

    def se(self, name: str) -> torch.Tensor:
        var = torch.diagonal(self.block(name))
        return torch.sqrt(var.clamp_min(0.0)).where(~torch.isnan(var), var).reshape(self.shapes[name])

    def labels(self) -> list[str]:
        out = []
        for name, i in self.index:
            shape = self.shapes[name]
            if len(shape) == 0:
                out.append(name)
            else:
                idx = torch.unravel_index(torch.tensor(i), shape)
                out.append(f"{name}[{','.join(str(int(j)) for j in idx)}]")
        return out


def hessian_covariance(problem, params, held: dict[str, torch.Tensor], reasons: dict[str, str], kind: str, cached=None) -> Covariance:
    """Covariance at natural ``params``; ``held[name]`` marks held elements (finite) vs free (NaN).

    ``cached`` may give ``(names, u, H)`` computed by the optimiser at the same point to reuse.
    """
    free = list(problem.free)
    shapes = {n: problem.shapes[n] for n in free}
    index = [(n, i) for n in free for i in range(shapes[n].numel())]
    m = len(index)
    nan = torch.full((m, m), float("nan"), dtype=problem.dtype, device=problem.device)
    fully_held = [n for n in free if n in held and not bool(torch.isnan(held[n]).any())]
    active = [n for n in free if n not in fully_held]
    partial = {n: held[n] for n in active if n in held}
    reasons = dict(reasons)
    if not active:
        return Covariance(index, nan, shapes, reasons)

    fixed_extra = {n: params[n] for n in fully_held}
    elementwise = not any(is_simplex(problem.constraint(n)) or is_positive_definite(problem.constraint(n)) for n in active)
    layout = problem.layout(active, partial)
    u = layout.pack({n: params[n] for n in active}).to(problem.dtype)
    if layout.size == 0:
        return Covariance(index, nan.clone(), shapes, reasons)
    if not problem.family.smooth and elementwise and not partial and all(problem.shapes[n] == torch.Size() for n in active):
        full = {**problem.fixed, **params}
        weight = torch.as_tensor(problem.total_weight, dtype=problem.dtype, device=problem.device)
        H = problem.family.expected_information(full, weight, active) + _prior_hessian(problem, active, params)
        layout, natural = ParameterLayout(active, shapes, {n: constraints.real for n in active}), True
    elif cached is not None and cached[0] == active and not partial and torch.equal(cached[1], u):
        H, natural = cached[2], False
    elif elementwise:
        # observed information directly in natural coordinates: no Jacobian needed
        flat_layout = ParameterLayout(active, shapes, {n: constraints.real for n in active}, partial)
        theta = flat_layout.pack({n: params[n] for n in active}).to(problem.dtype)
        objective = problem.objective(active, fixed=fixed_extra, layout=flat_layout)
        _, _, H = objective.value_grad_hess(theta)
        layout, natural = flat_layout, True
    else:
        objective = problem.objective(active, fixed=fixed_extra, held=partial)
        _, _, H = objective.value_grad_hess(u)
        natural = False

    matrix = nan.clone()
    if not bool(torch.isfinite(H).all()):
        for n in active:
            reasons.setdefault(n, f"the {kind} is not finite at the estimate")
        return Covariance(index, matrix, shapes, reasons)
    cov_u, reason = invert_information(
        H, what=kind, advice="Their standard errors are reported as undefined; fix a parameter, add a prior, or check the model."
    )
    if reason is not None:
        for n in active:
            reasons.setdefault(n, reason)
        return Covariance(index, matrix, shapes, reasons)
    if natural:
        cov_nat = cov_u
    else:
        J = _jacobian(layout, u, elementwise)
        cov_nat = J @ cov_u @ J.T
    cov_nat = 0.5 * (cov_nat + cov_nat.T)

    # place the active block into the full matrix; held elements stay NaN
    pos = {key: i for i, key in enumerate(index)}
    active_rows = []
    for s in layout.slots:
        for i in range(s.n_natural):
            active_rows.append(pos[(s.name, i)])
    rows = torch.tensor(active_rows, device=problem.device)
    matrix[rows.unsqueeze(1), rows.unsqueeze(0)] = cov_nat
    for n, h in partial.items():
        for i in torch.nonzero(~torch.isnan(h.reshape(-1))).reshape(-1).tolist():
            r = pos[(n, i)]
            matrix[r, :] = float("nan")
            matrix[:, r] = float("nan")
    return Covariance(index, matrix, shapes, reasons)


def invert_information(H: torch.Tensor, *, what: str = "observed information", subject: str = "",
                       advice: str = "") -> tuple[torch.Tensor, str | None]:
    """:math:`H^{-1}` of a symmetric information matrix, or NaN and the reason (with an
    :class:`~mlemap.IdentifiabilityWarning` naming it) when it is not finite, singular or indefinite.

    The matrix is first scaled to unit diagonal (:math:`D^{-1} H D^{-1}`, :math:`D = \\sqrt{\\mathrm{diag}\\,H}`),
    so that the test :math:`\\lambda_{\\min} > 10^{-13}\\,\\lambda_{\\max}` does not depend on the units of the
    parameters; the inverse is :math:`D^{-1} (D^{-1} H D^{-1})^{-1} D^{-1}`.
    """
    p = H.shape[0]
    nan = torch.full((p, p), float("nan"), dtype=H.dtype, device=H.device)
    if p == 0:
        return nan, None
    if not bool(torch.isfinite(H).all()):
        return nan, f"the {what} is not finite at the estimate"
    Hs = 0.5 * (H + H.T)
    d = torch.sqrt(torch.diagonal(Hs).abs().clamp_min(1e-300))
    evals, evecs = torch.linalg.eigh(Hs / torch.outer(d, d))
    top = float(evals.abs().max())
    low = float(evals.min())
    if low <= 1e-13 * top or bool((torch.diagonal(Hs) <= 0).any()):
        kind = "singular" if low >= -1e-13 * top and bool((torch.diagonal(Hs) >= 0).all()) else "not positive definite"
        of = f" of {subject}" if subject else ""
        warn(
            f"The {what}{of} is {kind} at the estimate (smallest scaled eigenvalue {low:.3g}): some parameters are not "
            f"identified by the data, or the estimate is not a maximum. {advice}".rstrip(),
            IdentifiabilityWarning,
        )
        return nan, f"the {what} is {kind} at the estimate"
    inv = (evecs / evals) @ evecs.T
    return inv / torch.outer(d, d), None


def _jacobian(layout: ParameterLayout, u: torch.Tensor, elementwise: bool) -> torch.Tensor:
    """:math:`\\partial\\theta/\\partial u` of the flattened natural parameters (autograd; small)."""
    return torch.autograd.functional.jacobian(layout.natural_flat, u, vectorize=u.numel() > 8)


def _prior_hessian(problem, names: list[str], params) -> torch.Tensor:
    """Hessian of minus the log-prior over scalar parameters ``names`` (zero without priors)."""
    p = len(names)
    terms = [problem.priors[n] for n in names if n in problem.priors]
    if not terms:
        return torch.zeros(p, p, dtype=problem.dtype, device=problem.device)

    def neg_log_prior(theta):
        values = dict(zip(names, theta))
        return -sum(t.log_prob(values[t.base]) for t in terms)

    theta = torch.stack([params[n].reshape(()) for n in names]).to(problem.dtype)
    return torch.autograd.functional.hessian(neg_log_prior, theta)

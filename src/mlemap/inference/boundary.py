"""Estimates on the edge of the parameter space.

An MLE can sit exactly on the boundary (all heads: :math:`\\hat p = 1`; an unobserved category:
:math:`\\hat p_k = 0`; the uniform's end points are the sample extremes). Such estimates are reported
exactly, flagged, and get no Wald standard error: the log-likelihood is not flat there, so the
curvature says nothing about the sampling error, and in the optimiser's unconstrained coordinates
the estimate is at infinity. The numerical route detects coordinates that ran away and snaps them
to the bound they approached.
"""

from __future__ import annotations

import torch

from ..families.transforms import finite_bounds, is_positive_definite, is_simplex

#: what to use for an estimate that is a sample extreme (the uniform's end points, the Pareto scale),
#: where the usual intervals fail; for the uniform the exact law is P((min - low) / (max - min) > t) =
#: (1 + t)^-(n - 1) (a ratio of independent gamma variables: one spacing over n - 1 of them)
EXTREME_INTERVALS = (
    "Neither the Wald, the profile nor the bootstrap interval is valid for a sample extreme (a non-regular "
    "estimate); an exact interval comes from the sampling distribution of the extreme (for the uniform, "
    "(min - low) / (max - min) exceeds t with probability (1 + t)^-(n - 1))."
)

#: an unconstrained coordinate that moved this far from its start has run to the boundary
RUNAWAY = 22.0
#: simplex components below this are on the edge of the simplex
SIMPLEX_EDGE = 1e-10


def on_boundary(value: torch.Tensor, constraint) -> torch.Tensor:
    """Boolean mask of the elements of ``value`` that lie on a finite bound of ``constraint``."""
    if is_positive_definite(constraint):
        return torch.zeros(value.shape, dtype=torch.bool, device=value.device)
    if is_simplex(constraint):
        return value <= 0
    lo, hi = finite_bounds(constraint)
    if value.dim() == 0:
        v = float(value)
        hit = (lo is not None and v <= lo) or (hi is not None and v >= hi)
        return torch.tensor(hit, device=value.device)
    mask = torch.zeros(value.shape, dtype=torch.bool, device=value.device)
    if lo is not None:
        mask |= value <= lo
    if hi is not None:
        mask |= value >= hi
    return mask


def snap_runaways(
    slots, u: torch.Tensor, u0: torch.Tensor, params: dict[str, torch.Tensor], curvature: torch.Tensor | None, weight: float
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Snap coordinates that ran away to a finite bound of their parameter's space.

    A coordinate has run away when it moved more than ``RUNAWAY`` units from its start *and* the
    objective has lost its curvature along it (``curvature[j] < 1e-8 * weight``): at an interior
    optimum, however far from the start, the information along a coordinate grows with the number
    of observations, while towards a bound it vanishes exponentially. Parameters on the whole real
    line are never flagged. Returns the corrected natural parameters and ``{name: "infinite"}`` for
    parameters running off towards an infinite bound of a half-bounded space.
    """
    out = dict(params)
    infinite: dict[str, str] = {}
    flat_tol = 1e-8 * max(1.0, weight)
    for s in slots:
        value = out[s.name]
        if is_positive_definite(s.constraint):
            continue
        if is_simplex(s.constraint):
            if bool((value < SIMPLEX_EDGE).any()):
                snapped = torch.where(value < SIMPLEX_EDGE, torch.zeros_like(value), value)
                out[s.name] = snapped / snapped.sum()
            continue
        lo, hi = finite_bounds(s.constraint)
        if lo is None and hi is None:
            continue
        piece = u[s.offset : s.offset + s.size]
        start = u0[s.offset : s.offset + s.size]
        moved = (piece - start).reshape(-1)
        flat = value.reshape(-1).clone()
        full_index = torch.arange(flat.numel(), device=flat.device)
        if s.active is not None:
            full_index = full_index[s.active]
        for j, idx in enumerate(full_index.tolist()):
            if abs(float(moved[j])) <= RUNAWAY:
                continue
            if curvature is not None and float(curvature[s.offset + j]) >= flat_tol:
                continue
            v = float(flat[idx])
            target = None
            if lo is not None and (hi is None or abs(v - lo) <= abs(hi - v)):
                target = lo
            elif hi is not None:
                target = hi
            if target is not None and abs(v - target) <= 1e-6 * max(1.0, abs(target)):
                flat[idx] = target
            elif float(moved[j]) > 0 and hi is None:
                infinite[s.name] = "infinite"
        out[s.name] = flat.reshape(value.shape)
    return out, infinite


#: how much the log-likelihood must still rise at each of two further steps as long as the path for
#: the optimiser's path to count as running to infinity (towards a finite supremum on a half-bounded
#: space it rises by exponentially small amounts)
UNBOUNDED_RISE = 1.0


def runs_to_infinity(value, layout, u0: torch.Tensor, u: torch.Tensor) -> dict[str, str]:
    """Parameters along which the objective keeps decreasing, ``{name: where it goes}``.

    The optimiser stopped at ``u`` after moving more than ``RUNAWAY`` units from its start ``u0``
    in some coordinates. Those coordinates are moved on twice by the distance they travelled (the
    others stay where they are); when the objective drops by more than
    ``UNBOUNDED_RISE`` at each step the likelihood has no maximum in that direction. Returns ``{}``
    when the evidence is absent or inconclusive (a non-finite value, an error).
    """
    d = u - u0
    far = d.abs() > RUNAWAY
    if not bool(far.any()):
        return {}
    step = torch.where(far, d, torch.zeros_like(d))
    try:
        with torch.no_grad():
            f0, f1, f2 = (float(value(u + t * step)) for t in (0.0, 1.0, 2.0))
    except Exception:  # the function cannot be evaluated that far out: no verdict
        return {}
    if not (f1 < f0 - UNBOUNDED_RISE and f2 < f1 - UNBOUNDED_RISE):
        return {}
    now, further = layout.unpack(u), layout.unpack(u + 2 * step)
    out = {}
    for s in layout.slots:
        if not bool(far[s.offset : s.offset + s.size].any()):
            continue
        lo, hi = finite_bounds(s.constraint)
        if bool((further[s.name] - now[s.name]).sum() > 0):
            out[s.name] = "+inf" if hi is None else f"{hi:g}"
        else:
            out[s.name] = "-inf" if lo is None else f"{lo:g}"
    return out


def no_maximum_message(family_name: str, diverging: dict[str, str], posterior: bool) -> str:
    """What to say when :func:`runs_to_infinity` found a direction of unbounded increase."""
    what = "posterior density" if posterior else "likelihood"
    where = ", ".join(f"{name} -> {target}" for name, target in diverging.items())
    first = next(iter(diverging))
    return (
        f"The '{family_name}' {what} has no maximum: it keeps increasing as {where} (the log-{what.split()[0]} still "
        "rises when the optimiser's path is extended, so the iterations can never stop). Fix "
        f"'{first}' with fixed={{'{first}': ...}} or give it a prior; for a custom log-density, check that it is a "
        "normalised density of x at every parameter value (a term that grows with a parameter without its "
        "normalising constant makes the likelihood unbounded)."
    )

"""Validation of the ``prior`` argument against a family: names, supports, shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
import torch.distributions as td

from ..errors import PriorError
from ..families.base import DataContext, Derived, Family, require_known_parameter
from .discrete import DiscretePrior
from .support import covers, describe


@dataclass(frozen=True)
class PriorTerm:
    """One prior: ``key`` is the name it was given under (a parameter or a derived quantity such as
    ``variance``), ``base`` the parameter it acts on. Its log-density at the parameter value ``theta``
    is ``prior.log_prob(derived.forward(theta))`` summed over independent elements."""

    key: str
    base: str
    prior: td.Distribution
    derived: Derived | None
    elementwise: bool

    @property
    def is_discrete(self) -> bool:
        return isinstance(self.prior, DiscretePrior)

    def log_prob(self, theta: torch.Tensor) -> torch.Tensor:
        value = theta if self.derived is None else self.derived.forward(theta)
        lp = self.prior.log_prob(value)
        return lp.sum() if lp.dim() > 0 else lp


def _cast_prior(prior: td.Distribution, dtype: torch.dtype, device) -> td.Distribution:
    """Rebuild a torch prior with its parameters in the fit's dtype and device, so that its density is
    evaluated in float64 arithmetic. Values already rounded when the prior was built stay rounded:
    ``td.Normal(0.5, 0.1)`` under torch's float32 default holds 0.1 to float32 precision; build the
    prior from float64 tensors where that matters."""
    if isinstance(prior, DiscretePrior):
        return prior
    names = [n for n in getattr(prior, "arg_constraints", {}) if n != "logits" or "probs" not in prior.arg_constraints]
    try:
        params = {n: getattr(prior, n) for n in names}
    except (AttributeError, NotImplementedError):
        return prior
    tensors = {k: v for k, v in params.items() if isinstance(v, torch.Tensor)}
    if not tensors or all(v.dtype == dtype and v.device == torch.device(device) for v in tensors.values()):
        return prior
    cast = {k: (v.to(dtype=dtype, device=device) if isinstance(v, torch.Tensor) and v.is_floating_point() else v) for k, v in params.items()}
    try:
        return type(prior)(**cast, validate_args=False)
    except (TypeError, ValueError, RuntimeError):
        return prior


def resolve_priors(
    family: Family,
    prior: Mapping[str, Any] | None,
    fixed: Mapping[str, torch.Tensor],
    shapes: Mapping[str, torch.Size],
    ctx: DataContext,
    dtype: torch.dtype,
    device,
) -> dict[str, PriorTerm]:
    """Return ``{base parameter: PriorTerm}`` after checking every prior."""
    if prior is None:
        return {}
    if not isinstance(prior, Mapping):
        raise PriorError(
            "The 'prior' argument must be a dict from parameter name to a torch distribution, for example "
            f"prior={{'probs': td.Beta(2.0, 2.0)}}. Got {type(prior).__name__} instead."
        )
    terms: dict[str, PriorTerm] = {}
    for key, dist in prior.items():
        require_known_parameter(family, key, "prior")
        derived = family.derived.get(key)
        base = derived.base if derived is not None else key
        if base in family.known_constants:
            raise PriorError(
                f"'{key}' of the '{family.name}' family is a known constant, not an estimated parameter; "
                f"give it in fixed={{'{key}': ...}} instead of a prior."
            )
        if base in fixed:
            raise PriorError(
                f"'{base}' is both fixed and given a prior; a fixed parameter is not estimated, so remove it "
                "from either 'fixed' or 'prior'."
            )
        if base in terms:
            raise PriorError(
                f"Two priors act on '{base}' ('{terms[base].key}' and '{key}'); give one prior per parameter."
            )
        if not isinstance(dist, td.Distribution):
            raise PriorError(
                f"The prior on '{key}' must be a torch.distributions object (for example td.Normal(0.0, 1.0)) or "
                f"mm.DiscretePrior(values, probs). Got {type(dist).__name__} instead."
            )
        require_finite_parameters(dist, f"The prior on '{key}'")
        constraint = derived.constraint if derived is not None else family.constraint(base, ctx)
        shape = shapes[base]
        if isinstance(dist, DiscretePrior):
            _check_discrete(key, dist, constraint, shape)
            terms[base] = PriorTerm(key, base, dist, derived, elementwise=False)
            continue
        if not covers(dist.support, constraint):
            raise PriorError(
                f"The prior on '{key}' ({type(dist).__name__}, support {describe(dist.support)}) does not cover the "
                f"parameter's space {describe(constraint)}: it would rule out values the '{family.name}' family "
                f"allows. Use a prior whose support contains {describe(constraint)}"
                f"{' (for example td.Beta for a probability, td.Gamma or td.LogNormal for a positive value)' }."
            )
        event = tuple(dist.event_shape)
        if event == tuple(shape) and dist.batch_shape == torch.Size():
            elementwise = False
        elif event == () and _broadcasts(tuple(dist.batch_shape), tuple(shape)):
            elementwise = True
        else:
            raise PriorError(
                f"The prior on '{key}' has batch shape {tuple(dist.batch_shape)} and event shape {event}, but "
                f"'{base}' has shape {tuple(shape)}. Use a scalar prior (applied to every element independently) "
                f"or one whose event shape is {tuple(shape)}."
            )
        terms[base] = PriorTerm(key, base, _cast_prior(dist, dtype, device), derived, elementwise)
    return terms


def require_finite_parameters(dist: td.Distribution, owner: str) -> None:
    """Refuse a prior whose parameters hold inf or nan (``td.Gamma(1e999, 1.0)``, or 1e300 in float32),
    which torch's own checks let through and which would otherwise surface as bad starting values."""
    if isinstance(dist, DiscretePrior):
        return
    for name in getattr(dist, "arg_constraints", {}):
        if name == "logits":  # -inf logits are probabilities of 0
            continue
        try:
            value = getattr(dist, name)
        except (AttributeError, NotImplementedError):
            continue
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise PriorError(
                f"{owner} ({type(dist).__name__}) has {name} = {value.tolist()}, which is not finite. Prior parameters "
                f"must be finite numbers (in {value.dtype}, values beyond {torch.finfo(value.dtype).max:.3g} overflow "
                "to inf; build the prior from float64 tensors or smaller values)."
            )


def _broadcasts(batch: tuple, shape: tuple) -> bool:
    if len(batch) > len(shape):
        return False
    return all(b in (1, s) for b, s in zip(batch[::-1], shape[::-1]))


def _check_discrete(key: str, dist: DiscretePrior, constraint, shape: torch.Size) -> None:
    if tuple(dist.event_shape) != tuple(shape):
        raise PriorError(
            f"The DiscretePrior on '{key}' has candidate values of shape {tuple(dist.event_shape)}, but the "
            f"parameter has shape {tuple(shape)}."
        )
    for value in dist.values:
        ok = constraint.check(value)
        if not bool(torch.as_tensor(ok).all()):
            raise PriorError(
                f"The DiscretePrior on '{key}' has the candidate {value.tolist()}, outside the parameter's space "
                f"{describe(constraint)}. Every candidate must be a valid value of '{key}'."
            )

"""A distribution over a finite set of candidate parameter values (a discrete prior or posterior)."""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.distributions as td
from torch.distributions import constraints

from ..errors import PriorError


class _OneOf(constraints.Constraint):
    is_discrete = True

    def __init__(self, values: torch.Tensor):
        self.values = values
        super().__init__()

    def check(self, value):
        v = torch.as_tensor(value, dtype=self.values.dtype)
        flat = self.values.reshape(self.values.shape[0], -1)
        return (flat == v.reshape(1, -1)).all(-1).any()

    def __repr__(self):
        return f"OneOf({self.values.tolist()})"


class DiscretePrior(td.Distribution):
    """Probability ``probs[i]`` on the candidate value ``values[i]`` of a parameter.

    Used as a prior, the MAP is the candidate with the largest posterior probability
    :math:`p(v_i \\mid D) \\propto p(D \\mid v_i)\\, \\pi_i`, and the posterior is again a ``DiscretePrior``
    over the same candidates (with the posterior probabilities).

    >>> DiscretePrior([0.5, 0.8], [0.7, 0.3])   # a fair coin with probability 0.7, a biased one with 0.3
    """

    arg_constraints: dict = {}
    has_enumerate_support = True

    def __init__(self, values: Sequence[Any] | torch.Tensor, probs: Sequence[float] | torch.Tensor | None = None, validate_args=None):
        v = torch.as_tensor(values, dtype=torch.float64)
        if v.dim() == 0 or v.shape[0] == 0:
            raise PriorError(
                f"The 'values' of a DiscretePrior must be a non-empty list of candidate values. Got {values!r}."
            )
        if not bool(torch.isfinite(v).all()):
            raise PriorError(f"The 'values' of a DiscretePrior must be finite. Got {v.tolist()}.")
        flat = v.reshape(v.shape[0], -1)
        if torch.unique(flat, dim=0).shape[0] != flat.shape[0]:
            raise PriorError(f"The 'values' of a DiscretePrior must be distinct. Got {v.tolist()}.")
        if probs is None:
            p = torch.full((v.shape[0],), 1.0 / v.shape[0], dtype=torch.float64)
        else:
            p = torch.as_tensor(probs, dtype=torch.float64)
            if p.shape != (v.shape[0],):
                raise PriorError(
                    f"A DiscretePrior needs one probability per value: {v.shape[0]} values but probs of shape "
                    f"{tuple(p.shape)}."
                )
            if bool((p < 0).any()) or not bool(torch.isfinite(p).all()):
                raise PriorError(f"The 'probs' of a DiscretePrior must be finite and non-negative. Got {p.tolist()}.")
            total = float(p.sum())
            if abs(total - 1.0) > 1e-6:
                raise PriorError(
                    f"The 'probs' of a DiscretePrior must sum to 1; they sum to {total:.6g}. "
                    "Divide them by their sum if they are relative weights."
                )
        self.values = v
        self.probs = p
        super().__init__(batch_shape=torch.Size(), event_shape=v.shape[1:], validate_args=False)

    @property
    def support(self):
        return _OneOf(self.values)

    def __repr__(self):
        vals = [round(x, 6) for x in self.values.reshape(-1).tolist()] if self.values.dim() == 1 else self.values.tolist()
        return f"DiscretePrior(values={vals}, probs={[round(x, 6) for x in self.probs.tolist()]})"

    def _index(self, value: torch.Tensor) -> torch.Tensor:
        flat = self.values.reshape(self.values.shape[0], -1).to(value.dtype)
        v = value.reshape(-1, flat.shape[1]) if flat.shape[1] > 1 or value.dim() > 0 else value.reshape(1, 1)
        match = (v.unsqueeze(1) == flat.unsqueeze(0)).all(-1)
        return torch.where(match.any(-1), match.float().argmax(-1), torch.full(match.shape[:1], -1))

    def log_prob(self, value):
        value = torch.as_tensor(value, dtype=self.values.dtype)
        idx = self._index(value)
        logp = torch.log(self.probs)
        out = torch.where(idx >= 0, logp[idx.clamp_min(0)], torch.full(idx.shape, -torch.inf, dtype=logp.dtype))
        return out.reshape(value.shape[: value.dim() - len(self.event_shape)])

    def sample(self, sample_shape=torch.Size()):
        idx = torch.multinomial(self.probs, int(torch.Size(sample_shape).numel()) or 1, replacement=True)
        return self.values[idx].reshape(torch.Size(sample_shape) + self.event_shape)

    def enumerate_support(self, expand=True):
        return self.values

    @property
    def mean(self):
        return torch.tensordot(self.probs, self.values, dims=1)

    @property
    def mode(self):
        return self.values[int(torch.argmax(self.probs))]

    @property
    def variance(self):
        diff = self.values - self.mean
        return torch.tensordot(self.probs, diff * diff, dims=1)

    def table(self) -> list[tuple[Any, float]]:
        """``[(value, probability), ...]`` for display."""
        vals = self.values.tolist()
        return list(zip(vals, self.probs.tolist()))

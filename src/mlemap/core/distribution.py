"""The model of i.i.d. observations from a distribution family, and the prior as a penalty.

For a family with per-observation log-density :math:`\\log p(x \\mid \\theta)` and a layout mapping
the unconstrained vector ``u`` to the free natural parameters (fixed ones filled in), one chunk
contributes

.. math:: f_c(u) = -\\sum_{i \\in c} w_i \\log p(x_i \\mid \\theta(u)),

with its exact gradient and Hessian in ``u`` by autograd. Chunks are dicts of the family's
features (``x``, ``log_x``, ...) and, for weighted data, ``weight``. A family with sufficient
statistics is evaluated from them instead: :math:`f(u) = -\\ell(\\theta(u); s)`.

The prior contributes :math:`f_\\pi(u) = -\\sum_j \\log \\pi_j(\\theta_j(u))`, once, with each prior
density taken in the space it is stated in (``variance`` for a normal, say).
"""

from __future__ import annotations

from typing import Mapping

import torch

from .contribution import Contribution, autograd_contribution

WEIGHT = "weight"


def chunk_log_likelihood(family, chunk: Mapping[str, torch.Tensor], params: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """:math:`\\sum_{i \\in c} w_i \\log p(x_i \\mid \\theta)` of one chunk of features at natural ``params``."""
    lp = family.log_prob(chunk, params)
    w = chunk.get(WEIGHT)
    return lp.sum() if w is None else (w * lp).sum()


class DistributionModel:
    """Rows of features of one family; ``x`` is the layout's unconstrained vector."""

    def __init__(self, family, layout, fixed: Mapping[str, torch.Tensor]):
        self.family = family
        self.layout = layout
        self.fixed = dict(fixed)

    @property
    def size(self) -> int:
        return self.layout.size

    def params(self, u: torch.Tensor) -> dict[str, torch.Tensor]:
        """Natural parameters at ``u``, fixed values included."""
        return {**self.fixed, **self.layout.unpack(u)}

    def log_likelihood(self, chunk: Mapping[str, torch.Tensor], params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """:math:`\\sum_{i \\in c} w_i \\log p(x_i \\mid \\theta)` of one chunk at natural ``params``."""
        return chunk_log_likelihood(self.family, chunk, params)

    def contribution(self, chunk, u: torch.Tensor, order: int) -> Contribution:
        return autograd_contribution(lambda v: -self.log_likelihood(chunk, self.params(v)), u, order)

    def contribution_from_statistics(self, stats, u: torch.Tensor, order: int) -> Contribution:
        return autograd_contribution(lambda v: -self.family.log_likelihood_stats(stats, self.params(v)), u, order)

    def with_layout(self, layout, fixed: Mapping[str, torch.Tensor] | None = None) -> "DistributionModel":
        return DistributionModel(self.family, layout, self.fixed if fixed is None else fixed)


class PriorPenalty:
    """:math:`-\\sum_j \\log\\pi_j(\\theta_j(u))` over the priors of the free parameters in the layout."""

    def __init__(self, layout, fixed: Mapping[str, torch.Tensor], priors: Mapping[str, object]):
        self.layout = layout
        self.fixed = dict(fixed)
        self.priors = dict(priors)

    def log_prior_at(self, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        total = None
        for base, term in self.priors.items():
            lp = term.log_prob(params[base])
            total = lp if total is None else total + lp
        return total if total is not None else torch.zeros(())

    def contribution(self, u: torch.Tensor, order: int) -> Contribution:
        return autograd_contribution(lambda v: -self.log_prior_at({**self.fixed, **self.layout.unpack(v)}), u, order)

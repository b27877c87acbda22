"""The model of i.i.d. observations from a distribution family, and the prior as a penalty.

For a family with per-observation log-density :math:`\\log p(x \\mid \\theta)` and a layout mapping
the unconstrained vector ``u`` to the free natural parameters (fixed ones filled in), one chunk
contributes

.. math:: f_c(u) = -\\sum_{i \\in c} w_i \\log p(x_i \\mid \\theta(u)),

with its exact gradient and Hessian in ``u`` by autograd, or, for a family that gives them in closed
form (``log_likelihood_derivatives``: the chunk's value, gradient and Hessian in its natural
parameters), by the chain rule through the layout's map :math:`\\theta(u)`:

.. math:: \\nabla_u f = -J^\\top g, \\qquad \\nabla^2_u f = -\\big(J^\\top H J + \\textstyle\\sum_k g_k \\nabla^2_u\\theta_k\\big),

where only the few scalars :math:`\\theta(u)` go through autograd. Chunks are dicts of the family's
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
        closed_form = getattr(self.family, "log_likelihood_derivatives", None)
        if closed_form is not None and order > 0:
            chain = self._chain(u)
            if chain is not None:
                value, g, H = closed_form(chunk, chunk.get(WEIGHT), self.params(u.detach()), order)
                return chain.contribution(value, g, H, order)
        return autograd_contribution(lambda v: -self.log_likelihood(chunk, self.params(v)), u, order)

    def _chain(self, u: torch.Tensor) -> "ParameterChain | None":
        cached = getattr(self, "_last_chain", None)
        if cached is not None and cached.at.shape == u.shape and bool(torch.equal(cached.at, u.detach())):
            return cached
        chain = ParameterChain.of(self.layout, list(self.family.parameters), u)
        self._last_chain = chain
        return chain

    def contribution_from_statistics(self, stats, u: torch.Tensor, order: int) -> Contribution:
        return autograd_contribution(lambda v: -self.family.log_likelihood_stats(stats, self.params(v)), u, order)

    def with_layout(self, layout, fixed: Mapping[str, torch.Tensor] | None = None) -> "DistributionModel":
        return DistributionModel(self.family, layout, self.fixed if fixed is None else fixed)


class ParameterChain:
    """The layout's map to the free scalar parameters at ``u``: which of the family's parameters they
    are (``index``), the Jacobian ``J`` (k, p) and the second derivatives ``T`` (k, p, p)."""

    def __init__(self, at: torch.Tensor, index: list[int], J: torch.Tensor, T: torch.Tensor):
        self.at, self.index, self.J, self.T = at, index, J, T

    @classmethod
    def of(cls, layout, parameters: list[str], u: torch.Tensor) -> "ParameterChain | None":
        """None when a free parameter is not a scalar of the family (the autograd route then applies)."""
        u = u.detach()
        names = list(layout.unpack(u))
        if any(n not in parameters for n in names) or any(v.dim() != 0 for v in layout.unpack(u).values()):
            return None

        def theta(v):
            values = layout.unpack(v)
            return torch.stack([values[n] for n in names])

        J = torch.autograd.functional.jacobian(theta, u)
        T = torch.stack([torch.autograd.functional.hessian(lambda v, k=k: theta(v)[k], u) for k in range(len(names))])
        return cls(u.clone(), [parameters.index(n) for n in names], J.reshape(len(names), -1),
                   T.reshape(len(names), u.numel(), u.numel()))

    def contribution(self, value, grad, hess, order: int) -> Contribution:
        """:math:`f = -\\ell` with its derivatives in ``u`` from the natural ``grad`` and ``hess`` of :math:`\\ell`."""
        g = grad[self.index].to(self.J.dtype)
        if order < 2:
            return Contribution(-value, -(self.J.T @ g))
        H = hess[self.index][:, self.index].to(self.J.dtype)
        return Contribution(-value, -(self.J.T @ g), -(self.J.T @ H @ self.J + torch.einsum("k,kij->ij", g, self.T)))


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

"""Additive contributions to an objective: value, gradient and Hessian of one piece.

Every objective mlemap minimises is a sum of pieces,

.. math:: f(x) = \\sum_{c \\in \\text{chunks}} f_c(x) + f_\\pi(x), \\qquad
          f_c(x) = -\\sum_{i \\in c} w_i \\log p(y_i \\mid \\theta(x)), \\quad f_\\pi(x) = -\\log\\pi(\\theta(x)),

over the chunks of a data source and the prior, taken once. A :class:`Contribution` holds one
piece's value and, as asked, its gradient and Hessian in the optimisation coordinates ``x``;
``a + b`` is the contribution of the union, so a reduction over the chunks of a source (in memory,
in a file, on the workers of a cluster) yields the exact full-data objective, gradient and Hessian.

:func:`autograd_contribution` computes a piece from a scalar torch function of ``x``: the gradient
by reverse mode, the exact Hessian by one batched backward pass over the identity (or one pass per
row where an operation has no batching rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch


@dataclass
class Contribution:
    """One additive piece of an objective: ``value`` (a 0-d tensor), ``grad`` (p,), ``hess`` (p, p);
    a regression's pieces also carry ``largest``, the largest :math:`|\\eta|` over their rows of
    positive weight (combined by ``max``: a diverging predictor is the sign of separation)."""

    value: torch.Tensor
    grad: torch.Tensor | None = None
    hess: torch.Tensor | None = None
    largest: float | None = None

    def __add__(self, other: "Contribution") -> "Contribution":
        if not isinstance(other, Contribution):
            return NotImplemented
        return Contribution(
            self.value + other.value,
            _add(self.grad, other.grad),
            _add(self.hess, other.hess),
            _max(self.largest, other.largest),
        )

    def __radd__(self, other):
        if isinstance(other, (int, float)) and other == 0:  # lets sum() start from 0
            return self
        return NotImplemented

    def to(self, device) -> "Contribution":
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Contribution(self.value.to(device), move(self.grad), move(self.hess), self.largest)


def _max(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def zero_contribution(size: int, order: int, *, dtype=torch.float64, device=None) -> Contribution:
    """The contribution of a piece that does not depend on ``x`` and is zero."""
    z = torch.zeros((), dtype=dtype, device=device)
    g = torch.zeros(size, dtype=dtype, device=device) if order >= 1 else None
    h = torch.zeros(size, size, dtype=dtype, device=device) if order >= 2 else None
    return Contribution(z, g, h)


def autograd_contribution(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, order: int) -> Contribution:
    """``fn(x)`` with its exact gradient (``order >= 1``) and Hessian (``order == 2``) by autograd."""
    p = x.numel()
    if order == 0:
        with torch.no_grad():
            return Contribution(fn(x.detach()).detach())
    with torch.enable_grad():
        xx = x.detach().clone().requires_grad_(True)
        f = fn(xx)
        if not f.requires_grad:  # a piece that does not depend on x
            z = zero_contribution(p, order, dtype=x.dtype, device=x.device)
            return Contribution(f.detach(), z.grad, z.hess)
        (g,) = torch.autograd.grad(f, xx, create_graph=order == 2)
        h = hessian_rows(g, xx) if order == 2 else None
    return Contribution(f.detach(), g.detach(), h)


def hessian_rows(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Exact Hessian from the gradient graph: a backward pass per row, batched over the identity when many."""
    p = x.numel()
    if not g.requires_grad:
        return torch.zeros(p, p, dtype=x.dtype, device=x.device)
    if p <= 8:  # a few backward passes beat the one-off cost of setting up the batched pass
        rows = [torch.autograd.grad(g[i], x, retain_graph=True, allow_unused=True)[0] for i in range(p)]
        return torch.stack([r if r is not None else torch.zeros_like(x) for r in rows]).detach()
    eye = torch.eye(p, dtype=x.dtype, device=x.device)
    try:
        (H,) = torch.autograd.grad(g, x, grad_outputs=eye, is_grads_batched=True, allow_unused=True)
    except RuntimeError:  # an operation without a batching rule: fall back to one pass per row
        rows = [torch.autograd.grad(g[i], x, retain_graph=True, allow_unused=True)[0] for i in range(p)]
        H = torch.stack([r if r is not None else torch.zeros_like(x) for r in rows])
    if H is None:
        return torch.zeros(p, p, dtype=x.dtype, device=x.device)
    return H.detach()

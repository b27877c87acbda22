"""Bijections from unconstrained space to each parameter's natural space.

The numerical engine optimises an unconstrained vector ``u`` and maps it to the natural parameter
with ``biject_to(constraint)`` (torch's registry of bijective transforms, the same idea as
``transform_to`` but one-to-one, so the Hessian in ``u`` is not singular: the simplex uses
stick-breaking, not softmax). Positive-definite matrices, which torch does not register, use the
log-Cholesky map of :class:`CholeskyVechTransform`.
"""

from __future__ import annotations

import torch
from torch.distributions import biject_to, constraints
from torch.distributions.transforms import Transform


class CholeskyVechTransform(Transform):
    """Map ``v`` in R^{d(d+1)/2} to the positive-definite matrix ``L L^T``.

    ``L`` is lower triangular, filled row by row from ``v``, with ``exp`` applied to its diagonal
    (the log-Cholesky parametrisation, Pinheiro & Bates 1996): a smooth bijection onto the cone.
    """

    domain = constraints.independent(constraints.real, 1)
    codomain = constraints.positive_definite
    bijective = True

    def __init__(self, dim: int, cache_size: int = 0):
        super().__init__(cache_size=cache_size)
        self.dim = dim
        self._rows, self._cols = torch.tril_indices(dim, dim)

    def __eq__(self, other):
        return isinstance(other, CholeskyVechTransform) and other.dim == self.dim

    def _lower(self, v: torch.Tensor) -> torch.Tensor:
        d = self.dim
        L = v.new_zeros(v.shape[:-1] + (d, d))
        L[..., self._rows, self._cols] = v
        diag = torch.diagonal(L, dim1=-2, dim2=-1)
        return L - torch.diag_embed(diag) + torch.diag_embed(diag.exp())

    def _call(self, v: torch.Tensor) -> torch.Tensor:
        L = self._lower(v)
        return L @ L.transpose(-1, -2)

    def _inverse(self, sigma: torch.Tensor) -> torch.Tensor:
        L = torch.linalg.cholesky(sigma)
        diag = torch.diagonal(L, dim1=-2, dim2=-1)
        L = L - torch.diag_embed(diag) + torch.diag_embed(diag.log())
        return L[..., self._rows, self._cols]

    def forward_shape(self, shape):
        n = shape[-1]
        d = int(round(((8 * n + 1) ** 0.5 - 1) / 2))
        return torch.Size(shape[:-1]) + (d, d)

    def inverse_shape(self, shape):
        d = shape[-1]
        return torch.Size(shape[:-2]) + (d * (d + 1) // 2,)


def unconstrained_bijection(constraint, shape: torch.Size) -> Transform:
    """The bijection from unconstrained space onto ``constraint`` for a parameter of ``shape``."""
    if isinstance(constraint, type(constraints.positive_definite)):
        return CholeskyVechTransform(shape[-1])
    return biject_to(constraint)


def is_simplex(constraint) -> bool:
    return isinstance(constraint, type(constraints.simplex))


def is_positive_definite(constraint) -> bool:
    return isinstance(constraint, type(constraints.positive_definite))


def finite_bounds(constraint) -> tuple[float | None, float | None]:
    """Lower and upper bounds of an elementwise interval-type constraint (``None`` when unbounded)."""
    base = constraint
    while isinstance(base, constraints.independent):
        base = base.base_constraint
    lower = getattr(base, "lower_bound", None)
    upper = getattr(base, "upper_bound", None)
    if is_simplex(base):
        return 0.0, 1.0
    to_float = lambda b: None if b is None else float(b)  # noqa: E731
    return to_float(lower), to_float(upper)

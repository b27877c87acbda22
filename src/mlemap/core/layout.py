"""Packing of the free parameters into one unconstrained vector ``u``.

Each free parameter occupies a slice of ``u`` and is mapped to its natural space by the bijection
of its constraint. Elements that sit on the boundary of the parameter space (a probability of
exactly 0, an unobserved category) can be held at their bound: they are then not part of ``u`` and
the bijection acts on the remaining elements only (for a simplex, on the reduced simplex of the
non-zero components).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions.transforms import Transform

from ..families.transforms import (
    is_positive_definite,
    is_simplex,
    unconstrained_bijection,
)


@dataclass
class Slot:
    name: str
    shape: torch.Size
    constraint: object
    transform: Transform
    offset: int
    size: int
    active: torch.Tensor | None  # boolean mask over the flattened natural elements; None = all active
    held: torch.Tensor | None  # natural values of the full parameter, used where not active

    @property
    def n_natural(self) -> int:
        return int(torch.Size(self.shape).numel())


class ParameterLayout:
    """Map between the free natural parameters and the unconstrained optimisation vector."""

    def __init__(
        self,
        names: list[str],
        shapes: dict[str, torch.Size],
        constraints: dict[str, object],
        held: dict[str, torch.Tensor] | None = None,
    ):
        """``held[name]`` is a natural value whose NaN entries are free and finite entries are held."""
        held = held or {}
        self.slots: list[Slot] = []
        offset = 0
        for name in names:
            shape = torch.Size(shapes[name])
            c = constraints[name]
            hold = held.get(name)
            active = None if hold is None else torch.isnan(hold.reshape(-1))
            if active is not None and bool(active.all()):
                active, hold = None, None
            n_active = shape.numel() if active is None else int(active.sum())
            if is_positive_definite(c):
                if active is not None:
                    raise ValueError("positive-definite parameters cannot hold elements on the boundary")
                t = unconstrained_bijection(c, shape)
                size = shape[-1] * (shape[-1] + 1) // 2
            elif is_simplex(c):
                t = unconstrained_bijection(c, torch.Size([n_active]))
                size = max(n_active - 1, 0)
            else:
                t = unconstrained_bijection(c, shape)
                size = n_active
            self.slots.append(Slot(name, shape, c, t, offset, size, active, hold))
            offset += size
        self.size = offset

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.slots]

    def unpack(self, u: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        for s in self.slots:
            piece = u[s.offset : s.offset + s.size]
            if is_positive_definite(s.constraint):
                out[s.name] = s.transform(piece)
                continue
            if is_simplex(s.constraint):
                values = s.transform(piece) if s.size > 0 else torch.ones(1, dtype=u.dtype, device=u.device)
            else:
                values = s.transform(piece)
            if s.active is None:
                out[s.name] = values.reshape(s.shape)
            else:
                full = s.held.reshape(-1).to(u.dtype)
                full = torch.where(s.active, torch.zeros_like(full), full)
                index = torch.nonzero(s.active).reshape(-1)
                out[s.name] = full.index_put((index,), values.reshape(-1)).reshape(s.shape)
        return out

    def pack(self, values: dict[str, torch.Tensor]) -> torch.Tensor:
        pieces = []
        for s in self.slots:
            v = values[s.name]
            if is_positive_definite(s.constraint):
                pieces.append(s.transform.inv(v).reshape(-1))
                continue
            flat = v.reshape(-1) if s.active is None else v.reshape(-1)[s.active]
            if is_simplex(s.constraint):
                if s.size == 0:
                    continue
                flat = flat / flat.sum()
            pieces.append(s.transform.inv(flat).reshape(-1))
        if not pieces:
            return torch.zeros(0, dtype=torch.float64)
        return torch.cat(pieces)

    def natural_flat(self, u: torch.Tensor) -> torch.Tensor:
        """All free natural elements, flattened in slot order (for Jacobians and covariances)."""
        values = self.unpack(u)
        return torch.cat([values[s.name].reshape(-1) for s in self.slots]) if self.slots else u[:0]

    def natural_index(self) -> list[tuple[str, int]]:
        """``(name, flat element)`` for each entry of :meth:`natural_flat`."""
        return [(s.name, i) for s in self.slots for i in range(s.n_natural)]

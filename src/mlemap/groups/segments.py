"""Per-group reductions of rows held in group order: each group one contiguous block of rows.

For a batch of groups with ``lengths`` rows each (every group at least one row), the rows of the
batch are the concatenation of the groups' blocks, so a per-group sum is a segment sum
(``torch.segment_reduce``: one sequential pass, no scatter into random positions), and a per-group
value is spread to its rows by ``repeat_interleave``. Where every group has the same number of rows
``m`` the rows are a ``(groups, m)`` table: sums over its rows and spreads by broadcasting. The sums
agree with ``index_add`` to rounding.
"""

from __future__ import annotations

import torch


#: the reductions over the rows of a (groups, rows) table
TABLE_REDUCTIONS = {"sum": torch.sum, "max": torch.amax, "min": torch.amin}


class Segments:
    """The blocks of rows of a batch of groups (see the module docstring)."""

    def __init__(self, lengths: torch.Tensor):
        self.lengths = lengths
        self.offsets = torch.cat([lengths.new_zeros(1), torch.cumsum(lengths, 0)])
        self.n_rows = int(self.offsets[-1])
        #: the common number of rows of every group, or None
        self.width = int(lengths[0]) if lengths.numel() and bool((lengths == lengths[0]).all()) else None

    @property
    def size(self) -> int:
        return int(self.lengths.shape[0])

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """:math:`\\sum_{i \\in b} v_i` per group (values ``(n_rows,)``)."""
        return self._reduce(values, "sum")

    def max(self, values: torch.Tensor) -> torch.Tensor:
        return self._reduce(values, "max")

    def min(self, values: torch.Tensor) -> torch.Tensor:
        return self._reduce(values, "min")

    def _reduce(self, values: torch.Tensor, how: str) -> torch.Tensor:
        if self.width is not None:
            return TABLE_REDUCTIONS[how](values.reshape(self.size, self.width), 1)
        return torch.segment_reduce(values, how, offsets=self.offsets)

    def spread(self, per_group: torch.Tensor) -> torch.Tensor:
        """Each group's value repeated over its rows."""
        if self.width is not None:
            return per_group.unsqueeze(1).expand(self.size, self.width).reshape(self.n_rows)
        return torch.repeat_interleave(per_group, self.lengths, output_size=self.n_rows)

    def rowwise(self, op, values: torch.Tensor, per_group: torch.Tensor) -> torch.Tensor:
        """``op(values, spread(per_group))`` (elementwise), broadcast without the spread where groups are equal-sized."""
        if self.width is not None:
            return op(values.reshape(self.size, self.width), per_group.unsqueeze(1)).reshape(self.n_rows)
        return op(values, self.spread(per_group))

    def select(self, keep: torch.Tensor) -> tuple[Segments, torch.Tensor]:
        """The segments of the groups where ``keep`` holds, and the positions of their rows."""
        lengths = self.lengths[keep]
        first = (self.offsets[:-1][keep] - torch.cumsum(lengths, 0) + lengths)
        sub = Segments(lengths)
        return sub, sub.spread(first) + torch.arange(sub.n_rows, device=lengths.device)

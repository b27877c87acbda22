"""Per-group reductions of rows held in group order: each group one contiguous block of rows.

For a batch of groups with ``lengths`` rows each (every group at least one row), the rows of the
batch are the concatenation of the groups' blocks, so a per-group sum is a segment sum
(``torch.segment_reduce``: one sequential pass, no scatter into random positions), and a per-group
value is spread to its rows by ``repeat_interleave``. The sums agree with ``index_add`` to rounding.
"""

from __future__ import annotations

import torch


class Segments:
    """The blocks of rows of a batch of groups (see the module docstring)."""

    def __init__(self, lengths: torch.Tensor):
        self.lengths = lengths
        self.offsets = torch.cat([lengths.new_zeros(1), torch.cumsum(lengths, 0)])
        self.n_rows = int(self.offsets[-1])

    @property
    def size(self) -> int:
        return int(self.lengths.shape[0])

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """:math:`\\sum_{i \\in b} v_i` per group (values ``(n_rows,)``)."""
        return torch.segment_reduce(values, "sum", offsets=self.offsets)

    def max(self, values: torch.Tensor) -> torch.Tensor:
        return torch.segment_reduce(values, "max", offsets=self.offsets)

    def spread(self, per_group: torch.Tensor) -> torch.Tensor:
        """Each group's value repeated over its rows."""
        return torch.repeat_interleave(per_group, self.lengths, output_size=self.n_rows)

    def select(self, keep: torch.Tensor) -> tuple["Segments", torch.Tensor]:
        """The segments of the groups where ``keep`` holds, and the positions of their rows."""
        lengths = self.lengths[keep]
        first = (self.offsets[:-1][keep] - torch.cumsum(lengths, 0) + lengths)
        sub = Segments(lengths)
        return sub, sub.spread(first) + torch.arange(sub.n_rows, device=lengths.device)

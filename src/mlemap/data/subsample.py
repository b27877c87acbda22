"""A subsample of rows that does not depend on the order of the rows.

The engine warm-starts large fits on a subsample. Drawing it by random positions would make the
warm start, and so the last digits of the estimate, depend on how the rows happen to be ordered.
Here the rows are put in a canonical order first (sorted by value, then by weight and any
per-row fixed values, with stable sorts so that only identical rows keep their relative order)
and the subsample takes evenly spaced ranks of that order: a stratified sample, with every
quantile of the data represented, and the same rows whatever the input order.
"""

from __future__ import annotations

import torch


def canonical_order(keys: list[torch.Tensor]) -> torch.Tensor:
    """Indices sorting the rows lexicographically by ``keys`` (the first key first); each key has the
    rows along its first axis, and a multi-column key counts its columns in turn."""
    columns = []
    for key in keys:
        flat = key.reshape(key.shape[0], -1)
        columns.extend(flat[:, j] for j in range(flat.shape[1]))
    n = columns[0].shape[0]
    order = torch.arange(n, device=columns[0].device)
    for column in reversed(columns):
        order = order[torch.argsort(column[order], stable=True)]
    return order


def stratified_subsample(keys: list[torch.Tensor], size: int) -> torch.Tensor:
    """Row indices of ``size`` evenly spaced ranks in the canonical order of the rows (with repetition
    when ``size`` exceeds the number of rows)."""
    order = canonical_order(keys)
    n = order.shape[0]
    ranks = ((torch.arange(size, dtype=torch.float64) + 0.5) * (n / size)).long().clamp_(0, n - 1)
    return order[ranks.to(order.device)]

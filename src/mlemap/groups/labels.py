"""Group labels to integer codes: the batch dimension of a grouped fit.

``groups`` holds one label per observation (strings, integers, categories, ...). The labels are
factorised once into codes ``0 .. G-1`` (sorted labels where they sort, else in order of first
appearance), and the rows are ordered by group with a stable sort, so that every group's rows
are one contiguous block: ``rows(g) = order[start[g] : start[g] + count[g]]``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import DataError, ShapeError


@dataclass(frozen=True)
class GroupIndex:
    """Codes of the observations and the layout of the groups (see the module docstring)."""

    #: the distinct labels, in code order
    labels: pd.Index
    #: the group code of every observation, in the caller's row order
    codes: torch.Tensor
    #: row numbers ordered by group (stable: rows keep their order within a group)
    order: torch.Tensor
    #: first position of each group in ``order``, and its number of rows
    start: torch.Tensor
    count: torch.Tensor

    @property
    def size(self) -> int:
        """The number of groups."""
        return len(self.labels)

    @property
    def sorted_codes(self) -> torch.Tensor:
        """The group code of every row in group order (non-decreasing)."""
        return torch.repeat_interleave(torch.arange(self.size, device=self.count.device), self.count)

    def position(self, label: Any) -> int:
        """The code of ``label``, or a :class:`KeyError` naming close labels."""
        try:
            found = self.labels.get_loc(label)
        except (KeyError, TypeError, pd.errors.InvalidIndexError):
            found = None
        if not isinstance(found, (int, np.integer)):
            shown = [str(v) for v in self.labels[:2000]]
            close = difflib.get_close_matches(str(label), shown, n=3)
            hint = f" Close labels: {', '.join(repr(c) for c in close)}." if close else ""
            raise KeyError(f"No group {label!r} among the {self.size} groups.{hint}")
        return int(found)

    def rows(self, code: int) -> torch.Tensor:
        """Row numbers (caller's order) of group ``code``."""
        a = int(self.start[code])
        return self.order[a : a + int(self.count[code])]

    def rows_of(self, codes: torch.Tensor) -> torch.Tensor:
        """Positions in group order of the rows of the groups ``codes`` (ascending codes), one block each."""
        counts = self.count[codes]
        first = torch.repeat_interleave(self.start[codes] - torch.cumsum(counts, 0) + counts, counts)
        return first + torch.arange(int(counts.sum()), device=counts.device)


def group_index(groups: Any, n: int, *, device=None) -> GroupIndex:
    """Factorise ``groups`` (one label per observation) after checking its length and missing labels."""
    values = _as_labels(groups)
    if values.ndim != 1:
        raise ShapeError(
            f"The 'groups' argument must hold one label per observation (1-D). Got shape {tuple(values.shape)}; "
            "to group by several columns, combine them into one label first, for example "
            "df['a'].astype(str) + '/' + df['b'].astype(str)."
        )
    if values.shape[0] != n:
        raise ShapeError(
            f"The 'groups' argument has {values.shape[0]} labels but the data have {n} observations. Pass one "
            "group label per observation (the same rows as 'data')."
        )
    if n == 0:
        raise DataError("The data are empty, so there are no groups to fit.")
    try:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    except TypeError:  # labels of mixed types that do not sort: keep the order of first appearance
        codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    missing = codes < 0
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"The 'groups' argument has {int(missing.sum())} missing label(s) (NaN or None); the first is at row "
            f"{first}. Give those rows a group label, or drop them from both 'data' and 'groups'."
        )
    codes_t = torch.as_tensor(codes, dtype=torch.int64, device=device)
    in_order = codes_t.numel() < 2 or bool((codes_t[1:] >= codes_t[:-1]).all())
    order = torch.arange(n, device=codes_t.device) if in_order else torch.argsort(codes_t, stable=True)
    count = torch.bincount(codes_t, minlength=len(uniques))
    start = torch.cumsum(count, 0) - count
    labels = pd.Index(uniques, name=getattr(groups, "name", None))
    return GroupIndex(labels, codes_t, order, start, count)


def _as_labels(groups: Any) -> np.ndarray:
    if groups is None or isinstance(groups, (str, bytes)) or np.isscalar(groups):
        raise DataError(
            "The 'groups' argument must be a sequence with one label per observation (a list, array or "
            f"pandas Series). Got {type(groups).__name__} instead."
        )
    if isinstance(groups, pd.DataFrame):
        if groups.shape[1] != 1:
            raise ShapeError(
                f"The 'groups' argument is a table with {groups.shape[1]} columns; pass one column of labels, or "
                "combine the columns into one label first, for example df['a'].astype(str) + '/' + df['b'].astype(str)."
            )
        groups = groups.iloc[:, 0]
    if isinstance(groups, torch.Tensor):
        return groups.detach().cpu().numpy()
    if isinstance(groups, (pd.Series, pd.Index, pd.Categorical)):
        return np.asarray(groups, dtype=object) if isinstance(groups, pd.Categorical) else groups.to_numpy()
    try:
        array = np.asarray(groups)
    except (TypeError, ValueError) as exc:
        raise DataError(f"The 'groups' argument could not be read as one label per observation: {exc}.") from None
    if array.dtype.kind == "O" or array.ndim != 1:
        array = np.asarray(list(groups) if array.ndim != 1 else array, dtype=object)
    return array

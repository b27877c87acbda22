"""The grouped problem: one family, one set of fixed values and priors, many groups of rows.

Group ``g`` is the distribution problem of its own rows,

.. math:: \\hat\\theta_g = \\arg\\max_\\theta \\Big[\\sum_{i \\in g} w_i \\log p(x_i \\mid \\theta) + \\log\\pi(\\theta)\\Big],

and the groups share nothing but the family, the fixed values and the prior. The observations are
held in group order (each group one contiguous block of rows), with per-row features, weights and
per-row fixed values in the same order; :meth:`GroupedProblem.group` builds the
:class:`mlemap.core.distribution_problem.DistributionProblem` of one group, exactly as ``mm.fit`` builds it for those rows alone.
"""

from __future__ import annotations

from functools import cached_property
from typing import Mapping

import torch

from ..errors import DataError
from ..families.base import DataContext, Family
from ..core.distribution_problem import DistributionProblem as Problem
from .labels import GroupIndex
from .segments import Segments
from .statistics import StatisticsUnavailable, grouped_statistics


class GroupedProblem:
    """Family, rows in group order, fixed values, priors and the group layout (see the module docstring)."""

    def __init__(self, family, x: torch.Tensor, weights, fixed: Mapping[str, torch.Tensor], priors, index: GroupIndex):
        n = x.shape[0]
        self.family = family
        self.index = index
        self.n_rows = n
        order = index.order
        self.x = x[order]
        self.weights = None if weights is None else weights[order]
        #: fixed values; those with one value per row are put in group order
        self.fixed = {k: (v[order] if _per_row(v, n) else v) for k, v in fixed.items()}
        self.priors = dict(priors)
        self.free = [p for p in family.parameters if p not in fixed]
        self.codes = index.sorted_codes
        self.ctx = DataContext(self.x)
        self.shapes = {name: torch.Size(family.shape(name, x.shape[1:])) for name in family.all_parameters()}

    # ------------------------------------------------------------------ facts
    @property
    def n_groups(self) -> int:
        return self.index.size

    @property
    def dtype(self) -> torch.dtype:
        return self.x.dtype

    @property
    def device(self) -> torch.device:
        return self.x.device

    @cached_property
    def weight(self) -> torch.Tensor:
        """Total weight of each group (its number of observations when unweighted)."""
        if self.weights is None:
            return self.index.count.to(self.dtype)
        return torch.zeros(self.n_groups, dtype=self.dtype, device=self.device).index_add_(0, self.codes, self.weights)

    def constraint(self, name: str):
        """The constraint of a parameter, as for a sample with no data-dependent bounds."""
        return self.family.constraint(name, None)

    # ------------------------------------------------------------------ data views
    @cached_property
    def features(self) -> dict[str, torch.Tensor]:
        """The family's per-row features of all rows (group order)."""
        return self.family.features(self.x, self.fixed)

    @cached_property
    def statistics(self):
        """Sufficient statistics of every group (leading group dimension), or None without them."""
        if not self.family.has_statistics:
            return None
        try:
            return grouped_statistics(self.family, self.features, self.weights, self.codes, self.n_groups)
        except StatisticsUnavailable:
            return None

    def row_slice(self, code: int) -> slice:
        a = int(self.index.start[code])
        return slice(a, a + int(self.index.count[code]))

    def group(self, code: int) -> Problem:
        """The distribution problem of group ``code`` alone (what ``mm.fit`` builds for its rows)."""
        rows = self.row_slice(code)
        n = self.n_rows
        fixed = {k: (v[rows] if _per_row(v, n) else v) for k, v in self.fixed.items()}
        w = None if self.weights is None else self.weights[rows]
        return Problem(self.family, self.x[rows], w, fixed, self.priors)

    # ------------------------------------------------------------------ groups without an estimate
    @cached_property
    def degenerate(self) -> dict[int, str]:
        """Groups whose estimate does not exist (all observations equal, ...), with the family's reason.

        The family's own identifiability check runs on each group whose rows are all equal (also modulo
        a full turn, for circular data): the only samples for which the built-in checks refuse a fit.
        """
        out = {}
        if type(self.family).check_identifiable is Family.check_identifiable:
            return out  # the family refuses no sample
        for code in self._all_equal_groups().tolist():
            problem = self.group(code)
            try:
                self.family.check_identifiable(problem.x, problem.weights, set(self.free), set(self.priors), problem.ctx)
            except DataError as exc:
                out[code] = str(exc)
        return out

    def _all_equal_groups(self) -> torch.Tensor:
        """Groups whose rows are all equal, or all equal modulo a full turn (smallest == largest value)."""
        flat = self.x.reshape(self.n_rows, -1)
        segments = Segments(self.index.count)
        equal = None
        for values in (flat, torch.remainder(flat, 2 * torch.pi)):
            same = torch.ones(self.n_groups, dtype=torch.bool, device=self.device)
            for column in values.unbind(1):
                column = column.contiguous()
                same &= segments.min(column) == segments.max(column)
            equal = same if equal is None else equal | same
        return torch.nonzero(equal).reshape(-1)


def _per_row(value: torch.Tensor, n: int) -> bool:
    return value.dim() > 0 and value.shape[0] == n and n > 1


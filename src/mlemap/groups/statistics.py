"""Sufficient statistics of every group at once: a batch with a leading group dimension.

The family's own :meth:`~mlemap.families.base.Family.statistics` is applied to each observation as
a sample of one (``torch.func.vmap`` over the rows, weights always given), which yields its terms:
``w_i t(x_i)`` for the sums, ``(t(x_i), 0)`` with weight ``w_i`` for the moments, ``(t(x_i), t(x_i))``
for the extremes. The terms are merged per group by the same rules as
:meth:`SufficientStatistics.__add__`, in one scatter each: sums and weights by ``index_add``,
moments by the grouped weighted mean and the centred sum :math:`\\sum_{i \\in g} w_i (t_i - \\bar t_g)^2`
(two passes, no cancellation), extremes by ``scatter_reduce`` (``amin``/``amax``).

Log-gaps (the mean of a positive quantity, its rounding residual and
:math:`W(\\log\\bar t - \\overline{\\log t})`, where a family keeps them) are formed per group as
``weighted_log_gap`` forms them for one sample. A kind of field without a grouped rule makes the
statistics unavailable (the routes then use the rows), never a silently wrong merge.

The result is a :class:`~mlemap.families.statistics.SufficientStatistics` whose tensors have a
leading dimension of the number of groups; :func:`take` slices one group or a subset.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import torch
from torch.func import vmap

from ..families.statistics import SufficientStatistics


#: the kinds of field merged here (other kinds: the statistics are refused, and the rows are used instead)
KINDS = ("weight", "sums", "moments", "extremes", "log_gaps")


class StatisticsUnavailable(Exception):
    """The family's statistics cannot be evaluated row by row (they need the whole sample at once)."""


def grouped_statistics(
    family, feats: Mapping[str, torch.Tensor], w: torch.Tensor | None, codes: torch.Tensor, n_groups: int
) -> SufficientStatistics:
    """Statistics of each group from per-row features (rows of any order; ``codes`` their groups)."""
    n = codes.shape[0]
    rows = {k: v for k, v in feats.items() if v.dim() > 0 and v.shape[0] == n}
    constants = {k: v for k, v in feats.items() if k not in rows}
    dtype = next(iter(rows.values())).dtype
    weights = torch.ones(n, dtype=dtype, device=codes.device) if w is None else w

    def one(row, wi):
        s = family.statistics({**{k: v.unsqueeze(0) for k, v in row.items()}, **constants}, wi.unsqueeze(0))
        unknown = [f.name for f in dataclasses.fields(s) if f.name not in KINDS and getattr(s, f.name)]
        if unknown:
            raise StatisticsUnavailable(f"no grouped merge rule for the statistics' {', '.join(unknown)}")
        gaps = {k: g[0] for k, g in getattr(s, "log_gaps", {}).items()}
        return s.weight, dict(s.sums), {k: m[0] for k, m in s.moments.items()}, dict(s.extremes), gaps

    try:
        weight, sums, means, extremes, gaps = vmap(one)(rows, weights)
    except (RuntimeError, NotImplementedError, TypeError, ValueError, StatisticsUnavailable) as exc:
        raise StatisticsUnavailable(str(exc)) from exc

    def scatter_sum(values: torch.Tensor) -> torch.Tensor:
        out = torch.zeros((n_groups,) + values.shape[1:], dtype=values.dtype, device=values.device)
        return out.index_add_(0, codes, values)

    W = scatter_sum(weight)
    moments = {}
    for key, t in means.items():
        wt = weights.reshape((-1,) + (1,) * (t.dim() - 1))
        mean = scatter_sum(wt * t) / W.reshape((-1,) + (1,) * (t.dim() - 1))
        centred = t - mean[codes]
        if t.dim() == 1:
            m2 = scatter_sum(weights * centred * centred)
        else:
            m2 = scatter_sum(wt.unsqueeze(-1) * centred.unsqueeze(-1) * centred.unsqueeze(-2))
        moments[key] = (mean, m2)
    extra = {}
    if gaps:
        extra["log_gaps"] = {k: _grouped_log_gap(t, weights, W, codes, scatter_sum) for k, t in gaps.items()}
    return SufficientStatistics(
        weight=W,
        sums={k: scatter_sum(v) for k, v in sums.items()},
        moments=moments,
        extremes={k: (_scatter_extreme(lo, codes, n_groups, "amin"), _scatter_extreme(hi, codes, n_groups, "amax"))
                  for k, (lo, hi) in extremes.items()},
        **extra,
    )


def _grouped_log_gap(t, weights, W, codes, scatter_sum):
    """Each group's ``(m, c, G)`` of a positive quantity, as ``weighted_log_gap`` computes it for one
    sample: the mean :math:`m`, its residual :math:`c = m\\bar u` and :math:`G = \\sum w_i\\psi(u_i) - W\\psi(\\bar u)`
    with :math:`u_i = (t_i - m)/m`."""
    from ..families.statistics import excess_log  # where statistics carry log-gaps, the family module has it

    mean = scatter_sum(weights * t) / W
    m = mean[codes]
    u = (t - m) / m
    u_bar = scatter_sum(weights * u) / W
    return mean, mean * u_bar, scatter_sum(weights * excess_log(u)) - W * excess_log(u_bar)


def _scatter_extreme(values: torch.Tensor, codes: torch.Tensor, n_groups: int, reduce: str) -> torch.Tensor:
    index = codes.reshape((-1,) + (1,) * (values.dim() - 1)).expand_as(values)
    out = torch.empty((n_groups,) + values.shape[1:], dtype=values.dtype, device=values.device)
    return out.scatter_reduce_(0, index, values, reduce, include_self=False)


def take(s: SufficientStatistics, index) -> SufficientStatistics:
    """The statistics of one group (an integer) or of a subset of groups (an index tensor)."""
    extra = {}
    if getattr(s, "log_gaps", None):
        extra["log_gaps"] = {k: tuple(v[index] for v in parts) for k, parts in s.log_gaps.items()}
    return SufficientStatistics(
        weight=s.weight[index],
        sums={k: v[index] for k, v in s.sums.items()},
        moments={k: (m[index], m2[index]) for k, (m, m2) in s.moments.items()},
        extremes={k: (lo[index], hi[index]) for k, (lo, hi) in s.extremes.items()},
        **extra,
    )

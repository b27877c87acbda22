"""A distribution problem whose rows stay where they are: a file scan, a Dask collection.

:class:`StreamDistributionProblem` is a :class:`~mlemap.core.distribution_problem.DistributionProblem`
whose observations come from a :class:`~mlemap.core.source.DataSource` instead of a tensor. Nothing
above it needs the rows in memory:

* one first pass, the *survey* (:class:`DistributionSurvey`, a reduction like any other), counts the
  rows and their weight, takes the minimum and maximum, checks the support chunk by chunk (the first
  offending row is named, with its file or partition), reduces the family's sufficient statistics
  and keeps an order-free sample of the rows (:class:`~mlemap.core.sources_sample.RowSample`);
* closed forms then run on the statistics unchanged; starting values, the standardisation and the
  warm start use the sample;
* the objective, its exact gradient and Hessian (so the covariance) and the log-likelihood are
  reductions over the family's features computed chunk by chunk (:func:`~mlemap.core.sources_features.family_features`).
  Each evaluation reads the rows once and always returns the Hessian with the value
  (:class:`PassObjective`): a pass costs the read, so the optimiser's trial value and the Hessian
  at the accepted point share it.

Fast paths that need every row in memory (a family's ``fast_mle``, bootstrap replicates, plots of
the data) are skipped or refused with a message; the estimate is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import numpy as np
import torch

from ..errors import DataError, MethodError, SupportError, WeightsError
from ..families.base import DataContext
from .distribution import WEIGHT, DistributionModel, PriorPenalty
from .distribution_problem import DistributionProblem, feature_source
from .objective import Objective, PassObjective
from .source import DataSource
from .sources_features import family_features
from .sources_sample import RowSample

#: rows the sample keeps (the engine's subsample size)
SAMPLE_ROWS = 50_000


# ---------------------------------------------------------------------- the first pass
@dataclass
class SupportFinding:
    """Observations outside the family's support: how many, and the first (row counted over the whole data)."""

    count: int
    row: int
    value: Any
    fix: str


@dataclass
class DistributionSurvey:
    """What the first pass learns; ``a + b`` is the survey of both parts' rows (in this order)."""

    rows: int
    weight: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor
    sample: RowSample
    stats: Any = None
    outside: SupportFinding | None = None
    bad_weight: tuple[int, float] | None = None  # (row, value) of the first weight that is not positive and finite
    dtype: torch.dtype = torch.float64
    device: Any = None

    def __add__(self, other: "DistributionSurvey") -> "DistributionSurvey":
        outside = self.outside
        if other.outside is not None:
            shifted = SupportFinding(other.outside.count, other.outside.row + self.rows, other.outside.value,
                                     other.outside.fix)
            if outside is None:
                outside = shifted
            else:
                outside = SupportFinding(outside.count + shifted.count, outside.row, outside.value, outside.fix)
        bad = self.bad_weight
        if bad is None and other.bad_weight is not None:
            bad = (other.bad_weight[0] + self.rows, other.bad_weight[1])
        return DistributionSurvey(
            self.rows + other.rows,
            self.weight + other.weight.to(self.weight.device),
            torch.minimum(self.low, other.low.to(self.low.device)),
            torch.maximum(self.high, other.high.to(self.high.device)),
            self.sample + other.sample,
            None if self.stats is None or other.stats is None else self.stats + other.stats,
            outside,
            bad,
            self.dtype,
            self.device,
        )


@dataclass
class SurveyMap:
    """One chunk of raw observations -> its :class:`DistributionSurvey` (picklable: it runs on workers)."""

    family: Any
    column: str
    weight: str | None
    fixed: Mapping[str, Any] = field(default_factory=dict)
    sample_rows: int = SAMPLE_ROWS
    whole_chunks = True  # the row sample of a whole chunk costs less than merging those of its pieces

    def __call__(self, chunk) -> DistributionSurvey:
        x = chunk[self.column]
        w = None if self.weight is None else chunk[self.weight]
        n = int(x.shape[0])
        bad_weight = None
        if w is not None:
            wrong = ~(torch.isfinite(w) & (w > 0))
            if bool(wrong.any()):
                i = int(torch.nonzero(wrong)[0])
                bad_weight = (i, float(w[i]))
                w = torch.where(wrong, torch.ones_like(w), w)
        finite = torch.isfinite(x)
        if not bool(finite.all()):
            i = int(torch.nonzero(~finite)[0])
            raise DataError(f"The data hold {float(x[i])} at row {i} of a chunk; observations must be finite. Remove or "
                            "replace such values first.")
        low, high = torch.aminmax(x)
        outside = None
        try:
            self.family.check_support(x, dict(self.fixed), DataContext(x))
        except SupportError as exc:
            if not hasattr(exc, "row"):
                raise
            outside = SupportFinding(exc.count, exc.row, exc.value, exc.fix)
        stats = None
        if self.family.has_statistics and outside is None:
            stats = self.family.statistics(self.family.features(x, dict(self.fixed)), w)
        rows = x.detach().cpu().numpy() if w is None else torch.stack([x, w], 1).detach().cpu().numpy()
        total = torch.as_tensor(float(n), dtype=x.dtype, device=x.device) if w is None else w.sum()
        return DistributionSurvey(n, total, low, high, RowSample.of(rows, self.sample_rows), stats, outside, bad_weight,
                                  x.dtype, x.device)


class StreamContext(DataContext):
    """The data's minimum and maximum, known from the survey (no tensor of the rows)."""

    def __init__(self, low: torch.Tensor, high: torch.Tensor):
        self._x = None
        self._minmax = (low, high)


def survey(family, source: DataSource, column: str, weight: str | None, fixed) -> DistributionSurvey:
    """The first pass over ``source`` (see :class:`DistributionSurvey`); bad weights and observations
    outside the support raise, naming the row (and the file or partition where the source knows it)."""
    result = source.map_reduce(SurveyMap(family, column, weight, dict(fixed)))
    if result.bad_weight is not None:
        row, value = result.bad_weight
        raise WeightsError(f"The weights must be strictly positive and finite; the first that is not is {value} at "
                           f"row {row}{locate(source, row)}. Drop those observations instead of giving them zero "
                           "weight.")
    if result.outside is not None:
        o = result.outside
        raise SupportError(
            f"The 'data' argument has {o.count} value(s) outside the support of the '{family.name}' family "
            f"({family.support_description}); the first is {o.value} at row {o.row}{locate(source, o.row)}. {o.fix}"
        )
    return result


def locate(source: DataSource, row: int) -> str:
    """`` (row r of the file f)`` where the source knows its files or partitions, else nothing."""
    where = getattr(source, "locate", None)
    if where is None:
        return ""
    found = where(row)
    return "" if found is None else f" ({found})"


# ---------------------------------------------------------------------- the problem
class StreamDistributionProblem(DistributionProblem):
    """A distribution problem over the rows of a source (see the module docstring).

    ``column`` names the observations in the source's chunks and ``weight`` (optional) their
    frequency weights; ``found`` is the survey (run by :meth:`open`).
    """

    in_memory = False

    def __init__(self, family, source: DataSource, column: str, weight: str | None, fixed: dict, priors: dict,
                 found: DistributionSurvey):
        self.family = family
        self.raw_source = source
        self.column = column
        self.weight_column = weight
        self.fixed = fixed
        self.priors = priors
        self.found = found
        self.ctx = StreamContext(found.low, found.high)
        self.event_shape = torch.Size()
        self.free = [p for p in family.parameters if p not in fixed]
        self.shapes = {n: torch.Size(family.shape(n, self.event_shape)) for n in family.all_parameters()}

    @classmethod
    def open(cls, family, source: DataSource, column: str, weight: str | None, fixed: dict) -> "StreamDistributionProblem":
        """Survey ``source`` (one pass) and return the problem (no priors yet)."""
        per_row = [k for k, v in fixed.items() if v.dim() > 0]
        if per_row and family.event_ndim == 0:
            raise MethodError(f"The 'fixed' value of '{per_row[0]}' gives one value per observation, which a fit over "
                              "streamed data cannot align with its rows; give one value, or fit in memory.")
        return cls(family, source, column, weight, fixed, {}, survey(family, source, column, weight, fixed))

    # ------------------------------------------------------------------ facts
    @property
    def dtype(self) -> torch.dtype:
        return self.found.dtype

    @property
    def device(self) -> torch.device:
        return self.found.low.device

    @property
    def n_obs(self) -> int:
        return int(self.found.rows)

    @property
    def total_weight(self) -> float:
        return float(self.found.weight)

    @property
    def source(self) -> DataSource:
        return self.raw_source

    @property
    def x(self):
        raise MethodError(_in_memory_only("the observations as one tensor"))

    @property
    def weights(self):
        raise MethodError(_in_memory_only("the weights as one tensor"))

    @property
    def features(self):
        raise MethodError(_in_memory_only("the features of every row at once"))

    def with_fixed(self, extra: Mapping[str, torch.Tensor]) -> "StreamDistributionProblem":
        new = StreamDistributionProblem(self.family, self.raw_source, self.column, self.weight_column,
                                        {**self.fixed, **extra}, {k: v for k, v in self.priors.items() if k not in extra},
                                        self.found)
        if not any(k in self.family.known_constants for k in extra):
            for attr in ("statistics", "feature_source"):
                if attr in self.__dict__:
                    new.__dict__[attr] = self.__dict__[attr]
        return new

    # ------------------------------------------------------------------ data views
    @cached_property
    def feature_source(self) -> DataSource:
        return family_features(self.raw_source, self.family, column=self.column, weight=self.weight_column,
                               fixed=self.fixed)

    @cached_property
    def statistics(self):
        if not self.family.has_statistics:
            return None
        if self.found.stats is not None:
            return self.found.stats
        family = self.family
        return self.feature_source.map_reduce(_Statistics(family))

    def feature_sum(self, fn):
        return self.feature_source.map_reduce(_FeatureSum(fn))

    def quantile(self, q: float) -> torch.Tensor:
        from .sources_quantile import stream_quantile

        return stream_quantile(self.raw_source, self.column, self.weight_column, q, self.sample_rows_values(),
                               self.n_obs, self.total_weight, self.dtype, self.device)

    # ------------------------------------------------------------------ the sample
    def sample_rows_values(self):
        """``(x, weight)`` of the sample's distinct rows: the weight is the count times the row's weight."""
        s = self.found.sample
        x = torch.as_tensor(s.values[:, 0], dtype=self.dtype, device=self.device)
        w = s.counts if self.weight_column is None else s.counts * s.values[:, 1]
        return x, torch.as_tensor(w, dtype=self.dtype, device=self.device)

    def start_sample(self, size: int, above: int):
        x, w = self.sample_rows_values()
        return self.family.features(x, self.fixed), w, self.fixed

    def spread_sample(self, size: int, above: int):
        return self.sample_rows_values()

    @property
    def check_features(self):
        return self.start_sample(SAMPLE_ROWS, 0)[0]

    def subsample(self, size: int, seed: int = 0) -> DistributionProblem:
        x, w = self.sample_rows_values()
        w = w * (self.total_weight / float(w.sum()))
        sub = DistributionProblem(self.family, x, w, self.fixed, self.priors)
        sub.ctx = self.ctx
        return sub

    def subsample_features(self, size: int):
        return self.start_sample(size, 0)

    def subsample_objective(self, size: int, names: list[str], fixed=None) -> Objective:
        x, w = self.sample_rows_values()
        w = w * (self.total_weight / float(w.sum()))
        feats = self.family.features(x, self.fixed)
        priors = {k: v for k, v in self.priors.items() if k in names}
        all_fixed = {**self.fixed, **(fixed or {})}
        layout = self.layout(names)
        penalty = PriorPenalty(layout, all_fixed, priors) if priors else None
        return Objective(DistributionModel(self.family, layout, all_fixed), feature_source(feats, w, x.shape[0]),
                         penalty=penalty)

    def subsample_index(self, size: int):
        raise MethodError(_in_memory_only("row indices"))

    # ------------------------------------------------------------------ objectives
    def objective(self, names=None, *, fixed=None, held=None, priors=None, use_statistics=True, layout=None):
        base = super().objective(names, fixed=fixed, held=held, priors=priors, use_statistics=use_statistics,
                                 layout=layout)
        if base.stats is not None:
            return base
        return PassObjective(base.model, base.source, penalty=base.penalty)

    def rescaled(self, shift: float, scale: float, located: bool, fixed: dict) -> "StreamDistributionProblem":
        """The problem on :math:`z = (x - c)/s` (or :math:`x/s`), read through the same source."""
        affine = Affine(self.column, shift if located else 0.0, scale, located)
        s = self.found.sample
        values = s.values.copy()
        values[:, 0] = affine.numpy(values[:, 0])
        sample = RowSample(s.size, s.hashes, values, s.counts, s.complete_to)
        low, high = affine.tensor(self.found.low), affine.tensor(self.found.high)
        found = DistributionSurvey(self.found.rows, self.found.weight, low, high, sample, None, None, None,
                                   self.found.dtype, self.found.device)
        return StreamDistributionProblem(self.family, self.raw_source.map(affine), self.column, self.weight_column,
                                         fixed, {}, found)


@dataclass
class Affine:
    """:math:`z = (x - c) \\cdot (1/s)` of one column (``c = 0`` without a location), as the in-memory fit computes it."""

    column: str
    shift: float
    scale: float
    located: bool

    def tensor(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) * (1.0 / self.scale) if self.located else x * (1.0 / self.scale)

    def numpy(self, x: np.ndarray) -> np.ndarray:
        return self.tensor(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    def __call__(self, chunk):
        return {**chunk, self.column: self.tensor(chunk[self.column])}


@dataclass
class _Statistics:
    family: Any

    def __call__(self, chunk):
        return self.family.statistics(chunk, chunk.get(WEIGHT))


@dataclass
class _FeatureSum:
    fn: Any

    def __call__(self, chunk):
        return self.fn(chunk, chunk.get(WEIGHT))


def _in_memory_only(what: str) -> str:
    return (f"This needs {what}, and the fit reads its data from a source chunk by chunk (a file scan or a Dask "
            "collection). Load the data into memory and fit again for it.")

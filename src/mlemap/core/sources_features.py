"""A distribution family's features, computed chunk by chunk from a source of raw observations.

A distribution's model (:class:`~mlemap.core.distribution.DistributionModel`) reads chunks of the
family's *features* (``x``, ``log_x``, ...: :meth:`Family.features`) and, for weighted data,
``weight``. For data that are not in memory (a file scan, a Dask collection), the features are
computed per chunk, where the chunk is:

.. code-block:: python

    src = family_features(mm.scan("big.parquet", column="x"), family)
    Objective(DistributionModel(family, layout, fixed), src)          # a pass per evaluation
    src.map_reduce(lambda c: family.statistics(c, c.get("weight")))  # one pass, then O(1)

Features are per-row transformations, so the chunked sum equals the in-memory one up to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import DataError
from .source import Chunk, DataSource

WEIGHT = "weight"


@dataclass
class FeatureMap:
    """Observations of one column (and weights) -> the family's features (picklable: it travels to workers)."""

    family: Any
    column: str
    weight: str | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, chunk: Chunk) -> Chunk:
        feats = dict(self.family.features(chunk[self.column], dict(self.fixed)))
        if self.weight is not None:
            feats[WEIGHT] = chunk[self.weight]
        return feats


def family_features(source: DataSource, family, *, column: str | None = None, weight: str | None = None,
                    fixed: Mapping[str, Any] | None = None) -> DataSource:
    """``source`` mapped to ``family``'s features of ``column`` (the only column when not named)."""
    names = list(source.columns)
    if column is None:
        rest = [c for c in names if c != weight]
        if len(rest) != 1:
            raise DataError(f"Name the column of observations (column=...): the data have {', '.join(names)}.")
        column = rest[0]
    for key, value in (("column", column), ("weight", weight)):
        if value is not None and value not in names:
            raise DataError(f"No column '{value}' (from {key}=) in the data. The columns are: {', '.join(names)}.")
    return source.map(FeatureMap(family, column, weight, dict(fixed or {})))

"""The estimators' ``fit`` on data that is not in memory: a design over files, or Dask arrays.

``est.fit(design)`` takes a :class:`~mlemap.core.sources_design.DesignSource` (``mm.regress`` builds
one from a formula over ``mm.scan(...)`` or a dask DataFrame), ``est.fit(dask_X, dask_y)`` dask
arrays (or Series) aligned on their rows, with optional dask ``sample_weight``, ``offset`` and
``exposure``. :func:`source_problem` turns either into a
:class:`~mlemap.core.regression_stream.SourceRegressionProblem` (one survey pass); everything in
memory returns ``None`` and takes the in-memory route.

Labels (logistic, softmax) are the sorted distinct responses, found by one reduction for Dask
arrays, by the design's survey otherwise; the responses are then coded chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.sources_input import is_dask, is_source_input
from ..errors import DataError, MethodError


@dataclass
class Offsets:
    """``offset + log(exposure)`` per chunk (exposure checked positive); picklable."""

    owner: str

    def __call__(self, chunk):
        import torch

        out = dict(chunk)
        exposure = out.pop("exposure", None)
        if exposure is not None:
            if not bool(((exposure > 0) & torch.isfinite(exposure)).all()):
                bad = exposure[~((exposure > 0) & torch.isfinite(exposure))][0]
                raise DataError(f"The 'exposure' argument of {self.owner} must hold positive numbers; found {float(bad)}.")
            log_e = torch.log(exposure)
            out["offset"] = log_e if out.get("offset") is None else out["offset"] + log_e
        w = out.get("weight")
        if w is not None and not bool(((w >= 0) & torch.isfinite(w)).all()):
            raise DataError(f"The 'sample_weight' argument of {self.owner} must hold finite, non-negative numbers.")
        return out


@dataclass
class CountCheck:
    """Poisson responses of a chunk: non-negative (whole numbers unless ``quasi``); picklable."""

    owner: str
    quasi: bool

    def __call__(self, y) -> None:
        y = np.asarray(y)
        bad = (y < 0) | ~np.isfinite(y) if self.quasi else (y < 0) | (y != np.round(y)) | ~np.isfinite(y)
        if bad.any():
            what = "non-negative numbers" if self.quasi else "non-negative whole numbers (counts); pass quasi=True for rates"
            raise DataError(f"The responses of {self.owner} must be {what}; found {y[bad][0]}.")


def _codes(block, classes, dtype):
    return np.searchsorted(classes, np.asarray(block)).astype(dtype)


def _dask_source(est, X, y, sample_weight, offset, exposure, progress, labels: bool, multiclass: bool):
    """``(source, features, classes)`` of dask arrays; labels are coded on the workers (classes sorted)."""
    import dask.dataframe as dd

    from ..core.sources_dask import DaskSource

    owner = est._owner()
    if y is None:
        raise DataError(f"{owner}.fit(X, y) with a dask X needs the responses y as a dask array or Series.")
    if not is_dask(y):
        raise DataError(f"With a dask X, give 'y' as a dask array or Series with the same rows too. Got "
                        f"{type(y).__name__}.")
    classes = None
    if labels:
        if isinstance(y, dd.Series):
            y = y.to_dask_array(lengths=True)
        classes = np.unique(np.asarray(y.map_blocks(np.unique, dtype=y.dtype).compute()))
        y = y.map_blocks(_codes, classes, np.int64 if multiclass else np.float64,
                         dtype=np.int64 if multiclass else np.float64)
    columns = {"X": X, "y": y, "weight": sample_weight, "offset": offset, "exposure": exposure}
    for key, value in columns.items():
        if value is not None and not is_dask(value):
            raise DataError(f"With a dask X, give '{key}' as a dask array or Series with the same rows too. Got "
                            f"{type(value).__name__}.")
    if getattr(X, "ndim", 2) != 2:
        raise DataError(f"The 'X' argument of {owner} must be 2-D (rows x features). Got shape {X.shape}.")
    source = DaskSource({k: v for k, v in columns.items() if v is not None}, progress=progress,
                        labels=("y",) if multiclass else ())
    if offset is not None or exposure is not None or sample_weight is not None:
        source = source.map(Offsets(owner), columns=("X", "y", "weight", "offset"))
    return source, [f"x{j}" for j in range(int(X.shape[1]))], classes


def source_problem(est, X, y, sample_weight=None, offset=None, exposure=None, *, family, labels: bool = False,
                   max_classes: int | None = None, check: Any = None, free_classes=None, progress=None):
    """The estimator's problem over a source (see the module docstring), or ``None`` for data in memory.

    ``labels``: the response holds classes (sets ``est.classes_``); ``free_classes(classes)`` gives the
    classes with their own coefficients (softmax), ``check(y)`` validates the responses of a chunk.
    """
    from ..core.regression_stream import LabelCodes, SourceRegressionProblem, UniqueLabels
    from ..core.sources_design import DesignSource

    if not is_source_input(X):
        return None
    owner = est._owner()
    classes = None
    if isinstance(X, DesignSource):
        extra = [k for k, v in (("y", y), ("sample_weight", sample_weight), ("offset", offset),
                                ("exposure", exposure)) if v is not None]
        if extra:
            raise DataError(f"{owner}.fit(design) reads the response, weights and offsets from the design; give "
                            f"{', '.join(extra)} to the design (or to mm.regress) instead.")
        if X.family.name != family.name:
            raise DataError(f"The design was built for the {X.family.name} family; {owner} fits the {family.name} "
                            f"family. Build it with family='{family.name}'.")
        source, features = X, list(X.features)
        if labels:
            classes = X.classes
    elif is_dask(X):
        source, features, classes = _dask_source(est, X, y, sample_weight, offset, exposure, progress, labels,
                                                 bool(family.multiclass))
    else:
        if y is not None:
            raise DataError(f"{owner}.fit(source) reads the rows X and y of the source; do not pass y too.")
        missing = [c for c in ("X", "y") if c not in source_columns(X)]
        if missing:
            raise DataError(f"A source given to {owner}.fit must have the columns X and y (a design); it lacks "
                            f"{', '.join(missing)}. Build one with mm.regress(formula, data=...) or DesignSource.")
        source, features = X, None
    if labels and classes is None:
        found = sorted(source.map_reduce(UniqueLabels()).values)
        classes = np.asarray(found)
        source = source.map(LabelCodes(classes, integer=bool(family.multiclass)))
    if labels:
        if len(classes) < 2 or (max_classes is not None and len(classes) > max_classes):
            want = "two classes" if max_classes == 2 else "at least two classes"
            raise DataError(f"{owner} needs {want} in y; found {len(classes)}: "
                            f"{', '.join(map(str, classes[:10]))}.")
        est.classes_ = classes
    if features is None:
        features = [f"x{j}" for j in range(_width(source))]
    est.n_features_in_ = len(features)
    if isinstance(X, DesignSource):
        est.feature_names_in_ = np.asarray(features, dtype=object)
    elif hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    options = dict(intercept=est.fit_intercept, features=features)
    if family.multiclass:
        K = len(classes)
        options.update(n_classes=K, free=free_classes(classes) if free_classes else list(range(K)),
                       row_names=[str(c) for c in classes], class_names=list(classes))
    elif labels:
        options.update(class_names=list(classes))
    return SourceRegressionProblem.open(family, source, check=check, **options)


def source_columns(source) -> tuple:
    return tuple(getattr(source, "columns", ()))


def _width(source) -> int:
    for chunk in source.chunks():
        return int(chunk["X"].shape[1])
    raise DataError("The source holds no rows.")


def refuse_source(est, X) -> None:
    """A typed error for estimators (and routes) that need every row in memory."""
    if is_source_input(X):
        raise MethodError(f"{est._owner()} fits data in memory only (its solver needs every row at once); load the "
                          "data, or use a smooth family (LinearRegression, LogisticRegression, PoissonRegression, "
                          "SoftmaxRegression) on a source.")

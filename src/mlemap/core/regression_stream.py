"""A regression whose rows stay where they are: a file scan, a formula over files, a Dask collection.

:class:`SourceRegressionProblem` is a :class:`~mlemap.core.regression.RegressionProblem` whose rows
``{"X", "y", "weight", "offset"}`` come from a source (a
:class:`~mlemap.core.sources_design.DesignSource`, or Dask arrays). The routes read the rows only
through reductions:

* one first pass, the *survey* (:class:`RegressionSurvey`), adds up what the intercept-only start
  needs (:class:`InitialSums`), the Gram matrix :math:`\\tilde X^\\top \\mathrm{diag}(1_{w>0})\\tilde X`
  from which exact aliasing is read, and keeps an order-free sample of the rows
  (:class:`~mlemap.core.sources_sample.RowSample`);
* the warm start, the divergence watch and the separation diagnosis run on the sample (a separating
  direction found there is then checked on every row, one pass);
* each Newton step reads the rows once for the value, gradient and Hessian
  (:class:`~mlemap.core.objective.PassObjective`), and the log-likelihood, the largest linear
  predictor and the sandwich's meat are one more reduction (:class:`FitSummary`);
* dropping aliased or inactive columns is a column-selecting map of the chunks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import MethodError
from .objective import PassObjective
from .regression import OFFSET, WEIGHT, RegressionProblem
from .regression_sums import InitialSums, as_numpy
from .source import DataSource
from .sources_sample import RowSample, hash_cutoff

#: rows the sample keeps (the engine's subsample size)
SAMPLE_ROWS = 50_000


# ---------------------------------------------------------------------- the first pass
@dataclass
class RegressionSurvey:
    """What the first pass learns: rows, :class:`InitialSums`, the indicator Gram matrix and the sample."""

    rows: int
    sums: InitialSums
    gram: np.ndarray
    sample: RowSample
    layout: tuple[int, bool, int] = (0, False, 0)  # (columns of X, weighted, offset columns) of a sample row
    #: (Gaussian family) the triangular factor of :math:`\sqrt{w}\,[1, X, y - o]` (intercept column
    #: first when fitted): a QR of the stacked factors of two parts is the factor of their union (TSQR)
    r: np.ndarray | None = None

    def __add__(self, other: "RegressionSurvey") -> "RegressionSurvey":
        r = None if self.r is None else np.linalg.qr(np.vstack([self.r, other.r]), mode="r")
        return RegressionSurvey(self.rows + other.rows, self.sums + other.sums, self.gram + other.gram,
                                self.sample + other.sample, self.layout, r)


@dataclass
class SurveyMap:
    """One regression chunk -> its :class:`RegressionSurvey` (picklable: it runs on workers).

    ``check(y)`` (optional) validates the responses of a chunk (raising a typed error)."""

    family: Any
    n_classes: int | None
    intercept: bool
    check: Any = None
    sample_rows: int = SAMPLE_ROWS
    #: the sample's hash cutoff (:func:`~mlemap.core.sources_sample.hash_cutoff`), None for none
    cutoff: Any = None
    whole_chunks = True  # the row sample of a whole chunk costs less than merging those of its pieces

    def __call__(self, chunk) -> RegressionSurvey:
        from ..glm.gram import weighted_gram

        X, y, w, offset = chunk_arrays(chunk)
        if self.check is not None:
            self.check(y)
        sums = InitialSums.of(self.family, self.n_classes, y, w, offset)
        positive = np.ones(X.shape[0]) if w is None else (w > 0).astype(np.float64)
        gram = weighted_gram(X, positive, self.intercept)
        rows, layout = sample_rows_of(X, y, w, offset)
        r = None
        if self.family.name == "gaussian":
            r = triangular_factor(X, y, w, offset, self.intercept)
        return RegressionSurvey(X.shape[0], sums, gram, RowSample.of(rows, self.sample_rows, self.cutoff), layout, r)


def chunk_arrays(chunk):
    """``(X, y, w, offset)`` of a regression chunk as NumPy arrays (X contiguous float64; w and
    offset None when absent)."""
    X = np.ascontiguousarray(as_numpy(chunk["X"]), dtype=np.float64)
    return X, as_numpy(chunk["y"]), as_numpy(chunk.get(WEIGHT)), as_numpy(chunk.get(OFFSET))


def sample_rows_of(X, y, w, offset) -> tuple[np.ndarray, tuple[int, bool, int]]:
    """The rows as the sample keeps them, ``[X, y, w?, offset?]``, and their layout."""
    parts = [X, y.reshape(-1, 1).astype(np.float64)]
    if w is not None:
        parts.append(w.reshape(-1, 1))
    if offset is not None:
        parts.append(offset.reshape(X.shape[0], -1))
    rows = np.hstack(parts)
    return rows, (X.shape[1], w is not None, 0 if offset is None else rows.shape[1] - X.shape[1] - 1 - int(w is not None))


@dataclass
class SampleMap:
    """One regression chunk -> its :class:`RowSample` without a cutoff (picklable)."""

    sample_rows: int = SAMPLE_ROWS
    whole_chunks = True

    def __call__(self, chunk) -> RowSample:
        return RowSample.of(sample_rows_of(*chunk_arrays(chunk))[0], self.sample_rows)


def triangular_factor(X: np.ndarray, y: np.ndarray, w, offset, intercept: bool) -> np.ndarray:
    """R of the QR of :math:`\\sqrt{w}\\,[1, X, y - o]` (the intercept column only when fitted), ``(p + 1)`` square."""
    n, d = X.shape
    p = d + int(intercept)
    A = np.empty((n, p + 1))
    root = None if w is None else np.sqrt(w)
    if intercept:
        A[:, 0] = 1.0 if root is None else root
    A[:, int(intercept):p] = X if root is None else X * root[:, None]
    target = y if offset is None else y - offset
    A[:, p] = target if root is None else target * root
    R = np.linalg.qr(A, mode="r")
    if R.shape[0] < p + 1:
        R = np.vstack([R, np.zeros((p + 1 - R.shape[0], p + 1))])
    return R


# ---------------------------------------------------------------------- maps of the chunks
@dataclass
class SelectColumns:
    """Chunks with the columns ``keep`` of X only (picklable)."""

    keep: tuple[int, ...]

    def __call__(self, chunk):
        X = chunk["X"]
        index = list(self.keep)
        X = np.ascontiguousarray(X[:, index]) if isinstance(X, np.ndarray) else X[:, index]
        return {**chunk, "X": X}


@dataclass
class LabelCodes:
    """Responses -> the index of their class in the sorted ``classes`` (float 0/1, or int64 for the softmax)."""

    classes: np.ndarray
    integer: bool = False

    def __call__(self, chunk):
        y = as_numpy(chunk["y"])
        codes = np.searchsorted(self.classes, y)
        if codes.size and (codes.max() >= self.classes.size or np.any(self.classes[np.minimum(codes, self.classes.size - 1)] != y)):
            raise ValueError("a label outside the classes found by the first pass")  # pragma: no cover - same data
        out = torch.from_numpy(codes.astype(np.int64 if self.integer else np.float64))
        return {**chunk, "y": out}


@dataclass
class UniqueLabels:
    """The distinct responses of a chunk, as a set (``|`` merges them)."""

    def __call__(self, chunk):
        return _LabelSet(set(np.unique(as_numpy(chunk["y"])).tolist()))


@dataclass
class _LabelSet:
    values: set = field(default_factory=set)

    def __add__(self, other: "_LabelSet") -> "_LabelSet":
        return _LabelSet(self.values | other.values)


# ---------------------------------------------------------------------- the problem
class SourceRegressionProblem(RegressionProblem):
    """A regression over the rows of a source (see the module docstring); built by :meth:`open`."""

    in_memory = False

    def __init__(self, family, source: DataSource, found: RegressionSurvey, *, intercept: bool = True,
                 n_classes: int | None = None, free: list[int] | None = None, l2: float = 0.0,
                 penalize_intercept: bool = False, features=None, row_names=None, class_names=None):
        self.source = source
        self.found = found
        self._setup(family, found.layout[0], intercept, n_classes, free, l2, penalize_intercept, features, row_names,
                    class_names)

    @classmethod
    def open(cls, family, source: DataSource, *, check=None, intercept: bool = True, n_classes: int | None = None,
             **options) -> "SourceRegressionProblem":
        """Survey ``source`` (one pass: see :class:`RegressionSurvey`) and return the problem. Where the
        number of rows is known, parts send only their rows below a hash cutoff; a sample that then
        falls short (discrete rows with few distinct values) is taken again without it."""
        cutoff = hash_cutoff(source.rows_known(), SAMPLE_ROWS)
        found = source.map_reduce(SurveyMap(family, n_classes, intercept, check, cutoff=cutoff))
        if found.sample.short:
            found = dataclasses.replace(found, sample=source.map_reduce(SampleMap()))
        return cls(family, source, found, intercept=intercept, n_classes=n_classes, **options)

    # ------------------------------------------------------------------ facts
    @property
    def total_weight(self) -> float:
        return float(self.found.sums.weight)

    @property
    def n_obs(self) -> int:
        return int(self.found.rows)

    X = property(lambda self: _refuse("the design matrix"))
    y = property(lambda self: _refuse("the responses"))
    weight = property(lambda self: _refuse("the weights"))
    offset = property(lambda self: _refuse("the offsets"))

    def rows(self, index):
        _refuse("rows by position")

    def rows_all(self):
        _refuse("every row at once")

    def _options(self) -> dict:
        m = self.model
        return dict(intercept=m.intercept, n_classes=m.n_classes if m.multiclass else None,
                    free=m.free if m.multiclass else None, l2=self.l2, penalize_intercept=self.penalize_intercept,
                    features=self.features, row_names=self.row_names, class_names=self.class_names)

    def _replace(self, **changes) -> "SourceRegressionProblem":
        args = self._options()
        unknown = set(changes) - set(args)
        if unknown:
            _refuse(f"changing {', '.join(sorted(unknown))}")
        args.update(changes)
        return SourceRegressionProblem(self.family, self.source, self.found, **args)

    def restrict(self, columns: list[int]) -> "SourceRegressionProblem":
        columns = list(columns)
        d = self.model.d
        if columns == list(range(d)):
            return self
        f = self.found
        keep_gram = columns + ([d] if self.model.intercept else [])
        sample_cols = columns + list(range(d, f.sample.values.shape[1]))
        sample = RowSample(f.sample.size, f.sample.hashes, f.sample.values[:, sample_cols], f.sample.counts,
                           f.sample.complete_to)
        r = None
        if f.r is not None:  # the factor of the kept columns (and the target) from that of them all
            shift = int(self.model.intercept)
            cols = list(range(shift)) + [shift + j for j in columns] + [f.r.shape[1] - 1]
            r = np.linalg.qr(f.r[:, cols], mode="r")
        found = RegressionSurvey(f.rows, f.sums, f.gram[np.ix_(keep_gram, keep_gram)], sample,
                                 (len(columns),) + tuple(f.layout[1:]), r)
        args = {**self._options(), "features": [self.features[j] for j in columns]}
        return SourceRegressionProblem(self.family, self.source.map(SelectColumns(tuple(columns))), found, **args)

    # ------------------------------------------------------------------ the rows, through reductions
    def _objective(self, model, penalty):
        return PassObjective(model, self.source, penalty=penalty)

    def log_likelihood_constant(self) -> float | None:
        return self.family.log_likelihood_constant(None)  # known without the rows, or found by a pass

    def initial(self) -> torch.Tensor:
        return self.coordinates(self.found.sums.initial(self.model))

    def aliasing(self):
        from ..glm.design import INTERCEPT, gram_aliasing

        d, intercept = self.model.d, self.model.intercept
        labels = self.features + ([INTERCEPT] if intercept else [])
        order = ([d] if intercept else []) + list(range(d))
        return gram_aliasing(self.found.gram, labels, order=order)

    def sample_arrays(self):
        """``(X, y, weight, offset)`` of the sample's distinct rows, the weight being the count times the row's weight."""
        d, weighted, n_offset = self.found.layout
        values, counts = self.found.sample.values, self.found.sample.counts
        X = np.ascontiguousarray(values[:, :d])
        y = values[:, d].copy()
        w = counts * values[:, d + 1] if weighted else counts.copy()
        start = d + 1 + int(weighted)
        offset = None
        if n_offset:
            offset = values[:, start:start + n_offset]
            offset = np.ascontiguousarray(offset[:, 0] if n_offset == 1 else offset)
        return X, (y.astype(np.int64) if self.family.multiclass else y), w, offset

    def sample_problem(self, scaled: bool = True) -> RegressionProblem:
        """The same model on the sample, in memory (weights scaled to the data's total when ``scaled``)."""
        X, y, w, offset = self.sample_arrays()
        if scaled:
            w = w * (self.total_weight / float(w.sum()))
        m = self.model
        return RegressionProblem(self.family, X, y, weight=w, offset=offset, intercept=m.intercept,
                                 n_classes=m.n_classes if m.multiclass else None, free=m.free if m.multiclass else None,
                                 l2=self.l2, penalize_intercept=self.penalize_intercept, features=self.features,
                                 row_names=self.row_names, class_names=self.class_names)

    def subsample(self, size: int, seed: int = 0) -> RegressionProblem:
        return self.sample_problem()

    def watch_rows(self, size: int, seed: int = 2):
        return self.sample_problem(scaled=False).watch_rows(size, seed)

    def separation_rows(self):
        X, y, w, _ = self.sample_arrays()
        return X, y, w, True

    def no_events(self) -> bool:
        return float(self.found.sums.wy) == 0.0  # counts are >= 0: a zero sum is zero in every row

    def confirm_separation(self, separation):
        """The separation found on the sample, checked on every row (one pass): the same separation
        (complete, or quasi-complete with the rows on its boundary counted), or None when a row violates it;
        for zero counts, the same direction with every row's counts."""
        import dataclasses

        if separation.cause == "zero counts":
            found = self.source.map_reduce(_ZeroCountCheck(separation.direction[0], self.model.intercept))
            if found.violations or not found.to_zero:
                return None
            return dataclasses.replace(separation, n_to_zero=found.to_zero, n_zero=found.zero,
                                       n_positive=found.positive)
        check = self.source.map_reduce(_SeparationCheck(separation.direction, self.model.free if self.model.multiclass
                                                        else None, self.model.n_classes, self.model.intercept))
        if check.violations:
            return None
        kind = "complete" if check.boundary == 0 else "quasi-complete"
        return dataclasses.replace(separation, kind=kind, n_boundary=int(check.boundary))


@dataclass
class _Margins:
    violations: int = 0
    boundary: int = 0

    def __add__(self, other: "_Margins") -> "_Margins":
        return _Margins(self.violations + other.violations, self.boundary + other.boundary)


@dataclass
class _SeparationCheck:
    """Rows violating :math:`A v \\ge 0` (beyond rounding) and rows on its boundary, per chunk."""

    direction: np.ndarray
    free: list[int] | None
    n_classes: int
    intercept: bool

    def __call__(self, chunk) -> _Margins:
        from ..glm.separation import margin_rows

        X = np.ascontiguousarray(as_numpy(chunk["X"]), dtype=np.float64)
        y = as_numpy(chunk["y"]).astype(np.int64)
        w = as_numpy(chunk.get(WEIGHT))
        if w is not None:
            X, y = X[w > 0], y[w > 0]
        margins, size = margin_rows(X, y, self.direction, self.free, self.n_classes, self.intercept)
        tol = 1e-9 * np.maximum(size, 1e-300)
        return _Margins(int((margins < -tol).sum()), int((np.abs(margins) <= tol).sum()))


@dataclass
class _ZeroCountRows:
    violations: int = 0
    to_zero: int = 0
    zero: int = 0
    positive: int = 0

    def __add__(self, other: "_ZeroCountRows") -> "_ZeroCountRows":
        return _ZeroCountRows(self.violations + other.violations, self.to_zero + other.to_zero,
                              self.zero + other.zero, self.positive + other.positive)


@dataclass
class _ZeroCountCheck:
    """Per chunk, for a direction :math:`v` (:mod:`mlemap.glm.zero_counts`): rows violating
    :math:`\\tilde x^\\top v = 0` (positive count) or :math:`\\tilde x^\\top v \\le 0` (zero count) beyond
    rounding, and the zero-count rows whose fitted mean goes to 0 along it."""

    direction: np.ndarray
    intercept: bool

    def __call__(self, chunk) -> _ZeroCountRows:
        X = np.ascontiguousarray(as_numpy(chunk["X"]), dtype=np.float64)
        y = as_numpy(chunk["y"])
        w = as_numpy(chunk.get(WEIGHT))
        if w is not None:
            X, y = X[w > 0], y[w > 0]
        Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if self.intercept else X
        margins = Xt @ self.direction
        tol = 1e-9 * np.maximum(np.abs(Xt).sum(axis=1) * float(np.abs(self.direction).max()), 1e-300)
        zero = y == 0
        bad = int((~zero & (np.abs(margins) > tol)).sum() + (zero & (margins > tol)).sum())
        return _ZeroCountRows(bad, int((zero & (margins < -tol)).sum()), int(zero.sum()), int((~zero).sum()))


def _refuse(what: str):
    raise MethodError(f"This needs {what}, and the regression reads its rows from a source chunk by chunk (a file "
                      "scan, a formula over files, or a Dask collection). Fit on data in memory for it.")


@dataclass
class _PathLikelihood:
    """Per chunk: the log-likelihood at every penalty of a path (the residual sum of squares for the
    Gaussian family, whose dispersion is then set to its maximum-likelihood value)."""

    model: Any
    thetas: np.ndarray  # (n_alphas, size)

    def __call__(self, chunk) -> np.ndarray:
        m = self.model
        out = np.empty(self.thetas.shape[0])
        w = chunk.get(WEIGHT)
        for k, theta in enumerate(self.thetas):
            eta = m.eta_of(chunk, torch.from_numpy(theta))
            if m.family.name == "gaussian":
                r = chunk["y"] - eta
                out[k] = float((r * r).sum() if w is None else (w * r * r).sum())
            else:
                out[k] = float(m.family.log_likelihood(chunk["y"], eta, w, None))
        return out


def path_log_likelihood(problem: "SourceRegressionProblem", coefs: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
    """The log-likelihood at every penalty of a path, in one pass over the problem's source."""
    m = problem.model
    n = coefs.shape[0]
    rows = np.zeros((n, m.k, m.p1))
    rows[:, :, :m.d] = coefs.reshape(n, m.k, m.d)
    if m.intercept:
        rows[:, :, m.d] = intercepts.reshape(n, m.k)
    values = problem.source.map_reduce(_PathLikelihood(m, rows.reshape(n, -1)))
    if m.family.name != "gaussian":
        return values
    W = problem.total_weight
    return -0.5 * W * (np.log(2 * np.pi * values / W) + 1.0)

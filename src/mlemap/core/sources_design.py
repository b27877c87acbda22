"""The rows of a regression, built chunk by chunk from raw columns: ``{"X", "y", "weight", "offset"}``.

A :class:`DesignSource` reads a source of raw columns (a file scan, a Dask collection) and turns
each chunk into a regression chunk (see :mod:`mlemap.core.regression`):

* from a list of columns: ``X`` stacks the numeric columns ``x`` (booleans as 0/1), ``y`` is the
  column ``y``;
* from a formula (``"clicked ~ age + C(country) + price"``): the formula is first checked by
  mlemap's grammar (:mod:`mlemap.formula_grammar`, as ``mm.regress`` does), then expanded by
  formulaic with one model spec for every chunk, so that every chunk has the same design columns.

A first pass over the data (the *survey*, one reduction like any other) collects what a single
chunk cannot know: the levels of every categorical term (text columns and ``C(...)`` terms), the
classes of the response for the bernoulli and categorical families (sorted, as the estimators sort
``classes_``), the number of rows and of rows with a missing value. The model spec is then built
from a small prototype frame holding every level, so a chunk that lacks some levels still gets
their (zero) columns. Transforms whose state depends on all the rows (``center``, ``scale``,
``standardize``, ``poly``, splines) are refused: a chunk cannot know the whole data's mean or knots.

The response follows the family: the index of its class in ``classes`` for bernoulli (as 0/1
floats) and categorical (int64), the number itself otherwise. ``weight`` must be finite and
non-negative, ``offset`` finite, ``exposure`` positive (it adds ``log exposure`` to the offset).
Rows with a missing value in a column the design reads raise a :class:`~mlemap.errors.DataError`
(``missing="error"``) or are left out (``missing="drop"``); a design value that is not finite (say
``log(x)`` at ``x = 0``) is an error naming the design column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from ..data.arrow_columns import BOOLEAN, NUMBER, TEXT
from ..errors import DataError, FormulaError
from .source import Chunk, DataSource
from .sources_pieces import PieceWise

LABEL_FAMILIES = {"bernoulli": 2, "categorical": None}
STATEFUL = ("center", "scale", "standardize", "poly", "bs", "cr", "cs", "cc")
_STATEFUL_CALL = re.compile(r"\b(" + "|".join(STATEFUL) + r")\s*\(")
_BACKQUOTED = re.compile(r"`[^`]*`")


@dataclass
class Survey:
    """What the first pass learns; ``a + b`` is the survey of both chunks' rows."""

    rows: int = 0
    missing: int = 0
    levels: dict[str, set] = field(default_factory=dict)
    classes: set | None = None
    first: dict[str, Any] | None = None  # the first complete row's numeric values (for the prototype)

    def __add__(self, other: "Survey") -> "Survey":
        return Survey(
            self.rows + other.rows,
            self.missing + other.missing,
            {k: v | other.levels[k] for k, v in self.levels.items()},
            None if self.classes is None else self.classes | other.classes,
            self.first if self.first is not None else other.first,
        )


@dataclass
class DesignPlan:
    """What turns a raw chunk into a regression chunk (small and picklable: it travels to workers)."""

    x: tuple[str, ...]  # raw columns stacked into X (column-list designs)
    y: str | None  # the response column (None: the formula's left-hand side expression)
    weight: str | None
    offset: str | None
    exposure: str | None
    used: tuple[str, ...]  # every column the design reads
    missing: str
    categorical: dict[str, list] = field(default_factory=dict)  # column -> its levels, in the spec's order
    classes: np.ndarray | None = None
    labels_int: bool = False
    rhs_spec: Any = None
    lhs_spec: Any = None
    formula: str | None = None
    features: tuple[str, ...] = ()
    dtype: Any = None
    device: Any = None

    def survey(self, chunk: Chunk) -> Survey:
        keep = _complete_rows(chunk, self.used)
        kept = int(keep.sum())
        levels = {c: set(_unique(chunk[c][keep])) for c in self.categorical}
        classes = None if self.classes is None else set(_unique(chunk[self.y][keep]))
        first = None
        if kept:
            i = int(np.flatnonzero(keep)[0])
            first = {c: chunk[c][i] for c in self.used if c not in self.categorical}
        return Survey(len(keep), len(keep) - kept, levels, classes, first)

    def __call__(self, chunk: Chunk) -> Chunk:
        from ..data.chunks import first_non_finite, numeric_chunk

        keep = _complete_rows(chunk, self.used)
        if not keep.all():
            if self.missing == "error":
                raise DataError(_missing_message(int((~keep).sum())))
            chunk = {k: v[keep] for k, v in chunk.items()}
        X, y = self._design(chunk) if self.rhs_spec is not None else self._stacked(chunk)
        out = {"X": X, "y": y}
        row = first_non_finite(X)
        if row is not None:
            j = int(np.flatnonzero(~np.isfinite(X[row]))[0])
            raise DataError(f"The design column '{self.features[j]}' is {X[row, j]} in a row of the data; the design "
                            "must be finite. Check the column, or the transform's domain (log of zero, say).")
        if first_non_finite(y) is not None:
            raise DataError(f"The response holds {y[first_non_finite(y)]}; it must be finite.")
        if self.weight is not None:
            w = np.asarray(chunk[self.weight], dtype=np.float64)
            if not (np.isfinite(w).all() and (w >= 0).all()):
                raise DataError(f"The weight column '{self.weight}' must hold finite, non-negative numbers; found "
                                f"{w[~(np.isfinite(w) & (w >= 0))][0]}.")
            out["weight"] = w
        offset = None if self.offset is None else np.asarray(chunk[self.offset], dtype=np.float64)
        if self.exposure is not None:
            e = np.asarray(chunk[self.exposure], dtype=np.float64)
            if not (np.isfinite(e).all() and (e > 0).all()):
                raise DataError(f"The exposure column '{self.exposure}' must hold positive numbers; found "
                                f"{e[~(np.isfinite(e) & (e > 0))][0]}.")
            offset = np.log(e) if offset is None else offset + np.log(e)
        if offset is not None:
            if not np.isfinite(offset).all():
                raise DataError(f"The offset column '{self.offset}' must hold finite numbers.")
            out["offset"] = offset
        return numeric_chunk(out, dtype=self.dtype, device=self.device, labels=("y",) if self.labels_int else ())

    def _response(self, values) -> np.ndarray:
        if self.classes is None:
            if np.asarray(values).dtype.kind not in "fiub":
                raise DataError(f"The response '{self.y}' holds text; this family needs numbers.")
            return np.asarray(values, dtype=np.float64)
        codes = np.searchsorted(self.classes, np.asarray(values, dtype=self.classes.dtype))
        return codes.astype(np.int64 if self.labels_int else np.float64)

    def _stacked(self, chunk: Chunk):
        X = np.empty((len(chunk[self.y]), len(self.x)), dtype=np.float64)
        for j, name in enumerate(self.x):
            X[:, j] = chunk[name]
        return X, self._response(chunk[self.y])

    def _design(self, chunk: Chunk):
        import pandas as pd

        from ..formula_transforms import evaluate_formula, evaluation_context

        frame = pd.DataFrame({c: chunk[c] for c in self.used}, copy=False)
        for c, levels in self.categorical.items():
            frame[c] = pd.Categorical(frame[c], categories=levels)
        rhs = evaluate_formula(self.formula, "the data", lambda: self.rhs_spec.get_model_matrix(frame, context=evaluation_context()))
        X = np.asarray(rhs, dtype=np.float64)
        if "Intercept" in self.rhs_spec.column_names:
            X = np.delete(X, self.rhs_spec.column_names.index("Intercept"), axis=1)
        if self.y is not None:
            return X, self._response(chunk[self.y])
        lhs = evaluate_formula(self.formula, "the data", lambda: self.lhs_spec.get_model_matrix(frame, context=evaluation_context()))
        return X, self._response(np.asarray(lhs, dtype=np.float64)[:, 0])


class DesignSource(DataSource):
    """Regression chunks from a source of raw columns (see the module docstring).

    ``base`` is a :class:`~mlemap.core.sources_files.FileSource` or a
    :class:`~mlemap.core.sources_dask.DaskSource` (anything with ``columns``, ``kinds`` and
    ``raw(missing=..., columns=...)``). Give either ``formula`` or ``x`` and ``y``.
    """

    def __init__(self, base, formula: str | None = None, *, x: Sequence[str] | None = None, y: str | None = None,
                 family: Any = "gaussian", weight: str | None = None, offset: str | None = None,
                 exposure: str | None = None, missing: str = "error", dtype=None, device=None):
        from ..data.convert import resolve_dtype
        from ..glm.family import resolve_glm_family

        if missing not in ("error", "drop"):
            raise DataError(f"The 'missing' argument must be 'error' or 'drop'. Got {missing!r}.")
        if (formula is None) == (x is None or y is None):
            raise DataError("Give a design either as a formula ('y ~ x1 + C(g)') or as columns x=[...] and y='...'.")
        self.family = resolve_glm_family(family)
        names = list(base.columns)
        for key, value in (("weight", weight), ("offset", offset), ("exposure", exposure)):
            if value is not None and value not in names:
                raise DataError(f"No column '{value}' (from {key}=) in the data. The columns are: "
                                f"{', '.join(names[:12])}.")
        extra = tuple(v for v in (weight, offset, exposure) if v is not None)
        plan = dict(weight=weight, offset=offset, exposure=exposure, missing=missing, dtype=resolve_dtype(dtype),
                    device=device)
        if formula is not None:
            self.parsed = _parse_streamable(formula, names)
            y_col = self.parsed.lhs_column
            used = tuple(dict.fromkeys(self.parsed.columns + extra))
            categorical = [c for c in self.parsed.rhs_columns
                           if c in self.parsed.categorical or base.kinds.get(c) == TEXT]
            self.plan = DesignPlan(x=(), y=y_col, used=used, formula=formula, **plan)
        else:
            self.parsed = None
            x = [x] if isinstance(x, str) else list(x)
            for c in list(x) + [y]:
                if c not in names:
                    raise DataError(f"No column '{c}' in the data. The columns are: {', '.join(names[:12])}.")
            text = [c for c in x if base.kinds.get(c) not in (NUMBER, BOOLEAN)]
            if text:
                raise DataError(f"The column '{text[0]}' holds text; use a formula with C({text[0]}) to read it as a "
                                "category.")
            categorical = []
            used = tuple(dict.fromkeys(list(x) + [y] + list(extra)))
            self.plan = DesignPlan(x=tuple(x), y=y, used=used, features=tuple(x), **plan)
        self.plan.categorical = {c: [] for c in categorical}
        self.labels = self.family.name in LABEL_FAMILIES
        if self.labels:
            if self.plan.y is None:
                raise FormulaError(f"The response of a {self.family.name} regression must be one column (class "
                                   "labels).")
            self.plan.classes = np.array([])
            self.plan.labels_int = self.family.multiclass
        self._intercept = True
        # missing values Arrow knows of are reported by the files themselves (with the file and row)
        self.raw = base.raw(missing="error" if missing == "error" else "keep", columns=list(self.plan.used))
        self._survey: Survey | None = None
        self.columns = ("X", "y") + (("weight",) if weight else ()) + (("offset",) if offset or exposure else ())

    # ------------------------------------------------------------------ the first pass
    def survey(self) -> Survey:
        """The first pass (run once, on first need): levels, classes, rows and missing values."""
        if self._survey is None:
            s = self.raw.map_reduce(self.plan.survey)
            if s.missing and self.plan.missing == "error":
                raise DataError(_missing_message(s.missing))
            if s.rows - s.missing == 0:
                raise DataError("No complete row is left in the data: every row has a missing value.")
            self._finish(s)
            self._survey = s
        return self._survey

    def _finish(self, s: Survey) -> None:
        import pandas as pd

        for c, levels in s.levels.items():
            self.plan.categorical[c] = list(pd.Categorical(list(levels)).categories)
        if self.labels:
            self.plan.classes = _classes(s.classes, self.plan.y, self.family.name)
        if self.parsed is not None:
            self._build_spec(s)

    def _build_spec(self, s: Survey) -> None:
        import formulaic
        import pandas as pd

        from ..formula_transforms import evaluate_formula, evaluation_context

        size = max([1] + [len(v) for v in self.plan.categorical.values()])
        proto = {}
        for c in self.plan.used:
            if c in self.plan.categorical:
                levels = self.plan.categorical[c]
                proto[c] = pd.Categorical([levels[i % len(levels)] for i in range(size)], categories=levels)
            elif c != self.plan.y or self.parsed.lhs_column is None:
                proto[c] = np.repeat(np.asarray([s.first[c]]), size)
        frame = pd.DataFrame(proto)
        p, context = self.parsed, evaluation_context()
        if p.lhs_column is not None:
            rhs = evaluate_formula(self.plan.formula, "the data", lambda: formulaic.model_matrix(p.rhs, frame, na_action="raise",
                                                                                output="numpy", context=context))
            self.plan.rhs_spec = rhs.model_spec
        else:
            both = evaluate_formula(self.plan.formula, "the data", lambda: formulaic.model_matrix(
                f"{p.lhs} ~ {p.rhs}", frame, na_action="raise", output="numpy", context=context))
            if both.lhs.shape[1] != 1:
                raise FormulaError(f"The formula '{self.plan.formula}' needs exactly one response on the left of '~'.")
            self.plan.rhs_spec, self.plan.lhs_spec = both.rhs.model_spec, both.lhs.model_spec
        names = list(self.plan.rhs_spec.column_names)
        self._intercept = "Intercept" in names
        self.plan.features = tuple(n for n in names if n != "Intercept")
        if not self.plan.features and not self.fit_intercept:
            raise FormulaError(f"The formula '{self.plan.formula}' leaves no term on the right of '~'.")

    # ------------------------------------------------------------------ facts
    @property
    def n_rows(self) -> int:
        s = self.survey()
        return s.rows - s.missing

    def rows_known(self) -> int | None:
        return self.raw.rows_known()  # rows with missing values may be dropped: a bound, which a cutoff allows

    @property
    def features(self) -> tuple[str, ...]:
        """Names of the design's columns (the intercept excluded: the model adds it)."""
        self.survey()
        return self.plan.features

    @property
    def n_features(self) -> int:
        return len(self.features)

    @property
    def classes(self) -> np.ndarray | None:
        """The response's classes, sorted (bernoulli and categorical families)."""
        self.survey()
        return self.plan.classes if self.labels else None

    @property
    def levels(self) -> dict[str, list]:
        """The levels of every categorical column of the design, in the order of its columns."""
        self.survey()
        return dict(self.plan.categorical)

    @property
    def fit_intercept(self) -> bool:
        """Whether the formula keeps its intercept (always True for a column-list design: the caller decides)."""
        self.survey()
        return self._intercept

    @property
    def model_spec(self):
        """formulaic's model spec of the right-hand side (``None`` for a column-list design)."""
        self.survey()
        return self.plan.rhs_spec

    # ------------------------------------------------------------------ passes
    def chunks(self) -> Iterator[Chunk]:
        self.survey()
        for chunk in self.raw.chunks():
            yield self.plan(chunk)

    def map_reduce(self, fn):
        self.survey()
        return self.raw.map_reduce(Composed(PieceWise(fn), self.plan))


@dataclass
class Composed:
    """``fn(plan(chunk))``: a picklable composition that travels to where the chunk lives."""

    fn: Any
    plan: Any

    def __call__(self, chunk):
        return self.fn(self.plan(chunk))


# ---------------------------------------------------------------------- helpers
def _parse_streamable(formula: str, names: list[str]):
    from ..formula_grammar import parse, quoted

    parsed = parse(formula, names)
    if getattr(parsed, "survival", None) is not None:
        raise FormulaError(
            f"The formula {quoted(formula)} has a censored response Surv(...); survival regressions need the data in "
            "memory (read them with pandas, or fit a sample of them)."
        )
    text = _BACKQUOTED.sub("``", parsed.rhs + " ~ " + parsed.lhs)
    found = _STATEFUL_CALL.search(text)
    if found:
        raise FormulaError(
            f"The formula {quoted(formula)} uses {found.group(1)}(...), whose state (a mean, a spread, knots) "
            "depends on all the rows; data read in chunks cannot provide it. Use I(...) with explicit constants "
            "instead, or fit the data in memory."
        )
    return parsed


def _complete_rows(chunk: Chunk, used: Sequence[str]) -> np.ndarray:
    import pandas as pd

    n = len(chunk[used[0]])
    keep = np.ones(n, dtype=bool)
    for c in used:
        values = chunk[c]
        if values.dtype.kind in "fcO":
            keep &= ~pd.isna(values)
    return keep


def _unique(values) -> list:
    import pandas as pd

    return list(pd.unique(values))


def _missing_message(count: int) -> str:
    return (f"{count} row(s) have missing values in the columns the design reads. Pass missing='drop' to leave them "
            "out, or fill them in.")


def _classes(found: set, column: str, family: str) -> np.ndarray:
    values = list(found)
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        classes = np.array(sorted(values), dtype=bool)
    elif all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) for v in values):
        classes = np.unique(np.asarray(values, dtype=np.float64))
        if not np.all(classes == np.round(classes)):
            bad = classes[classes != np.round(classes)][0]
            raise DataError(f"Unknown label type: continuous. The response '{column}' of a {family} regression must "
                            f"hold class labels; found {bad}.")
    elif all(isinstance(v, str) for v in values):
        classes = np.array(sorted(values), dtype=object)
    else:
        raise DataError(f"The response '{column}' mixes label types; use labels of one type.")
    limit = LABEL_FAMILIES[family]
    if len(classes) < 2 or (limit is not None and len(classes) > limit):
        want = "exactly two classes" if limit == 2 else "at least two classes"
        raise DataError(f"A {family} regression needs {want} in '{column}'; found {len(classes)}: "
                        f"{', '.join(map(str, classes[:10]))}.")
    return classes

"""Regression formulas on DataFrames: ``mm.regress("y ~ x1 + C(group) + x2:x3", data=df, family="poisson")``.

Formulas are checked by mlemap's own grammar (:mod:`mlemap.formula_grammar`: names must be
columns, calls must be allowed transforms, nothing else) and only then expanded by formulaic
(Wilkinson notation: ``C(g)`` for categorical columns, ``a:b`` for interactions, ``- 1`` to drop the
intercept, ``.`` for every other column). The intercept of the formula becomes the estimator's
unpenalised ``intercept_``; every other column of the expanded design is a coefficient named after
its term. The fitted estimator keeps the formula's model spec, so ``model.predict(new_df)`` expands
``new_df`` the same way (levels, centring and spline knots of the training data).

``unsafe_formula=True`` (Python API only) hands a trusted formula to formulaic unchecked, which
evaluates any Python in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DataError, FamilyError, FormulaError
from .formula_grammar import ParsedFormula, parse, quoted
from .formula_transforms import evaluate_formula, evaluation_context, one_line

#: family name -> estimator class name in mlemap.models
ESTIMATORS = {
    "gaussian": "LinearRegression",
    "normal": "LinearRegression",
    "bernoulli": "LogisticRegression",
    "binomial": "LogisticRegression",
    "logistic": "LogisticRegression",
    "poisson": "PoissonRegression",
    "categorical": "SoftmaxRegression",
    "multinomial": "SoftmaxRegression",
    "softmax": "SoftmaxRegression",
    "laplace": "LaplaceRegression",
}

__all__ = ["regress", "design", "FormulaError", "FormulaTransform"]


@dataclass
class FormulaTransform:
    """The right-hand side of a fitted formula, applied to new data (``model.formula_spec_``).

    ``spec`` is formulaic's model spec of the training design (it holds the levels of categories,
    the means and scales of ``center``/``scale`` and the knots of splines); ``levels`` the training
    levels of every column read as a category, so that an unseen level is an error rather than a row
    of zeros.
    """

    formula: str
    spec: Any
    columns: tuple[str, ...]
    levels: dict[str, tuple]
    features: tuple[str, ...]

    def __call__(self, X):
        """The design of ``X``: a DataFrame of raw columns is expanded; anything else is returned as is."""
        import pandas as pd

        if not isinstance(X, pd.DataFrame) or tuple(map(str, X.columns)) == self.features:
            return X
        X = _string_labels(X)
        lacking = [c for c in self.columns if c not in X.columns]
        if lacking:
            raise DataError(
                f"The new data lack the column(s) {', '.join(map(repr, lacking))} that the formula "
                f"{quoted(self.formula)} reads. Columns given: {', '.join(map(str, X.columns[:12]))}."
            )
        _check_missing(X[list(self.columns)], "error", "the new data")
        for column, levels in self.levels.items():
            unseen = ~X[column].isin(levels).to_numpy()
            if unseen.any():
                row = int(np.flatnonzero(unseen)[0])
                raise DataError(
                    f"Column '{column}' of the new data has the level {X[column].iloc[row]!r} (row {row}), which the "
                    f"model was not fitted on (levels: {', '.join(map(str, levels[:12]))}). Predict only for known "
                    "levels, or refit with data that contain it."
                )
        rhs = evaluate_formula(self.formula, "the new data", lambda: self.spec.get_model_matrix(X, context=evaluation_context()))
        return rhs.drop(columns=["Intercept"]) if "Intercept" in rhs.columns else rhs


@dataclass
class Design:
    y: Any
    X: Any  # pandas DataFrame of the expanded right-hand side, without the intercept column
    fit_intercept: bool
    rows: np.ndarray  # positions of the rows used in the original data
    transform: FormulaTransform | None = None

    @property
    def survival(self) -> bool:
        """Whether the response is a ``Surv(...)`` (censored data)."""
        from .censoring import is_censored

        return is_censored(self.y)


def design(formula: str, data, missing: str = "error", *, unsafe_formula: bool = False) -> Design:
    """Expand ``formula`` on ``data`` into the response and the design (see the module docstring)."""
    import formulaic
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"The 'data' argument of regress() must be a pandas DataFrame. Got {type(data).__name__}.")
    if missing not in ("error", "drop"):
        raise DataError(f"The 'missing' argument must be 'error' or 'drop'. Got {missing!r}.")
    if not isinstance(unsafe_formula, bool):
        raise FormulaError(f"The 'unsafe_formula' argument must be True or False. Got {unsafe_formula!r}.")
    data = _string_labels(data)
    parsed = _trusted(formula, data) if unsafe_formula else parse(formula, list(data.columns))
    # a missing bound of Surv(low, high, type='interval2') is an open end, not a missing value
    open_ends = parsed.survival.columns if parsed.survival is not None and parsed.survival.type == "interval2" else ()
    bad = _check_missing(data[[c for c in parsed.columns if c not in open_ends]], missing, "the formula's columns")
    if bad.any():
        data = data.loc[~bad]
    rows = np.flatnonzero(~bad)
    context = evaluation_context()

    def expand():
        if parsed.survival is not None:  # Surv(...): the censored response, read by mlemap
            from .survival.formula import surv_response

            return surv_response(data, parsed.survival), formulaic.model_matrix(parsed.rhs, data, na_action="raise",
                                                                                  context=context)
        if parsed.lhs_column is not None:  # the response as it is: class labels stay labels
            rest = data.drop(columns=[parsed.lhs_column]) if unsafe_formula else data
            return data[parsed.lhs_column], formulaic.model_matrix(parsed.rhs, rest, na_action="raise", context=context)
        matrices = formulaic.model_matrix(f"{parsed.lhs} ~ {parsed.rhs}", data, na_action="raise", context=context)
        if matrices.lhs is None or matrices.lhs.shape[1] != 1:
            raise FormulaError(f"The formula {quoted(formula)} needs exactly one response on the left of '~'.")
        return matrices.lhs.iloc[:, 0], matrices.rhs

    y, rhs = evaluate_formula(formula, "the data", expand)
    fit_intercept = "Intercept" in rhs.columns
    X = rhs.drop(columns=["Intercept"]) if fit_intercept else rhs
    if X.shape[1] == 0 and not fit_intercept:
        raise FormulaError(f"The formula {quoted(formula)} leaves no term on the right of '~'.")
    used = data[list(parsed.rhs_columns)]
    categorical = [c for c in used.columns if c in parsed.categorical or not _is_numeric(used[c])]
    levels = {c: tuple(pd.unique(used[c])) for c in categorical}
    transform = FormulaTransform(formula, rhs.model_spec, parsed.rhs_columns, levels, tuple(map(str, X.columns)))
    return Design(y=y, X=X, fit_intercept=fit_intercept, rows=rows, transform=transform)


def _trusted(formula, data) -> ParsedFormula:
    """A formula given with ``unsafe_formula=True``: formulaic's own parse, nothing checked."""
    import formulaic

    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(f"The 'formula' argument must look like 'y ~ x1 + x2'. Got {formula!r:.120} instead.")
    lhs, rhs = (part.strip() for part in formula.split("~", 1))
    if lhs.startswith("Surv"):
        raise FormulaError("A Surv(...) response is read by mlemap's own grammar; leave unsafe_formula off for it.")
    names = list(data.columns)
    try:
        parsed = formulaic.Formula(formula, _context={"__formulaic_variables_available__": names})
        wanted = {str(v) for v in parsed.required_variables}
        wanted_rhs = {str(v) for v in parsed.rhs.required_variables}
    except Exception as exc:  # formulaic's syntax errors
        raise FormulaError(f"The formula {quoted(formula)} does not parse: {one_line(exc)}") from None
    return ParsedFormula(lhs, rhs, lhs if lhs in names else None, tuple(c for c in names if c in wanted),
                         tuple(c for c in names if c in wanted_rhs), ())


def _check_missing(used, missing: str, what: str) -> np.ndarray:
    """Rows of ``used`` with a missing value: an error under ``missing='error'``, else their mask."""
    bad = used.isna().any(axis=1).to_numpy()
    if bad.any() and missing == "error":
        rows = np.flatnonzero(bad)
        shown = ", ".join(map(str, rows[:5])) + (", ..." if rows.size > 5 else "")
        hint = "Pass missing='drop' (--missing drop) to drop them, or fill them in." if what != "the new data" else (
            "Fill them in or drop those rows before predicting.")
        raise DataError(f"{rows.size} row(s) have missing values in {what} (rows {shown}). {hint}")
    return bad


def _string_labels(frame):
    """``frame`` with its column labels as strings (formulas name columns by text)."""
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    return frame.set_axis([str(c) for c in frame.columns], axis=1)


def _is_numeric(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def estimator_for(family: str):
    from . import models

    name = ESTIMATORS.get(str(family).lower())
    if name is None:
        raise FamilyError(
            f"Unknown regression family '{family}'. Valid names are: gaussian, bernoulli, poisson, categorical, laplace."
        )
    return getattr(models, name)


def regress(
    formula: str,
    data,
    family: str | None = None,
    prior=None,
    *,
    sample_weight=None,
    offset=None,
    exposure=None,
    missing: str = "error",
    unsafe_formula: bool = False,
    **options,
):
    """Fit the regression ``formula`` on ``data`` and return the fitted estimator.

    ``family`` picks the conditional distribution of the response (gaussian, the default, bernoulli,
    poisson, categorical, laplace); with a survival response ``Surv(time, status) ~ ...`` it is the
    :class:`~mlemap.SurvivalRegression` family (weibull, the default, exponential, lognormal,
    loglogistic, normal, logistic; see :mod:`mlemap.survival.formula`). ``prior`` is ``None`` (MLE), a penalty such as ``mm.priors.lasso(0.1)`` or
    a torch distribution for every coefficient. ``sample_weight``, ``offset`` and ``exposure`` may
    be column names of ``data`` or arrays with one value per row.

    The formula is checked by mlemap's grammar before anything is evaluated: it may name columns and
    call the transforms listed in :mod:`mlemap.formula_transforms` (``C``, ``I``, ``Q``, ``log``,
    ``exp``, ``sqrt``, ``center``, ``scale``, ``standardize``, ``poly``, ``bs``, ...), and nothing else.
    ``unsafe_formula=True`` skips the check for a formula you trust: formulaic then evaluates any
    Python it holds.

    ``data`` may also be larger than memory: a file scan (``mm.scan("events/*.parquet")``) or a dask
    DataFrame. The design is then built chunk by chunk (categorical levels and classes collected in a
    first pass), ``sample_weight``, ``offset`` and ``exposure`` name columns, and the fit is the exact
    in-memory one (see :mod:`mlemap.models.sources`).

    The fitted estimator keeps the formula (``formula_``) and its expansion (``formula_spec_``), so
    ``predict``, ``predict_proba`` and friends accept a DataFrame with the raw columns.
    """
    if _is_source(data):
        return _regress_source(formula, data, family, prior, sample_weight, offset, exposure, missing, unsafe_formula,
                               options)
    d = design(formula, data, missing, unsafe_formula=unsafe_formula)
    if d.survival:
        from .survival import SurvivalRegression

        cls, family = SurvivalRegression, ("weibull" if family is None else family)
        model = cls(family=family, prior=prior, fit_intercept=d.fit_intercept, **options)
    else:
        cls = estimator_for("gaussian" if family is None else family)
        model = cls(prior=prior, fit_intercept=d.fit_intercept, **options)
    extra = {}
    for key, value in (("sample_weight", sample_weight), ("offset", offset), ("exposure", exposure)):
        if value is not None:
            extra[key] = _per_row(key, value, data, d.rows)
    if ("offset" in extra or "exposure" in extra) and cls.__name__ != "PoissonRegression":
        raise DataError("'offset' and 'exposure' apply to the poisson family only.")
    model.fit(d.X, d.y, **extra)
    model.formula_ = formula
    model.formula_spec_ = d.transform
    return model


def _is_source(data) -> bool:
    from .core.sources_input import is_source_input

    return is_source_input(data)


def _regress_source(formula, data, family, prior, sample_weight, offset, exposure, missing, unsafe_formula, options):
    """``regress`` on data read chunk by chunk (a file scan, a dask DataFrame): the formula's design is
    built per chunk (:class:`~mlemap.core.sources_design.DesignSource`) and the estimator fits it."""
    from .core.sources_dask import DaskSource
    from .core.sources_design import DesignSource
    from .core.sources_input import is_dask

    if unsafe_formula:
        raise FormulaError("unsafe_formula=True applies to data in memory only; formulas over files or Dask data are "
                           "checked by mlemap's grammar.")
    cls = estimator_for("gaussian" if family is None else family)
    progress = options.pop("progress", None)
    columns = {}
    for key, value in (("sample_weight", sample_weight), ("offset", offset), ("exposure", exposure)):
        if value is not None and not isinstance(value, str):
            raise DataError(f"With data read chunk by chunk, give '{key}' as a column name. Got {type(value).__name__}.")
        columns[key] = value
    if (offset is not None or exposure is not None) and cls.__name__ != "PoissonRegression":
        raise DataError("'offset' and 'exposure' apply to the poisson family only.")
    if is_dask(data):
        import dask.dataframe as dd

        if not isinstance(data, dd.DataFrame):
            raise DataError(f"The 'data' argument of regress() must be a DataFrame, a file scan or a dask DataFrame. "
                            f"Got {type(data).__name__}.")
        data = DaskSource(data, progress=progress)
    design_source = DesignSource(data, formula, family=cls._family, weight=columns["sample_weight"],
                                 offset=columns["offset"], exposure=columns["exposure"], missing=missing)
    model = cls(prior=prior, fit_intercept=design_source.fit_intercept, **options)
    model.fit(design_source)
    parsed = design_source.parsed
    levels = {c: tuple(v) for c, v in design_source.levels.items() if c in parsed.rhs_columns}
    model.formula_ = formula
    spec = design_source.model_spec.update(output="pandas")  # predict() returns frames, like the in-memory fit
    model.formula_spec_ = FormulaTransform(formula, spec, parsed.rhs_columns, levels,
                                           tuple(design_source.features))
    return model


def _per_row(key: str, value, data, rows: np.ndarray) -> np.ndarray:
    """``sample_weight``, ``offset`` or ``exposure``: a column of ``data`` by name, or one value per row."""
    import difflib

    import pandas as pd

    if isinstance(value, str):
        names = [str(c) for c in data.columns]
        if value not in names:
            close = difflib.get_close_matches(value, names, n=1, cutoff=0.5)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            shown = ", ".join(map(repr, names[:12])) + (", ..." if len(names) > 12 else "")
            raise DataError(f"No column '{value}' (from {key}=).{hint} The columns are: {shown}.")
        series = data.iloc[:, names.index(value)]
        numbers = pd.to_numeric(series, errors="coerce")
        bad = (numbers.isna() & series.notna()).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"Column '{value}' (from {key}=) is not numeric: the value {series.iloc[row]!r} at row {row} is not a number."
            )
        return numbers.to_numpy(dtype=float)[rows]
    array = np.asarray(value)
    if array.ndim != 1 or array.shape[0] != len(data):
        raise DataError(
            f"The '{key}' argument must be a column name or hold one value per row of the data ({len(data)}). "
            f"Got shape {array.shape}."
        )
    return array[rows]

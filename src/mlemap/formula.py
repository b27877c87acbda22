"""Regression formulas on DataFrames: ``mm.regress("y ~ x1 + C(group) + x2:x3", data=df, family="poisson")``.

Formulas are parsed and expanded by formulaic (Wilkinson notation: ``C(g)`` for categorical
columns, ``a:b`` for interactions, ``- 1`` to drop the intercept, ``.`` for every other column).
The intercept of the formula becomes the estimator's unpenalised ``intercept_``; every other
column of the expanded design is a coefficient named after its term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DataError, FamilyError

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


class FormulaError(DataError):
    """A formula that does not parse, or names a column the data do not have."""


@dataclass
class Design:
    y: Any
    X: Any  # pandas DataFrame of the expanded right-hand side, without the intercept column
    fit_intercept: bool
    rows: np.ndarray  # positions of the rows used in the original data


_ANSI = re.compile(r"\x1b\[[0-9;]*m|[⧛⧚]")


def _one_line(exc: Exception) -> str:
    text = _ANSI.sub("", str(exc)).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def design(formula: str, data, missing: str = "error") -> Design:
    """Expand ``formula`` on ``data`` into the response and the design (see the module docstring)."""
    import formulaic
    import pandas as pd

    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(f"The 'formula' argument must look like 'y ~ x1 + x2'. Got {formula!r} instead.")
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"The 'data' argument of regress() must be a pandas DataFrame. Got {type(data).__name__}.")
    if missing not in ("error", "drop"):
        raise DataError(f"The 'missing' argument must be 'error' or 'drop'. Got {missing!r}.")
    dotted = re.search(r"(^|[^\w.])\.($|[^\w.])", formula.split("~", 1)[1]) is not None
    try:
        if dotted:  # '.' stands for every other column
            variables = {str(c) for c in data.columns}
        else:
            variables = {str(v) for v in formulaic.Formula(formula).required_variables}
    except Exception as exc:  # formulaic's syntax errors
        raise FormulaError(f"The formula '{formula}' does not parse: {_one_line(exc)}") from None
    columns = [c for c in data.columns if str(c) in variables]
    unknown = sorted(v for v in variables if v not in {str(c) for c in data.columns} and v != ".")
    if unknown and not dotted:
        import difflib

        hint = difflib.get_close_matches(unknown[0], [str(c) for c in data.columns], n=1)
        raise FormulaError(
            f"The formula '{formula}' names {', '.join(repr(u) for u in unknown)}, not a column of the data"
            + (f" (did you mean '{hint[0]}'?)" if hint else "")
            + f". Columns: {', '.join(map(str, data.columns[:12]))}."
        )
    used = data[columns] if columns and not dotted else data
    bad = used.isna().any(axis=1).to_numpy()
    if bad.any():
        if missing == "error":
            rows = np.flatnonzero(bad)
            shown = ", ".join(map(str, rows[:5])) + (", ..." if rows.size > 5 else "")
            raise DataError(
                f"{rows.size} row(s) have missing values in the formula's columns (rows {shown}). "
                "Pass missing='drop' (--missing drop) to drop them, or fill them in."
            )
        data = data.loc[~bad]
    rows = np.flatnonzero(~bad)
    lhs_text, rhs_text = (part.strip() for part in formula.split("~", 1))
    names = {str(c): c for c in data.columns}
    try:
        if lhs_text in names:
            # a plain column: the response as it is (class labels stay labels); '.' means every other column
            y = data[names[lhs_text]]
            rest = data.drop(columns=[names[lhs_text]])
            rhs = formulaic.model_matrix(rhs_text, rest, na_action="raise")
        else:
            matrices = formulaic.model_matrix(formula, data, na_action="raise")
            if matrices.lhs is None or matrices.lhs.shape[1] != 1:
                raise FormulaError(f"The formula '{formula}' needs exactly one response on the left of '~'.")
            y, rhs = matrices.lhs.iloc[:, 0], matrices.rhs
    except FormulaError:
        raise
    except Exception as exc:
        raise FormulaError(f"The formula '{formula}' cannot be evaluated on the data: {_one_line(exc)}") from None
    fit_intercept = "Intercept" in rhs.columns
    X = rhs.drop(columns=["Intercept"]) if fit_intercept else rhs
    if X.shape[1] == 0 and not fit_intercept:
        raise FormulaError(f"The formula '{formula}' leaves no term on the right of '~'.")
    return Design(y=y, X=X, fit_intercept=fit_intercept, rows=rows)


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
    family: str = "gaussian",
    prior=None,
    *,
    sample_weight=None,
    offset=None,
    exposure=None,
    missing: str = "error",
    **options,
):
    """Fit the regression ``formula`` on ``data`` and return the fitted estimator.

    ``family`` picks the conditional distribution of the response (gaussian, bernoulli, poisson,
    categorical, laplace); ``prior`` is ``None`` (MLE), a penalty such as ``mm.priors.lasso(0.1)`` or
    a torch distribution for every coefficient. ``sample_weight``, ``offset`` and ``exposure`` may
    be column names of ``data`` or arrays.
    """
    d = design(formula, data, missing)
    cls = estimator_for(family)
    model = cls(prior=prior, fit_intercept=d.fit_intercept, **options)
    extra = {}
    for key, value in (("sample_weight", sample_weight), ("offset", offset), ("exposure", exposure)):
        if value is None:
            continue
        column = data.iloc[d.rows][value].to_numpy() if isinstance(value, str) else np.asarray(value)[d.rows]
        extra[key] = column
    if ("offset" in extra or "exposure" in extra) and cls.__name__ != "PoissonRegression":
        raise DataError("'offset' and 'exposure' apply to the poisson family only.")
    model.fit(d.X, d.y, **extra)
    model.formula_ = formula
    return model

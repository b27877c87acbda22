"""Input checks and conversion for regression, and the diagnostics of a design matrix.

Converts the design ``X`` (NumPy, pandas, torch, nested lists; 2-D), the response ``y``, sample
weights, offsets and exposures to float64 NumPy arrays, raising a typed :mod:`mlemap.errors`
exception that names the argument, the problem and the fix. The messages keep the phrases
scikit-learn's conformance checks look for ("Reshape your data", "0 feature(s)", "NaN or inf").

Sample weights are frequency weights: weight ``k`` means the row counts ``k`` times (an integer
weight is the same fit as repeating the row, a zero weight the same as dropping it).

Collinearity: a design (intercept column included) is rank deficient when some column is a linear
combination of the others. :func:`aliasing` reads it off a pivoted triangular factor ``R`` of the
column-equilibrated design (QR with column pivoting, or the pivoted Cholesky factor of a weighted
Gram matrix ``X^T W X``, which has the same null space): the columns after the numerical rank are
*aliased*, and :math:`R_{11} c = R_{12}` expresses each as a combination of the kept ones.
"""

from __future__ import annotations

import datetime
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError, DataTypeError, ShapeError, WeightsError

INTERCEPT = "intercept"


# ---------------------------------------------------------------------------------------- X
def feature_names_of(X) -> np.ndarray | None:
    """Column names of a pandas DataFrame when they are all strings (scikit-learn's rule)."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "iloc"):
        return None
    names = np.asarray(columns, dtype=object)
    if len(names) and all(isinstance(c, str) for c in names):
        return names
    return None


def _is_sparse(X) -> bool:
    try:
        from scipy import sparse
    except ImportError:  # pragma: no cover
        return False
    return sparse.issparse(X)


def as_design_matrix(X, *, owner: str, name: str = "X") -> np.ndarray:
    """``X`` as a C-contiguous float64 array of shape ``(n, d)``, checked to be finite and non-empty."""
    if _is_sparse(X):
        raise DataError(
            f"The '{name}' argument of {owner} is a sparse matrix; sparse input is not supported. Convert it with "
            f"{name}.toarray() (the estimators solve dense problems)."
        )
    if X is None or isinstance(X, (str, bytes, dict)):
        raise DataError(
            f"The '{name}' argument of {owner} must be a 2-D array-like (NumPy array, pandas DataFrame, torch "
            f"tensor or nested list). Got {type(X).__name__} instead."
        )
    if isinstance(X, numbers.Number):
        raise ShapeError(
            f"The '{name}' argument of {owner} must be 2-D (samples x features), not a single number ({X!r}). "
            "Reshape your data, e.g. [[value]] for one sample with one feature."
        )
    raw = _to_array(X)
    if raw.dtype.kind == "c":
        raise DataError(
            f"Complex data not supported: the '{name}' argument of {owner} holds complex numbers. Pass real values "
            "(for example the real and imaginary parts as separate columns)."
        )
    refuse_dates(raw, name=name, owner=owner)
    if raw.dtype.kind in "OUSV":
        raw = _numeric_from_object(raw, name=name, owner=owner)
    if raw.ndim != 2:
        if raw.ndim == 1:
            raise ShapeError(
                f"Expected a 2-D array for the '{name}' argument of {owner}, got a 1-D array of length {raw.shape[0]}. "
                f"Reshape your data either using {name}.reshape(-1, 1) if it has a single feature or "
                f"{name}.reshape(1, -1) if it contains a single sample."
            )
        raise ShapeError(
            f"The '{name}' argument of {owner} must be 2-D (samples x features); got shape {raw.shape}. "
            "Reshape your data to one row per sample."
        )
    n, d = raw.shape
    if n == 0:
        raise DataError(
            f"Found array with 0 sample(s) (shape=({n}, {d})) while a minimum of 1 is required: the '{name}' "
            f"argument of {owner} has no rows. Pass at least one observation."
        )
    if d == 0:
        raise DataError(
            f"Found array with 0 feature(s) (shape=({n}, {d})) while a minimum of 1 is required: the '{name}' "
            f"argument of {owner} is an empty design. Pass at least one column (for an intercept-only model, a "
            "column of ones with fit_intercept=False)."
        )
    out = _writable(np.ascontiguousarray(raw, dtype=np.float64))
    check_finite_matrix(out, name=name, owner=owner, names=feature_names_of(X))
    return out


def _writable(a: np.ndarray) -> np.ndarray:
    """A writable array (pandas may hand out read-only views; torch wraps only writable memory)."""
    return a if a.flags.writeable else a.copy()


def _to_array(X) -> np.ndarray:
    try:
        import torch

        if isinstance(X, torch.Tensor):
            X = X.detach().cpu()
            if X.is_complex():
                return X.numpy()
            return X.numpy() if X.dtype in (torch.float64, torch.float32) else X.double().numpy()
    except ImportError:  # pragma: no cover
        pass
    values = getattr(X, "to_numpy", None)
    if callable(values):  # pandas
        X = values()
    try:
        return np.asarray(X)
    except ValueError as exc:
        raise DataError(f"The data could not be read as a rectangular array ({exc}). Pass a rectangular array.") from None


def refuse_dates(raw: np.ndarray, *, name: str, owner: str | None = None) -> None:
    """Raise :class:`DataTypeError` when ``raw`` holds dates or time differences: their conversion to
    numbers is a choice of unit and origin the user must make."""
    if raw.dtype.kind in "mM":
        found = f"{'dates' if raw.dtype.kind == 'M' else 'time differences'} ({raw.dtype})"
    elif raw.dtype == object and raw.size and any(isinstance(v, _DATE_TYPES) for v in raw.ravel()[:10000]):
        first = next(v for v in raw.ravel() if isinstance(v, _DATE_TYPES))
        found = f"dates or time differences (the first: {first!r})"
    else:
        return
    raise DataTypeError(
        f"The '{name}' argument{'' if owner is None else ' of ' + owner} holds {found}, not numbers. Convert them to numbers in a unit you "
        "choose first, for example (t - t.min()) / np.timedelta64(1, 'D') for days since the first date."
    )


_DATE_TYPES = (datetime.date, datetime.time, datetime.timedelta, np.datetime64, np.timedelta64)


def _numeric_from_object(raw: np.ndarray, *, name: str, owner: str) -> np.ndarray:
    try:
        return raw.astype(np.float64)
    except TypeError as exc:
        where = _first_bad(raw)
        raise DataTypeError(
            f"The '{name}' argument of {owner} must hold numbers only: {exc}{where}. Convert the column to numbers."
        ) from None
    except ValueError as exc:
        where = _first_bad(raw)
        raise DataError(
            f"The '{name}' argument of {owner} must hold numbers only: {exc}{where}. Encode categorical columns as "
            "numbers first (for example one-hot columns with pandas.get_dummies, or mm.regress with a formula)."
        ) from None


def _first_bad(raw: np.ndarray) -> str:
    for idx in np.ndindex(*raw.shape):
        try:
            float(raw[idx])
        except (TypeError, ValueError):
            pos = ", ".join(str(i) for i in idx)
            return f" (first at index ({pos}): {raw[idx]!r})"
    return ""  # pragma: no cover


def check_finite_matrix(X: np.ndarray, *, name: str, owner: str, names=None) -> None:
    """Raise :class:`DataError` with the count and first position of NaN/inf values."""
    with np.errstate(all="ignore"):
        if np.isfinite(X.sum()):
            return
    bad = ~np.isfinite(X)
    if not bad.any():  # the sum overflowed; the values are finite
        return
    count = int(bad.sum())
    flat = int(np.flatnonzero(bad.ravel())[0])
    if X.ndim == 2:
        i, j = divmod(flat, X.shape[1])
        column = f"column {j}" + (f" ('{names[j]}')" if names is not None else "")
        where = f"row {i}, {column}"
        value = X[i, j]
    else:
        where, value = f"row {flat}", X[flat]
    raise DataError(
        f"The '{name}' argument of {owner} contains {count} non-finite value(s) (NaN or inf); the first is {value} "
        f"at {where}. Remove or impute missing values before fitting."
    )


# ---------------------------------------------------------------------------------------- y
def _as_vector(y, *, n: int, name: str, owner: str) -> np.ndarray:
    if y is None:
        raise DataError(
            f"{owner} requires y to be passed, but the target y is None. Pass one response value per row of X: "
            f"fit(X, {name})."
        )
    if isinstance(y, (str, bytes, dict, numbers.Number)):
        raise DataError(f"The '{name}' argument of {owner} must be a 1-D array-like; got {type(y).__name__}.")
    arr = _to_array(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the shape of y to "
            "(n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ShapeError(
            f"The '{name}' argument of {owner} must be 1-D (one value per row of X); got shape {arr.shape}. "
            f"{owner} models a single response: fit one model per column."
        )
    if arr.shape[0] != n:
        raise ShapeError(
            f"X and {name} have different lengths: X has {n} rows but '{name}' has {arr.shape[0]} values. Pass one "
            f"response value per row of X."
        )
    if arr.dtype.kind == "c":
        raise DataError(f"Complex data not supported: the '{name}' argument of {owner} holds complex numbers.")
    return arr


def as_response(y, *, n: int, owner: str, name: str = "y") -> np.ndarray:
    """A real response: float64, finite, one value per row of ``X``."""
    arr = _as_vector(y, n=n, name=name, owner=owner)
    refuse_dates(arr, name=name, owner=owner)
    if arr.dtype.kind in "OUSV":
        arr = _numeric_from_object(arr, name=name, owner=owner)
    out = _writable(np.ascontiguousarray(arr, dtype=np.float64))
    check_finite_matrix(out, name=name, owner=owner)
    return out


def as_labels(y, *, n: int, owner: str, name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Class labels -> ``(codes 0..K-1, classes)``; continuous targets raise "Unknown label type"."""
    arr = _as_vector(y, n=n, name=name, owner=owner)
    if arr.dtype.kind == "f":
        check_finite_matrix(arr, name=name, owner=owner)
        if not np.all(arr == np.round(arr)):
            i = int(np.flatnonzero(arr != np.round(arr))[0])
            raise DataError(
                f"Unknown label type: continuous. The '{name}' argument of {owner} must hold class labels; found "
                f"{arr[i]} at row {i}. Encode the outcome as classes (0/1 for a binary outcome); for a real-valued "
                "response use LinearRegression."
            )
    if arr.dtype.kind == "O":
        kinds = {type(v) for v in arr}
        if len(kinds) > 1 and not all(issubclass(k, numbers.Number) for k in kinds):
            raise DataError(
                f"Unknown label type: the '{name}' argument of {owner} mixes label types "
                f"({', '.join(sorted(k.__name__ for k in kinds))}). Use labels of one type."
            )
        if any(isinstance(v, float) and not np.isfinite(v) for v in arr):
            raise DataError(f"The '{name}' argument of {owner} contains NaN labels; drop those rows.")
    if arr.dtype.kind in "fiub" and arr.size:
        lo, hi = arr.min(), arr.max()
        top = arr == hi
        if lo == hi or np.all(top | (arr == lo)):  # two classes (or one): no sort needed
            classes = np.array([lo] if lo == hi else [lo, hi], dtype=arr.dtype)
            return top.astype(np.int64) if lo != hi else np.zeros(arr.size, np.int64), classes
    try:
        classes, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise DataError(f"Unknown label type: the labels in '{name}' cannot be ordered ({exc}).") from None
    return codes.astype(np.int64).reshape(-1), classes


def show_label(value) -> str:
    """A class label as the user wrote it (``1.0``, ``'yes'``), without NumPy's type wrapper."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def check_classes(codes: np.ndarray, classes: np.ndarray, *, owner: str, weights=None, max_classes=None, name="y"):
    """At least two classes with positive weight; at most ``max_classes``."""
    present = classes if weights is None else classes[np.unique(codes[weights > 0])]
    if len(present) < 2:
        raise DataError(
            f"The '{name}' argument of {owner} has only one class ({show_label(present[0])}"
            f"{' after dropping zero-weight rows' if weights is not None and len(classes) > 1 else ''}): a classifier "
            "needs at least 2 classes (1 class present). Check the labels, or fit a distribution to a single class."
        )
    if max_classes is not None and len(classes) > max_classes:
        shown = ", ".join(show_label(c) for c in classes[:6]) + (", ..." if len(classes) > 6 else "")
        raise DataError(
            f"Only binary classification is supported by {owner}: the '{name}' argument must hold two classes (0/1 "
            f"labels); found {len(classes)} classes "
            f"({shown}). Encode the outcome as 0 and 1, or use SoftmaxRegression for more than two classes."
        )


# --------------------------------------------------------------------- weights and offsets
def as_sample_weight(sample_weight, *, n: int, owner: str) -> np.ndarray | None:
    """Frequency weights: finite, non-negative, not all zero (``None`` stays ``None``)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number) and not isinstance(sample_weight, bool):
        w = np.full(n, float(sample_weight))
    else:
        w = _to_array(sample_weight)
        if w.dtype.kind in "OUSV":
            try:
                w = w.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise WeightsError(f"The 'sample_weight' argument of {owner} must hold numbers: {exc}.") from None
        if w.ndim != 1 or w.shape[0] != n:
            raise WeightsError(
                f"sample_weight.shape == {w.shape}, expected ({n},): the 'sample_weight' argument of {owner} must be "
                f"1-D with one weight per row of X ({n} rows)."
            )
    w = _writable(np.ascontiguousarray(w, dtype=np.float64))
    try:
        check_finite_matrix(w, name="sample_weight", owner=owner)
    except DataError as exc:
        raise WeightsError(str(exc)) from None
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise WeightsError(
            f"Negative values in sample_weight: the 'sample_weight' argument of {owner} must be non-negative; "
            f"{int((w < 0).sum())} weight(s) are negative, the first is {w[i]} at row {i}. Weights are frequency "
            "weights (a count per row)."
        )
    if not (w > 0).any():
        raise WeightsError(
            f"Sample weights must contain at least one non-zero number: every weight given to {owner} is zero. "
            "Give the observations to fit a positive weight."
        )
    return w


def as_offset(offset, exposure, *, n: int, owner: str) -> np.ndarray | None:
    """``offset + log(exposure)``; exposures must be positive."""
    total = None
    if offset is not None:
        total = as_response(offset, n=n, owner=owner, name="offset").copy()
    if exposure is not None:
        e = as_response(exposure, n=n, owner=owner, name="exposure")
        if (e <= 0).any():
            i = int(np.flatnonzero(e <= 0)[0])
            raise DataError(
                f"The 'exposure' argument of {owner} must be positive; found {e[i]} at row {i} "
                f"({int((e <= 0).sum())} such value(s)). Drop rows with no exposure."
            )
        total = np.log(e) if total is None else total + np.log(e)
    return total


def check_n_features(X: np.ndarray, expected: int, *, owner: str) -> None:
    if X.shape[1] != expected:
        raise ShapeError(
            f"X has {X.shape[1]} features, but {owner} is expecting {expected} features as input. Pass the same "
            "columns, in the same order, as in fit."
        )


# ----------------------------------------------------------------------------- diagnostics
@dataclass
class Aliasing:
    """Result of a rank check: kept and aliased columns (indices into ``labels``)."""

    labels: list[str]
    kept: list[int]
    aliased: list[int]
    relations: dict[int, str] = field(default_factory=dict)

    @property
    def deficient(self) -> bool:
        return bool(self.aliased)

    def message(self, owner: str) -> str:
        lines = "; ".join(self.relations[a] for a in self.aliased)
        names = ", ".join(f"'{self.labels[a]}'" for a in self.aliased)
        return (
            f"The design of {owner} is rank deficient ({len(self.kept)} independent columns out of "
            f"{len(self.labels)}): {lines}. The coefficient(s) of {names} are not identified: they are set to 0 "
            "(aliased) and get no standard error, and the others are estimated without them. Drop the redundant "
            "column(s), or add a prior (e.g. prior=mm.priors.ridge(1.0)) to identify every coefficient."
        )


def no_aliasing(labels: list[str]) -> Aliasing:
    return Aliasing(list(labels), list(range(len(labels))), [])


#: a column is aliased when the share of its (weighted) sum of squares left unexplained by the
#: columns before it is below this (a squared quantity: 1e-13 is a residual norm of 3e-7)
GRAM_RTOL = 1e-13


def qr_rtol(n: int) -> float:
    """Threshold on :math:`|R_{kk}|` (unit-norm columns) below which column ``k`` is aliased."""
    return max(1e-13, 10 * np.finfo(float).eps * np.sqrt(n))


def triangular_aliasing(R: np.ndarray, labels: list[str], rtol: float, scales: np.ndarray) -> Aliasing:
    """Aliasing read from the upper-triangular factor of a QR of the column-scaled design (no pivoting).

    Column ``k`` is aliased when :math:`|R_{kk}| \\le` ``rtol``: its part orthogonal to the columns
    before it is negligible. Columns keep the user's order (the intercept is placed first by the
    caller, so a constant column is aliased rather than the intercept), as R's ``lm`` does.
    """
    m, p = R.shape
    diag = np.zeros(p)
    diag[: min(m, p)] = np.abs(np.diag(R))
    aliased = [k for k in range(p) if not diag[k] > rtol]
    if not aliased:
        return no_aliasing(labels)
    kept = [k for k in range(p) if k not in aliased]
    relations = {}
    for a in aliased:
        before = [k for k in kept if k < a]
        if before:
            c, *_ = np.linalg.lstsq(R[: min(a, m), before], R[: min(a, m), a], rcond=None)
        else:
            c = np.zeros(0)
        relations[a] = _relation(labels, a, before, c * scales[a] / scales[before] if before else c)
    return Aliasing(list(labels), kept, aliased, relations)


def gram_aliasing(G: np.ndarray, labels: list[str], rtol: float = GRAM_RTOL, order=None) -> Aliasing:
    """Aliasing read from a (weighted) Gram matrix :math:`X^\top W X` of the design.

    The matrix is scaled to a unit diagonal and factored by Cholesky in the given column ``order``
    (default: as given), skipping every column whose Schur-complement pivot is below ``rtol`` (the
    squared residual norm of that column after the kept columns before it). ``W > 0`` has the same
    null space as the unweighted design, so a Hessian ``X^T W X`` serves.
    """
    p = G.shape[0]
    order = list(range(p)) if order is None else list(order)
    diag = np.diag(G).astype(float)
    scales = np.sqrt(np.where(diag > 0, diag, 1.0))
    S = G / np.outer(scales, scales)
    S = S[np.ix_(order, order)]
    try:
        L = np.linalg.cholesky(S)
        if np.all(np.diag(L) ** 2 > rtol) and np.all(diag > 0):
            return no_aliasing(labels)
    except np.linalg.LinAlgError:
        pass
    kept_pos: list[int] = []
    aliased_pos: list[int] = []
    relations = {}
    for k in range(p):
        if not diag[order[k]] > 0:
            aliased_pos.append(k)
            relations[order[k]] = _relation(labels, order[k], [], np.zeros(0))
            continue
        if kept_pos:
            Skk = S[np.ix_(kept_pos, kept_pos)]
            sk = S[kept_pos, k]
            c = np.linalg.solve(Skk, sk)
            pivot = S[k, k] - sk @ c
        else:
            c, pivot = np.zeros(0), S[k, k]
        if pivot > rtol:
            kept_pos.append(k)
        else:
            aliased_pos.append(k)
            cols = [order[j] for j in kept_pos]
            a = order[k]
            relations[a] = _relation(labels, a, cols, c * scales[a] / scales[cols] if cols else c)
    kept = sorted(order[j] for j in kept_pos)
    aliased = [order[j] for j in aliased_pos]
    return Aliasing(list(labels), kept, aliased, relations)


def _relation(labels, a: int, cols, coefs: np.ndarray) -> str:
    name = labels[a]
    coefs = np.asarray(coefs, dtype=float)
    if coefs.size == 0 or not np.any(coefs):
        return f"'{name}' is zero in every row with positive weight"
    big = np.abs(coefs) > 1e-8 * float(np.abs(coefs).max())
    terms = [(float(coefs[i]), labels[int(cols[i])]) for i in np.flatnonzero(big)]
    if len(terms) == 1 and terms[0][1] == INTERCEPT:
        return f"'{name}' has zero variance (it is the constant {terms[0][0]:.6g}), so it is collinear with the intercept"
    expr = " ".join(
        (f"{'- ' if c < 0 else '+ '}" if k else ("-" if c < 0 else "")) + f"{abs(c):.6g}*{lab}"
        for k, (c, lab) in enumerate(terms)
    )
    return f"'{name}' = {expr}"


def design_labels(feature_names, fit_intercept: bool) -> list[str]:
    names = [str(f) for f in feature_names]
    return names + ([INTERCEPT] if fit_intercept else [])

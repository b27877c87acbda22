"""Shared pieces of the penalised solvers: input checks, KKT conditions, screening.

For the objective :math:`f(\\beta, b) + \\lambda_1\\lVert\\beta\\rVert_1 + \\tfrac{\\lambda_2}{2}\\lVert\\beta\\rVert_2^2`
with :math:`f` the weighted negative log-likelihood, :math:`(\\beta, b)` is optimal exactly when
(KKT) :math:`\\partial f/\\partial b = 0` and, for every coordinate,

.. math:: \\nabla_j f + \\lambda_2\\beta_j = -\\lambda_1\\,\\mathrm{sign}(\\beta_j) \\ \\ (\\beta_j \\ne 0),
   \\qquad |\\nabla_j f| \\le \\lambda_1 \\ \\ (\\beta_j = 0).

The violation of these conditions is the solvers' stopping rule. The sequential strong rule
(Tibshirani et al., 2012) keeps, when moving from :math:`\\lambda_1'` to :math:`\\lambda_1`, only
the features with :math:`|\\nabla_j f| \\ge 2\\lambda_1 - \\lambda_1'` or a non-zero coefficient;
the discarded ones are checked against the KKT conditions after the solve and added back if they
violate them, so screening never changes the answer.
"""

from __future__ import annotations

import numbers
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError, ParameterError, ShapeError, WeightsError
from .design import refuse_dates
from .gram import torch_single_thread

#: below this many observations the per-observation family terms run on one torch thread: their
#: parallel regions gain nothing there and stall when another process holds the second core
SERIAL_BELOW = 200_000


def family_threads(n: int):
    """Evaluate elementwise family terms single-threaded for small ``n`` (restores the setting)."""
    return torch_single_thread() if n < SERIAL_BELOW else nullcontext()


@dataclass
class SolveInfo:
    """What one solve reports back (the fitted values live with the caller)."""

    n_iter: int
    n_outer: int
    converged: bool
    kkt: float
    grad: np.ndarray  # gradient of the loss f at the solution, without the L2 term
    message: str = ""


def kkt_violation(grad: np.ndarray, beta: np.ndarray, l1: float, l2: float) -> np.ndarray:
    """Per-coordinate KKT violation (same shape as ``beta``); ``grad`` is the loss gradient."""
    g = grad + l2 * beta
    return np.where(beta > 0, np.abs(g + l1), np.where(beta < 0, np.abs(g - l1), np.maximum(np.abs(g) - l1, 0.0)))


def feature_score(grad: np.ndarray) -> np.ndarray:
    """``|grad_j|`` per feature (the largest over classes for a ``(K, d)`` gradient)."""
    a = np.abs(grad)
    return a.max(axis=0) if a.ndim == 2 else a


def feature_nonzero(beta: np.ndarray) -> np.ndarray:
    return (beta != 0).any(axis=0) if beta.ndim == 2 else beta != 0


def strong_set(grad: np.ndarray, beta: np.ndarray, l1: float, l1_prev: float) -> np.ndarray:
    """Indices kept by the sequential strong rule (plus the current non-zeros), sorted."""
    keep = feature_nonzero(beta) | (feature_score(grad) >= 2.0 * l1 - l1_prev)
    return np.flatnonzero(keep).astype(np.int64)


# ---------------------------------------------------------------------------------------- inputs
def _to_numpy(data, name: str) -> np.ndarray:
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    values = getattr(data, "to_numpy", None)
    if callable(values):
        data = values()
    if isinstance(data, np.ndarray):
        refuse_dates(data, name=name)
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"The '{name}' argument must be numeric array-like (NumPy array, list, pandas object or torch "
            f"tensor); it could not be read as float64 ({exc})."
        ) from None
    # pandas hands out read-only views; torch warns about wrapping those, so they are copied once here
    return arr if arr.flags.writeable else arr.copy()


def _check_finite(arr: np.ndarray, name: str) -> None:
    if not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = first[0] if len(first) == 1 else first
        raise DataError(
            f"The '{name}' argument contains {int(bad.sum())} non-finite value(s) (NaN or inf); the first is "
            f"{arr[first]} at index {where}. Remove or impute missing values before fitting."
        )


def check_design(X) -> np.ndarray:
    """A finite, non-empty 2-D float64 design matrix."""
    arr = _to_numpy(X, "X")
    if arr.ndim != 2:
        raise ShapeError(
            f"The 'X' argument must be a 2-D array of shape (n_samples, n_features). Got shape {arr.shape} "
            "instead; reshape a single feature with X.reshape(-1, 1)."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(
            f"The 'X' argument is an empty design (shape {arr.shape}); at least one observation and one "
            "feature are needed."
        )
    _check_finite(arr, "X")
    return arr


def check_response(y, n: int, family) -> np.ndarray:
    """A finite 1-D response of length ``n`` inside the family's support."""
    arr = _to_numpy(y, "y")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ShapeError(f"The 'y' argument must be 1-D with one value per row of X. Got shape {arr.shape} instead.")
    if arr.shape[0] != n:
        raise ShapeError(
            f"The 'X' and 'y' arguments have different lengths: X has {n} rows, y has {arr.shape[0]} values. "
            "Pass one response per row of X."
        )
    _check_finite(arr, "y")
    if family.multiclass:
        if np.any(arr < 0) or np.any(arr != np.round(arr)):
            i = int(np.flatnonzero((arr < 0) | (arr != np.round(arr)))[0])
            raise DataError(
                f"The 'y' argument of a categorical model must hold class labels 0..K-1; found {arr[i]} at row "
                f"{i}. Encode the classes as integers (for example with numpy.unique(y, return_inverse=True))."
            )
    else:
        family.validate(torch.from_numpy(arr if arr.flags.writeable else arr.copy()))
    return np.ascontiguousarray(arr)


def check_weights(sample_weight, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = _to_numpy(sample_weight, "sample_weight")
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.ndim != 1 or w.shape[0] != n:
        raise WeightsError(
            f"The 'sample_weight' argument must be a 1-D array with one weight per row of X (length {n}). "
            f"Got shape {w.shape} instead."
        )
    if not np.isfinite(w).all() or np.any(w < 0):
        i = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0])
        raise WeightsError(
            f"The 'sample_weight' argument must hold finite weights of 0 or more; found {w[i]} at index {i}."
        )
    if w.sum() <= 0:
        raise WeightsError("The 'sample_weight' argument sums to 0; give at least one observation a positive weight.")
    return np.ascontiguousarray(w)


def check_offset(offset, n: int, n_classes: int | None = None) -> np.ndarray | None:
    if offset is None:
        return None
    off = _to_numpy(offset, "offset")
    ok = off.shape == (n,) or (n_classes is not None and off.shape == (n, n_classes))
    if not ok:
        shapes = f"({n},)" + (f" or ({n}, {n_classes})" if n_classes is not None else "")
        raise ShapeError(f"The 'offset' argument must have shape {shapes}. Got shape {off.shape} instead.")
    _check_finite(off, "offset")
    return np.ascontiguousarray(off)


def check_strength(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ParameterError(
            f"The '{name}' parameter of fit_penalized must be a float in the range [0, inf). Got {value!r} instead."
        )
    return float(value)


def check_positive_int(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ParameterError(f"The '{name}' parameter of {owner} must be an int in the range [1, inf). Got {value!r} instead.")
    return int(value)


def check_tol(value, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or not np.isfinite(value):
        raise ParameterError(f"The 'tol' parameter of {owner} must be a float in the range (0, inf). Got {value!r} instead.")
    return float(value)

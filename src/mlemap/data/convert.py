"""Conversion of user data (lists, NumPy arrays, pandas objects, torch tensors) to float tensors.

Every check raises a typed :mod:`mlemap.errors` exception that names the argument, the problem
and the fix, in the style of scikit-learn's and torch's validation messages.
"""

from __future__ import annotations

import numbers
import warnings
import weakref
from typing import Any

import numpy as np
import torch

from ..errors import DataError, DataTypeError, ShapeError, WeightsError

DEFAULT_DTYPE = torch.float64

#: minimum and maximum found by the finiteness check, reused by the support checks (one pass);
#: keyed by tensor identity and dropped when the tensor is garbage-collected
_EXTREMES: dict[int, tuple[weakref.ref, tuple[torch.Tensor, torch.Tensor]]] = {}


def _remember_extremes(tensor: torch.Tensor, extremes: tuple[torch.Tensor, torch.Tensor]) -> None:
    key = id(tensor)
    _EXTREMES[key] = (weakref.ref(tensor, lambda _ref, key=key: _EXTREMES.pop(key, None)), extremes)


def known_extremes(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(min, max)`` of a tensor already checked by :func:`check_finite`, if still cached."""
    entry = _EXTREMES.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]


def resolve_dtype(dtype: Any) -> torch.dtype:
    """Map ``None``/``"float64"``/``"float32"``/torch dtypes to a torch floating dtype."""
    if dtype is None:
        return DEFAULT_DTYPE
    if isinstance(dtype, torch.dtype) and dtype.is_floating_point:
        return dtype
    names = {"float64": torch.float64, "double": torch.float64, "float32": torch.float32, "float": torch.float32}
    if isinstance(dtype, str) and dtype in names:
        return names[dtype]
    if dtype in (np.float64, np.float32):
        return torch.float64 if dtype is np.float64 else torch.float32
    raise DataError(
        f"The 'dtype' argument must be 'float64' (the default) or 'float32'. Got {dtype!r} instead."
    )


def resolve_device(device: Any) -> torch.device:
    """A torch device that exists on this machine (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, a
    :class:`torch.device`), or a :class:`DataError` saying which ones do."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise DataError(
            f"The 'device' argument must name a torch device such as 'cpu' or 'cuda'. Got {device!r} instead."
        ) from None
    available = _available_device_types()
    if resolved.type not in available:
        raise DataError(
            f"The 'device' argument asks for {str(resolved)!r}, but this torch build has no {resolved.type} "
            f"support (available: {', '.join(available)}). Use device='cpu' or omit 'device' (the data's own "
            "device is used)."
        )
    if resolved.type == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise DataError(
            f"The 'device' argument asks for {str(resolved)!r}, but only {torch.cuda.device_count()} CUDA device(s) "
            f"are visible (cuda:0 to cuda:{torch.cuda.device_count() - 1}). Pick one of them."
        )
    return resolved


def _available_device_types() -> list[str]:
    types = ["cpu"]
    if torch.cuda.is_available():
        types.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        types.append("mps")
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        types.append("xpu")
    return types


def _describe(value: Any) -> str:
    return type(value).__name__


def to_numpy_or_tensor(data: Any, *, name: str) -> np.ndarray | torch.Tensor:
    """Return a NumPy array or a torch tensor view of ``data`` without changing its values."""
    if isinstance(data, torch.Tensor):
        return data.detach()
    if isinstance(data, (str, bytes)) or data is None or isinstance(data, dict):
        raise DataError(
            f"The '{name}' argument must be array-like (a list, NumPy array, pandas Series/DataFrame "
            f"or torch tensor). Got {_describe(data)} instead."
        )
    if isinstance(data, numbers.Number):
        raise ShapeError(
            f"The '{name}' argument must be a sequence of observations, not a single number "
            f"({data!r}). Wrap it in a list: [{data!r}]."
        )
    values = getattr(data, "to_numpy", None)
    if callable(values):  # pandas Series / DataFrame
        data = values()
    try:
        return np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"The '{name}' argument could not be read as an array ({exc}). "
            "Pass a rectangular list, NumPy array, pandas object or torch tensor."
        ) from None


def as_float_tensor(
    data: Any,
    *,
    name: str,
    dtype: torch.dtype = DEFAULT_DTYPE,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Convert ``data`` to a floating tensor, checking that it is numeric, non-empty and finite."""
    raw = to_numpy_or_tensor(data, name=name)
    if isinstance(raw, np.ndarray):
        if raw.dtype == object or raw.dtype.kind in "USV":
            bad = _first_non_numeric(raw)
            raise DataError(
                f"The '{name}' argument must contain numbers only; found {bad!r}. "
                "Convert the values to numbers first (for labels, use the 'categorical' family)."
            )
        if raw.dtype.kind in "mM":
            kind = "dates" if raw.dtype.kind == "M" else "time differences"
            raise DataTypeError(
                f"The '{name}' argument holds {kind} ({raw.dtype}), not numbers. Convert them to numbers in a "
                "unit you choose first, for example (t - t.min()) / np.timedelta64(1, 'D') for days."
            )
        if raw.dtype.kind == "b":
            raw = raw.astype(np.float64)
        if raw.dtype.kind == "c":
            raise DataError(f"The '{name}' argument must be real-valued; got complex numbers.")
        raw = np.ascontiguousarray(raw)
        if raw.flags.writeable:
            tensor = torch.from_numpy(raw)
        else:
            with warnings.catch_warnings():  # read-only arrays (pandas copy-on-write): mlemap never writes to data
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                tensor = torch.from_numpy(raw)
    else:
        tensor = raw
        if tensor.is_complex():
            raise DataError(f"The '{name}' argument must be real-valued; got a complex tensor.")
    target_device = tensor.device if device is None else resolve_device(device)
    tensor = tensor.to(dtype=dtype, device=target_device)
    if tensor.numel() == 0:
        raise DataError(
            f"The '{name}' argument is empty (shape {tuple(tensor.shape)}); at least one observation is needed."
        )
    check_finite(tensor, name=name)
    return tensor


def check_finite(tensor: torch.Tensor, *, name: str) -> None:
    """Raise :class:`DataError` naming the count and first position of NaN/inf values.

    NaN propagates to the minimum and maximum and an infinity is one of them, so one ``aminmax``
    pass decides; its result is kept for the support checks.
    """
    lo, hi = torch.aminmax(tensor.reshape(-1))
    if bool(torch.isfinite(lo)) and bool(torch.isfinite(hi)):
        _remember_extremes(tensor, (lo, hi))
        return
    finite = torch.isfinite(tensor)
    if bool(finite.all()):
        return
    bad = ~finite
    count = int(bad.sum())
    first = tuple(int(i) for i in torch.nonzero(bad)[0].tolist())
    where = first[0] if len(first) == 1 else first
    value = tensor[first].item()
    raise DataError(
        f"The '{name}' argument contains {count} non-finite value(s) (NaN or inf); the first is {value} "
        f"at index {where}. Remove or impute missing values before fitting."
    )


def _first_non_numeric(array: np.ndarray) -> Any:
    for value in array.ravel():
        try:
            float(value)
        except (TypeError, ValueError):
            return value
    return array.ravel()[0]


def as_weights(
    weights: Any, *, n: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor | None:
    """Validate frequency weights: one positive finite number per observation."""
    if weights is None:
        return None
    try:
        w = as_float_tensor(weights, name="weights", dtype=dtype, device=device)
    except DataError as exc:
        raise WeightsError(str(exc)) from None
    if w.dim() != 1 or w.shape[0] != n:
        raise WeightsError(
            f"The 'weights' argument must be a 1-D array with one weight per observation "
            f"(length {n}). Got shape {tuple(w.shape)} instead."
        )
    nonpositive = w <= 0
    if bool(nonpositive.any()):
        idx = int(torch.nonzero(nonpositive)[0])
        raise WeightsError(
            f"The 'weights' argument must be strictly positive; {int(nonpositive.sum())} weight(s) are not, "
            f"the first is {w[idx].item()} at index {idx}. Drop those observations instead of giving them "
            "zero weight."
        )
    return w

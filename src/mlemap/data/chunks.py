"""Columns of rows (NumPy arrays) turned into the chunks the estimation reads.

A chunk is a dict of column name -> rows. The models read torch tensors of the working dtype
(float64 unless float32 is asked for) on the working device, with two exceptions:

* ``X``, a design matrix on the CPU, stays a C-contiguous float64 NumPy array, so that its Gram
  matrices go through BLAS (a symmetric rank-k update);
* label columns (the classes of a softmax regression) are int64 tensors.

Conversions copy only where the type or the device changes: a float64 column read from a file is
handed to torch without a copy.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np
import torch

#: the chunk key of a design matrix
DESIGN = "X"

_NUMPY = {torch.float64: np.float64, torch.float32: np.float32, torch.int64: np.int64}


def as_tensor(values: np.ndarray, dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """``values`` as a tensor of ``dtype`` on ``device`` (no copy when already of that type on the CPU)."""
    array = np.ascontiguousarray(values, dtype=_NUMPY[dtype])
    with warnings.catch_warnings():  # read-only arrays (from Arrow): mlemap never writes to data
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.from_numpy(array)
    if device is not None and torch.device(device) != tensor.device:
        tensor = tensor.to(device)
    return tensor


def numeric_chunk(arrays: Mapping[str, Any], *, dtype: torch.dtype = torch.float64, device=None,
                  labels: tuple[str, ...] = ()) -> dict[str, Any]:
    """The chunk of numeric ``arrays`` (see the module docstring for the types of each key)."""
    out: dict[str, Any] = {}
    for name, values in arrays.items():
        if values is None:
            continue
        if name in labels:
            out[name] = as_tensor(values, torch.int64, device)
        elif name == DESIGN and (device is None or torch.device(device).type == "cpu") and dtype == torch.float64:
            out[name] = np.ascontiguousarray(values, dtype=np.float64)
        else:
            out[name] = as_tensor(values, dtype, device)
    return out


def first_non_finite(values: np.ndarray) -> int | None:
    """Row of the first NaN or infinity in ``values`` (``None`` when all are finite)."""
    ok = np.isfinite(values)
    if ok.all():
        return None
    bad = ~ok if ok.ndim == 1 else ~ok.all(axis=tuple(range(1, ok.ndim)))
    return int(np.flatnonzero(bad)[0])

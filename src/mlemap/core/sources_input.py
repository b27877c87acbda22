"""What the front ends accept as data that is not in memory: a source, or a Dask collection.

:func:`as_data_source` returns a :class:`~mlemap.core.source.DataSource` for a source (a file scan,
returned as it is) or a Dask collection (a dask array, Series or DataFrame, wrapped in a
:class:`~mlemap.core.sources_dask.DaskSource` on the active client), and ``None`` for anything else
(arrays, tensors, lists: the in-memory routes take them). Dask is recognised by the type's module,
so that nothing here imports it.
"""

from __future__ import annotations

from typing import Any

import torch

from .source import DataSource


def is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "dask"


def is_source_input(data: Any) -> bool:
    """Whether ``data`` is read chunk by chunk (a source or a Dask collection), not held in memory."""
    return isinstance(data, DataSource) or is_dask(data)


def as_data_source(data: Any, *, name: str = "x", progress: bool | None = None, dtype: Any = None,
                   device: Any = None) -> DataSource | None:
    """``data`` as a source (see the module docstring); a one-dimensional Dask collection becomes the column ``name``."""
    if isinstance(data, DataSource):
        return data
    if not is_dask(data):
        return None
    import dask.dataframe as dd

    from .sources_dask import DaskSource

    if isinstance(data, dd.DataFrame):
        return DaskSource(data, progress=progress, dtype=dtype, device=device)
    if getattr(data, "ndim", 1) == 2 and data.shape[1] == 1:
        data = data[:, 0]
    return DaskSource({name: data}, progress=progress, dtype=dtype, device=device)


def source_dtype(source: DataSource) -> torch.dtype:
    """The dtype of the source's tensors (float64 unless it was asked for float32)."""
    dtype = getattr(source, "dtype", None)
    if dtype is None:
        dtype = getattr(getattr(source, "convert", None), "dtype", None)
    return dtype if isinstance(dtype, torch.dtype) else torch.float64


def source_device(source: DataSource):
    device = getattr(source, "device", None)
    if device is None:
        device = getattr(getattr(source, "convert", None), "device", None)
    return torch.device(device) if device is not None else torch.device("cpu")

"""Which files a scan reads, and in which format.

A scan names its files by a path, a glob pattern (``events/*.parquet``, ``**`` for sub-folders), a
folder (every data file directly inside it) or a list of any of these. The list is expanded here,
once, in a fixed order (sorted within each pattern or folder), so every pass over the data reads
the same rows in the same order. A name that matches nothing is a :class:`~mlemap.errors.DataFileError`
raised before anything is read.

The format follows the file's suffix (``format=`` overrides it for every file):

=========================================  =========
suffix                                     format
=========================================  =========
``.parquet``, ``.pq``, ``.parq``           Parquet
``.csv``, ``.tsv``, ``.txt`` (``.gz``,     CSV (tab-separated for ``.tsv``), read as a stream
``.bz2``, ``.zst`` compressed)
``.arrow``, ``.feather``, ``.ipc``,        Arrow IPC (file or stream format)
``.arrows``
=========================================  =========
"""

from __future__ import annotations

import glob
import os
from typing import Iterable, Sequence

from ..errors import DataFileError

PARQUET, CSV, IPC = "parquet", "csv", "ipc"

SUFFIXES = {
    ".parquet": PARQUET, ".pq": PARQUET, ".parq": PARQUET,
    ".csv": CSV, ".tsv": CSV, ".txt": CSV,
    ".arrow": IPC, ".feather": IPC, ".ipc": IPC, ".arrows": IPC,
}
COMPRESSED = (".gz", ".bz2", ".zst", ".lz4")
FORMAT_NAMES = {PARQUET: PARQUET, "csv": CSV, "tsv": CSV, IPC: IPC, "arrow": IPC, "feather": IPC}
_GLOB_CHARS = set("*?[")


def expand_paths(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """Every file named by ``paths`` (paths, glob patterns, folders), in a fixed order, without repeats."""
    if isinstance(paths, (str, os.PathLike)):
        items: Iterable = [paths]
    elif isinstance(paths, Sequence) and paths and all(isinstance(p, (str, os.PathLike)) for p in paths):
        items = paths
    else:
        raise DataFileError(
            "The 'path' argument of scan() must be a file path, a glob pattern such as 'data/*.parquet', a folder, "
            f"or a non-empty list of them. Got {type(paths).__name__} {paths!r:.80} instead."
        )
    out: list[str] = []
    for item in items:
        for path in _expand_one(os.fspath(item)):
            if path not in out:
                out.append(path)
    return out


def _expand_one(item: str) -> list[str]:
    if _GLOB_CHARS & set(item):
        found = sorted(p for p in glob.glob(item, recursive=True) if os.path.isfile(p))
        if not found:
            raise DataFileError(f"No file matches the pattern '{item}'. Check the folder and the pattern.", path=item)
        return found
    if os.path.isdir(item):
        found = sorted(os.path.join(item, f) for f in os.listdir(item)
                       if os.path.isfile(os.path.join(item, f)) and format_of(f, None, strict=False))
        if not found:
            raise DataFileError(
                f"The folder '{item}' holds no Parquet, CSV or Arrow file (by suffix: {', '.join(SUFFIXES)}).",
                path=item,
            )
        return found
    if not os.path.exists(item):
        raise DataFileError(f"The file '{item}' does not exist.", path=item)
    return [item]


def format_of(path: str, fmt: str | None, *, strict: bool = True) -> str | None:
    """The format of ``path``: ``fmt`` when given, else from the suffix (``None`` if unknown and not strict)."""
    if fmt is not None:
        key = str(fmt).lower()
        if key not in FORMAT_NAMES:
            raise DataFileError(f"The 'format' argument must be one of parquet, csv, tsv, arrow, ipc. Got {fmt!r}.")
        return FORMAT_NAMES[key]
    name = os.path.basename(path).lower()
    for ext in COMPRESSED:
        if name.endswith(ext):
            name = name[: -len(ext)]
    suffix = os.path.splitext(name)[1]
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    if strict:
        raise DataFileError(
            f"Cannot tell the format of '{path}' from its suffix (known: {', '.join(SUFFIXES)}). "
            "Pass format='parquet', 'csv' or 'arrow'.",
            path=path,
        )
    return None


def is_tab_separated(path: str) -> bool:
    name = os.path.basename(path).lower()
    return name.endswith(".tsv") or any(name.endswith(".tsv" + ext) for ext in COMPRESSED)

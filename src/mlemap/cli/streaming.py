"""Data files of any size on the command line: when to read them chunk by chunk, and on which cluster.

``mlemap fit``, ``compare``, ``regress`` and ``path`` read DATA into memory when it fits comfortably,
and stream it (``mm.scan``: chunk by chunk, a progress bar per pass) when it does not: a glob
(``'events/*.parquet'``), a folder, or a file whose in-memory size (about five times the file for
Parquet, twice for CSV) would take more than a quarter of the available memory. ``--stream`` forces
it; ``--scheduler ADDRESS`` runs the passes on the Dask cluster at that address (the workers read
the files, which must be reachable from them) and implies ``--stream``. The estimates are the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import DataError

#: in-memory size over file size (decompressed, as a DataFrame)
EXPANSION = {".parquet": 5.0, ".pq": 5.0, ".parq": 5.0}
DEFAULT_EXPANSION = 2.0
#: stream when the data would take more than this share of the available memory
MEMORY_SHARE = 0.25


def add_options(p) -> None:
    p.add_argument("--stream", action="store_true",
                   help="read DATA chunk by chunk (automatic for globs, folders and files too large for memory)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on the Dask cluster at ADDRESS (e.g. tcp://10.0.0.5:8786); the workers read the files")


def available_memory() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return float("inf")


def wants_stream(args) -> bool:
    """Whether DATA is read chunk by chunk (see the module docstring)."""
    if getattr(args, "stream", False) or getattr(args, "scheduler", None):
        return True
    data = args.data
    if data == "-" or data.startswith("@"):
        return False
    if any(c in data for c in "*?[") or os.path.isdir(data):
        return True
    if not os.path.isfile(data):
        return False
    suffix = os.path.splitext(data)[1].lower()
    needed = os.path.getsize(data) * EXPANSION.get(suffix, DEFAULT_EXPANSION)
    return needed > MEMORY_SHARE * available_memory()


def _progress(args):
    return False if getattr(args, "quiet", False) else None


def refuse_missing_drop(args, what: str) -> None:
    if getattr(args, "missing", "error") == "drop":
        raise DataError(f"--missing drop is not available when {what} streams its data; fill in or drop the missing "
                        "values first, or read the data into memory (without --stream).")


def refuse_in_memory_options(args) -> None:
    """Raise :class:`DataError` for what ``fit`` and ``compare`` can only do with the data in memory."""
    if getattr(args, "plot", None):
        raise DataError("--plot draws the data, so it needs them in memory; leave it out when the data stream.")
    for option in ("event", "left", "right", "truncate_below", "truncate_above"):
        if getattr(args, option, None) is not None:
            flag = "--" + option.replace("_", "-")
            raise DataError(f"{flag} (censored or truncated data) needs the data in memory; leave out --stream and "
                            "--scheduler, or fit a sample of the data.")


def column_names(args) -> list[str]:
    """The columns of DATA (from the files' schemas: nothing is read)."""
    if args.scheduler:
        return [str(c) for c in _frame(args).columns]
    from ..core.sources_files import scan

    return list(scan(args.data, progress=False).columns)


def open_source(args, columns: list[str] | None = None):
    """DATA as a source: a file scan, or a dask DataFrame on the cluster at ``--scheduler``."""
    if args.scheduler:
        from ..core.sources_dask import DaskSource

        frame = _frame(args)
        if columns is not None:
            frame = frame[list(columns)]
        return DaskSource(frame, client=_client(args), progress=_progress(args))
    from ..core.sources_files import scan

    return scan(args.data, columns=columns, progress=_progress(args))


def _client(args):
    client = getattr(args, "_dask_client", None)
    if client is None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - dask is an optional dependency
            raise DataError("--scheduler needs Dask: pip install 'mlemap[dask]'.") from None
        try:
            client = Client(args.scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise DataError(f"Could not reach the Dask scheduler at '{args.scheduler}': {exc}.") from None
        args._dask_client = client
    return client


def _frame(args):
    """DATA as a dask DataFrame read by the cluster's workers."""
    frame = getattr(args, "_dask_frame", None)
    if frame is not None:
        return frame
    import dask.dataframe as dd

    from ..data.files import CSV, PARQUET, expand_paths, format_of, is_tab_separated

    _client(args)
    paths = expand_paths(args.data)
    formats = {format_of(p, None) for p in paths}
    if formats == {PARQUET}:
        frame = dd.read_parquet(paths)
    elif formats == {CSV}:
        frame = dd.read_csv(paths, sep="\t" if all(is_tab_separated(p) for p in paths) else ",")
    else:
        raise DataError("--scheduler reads Parquet or CSV files (one format for all of them).")
    args._dask_frame = frame
    return frame


@dataclass
class WholeNumbers:
    """Per chunk: whether every value of ``column`` is a whole number of 0 or more (``&`` merges them)."""

    column: str

    def __call__(self, chunk) -> "_All":
        x = chunk[self.column]
        return _All(bool(((x >= 0) & (x == x.round())).all()))


@dataclass
class _All:
    value: bool

    def __add__(self, other: "_All") -> "_All":
        return _All(self.value and other.value)


def looks_like_counts(source, column: str) -> bool:
    return source.map_reduce(WholeNumbers(column)).value

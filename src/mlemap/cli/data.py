"""Reading the command line's DATA argument into a DataFrame and picking columns, with clear errors.

DATA is a CSV, TSV, Parquet or JSON-lines file, ``-`` for CSV on standard input, or ``@name`` for a
data set shipped with mlemap (``@waiting_times``, ``@coin_flips``, ``@classification``, ``@claims``).
Files are read with pandas (pyarrow for Parquet), except small plain tables of numbers, which
:func:`read_columns` reads without importing pandas (see :mod:`.numeric_csv`).
"""

from __future__ import annotations

import difflib
import io
import os
import sys
from typing import TYPE_CHECKING

import numpy as np

from .. import datasets
from ..errors import DataError
from . import numeric_csv

if TYPE_CHECKING:
    import pandas as pd

TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_columns(source: str) -> dict[str, np.ndarray] | pd.DataFrame:
    """The table named by DATA: ``{name: array}`` for a small plain table of numbers (read without
    pandas), otherwise the pandas DataFrame of :func:`read_table`."""
    if source == "-":
        text = read_stdin_text()
        return numeric_csv.parse(text, ",") or read_table(source, stdin_text=text)
    path = _dataset_path(source) if source.startswith("@") else source
    suffix = os.path.splitext(path)[1].lower()
    sep = None if suffix in JSON_SUFFIXES + PARQUET_SUFFIXES else TEXT_SUFFIXES.get(suffix, ",")
    if sep is not None and os.path.isfile(path) and os.path.getsize(path) <= numeric_csv.MAX_BYTES:
        with open(path, "rb") as handle:
            raw = handle.read()
        try:
            plain = numeric_csv.parse(raw.decode("utf-8"), sep)
        except UnicodeDecodeError:
            plain = None
        if plain is not None:
            return plain
    return read_table(source)


def read_table(source: str, stdin_text: str | None = None) -> pd.DataFrame:
    """The table named by DATA (see the module docstring); ``stdin_text``: standard input, if already read."""
    if source == "-":
        text = read_stdin_text() if stdin_text is None else stdin_text
        if not text.strip():
            raise DataError("Standard input is empty: pipe a CSV table into `mlemap ... -`.")
        return _check_rows(_read_csv_text(io.StringIO(text), "standard input", ","), "standard input")
    if source.startswith("@"):
        _dataset_path(source)
        return datasets.load(source[1:])
    if not os.path.exists(source):
        raise DataError(f"No such file: '{source}'. Check the path, or use '-' to read CSV from standard input.")
    if os.path.isdir(source):
        raise DataError(f"'{source}' is a directory; give a CSV, TSV, Parquet or JSON-lines file.")
    if os.path.getsize(source) == 0:
        raise DataError(f"The file '{source}' is empty.")
    suffix = os.path.splitext(source)[1].lower()
    import pandas as pd

    try:
        if suffix in PARQUET_SUFFIXES:
            frame = pd.read_parquet(source)
        elif suffix in JSON_SUFFIXES:
            _require_text(source)
            frame = pd.read_json(source, lines=True)
        else:
            _require_text(source)
            frame = _read_csv_text(source, f"'{source}'", TEXT_SUFFIXES.get(suffix, ","))
    except DataError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"Could not read '{source}' as a table: {first}.") from None
    return _check_rows(frame, f"'{source}'")


def _dataset_path(source: str) -> str:
    """The file of a shipped data set ``@name``, or an error that lists them."""
    name = source[1:]
    if name not in datasets.NAMES:
        close = difflib.get_close_matches(name, datasets.NAMES, n=1)
        hint = f" Did you mean '@{close[0]}'?" if close else ""
        raise DataError(
            f"Unknown shipped data set '{source}'.{hint} Shipped data sets: "
            + ", ".join("@" + n for n in datasets.NAMES)
            + "."
        )
    return datasets.path(name)


def read_stdin_text() -> str:
    """Standard input as text. Its bytes are decoded as UTF-8 here rather than by the locale, so that
    binary or Latin-1 input is a :class:`DataError` like the same bytes in a file."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already text (a StringIO)
        text = sys.stdin.read()
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes kept as surrogates by the locale's decoder
            raise DataError(_NOT_UTF8["stdin"]) from None
    else:
        raw = buffer.read()
    _check_text(raw, "stdin")
    return raw.decode("utf-8-sig")


_BINARY = {
    "stdin": "Standard input is binary data, not a text table. Pipe a CSV table (UTF-8 text) into `mlemap ... -`.",
    "file": "{label} is a binary file, not a text table. Give a CSV, TSV, JSON-lines or Parquet (.parquet) file.",
}
_NOT_UTF8 = {
    "stdin": "Standard input is not UTF-8 text (Latin-1 or another legacy encoding?). Convert it first, for "
    "example with `iconv -f latin1 -t utf-8`.",
    "file": "{label} is not UTF-8 text; save it as UTF-8 CSV.",
}


def _check_text(head: bytes, kind: str, label: str = "", cut: bool = False) -> None:
    """Raise :class:`DataError` when ``head`` (the first bytes of ``label``; all of them unless ``cut``)
    is binary or not UTF-8."""
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if b"\x00" in head or control > 0.05 * len(head):
        raise DataError(_BINARY[kind].format(label=label))
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            if not cut:
                raise
            head[:-4].decode("utf-8")  # a multi-byte character cut at the end of the sample is fine
        except UnicodeDecodeError:
            raise DataError(_NOT_UTF8[kind].format(label=label)) from None


def _require_text(path: str) -> None:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    _check_text(head, "file", f"'{path}'", cut=True)


def _read_csv_text(source, label: str, sep: str | None) -> pd.DataFrame:
    import pandas as pd

    try:
        if sep is None:  # the python engine sniffs the separator and parses floats exactly
            return pd.read_csv(source, sep=None, engine="python")
        # correctly rounded decimal -> float: pandas 3 does it by default; before that the C engine's
        # fast parser can be one unit off in the last place (the same file would fit differently than
        # through the built-in numeric reader)
        exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
        return pd.read_csv(source, sep=sep, engine="c", **exact)
    except pd.errors.EmptyDataError:
        raise DataError(f"{label} has no columns (is it empty?).") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"Could not parse {label} as a table: {str(exc).strip().splitlines()[0]}.") from None


def _check_rows(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    if frame.shape[1] == 0:
        raise DataError(f"{label} has no columns.")
    if frame.shape[0] == 0:
        raise DataError(f"{label} has a header but no rows of data.")
    return frame


def column(frame: pd.DataFrame, name: str, option: str = "--column") -> pd.Series:
    """The column ``name``, or an error that lists the columns and suggests the closest name."""
    if name in frame.columns:
        return frame[name]
    _no_column([str(c) for c in frame.columns], name, option)


def column_names(table) -> list[str]:
    """The column names of what :func:`read_columns` returned."""
    return [str(c) for c in (table if isinstance(table, dict) else table.columns)]


def check_column(names: list[str], name: str, option: str = "--column") -> None:
    """Nothing when ``name`` is one of ``names``; else an error that lists them and suggests the closest."""
    if name not in names:
        _no_column(names, name, option)


def _no_column(names: list[str], name: str, option: str):
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
    raise DataError(f"No column '{name}' (from {option}).{hint} The columns are: {shown}.")


def numeric(series: pd.Series | np.ndarray, name: str) -> pd.Series | np.ndarray:
    """``series`` as numbers, or an error naming the first value that is not a number."""
    if isinstance(series, np.ndarray) and series.dtype.kind in "iuf":
        return series
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        return series
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bool(bad.any()):
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"Column '{name}' is not numeric: the value {series.iloc[row]!r} at row {row} is not a number. "
            "Choose a numeric column, or a family for labels ('categorical')."
        )
    return converted


def handle_missing(frame: pd.DataFrame, columns: list[str], policy: str) -> pd.DataFrame:
    """Apply ``--missing``: ``error`` (default) names the count and first rows; ``drop`` removes those rows."""
    used = frame[columns]
    missing = used.isna().any(axis=1).to_numpy()
    if not missing.any():
        return frame
    if policy == "drop":
        kept = frame.loc[~missing]
        if kept.shape[0] == 0:
            raise DataError(f"Every row has a missing value in {', '.join(columns)}; nothing is left after --missing drop.")
        return kept
    rows = np.flatnonzero(missing)
    shown = ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if rows.size > 5 else "")
    raise DataError(
        f"{rows.size} row(s) have missing values in {', '.join(repr(c) for c in columns)} (rows {shown}). "
        "Pass --missing drop to drop them, or fill them in."
    )

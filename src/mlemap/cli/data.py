"""Reading the command line's DATA argument into a DataFrame and picking columns, with clear errors.

DATA is a CSV, TSV, Parquet or JSON-lines file, ``-`` for CSV on standard input, or ``@name`` for a
data set shipped with mlemap (``@waiting_times``, ``@coin_flips``, ``@classification``, ``@claims``).
Files are read with pandas (pyarrow for Parquet).
"""

from __future__ import annotations

import difflib
import io
import os
import sys

import numpy as np
import pandas as pd

from .. import datasets
from ..errors import DataError

TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(source: str) -> pd.DataFrame:
    """The table named by DATA (see the module docstring)."""
    if source == "-":
        text = sys.stdin.read()
        if not text.strip():
            raise DataError("Standard input is empty: pipe a CSV table into `mlemap ... -`.")
        return _check_rows(_read_csv_text(io.StringIO(text), "standard input", ","), "standard input")
    if source.startswith("@"):
        name = source[1:]
        if name not in datasets.NAMES:
            close = difflib.get_close_matches(name, datasets.NAMES, n=1)
            hint = f" Did you mean '@{close[0]}'?" if close else ""
            raise DataError(
                f"Unknown shipped data set '{source}'.{hint} Shipped data sets: "
                + ", ".join("@" + n for n in datasets.NAMES)
                + "."
            )
        return datasets.load(name)
    if not os.path.exists(source):
        raise DataError(f"No such file: '{source}'. Check the path, or use '-' to read CSV from standard input.")
    if os.path.isdir(source):
        raise DataError(f"'{source}' is a directory; give a CSV, TSV, Parquet or JSON-lines file.")
    if os.path.getsize(source) == 0:
        raise DataError(f"The file '{source}' is empty.")
    suffix = os.path.splitext(source)[1].lower()
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


def _require_text(path: str) -> None:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if b"\x00" in head or control > 0.05 * len(head):
        raise DataError(
            f"'{path}' is a binary file, not a text table. Give a CSV, TSV, JSON-lines or Parquet (.parquet) file."
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            head[:-4].decode("utf-8")  # a multi-byte character cut at the end of the sample is fine
        except UnicodeDecodeError:
            raise DataError(f"'{path}' is not UTF-8 text; save it as UTF-8 CSV.") from None


def _read_csv_text(source, label: str, sep: str | None) -> pd.DataFrame:
    try:
        return pd.read_csv(source, sep=sep, engine="python" if sep is None else "c")
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
    names = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
    raise DataError(f"No column '{name}' (from {option}).{hint} The columns are: {shown}.")


def numeric(series: pd.Series, name: str) -> pd.Series:
    """``series`` as numbers, or an error naming the first value that is not a number."""
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

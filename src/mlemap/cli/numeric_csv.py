"""Small all-numeric CSV and TSV tables, read without pandas.

Importing pandas costs a quarter of a second, more than reading and fitting a few thousand numbers,
so ``mlemap fit`` and ``mlemap compare`` read a small plain table of numbers themselves. :func:`parse`
accepts only what it can read exactly as pandas would: a header of distinct, non-empty names, then
rows with as many fields, each a decimal literal (``12``, ``-0.5``, ``3e-4``), no quotes, no missing
values. Anything else (labels, ``NA``, quotes, ragged rows, a byte-order mark) returns ``None`` and
the caller reads the table with pandas, which handles it or says what is wrong.

Columns whose fields are all integers come back as int64 arrays, the others as float64 (the types
pandas gives them); decimal strings are converted by Python's correctly rounded ``float``.
"""

from __future__ import annotations

import re

import numpy as np

#: larger tables go to pandas, whose parser is faster once it is imported
MAX_BYTES = 1 << 20
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def parse(text: str, sep: str) -> dict[str, np.ndarray] | None:
    """``{name: column}`` for a plain table of numbers separated by ``sep``, else ``None``."""
    if not text or len(text) > MAX_BYTES or '"' in text or text[0] == "\ufeff":
        return None
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    if len(lines) < 2 or any(not line.strip() for line in lines):
        return None
    names = lines[0].split(sep)
    if any(not n or n != n.strip() for n in names) or len(set(names)) != len(names):
        return None
    rows = [line.split(sep) for line in lines[1:]]
    if any(len(row) != len(names) for row in rows):
        return None
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        fields = [row[j] for row in rows]
        if all(_INTEGER.fullmatch(f) for f in fields):
            if any(len(f) > 18 for f in fields):  # beyond int64: leave the typing to pandas
                return None
            out[name] = np.array([int(f) for f in fields], dtype=np.int64)
        elif all(_DECIMAL.fullmatch(f) for f in fields):
            out[name] = np.array([float(f) for f in fields], dtype=np.float64)
        else:
            return None
    return out

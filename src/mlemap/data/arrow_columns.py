"""Arrow columns as mlemap reads them: their kind, their values as NumPy arrays, batches re-cut to a size.

Every column a scan reads has one of three *kinds*, the same in every file:

* ``number``: integers, floating point and decimals (read as float64, or the requested dtype);
* ``boolean``: read as 0/1 where numbers are needed, as categories in a formula;
* ``text``: strings (and dictionary-encoded strings), which only a formula can use (as categories).

A column of another type (dates, lists, binary) is refused by name. A column whose type is ``null``
(a CSV column empty in its first block) takes the kind it has in the other files (numbers if none).
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from ..errors import DataFileError

NUMBER, BOOLEAN, TEXT = "number", "boolean", "text"
_NULL = "null"
KIND_WORDS = {NUMBER: "numbers", BOOLEAN: "booleans", TEXT: "text"}


def kind_of(dtype) -> str | None:
    """The kind of an Arrow type (``None`` for a type mlemap cannot read)."""
    import pyarrow as pa

    if pa.types.is_dictionary(dtype):
        return kind_of(dtype.value_type)
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return NUMBER
    if pa.types.is_boolean(dtype):
        return BOOLEAN
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return TEXT
    if pa.types.is_null(dtype):
        return _NULL
    return None


def column_kinds(schemas: Sequence[tuple[str, object]], columns: Sequence[str]) -> dict[str, str]:
    """The kind of each of ``columns``, checked to be readable and the same in every ``(path, schema)``."""
    kinds: dict[str, tuple[str, str, object]] = {}  # column -> (kind, first path, its type)
    for path, schema in schemas:
        names = schema.names
        for column in columns:
            if column not in names:
                shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
                raise DataFileError(
                    f"The column '{column}' is not in the file '{path}' (its columns: {shown}). "
                    "Check the name, or leave that file out of the scan.",
                    path=path,
                )
            dtype = schema.field(column).type
            kind = kind_of(dtype)
            if kind is None:
                raise DataFileError(
                    f"The column '{column}' of the file '{path}' has the type {dtype}, which mlemap cannot read "
                    "(it reads numbers, booleans and text). Convert it, or leave the column out.",
                    path=path,
                )
            if kind == _NULL:
                continue
            seen = kinds.setdefault(column, (kind, path, dtype))
            if seen[0] != kind:
                raise DataFileError(
                    f"The column '{column}' holds {KIND_WORDS[kind]} ({dtype}) in the file '{path}' but "
                    f"{KIND_WORDS[seen[0]]} ({seen[2]}) in '{seen[1]}'. Every file must hold the same kind of values "
                    "in a column.",
                    path=path,
                )
    return {c: kinds[c][0] if c in kinds else NUMBER for c in columns}


def to_numpy(array, kind: str, *, keep_integers: bool = False) -> np.ndarray:
    """The values of an Arrow array: float64 (NaN for nulls) for numbers (int64 kept with
    ``keep_integers`` when there is no null), bool for booleans (object with None when nulls), object
    arrays of str (None for nulls) for text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if kind == NUMBER and not pa.types.is_floating(array.type):
        integer = pa.types.is_integer(array.type) and array.null_count == 0
        if not (keep_integers and integer):
            array = pc.cast(array, pa.float64())
    return array.to_numpy(zero_copy_only=False)


def first_null(array) -> int | None:
    """Position of the first null of an Arrow array (``None`` when there is none)."""
    if array.null_count == 0:
        return None
    import pyarrow.compute as pc

    return int(pc.index(pc.is_null(array), True).as_py())


def rebatch(batches: Iterator, rows: int) -> Iterator:
    """Record batches re-cut to ``rows`` rows each (the last one shorter); zero-copy where a batch is cut."""
    import pyarrow as pa

    pending, have = [], 0
    for batch in batches:
        start, n = 0, batch.num_rows
        if have == 0 and n == rows:
            yield batch
            continue
        while start < n:
            take = min(rows - have, n - start)
            pending.append(batch.slice(start, take))
            have += take
            start += take
            if have == rows:
                yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)
                pending, have = [], 0
    if have:
        yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)


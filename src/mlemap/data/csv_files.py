"""CSV files, read as a stream with ``pyarrow.csv.open_csv`` (a block of bytes at a time).

The column names and types are inferred from the first block when the reader opens. When rows are
read, every selected column is given a fixed type (numbers as float64, booleans, text as strings),
so a later block cannot silently change a column's type: a value that does not fit (a word in a
column of numbers) is a :class:`~mlemap.errors.DataFileError` naming the file, the column's reason
and the rows read before it. CSV files do not record their row count; it is counted by a pass when
asked for. Compressed files (``.gz``, ``.bz2``, ``.zst``) are decompressed on the fly.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

from .arrow_columns import BOOLEAN, TEXT
from .files import is_tab_separated
from .readers import FileReader, unreadable

#: bytes parsed per block (memory is bounded by a few blocks, whatever the file's size)
BLOCK_BYTES = 1 << 22

_KIND = "CSV"
_FIX = ("Every value of a column must be of the column's kind (numbers, booleans or text) in every file; correct the "
        "value, or quote the column as text.")


class CsvReader(FileReader):
    kind = "csv"

    def __init__(self, path: str, *, delimiter: str | None = None):
        super().__init__(path)
        self.delimiter = delimiter or ("\t" if is_tab_separated(path) else ",")
        try:
            reader = self._open({}, None)
            self.schema = reader.schema
            reader.close()
        except Exception as exc:  # a missing file, an unparsable first block
            raise unreadable(path, _KIND, exc) from None

    def _open(self, types: Mapping, columns: Sequence[str] | None):
        import pyarrow.csv as pcsv

        convert = pcsv.ConvertOptions(column_types=dict(types), include_columns=list(columns) if columns else None)
        return pcsv.open_csv(
            self.path,
            read_options=pcsv.ReadOptions(block_size=BLOCK_BYTES, use_threads=True),
            parse_options=pcsv.ParseOptions(delimiter=self.delimiter),
            convert_options=convert,
        )

    def batches(self, columns: Sequence[str], chunk_rows: int, kinds: Mapping[str, str]) -> Iterator:
        import pyarrow as pa

        fixed = {BOOLEAN: pa.bool_(), TEXT: pa.string()}
        types = {c: fixed.get(kinds.get(c), pa.float64()) for c in columns if c in kinds}
        try:
            reader = self._open(types, columns)
        except Exception as exc:
            raise unreadable(self.path, _KIND, exc) from None
        rows = 0
        try:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except Exception as exc:
                    raise unreadable(self.path, _KIND, exc, where=f"the rows after row {rows}", fix=_FIX) from None
                rows += batch.num_rows
                yield batch
        finally:
            reader.close()
        if self.n_rows is None and set(columns) >= set(self.schema.names[:1]):
            self.n_rows = rows

"""Parquet files, read a row group at a time and a batch at a time.

The footer (schema, row count, row groups) is read when the reader opens. Rows are read with
``ParquetFile.iter_batches`` per row group, with ``pre_buffer=False`` (Arrow's pre-buffering keeps
coalesced reads of a whole file around: memory would grow with the file) and a bounded read buffer
(pages are streamed rather than whole column chunks loaded), so memory is bounded by the batch and
the pages in flight, whatever the file's size. Page checksums, where the writer stored them, are
verified. A row group that cannot be decoded is a :class:`~mlemap.errors.DataFileError` naming the
file and the row group.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

from .readers import FileReader, unreadable

#: bytes of the read buffer (pages are streamed through it instead of loading whole column chunks)
READ_BUFFER = 1 << 20

_KIND = "Parquet"


class ParquetReader(FileReader):
    kind = "parquet"

    def __init__(self, path: str):
        super().__init__(path)
        try:
            with self._open() as pf:
                self.schema = pf.schema_arrow
                self.n_rows = int(pf.metadata.num_rows)
                self.n_row_groups = int(pf.metadata.num_row_groups)
        except Exception as exc:  # a missing file, a corrupt footer, not Parquet at all
            raise unreadable(path, _KIND, exc) from None

    def _open(self):
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path, pre_buffer=False, buffer_size=READ_BUFFER, page_checksum_verification=True)

    def batches(self, columns: Sequence[str], chunk_rows: int, kinds: Mapping[str, str]) -> Iterator:
        try:
            pf = self._open()
        except Exception as exc:
            raise unreadable(self.path, _KIND, exc) from None
        with pf:
            for group in range(pf.metadata.num_row_groups):
                where = f"row group {group}"
                try:
                    it = pf.iter_batches(batch_size=chunk_rows, row_groups=[group], columns=list(columns))
                except Exception as exc:
                    raise unreadable(self.path, _KIND, exc, where=where, row_group=group) from None
                while True:
                    try:
                        batch = next(it)
                    except StopIteration:
                        break
                    except Exception as exc:
                        raise unreadable(self.path, _KIND, exc, where=where, row_group=group) from None
                    yield batch

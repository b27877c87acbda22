"""Arrow IPC files (``.arrow``/``.feather`` v2 random-access files, or ``.arrows`` streams).

The schema (and, for the file format, the row count) is read when the reader opens. Rows are read a
record batch at a time through ordinary reads (not a memory map, whose pages would count towards
the process's resident memory as the file is traversed), with only the selected columns decoded.
Memory is therefore bounded by the largest record batch the writer made: write large tables with a
bounded ``max_chunksize`` to stream them in small pieces.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

from .readers import FileReader, unreadable

_KIND = "Arrow IPC"


class IpcReader(FileReader):
    kind = "ipc"

    def __init__(self, path: str):
        super().__init__(path)
        import pyarrow as pa
        import pyarrow.ipc as ipc

        try:
            with pa.OSFile(path) as f:
                try:
                    reader = ipc.open_file(f)
                    self.stream = False
                    self.schema = reader.schema
                    self.n_rows = int(reader.count_rows())
                except pa.ArrowInvalid:  # not the file format: try the stream format
                    f.seek(0)
                    self.stream = True
                    self.schema = ipc.open_stream(f).schema
        except Exception as exc:
            raise unreadable(path, _KIND, exc) from None

    def batches(self, columns: Sequence[str], chunk_rows: int, kinds: Mapping[str, str]) -> Iterator:
        import pyarrow as pa
        import pyarrow.ipc as ipc

        names = self.schema.names
        options = ipc.IpcReadOptions(included_fields=sorted(names.index(c) for c in columns), use_threads=True)
        try:
            f = pa.OSFile(self.path)
        except Exception as exc:
            raise unreadable(self.path, _KIND, exc) from None
        with f:
            try:
                reader = ipc.open_stream(f, options=options) if self.stream else ipc.open_file(f, options=options)
            except Exception as exc:
                raise unreadable(self.path, _KIND, exc) from None
            count = None if self.stream else reader.num_record_batches
            index = 0
            while count is None or index < count:
                where = f"record batch {index}"
                try:
                    batch = reader.read_next_batch() if self.stream else reader.get_batch(index)
                except StopIteration:
                    break
                except Exception as exc:
                    raise unreadable(self.path, _KIND, exc, where=where) from None
                index += 1
                yield batch.select(list(columns))

"""Reading ahead: the next items of an iterator produced on a thread while the caller works on this one.

A pass over a file alternates reading a chunk (Arrow's decoding, which releases the GIL) and
computing on it (NumPy and torch kernels, which release it too). :func:`prefetched` runs the
reading on a background thread, at most ``depth`` items ahead, so the two overlap and a pass takes
about the longer of the two instead of their sum. Items come out in order; an exception raised
while producing an item is raised in the caller at that item, with its own traceback; a caller that
stops early (an error of its own, a ``break``) stops the thread, which closes the iterator.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterator, TypeVar

T = TypeVar("T")
_DONE = object()
#: seconds between the producer's checks that the caller still wants items
_POLL = 0.05


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items``, produced on a background thread up to ``depth`` items ahead of the caller."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((True, item)):
                    return
            offer((True, _DONE))
        except BaseException as exc:  # handed to the caller, raised there
            offer((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="mlemap-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = ready.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:  # free a producer blocked on a full queue
                ready.get(timeout=_POLL)
            except queue.Empty:
                pass
        thread.join()

"""Room for NumPy's temporaries inside a Dask worker while a contribution runs.

Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``)
so that they hand freed memory back to the system at once. Setting that variable also switches off
glibc's dynamic mmap threshold, which stays at 128 KiB: every array above it (a chunk's
:math:`\\eta`, its weights, a column of :math:`W X`) is then a fresh ``mmap`` whose pages fault in
on first touch and are unmapped when freed, and a pass of contributions or a survey runs two to
three times slower than in an ordinary process.

:func:`roomy_allocator` lifts both thresholds while a task runs (nested and concurrent tasks of one
worker share one lift), then puts back the values the worker started with and trims the heap, so
the worker's memory is handed back as Dask intends. Nothing changes where the variable is unset
(glibc's own adaptive threshold is at work there) or on platforms without glibc's ``mallopt``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from contextlib import contextmanager
from functools import cache

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: glibc's default mmap threshold (the value in force once MALLOC_TRIM_THRESHOLD_ is set)
_DEFAULT_MMAP = 128 * 1024
#: thresholds while a task runs: a chunk's temporaries come from (and go back to) the heap
_ROOM = 256 * 1024 * 1024

_lock = threading.Lock()
_active = 0


@cache
def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:  # pragma: no cover - no C library to load
        return None


def _fixed_trim_threshold() -> int | None:
    """The trim threshold the environment fixed (None when glibc adapts it itself)."""
    value = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@contextmanager
def roomy_allocator():
    """While inside: heap thresholds of :data:`_ROOM`; on the way out of the last task: the
    worker's own thresholds back, and the heap trimmed (see the module docstring)."""
    global _active
    trim = _fixed_trim_threshold()
    libc = _libc() if trim is not None else None
    if libc is None:
        yield
        return
    with _lock:
        _active += 1
        if _active == 1:
            libc.mallopt(_M_MMAP_THRESHOLD, _ROOM)
            libc.mallopt(_M_TRIM_THRESHOLD, _ROOM)
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                libc.mallopt(_M_MMAP_THRESHOLD, _DEFAULT_MMAP)
                libc.mallopt(_M_TRIM_THRESHOLD, trim)
                libc.malloc_trim(0)

"""How many threads torch and the BLAS may use while a fit runs.

torch's OpenMP threads busy-wait after each parallel region. On small problems (a few hundred
numbers per operation, a 2x2 Cholesky factor) a parallel region gains nothing, and when another
process holds a core every barrier waits for it: a 20-row bivariate-normal fit took 3 s on two
threads of a busy machine and 0.05 s on one. Fits below :data:`SERIAL_BELOW` observations therefore
run torch on one thread (the setting is restored afterwards); larger ones keep every thread. The
solvers that alternate torch with NumPy/SciPy BLAS products hold torch to one thread whatever the
size, so that its waiting threads do not starve the BLAS. Larger fits also run on one thread when
the machine is busy (its load average at least 1.5 times its number of cores, so that a fit's own
threads do not count as busy), as OpenMP's dynamic adjustment of threads would do: their parallel
regions would wait for the other processes.
"""

from __future__ import annotations

import functools
import os
from contextlib import contextmanager, nullcontext

#: below this many observations the per-observation terms run on one torch thread
SERIAL_BELOW = 200_000
#: a load average of this many times the cores counts as a busy machine
BUSY_LOAD = 1.5


@contextmanager
def torch_single_thread():
    """Run torch on one thread inside the block and restore the previous setting."""
    import torch

    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def machine_is_busy() -> bool:
    """Whether other processes already occupy this process's cores: the one-minute load average is
    at least 1.5 times the number of cores it may run on (parallel regions would wait for them)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no load average
        return False
    return load >= BUSY_LOAD * cores


def family_threads(n: int):
    """One torch thread for ``n`` below :data:`SERIAL_BELOW` observations or on a busy machine, else
    torch's own setting."""
    return torch_single_thread() if n < SERIAL_BELOW or machine_is_busy() else nullcontext()


def single_threaded_torch(method):
    """Decorator: run ``method`` inside :func:`torch_single_thread` (the estimators' ``fit``)."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with torch_single_thread():
            return method(*args, **kwargs)

    return wrapper


def serial_when_busy(function):
    """Decorator: run ``function`` on one torch thread when :func:`machine_is_busy` (``mm.fit``: its
    data checks and statistics are single passes that a busy machine's barriers would slow down)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with torch_single_thread() if machine_is_busy() else nullcontext():
            return function(*args, **kwargs)

    return wrapper


@functools.lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def blas_single_thread():
    """Hold the BLAS libraries loaded in this process to one thread inside the block: where the rows
    are already split between Python threads, BLAS threads of their own would only oversubscribe
    the cores."""
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield

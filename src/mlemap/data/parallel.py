"""One pass over large CPU arrays, split across threads with NumPy (which releases the GIL).

``log x`` is the one elementwise pass that the log-scale families (gamma, log-normal, Weibull,
beta, Pareto) need before their statistics, and NumPy's vectorised ``log`` is faster than torch's.
Cheap reductions (sums, minimum and maximum) stay with torch: dispatching them to a thread pool
costs more than they do.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np
import torch

#: arrays smaller than this are processed in the calling thread
PARALLEL_ABOVE = 262_144

_POOL: ThreadPoolExecutor | None = None


#: threads used for a pass (None: torch's intra-op thread count)
WORKERS: int | None = None


def _workers() -> int:
    return WORKERS or max(1, min(8, torch.get_num_threads()))


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_workers())
    return _POOL


def eligible(x: torch.Tensor) -> bool:
    """A CPU tensor without autograd history, large enough to split."""
    return x.device.type == "cpu" and not x.requires_grad and x.numel() >= PARALLEL_ABOVE


def map_blocks(arr: np.ndarray, job: Callable[[int, int], tuple]) -> list[tuple]:
    """Run ``job(start, stop)`` on contiguous blocks of the flattened array, one per worker."""
    n = arr.size
    workers = _workers()
    if workers == 1 or n < PARALLEL_ABOVE:
        return [job(0, n)]
    bounds = np.linspace(0, n, workers + 1).astype(int)
    futures = [_pool().submit(job, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    return [f.result() for f in futures]


def log(x: torch.Tensor) -> torch.Tensor:
    """``log x`` in one parallel pass."""
    if not eligible(x):
        return torch.log(x)
    flat = x.detach().numpy().reshape(-1)
    out = np.empty_like(flat)
    map_blocks(flat, lambda a, b: (np.log(flat[a:b], out=out[a:b]),))
    return torch.from_numpy(out.reshape(x.shape))

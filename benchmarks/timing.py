"""Timing shared by the benchmarks: medians of interleaved repetitions (these machines are shared
and noisy, so every function sees the same machine state, and ratios are what to quote)."""

from __future__ import annotations

import statistics
import time


def interleaved_medians(fns: list, repeat: int | list[int]) -> list[float]:
    """Median seconds of each function, all run in turn on each repetition; ``repeat`` is one count
    for all, or one per function (a slow reference may run fewer times)."""
    repeats = [repeat] * len(fns) if isinstance(repeat, int) else list(repeat)
    times: list[list[float]] = [[] for _ in fns]
    for r in range(max(repeats)):
        for i, fn in enumerate(fns):
            if r >= repeats[i]:
                continue
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]

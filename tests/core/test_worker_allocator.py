"""Inside a task, a worker started with MALLOC_TRIM_THRESHOLD_ reuses heap memory for large temporaries."""

import os
import subprocess
import sys

import pytest

SCRIPT = """
import resource
import numpy as np
from mlemap.core.worker_allocator import roomy_allocator

def faults(n=100):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(n):
        a = np.ones(1 << 17)  # 1 MiB, above the fixed 128 KiB mmap threshold
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

outside = faults()
with roomy_allocator():
    inside = faults()
after = faults()
print(outside, inside, after)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)")
def test_large_temporaries_stop_faulting_in_pages_only_while_a_task_runs():
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    outside, inside, after = map(int, out.stdout.split())
    assert outside > 100 * 200  # a fresh mapping each time: 256 pages fault in per array
    assert inside < outside / 10
    assert after > 100 * 200  # the worker's own settings are back once the task is done

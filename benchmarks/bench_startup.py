"""Start-up time of the ``mlemap`` command line, measured on whole processes.

Each command is run as a fresh process, ``--repeat`` times (7 by default), interleaved (one run of
every command per round, so that a busy machine slows them all alike). The script prints each
command's median wall time and its ratio to the median of ``python -c "import torch"``, the floor
that any command touching torch pays.

Targets: ``mlemap fit FILE --column x --family gamma`` on a 300-row file at most 1.3x
``import torch``; ``--version``, ``--help`` and ``families`` far below it (they import no torch).
Two more rows show what a regression pays: a formula refused by its syntax (exit 2, before torch
is imported) and a short Poisson path on a bundled table (torch, pandas and formulaic, no
scikit-learn or scipy.stats).

Run:  python benchmarks/bench_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def mlemap_command() -> list[str]:
    """The installed console script next to this Python, else ``python -m mlemap``."""
    script = shutil.which("mlemap", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "mlemap"]


def commands(small_csv: str) -> list[tuple[str, list[str], int]]:
    """``(name, argv, expected exit code)`` of each timed command."""
    exe = mlemap_command()
    return [
        ('python -c "import torch"', [sys.executable, "-c", "import torch"], 0),
        ("mlemap --version", exe + ["--version"], 0),
        ("mlemap --help", exe + ["--help"], 0),
        ("mlemap families", exe + ["families"], 0),
        ("mlemap fit (300 rows, gamma)", exe + ["fit", small_csv, "--column", "x", "--family", "gamma"], 0),
        ("mlemap fit --json", exe + ["fit", small_csv, "--column", "x", "--family", "gamma", "--json"], 0),
        ("mlemap fit @waiting_times", exe + ["fit", "@waiting_times", "--family", "gamma"], 0),
        ("mlemap regress (refused formula)", exe + ["regress", "@claims", "--formula", "claims ~ __import__('os')"], 2),
        ("mlemap path @claims (5 alphas)", exe + ["path", "@claims", "--formula", "claims ~ age + urban", "--family",
                                                  "poisson", "--n-alphas", "5", "--quiet", "--json"], 0),
    ]


def time_once(argv: list[str], expected: int = 0) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != expected:
        raise SystemExit(f"{' '.join(argv)} exited with {done.returncode}, not {expected}:\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = os.path.join(tmp, "small.csv")
        x = np.random.default_rng(0).gamma(2.0, 1.5, 300)
        np.savetxt(small, x, header="x", comments="", fmt="%.10g")
        cases = commands(small)
        for _, argv, code in cases:  # warm the file-system cache; not timed
            time_once(argv, code)
        times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        for _ in range(args.repeat):
            for name, argv, code in cases:
                times[name].append(time_once(argv, code))
    base = statistics.median(times[cases[0][0]])
    width = max(len(name) for name, _, _ in cases)
    print(f"median of {args.repeat} interleaved runs; ratio = median / median of `import torch`\n")
    print(f"{'command':<{width}}  {'median (s)':>10}  {'ratio':>6}")
    for name, _, _ in cases:
        med = statistics.median(times[name])
        print(f"{name:<{width}}  {med:>10.3f}  {med / base:>6.2f}")


if __name__ == "__main__":
    main()

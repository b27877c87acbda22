"""Running the command line in tests: in-process through ``main(argv)`` (fast), or as a real process.

:func:`run_cli` calls :func:`mlemap.cli.main.main` with standard input, output and error replaced
by strings and ``COLUMNS`` set, turns ``SystemExit`` (argparse's ``--help``, ``--version`` and
usage errors) into the exit code, and lets warnings print to standard error as they would in a
process. :func:`run_process` starts the installed ``mlemap`` script, for the few smoke tests that
need a real process.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

EXE = shutil.which("mlemap", path=str(Path(sys.executable).parent)) or shutil.which("mlemap")


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(columns: int | None):
    old = os.environ.get("COLUMNS")
    if columns is None:
        os.environ.pop("COLUMNS", None)
    else:
        os.environ["COLUMNS"] = str(columns)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def run_cli(*args: str, stdin: str | bytes = "", columns: int | None = 150) -> Done:
    """``mlemap ARGS`` in this process: its exit code, standard output and standard error. Bytes on
    standard input arrive as in a process: a text stream over a byte buffer."""
    from mlemap.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8") if isinstance(stdin, bytes) else io.StringIO(stdin)
    try:
        with _environment(columns), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings():
            warnings.simplefilter("default")
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin = old_stdin
        _close_figures()
    return Done(code, out.getvalue(), err.getvalue())


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def run_process(*args: str, stdin: str | None = None, columns: int = 150, python: bool = False,
                env: dict | None = None) -> Done:
    """The installed ``mlemap`` command (or, with ``python=True``, ``python ARGS``) as a real process,
    with ``env`` added to the environment."""
    env = {**os.environ, "COLUMNS": str(columns), **(env or {})}
    argv = [sys.executable, *args] if python else [EXE, *args]
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, timeout=300)
    return Done(done.returncode, done.stdout, done.stderr)

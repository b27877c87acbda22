"""Where the command line's tables go: a rich console as wide as the terminal (or ``COLUMNS``).

On a terminal rich draws in colour at the terminal's width. Piped or redirected output has no
colour, is ``COLUMNS`` wide when that is set (else :data:`PIPE_WIDTH`, room for the widest table)
and carries no trailing spaces: rich pads every line of a table to the full width, and
:class:`TrimmedLines` drops that padding before each newline.
"""

from __future__ import annotations

import io
import os
import sys

#: width of piped output when COLUMNS is not set
PIPE_WIDTH = 120


def width() -> int | None:
    """``COLUMNS`` when set to a positive number; else None on a terminal (rich asks it) or PIPE_WIDTH."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    return None if sys.stdout.isatty() else PIPE_WIDTH


class TrimmedLines(io.TextIOBase):
    """A text stream that writes to ``target`` with the trailing spaces of every line removed."""

    def __init__(self, target):
        self._target = target
        self._partial = ""

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return getattr(self._target, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._target.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self._partial.strip(" "):
            self._target.write(self._partial)
            self._partial = ""
        self._target.flush()


def console():
    """A rich console for standard output (see the module docstring)."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False, soft_wrap=False, width=width())
    return Console(file=TrimmedLines(sys.stdout), highlight=False, soft_wrap=False, width=width())


def show(renderable) -> None:
    """Print ``renderable`` on standard output; a table too wide for a very narrow terminal is not
    cropped (the terminal wraps its lines, no number is cut)."""
    console().print(renderable, crop=False, markup=False)


#: the help text of every command's DATA argument
DATA_HELP = "CSV, TSV, Parquet or JSON-lines file, '-' for CSV on standard input, or @name for a shipped data set"


def print_json(payload) -> None:
    """One JSON object on standard output (NaN and infinities must already be ``None``)."""
    import json
    import sys

    sys.stdout.write(json.dumps(payload, allow_nan=False) + "\n")

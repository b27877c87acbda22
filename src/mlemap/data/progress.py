"""A progress bar per pass over data that is read rather than held: rows done, and which pass it is.

``progress=None`` (the default of the sources) shows the bar when standard error is a terminal and
stays silent otherwise (pipes, logs, tests); ``True`` always shows it, ``False`` never. rich is
imported only when a bar is shown.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator


def _ignore(rows: int) -> None:
    return None


def check_progress(value) -> bool | None:
    from ..errors import DataError

    if value is not None and not isinstance(value, bool):
        raise DataError(f"The 'progress' argument must be True, False or None (automatic). Got {value!r} instead.")
    return value


@contextmanager
def pass_progress(enabled: bool | None, label: str, total: int | None,
                  unit: str = "rows") -> Iterator[Callable[[int], None]]:
    """A context giving ``advance(n)``: ``n`` more rows (or partitions: ``unit``) of the pass are done."""
    if enabled is False:
        yield _ignore
        return
    from rich.console import Console

    console = Console(stderr=True)
    if enabled is None and not console.is_terminal:
        yield _ignore
        return
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Done(ProgressColumn):
        def render(self, task) -> Text:
            done = f"{int(task.completed):,}"
            return Text(f"{done} / {int(task.total):,} {unit}" if task.total is not None else f"{done} {unit}")

    bar = Progress(TextColumn("{task.description}"), BarColumn(), Done(), TimeElapsedColumn(), console=console,
                   transient=False)
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda rows: bar.advance(task, rows)

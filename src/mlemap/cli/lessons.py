"""``mlemap lessons``: run the course's experiments, check their numbers, write the HTML report.

The terminal shows one line per lesson (number, name, checks passed of total, status, seconds;
the title too where the terminal is wide enough), then each failing check in full. ``--verbose``
adds every check of every lesson, one table per lesson. Nothing is cut: long cells wrap at word
boundaries, and the title column is dropped rather than squeezed on a narrow terminal.
"""

from __future__ import annotations

import io
import os
import sys

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..errors import MlemapError

#: below this width the lesson titles are left out of the summary (names identify the lessons)
TITLE_MIN_WIDTH = 110


def register(sub, common, commands) -> None:
    p = sub.add_parser(
        "lessons",
        help="run the MLE/MAP course as self-checking experiments and write an HTML report with figures",
        description="Run every lesson (or --only some), check the numbers each one claims, save figures and "
        "DIR/index.html (with the interactive explorer beside it). Exit status 0 only if every check passes.",
    )
    p.add_argument("--out", default="report", help="output directory (default: report/)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="lesson numbers or names, e.g. --only 1 coin_mle")
    p.add_argument("--list", action="store_true", help="list the lessons and exit")
    p.add_argument("--fast", action="store_true", help="smaller samples and fewer iterations")
    p.add_argument("--verbose", action="store_true", help="show every check of every lesson, not only the failing ones")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--debug", action="store_true", help="show the traceback of errors")
    commands["lessons"] = cmd_lessons


def _select(lessons, only):
    if not only:
        return list(lessons)
    chosen = []
    for key in only:
        match = [l for l in lessons if key in (str(l.number), l.name, l.slug)]
        if not match:
            names = ", ".join(f"{l.number} {l.name}" for l in lessons)
            raise MlemapError(f"No lesson '{key}'. Lessons: {names}.")
        chosen.extend(m for m in match if m not in chosen)
    return sorted(chosen, key=lambda l: l.number)


def _check_out(out: str) -> None:
    """Create the report's folder before any lesson runs, so that an unusable --out fails first."""
    try:
        os.makedirs(os.path.join(out, "figures"), exist_ok=True)
    except OSError as exc:
        raise MlemapError(
            f"Cannot write the lessons report into '{out}' ({exc.strerror or exc}). Choose a writable directory with --out."
        ) from None


def _width() -> int | None:
    """``COLUMNS`` when set (a narrow terminal, a test), else what the shared console decides."""
    try:
        return max(40, int(os.environ["COLUMNS"]))
    except (KeyError, ValueError):
        from .output import console as _console

        return _console().width


def _status(passed: bool) -> Text:
    return Text("pass", style="green") if passed else Text("FAIL", style="bold red")


def summary_table(runs, width: int) -> Table:
    """One row per lesson: number, name, checks passed/total, status, seconds (and the title when wide)."""
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("lesson", no_wrap=True)
    if width >= TITLE_MIN_WIDTH:
        table.add_column("title", overflow="fold")
    table.add_column("checks", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("seconds", justify="right", no_wrap=True)
    for run in runs:
        ok = sum(c.passed for c in run.checks)
        cells = [str(run.lesson.number), run.lesson.name]
        if width >= TITLE_MIN_WIDTH:
            cells.append(Text(run.lesson.title))
        table.add_row(*cells, f"{ok}/{len(run.checks)}", _status(run.ok), f"{run.seconds:.1f}")
    return table


def check_table(run) -> Table:
    """Every check of one lesson: name, expected, obtained, status (cells wrap, never cut)."""
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("check", ratio=3, overflow="fold")
    table.add_column("expected", ratio=2, overflow="fold")
    table.add_column("obtained", ratio=2, overflow="fold")
    table.add_column("status", no_wrap=True)
    for c in run.checks:
        table.add_row(Text(c.name), Text(c.expected), Text(c.obtained), _status(c.passed))
    return table


def failures(runs) -> list[Text]:
    """A paragraph per failing check (or lesson that did not run), with what was expected and obtained."""
    out = []
    for run in runs:
        head = f"{run.lesson.number} {run.lesson.name}"
        if run.error:
            out.append(Text(f"FAIL {head}: the lesson failed to run: {run.error}", style="red"))
        for c in run.checks:
            if not c.passed:
                out.append(Text(f"FAIL {head}: {c.name}: expected {c.expected}, obtained {c.obtained}", style="red"))
    return out


def report_renderables(runs, width: int, verbose: bool = False, report_path: str | None = None) -> list:
    """What ``mlemap lessons`` prints, as rich renderables, for a terminal ``width`` columns wide."""
    parts: list = []
    if verbose:
        for run in runs:
            ok = sum(c.passed for c in run.checks)
            parts.append(Text(f"\n{run.lesson.number}. {run.lesson.title} ({run.lesson.name}, {ok}/{len(run.checks)})",
                              style="bold"))
            parts.append(check_table(run))
        parts.append(Text(""))
    parts.append(summary_table(runs, width))
    parts.extend(failures(runs))
    total = sum(len(r.checks) for r in runs)
    passed = sum(c.passed for r in runs for c in r.checks)
    seconds = sum(r.seconds for r in runs)
    line = f"{passed}/{total} checks passed in {len(runs)} lessons ({seconds:.0f} s)."
    if report_path is not None:
        line += f" Report: {report_path}"
    parts.append(Text(line))
    return parts


def render(runs, width: int, verbose: bool = False, report_path: str | None = None) -> str:
    """The terminal output as plain text (what a pipe receives), ``width`` columns wide."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False, soft_wrap=False)
    console.print(Group(*report_renderables(runs, width, verbose, report_path)))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def cmd_lessons(args) -> None:
    from ..lessons import LESSONS, run_lessons

    width = _width()
    console = Console(highlight=False, soft_wrap=False, width=width)
    if args.list:
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("name", no_wrap=True)
        table.add_column("lesson", overflow="fold")
        for lesson in LESSONS:
            table.add_row(str(lesson.number), lesson.name, Text(lesson.title))
        console.print(table)
        return
    lessons = _select(LESSONS, args.only)
    _check_out(args.out)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=Console(file=sys.stderr), transient=True, disable=args.quiet or not sys.stderr.isatty(),
    )
    with progress:
        task = progress.add_task("lessons", total=len(lessons))

        def on_start(lesson) -> None:
            progress.update(task, description=f"lesson {lesson.number}: {lesson.name}", completed=lessons.index(lesson))

        runs = run_lessons(lessons, out_dir=args.out, fast=args.fast, on_start=on_start)
        progress.update(task, completed=len(lessons))
    report = os.path.join(args.out, "index.html")
    if console.is_terminal:
        console.print(Group(*report_renderables(runs, console.width, args.verbose, report)))
    else:  # piped: plain text without trailing spaces
        sys.stdout.write(render(runs, console.width, args.verbose, report))
    if not all(r.ok for r in runs):
        raise SystemExit(1)

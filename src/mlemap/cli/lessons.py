"""``mlemap lessons``: run the course's experiments, check their numbers, write the HTML report."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import MlemapError


def register(sub, common, commands) -> None:
    p = sub.add_parser(
        "lessons",
        help="run the MLE/MAP course as self-checking experiments and write an HTML report with figures",
        description="Run every lesson (or --only some), check the numbers each one claims, save figures and "
        "DIR/index.html. Exit status 0 only if every check passes.",
    )
    p.add_argument("--out", default="report", help="output directory (default: report/)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="lesson numbers or names, e.g. --only 1 coin_mle")
    p.add_argument("--list", action="store_true", help="list the lessons and exit")
    p.add_argument("--fast", action="store_true", help="smaller samples and fewer iterations")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--debug", action="store_true")
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


def cmd_lessons(args) -> None:
    from ..lessons import LESSONS, run_lessons
    from .commands import _console

    console = _console()
    if args.list:
        table = Table(show_edge=False)
        table.add_column("#", justify="right")
        table.add_column("name")
        table.add_column("lesson")
        for lesson in LESSONS:
            table.add_row(str(lesson.number), lesson.name, Text(lesson.title))
        console.print(table)
        return
    lessons = _select(LESSONS, args.only)
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
    table = Table(show_edge=False, title="checks")
    for col in ("lesson", "check", "expected", "obtained", ""):
        table.add_column(col)
    for run in runs:
        label = f"{run.lesson.number} {run.lesson.name}"
        if run.error:
            table.add_row(Text(label), Text("the lesson failed to run"), Text(""), Text(run.error), Text("FAIL", style="bold red"))
        for c in run.checks:
            mark = Text("pass", style="green") if c.passed else Text("FAIL", style="bold red")
            table.add_row(Text(label), Text(c.name), Text(c.expected), Text(c.obtained), mark)
            label = ""
    console.print(table)
    total = sum(len(r.checks) for r in runs)
    passed = sum(c.passed for r in runs for c in r.checks)
    seconds = sum(r.seconds for r in runs)
    console.print(f"{passed}/{total} checks passed in {len(runs)} lessons ({seconds:.0f} s). Report: {os.path.join(args.out, 'index.html')}")
    if passed != total or any(r.error for r in runs):
        raise SystemExit(1)

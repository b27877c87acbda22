"""Run lessons: time them, keep their checks, save their figures, write the report."""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .base import Check, Context, Lesson
from .report import png_bytes, smallest_legend_px, write_report


@dataclass
class LessonRun:
    lesson: Lesson
    checks: list[Check] = field(default_factory=list)
    figures: list[tuple[str, bytes]] = field(default_factory=list)
    legend_px: list[float | None] = field(default_factory=list)  # smallest legend text per figure, as shown
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.checks) and all(c.passed for c in self.checks)


def run_lesson(lesson: Lesson, ctx: Context) -> LessonRun:
    import warnings

    from ..errors import MlemapWarning
    from ..plots._mpl import pyplot

    plt = pyplot()
    run = LessonRun(lesson)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():  # lessons show boundary and convergence cases on purpose
            warnings.simplefilter("ignore", MlemapWarning)
            output = lesson.run(ctx)
        run.checks = list(output.checks)
        run.findings = list(output.findings)
        for caption, fig in output.figures:
            png = png_bytes(fig)
            run.figures.append((caption, png))
            run.legend_px.append(smallest_legend_px(fig, png))
            plt.close(fig)
    except Exception as exc:  # a failing lesson is reported, the others still run
        run.error = f"{type(exc).__name__}: {exc}"
        run.findings.append(traceback.format_exc(limit=3))
    run.seconds = time.perf_counter() - start
    return run


def run_lessons(
    lessons: Sequence[Lesson],
    out_dir: str | None = None,
    fast: bool = False,
    on_start: Callable[[Lesson], None] | None = None,
) -> list[LessonRun]:
    """Run ``lessons`` in order; with ``out_dir``, save ``figures/*.png``, ``index.html`` and the explorer there."""
    ctx = Context(fast=fast)
    runs = []
    for lesson in lessons:
        if on_start is not None:
            on_start(lesson)
        runs.append(run_lesson(lesson, ctx))
    if out_dir is not None:
        os.makedirs(os.path.join(out_dir, "figures"), exist_ok=True)
        for run in runs:
            for i, (_, data) in enumerate(run.figures, 1):
                with open(os.path.join(out_dir, "figures", f"{run.lesson.slug}_{i}.png"), "wb") as handle:
                    handle.write(data)
        from ..explore import FILENAME, write_page

        write_page(out_dir, report_link="index.html")
        write_report(os.path.join(out_dir, "index.html"), runs, explorer=FILENAME)
    return runs

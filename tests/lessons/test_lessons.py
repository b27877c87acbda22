"""Every lesson runs in fast mode with all its checks passing, and the report embeds its figures."""

import base64
import re

import pytest

from mlemap.lessons import LESSONS, run_lessons

PNG = b"\x89PNG\r\n\x1a\n"


#: lessons run by the default suite (one of each kind of figure and check); the others are marked
#: slow here because the README's first command, which CI runs, runs every lesson and exits 1 when a
#: check fails
DEFAULT = {"gaussian_mle", "beta_priors", "boundary", "information"}
PER_LESSON = [pytest.param(lesson, id=lesson.slug, marks=() if lesson.name in DEFAULT else pytest.mark.slow)
              for lesson in LESSONS]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Each lesson's run and report folder, run on first use (one lesson per report)."""
    cache = {}

    def get(lesson):
        if lesson.slug not in cache:
            out = tmp_path_factory.mktemp(lesson.slug)
            (run,) = run_lessons([lesson], out_dir=str(out), fast=True)
            cache[lesson.slug] = (out, run)
        return cache[lesson.slug]

    return get


def test_the_course_is_covered_in_order():
    assert [lesson.number for lesson in LESSONS] == list(range(1, 27))
    assert len({lesson.name for lesson in LESSONS}) == len(LESSONS)


@pytest.mark.parametrize("lesson", PER_LESSON)
def test_lesson_checks_pass(reports, lesson):
    run = reports(lesson)[1]
    assert run.error is None, run.error + "\n" + "\n".join(run.findings)
    assert len(run.checks) >= 3, "a lesson checks at least three claims"
    failed = [f"{c.name}: expected {c.expected}, obtained {c.obtained}" for c in run.checks if not c.passed]
    assert not failed, failed
    assert run.figures, "every lesson draws a figure"


@pytest.mark.parametrize("lesson", PER_LESSON)
def test_legends_are_legible_in_the_report(reports, lesson):
    from mlemap.lessons.base import LEGIBLE_PX

    sizes = [px for px in reports(lesson)[1].legend_px if px is not None]
    assert all(px >= LEGIBLE_PX for px in sizes), f"legend text {min(sizes):.1f} px high in the report"


def _sections(html: str) -> dict[str, str]:
    parts = re.split(r"<h2 id='([^']+)'>", html)
    return dict(zip(parts[1::2], parts[2::2]))


@pytest.mark.parametrize("lesson", PER_LESSON)
def test_report_embeds_every_lessons_figure(reports, lesson):
    out, run = reports(lesson)
    sections = _sections((out / "index.html").read_text(encoding="utf-8"))
    section = sections[lesson.slug]
    figures = re.findall(r"<figure><img [^>]*src=\"data:image/png;base64,([^\"]+)\"", section)
    assert len(figures) == len(run.figures)
    for encoded in figures:
        assert base64.b64decode(encoded).startswith(PNG)
    assert "class='pass'" in section and "class='fail'" not in section
    for i in range(1, len(figures) + 1):
        assert (out / "figures" / f"{lesson.slug}_{i}.png").read_bytes().startswith(PNG)


def test_the_report_links_to_the_explorer_beside_it(reports):
    out, _ = reports(LESSONS[1])
    assert "href='explore.html'" in (out / "index.html").read_text(encoding="utf-8")
    assert "id='coin-map'" in (out / "explore.html").read_text(encoding="utf-8")


def test_a_failing_check_is_reported_not_hidden(tmp_path):
    from mlemap.lessons.base import Lesson, LessonOutput, close

    def run(ctx):
        return LessonOutput(checks=[close("one is two", 1.0, 2.0)])

    broken = Lesson(99, "broken", "A lesson that fails", r"$1 \neq 2$", "Fails on purpose.", run)
    (result,) = run_lessons([broken], out_dir=str(tmp_path))
    assert not result.ok
    assert "class='fail'" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_a_lesson_that_raises_is_reported_and_the_others_still_run(tmp_path):
    from mlemap.lessons.base import Lesson

    def run(ctx):
        raise RuntimeError("boom")

    broken = Lesson(98, "raises", "A lesson that raises", r"$x$", "Raises on purpose.", run)
    first, second = run_lessons([broken, LESSONS[0]], fast=True)
    assert first.error == "RuntimeError: boom" and not first.ok
    assert second.ok


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_equation_is_valid_mathtext(lesson):
    from matplotlib.mathtext import MathTextParser

    MathTextParser("path").parse(lesson.equation)  # raises ValueError where the report would fall back to source text

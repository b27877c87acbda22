"""The terminal output of ``mlemap lessons`` at 80 and 120 columns: one line per lesson, nothing cut."""

import re

import pytest

from mlemap.cli.lessons import TITLE_MIN_WIDTH, render
from mlemap.lessons import LESSONS
from mlemap.lessons.base import Check, Lesson
from mlemap.lessons.runner import LessonRun


def fake_runs(failing: bool = False):
    """Every lesson of the course, as if run: three checks each with long names and long values."""
    runs = []
    for lesson in LESSONS:
        checks = [
            Check("a check whose name is long enough to need wrapping on a narrow terminal", "0.123456789 (rtol 1e-12)",
                  "0.123456789", True),
            Check("an array", "[1.23457, 2.34568, 3.45679, 4.5679, 5.67901, 6.78901, …]",
                  "[1.23457, 2.34568, 3.45679, 4.5679, 5.67901, 6.78901, …]", True),
            Check("a third", "finite", "12345.6789", not (failing and lesson.number == 3)),
        ]
        runs.append(LessonRun(lesson, checks=checks, seconds=1.25))
    return runs


def assert_nothing_cut(text: str, width: int):
    for line in text.splitlines():
        assert len(line) <= width, line
        assert line == line.rstrip(), repr(line)
    assert not re.search(r"\d…|…\d", text), "an ellipsis inside a number"


@pytest.mark.parametrize("width", [80, 120])
def test_default_summary_is_one_line_per_lesson(width):
    runs = fake_runs()
    text = render(runs, width, report_path="report/index.html")
    assert_nothing_cut(text, width)
    lines = text.splitlines()
    header = lines[0].split()
    assert header[:2] == ["#", "lesson"] and header[-3:] == ["checks", "status", "seconds"]
    assert ("title" in header) == (width >= TITLE_MIN_WIDTH)
    rows = lines[1:1 + len(LESSONS)]
    for lesson, row in zip(LESSONS, rows):
        cells = row.split()
        assert cells[0] == str(lesson.number) and cells[1] == lesson.name  # never cut
        assert cells[-3:] == ["3/3", "pass", "1.2"]
        if width >= TITLE_MIN_WIDTH:
            assert lesson.title in row
    assert lines[-1] == f"{3 * len(LESSONS)}/{3 * len(LESSONS)} checks passed in {len(LESSONS)} lessons (" \
                        f"{1.25 * len(LESSONS):.0f} s). Report: report/index.html"
    assert len(lines) == len(LESSONS) + 2
    assert "a check whose name" not in text  # the per-check table only with --verbose


@pytest.mark.parametrize("width", [80, 120])
def test_a_failing_check_is_spelled_out_below_the_summary(width):
    text = render(fake_runs(failing=True), width)
    assert_nothing_cut(text, width)
    row = next(line for line in text.splitlines() if line.split()[:2] == ["3", LESSONS[2].name])
    assert row.split()[-3:-1] == ["2/3", "FAIL"]
    flat = " ".join(text.split())
    assert f"FAIL 3 {LESSONS[2].name}: a third: expected finite, obtained 12345.6789" in flat


@pytest.mark.parametrize("width", [80, 120])
def test_verbose_lists_every_check_with_a_status_header(width):
    text = render(fake_runs(), width, verbose=True)
    assert_nothing_cut(text, width)
    words = text.split()
    for word in "a check whose name is long enough to need wrapping on a narrow terminal".split()[1:]:
        assert words.count(word) >= len(LESSONS), word  # wrapped at word boundaries, every word whole
    assert text.count("12345.6789") == len(LESSONS)
    headers = [line.split() for line in text.splitlines() if line.startswith("check")]
    assert len(headers) == len(LESSONS) and all(h == ["check", "expected", "obtained", "status"] for h in headers)


def test_the_command_honours_columns(tmp_path, monkeypatch, capsys):
    from mlemap.cli.main import main

    monkeypatch.setenv("COLUMNS", "80")
    code = main(["lessons", "--only", "coin_mle", "--fast", "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert_nothing_cut(out, 80)
    assert out.splitlines()[1].split()[:2] == ["1", "coin_mle"]
    assert "checks passed in 1 lessons" in out


def test_a_lesson_that_did_not_run_is_reported():
    broken = Lesson(97, "broken", "Broken", "$x$", "", lambda ctx: None)
    text = render([LessonRun(broken, error="RuntimeError: boom")], 80)
    assert "FAIL 97 broken: the lesson failed to run: RuntimeError: boom" in " ".join(text.split())

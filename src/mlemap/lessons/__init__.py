"""The course on MLE and MAP as runnable, self-checking experiments (``mlemap lessons``)."""

from .base import Check, Context, Lesson, LessonOutput
from .catalog import LESSONS
from .runner import LessonRun, run_lessons

__all__ = ["LESSONS", "Lesson", "LessonOutput", "Check", "Context", "LessonRun", "run_lessons"]

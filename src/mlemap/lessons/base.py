"""What a lesson is: a derivation, confirmed by running code, with checks and figures.

A lesson's ``run(ctx)`` uses mlemap's public API (and torch where the lesson is about an
optimiser) and returns a :class:`LessonOutput`: the checks of the numbers it claims, the figures
that make the point, and a few lines saying what was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Check:
    """One claim of a lesson: ``expected`` against ``obtained``."""

    name: str
    expected: str
    obtained: str
    passed: bool


def _show(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, (list, tuple, np.ndarray)):
        shown = [_show(v) for v in np.asarray(value).ravel()[:6]] + (["…"] if np.size(value) > 6 else [])
        return "[" + ", ".join(shown) + "]"
    return str(value)


def close(name: str, obtained, expected, rtol: float = 1e-9, atol: float = 0.0) -> Check:
    """``obtained`` equals ``expected`` within ``rtol`` (relative) or ``atol`` (absolute)."""
    o, e = np.asarray(obtained, dtype=float), np.asarray(expected, dtype=float)
    passed = bool(np.all(np.isfinite(o)) and np.allclose(o, e, rtol=rtol, atol=atol))
    tol = f" (rtol {rtol:g})" if atol == 0 else f" (atol {atol:g})"
    return Check(name, _show(expected) + tol, _show(obtained), passed)


def holds(name: str, condition: bool, obtained: Any, expected: str) -> Check:
    """A qualitative claim: ``condition`` must be true; ``expected`` says what it states."""
    return Check(name, expected, _show(obtained), bool(condition))


@dataclass
class LessonOutput:
    checks: list[Check]
    figures: list[tuple[str, Any]] = field(default_factory=list)  # (caption, matplotlib figure)
    findings: list[str] = field(default_factory=list)


@dataclass
class Context:
    """Run settings: ``fast`` shrinks sample sizes and iteration counts for the test suite."""

    fast: bool = False
    seed: int = 0

    def rng(self, offset: int = 0) -> np.random.Generator:
        return np.random.default_rng(self.seed + offset)

    def n(self, full: int, fast: int) -> int:
        return fast if self.fast else full


@dataclass
class Lesson:
    number: int
    name: str
    title: str
    equation: str  # matplotlib mathtext, rendered into the report
    summary: str
    run: Callable[[Context], LessonOutput]

    @property
    def slug(self) -> str:
        return f"{self.number:02d}_{self.name}"


def finite(x) -> bool:
    return bool(np.all(np.isfinite(np.asarray(x, dtype=float))))


def minimise(params, loss: Callable[[], Any], max_iter: int = 500) -> None:
    """Minimise ``loss()`` over the tensors ``params`` in place with torch's L-BFGS (strong Wolfe
    line search, tolerances tight enough to compare with mlemap's exact solvers to 1e-6)."""
    import torch

    opt = torch.optim.LBFGS(params, max_iter=max_iter, tolerance_grad=1e-12, tolerance_change=1e-15,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        value = loss()
        value.backward()
        return value

    opt.step(closure)


#: legend text in the report is at least this many CSS pixels high (see report.smallest_legend_px)
LEGIBLE_PX = 10.0


def legible(fig, size: float = 10.0):
    """Set every legend's text in ``fig`` to ``size`` points; returns ``fig``."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    for legend in legends:
        for text in legend.get_texts():
            text.set_fontsize(size)
    return fig

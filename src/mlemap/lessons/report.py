"""The lessons' HTML report: one self-contained file (figures and equations embedded as PNG)."""

from __future__ import annotations

import base64
import io
import struct
from html import escape

from ..plots._mpl import pyplot

#: the report's text column (``max-width`` of the body below): wider figures are shown scaled down to it
REPORT_WIDTH_PX = 1100
FIGURE_DPI = 110


def png_bytes(fig, dpi: int = FIGURE_DPI) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def png_width(data: bytes) -> int:
    """Width in pixels from a PNG's header."""
    return struct.unpack(">I", data[16:20])[0]


def smallest_legend_px(fig, png: bytes) -> float | None:
    """Height in CSS pixels of the smallest legend text of ``fig`` as the report shows it (``None``
    without legends): points at the figure's dpi, times the scale the report applies to ``png``."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    sizes = [t.get_fontsize() for legend in legends for t in legend.get_texts()]
    if not sizes:
        return None
    scale = min(1.0, REPORT_WIDTH_PX / png_width(png))
    return min(sizes) * FIGURE_DPI / 72 * scale


def equation_png(equation: str) -> bytes:
    """Render a mathtext equation (``r"$\\hat p = h / N$"``) to a small PNG."""
    plt = pyplot()
    fig = plt.figure(figsize=(0.01, 0.01))
    try:
        fig.text(0, 0, equation, fontsize=15)
        data = png_bytes(fig, dpi=130)
    except ValueError:  # mathtext could not parse it: show the source text instead
        fig.clear()
        fig.text(0, 0, equation.replace("$", ""), fontsize=12, family="monospace")
        data = png_bytes(fig, dpi=130)
    plt.close(fig)
    return data


def _img(data: bytes, alt: str, css: str = "") -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{escape(alt)}" style="{css}" src="data:image/png;base64,{encoded}"/>'


STYLE = """
body { font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-weight: 600; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2.2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: 14px; }
td, th { border-bottom: 1px solid #eee; padding: .3em .8em; text-align: left; vertical-align: top; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #cf222e; font-weight: 600; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 14px; }
.summary td { font-size: 13px; } .eq { margin: .5em 0 1em 0; } .toc a { text-decoration: none; }
"""


def write_report(path: str, runs, title: str = "mlemap lessons: MLE and MAP, confirmed by running code",
                 explorer: str | None = None) -> None:
    """``runs``: :class:`~mlemap.lessons.runner.LessonRun` objects in order; ``explorer``: the interactive
    page's file name beside the report, linked from the top."""
    total = sum(len(r.checks) for r in runs)
    passed = sum(c.passed for r in runs for c in r.checks)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{escape(title)}</h1>",
             f"<p>{len(runs)} lessons, {passed} of {total} checks passed.</p>",
             (f"<p class='explore'>Try it live: the <a href='{escape(explorer)}'>interactive explorer</a> lets you move "
              "priors, data and learning rates and watch the MLE and the MAP move.</p>" if explorer else ""),
             "<table class='summary toc'>",
             "<tr><th>#</th><th>lesson</th><th>checks</th><th>seconds</th></tr>"]
    for r in runs:
        ok = sum(c.passed for c in r.checks)
        status = "pass" if r.ok else "fail"
        parts.append(
            f"<tr><td>{r.lesson.number}</td><td><a href='#{r.lesson.slug}'>{escape(r.lesson.title)}</a></td>"
            f"<td class='{status}'>{ok}/{len(r.checks)}</td><td>{r.seconds:.1f}</td></tr>"
        )
    parts.append("</table>")
    for r in runs:
        lesson = r.lesson
        parts.append(f"<h2 id='{lesson.slug}'>{lesson.number}. {escape(lesson.title)}</h2>")
        parts.append(f"<p>{escape(lesson.summary)}</p>")
        parts.append("<div class='eq'>" + _img(equation_png(lesson.equation), lesson.equation, "max-width:100%") + "</div>")
        if r.error:
            parts.append(f"<p class='fail'>The lesson failed to run: {escape(r.error)}</p>")
        for finding in r.findings:
            parts.append(f"<p>{escape(finding)}</p>")
        if r.checks:
            parts.append("<table><tr><th>check</th><th>expected</th><th>obtained</th><th></th></tr>")
            for c in r.checks:
                status = "pass" if c.passed else "fail"
                parts.append(
                    f"<tr><td>{escape(c.name)}</td><td>{escape(c.expected)}</td><td>{escape(c.obtained)}</td>"
                    f"<td class='{status}'>{status}</td></tr>"
                )
            parts.append("</table>")
        for caption, data in r.figures:
            parts.append(f"<figure>{_img(data, caption, 'max-width:100%')}<figcaption>{escape(caption)}</figcaption></figure>")
    parts.append("</body></html>")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))

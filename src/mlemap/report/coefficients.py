"""Coefficient table of a fitted regression: estimate, standard error, z, p-value and interval.

Renders like :class:`mlemap.report.summary.Summary`: text (``print``; a rich table without colour
codes or markup interpretation), HTML (``to_html``, shown by notebooks), a JSON-ready dictionary
(``to_dict``/``to_json``) and a pandas DataFrame of the rows (``to_frame``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np

from . import format as fmt


@dataclass
class CoefficientRow:
    label: str
    estimate: float
    se: float
    z: float
    pvalue: float
    lower: float
    upper: float
    status: str = ""


@dataclass
class CoefficientSummary:
    """Rendered view of a fitted regression estimator (see ``summary()`` of the estimators)."""

    title: str
    facts: list[tuple[str, str]]
    rows: list[CoefficientRow]
    interval_label: str
    se_label: str = "std. error"
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    #: full-width lines under the facts (the prior of a MAP fit)
    lines: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ renderings
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: the fit facts under ``data``' keys (model, family, estimator, solver, n,
        loglik, aic, bic, k, k_effective, scale, converged, n_iter, message, prior, cov_type, ci_method,
        ci_level), one entry per coefficient under ``coefficients`` (label, estimate, se, z, pvalue,
        lower, upper, status), and ``notes``. NaN and infinities become null."""
        out = dict(self.data)
        out["coefficients"] = [
            {
                "label": r.label,
                "estimate": r.estimate,
                "se": r.se,
                "z": r.z,
                "pvalue": r.pvalue,
                "lower": r.lower,
                "upper": r.upper,
                "status": r.status,
            }
            for r in self.rows
        ]
        out["notes"] = list(self.notes)
        return fmt.jsonable(out)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def to_frame(self):
        """The coefficient rows as a pandas DataFrame indexed by label."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "parameter": r.label,
                    "estimate": r.estimate,
                    "se": r.se,
                    "z": r.z,
                    "pvalue": r.pvalue,
                    "lower": r.lower,
                    "upper": r.upper,
                    "status": r.status,
                }
                for r in self.rows
            ]
        ).set_index("parameter")

    def _cells(self, r: CoefficientRow) -> list[str]:
        if r.status.startswith("diverging"):
            sign = "+inf" if r.estimate > 0 else "-inf"
            return [r.label, f"{sign} (diverging)", "—", "—", "—", "—"]
        interval = f"[{fmt.number(r.lower)}, {fmt.number(r.upper)}]"
        if r.lower != r.lower and r.upper != r.upper:
            interval = "—"
        return [r.label, fmt.number(r.estimate), fmt.number(r.se), fmt.number(r.z, 4), _pvalue(r.pvalue), interval]

    def _columns(self) -> list[str]:
        return ["coefficient", "estimate", self.se_label, "z", "P>|z|", self.interval_label]

    def _table(self):
        from .table import Col, FittedTable

        has_status = any(r.status for r in self.rows)
        label, estimate, se, z, p, interval = self._columns()
        columns = [Col(label, "left", "text", style="bold"), Col(estimate), Col(se), Col(z, drop=2), Col(p, drop=1),
                   Col(interval, "center")]
        columns += [Col("", "left", "text")] if has_status else []
        rows = [self._cells(r) + ([r.status] if has_status else []) for r in self.rows]
        return FittedTable(columns, rows)

    def __rich__(self):
        from rich.console import Group
        from rich.text import Text

        parts = [Text(self.title, style="bold"), fmt.facts_grid(self.facts)] + [Text(line) for line in self.lines]
        parts += [Text(""), self._table()]
        if self.notes:
            parts.append(Text(""))
            parts.extend(Text(f"note: {n}") for n in self.notes)
        return Group(*parts)

    def __str__(self) -> str:
        return fmt.plain_text(self, width=120)

    def __repr__(self) -> str:
        return str(self)

    def to_html(self) -> str:
        head = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in self.facts)
        head += "".join(f'<tr><td colspan="2">{escape(line)}</td></tr>' for line in self.lines)
        cols = self._columns() + [""]
        body = []
        for r in self.rows:
            cells = self._cells(r) + [r.status]
            body.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
        notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes)
        return (
            f'<div class="mlemap-summary"><h4>{escape(self.title)}</h4>'
            f"<table>{head}</table>"
            f"<table><thead><tr>{''.join(f'<th>{escape(c)}</th>' for c in cols)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def _pvalue(p: float) -> str:
    if np.isnan(p):
        return "—"
    if p < 1e-16:
        return "<1e-16"
    return f"{p:.4g}" if p >= 1e-4 else f"{p:.2e}"

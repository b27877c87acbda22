"""Summary of a fit: one table of estimates with uncertainty, fit statistics and diagnostics.

A :class:`Summary` renders as text (``print`` it; a rich table without colour codes), as HTML
(``to_html``, also shown by notebooks), as a JSON-ready dictionary with stable keys (``to_dict``,
``to_json``) and as a pandas DataFrame of parameter rows (``to_frame``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np

from . import format as fmt


@dataclass
class Row:
    label: str
    estimate: float
    se: float
    lower: float
    upper: float
    prior: str = ""
    status: str = ""


@dataclass
class Summary:
    """Rendered view of a :class:`~mlemap.FitResult`."""

    title: str
    facts: list[tuple[str, str]]
    rows: list[Row]
    interval_label: str
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def of_fit(cls, result, level: float = 0.95, ci: str = "wald") -> "Summary":
        map_fit = result.estimator == "MAP"
        if map_fit:
            intervals = result.credible_interval(level)
            kinds = set(result.posterior_kind.values())
            kind = "exact" if kinds <= {"exact", "discrete"} and kinds else ("Laplace" if kinds == {"laplace"} else "exact/Laplace")
            interval_label = f"{level:.0%} credible ({kind})"
        else:
            intervals = result.conf_int(level, method=ci)
            interval_label = f"{level:.0%} CI ({ci})"
        se = result.se
        priors = {t.base: t for t in result.problem.priors.values()}
        rows: list[Row] = []
        for name, value in result.params.items():
            est = np.asarray(value, dtype=float)
            s = np.asarray(se[name], dtype=float)
            lo_hi = intervals.get(name, (np.nan, np.nan))
            lo, hi = np.asarray(lo_hi[0], dtype=float), np.asarray(lo_hi[1], dtype=float)
            labels = result.family.element_labels(name, est.shape)
            term = priors.get(name)
            prior_text = ""
            if term is not None:
                prior_text = fmt.distribution(term.prior) + ("" if term.key == name else f" on {term.key}")
            status = "boundary" if name in result.boundary else ""
            for i, label in enumerate(labels):
                idx = np.unravel_index(i, est.shape) if est.shape else ()
                rows.append(
                    Row(
                        label,
                        float(est[idx]),
                        float(s[idx]) if s.shape == est.shape else float("nan"),
                        float(lo[idx]) if lo.shape == est.shape else float("nan"),
                        float(hi[idx]) if hi.shape == est.shape else float("nan"),
                        prior_text if i == 0 else "",
                        status,
                    )
                )
        for name, value in result.fixed.items():
            arr = np.asarray(value, dtype=float)
            if arr.size > 8:
                continue
            for i, label in enumerate(fmt.element_labels(name, arr.shape)):
                idx = np.unravel_index(i, arr.shape) if arr.shape else ()
                rows.append(Row(label, float(arr[idx]), float("nan"), float("nan"), float("nan"), "", "fixed"))

        method = result.method
        if result.method != "closed-form" and result.solver:
            state = "converged" if result.converged else "NOT converged"
            method = f"{result.method} ({result.solver}, {result.n_iter} iterations, {state})"
        facts = [
            ("Family", result.family_name),
            ("Estimator", result.estimator),
            ("Method", method),
            ("Observations", fmt.number(result.n, 10) if result.n != result.n_obs else f"{result.n_obs:,}"),
            ("Log-likelihood", fmt.number(result.loglik, 10)),
        ]
        describe = getattr(result.family, "describe_data", None)
        if describe is not None:  # censored or truncated data
            facts.insert(4, ("Censoring", describe(result.problem.x)))
        if map_fit:
            facts.append(("Log-posterior", fmt.number(result.log_posterior, 10) + " (unnormalised)"))
        facts += [("AIC", fmt.number(result.aic, 10)), ("BIC", fmt.number(result.bic, 10))]
        if result.method != "closed-form" and result.solver and result.grad_norm is not None:
            facts.append(("Max |gradient|", fmt.number(result.grad_norm, 3)))

        notes = list(result.notes)
        reasons = result.se_reasons
        for name, why in reasons.items():
            if name not in result.boundary:
                notes.append(f"standard error of '{name}' undefined: {why}")
        if not map_fit and ci == "wald":
            for name in _wald_crossings(result, intervals):
                better = "method='profile'" if np.ndim(result.params[name]) == 0 else "method='bootstrap'"
                notes.append(
                    f"the Wald interval of '{name}' leaves the parameter's space; conf_int({better}) respects the bounds"
                )
        if map_fit:
            notes.append("MAP: the mode of the posterior density in the space the prior is stated in (not invariant to reparametrisation)")
        if not result.converged:
            notes.append(f"optimiser message: {result.message}")
        notes += [w for w in result.warnings if w not in notes and not any(w.startswith(n) for n in notes)]

        data = {
            "family": result.family_name,
            "estimator": result.estimator,
            "method": result.method,
            "solver": result.solver or None,
            "n": result.n,
            "n_obs": result.n_obs,
            "k": result.k,
            "loglik": result.loglik,
            "log_prior": result.log_prior if map_fit else None,
            "aic": result.aic,
            "bic": result.bic,
            "converged": result.converged,
            "n_iter": result.n_iter,
            "grad_norm": result.grad_norm,
            "message": result.message,
            "params": result.params,
            "se": se,
            "ci": {k: [v[0], v[1]] for k, v in intervals.items()},
            "ci_method": ("credible" if map_fit else ci),
            "ci_level": level,
            "fixed": result.fixed,
            "priors": {t.key: fmt.distribution(t.prior) for t in result.problem.priors.values()},
            "posterior": {k: fmt.distribution(v) for k, v in (result.posterior or {}).items()},
            "boundary": dict(result.boundary),
            "notes": notes,
            "warnings": list(result.warnings),
        }
        if describe is not None:
            data["censoring"] = describe(result.problem.x)
        title = f"{result.estimator} fit of the {result.family_name} family"
        return cls(title, facts, rows, interval_label, notes, data)

    # ------------------------------------------------------------------ renderings
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary. Keys: family, estimator, method, solver, n, n_obs, k, loglik,
        log_prior, aic, bic, converged, n_iter, grad_norm, message, params, se, ci, ci_method,
        ci_level, fixed, priors, posterior, boundary, notes, warnings (and censoring, for censored or
        truncated data). NaN/inf become null."""
        return fmt.jsonable(self.data)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def to_frame(self):
        """Parameter rows as a pandas DataFrame (pandas must be installed)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "parameter": r.label,
                    "estimate": r.estimate,
                    "se": r.se,
                    "lower": r.lower,
                    "upper": r.upper,
                    "prior": r.prior,
                    "status": r.status,
                }
                for r in self.rows
            ]
        ).set_index("parameter")

    def _table(self):
        from .table import Col, FittedTable

        has_prior = any(r.prior for r in self.rows)
        has_status = any(r.status for r in self.rows)
        sd = "posterior sd" if self.data.get("estimator") == "MAP" else "std. error"
        columns = [Col("parameter", "left", "text", style="bold"), Col("estimate"), Col(sd),
                   Col(self.interval_label, "center")]
        columns += [Col("prior", "left", "text")] if has_prior else []
        columns += [Col("", "left", "text")] if has_status else []
        rows = []
        for r in self.rows:
            interval = "" if r.status == "fixed" else f"[{fmt.number(r.lower)}, {fmt.number(r.upper)}]"
            cells = [r.label, fmt.number(r.estimate), "" if r.status == "fixed" else fmt.number(r.se), interval]
            rows.append(cells + ([r.prior] if has_prior else []) + ([r.status] if has_status else []))
        return FittedTable(columns, rows)

    def __rich__(self):
        from rich.console import Group
        from rich.text import Text

        parts = [Text(self.title, style="bold"), fmt.facts_grid(self.facts, label_style="dim"), Text(""), self._table()]
        if self.notes:
            parts.append(Text(""))
            parts.extend(Text(f"note: {n}") for n in self.notes)
        return Group(*parts)

    def __str__(self) -> str:
        return fmt.plain_text(self)

    def __repr__(self) -> str:
        return str(self)

    def to_html(self) -> str:
        head = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in self.facts)
        has_prior = any(r.prior for r in self.rows)
        sd = "posterior sd" if self.data.get("estimator") == "MAP" else "std. error"
        cols = ["parameter", "estimate", sd, self.interval_label] + (["prior"] if has_prior else []) + [""]
        body = []
        for r in self.rows:
            interval = "" if r.status == "fixed" else f"[{fmt.number(r.lower)}, {fmt.number(r.upper)}]"
            cells = [r.label, fmt.number(r.estimate), "" if r.status == "fixed" else fmt.number(r.se), interval]
            if has_prior:
                cells.append(r.prior)
            cells.append(r.status)
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


def _wald_crossings(result, intervals) -> list[str]:
    from ..families.transforms import finite_bounds

    out = []
    for name, (lo, hi) in intervals.items():
        a, b = finite_bounds(result.problem.constraint(name))
        lo_a, hi_a = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        if (a is not None and np.any(lo_a < a)) or (b is not None and np.any(hi_a > b)):
            out.append(name)
    return out

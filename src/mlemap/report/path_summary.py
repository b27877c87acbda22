"""Summary of a regularisation path: one row per alpha (non-zeros, log-likelihood, BIC), the
selected alpha marked. Renders as text (rich, no colour codes), HTML and a JSON-ready dictionary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any

from . import format as fmt


@dataclass
class PathSummary:
    title: str
    facts: list[tuple[str, str]]
    rows: list[tuple[int, float, int, float, float, str]]
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_path(cls, path) -> PathSummary:
        sel = path.selection
        loglik, bic = path.loglik, path.bic
        rows = []
        for k, alpha in enumerate(path.alphas):
            mark = ""
            if sel is not None and k == sel.index:
                mark = f"selected ({sel.method})"
            elif sel is not None and sel.index_1se is not None and k == sel.index_1se:
                mark = "1-SE rule"
            rows.append((k, float(alpha), int(path.nnz[k]), float(loglik[k]), float(bic[k]), mark))
        label = {"l1": "lasso", "l2": "ridge", "elastic_net": f"elastic net (l1_ratio={path.l1_ratio:g})"}[path.penalty]
        facts = [
            ("Family", path.family),
            ("Penalty", label),
            ("Observations", fmt.number(path.n_obs, 10)),
            ("Features", str(path.n_features)),
            ("Alphas", f"{len(path.alphas)} from {fmt.number(path.alphas[0], 4)} to {fmt.number(path.alphas[-1], 4)}"),
            ("alpha_max", fmt.number(path.alpha_max, 6)),
            ("Intercept", "fitted (unpenalised)" if path.fit_intercept else "none"),
            ("Converged", "all alphas" if path.converged.all() else f"{int((~path.converged).sum())} alpha(s) NOT converged"),
        ]
        if sel is not None:
            facts.append(("Selected alpha", f"{fmt.number(sel.alpha, 6)} ({sel.method}, index {sel.index})"))
        notes = ["BIC = -2 loglik + log(n) * (non-zeros + intercepts + dispersion)"]
        if path.family in ("gaussian", "laplace"):
            notes.append("log-likelihood with the scale at its maximum-likelihood value given the coefficients")
        if sel is not None and sel.method == "cv":
            notes.append(f"cv: {sel.cv}-fold held-out deviance, seed {sel.seed}; 1-SE alpha {fmt.number(sel.alpha_1se, 6)}")
        data = {
            "family": path.family,
            "penalty": path.penalty,
            "l1_ratio": path.l1_ratio,
            "n": path.n_obs,
            "n_features": path.n_features,
            "features": list(path.feature_names),
            "fit_intercept": path.fit_intercept,
            "alpha_max": path.alpha_max,
            "alphas": path.alphas,
            "coefs": path.coefs,
            "intercepts": path.intercepts,
            "nnz": path.nnz,
            "loglik": loglik,
            "bic": bic,
            "n_iter": path.n_iter,
            "converged": path.converged,
            "selection": None if sel is None else sel.to_dict(),
        }
        return cls(f"Regularisation path: {label}, {path.family} family", facts, rows, notes, data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary. Keys: family, penalty, l1_ratio, n (total weight), n_features, features,
        fit_intercept, alpha_max, alphas, coefs (``coefs[j][k]``: feature j at ``alphas[k]``; one more
        leading index, the class, for categorical), intercepts, nnz, loglik, bic, n_iter, converged,
        selection. NaN/inf become null."""
        out = fmt.jsonable(self.data)
        out["converged"] = [bool(c) for c in self.data["converged"]]
        return out

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def _table(self):
        from .table import Col, FittedTable

        columns = [Col("#"), Col("alpha"), Col("non-zeros"), Col("log-likelihood"), Col("BIC", drop=1),
                   Col("", "left", "text")]
        rows = [[str(k), fmt.number(alpha, 4), str(nnz), fmt.number(ll, 8), fmt.number(bic, 8), mark]
                for k, alpha, nnz, ll, bic, mark in self.rows]
        return FittedTable(columns, rows)

    def __rich__(self):
        from rich.console import Group
        from rich.text import Text

        parts = [Text(self.title, style="bold"), fmt.facts_grid(self.facts), Text(""), self._table(), Text("")]
        parts.extend(Text(f"note: {n}") for n in self.notes)
        return Group(*parts)

    def __str__(self) -> str:
        return fmt.plain_text(self)

    def __repr__(self) -> str:
        return str(self)

    def to_html(self) -> str:
        head = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in self.facts)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in (str(k), fmt.number(a, 4), str(z), fmt.number(ll, 8),
                                                             fmt.number(b, 8), mark)) + "</tr>"
            for k, a, z, ll, b, mark in self.rows
        )
        cols = "".join(f"<th>{c}</th>" for c in ("#", "alpha", "non-zeros", "log-likelihood", "BIC", ""))
        notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes)
        return (
            f'<div class="mlemap-path-summary"><h4>{escape(self.title)}</h4><table>{head}</table>'
            f"<table><thead><tr>{cols}</tr></thead><tbody>{body}</tbody></table><ul>{notes}</ul></div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

"""Fit several candidate families to one sample and rank them.

Each candidate is fitted by maximum likelihood; the table ranks successful fits by AIC
(:math:`\\Delta_i = \\text{AIC}_i - \\min\\text{AIC}`, Akaike weights :math:`e^{-\\Delta_i/2} / \\sum_j e^{-\\Delta_j/2}`)
and shows BIC, the log-likelihood and goodness-of-fit statistics. The order is:

1. regular fits (``ok``), by AIC;
2. boundary estimates (a parameter on the edge of its space or at a limit, such as a negative
   binomial at the Poisson limit), by AIC, after every regular fit: their AIC counts a parameter
   the data did not estimate, so it is not on the scale of the others. Their ΔAIC is shown against
   the best regular fit, without an Akaike weight (the weights are over the regular fits);
3. fits that did not converge, failed (including a non-finite log-likelihood at the estimate), or
   do not apply to the data (observations outside the support), unranked, each with its reason.

Data that no family can use (empty, not numbers) give a table of failures whose ``best`` is
``None``; only an empty list of families is an error.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .censoring import is_censored
from .censoring.choice import accepts_censoring
from .errors import MlemapError, MlemapWarning, ParameterError, SupportError
from .families.registry import continuous_family_names, discrete_family_names
from .fitting import fit
from .inference.goodness import GoodnessOfFit, goodness_of_fit
from .report import format as fmt

#: continuous families tried by ``compare(..., families="continuous")`` (von Mises is for angles)
DEFAULT_CONTINUOUS = tuple(n for n in continuous_family_names() if n != "von_mises")
#: discrete families tried by ``families="discrete"`` (binomial needs a known total; categorical is for labels)
DEFAULT_DISCRETE = tuple(n for n in discrete_family_names() if n not in ("binomial", "categorical"))


@dataclass
class Candidate:
    family: str
    status: str  # "ok", "boundary", "not converged", "not applicable", "failed"
    result: Any = None
    reason: str = ""
    gof: GoodnessOfFit = field(default_factory=GoodnessOfFit)
    delta_aic: float = math.nan
    weight: float = math.nan

    @property
    def usable(self) -> bool:
        return self.status in ("ok", "boundary")


@dataclass
class Comparison:
    """Candidates in rank order (best first); see the module docstring for the ranking rule."""

    candidates: list[Candidate]
    n: float

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates and self.candidates[0].usable else None

    def plot(self, path=None, top: int | None = None, xlabel: str | None = None):
        """Every usable fit (or the best ``top``) over the data and their Q-Q (or P-P) plots; returns
        the figure (saved to ``path`` if given)."""
        from .plots import comparison_figure

        return comparison_figure(self, path=path, top=top, xlabel=xlabel)

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for rank, c in enumerate(self.candidates, 1):
            r = c.result
            rows.append(
                {
                    "rank": rank if c.usable else None,
                    "family": c.family,
                    "status": c.status,
                    "reason": c.reason or None,
                    "params": r.params if r is not None else None,
                    "k": r.k if r is not None else None,
                    "loglik": r.loglik if r is not None else None,
                    "aic": r.aic if r is not None else None,
                    "bic": r.bic if r is not None else None,
                    "delta_aic": c.delta_aic,
                    "akaike_weight": c.weight,
                    "ks": c.gof.ks,
                    "ad": c.gof.ad,
                    "chi2": c.gof.chi2,
                    "chi2_pvalue": c.gof.chi2_pvalue,
                    "boundary": dict(r.boundary) if r is not None else {},
                }
            )
        return fmt.jsonable({"n": self.n, "best": self.best.family if self.best else None, "candidates": rows})

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def to_frame(self):
        """One row per candidate, indexed by family, in rank order (the numbers of :meth:`to_dict`;
        pandas must be installed)."""
        import pandas as pd

        keys = ("rank", "status", "k", "loglik", "aic", "delta_aic", "akaike_weight", "bic", "ks", "ad", "chi2",
                "chi2_pvalue", "reason")
        rows = self.to_dict()["candidates"]
        frame = pd.DataFrame([{k: row[k] for k in ("family", *keys)} for row in rows]).set_index("family")
        numbers = {k: "float64" for k in keys if k not in ("rank", "status", "k", "reason")}
        return frame.astype({**numbers, "rank": "Int64", "k": "Int64"})  # whole numbers, missing when unranked

    def to_html(self) -> str:
        """The ranking as an HTML table (what notebooks show)."""
        from html import escape

        head = ("rank", "family", "k", "log-lik", "AIC", "ΔAIC", "weight", "BIC", "status")
        body = []
        for rank, c in enumerate(self.candidates, 1):
            r = c.result
            if r is None or not c.usable:
                cells = ["—", c.family, "", "", "", "", "", "", c.status]
            else:
                cells = [str(rank), c.family, str(r.k), fmt.number(r.loglik, 7), fmt.number(r.aic, 7),
                         fmt.number(c.delta_aic, 3), fmt.number(c.weight, 2), fmt.number(r.bic, 7), c.status]
            body.append("<tr>" + "".join(f"<td>{escape(x)}</td>" for x in cells) + "</tr>")
        notes = "".join(f"<li>{escape(f'{c.family}: {c.status} ({c.reason})')}</li>" for c in self.candidates if c.reason)
        return (
            f'<div class="mlemap-comparison"><h4>Families ranked by AIC (n = {escape(fmt.number(self.n, 10))})</h4>'
            f"<table><thead><tr>{''.join(f'<th>{escape(h)}</th>' for h in head)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>" + (f"<ul>{notes}</ul>" if notes else "") + "</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __rich__(self):
        from rich.console import Group
        from rich.text import Text

        from .report.table import Col, FittedTable

        discrete = any(c.gof.chi2 is not None for c in self.candidates)
        columns = [Col("rank"), Col("family", "left", "text"), Col("k", drop=1), Col("log-lik"), Col("AIC"),
                   Col("ΔAIC"), Col("weight"), Col("BIC", drop=2)]
        columns += [Col("chi2 (p)", drop=3)] if discrete else [Col("KS", drop=3), Col("AD", drop=4)]
        columns.append(Col("status", "left", "text"))
        rows, notes = [], []
        for rank, c in enumerate(self.candidates, 1):
            r = c.result
            if c.reason:
                notes.append(f"{c.family}: {c.status} ({c.reason})")
            if r is None or not c.usable:
                rows.append(["—", c.family] + [""] * (len(columns) - 3) + [c.status])
                continue
            cells = [str(rank), c.family, str(r.k), fmt.number(r.loglik, 7), fmt.number(r.aic, 7),
                     fmt.number(c.delta_aic, 3), fmt.number(c.weight, 2), fmt.number(r.bic, 7)]
            if discrete:
                p = "" if c.gof.chi2_pvalue is None else f" ({c.gof.chi2_pvalue:.2g})"
                cells.append(fmt.number(c.gof.chi2, 4) + p)
            else:
                cells += [fmt.number(c.gof.ks, 3), fmt.number(c.gof.ad, 3)]
            rows.append(cells + [c.status])
        title = Text(f"Families ranked by AIC (n = {fmt.number(self.n, 10)})", style="bold")
        legend = Text(
            "ΔAIC = AIC - min AIC; weight = Akaike weight; "
            + ("chi2 = Pearson's statistic" if discrete else "KS, AD = Kolmogorov-Smirnov, Anderson-Darling")
            + " against the fitted distribution (parameters estimated from the same data)."
        )
        return Group(title, FittedTable(columns, rows), legend, *(Text(f"note: {n}") for n in notes))

    def __str__(self) -> str:
        return fmt.plain_text(self, width=140)


def compare(
    data: Any,
    families: Sequence[str] | str = "continuous",
    *,
    weights: Any = None,
    method: str = "auto",
    on_progress: Callable[[str], None] | None = None,
    truncation: Any = None,
) -> Comparison:
    """Fit each family in ``families`` (names, or ``"continuous"`` / ``"discrete"``) and rank them by AIC.

    ``data`` may be censored (:func:`mlemap.censored`); ``truncation=(low, high)`` is passed to every fit.
    The default sets then hold the families that accept censored or truncated data.

    ``data`` may be a file scan or a Dask collection (each candidate then reads it in passes, with the
    in-memory estimates; the goodness-of-fit statistics, which sort every row, are left out)."""
    if isinstance(families, str):
        if families in ("continuous", "discrete"):
            families = DEFAULT_CONTINUOUS if families == "continuous" else DEFAULT_DISCRETE
            if truncation is not None or is_censored(data):
                families = tuple(f for f in families if accepts_censoring(f))
        else:
            families = [f.strip() for f in families.split(",") if f.strip()]
    families = list(families)
    if not families:
        raise ParameterError(
            "compare() needs at least one family: pass names such as ['normal', 'gamma'], or 'continuous' or "
            "'discrete'."
        )
    from .core.sources_input import as_data_source

    data = as_data_source(data) or data  # a Dask collection is wrapped (and persisted) once for every candidate
    candidates = []
    n = math.nan
    for name in families:
        if on_progress is not None:
            on_progress(name)
        candidates.append(_fit_candidate(name, data, weights, method, truncation))
        if candidates[-1].result is not None:
            n = candidates[-1].result.n
    regular = sorted((c for c in candidates if c.status == "ok"), key=lambda c: c.result.aic)
    boundary = sorted((c for c in candidates if c.status == "boundary"), key=lambda c: c.result.aic)
    weighted = regular or boundary
    if weighted:
        best = weighted[0].result.aic
        total = sum(math.exp(-(c.result.aic - best) / 2) for c in weighted)
        for c in regular + boundary:
            c.delta_aic = c.result.aic - best
            if c in weighted:
                c.weight = math.exp(-c.delta_aic / 2) / total
    ranked = regular + boundary + [c for c in candidates if not c.usable]
    return Comparison(ranked, n)


def _fit_candidate(name: str, data, weights, method: str, truncation=None) -> Candidate:
    try:
        with warnings.catch_warnings():  # the table reports what the warnings would say
            warnings.simplefilter("ignore", MlemapWarning)
            result = fit(name, data, weights=weights, method=method, truncation=truncation)
    except SupportError:
        return Candidate(name, "not applicable", reason="data outside its support")
    except MlemapError as exc:
        return Candidate(name, "failed", reason=_first_sentence(str(exc)))
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (result.loglik, result.aic, result.bic)):
        return Candidate(name, "failed", reason=f"the log-likelihood at the estimate is {result.loglik}, not a finite number")
    if not result.converged:
        return Candidate(name, "not converged", result, reason=result.message)
    # support bounds estimated by sample extremes (uniform, Pareto) are on the boundary by design
    edges = [k for k in result.boundary if k not in result.family.bounded_by_data]
    status = "boundary" if edges else "ok"
    reason = ", ".join(edges) + " on the boundary" if edges else ""
    return Candidate(name, status, result, reason=reason, gof=goodness_of_fit(result))


def _first_sentence(message: str) -> str:
    cut = message.find(". ")
    return message if cut < 0 else message[: cut + 1]

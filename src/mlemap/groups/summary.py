"""A compact overview of a grouped fit, readable at 80 columns.

The overview says what was fitted and how, how the estimates spread over the groups (quantiles of
each parameter's estimate and the median standard error), the learned prior for empirical Bayes,
and which groups need attention (no estimate, on the boundary, not converged), a few by name.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .posterior import describe_distribution

WIDTH = 80
SHOWN = 5


def _num(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "nan" if v is None or np.isnan(v) else ("inf" if v > 0 else "-inf")
    return f"{v:.4g}"


def _count(v) -> str:
    return f"{int(v):,}"


class GroupSummary:
    """The overview of a :class:`~mlemap.groups.GroupedFit` (``print()`` it, or ``str()``)."""

    def __init__(self, fit, level: float = 0.95):
        self.fit = fit
        self.level = level

    def lines(self) -> list[str]:
        fit = self.fit
        how = fit.method + (f", {fit.estimates.solver}" if fit.estimates.solver else "")
        out = [f"Grouped fit: {fit.family_name}, {fit.estimator}, {how}"]
        sizes = fit.n.to_numpy()
        out.append(f"groups {_count(len(fit))}   rows {_count(fit.n_obs.sum())}   group size "
                   f"{_num(sizes.min())} / {_num(np.median(sizes))} / {_num(sizes.max())} (min / median / max)")
        bad = fit.boundary.to_numpy() != ""
        failed = len(fit.estimates.failed)
        out.append(f"converged {_count(fit.converged.sum())} of {_count(len(fit))}   on the boundary "
                   f"{_count(bad.sum() - failed)}   without an estimate {_count(failed)}")
        total = np.nansum(fit.loglik.to_numpy())
        out.append(f"log-likelihood, summed over the groups with an estimate: {total:,.6g}")
        if hasattr(fit, "hyper"):
            out += [""] + self._prior_lines()
        out += [""] + self._spread_lines()
        out += self._attention_lines()
        out += [textwrap.shorten(f"note: {n}", WIDTH) for n in fit.notes]
        return [line if len(line) <= WIDTH else textwrap.shorten(line, WIDTH) for line in out]

    def _prior_lines(self) -> list[str]:
        fit = self.fit
        out = [f"learned prior on '{fit.marginal.parameter}': {describe_distribution(fit.prior[fit.marginal.parameter])}, "
               f"log marginal likelihood {fit.marginal_loglik:,.6g}"]
        out.append(f"{'hyperparameter':<16}{'estimate':>12}{'SE':>12}{'95% lower':>12}{'95% upper':>12}")
        for name, row in fit.hyperparameters.iterrows():
            out.append(f"{name:<16}" + "".join(f"{_num(row[c]):>12}" for c in ("estimate", "se", "lower", "upper")))
        if fit.hyper.at_limit:
            out += textwrap.wrap(f"at the limit: {fit.hyper.reason}", WIDTH)
        return out

    def _spread_lines(self) -> list[str]:
        fit = self.fit
        header = f"{'parameter':<14}" + "".join(f"{h:>11}" for h in ("min", "25%", "median", "75%", "max")) + f"{'median SE':>11}"
        out = ["estimates over the groups" + (" (posterior modes)" if fit.estimator == "MAP" else ""), header]
        for name in fit.params.columns:
            values = fit.params[name].to_numpy()
            finite = values[np.isfinite(values)]
            qs = np.quantile(finite, [0, 0.25, 0.5, 0.75, 1]) if finite.size else [np.nan] * 5
            se = fit.se[name].to_numpy()
            med = np.median(se[np.isfinite(se)]) if np.isfinite(se).any() else np.nan
            label = name if len(name) <= 13 else name[:12] + "~"
            out.append(f"{label:<14}" + "".join(f"{_num(q):>11}" for q in qs) + f"{_num(med):>11}")
        return out

    def _attention_lines(self) -> list[str]:
        fit = self.fit
        reasons = fit.boundary
        stuck = ~fit.converged.to_numpy() & (reasons.to_numpy() == "")
        flagged = [(lab, why) for lab, why in reasons.items() if why]
        flagged += [(lab, "not converged: " + fit.messages[lab]) for lab in fit.labels[stuck]]
        if not flagged:
            return []
        out = ["", f"groups needing attention: {len(flagged):,} (first {min(SHOWN, len(flagged))}; see g.boundary, g.converged)"]
        for lab, why in flagged[:SHOWN]:
            out.append(textwrap.shorten(f"  {lab}: {why}", WIDTH))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)

    def to_text(self) -> str:
        return str(self)

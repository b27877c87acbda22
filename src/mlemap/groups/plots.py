"""Figures of many groups: estimates against group size, and the shrinkage of empirical Bayes.

With many groups the points are drawn small and translucent; group size is on a log axis, since
what matters is how the spread of the raw estimates narrows as groups grow, and how much less the
small groups are trusted under the learned prior.
"""

from __future__ import annotations

import numpy as np

from ..errors import MethodError
from ..plots._mpl import PALETTE, axes, subplots, tidy
from .posterior import describe_distribution


def _style(n: int) -> dict:
    size = 18 if n <= 200 else 6 if n <= 5000 else 2
    alpha = 0.9 if n <= 200 else 0.5 if n <= 5000 else 0.25
    return {"s": size, "alpha": alpha, "linewidths": 0}


def estimates_against_size(fit, *, param=None, ax=None, level: float = 0.95):
    """Each group's estimate (with its interval where the groups are few) against its size."""
    names = list(fit.params.columns)
    if param is not None and param not in names:
        raise MethodError(f"Unknown parameter {param!r}; this fit estimates {', '.join(names)}.")
    chosen = [param] if param is not None else names
    if ax is None:
        fig, axs = subplots(1, len(chosen), figsize=(5.2 * len(chosen), 3.8), squeeze=False)
        axs = list(axs[0])
    else:
        axs = [ax] if len(chosen) == 1 else list(ax)
    n = fit.n.to_numpy()
    ci = fit.intervals(level)
    for a, name in zip(axs, chosen):
        y = fit.params[name].to_numpy()
        if len(y) <= 200:
            lo, hi = ci[(name, "lower")].to_numpy(), ci[(name, "upper")].to_numpy()
            a.vlines(n, lo, hi, color=PALETTE[0], alpha=0.35, linewidth=1.0, label=f"{level:.0%} interval")
        a.scatter(n, y, color=PALETTE[0], label="estimate", **_style(len(y)))
        a.set_xscale("log")
        a.set_xlabel("group size (observations)")
        a.set_ylabel(name)
        a.set_title(f"{fit.family_name}: {name} in {len(y):,} groups")
        tidy(a)
        if len(y) <= 200:
            a.legend(frameon=False, fontsize=8)
    return axs[0] if len(axs) == 1 else axs


def shrinkage(fit, *, ax=None, level=None, path=None):
    """Raw estimates and posterior modes against group size, with the prior mean (empirical Bayes)."""
    a = axes(ax, figsize=(7.0, 4.4))
    size = fit.size.to_numpy()
    raw = fit.raw.to_numpy()
    name = fit.marginal.parameter
    shrunk = fit.params[name].to_numpy()
    n = len(raw)
    jitter = np.exp(np.random.default_rng(0).uniform(-0.08, 0.08, n)) if n > 200 else np.ones(n)
    x = size * jitter
    if n <= 400:
        a.vlines(x, np.minimum(raw, shrunk), np.maximum(raw, shrunk), color="0.6", linewidth=0.6, alpha=0.6)
    a.scatter(x, raw, color="0.45", label="raw estimate (each group alone)", **_style(n))
    a.scatter(x, shrunk, color=PALETTE[1], label="shrunk estimate (posterior mode)", **_style(n))
    if level is not None:
        ci = fit.credible_interval(level)
        order = np.argsort(size)
        pick = order[np.linspace(0, n - 1, min(n, 60)).astype(int)]
        a.vlines(x[pick], ci[(name, "lower")].to_numpy()[pick], ci[(name, "upper")].to_numpy()[pick],
                 color=PALETTE[1], alpha=0.5, linewidth=1.0, label=f"{level:.0%} credible interval (some groups)")
    mean = fit.hyper.values["mean"]
    a.axhline(mean, color=PALETTE[0], linewidth=1.4, label=f"prior mean {mean:.4g}")
    a.set_xscale("log")
    a.set_xlabel({"probs": "trials per group", "rate": "exposure per group"}.get(name, "observations per group"))
    a.set_ylabel(name)
    prior = fit.prior[name]
    a.set_title(f"Empirical Bayes, {fit.family_name}: {n:,} groups, learned prior {describe_distribution(prior)}", fontsize=10)
    tidy(a)
    a.legend(frameon=False, fontsize=8, loc="best", markerscale=3 if n > 200 else 1)
    if path is not None:
        if a.figure.get_layout_engine() is None:
            a.figure.tight_layout()
        a.figure.savefig(path, dpi=130)
    return a

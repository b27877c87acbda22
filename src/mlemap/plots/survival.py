"""Censored data against fitted distributions, as fitdistrplus' ``cdfcompcens`` draws them.

The nonparametric estimate comes from the data alone: Kaplan–Meier (with its 95% band) when every
value is exact or right-censored, Turnbull's NPMLE otherwise (:mod:`mlemap.survival.nonparametric`),
drawn as a step function whose undetermined stretches (innermost intervals of positive length)
are grey boxes: the estimate only says how much mass lies in each. Each fit adds its survival
function :math:`\\hat S(t)` (or cdf), conditional on the truncation range when the fit is truncated.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import MethodError
from ._mpl import PALETTE, axes, tidy


def censored_rows(result) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(low, high, weights)`` of a fit's data in the ``(low, high]`` convention (counts: ``[a, b]`` is
    ``(a - 1, b]``)."""
    x = result.problem.x.detach().cpu().numpy()
    if x.ndim == 1:
        low, high = x.copy(), x.copy()
    else:
        low, high = x[:, 0].copy(), x[:, 1].copy()
    if result.family.discrete:
        shift = (low != high) & np.isfinite(low)
        low[shift] -= 1
    w = result.problem.weights
    return low, high, None if w is None else w.detach().cpu().numpy()


def survival(results, ax=None, what: str = "survival", band: bool = True, labels=None, colors=None, show_data=True):
    """Nonparametric estimate of the data and the fitted survival function (``what="survival"``) or cdf
    (``what="cdf"``) of one fit or several fits of the same data; returns the axes."""
    from ..survival.nonparametric import KaplanMeier, nonparametric

    if what not in ("survival", "cdf"):
        raise MethodError(f"The 'what' argument of the survival plot must be 'survival' or 'cdf'. Got {what!r} instead.")
    results = list(results) if isinstance(results, (list, tuple)) else [results]
    first = results[0]
    if first.family.event_ndim != 0 or first.to_scipy() is None:
        raise MethodError(f"The survival plot needs a univariate family with a cdf; got '{first.family_name}'.")
    low, high, w = censored_rows(first)
    ax = axes(ax)
    est = nonparametric(low, high, w)
    flip = (lambda s: s) if what == "survival" else (lambda s: 1 - s)
    lo_edge, hi_edge = _range(low, high, _support_floor(first))
    if show_data:
        if isinstance(est, KaplanMeier):
            _draw_km(ax, est, flip, band, lo_edge)
            data_label = "Kaplan–Meier"
        else:
            _draw_turnbull(ax, est, flip, lo_edge, hi_edge)
            data_label = "Turnbull NPMLE"
    for i, r in enumerate(results):
        color = (colors or [None] * len(results))[i] or PALETTE[(i + 1) % len(PALETTE)]
        label = (labels or [None] * len(results))[i] or f"{r.family_name} ({r.estimator})"
        grid, s = _fitted_survival(r, lo_edge, hi_edge)
        style = {"drawstyle": "steps-post"} if r.family.discrete else {}
        ax.plot(grid, flip(s), color=color, linewidth=2, label=label, **style)
    if show_data:
        ax.plot([], [], color="0.15", linewidth=1.2, label=data_label)
    ax.set_xlim(lo_edge, hi_edge)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("x")
    ax.set_ylabel("survival S(x) = P(X > x)" if what == "survival" else "cdf F(x) = P(X ≤ x)")
    ax.legend(frameon=False, fontsize=8)
    tidy(ax)
    return ax


def _range(low, high, floor: float) -> tuple[float, float]:
    finite = np.concatenate([low[np.isfinite(low)], high[np.isfinite(high)]])
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.05 * (hi - lo if hi > lo else max(abs(hi), 1.0))
    return (floor if math.isfinite(floor) and floor <= lo else lo - pad), hi + pad


def _support_floor(result) -> float:
    """The lower edge of the family's support (-inf on the real line)."""
    from ..families.tails import tails_of

    base = getattr(result.family, "base", result.family)
    tails = tails_of(base)
    if tails is None:
        return -math.inf
    params = {**result.problem.fixed, **result.estimate.params}
    return float(tails.support(params)[0])


def _draw_km(ax, km, flip, band, start):
    t = np.concatenate([[start], km.times])
    s = np.concatenate([[1.0], km.survival])
    ax.step(t, flip(s), where="post", color="0.15", linewidth=1.2)
    if band and km.times.size:
        lo = np.concatenate([[1.0], km.lower])
        hi = np.concatenate([[1.0], km.upper])
        ax.fill_between(t, flip(lo), flip(hi), step="post", color="0.6", alpha=0.25, linewidth=0, label="95% band")


def _draw_turnbull(ax, tb, flip, start, end):
    from matplotlib.patches import Rectangle

    left, right, cdf_after = tb.cdf_steps()
    after = 1 - cdf_after  # in survival terms, as the caller's flip expects
    before = np.concatenate([[1.0], after[:-1]])
    xs, ys = [start], [1.0]
    boxes = False
    for q, p, a, b in zip(left, right, before, after):
        q_draw = q if math.isfinite(q) else start
        p_draw = p if math.isfinite(p) else end
        xs.append(q_draw)  # flat at the known cdf up to the interval
        ys.append(a)
        if p_draw > q_draw:  # undetermined: the mass b - a lies somewhere in (q, p]
            ax.add_patch(Rectangle((q_draw, min(flip(a), flip(b))), p_draw - q_draw, abs(b - a), facecolor="0.75",
                                   edgecolor="0.45", linewidth=0.6, alpha=0.6,
                                   label=None if boxes else "NPMLE undetermined inside"))
            boxes = True
            xs += [math.nan, p_draw]
            ys += [math.nan, b]
        else:  # a point mass: a jump
            xs.append(q_draw)
            ys.append(b)
    xs.append(end)
    ys.append(after[-1] if after.size else 1.0)
    ax.plot(xs, flip(np.asarray(ys)), color="0.15", linewidth=1.2)


def _fitted_survival(result, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid and fitted survival function, conditional on the fit's truncation range."""
    dist = result.to_scipy()
    if result.family.discrete:
        grid = np.arange(math.floor(lo), math.ceil(hi) + 1, dtype=float)
    else:
        grid = np.linspace(lo, hi, 400)
    s = dist.sf(grid)
    t_lo, t_hi = getattr(result.family, "truncation", (-math.inf, math.inf))
    if (t_lo, t_hi) != (-math.inf, math.inf):
        s_lo = dist.sf(t_lo) if math.isfinite(t_lo) else 1.0
        s_hi = dist.sf(t_hi) if math.isfinite(t_hi) else 0.0
        s = np.clip((s - s_hi) / (s_lo - s_hi), 0.0, 1.0)
    return grid, s


def survival_figure(result, path=None, what: str = "survival"):
    """The survival plot of a fit, saved to ``path`` when given (what ``mlemap fit --plot`` saves)."""
    from ._mpl import pyplot

    fig, ax = pyplot().subplots(figsize=(7, 4.5))
    survival(result, ax=ax, what=what)
    ax.set_title(f"{result.family_name} fit to {result.n_obs:,} censored observations")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def survival_comparison(comparison, path=None, top: int = 4, what: str = "survival"):
    """The ``top`` fits of a comparison over the nonparametric estimate (``mlemap compare --plot``)."""
    from ._mpl import pyplot

    fits = [c for c in comparison.candidates if c.usable][:top]
    if not fits:
        raise MethodError("No family could be fitted, so there is nothing to plot.")
    fig, ax = pyplot().subplots(figsize=(7, 4.5))
    labels = [f"{c.family} (ΔAIC {c.delta_aic:.1f})" for c in fits]
    survival([c.result for c in fits], ax=ax, what=what, labels=labels)
    ax.set_title("fitted distributions against the censored data, ranked by AIC")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def is_censored_fit(result) -> bool:
    """Whether a fit was made to censored or truncated data."""
    return hasattr(result.family, "truncation")

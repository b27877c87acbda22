"""Coefficient plot of a fitted regression: each estimate with its interval, against zero."""

from __future__ import annotations

import numpy as np

from ._mpl import PALETTE, axes, tidy


def coefficients(model, ax=None, level: float = 0.95, intercept: bool = False, method: str = "wald"):
    """Estimates as points with ``level`` intervals (``model.conf_int(level, method)``) as bars.

    Coefficients whose standard error is undefined (an L1 fit without an explicit SE method, a
    dropped collinear column) are drawn as hollow points without a bar. The intercept is left out
    unless ``intercept=True``: it usually lives on another scale. Returns the axes.
    """
    ci = model.conf_int(level=level, method=method)
    estimates = model.estimate_.vector()
    labels = list(ci.index)
    keep = [i for i, name in enumerate(labels) if intercept or "intercept" not in str(name)]
    labels = [labels[i] for i in keep]
    est = estimates[keep]
    lo, hi = ci["lower"].to_numpy()[keep], ci["upper"].to_numpy()[keep]
    ax = axes(ax, figsize=(6.0, 0.9 + 0.32 * max(len(labels), 3)))
    rows = np.arange(len(labels))[::-1]
    has = np.isfinite(lo) & np.isfinite(hi)
    if has.any():
        ax.hlines(rows[has], lo[has], hi[has], color=PALETTE[0], lw=2, label=f"{level:.0%} interval")
        ax.plot(est[has], rows[has], "o", color=PALETTE[1], label="estimate")
    if (~has).any():
        ax.plot(est[~has], rows[~has], "o", mfc="white", color=PALETTE[1], label="estimate (no standard error)")
    ax.axvline(0.0, color="0.5", lw=0.8)
    ax.set_yticks(rows)
    ax.set_yticklabels(labels)
    ax.set_xlabel("coefficient")
    ax.set_title(f"{type(model).__name__} ({model.estimate_.estimator})")
    ax.legend(frameon=False, fontsize=8)
    tidy(ax)
    return ax

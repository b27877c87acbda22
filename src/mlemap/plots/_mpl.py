"""Lazy matplotlib access: the library imports without it; plotting functions ask for it."""

from __future__ import annotations

from ..errors import MlemapError


def pyplot():
    """``matplotlib.pyplot``, with the non-interactive Agg backend when no display is available."""
    try:
        import matplotlib
    except ImportError:
        raise MlemapError(
            "Plotting needs matplotlib, which is not installed. Install it with: pip install matplotlib"
        ) from None
    import os

    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        try:
            matplotlib.use("Agg")
        except Exception:  # a backend already in use by the caller's session stays
            pass
    import matplotlib.pyplot as plt

    return plt


def axes(ax=None, figsize=(6.0, 4.0)):
    """``ax`` itself, or new axes on a new figure laid out so that its labels stay inside it."""
    if ax is not None:
        return ax
    plt = pyplot()
    _, ax = plt.subplots(figsize=figsize, layout="constrained")  # savefig keeps the axis labels
    return ax


def tidy(ax) -> None:
    """House style: no top/right spines, a light grid."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, alpha=0.25, linewidth=0.6)


PALETTE = ("#1f6f8b", "#d97757", "#7b9e89", "#8c6bb1", "#c9a227", "#4a6670", "#b5545c", "#5b8e2d")


def subplots(*args, **kwargs):
    """``matplotlib.pyplot.subplots`` (Agg backend without a display)."""
    return pyplot().subplots(*args, **kwargs)

"""Coefficient paths against log10(alpha) (matplotlib, imported only when drawing)."""

from __future__ import annotations

import numpy as np

LEGEND_MAX = 10


def plot_path(path, ax=None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    x = np.log10(np.where(path.alphas > 0, path.alphas, np.nan))
    coefs = path.coefs
    if coefs.ndim == 2:
        for j in range(coefs.shape[0]):
            ax.plot(x, coefs[j], lw=1.2, label=path.feature_names[j])
        n_lines = coefs.shape[0]
    else:
        styles = ["-", "--", ":", "-."]
        colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
        for k in range(coefs.shape[0]):
            for j in range(coefs.shape[1]):
                ax.plot(x, coefs[k, j], lw=1.2, ls=styles[k % len(styles)], color=colours[j % len(colours)],
                        label=f"class {k}: {path.feature_names[j]}")
        n_lines = coefs.shape[0] * coefs.shape[1]
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.invert_xaxis()
    ax.set_xlabel("log10(alpha)   (stronger penalty to the left)")
    ax.set_ylabel("coefficient")
    label = {"l1": "lasso", "l2": "ridge", "elastic_net": f"elastic net (l1_ratio={path.l1_ratio:g})"}[path.penalty]
    ax.set_title(f"{label} path, {path.family} family")
    if path.selection is not None:
        ax.axvline(np.log10(path.selection.alpha), color="k", ls="--", lw=1.0,
                   label=f"selected ({path.selection.method}): alpha={path.selection.alpha:.3g}")
    if n_lines <= LEGEND_MAX:
        ax.legend(fontsize="small", loc="best")
    return ax

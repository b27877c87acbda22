"""Pictures of estimation as a process: optimiser trajectories, estimates as data grow, classifiers.

* :func:`trajectories`: paths of optimisers (or of one optimiser with several learning rates or
  batch sizes) drawn over the contours of a log-likelihood surface;
* :func:`errors_vs_steps`: the distance to the optimum against the step number, one line per run;
* :func:`estimates_vs_n`: estimates (MLE, MAP, ...) against the sample size, with the true value;
* :func:`decision_regions`: the regions where a fitted classifier predicts each class, with the data.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ._mpl import PALETTE, axes, tidy


def _series_colours(labels, colors: Mapping[str, str] | None) -> dict[str, str]:
    """``colors`` where given, else the palette in order (skipping its first colour, kept for data)."""
    colors = dict(colors or {})
    return {label: colors.get(label, PALETTE[(i + 1) % len(PALETTE)]) for i, label in enumerate(labels)}


def trajectories(surface: Callable[[np.ndarray, np.ndarray], np.ndarray], paths: Mapping[str, np.ndarray], ax=None,
                 ranges=None, n: int = 120, optimum=None, labels=("parameter 1", "parameter 2"), colors=None,
                 markers: bool = False):
    """Contours of ``surface(A, B)`` (a log-likelihood on a meshgrid) with each path ``(steps, 2)`` over it.

    The surface is drawn in light greys so that the paths' colours (``colors``: label -> colour)
    stand out; ``markers`` marks every iterate (for short paths such as L-BFGS's).
    """
    pts = np.concatenate([np.asarray(p, dtype=float) for p in paths.values()])
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    if ranges is None:
        lo, hi = np.percentile(finite, 1, axis=0), np.percentile(finite, 99, axis=0)
        pad = 0.15 * np.maximum(hi - lo, 1e-9)
        ranges = [(lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])]
    A, B = np.meshgrid(np.linspace(*ranges[0], n), np.linspace(*ranges[1], n))
    Z = surface(A, B)
    ax = axes(ax, figsize=(6.0, 5.0))
    ax.contourf(A, B, Z, levels=30, cmap="Greys_r", alpha=0.45)
    ax.contour(A, B, Z, levels=15, colors="0.45", linewidths=0.5, alpha=0.6)
    colours = _series_colours(paths, colors)
    for label, path in paths.items():
        path = np.asarray(path, dtype=float)
        ax.plot(path[:, 0], path[:, 1], "-", color=colours[label], linewidth=1.8, label=label, alpha=0.95,
                marker="o" if markers else None, markersize=3)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=colours[label], markersize=5)
    if optimum is not None:
        ax.plot(optimum[0], optimum[1], "*", color="#d62728", markersize=16, markeredgecolor="white", label="MLE", zorder=5)
    ax.set_xlim(*ranges[0])
    ax.set_ylim(*ranges[1])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.legend(fontsize=9, loc="upper right")
    return ax


def errors_vs_steps(paths: Mapping[str, np.ndarray], optimum, ax=None, log=True, colors=None):
    """Euclidean distance of each path's iterates to ``optimum`` against the step number."""
    ax = axes(ax)
    optimum = np.asarray(optimum, dtype=float)
    colours = _series_colours(paths, colors)
    for label, path in paths.items():
        err = np.linalg.norm(np.asarray(path, dtype=float) - optimum, axis=1)
        ax.plot(np.arange(err.size), err, color=colours[label], label=label, linewidth=1.6)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("distance to the MLE")
    ax.legend(frameon=False, fontsize=9)
    tidy(ax)
    return ax


def estimates_vs_n(ns, series: Mapping[str, np.ndarray], truth: float | None = None, ax=None, ylabel="estimate"):
    """Each estimator's value against the sample size (log scale), with the true value."""
    ax = axes(ax)
    for i, (label, values) in enumerate(series.items()):
        ax.plot(ns, values, "o-", color=PALETTE[(i + 1) % len(PALETTE)], label=label, markersize=4)
    if truth is not None:
        ax.axhline(truth, color="0.3", linestyle="--", label=f"true value {truth:g}")
    ax.set_xscale("log")
    ax.set_xlabel("sample size n")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    tidy(ax)
    return ax


def decision_regions(model, X, y, ax=None, n: int = 300, feature_names=("x1", "x2"), class_names=None):
    """Shade where ``model.predict`` gives each class over the range of two features; data on top."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    lo, hi = X.min(0), X.max(0)
    pad = 0.1 * (hi - lo)
    A, B = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], n), np.linspace(lo[1] - pad[1], hi[1] + pad[1], n))
    pred = np.asarray(model.predict(np.column_stack([A.ravel(), B.ravel()]))).reshape(A.shape)
    classes = list(getattr(model, "classes_", np.unique(y)))
    index = {c: i for i, c in enumerate(classes)}
    codes = np.vectorize(index.get)(pred)
    ax = axes(ax, figsize=(5.5, 5.0))
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(classes))]
    from matplotlib.colors import ListedColormap

    ax.contourf(A, B, codes, levels=np.arange(len(classes) + 1) - 0.5, cmap=ListedColormap(colours), alpha=0.25)
    for i, c in enumerate(classes):
        mask = y == c
        name = class_names[i] if class_names else f"class {c}"
        ax.scatter(X[mask, 0], X[mask, 1], color=colours[i], edgecolor="k", s=22, label=name, linewidth=0.5)
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.legend(frameon=True, fontsize=8)
    return ax

"""Pictures of one fitted univariate family against its data.

* :func:`density`: the fitted density over a histogram of the data (a bar chart of observed
  frequencies against the fitted probabilities for discrete families);
* :func:`qq`: quantile–quantile plot, sample quantiles against the fitted quantiles
  :math:`\\hat F^{-1}((i - 1/2)/n)`;
* :func:`pp`: probability–probability plot, :math:`\\hat F(x_{(i)})` against :math:`(i - 1/2)/n`.
"""

from __future__ import annotations

import numpy as np

from ..errors import MethodError
from ._mpl import PALETTE, axes, tidy


def _data_and_dist(result):
    from .survival import is_censored_fit

    if is_censored_fit(result):
        raise MethodError("This fit is to censored or truncated data; draw it with kind='survival' (or 'loglik', 'contour').")
    dist = result.to_scipy()
    if dist is None:
        raise MethodError(f"Plots of the fitted distribution need a univariate family; got '{result.family_name}'.")
    x = result.problem.x.detach().cpu().numpy()
    w = None if result.problem.weights is None else result.problem.weights.detach().cpu().numpy()
    return x, w, dist


def density(result, ax=None, bins="auto", label=None, color=None, show_data=True, xlabel=None, offset=0.0):
    """Fitted density over a histogram of the data, or for a discrete family the fitted pmf as stems
    over bars of the observed frequencies; returns the axes.

    ``xlabel`` defaults to the data's name (a pandas Series' name, see ``FitResult.data_name``);
    ``offset`` shifts the stems sideways (several pmfs on one axes).
    """
    x, w, dist = _data_and_dist(result)
    ax = axes(ax)
    color = color or PALETTE[1]
    label = label or f"{result.family_name} ({result.estimator})"
    if result.family.discrete:
        values = np.arange(int(x.min()), int(x.max()) + 1)
        if show_data:
            weights = np.ones_like(x) if w is None else w
            freq = np.array([weights[x == v].sum() for v in values]) / weights.sum()
            ax.bar(values, freq, width=0.8, color=PALETTE[0], alpha=0.45, label="observed frequency")
        pmf = dist.pmf(values)
        ax.vlines(values + offset, 0, pmf, color=color, linewidth=1.6)
        ax.plot(values + offset, pmf, "o", color=color, label=label, markersize=4.5)
        ax.set_ylabel("probability")
    else:
        if show_data:
            ax.hist(x, bins=bins, weights=w, density=True, color=PALETTE[0], alpha=0.35, label="data")
        lo, hi = np.quantile(x, [0.0, 1.0])
        pad = 0.05 * (hi - lo if hi > lo else 1.0)
        grid = np.linspace(lo - pad, hi + pad, 400)
        ax.plot(grid, dist.pdf(grid), color=color, linewidth=2, label=label)
        ax.set_ylabel("density")
    ax.set_xlabel(xlabel or result.data_name or "x")
    ax.legend(frameon=False)
    tidy(ax)
    return ax


def _plotting_positions(n: int) -> np.ndarray:
    return (np.arange(1, n + 1) - 0.5) / n


def qq(result, ax=None, label=None, color=None):
    """Sample quantiles against fitted quantiles, with the identity line; returns the axes."""
    x, w, dist = _data_and_dist(result)
    if w is not None and np.allclose(w, np.round(w)) and w.sum() < 2_000_000:
        x = np.repeat(x, np.round(w).astype(int))
    xs = np.sort(x)
    theory = dist.ppf(_plotting_positions(xs.size))
    ax = axes(ax)
    ax.plot(theory, xs, ".", color=color or PALETTE[1], markersize=3, label=label or result.family_name)
    finite = np.isfinite(theory)
    lo = min(np.min(theory[finite]), xs.min())
    hi = max(np.max(theory[finite]), xs.max())
    ax.plot([lo, hi], [lo, hi], color="0.4", linewidth=1, linestyle="--")
    ax.set_xlabel(f"fitted {result.family_name} quantiles")
    ax.set_ylabel("sample quantiles")
    ax.set_title("Q-Q plot")
    tidy(ax)
    return ax


def pp(result, ax=None, label=None, color=None):
    """Fitted CDF at the ordered data against the empirical probabilities; returns the axes."""
    x, w, dist = _data_and_dist(result)
    if w is not None and np.allclose(w, np.round(w)) and w.sum() < 2_000_000:
        x = np.repeat(x, np.round(w).astype(int))
    xs = np.sort(x)
    ax = axes(ax)
    ax.plot(_plotting_positions(xs.size), dist.cdf(xs), ".", color=color or PALETTE[1], markersize=3,
            label=label or result.family_name)
    ax.plot([0, 1], [0, 1], color="0.4", linewidth=1, linestyle="--")
    ax.set_xlabel("empirical probability")
    ax.set_ylabel(f"fitted {result.family_name} CDF")
    ax.set_title("P-P plot")
    tidy(ax)
    return ax


def fit_figure(result, path=None, xlabel=None):
    """Density over the data and a Q-Q plot side by side (what ``mlemap fit --plot`` saves), the
    density's x axis labelled ``xlabel`` (default: the data's name); the survival plot for censored
    or truncated data."""
    from ._mpl import pyplot
    from .survival import is_censored_fit, survival_figure

    if is_censored_fit(result):
        return survival_figure(result, path)

    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    density(result, ax=a, xlabel=xlabel)
    a.set_title(f"{result.family_name} fit to {result.n_obs:,} observations")
    if result.family.discrete:
        pp(result, ax=b)
    else:
        qq(result, ax=b)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def comparison_figure(comparison, path=None, top=None, xlabel=None):
    """Every usable fit (or the best ``top``), in rank order: densities (stems for discrete families)
    over the data, and Q-Q plots (P-P for discrete families); what ``mlemap compare --plot`` saves."""
    from ._mpl import pyplot
    from .survival import is_censored_fit, survival_comparison

    fits = [c for c in comparison.candidates if c.usable][:top]
    if not fits:
        raise MethodError("No family could be fitted, so there is nothing to plot.")
    if is_censored_fit(fits[0].result):
        return survival_comparison(comparison, path=path, top=top)
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    discrete = fits[0].result.family.discrete
    spread = 0.6  # stems of several pmfs side by side, within a bar's width
    for i, c in enumerate(fits):
        colour = PALETTE[(i + 1) % len(PALETTE)]
        label = f"{c.family} (ΔAIC {c.delta_aic:.1f})"
        offset = (i - (len(fits) - 1) / 2) * spread / max(len(fits) - 1, 1) if discrete else 0.0
        density(c.result, ax=a, color=colour, label=label, show_data=(i == 0), xlabel=xlabel, offset=offset)
        if c.result.family.discrete:
            pp(c.result, ax=b, color=colour, label=label)
        else:
            qq(c.result, ax=b, color=colour, label=label)
    a.set_title("fitted distributions, ranked by AIC")
    a.legend(frameon=False, fontsize=8)
    b.set_title("P-P plots" if discrete else "Q-Q plots")
    b.set_xlabel("empirical probability" if discrete else "fitted quantiles")
    b.set_ylabel("fitted CDF" if discrete else "sample quantiles")
    b.legend(frameon=False, fontsize=8)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig

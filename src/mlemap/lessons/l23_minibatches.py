"""Lesson 23: minibatches: the log-likelihood of a random subset, and what its size does to convergence.

The log-likelihood of a random subset B of k observations (drawn with replacement),
:math:`\\hat\\ell_B(\\mu) = -\\frac12\\sum_{i\\in B}(x_i-\\mu)^\\top\\Sigma^{-1}(x_i-\\mu)`, is a bowl of the same shape
as the full one, centred at the subset mean instead of the MLE. The subset mean misses the full mean
by :math:`\\mathrm E|\\bar x_B - \\bar x|^2 = \\mathrm{tr}(S)/k` (S the data's covariance with divisor n): a
stochastic gradient points at a different peak every step, and its noise shrinks like 1/k.

Stochastic gradient ascent on the mean log-likelihood, :math:`\\mu_{t+1} = \\mu_t + \\eta_t\\Sigma^{-1}(\\bar x_{B_t} - \\mu_t)`
with :math:`\\eta_t = \\eta_0/(1 + t/\\tau)`, converges for every k; the number of steps it needs to stay
within a tolerance falls like 1/k until it meets the noise-free rate, after which larger batches
only cost more.
"""

import numpy as np

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds
from .l12_optimisers import COV, START, N

BATCHES = (1, 5, 10, 100, 1000)
BUDGET = {1: 40_000, 5: 10_000, 10: 5_000, 100: 1_500, 1000: 1_000}
ETA0, TAU, TOL = 0.5, 50.0, 0.1


def sgd_distances(data, mle, k: int, seeds) -> np.ndarray:
    """Distance to the full-data MLE after each step of minibatch gradient ascent with batch size k, one row
    per seed (the runs advance together)."""
    steps = BUDGET[k]
    batch_means = np.stack([data[np.random.default_rng(seed).integers(0, len(data), (steps, k))].mean(axis=1)
                            for seed in seeds])  # (seeds, steps, 2)
    precision = np.linalg.inv(COV)
    mu = np.tile(np.array(START, dtype=float), (len(seeds), 1))
    out = np.empty((len(seeds), steps))
    for t in range(steps):
        mu = mu + ETA0 / (1 + t / TAU) * (batch_means[:, t] - mu) @ precision
        out[:, t] = np.hypot(*(mu - mle).T)
    return out


def steps_to_converge(distances: np.ndarray) -> int | None:
    """The first step after which every later iterate stays within TOL (None if the budget ends outside)."""
    outside = np.flatnonzero(distances >= TOL)
    if outside.size and outside[-1] == distances.size - 1:
        return None
    return int(outside[-1] + 2) if outside.size else 1


def run(ctx):
    rng = ctx.rng(23)
    data = rng.multivariate_normal([1.0, 1.0], COV, N)
    full = mm.fit("multivariate_normal", data, fixed={"covariance_matrix": COV})
    mle = full.params["loc"]
    inv = np.linalg.inv(COV)
    subsets = {k: data[rng.integers(0, N, k)] for k in BATCHES}
    subset_fits = {k: mm.fit("multivariate_normal", s, fixed={"covariance_matrix": COV}).params["loc"]
                   for k, s in subsets.items()}

    def mean_surface(points):
        centre, spread = points.mean(0), np.cov(points.T, bias=True) if len(points) > 1 else np.zeros((2, 2))

        def f(A, B):  # the mean log-likelihood of ``points`` up to a constant
            d = np.stack([A - centre[0], B - centre[1]], axis=-1)
            return -0.5 * (np.einsum("...i,ij,...j->...", d, inv, d) + np.trace(inv @ spread))
        return f

    # how far a subset's peak is from the MLE, on average: tr(S)/k
    reps = ctx.n(2000, 600)
    spread = {k: float(np.mean(np.sum((data[rng.integers(0, N, (reps, k))].mean(1) - mle) ** 2, axis=1)))
              for k in (1, 10, 100)}
    theory = {k: float(np.trace(np.cov(data.T, bias=True))) / k for k in spread}

    seeds = range(ctx.n(5, 3))
    runs = {k: list(sgd_distances(data, mle, k, [100 * k + s for s in seeds])) for k in BATCHES}
    steps = {k: [steps_to_converge(d) for d in runs[k]] for k in BATCHES}
    median = {k: float(np.median([s if s is not None else np.inf for s in v])) for k, v in steps.items()}

    window = [(-4.5, 5.5), (-3.0, 4.5)]
    A, B = np.meshgrid(np.linspace(*window[0], 160), np.linspace(*window[1], 160))
    levels = np.linspace(-30, 0, 16)
    fig, grid = plots.subplots(2, 3, figsize=(13, 8.2), sharex=True, sharey=True, layout="constrained")
    panels = [("all 10,000 observations", data)] + [(f"a random subset of k = {k}", subsets[k]) for k in BATCHES]
    for ax, (title, points) in zip(grid.ravel(), panels):
        cs = ax.contourf(A, B, np.maximum(mean_surface(points)(A, B), levels[0]), levels=levels, cmap="viridis")
        peak = points.mean(0)
        ax.plot(*mle, "*", color="#d62728", markersize=15, markeredgecolor="white", label="full-data MLE")
        ax.plot(*peak, "o", color="white", markeredgecolor="black", markersize=8, label="this surface's peak")
        ax.set_title(title)
    for ax in grid[1]:
        ax.set_xlabel("mu_1")
    for ax in grid[:, 0]:
        ax.set_ylabel("mu_2")
    fig.colorbar(cs, ax=grid, label="mean log-likelihood per observation (+ const)", shrink=0.8)
    handles, labels = grid[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False, fontsize=11)

    fig2, (c, d) = plots.subplots(1, 2, figsize=(13, 4.6))
    for i, k in enumerate(BATCHES):
        dist = runs[k][0]
        c.plot(np.arange(1, dist.size + 1), dist, color=plots.PALETTE[i + 1], lw=1.2, label=f"k = {k}")
    c.axhline(TOL, color="0.3", ls=":", label=f"tolerance {TOL:g}")
    c.set_xscale("log")
    c.set_yscale("log")
    c.set_xlabel("step")
    c.set_ylabel("distance to the full-data MLE")
    c.set_title("minibatch gradient ascent, decaying step")
    c.legend(frameon=False, fontsize=10, loc="lower left", ncol=2)
    plots.tidy(c)
    ks = np.array(BATCHES, dtype=float)
    med = np.array([median[k] for k in BATCHES])
    lo = np.array([min(s for s in steps[k] if s is not None) for k in BATCHES])
    hi = np.array([max(s for s in steps[k] if s is not None) for k in BATCHES])
    d.fill_between(ks, lo, hi, color=plots.PALETTE[1], alpha=0.2, label=f"range over {len(seeds)} runs")
    d.plot(ks, med, "o-", color=plots.PALETTE[1], lw=2, label="steps to stay within the tolerance (median)")
    d.plot(ks, med * ks, "s--", color=plots.PALETTE[0], lw=1.5, label="observations used = steps x k")
    d.plot(ks, med[0] / ks, ":", color="0.4", label="1/k")
    d.set_xscale("log")
    d.set_yscale("log")
    d.set_xlabel("batch size k")
    d.set_title("steps fall like 1/k, until the noise-free rate")
    d.legend(frameon=False, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    plots.tidy(d)
    fig2.tight_layout()

    some = subsets[5]
    return LessonOutput(
        checks=[
            close("a subset's peak = its MLE (mlemap) = its mean", [subset_fits[k] for k in BATCHES],
                  [subsets[k].mean(0) for k in BATCHES], rtol=1e-12),
            close("the full surface = mlemap's log-likelihood (up to a constant)",
                  [full.log_likelihood_at(loc=p) - full.loglik for p in (np.zeros(2), np.array(START))],
                  [N * (mean_surface(data)(*p) - mean_surface(data)(*mle)) for p in (np.zeros(2), np.array(START))],
                  rtol=1e-9),
            close("... and a subset's surface = mlemap's, fitted to the subset",
                  [mm.fit("multivariate_normal", some, fixed={"covariance_matrix": COV}).log_likelihood_at(loc=np.zeros(2))
                   - mm.fit("multivariate_normal", some, fixed={"covariance_matrix": COV}).loglik],
                  [5 * (mean_surface(some)(0.0, 0.0) - mean_surface(some)(*some.mean(0)))], rtol=1e-9),
            close(f"E|subset mean - MLE|^2 = tr(S)/k over {reps} subsets (k = 1, 10, 100)", list(spread.values()),
                  list(theory.values()), rtol=0.12),
            holds("every run converges within its budget", all(s is not None for v in steps.values() for s in v),
                  {k: v for k, v in steps.items()}, "no None"),
            holds("steps fall with k from 1 to 100", median[1] > median[5] > median[10] > median[100],
                  [median[k] for k in BATCHES], "decreasing"),
            holds("... roughly like 1/k (k = 1 takes over 20 times as many steps as k = 100)",
                  median[1] > 20 * median[100], median[1] / median[100], "> 20"),
            holds("k = 1000 saves few steps over k = 100 but touches 10 times the data",
                  median[1000] > median[100] / 3 and median[1000] * 1000 > 3 * median[100] * 100,
                  [median[100], median[1000]], "steps within 3x; data > 3x"),
        ],
        figures=[
            ("The mean log-likelihood of all the data and of random subsets of k observations: each subset's bowl has "
             "the same shape but its own peak (circle), ever closer to the full-data MLE (star) as k grows.", fig),
            (f"Left: distance to the MLE under minibatch gradient ascent (step {ETA0:g}/(1 + t/{TAU:g})): small "
             f"batches wander far longer. Right: steps until the iterate stays within {TOL:g} of the MLE, falling like "
             "1/k until the noise-free rate is reached; beyond that, bigger batches only read more data.", fig2),
        ],
        findings=["Median steps to stay within the tolerance: " + ", ".join(f"k = {k}: {median[k]:.0f}" for k in BATCHES)
                  + "; observations used: " + ", ".join(f"{median[k] * k:.0f}" for k in BATCHES) + "."],
    )


LESSON = Lesson(
    23, "minibatches", "Minibatches: a noisy likelihood, and what batch size buys",
    r"$\hat\ell_B(\mu) = -\frac{1}{2}\sum_{i\in B}(x_i-\mu)^\top\Sigma^{-1}(x_i-\mu),\quad"
    r"\mathrm{E}\,\|\bar x_B - \bar x\|^2 = \mathrm{tr}(S)/k$",
    "The log-likelihood of a random subset is the full one re-centred at the subset's mean; stochastic gradients "
    "chase those moving peaks, and the batch size sets how far.",
    run,
)

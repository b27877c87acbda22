"""Lesson 7: log-likelihood + log-prior = log-posterior; the MAP slides between the MLE and the prior mode."""

import numpy as np
import torch
import torch.distributions as td

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds, legible

NOISE = 0.4  # the noise in the simulated responses
SIGMA = 1.0  # the noise scale the likelihood assumes, as in the course: -(1/2) sum (y - x'theta)^2
LAMBDAS = (0.05, 0.5, 5.0, 50.0)


def regression_log_prob(rows, theta1, theta2):
    """y ~ Normal(theta1 x1 + theta2 x2, 1): one log-density per row (x1, x2, y)."""
    return td.Normal(rows[:, 0] * theta1 + rows[:, 1] * theta2, SIGMA).log_prob(rows[:, 2])


def _prior(lam: float):
    # lambda * ||theta||^2 as a log-prior is a Normal(0, sd = 1 / sqrt(2 lambda)) on each coefficient
    zero = torch.tensor(0.0, dtype=torch.float64)
    return td.Normal(zero, torch.tensor(1 / np.sqrt(2 * lam), dtype=torch.float64))


def map_closed_form(X, y, lam):
    """argmax of -|y - X theta|^2 / (2 sigma^2) - lambda |theta|^2: (X'X/s^2 + 2 lambda I)^-1 X'y/s^2."""
    return np.linalg.solve(X.T @ X / SIGMA**2 + 2 * lam * np.eye(2), X.T @ y / SIGMA**2)


def run(ctx):
    rng = ctx.rng(7)
    X = rng.normal(size=(12, 2))
    y = X @ np.array([2.5, 1.0]) + NOISE * rng.normal(size=12)
    rows = np.column_stack([X, y])
    init = {"theta1": 0.0, "theta2": 0.0}
    fits = {lam: mm.fit(regression_log_prob, rows, init=init, prior={"theta1": _prior(lam), "theta2": _prior(lam)})
            for lam in LAMBDAS}
    mle = fits[0.5].mle()
    w_mle = np.array([mle.params["theta1"], mle.params["theta2"]])
    maps = {lam: np.array([r.params["theta1"], r.params["theta2"]]) for lam, r in fits.items()}
    norms = [np.linalg.norm(w) for w in maps.values()]
    share = {lam: 1 - np.linalg.norm(w) / np.linalg.norm(w_mle) for lam, w in maps.items()}

    fig, row = plots.subplots(1, 3, figsize=(14, 4.4))
    plots.surface_trio(fits[0.5], axes_row=row)
    row[2].plot(*w_mle, "*", color="white", mfc="none", markersize=15, label=f"MLE ({w_mle[0]:.2f}, {w_mle[1]:.2f})")
    row[2].legend(loc="upper right")
    legible(fig, 10)
    fig.tight_layout()
    fig2, ax = plots.subplots(figsize=(6.8, 5.2))
    path = np.array([map_closed_form(X, y, lam) for lam in np.logspace(-3, 3.5, 300)])
    ax.plot(path[:, 0], path[:, 1], "-", color="0.55", lw=1.5, zorder=1, label="MAP as lambda grows")
    ax.plot(*w_mle, "*", color="#d62728", markersize=20, markeredgecolor="white", zorder=3, label="MLE (lambda = 0)")
    ax.plot(0, 0, "o", color="0.15", markersize=9, zorder=3, label="prior mode")
    for (lam, w), colour, marker in zip(maps.items(), plots.PALETTE[:4], "osD^"):
        ax.plot(*w, marker, color=colour, markersize=10, markeredgecolor="black", markeredgewidth=0.6, zorder=4,
                label=f"MAP, lambda = {lam:g} ({share[lam]:.0%} of the way)")
    ax.set_xlabel("theta1")
    ax.set_ylabel("theta2")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(frameon=False, fontsize=10, loc="upper left")
    ax.set_title("the MAP slides from the MLE to the prior mode")
    plots.tidy(ax)
    fig2.tight_layout()
    return LessonOutput(
        checks=[
            close(f"MAP(lambda={lam:g}) = (X'X/s^2 + 2 lambda I)^-1 X'y/s^2", w, map_closed_form(X, y, lam), rtol=1e-7)
            for lam, w in maps.items()
        ]
        + [
            close("MLE = least squares", w_mle, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-7),
            holds("stronger prior pulls harder toward 0", bool(np.all(np.diff(norms) < 0)), [round(v, 4) for v in norms],
                  "|MAP| decreasing in lambda"),
            holds("MAP inside the MLE's norm", norms[0] < np.linalg.norm(w_mle), norms[0], f"< {np.linalg.norm(w_mle):.4f}"),
            holds("lambda = 5 moves the MAP a visible part of the way", 0.2 < share[5.0] < 0.8, share[5.0],
                  "between 20% and 80% of the way to 0"),
        ],
        figures=[
            ("Log-likelihood (sigma = 1, as in the course), log-prior (lambda = 0.5) and their sum: the MAP peak lies "
             "between the MLE and the prior mode.", fig),
            (f"As lambda grows the MAP moves along a curve from the MLE toward 0: lambda = 0.05 moves it "
             f"{share[0.05]:.0%} of the way, lambda = 5 {share[5.0]:.0%}, lambda = 50 {share[50.0]:.0%}; "
             "only as lambda goes to infinity does it reach the prior mode.", fig2),
        ],
        findings=[f"MLE ({w_mle[0]:.3f}, {w_mle[1]:.3f}); " + "; ".join(
            f"MAP at lambda = {lam:g}: ({w[0]:.3f}, {w[1]:.3f})" for lam, w in maps.items()) + "."],
    )


LESSON = Lesson(
    7, "posterior_2d", "Likelihood x prior = posterior, in two dimensions",
    r"$\log p(\theta\mid D) = \log p(D\mid\theta) - \lambda\|\theta\|^2 + c,\quad \hat\theta_{MAP} = (X^TX/\sigma^2 + 2\lambda I)^{-1}X^Ty/\sigma^2$",
    "A two-coefficient regression fitted as a custom log-density (unit noise scale, as in the course), with a "
    "Gaussian prior of strength lambda on each coefficient.",
    run,
)

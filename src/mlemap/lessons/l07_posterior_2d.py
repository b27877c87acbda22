"""Lesson 7: log-likelihood + log-prior = log-posterior; the MAP slides between the MLE and the prior mode."""

import numpy as np
import torch
import torch.distributions as td

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

SIGMA = 0.4


def regression_log_prob(rows, theta1, theta2):
    """y ~ Normal(theta1 x1 + theta2 x2, 0.4): one log-density per row (x1, x2, y)."""
    return td.Normal(rows[:, 0] * theta1 + rows[:, 1] * theta2, SIGMA).log_prob(rows[:, 2])


def _prior(lam: float):
    # lambda * ||theta||^2 as a log-prior is a Normal(0, sd = 1 / sqrt(2 lambda)) on each coefficient
    zero = torch.tensor(0.0, dtype=torch.float64)
    return td.Normal(zero, torch.tensor(1 / np.sqrt(2 * lam), dtype=torch.float64))


def run(ctx):
    rng = ctx.rng(7)
    X = rng.normal(size=(12, 2))
    y = X @ np.array([2.5, 1.0]) + SIGMA * rng.normal(size=12)
    rows = np.column_stack([X, y])
    init = {"theta1": 0.0, "theta2": 0.0}
    fits = {lam: mm.fit(regression_log_prob, rows, init=init, prior={"theta1": _prior(lam), "theta2": _prior(lam)})
            for lam in (0.05, 0.5, 5.0)}
    mle = fits[0.5].mle()
    w_mle = np.array([mle.params["theta1"], mle.params["theta2"]])
    ridge = {lam: np.linalg.solve(X.T @ X / SIGMA**2 + 2 * lam * np.eye(2), X.T @ y / SIGMA**2) for lam in fits}
    norms = [np.linalg.norm([r.params["theta1"], r.params["theta2"]]) for r in fits.values()]

    fig, row = plots.subplots(1, 3, figsize=(15, 4.4))
    plots.surface_trio(fits[0.5], axes_row=row)
    fig.tight_layout()
    fig2, ax = plots.subplots(figsize=(5.5, 5))
    ax.plot(*w_mle, "*", color="#d62728", markersize=15, label="MLE")
    ax.plot(0, 0, "o", color="0.2", label="prior mode")
    for (lam, r), c in zip(fits.items(), plots.PALETTE[1:]):
        ax.plot(r.params["theta1"], r.params["theta2"], "s", color=c, label=f"MAP, lambda = {lam:g}")
    ax.set_xlabel("theta1")
    ax.set_ylabel("theta2")
    ax.legend(frameon=False)
    plots.tidy(ax)
    return LessonOutput(
        checks=[
            close(f"MAP(lambda={lam:g}) = (X'X/s^2 + 2 lambda I)^-1 X'y/s^2", [r.params["theta1"], r.params["theta2"]],
                  ridge[lam], rtol=1e-7)
            for lam, r in fits.items()
        ]
        + [
            close("MLE = least squares", w_mle, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-7),
            holds("stronger prior pulls harder toward 0", norms[0] > norms[1] > norms[2], [round(v, 4) for v in norms],
                  "|MAP| decreasing in lambda"),
            holds("MAP inside the MLE's norm", norms[0] < np.linalg.norm(w_mle), norms[0], f"< {np.linalg.norm(w_mle):.4f}"),
        ],
        figures=[
            ("Log-likelihood, log-prior (lambda = 0.5) and their sum: the MAP peak lies between the MLE and the prior mode.", fig),
            ("As lambda grows from 0.05 to 5 the MAP slides from the MLE to the prior mode at 0.", fig2),
        ],
    )


LESSON = Lesson(
    7, "posterior_2d", "Likelihood x prior = posterior, in two dimensions",
    r"$\log p(\theta\mid D) = \log p(D\mid\theta) - \lambda\|\theta\|^2 + c,\quad \hat\theta_{MAP} = (X^TX/\sigma^2 + 2\lambda I)^{-1}X^Ty/\sigma^2$",
    "A two-coefficient regression fitted as a custom log-density, with a Gaussian prior of strength lambda on each coefficient.",
    run,
)

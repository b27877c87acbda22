"""Lesson 17: torch's SGD weight decay is a Gaussian prior; on mean squared error it is ridge with alpha = n wd / 2."""

import numpy as np
import torch

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds


def sgd_with_weight_decay(X, y, weight_decay, steps, lr=0.05):
    """Full-batch torch.optim.SGD on the mean squared error; the decay applies to the weights, not the bias."""
    Xt, yt = torch.tensor(X), torch.tensor(y)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([{"params": [w], "weight_decay": weight_decay}, {"params": [b], "weight_decay": 0.0}], lr=lr)
    history = np.empty((steps, X.shape[1]))
    for step in range(steps):
        opt.zero_grad()
        loss = torch.mean((yt - Xt @ w - b) ** 2)
        loss.backward()
        opt.step()
        history[step] = w.detach().numpy()
    return w.detach().numpy(), b.item(), history


def run(ctx):
    rng = ctx.rng(17)
    n, d, wd = ctx.n(300, 150), 4, 0.2
    X = rng.standard_normal((n, d))
    y = 0.5 + X @ np.array([2.0, -1.0, 0.5, 0.0]) + rng.standard_normal(n)
    w, b, history = sgd_with_weight_decay(X, y, wd, steps=ctx.n(3000, 1500))
    alpha = n * wd / 2  # d/dw [mean (y - Xw)^2] + wd w = 0  <=>  (X'X + (n wd / 2) I) w = X'y
    ridge = mm.LinearRegression(prior=mm.priors.ridge(alpha)).fit(X, y)
    wrong = mm.LinearRegression(prior=mm.priors.ridge(n * wd)).fit(X, y)
    mle = mm.LinearRegression().fit(X, y)
    prior_sd = ridge.scale_ / np.sqrt(alpha)

    fig, ax = plots.subplots(figsize=(7.5, 4.4))
    steps = np.arange(1, history.shape[0] + 1)
    for j in range(d):
        colour = plots.PALETTE[j % len(plots.PALETTE)]
        ax.plot(steps, history[:, j], color=colour, lw=1.8, label=f"w{j} under SGD(weight_decay={wd})")
        ax.axhline(ridge.coef_[j], color=colour, ls="--", lw=1)
        ax.plot(steps[-1], mle.coef_[j], marker="o", mfc="none", color=colour, ms=7)
    ax.plot([], [], color="0.3", ls="--", label=f"ridge MAP, alpha = n·wd/2 = {alpha:g}")
    ax.plot([], [], color="0.3", ls="", marker="o", mfc="none", label="MLE (no prior)")
    ax.set_xscale("log")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("weight")
    ax.set_title("weight decay converges to the ridge MAP, not to the MLE")
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    plots.tidy(ax)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("SGD weights = ridge MAP with alpha = n wd / 2", w, ridge.coef_, rtol=1e-8),
            close("unpenalised bias = ridge intercept", b, ridge.intercept_, rtol=1e-8),
            holds("alpha = n wd (a factor 2 off) does not match", np.max(np.abs(w - wrong.coef_)) > 1e-3,
                  float(np.max(np.abs(w - wrong.coef_))), "max difference > 1e-3"),
            holds("the decay shrinks the weights below the MLE", np.linalg.norm(w) < np.linalg.norm(mle.coef_),
                  [np.linalg.norm(w), np.linalg.norm(mle.coef_)], "|w_SGD| < |w_MLE|"),
        ],
        figures=[("Weights under full-batch SGD with weight decay (solid) settle on the ridge MAP (dashed), "
                  "not on the MLE (circles).", fig)],
        findings=[f"wd = {wd} on the mean squared error over n = {n} is ridge alpha = {alpha:g}: a Gaussian prior "
                  f"w_j ~ N(0, sigma^2/alpha), prior sd {prior_sd:.3f} at sigma-hat = {ridge.scale_:.3f}."],
    )


LESSON = Lesson(
    17, "weight_decay", "Weight decay is a Gaussian prior",
    r"$\nabla_w\left[\frac{1}{n}\|y - Xw\|^2\right] + \lambda_{wd}\, w = 0"
    r"\ \Leftrightarrow\ (X^\top X + \frac{n\lambda_{wd}}{2} I)\,w = X^\top y"
    r"\ \Leftrightarrow\ w_j \sim \mathcal{N}(0,\ 2\sigma^2/(n\lambda_{wd}))$",
    "SGD's weight_decay adds wd times the weights to every gradient, the gradient of (wd/2)|w|^2: a Gaussian "
    "log-prior. On a mean squared error over n points that is ridge regression with alpha = n wd / 2.",
    run,
)

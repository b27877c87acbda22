"""Lesson 25: Monte Carlo dropout against the Laplace posterior of the same linear model.

A linear model with (inverted) dropout of rate p on its inputs, trained on the mean squared error,
minimises in expectation

.. math:: \\frac1n\\sum_i \\mathrm E\\big(y_i - b - \\textstyle\\sum_j x_{ij} w_j \\delta_{ij}/(1-p)\\big)^2
          = \\frac1n\\Big[\\|y - b - Xw\\|^2 + \\frac{p}{1-p}\\sum_j w_j^2 \\sum_i x_{ij}^2\\Big],

so with columns scaled to :math:`\\sum_i x_{ij}^2 = n` its optimum is ridge with alpha = n p / (1 - p): the
MAP under a Gaussian prior. Keeping dropout on at prediction time and repeating the pass gives a
spread with variance :math:`\\frac{p}{1-p}\\sum_j x_j^2 w_j^2` (Gal and Ghahramani's MC dropout). The
Laplace posterior of the same ridge model gives the parameter uncertainty
:math:`\\tilde x^\\top \\Sigma_{post}\\,\\tilde x`. The first is set by p and the weights; the second shrinks like
1/sqrt(n): with sixteen times the data the posterior narrows about fourfold, the dropout spread not at all.
"""

import numpy as np
import torch

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

P = 0.2
TRUTH = np.array([1.5, -1.0, 0.5, 0.0, 2.0])
SIZES = (40, 640)
PASSES = 3000


def sample(n, rng):
    X = rng.standard_normal((n, TRUTH.size))
    X = X / np.sqrt(np.mean(X**2, axis=0))  # sum_i x_ij^2 = n
    return X, 1.0 + X @ TRUTH + rng.standard_normal(n)


def train_with_dropout(X, y, steps: int, seed: int):
    """SGD (decaying step) on the mean squared error of Dropout(p) -> Linear, full batch, fresh masks each step."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Dropout(P), torch.nn.Linear(X.shape[1], 1)).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    Xt, yt = torch.tensor(X), torch.tensor(y)[:, None]
    for t in range(steps):
        for group in opt.param_groups:
            group["lr"] = 0.05 / (1 + t / 200)
        opt.zero_grad()
        torch.mean((yt - model(Xt)) ** 2).backward()
        opt.step()
    return model


def mc_dropout(model, X_new, passes: int, seed: int) -> np.ndarray:
    """``passes`` stochastic forward passes with dropout on: shape (passes, rows)."""
    torch.manual_seed(seed)
    model.train()
    with torch.no_grad():
        x = torch.tensor(X_new).repeat(passes, 1)
        return model(x).reshape(passes, len(X_new)).numpy()


def run(ctx):
    rng = ctx.rng(25)
    X_new = rng.standard_normal((6, TRUTH.size))
    results = {}
    for n in SIZES:
        X, y = sample(n, rng)
        alpha = n * P / (1 - P)
        A = np.column_stack([X, np.ones(n)])
        closed = np.linalg.solve(A.T @ A + np.diag([alpha] * TRUTH.size + [0.0]), A.T @ y)
        ols = np.linalg.lstsq(A, y, rcond=None)[0]
        model = train_with_dropout(X, y, ctx.n(2000, 1200), seed=n)
        w = model[1].weight.detach().numpy().ravel()
        b = float(model[1].bias.detach())
        passes = mc_dropout(model, X_new, ctx.n(PASSES, 1500), seed=n + 1)
        ridge = mm.LinearRegression(prior=mm.priors.ridge(alpha)).fit(X, y)
        Xa = np.column_stack([X_new, np.ones(len(X_new))])
        laplace_sd = np.sqrt(np.einsum("ij,jk,ik->i", Xa, ridge.cov_.to_numpy(), Xa))
        results[n] = dict(closed=closed, ols=ols, trained=np.r_[w, b], passes=passes, ridge=ridge, laplace_sd=laplace_sd,
                          mc_mean=passes.mean(0), mc_sd=passes.std(0), plug=X_new @ w + b,
                          theory_sd=np.sqrt(P / (1 - P) * (X_new**2) @ (w**2)))
    small, large = results[SIZES[0]], results[SIZES[1]]
    n_passes = small["passes"].shape[0]
    mc_se = small["mc_sd"] / np.sqrt(n_passes)

    fig, axes = plots.subplots(1, 2, figsize=(13, 4.6), sharey=True)
    pos = np.arange(len(X_new))
    for ax, n in zip(axes, SIZES):
        r = results[n]
        ax.errorbar(pos - 0.12, r["mc_mean"], yerr=2 * r["mc_sd"], fmt="o", color=plots.PALETTE[1], capsize=4, lw=2,
                    label="MC dropout: mean ± 2 sd of the passes")
        ax.errorbar(pos + 0.12, r["ridge"].predict(X_new), yerr=2 * r["laplace_sd"], fmt="s", color=plots.PALETTE[0],
                    capsize=4, lw=2, label="Laplace posterior of the ridge MAP: ± 2 sd")
        ax.plot(pos, 1.0 + X_new @ TRUTH, "x", color="0.2", ms=8, label="true mean")
        ax.set_xticks(pos, [f"x*{i + 1}" for i in pos])
        ax.set_title(f"n = {n}, dropout p = {P} (ridge alpha {n * P / (1 - P):g})")
        plots.tidy(ax)
    axes[0].set_ylabel("prediction of the mean response")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, frameon=False, fontsize=10, loc="lower center", ncol=3)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    shrink_laplace = small["laplace_sd"] / large["laplace_sd"]
    shrink_mc = small["mc_sd"] / large["mc_sd"]
    return LessonOutput(
        checks=[
            close("mlemap ridge(alpha = n p/(1-p)) = the minimiser of the expected dropout loss (n = 40)",
                  np.r_[small["ridge"].coef_, small["ridge"].intercept_], small["closed"], rtol=1e-10),
            holds("SGD with dropout ends near it: 5x closer than to least squares",
                  all(np.max(np.abs(r["trained"] - r["closed"])) < 0.2 * np.max(np.abs(r["ols"] - r["closed"]))
                      for r in results.values()),
                  [float(np.max(np.abs(r["trained"] - r["closed"]))) for r in results.values()], "< 0.2 x |OLS - ridge|"),
            holds("MC-dropout mean = the deterministic pass (within 4 Monte Carlo SE)",
                  bool(np.all(np.abs(small["mc_mean"] - small["plug"]) < 4 * mc_se)),
                  np.abs(small["mc_mean"] - small["plug"]) / mc_se, "|z| < 4"),
            close("MC-dropout variance = p/(1-p) sum_j x_j^2 w_j^2", small["mc_sd"], small["theory_sd"],
                  rtol=5 / np.sqrt(2 * n_passes)),
            holds("16x the data: the Laplace sd narrows about 4x", bool(np.all((shrink_laplace > 2.5) & (shrink_laplace < 6.5))),
                  shrink_laplace, "between 2.5 and 6.5"),
            holds("... the MC-dropout sd much less (under half as much)", bool(np.all(shrink_mc < 0.5 * shrink_laplace)),
                  shrink_mc, "ratio < half the Laplace ratio"),
            holds("at n = 640 the dropout spread exceeds the posterior's at every point",
                  bool(np.all(large["mc_sd"] > 1.5 * large["laplace_sd"])), large["mc_sd"] / large["laplace_sd"], "> 1.5x"),
        ],
        figures=[("Predictions at six new points. MC dropout (circles) and the Laplace posterior of the matching ridge "
                  "model (squares) agree on the mean; their spreads do not measure the same thing: the posterior "
                  "narrows with sixteen times the data (right), the dropout spread stays.", fig)],
        findings=[f"Ratio of the n = 40 to the n = 640 spread: Laplace {np.round(shrink_laplace, 2).tolist()}, "
                  f"MC dropout {np.round(shrink_mc, 2).tolist()}. MC dropout's spread is the dropout noise of the "
                  "trained weights, p/(1-p) sum_j x_j^2 w_j^2, whatever the amount of data; read as a posterior it is "
                  "uncalibrated."],
    )


LESSON = Lesson(
    25, "mc_dropout", "MC dropout and the Laplace posterior",
    r"$\mathrm{E}_\delta\,\frac{1}{n}\|y - b - X(\delta\circ w)/(1-p)\|^2 = \frac{1}{n}\left[\|y-b-Xw\|^2 +"
    r" \frac{p}{1-p}\sum_j w_j^2\|x_j\|^2\right],\quad \mathrm{Var}_{MC}(x^\top w) = \frac{p}{1-p}\sum_j x_j^2w_j^2$",
    "Dropout on a linear model is ridge regression in expectation; repeated dropout passes give a spread that "
    "depends on the dropout rate, not on how much data there is, unlike the posterior of the same model.",
    run,
)

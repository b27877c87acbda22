"""Lesson 4: the Bernoulli negative log-likelihood of logistic regression is binary cross-entropy."""

import numpy as np
import torch
import torch.nn.functional as F

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, minimise


def bernoulli_nll(eta, y):
    """-sum[y log p + (1 - y) log(1 - p)] with p = sigmoid(eta), written out."""
    p = 1 / (1 + np.exp(-eta))
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))


def bce(eta, y):
    return float(F.binary_cross_entropy_with_logits(torch.tensor(eta), torch.tensor(y, dtype=torch.float64),
                                                    reduction="sum"))


def train_with_bce(x, y):
    """A one-feature 'network' trained on binary cross-entropy with torch's L-BFGS."""
    xt, yt = torch.tensor(x), torch.tensor(y, dtype=torch.float64)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    minimise([w], lambda: F.binary_cross_entropy_with_logits(w[0] + w[1] * xt, yt, reduction="mean"))
    return w.detach().numpy()


def run(ctx):
    rng = ctx.rng(4)
    n = ctx.n(500, 250)
    x = rng.normal(0, 1.5, n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-0.5 + 1.8 * x)))).astype(int)
    model = mm.LogisticRegression().fit(x[:, None], y)
    eta = model.decision_function(x[:, None])
    trained = train_with_bce(x, y)

    slopes = np.linspace(0.5, 3.5, 61)
    nll_curve = [bernoulli_nll(model.intercept_ + s * x, y) for s in slopes]
    bce_curve = [bce(model.intercept_ + s * x, y) for s in slopes]

    fig, (a, b) = plots.subplots(1, 2, figsize=(11, 4))
    jitter = rng.uniform(-0.03, 0.03, n)
    a.scatter(x, y + jitter, s=9, color=plots.PALETTE[0], alpha=0.5, label="labels (jittered)")
    grid = np.linspace(x.min(), x.max(), 200)
    a.plot(grid, model.predict_proba(grid[:, None])[:, 1], color=plots.PALETTE[1], lw=2, label="MLE  P(y = 1 | x)")
    a.set_xlabel("x")
    a.set_ylabel("y  /  probability")
    a.set_title("logistic regression by maximum likelihood")
    a.legend(frameon=False, loc="center right")
    plots.tidy(a)
    b.plot(slopes, nll_curve, color=plots.PALETTE[0], lw=4, alpha=0.5, label="Bernoulli NLL (written out)")
    b.plot(slopes, bce_curve, color=plots.PALETTE[1], lw=1.5, ls="--", label="binary_cross_entropy_with_logits")
    b.axvline(model.coef_[0], color="0.3", ls=":", label=f"MLE slope {model.coef_[0]:.3f}")
    b.set_xlabel("slope (intercept at its MLE)")
    b.set_ylabel("loss, summed over observations")
    b.set_title("two names, one curve")
    b.legend(frameon=False)
    plots.tidy(b)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("Bernoulli NLL = BCE with logits at the MLE", bce(eta, y), bernoulli_nll(eta, y), rtol=1e-12),
            close("... and over a grid of slopes", bce_curve, nll_curve, rtol=1e-12),
            close("-loglik_ of the fit = BCE", -model.loglik_, bce(eta, y), rtol=1e-12),
            close("torch trained on BCE reaches the MLE", trained, [model.intercept_, model.coef_[0]], rtol=1e-6),
            close("score zero: X'(y - p) = 0", model.predict_proba(x[:, None])[:, 1] @ np.column_stack([np.ones(n), x]),
                  y @ np.column_stack([np.ones(n), x]), rtol=1e-9),
        ],
        figures=[("The fitted probability curve (left); the written-out Bernoulli NLL and torch's BCE coincide "
                  "for every slope (right).", fig)],
        findings=[f"MLE: intercept {model.intercept_:.4f} ± {model.intercept_se_:.4f}, slope {model.coef_[0]:.4f} "
                  f"± {model.se_[0]:.4f} (truth -0.5, 1.8); BCE training gives {trained[0]:.6f}, {trained[1]:.6f}."],
    )


LESSON = Lesson(
    4, "logistic_regression", "Logistic regression: Bernoulli NLL = binary cross-entropy",
    r"$-\log L(\beta) = -\sum_i \left[y_i\log\sigma(x_i^\top\beta) + (1-y_i)\log(1-\sigma(x_i^\top\beta))\right]"
    r" = \mathrm{BCE}(X\beta, y)$",
    "The loss a classifier is trained with is the negative log-likelihood of a Bernoulli model for the labels: "
    "the same number, so the same parameters.",
    run,
)

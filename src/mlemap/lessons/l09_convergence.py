"""Lesson 9: with more data, MLE and MAP agree (the prior's pull fades like 1/n)."""

import numpy as np
import torch
import torch.distributions as td

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, holds


def run(ctx):
    true_p = 0.6
    prior = td.Beta(torch.tensor(10.0, dtype=torch.float64), torch.tensor(10.0, dtype=torch.float64))
    ns = [5, 10, 20, 50, 100, 500, 2000, 10000]
    rng = ctx.rng(9)
    flips = rng.binomial(1, true_p, ns[-1])
    mle, mapp, bound = [], [], []
    for n in ns:
        sample = flips[:n]
        mle.append(mm.fit("bernoulli", sample).params["probs"])
        mapp.append(mm.fit("bernoulli", sample, prior={"probs": prior}).params["probs"])
        bound.append(9 / (n + 18))  # |MAP - MLE| = |9n - 18h| / (n (n + 18)) <= 9 / (n + 18)
    gap = np.abs(np.array(mapp) - np.array(mle))
    se = np.sqrt(true_p * (1 - true_p) / ns[-1])
    fig, ax = plots.subplots(figsize=(7, 4.2))
    plots.estimates_vs_n(ns, {"MLE": mle, "MAP, Beta(10,10) prior": mapp}, truth=true_p, ax=ax)
    ax.set_title("MLE and MAP converge as the data grow")
    return LessonOutput(
        checks=[
            holds("|MAP - MLE| <= 9/(n+18) at every n", bool(np.all(gap <= np.array(bound) + 1e-15)),
                  [round(g, 5) for g in gap], "within the bound"),
            holds("the gap shrinks from n=5 to n=10000", gap[-1] < gap[0] / 50, [gap[0], gap[-1]], "last < first / 50"),
            holds("both within 3 SE of the truth at n=10000", abs(mle[-1] - true_p) < 3 * se and abs(mapp[-1] - true_p) < 3 * se,
                  [mle[-1], mapp[-1]], f"0.6 ± {3 * se:.4f}"),
        ],
        figures=[("With few flips the prior pulls the MAP toward 1/2; with many, both estimates settle on the truth.", fig)],
    )


LESSON = Lesson(
    9, "convergence", "MLE and MAP converge as data grow",
    r"$\hat p_{MAP} - \hat p_{MLE} = \frac{(a-1) - (a+b-2)\,\hat p_{MLE}}{N + a + b - 2} = O(1/N)$",
    "A Beta(10, 10) prior is worth 18 pseudo-observations: decisive for 5 flips, negligible for 10,000.",
    run,
)

"""Lesson 11: a Normal prior on a probability has no closed form; the rule of succession does."""

import numpy as np
import torch
import torch.distributions as td
from scipy import stats

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds


def run(ctx):
    data = np.array([0, 0, 1, 1, 0, 0, 1])
    h, n = int(data.sum()), data.size
    sd = np.sqrt(0.1)  # N(0.5, 0.1) read as mean 0.5, variance 0.1
    prior = td.Normal(torch.tensor(0.5, dtype=torch.float64), torch.tensor(sd, dtype=torch.float64))
    r = mm.fit("bernoulli", data, prior={"probs": prior})
    grid = np.linspace(1e-6, 1 - 1e-6, 2_000_001)
    log_post = h * np.log(grid) + (n - h) * np.log1p(-grid) + stats.norm.logpdf(grid, 0.5, sd)
    brute = grid[np.argmax(log_post)]
    theta = r.params["probs"]
    uniform = mm.fit("bernoulli", data, prior={"probs": td.Uniform(torch.tensor(0.0, dtype=torch.float64),
                                                                   torch.tensor(1.0, dtype=torch.float64))})
    fig, ax = plots.subplots(figsize=(6.5, 4))
    plots.prior_likelihood_posterior(r, ax=ax, title="Normal(0.5, 0.1) prior on a probability")
    return LessonOutput(
        checks=[
            holds("no closed form: solved numerically", r.method == "numerical", r.method, "numerical"),
            close("MAP against a grid search of the log-posterior", theta, brute, atol=1e-6),
            close("P(two tails | MAP) = (1 - theta)^2", float(r.distribution().log_prob(torch.zeros(2, dtype=torch.float64)).sum().exp()),
                  (1 - theta) ** 2, rtol=1e-12),
            close("uniform prior: P(next = heads) = (h+1)/(N+2)", float(uniform.predictive().probs), 4 / 9, rtol=1e-12),
        ],
        figures=[("A Normal prior centred on a fair coin pulls the estimate from 3/7 toward 1/2.", fig)],
        findings=[f"MAP theta = {theta:.6f}; P(two tails) = {(1 - theta) ** 2:.6f}; "
                  "under a uniform prior the next toss is heads with probability 4/9 (Laplace's rule of succession)."],
    )


LESSON = Lesson(
    11, "nonconjugate", "A non-conjugate prior, and the rule of succession",
    r"$\hat\theta = \arg\max_\theta\ h\log\theta + (N-h)\log(1-\theta) - \frac{(\theta-0.5)^2}{2\cdot 0.1};\quad P(x_{N+1}=1\mid D) = \frac{h+1}{N+2}$",
    "Any prior works numerically; a uniform prior gives the posterior predictive in closed form.",
    run,
)

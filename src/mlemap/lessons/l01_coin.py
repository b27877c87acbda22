"""Lesson 1: the MLE of a coin is heads over tosses, and a gradient method on the logit finds it."""

import numpy as np
import torch
import torch.distributions as td

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds


def run(ctx):
    flips = mm.datasets.load("coin_flips")["heads"].to_numpy()
    h, n = int(flips.sum()), flips.size
    closed = mm.fit("bernoulli", flips)
    numerical = mm.fit("bernoulli", flips, method="numerical", init={"probs": 0.5})

    # Adam (a gradient method) minimising the NLL over the unconstrained logit theta, p = sigmoid(theta)
    data = torch.tensor(flips, dtype=torch.float64)
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=0.1)
    history = []
    for _ in range(ctx.n(600, 300)):
        nll = -td.Bernoulli(logits=theta).log_prob(data).sum()
        opt.zero_grad()
        nll.backward()
        opt.step()
        history.append(nll.item())
    p_adam = torch.sigmoid(theta).item()

    grid = np.linspace(0.01, 0.99, 99)
    ll = np.array([closed.log_likelihood_at(probs=p) for p in grid])
    curvature = np.diff(ll, 2)

    fig, (a, b) = plots.subplots(1, 2, figsize=(11, 3.8))
    a.plot(history, color=plots.PALETTE[0])
    a.set_xlabel("Adam step")
    a.set_ylabel("negative log-likelihood")
    a.set_title("Adam minimises the NLL over the logit")
    plots.tidy(a)
    plots.loglik_curve(closed, ax=b)
    b.set_title("the coin's log-likelihood is concave")
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("closed form h/N", closed.params["probs"], h / n, rtol=1e-15),
            close("Newton route", numerical.params["probs"], h / n, rtol=1e-9),
            close("Adam on the logit reaches h/N", p_adam, h / n, rtol=1e-4),
            holds("log-likelihood concave on (0, 1)", bool(np.all(curvature < 0)), float(curvature.max()), "all second differences < 0"),
        ],
        figures=[("Adam steps on the logit drive the negative log-likelihood down (left) to the peak of the concave "
                  "log-likelihood (right): minimising the NLL is maximising the likelihood.", fig)],
        findings=[f"{h} heads in {n} tosses: the MLE is {h}/{n} = {h / n:g}; Adam on the logit reaches {p_adam:.6f}."],
    )


LESSON = Lesson(
    1, "coin_mle", "Coin MLE: heads over tosses",
    r"$\hat p = \arg\max_p\ h\log p + (N-h)\log(1-p) = h/N$",
    "The Bernoulli log-likelihood is concave in p; its maximum is the fraction of heads, found in closed form, "
    "by Newton's method and by Adam (a gradient method) on the logit.",
    run,
)

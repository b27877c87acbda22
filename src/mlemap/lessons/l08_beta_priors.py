"""Lesson 8: three heads in three flips, with no prior, a weak and a strong Beta prior."""

import torch
import torch.distributions as td

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds


def beta(a, b):
    return td.Beta(torch.tensor(float(a), dtype=torch.float64), torch.tensor(float(b), dtype=torch.float64))


def run(ctx):
    flips = [1, 1, 1]
    mle = mm.fit("bernoulli", flips)
    fits = {name: mm.fit("bernoulli", flips, prior={"probs": beta(a, b)})
            for name, (a, b) in {"uniform Beta(1,1)": (1, 1), "weak Beta(2,2)": (2, 2), "strong Beta(10,10)": (10, 10)}.items()}
    fig, axs = plots.subplots(1, 3, figsize=(14, 4.4))
    for ax, (name, r) in zip(axs, fits.items()):
        plots.prior_likelihood_posterior(r, ax=ax, title=f"{name}: MAP = {r.params['probs']:.3g}")
        handles = ax.get_legend().legend_handles
        ax.get_legend().remove()
    fig.legend(handles, ["prior", "likelihood", "posterior", "MLE = 1", "MAP"], loc="lower center", ncol=5,
               frameon=False, fontsize=11)
    fig.suptitle("MLE versus MAP after 3 heads in 3 flips")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    post = fits["weak Beta(2,2)"].posterior["probs"]
    return LessonOutput(
        checks=[
            close("MLE", mle.params["probs"], 1.0, rtol=0),
            holds("MLE flagged on the boundary", "probs" in mle.boundary, sorted(mle.boundary), "['probs']"),
            close("MAP, uniform prior = MLE", fits["uniform Beta(1,1)"].params["probs"], 1.0, rtol=0),
            close("MAP, Beta(2,2): mode of Beta(5,2)", fits["weak Beta(2,2)"].params["probs"], 0.8, rtol=1e-14),
            close("MAP, Beta(10,10): mode of Beta(13,10)", fits["strong Beta(10,10)"].params["probs"], 12 / 21, rtol=1e-14),
            close("exact posterior Beta(5, 2)", [float(post.concentration1), float(post.concentration0)], [5, 2], rtol=0),
            holds("stronger prior pulls harder toward 1/2", 12 / 21 < 0.8 < 1.0,
                  [round(r.params["probs"], 4) for r in fits.values()], "1 > 0.8 > 0.571"),
        ],
        figures=[("Prior (dashed), likelihood (dotted) and posterior (solid), each scaled to a peak of 1.", fig)],
        findings=[
            "Under Beta(10, 10) the posterior is Beta(13, 10), whose mode is 12/21 = 0.571 (not 0.60): the prior "
            "adds 9 pseudo-heads and 9 pseudo-tails to the data's 3 heads.",
            f"The MLE says the coin always lands heads; MAP with a Beta(2, 2) prior says {0.8:g}.",
        ],
    )


LESSON = Lesson(
    8, "beta_priors", "Coin with Beta priors: three heads in three flips",
    r"$\hat p_{MAP} = \frac{h + a - 1}{N + a + b - 2},\quad p\mid D \sim \mathrm{Beta}(a + h,\ b + N - h)$",
    "The Beta prior is conjugate: the posterior is exact, and its mode is the MAP.",
    run,
)

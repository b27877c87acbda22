"""Lesson 10: a discrete prior over two candidate coins and its posterior table."""

import numpy as np

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close


def run(ctx):
    flips = [1, 1, 1, 1, 0]  # four heads, one tail
    candidates, prior = np.array([0.5, 0.8]), np.array([0.7, 0.3])
    r = mm.fit("bernoulli", flips, prior={"probs": mm.DiscretePrior(candidates, prior)})
    likelihood = candidates**4 * (1 - candidates)
    joint = prior * likelihood
    posterior = joint / joint.sum()
    fig, ax = plots.subplots(figsize=(6, 3.8))
    width = 0.35
    pos = np.arange(2)
    ax.bar(pos - width / 2, prior, width, label="prior", color=plots.PALETTE[2])
    ax.bar(pos + width / 2, r.posterior["probs"].probs.numpy(), width, label="posterior", color=plots.PALETTE[1])
    ax.set_xticks(pos, [f"p = {c}" for c in candidates])
    ax.set_ylabel("probability")
    ax.legend(frameon=False)
    plots.tidy(ax)
    rows = [f"p = {c}: prior {p:.2f} × likelihood {lik:.5f} = {j:.5f} → posterior {q:.4f}"
            for c, p, lik, j, q in zip(candidates, prior, likelihood, joint, posterior)]
    return LessonOutput(
        checks=[
            close("posterior probabilities", r.posterior["probs"].probs.numpy(), posterior, rtol=1e-12),
            close("MAP candidate", r.params["probs"], candidates[np.argmax(posterior)], rtol=0),
            close("predictive P(heads)", float(r.predictive().mean), posterior @ candidates, rtol=1e-12),
        ],
        figures=[("Four heads in five flips move belief from the fair coin to the biased one.", fig)],
        findings=rows + ["The MLE would say 0.8 with certainty; the posterior keeps "
                         f"{posterior[0]:.0%} on the fair coin."],
    )


LESSON = Lesson(
    10, "discrete_prior", "A discrete prior over two candidate coins",
    r"$P(p_k\mid D) = \frac{\pi_k\, p_k^h (1-p_k)^{N-h}}{\sum_j \pi_j\, p_j^h (1-p_j)^{N-h}}$",
    "With finitely many candidate values, Bayes' rule is a table; the MAP is its largest row.",
    run,
)

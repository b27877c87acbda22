"""Lesson 15: all heads puts the MLE on the boundary; a Beta(2, 2) prior keeps it inside."""

import math

import numpy as np
import torch
import torch.distributions as td
from scipy import stats

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds


def run(ctx):
    flips = np.ones(10)
    mle = mm.fit("bernoulli", flips)
    prior = td.Beta(torch.tensor(2.0, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))
    mapp = mm.fit("bernoulli", flips, prior={"probs": prior})
    lo, hi = mle.conf_int(method="profile")["probs"]
    expected_lo = math.exp(-stats.chi2.ppf(0.95, 1) / (2 * flips.size))
    fig, (a, b) = plots.subplots(1, 2, figsize=(12, 4))
    plots.loglik_curve(mle, ax=a, grid=np.linspace(0.5, 1.0, 300))
    a.axvspan(lo, hi, color=plots.PALETTE[2], alpha=0.2, label="95% profile interval")
    a.legend(frameon=False)
    a.set_title("ten heads: the likelihood rises all the way to p = 1")
    plots.prior_likelihood_posterior(mapp, ax=b, title="a Beta(2, 2) prior keeps the estimate inside")
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("MLE exactly on the boundary", mle.params["probs"], 1.0, rtol=0),
            holds("flagged, with the reason", "probs" in mle.boundary, mle.boundary.get("probs", ""), "a boundary note"),
            holds("standard error undefined (not a huge number)", math.isnan(mle.se["probs"]) and "probs" in mle.se_reasons,
                  mle.se["probs"], "nan, with a reason"),
            close("profile interval [exp(-chi2/(2n)), 1]", [lo, hi], [expected_lo, 1.0], rtol=1e-9),
            close("MAP = (10 + 1) / (10 + 2)", mapp.params["probs"], 11 / 12, rtol=1e-14),
            holds("MAP standard error finite", math.isfinite(mapp.se["probs"]), mapp.se["probs"], "finite"),
        ],
        figures=[("The boundary MLE has no Wald interval but a profile interval; the prior's MAP is interior.", fig)],
    )


LESSON = Lesson(
    15, "boundary", "MLE on the boundary, and a prior that keeps it inside",
    r"$\ell(p) = N\log p \nearrow \ \Rightarrow\ \hat p = 1;\quad \hat p_{MAP} = \frac{N + 1}{N + 2}\ \ \mathrm{under\ Beta}(2,2)$",
    "All heads: the estimate is returned exactly, flagged, and its standard error is undefined rather than huge.",
    run,
)

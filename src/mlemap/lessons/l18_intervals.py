"""Lesson 18: three ways to an interval for an exponential rate from a small skewed sample."""

import numpy as np
from scipy import stats

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds


def run(ctx):
    x = ctx.rng(18).exponential(2.0, 12)  # rate 0.5
    r = mm.fit("exponential", x)
    rate = r.params["rate"]
    wald = r.conf_int(method="wald")["rate"]
    profile = r.conf_int(method="profile")["rate"]
    boot = r.conf_int(method="bootstrap", n_boot=ctx.n(2000, 300), seed=18)["rate"]
    boot_again = r.conf_int(method="bootstrap", n_boot=ctx.n(2000, 300), seed=18)["rate"]
    n, s = x.size, x.sum()
    # exact: 2 * rate * sum(x) ~ chi2(2n), the pivot the profile and bootstrap approximate
    exact = (stats.chi2.ppf(0.025, 2 * n) / (2 * s), stats.chi2.ppf(0.975, 2 * n) / (2 * s))
    fig, (a, b) = plots.subplots(1, 2, figsize=(12, 4))
    names = ["Wald", "profile", "bootstrap", "exact (chi-square pivot)"]
    for i, (lo, hi) in enumerate([wald, profile, boot, exact]):
        a.plot([lo, hi], [i, i], "-", linewidth=4, color=plots.PALETTE[i + 1])
    a.axvline(rate, color="0.3", linestyle="--", label=f"MLE {rate:.3f}")
    a.set_yticks(range(4), names)
    a.set_xlabel("rate")
    a.legend(frameon=False)
    plots.tidy(a)
    plots.loglik_curve(r, ax=b, grid=np.linspace(0.05, 1.6, 300))
    cut = r.loglik - stats.chi2.ppf(0.95, 1) / 2
    b.axhline(cut, color=plots.PALETTE[2], linestyle=":", label="max - chi2(0.95)/2")
    b.set_ylim(cut - 6, r.loglik + 1)
    b.legend(frameon=False)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("Wald is symmetric about the MLE", rate - wald[0], wald[1] - rate, rtol=1e-12),
            holds("profile follows the skew (longer to the right)", profile[1] - rate > rate - profile[0],
                  [round(rate - profile[0], 4), round(profile[1] - rate, 4)], "upper arm longer"),
            close("profile end points solve 2(l_max - l) = chi2(0.95)",
                  [2 * (r.loglik - r.log_likelihood_at(rate=v)) for v in profile], [stats.chi2.ppf(0.95, 1)] * 2, rtol=1e-8),
            holds("bootstrap reproducible with a seed", boot == boot_again, boot, "same interval twice"),
            holds("profile closer to the exact interval than Wald",
                  abs(profile[0] - exact[0]) + abs(profile[1] - exact[1]) < abs(wald[0] - exact[0]) + abs(wald[1] - exact[1]),
                  [round(v, 4) for v in profile], f"exact {exact[0]:.4f}, {exact[1]:.4f}"),
        ],
        figures=[("Wald is symmetric; the profile interval and the bootstrap follow the likelihood's skew.", fig)],
    )


LESSON = Lesson(
    18, "intervals", "Three ways to an interval: Wald, profile, bootstrap",
    r"$\hat\lambda \pm z\,\mathrm{SE},\quad \{\lambda: 2(\ell(\hat\lambda)-\ell(\lambda)) \leq \chi^2_{1,0.95}\},\quad \mathrm{percentiles\ of\ }\hat\lambda^*$",
    "Twelve exponential waiting times: the likelihood of the rate is skewed, so the three intervals disagree.",
    run,
)

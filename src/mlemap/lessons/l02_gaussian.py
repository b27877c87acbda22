"""Lesson 2: the Gaussian MLE is the sample mean and the biased (1/n) variance."""

import numpy as np

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds


def run(ctx):
    mu, sigma = 5.0, 2.0
    x = ctx.rng(42).normal(mu, sigma, 100)
    n = x.size
    r = mm.fit("normal", x)
    s_hat = r.params["scale"]
    # score at the MLE by central differences of the log-likelihood (zero at the maximum)
    h = 1e-5
    score = [
        (r.log_likelihood_at(loc=r.params["loc"] + h) - r.log_likelihood_at(loc=r.params["loc"] - h)) / (2 * h),
        (r.log_likelihood_at(scale=s_hat + h) - r.log_likelihood_at(scale=s_hat - h)) / (2 * h),
    ]
    information = np.linalg.inv(r.cov)  # observed information in (loc, scale)
    expected = np.diag([n / s_hat**2, 2 * n / s_hat**2])
    # coverage of the 95% Wald intervals over repeated samples (one sample covers or not by chance)
    reps = ctx.n(400, 120)
    sim = ctx.rng(2024)
    covered = np.zeros(2)
    for _ in range(reps):
        ci = mm.fit("normal", sim.normal(mu, sigma, n)).conf_int()
        covered += [ci["loc"][0] < mu < ci["loc"][1], ci["scale"][0] < sigma < ci["scale"][1]]
    coverage = covered / reps

    fig, (a, b) = plots.subplots(1, 2, figsize=(12, 4.6))
    plots.loglik_contour(r, ax=a, truth=(mu, sigma))
    a.set_title("log-likelihood over (mu, sigma)")
    plots.density(r, ax=b, label=f"MLE N({r.params['loc']:.2f}, {s_hat:.2f}²)")
    grid = np.linspace(x.min() - 1, x.max() + 1, 200)
    b.plot(grid, np.exp(-((grid - mu) ** 2) / (2 * sigma**2)) / (sigma * np.sqrt(2 * np.pi)), "--", color="0.3",
           label="true N(5, 2²)")
    b.legend(frameon=False)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("mu_hat = sample mean", r.params["loc"], x.mean(), rtol=1e-14),
            close("sigma_hat^2 = (1/n) sum (x - mean)^2", s_hat**2, x.var(ddof=0), rtol=1e-13),
            close("biased / unbiased variance = (n-1)/n", s_hat**2 / x.var(ddof=1), (n - 1) / n, rtol=1e-13),
            close("score at the MLE", score, [0.0, 0.0], atol=1e-6),
            close("observed information = diag(n/s^2, 2n/s^2)", information, expected, rtol=1e-8),
            holds(f"95% Wald intervals cover the truth in ~95% of {reps} samples", bool(np.all(np.abs(coverage - 0.95) < 0.05)),
                  coverage, "coverage within 0.95 ± 0.05 for mu and sigma"),
        ],
        figures=[("The log-likelihood surface peaks at the MLE (star), near the truth (circle); the fitted density.", fig)],
        findings=[
            f"MLE: mu = {r.params['loc']:.4f}, sigma = {s_hat:.4f}; the unbiased sigma would be {x.std(ddof=1):.4f}.",
            f"Over {reps} fresh samples of 100, the 95% intervals covered mu {coverage[0]:.1%} and sigma {coverage[1]:.1%} "
            "of the time.",
        ],
    )


LESSON = Lesson(
    2, "gaussian_mle", "Gaussian MLE: mean and the 1/n variance",
    r"$\hat\mu = \bar x,\quad \hat\sigma^2 = \frac{1}{n}\sum_i (x_i-\bar x)^2,\quad I(\hat\mu,\hat\sigma) = \mathrm{diag}(n/\hat\sigma^2,\ 2n/\hat\sigma^2)$",
    "The score vanishes at the MLE; the curvature there (the observed information) gives the standard errors.",
    run,
)

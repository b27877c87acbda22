"""Lesson 2: the Gaussian MLE is the sample mean and the biased (1/n) variance."""

import numpy as np
from scipy import stats

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds


def run(ctx):
    mu, sigma = 5.0, 2.0
    x = ctx.rng(40).normal(mu, sigma, 100)
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
    se = r.se
    z = [(r.params["loc"] - mu) / se["loc"], (s_hat - sigma) / se["scale"]]
    ci = r.conf_int()
    # coverage of the 95% Wald intervals over repeated samples (one sample covers or not by chance)
    reps = ctx.n(400, 120)
    sim = ctx.rng(2024)
    covered = np.zeros(2)
    for _ in range(reps):
        ci_rep = mm.fit("normal", sim.normal(mu, sigma, n)).conf_int()
        covered += [ci_rep["loc"][0] < mu < ci_rep["loc"][1], ci_rep["scale"][0] < sigma < ci_rep["scale"][1]]
    coverage = covered / reps

    fig, (a, b) = plots.subplots(1, 2, figsize=(12, 4.6))
    window = [(r.params["loc"] - 4.5 * se["loc"], r.params["loc"] + 4.5 * se["loc"]),
              (s_hat - 4.5 * se["scale"], s_hat + 4.5 * se["scale"])]
    plots.loglik_contour(r, ax=a, truth=(mu, sigma), ranges=window)
    A, B = np.meshgrid(np.linspace(*window[0], 150), np.linspace(*window[1], 150))
    region = r.loglik - stats.chi2.ppf(0.95, 2) / 2  # the joint 95% likelihood-ratio region
    a.contour(A, B, plots.loglik_grid(r, {"loc": A, "scale": B}), levels=[region], colors="white", linewidths=1.6,
              linestyles="solid")
    a.errorbar(r.params["loc"], s_hat, xerr=1.96 * se["loc"], yerr=1.96 * se["scale"], color="white", lw=1.2,
               capsize=4, zorder=1)
    a.plot([], [], color="white", lw=1.6, label="95% region; bars: 95% Wald")
    a.legend(frameon=True, loc="upper right", fontsize=10, facecolor="0.8", framealpha=0.9)  # the white curve shows
    a.set_title("log-likelihood over (mu, sigma)")
    plots.density(r, ax=b, label=f"MLE N({r.params['loc']:.2f}, {s_hat:.2f}²)")
    grid = np.linspace(x.min() - 1, x.max() + 1, 200)
    b.plot(grid, stats.norm.pdf(grid, mu, sigma), "--", color="0.3", label="true N(5, 2²)")
    b.legend(frameon=False, fontsize=10)
    fig.tight_layout()
    inside = bool(r.log_likelihood_at(loc=mu, scale=sigma) > region)
    where = "inside" if inside else "outside"
    caption = (f"The MLE (star) is {abs(z[0]):.1f} standard errors from the true mu and {abs(z[1]):.1f} from the true "
               f"sigma (circle), {where} the 95% likelihood region (white curve); the bars are the 95% Wald "
               "intervals. Right: the fitted and the true density over the sample.")
    return LessonOutput(
        checks=[
            close("mu_hat = sample mean", r.params["loc"], x.mean(), rtol=1e-14),
            close("sigma_hat^2 = (1/n) sum (x - mean)^2", s_hat**2, x.var(ddof=0), rtol=1e-13),
            close("biased / unbiased variance = (n-1)/n", s_hat**2 / x.var(ddof=1), (n - 1) / n, rtol=1e-13),
            close("score at the MLE", score, [0.0, 0.0], atol=1e-6),
            close("observed information = diag(n/s^2, 2n/s^2)", information, expected, rtol=1e-8),
            close("Wald interval = estimate ± 1.96 SE", [ci["scale"][0], ci["scale"][1]],
                  [s_hat - stats.norm.ppf(0.975) * se["scale"], s_hat + stats.norm.ppf(0.975) * se["scale"]], rtol=1e-12),
            holds(f"95% Wald intervals cover the truth in ~95% of {reps} samples", bool(np.all(np.abs(coverage - 0.95) < 0.05)),
                  coverage, "coverage within 0.95 ± 0.05 for mu and sigma"),
        ],
        figures=[(caption, fig)],
        findings=[
            f"MLE: mu = {r.params['loc']:.4f} ± {se['loc']:.4f}, sigma = {s_hat:.4f} ± {se['scale']:.4f}; the unbiased "
            f"sigma would be {x.std(ddof=1):.4f}.",
            f"Over {reps} fresh samples of 100, the 95% intervals covered mu {coverage[0]:.1%} and sigma {coverage[1]:.1%} "
            "of the time: any one sample may miss.",
        ],
    )


LESSON = Lesson(
    2, "gaussian_mle", "Gaussian MLE: mean and the 1/n variance",
    r"$\hat\mu = \bar x,\quad \hat\sigma^2 = \frac{1}{n}\sum_i (x_i-\bar x)^2,\quad I(\hat\mu,\hat\sigma) = \mathrm{diag}(n/\hat\sigma^2,\ 2n/\hat\sigma^2)$",
    "The score vanishes at the MLE; the curvature there (the observed information) gives the standard errors.",
    run,
)

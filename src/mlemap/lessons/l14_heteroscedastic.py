"""Lesson 14: with known, unequal noise variances the MLE is weighted least squares with w = 1/sigma^2."""

import numpy as np
import torch

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds, minimise


def noise_sd(x):
    return 0.2 + 0.6 * x


def heteroscedastic_mle(design, y, sd):
    """Maximise prod_i N(y_i | x_i'beta, sd_i^2) over beta with torch's L-BFGS (no weights anywhere)."""
    Xt, yt, st = torch.tensor(design), torch.tensor(y), torch.tensor(sd)
    beta = torch.zeros(design.shape[1], dtype=torch.float64, requires_grad=True)
    minimise([beta], lambda: -torch.distributions.Normal(Xt @ beta, st).log_prob(yt).sum())
    return beta.detach().numpy()


def gaussian_loglik(y, mean, sd):
    return float(np.sum(-0.5 * np.log(2 * np.pi * sd ** 2) - (y - mean) ** 2 / (2 * sd ** 2)))


def run(ctx):
    rng = ctx.rng(14)
    n = ctx.n(200, 120)
    x = rng.uniform(0, 4, n)
    sd = noise_sd(x)
    w = 1 / sd ** 2
    y = 1.0 + 2.0 * x + sd * rng.standard_normal(n)
    X, design = x[:, None], np.column_stack([np.ones(n), x])

    wls = mm.LinearRegression().fit(X, y, sample_weight=w)
    ols = mm.LinearRegression().fit(X, y)
    closed = np.linalg.solve(design.T @ (w[:, None] * design), design.T @ (w * y))
    direct = heteroscedastic_mle(design, y, sd)

    # replications of the experiment: both estimators are linear in y (their equality with mlemap's fits is
    # checked above), so all replications are solved at once
    reps = ctx.n(400, 150)
    Y = 1.0 + 2.0 * x[:, None] + sd[:, None] * rng.standard_normal((n, reps))
    wls_all = np.linalg.solve(design.T @ (w[:, None] * design), design.T @ (w[:, None] * Y))
    ols_all = np.linalg.lstsq(design, Y, rcond=None)[0]
    slopes = np.column_stack([wls_all[1], ols_all[1]])
    var_wls, var_ols = slopes.var(axis=0)
    theory_wls = np.linalg.inv(design.T @ (w[:, None] * design))[1, 1]  # Cov = (X'WX)^-1 with known variances

    fig, (a, b) = plots.subplots(1, 2, figsize=(11.5, 4.2))
    order = np.argsort(x)
    mean = wls.predict(X)
    a.fill_between(x[order], (mean - 2 * sd)[order], (mean + 2 * sd)[order], color=plots.PALETTE[0], alpha=0.12,
                   label="± 2 sigma(x), the known noise")
    a.scatter(x, y, s=10, color=plots.PALETTE[0], alpha=0.7, label="data")
    a.plot(x[order], mean[order], color=plots.PALETTE[2], lw=2, label="MLE = weighted least squares")
    a.plot(x[order], ols.predict(X)[order], color=plots.PALETTE[1], lw=1.5, ls="--", label="ordinary least squares")
    a.set_xlabel("x")
    a.set_ylabel("y")
    a.set_title("noise growing with x")
    a.legend(frameon=False, fontsize=8.5, loc="upper left")
    plots.tidy(a)
    bins = np.linspace(slopes.min(), slopes.max(), 40)
    b.hist(slopes[:, 1], bins=bins, color=plots.PALETTE[1], alpha=0.45, label=f"OLS slope, sd {np.sqrt(var_ols):.3f}")
    b.hist(slopes[:, 0], bins=bins, color=plots.PALETTE[2], alpha=0.55, label=f"WLS slope, sd {np.sqrt(var_wls):.3f}")
    b.axvline(2.0, color="0.3", ls=":", label="true slope 2")
    b.set_xlabel("estimated slope")
    b.set_ylabel("replications")
    b.set_title(f"{reps} replications of the experiment")
    b.legend(frameon=False, fontsize=8.5)
    plots.tidy(b)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("sample_weight=1/sigma^2 gives (X'WX)^-1 X'Wy", [wls.intercept_, wls.coef_[0]], closed, rtol=1e-10),
            close("maximising the heteroscedastic likelihood directly agrees", direct, closed, rtol=1e-6),
            holds("the WLS fit has the higher likelihood under the known noise",
                  gaussian_loglik(y, wls.predict(X), sd) > gaussian_loglik(y, ols.predict(X), sd),
                  gaussian_loglik(y, wls.predict(X), sd) - gaussian_loglik(y, ols.predict(X), sd), "difference > 0"),
            holds("WLS slope varies less than OLS across replications", var_wls < 0.8 * var_ols,
                  var_wls / var_ols, "variance ratio < 0.8"),
            close("its variance matches (X'WX)^-1", var_wls, theory_wls, rtol=0.25),
        ],
        figures=[("Left: WLS (the MLE) and OLS on one sample; right: over many samples both are unbiased but the "
                  "MLE is more precise.", fig)],
        findings=[f"Slope variance over {reps} replications: WLS {var_wls:.2e}, OLS {var_ols:.2e} "
                  f"(theory for WLS {theory_wls:.2e})."],
    )


LESSON = Lesson(
    14, "heteroscedastic", "Heteroscedastic noise: the MLE is weighted least squares",
    r"$-\log L(\beta) = \sum_i \frac{(y_i - x_i^\top\beta)^2}{2\sigma_i^2} + c"
    r"\ \Rightarrow\ \hat\beta = (X^\top W X)^{-1}X^\top W y,\ W = \mathrm{diag}(1/\sigma_i^2)$",
    "When the noise variance changes from point to point and is known, each squared residual is divided by its "
    "own variance: the MLE downweights the noisy points, which OLS cannot do.",
    run,
)

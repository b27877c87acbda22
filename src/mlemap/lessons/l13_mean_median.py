"""Lesson 13: squared error is the Gaussian NLL, absolute error the Laplace NLL; outliers tell them apart."""

import numpy as np
from sklearn.linear_model import QuantileRegressor

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds


def run(ctx):
    rng = ctx.rng(13)
    n = ctx.n(300, 150)
    x = rng.uniform(0, 10, n)
    y = 1.0 + 2.0 * x + rng.normal(0, 1.0, n)
    outliers = rng.choice(n, size=n // 10, replace=False)
    y[outliers] += rng.uniform(15, 40, outliers.size)  # a tenth of the responses pushed far up
    X = x[:, None]

    mean_fit = mm.LinearRegression().fit(X, y)
    median_fit = mm.LaplaceRegression().fit(X, y)
    design = np.column_stack([np.ones(n), x])
    ols = np.linalg.lstsq(design, y, rcond=None)[0]
    lad = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    resid_abs = np.abs(y - median_fit.predict(X))
    b_hat = resid_abs.mean()  # the MLE of the Laplace scale given the coefficients
    sigma2 = mean_fit.scale_ ** 2
    rss = np.sum((y - mean_fit.predict(X)) ** 2)

    fig, ax = plots.subplots(figsize=(8, 5.4))
    clean = np.setdiff1d(np.arange(n), outliers)
    ax.scatter(x[clean], y[clean], s=10, color=plots.PALETTE[0], alpha=0.6, label="data")
    ax.scatter(x[outliers], y[outliers], s=16, color="0.35", marker="x", label="outliers")
    grid = np.linspace(0, 10, 50)
    ax.plot(grid, 1 + 2 * grid, color="0.3", ls=":", lw=1.5, label="truth: 1 + 2x")
    ax.plot(grid, mean_fit.predict(grid[:, None]), color=plots.PALETTE[1], lw=2,
            label=f"Gaussian MLE (mean, squared error): slope {mean_fit.coef_[0]:.2f}")
    ax.plot(grid, median_fit.predict(grid[:, None]), color=plots.PALETTE[2], lw=2,
            label=f"Laplace MLE (median, absolute error): slope {median_fit.coef_[0]:.2f}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("mean versus median regression")
    ax.legend(frameon=False, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    plots.tidy(ax)
    fig.tight_layout()

    # the course's small example: residuals of five predictions; the Gaussian MLE of the variance (mean zero) is
    # the MSE, the Laplace MLE of the scale (location zero) is the MAE
    residuals = np.array([2.3, 2.5, 3.1, 3.8, 2.7]) - np.array([2.4, 2.6, 3.0, 3.7, 2.8])
    gauss = mm.fit("normal", residuals, fixed={"loc": 0.0})
    laplace = mm.fit("laplace", residuals, fixed={"loc": 0.0})
    mse, mae = np.mean(residuals**2), np.mean(np.abs(residuals))
    return LessonOutput(
        checks=[
            close("Gaussian MLE = least squares", [mean_fit.intercept_, mean_fit.coef_[0]], ols, rtol=1e-10),
            close("Gaussian NLL = RSS/(2 sigma^2) + n/2 log(2 pi sigma^2)", -mean_fit.loglik_,
                  rss / (2 * sigma2) + n / 2 * np.log(2 * np.pi * sigma2), rtol=1e-12),
            close("Laplace MLE = least absolute deviations (sklearn QuantileRegressor, HiGHS)",
                  [median_fit.intercept_, median_fit.coef_[0]], [lad.intercept_, lad.coef_[0]], rtol=1e-6),
            close("Laplace NLL = sum|r|/b + n log(2b), b-hat = mean|r|", -median_fit.loglik_,
                  resid_abs.sum() / b_hat + n * np.log(2 * b_hat), rtol=1e-9),
            holds("the median line stays near the truth, the mean line is pulled",
                  abs(median_fit.coef_[0] - 2) < 0.1 and abs(mean_fit.intercept_ - 1) > 2 * abs(median_fit.intercept_ - 1),
                  [median_fit.intercept_, mean_fit.intercept_], "median intercept near 1; mean intercept off by > 2x"),
            close("course example: Gaussian MLE of sigma^2 = MSE = 0.01", gauss.params["scale"] ** 2, mse, rtol=1e-12),
            close("... likelihood at it = (2 pi MSE)^(-n/2) e^(-n/2) = 82.9496", np.exp(gauss.loglik),
                  (2 * np.pi * mse) ** -2.5 * np.exp(-2.5), rtol=1e-10),
            close("course example: Laplace MLE of b = MAE = 0.1", laplace.params["scale"], mae, rtol=1e-12),
            close("... likelihood at it = (2 MAE)^(-n) e^(-n) = 21.0561", np.exp(laplace.loglik),
                  (2 * mae) ** -5 * np.exp(-5), rtol=1e-10),
        ],
        figures=[("A tenth of the points are outliers: squared error (Gaussian likelihood) chases them, absolute "
                  "error (Laplace likelihood) does not.", fig)],
        findings=[f"Mean regression: {mean_fit.intercept_:.3f} + {mean_fit.coef_[0]:.3f} x; median regression: "
                  f"{median_fit.intercept_:.3f} + {median_fit.coef_[0]:.3f} x (truth 1 + 2x).",
                  f"For five residuals of the course's example, the Gaussian likelihood maximised over sigma is "
                  f"{np.exp(gauss.loglik):.4f} at sigma^2 = MSE = {mse:.4g}, the Laplace one {np.exp(laplace.loglik):.4f} "
                  f"at b = MAE = {mae:.4g}."],
    )


LESSON = Lesson(
    13, "mean_vs_median", "Squared error = Gaussian, absolute error = Laplace",
    r"$-\log \mathcal{N}(y\mid x^\top\beta,\sigma^2) = \frac{(y-x^\top\beta)^2}{2\sigma^2} + c,\qquad"
    r"-\log \mathrm{Laplace}(y\mid x^\top\beta,b) = \frac{|y-x^\top\beta|}{b} + c$",
    "The loss is a choice of noise distribution: Gaussian noise makes least squares the MLE (the conditional "
    "mean), Laplace noise makes least absolute deviations the MLE (the conditional median), robust to outliers.",
    run,
)

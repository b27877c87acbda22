"""Lesson 3: the Gaussian MLE of a linear model is ordinary least squares; sigma-hat is sqrt(RSS/n)."""

import numpy as np
import torch

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds, minimise


def _gaussian_nll_minimiser(X, y):
    """Minimise the Gaussian NLL over (beta, log sigma) with torch's L-BFGS: no least squares anywhere."""
    Xt, yt = torch.tensor(X), torch.tensor(y)
    theta = torch.zeros(X.shape[1] + 1, dtype=torch.float64, requires_grad=True)
    minimise([theta], lambda: -torch.distributions.Normal(Xt @ theta[:-1], theta[-1].exp()).log_prob(yt).sum())
    return theta.detach().numpy()


def run(ctx):
    rng = ctx.rng(3)
    n, sigma = ctx.n(400, 200), 0.7
    x = rng.uniform(-2, 2, n)
    y = 1.5 + 2.0 * x + sigma * rng.standard_normal(n)
    model = mm.LinearRegression().fit(x[:, None], y)

    design = np.column_stack([np.ones(n), x])
    beta_ols = np.linalg.solve(design.T @ design, design.T @ y)  # the textbook closed form
    rss = float(np.sum((y - design @ beta_ols) ** 2))
    theta = _gaussian_nll_minimiser(design, y)
    se_sigma = sigma / np.sqrt(2 * n)  # asymptotic standard error of sigma-hat

    fig, (a, b) = plots.subplots(1, 2, figsize=(11, 4))
    a.scatter(x, y, s=10, color=plots.PALETTE[0], alpha=0.6, label="data")
    grid = np.linspace(-2, 2, 50)
    a.plot(grid, model.predict(grid[:, None]), color=plots.PALETTE[1], lw=2,
           label=f"MLE: y = {model.intercept_:.3f} + {model.coef_[0]:.3f} x")
    a.set_xlabel("x")
    a.set_ylabel("y")
    a.set_title("Gaussian MLE of the line = least squares")
    a.legend(frameon=False)
    plots.tidy(a)
    resid = y - model.predict(x[:, None])
    b.hist(resid, bins=30, density=True, color=plots.PALETTE[0], alpha=0.4, label="residuals")
    r = np.linspace(resid.min(), resid.max(), 200)
    s = model.scale_
    b.plot(r, np.exp(-r ** 2 / (2 * s ** 2)) / (s * np.sqrt(2 * np.pi)), color=plots.PALETTE[1], lw=2,
           label=f"N(0, {s:.3f}²), sigma-hat")
    b.set_xlabel("residual")
    b.set_ylabel("density")
    b.set_title(f"noise scale recovered (true sigma = {sigma})")
    b.legend(frameon=False)
    plots.tidy(b)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("coefficients = (X'X)^-1 X'y", [model.intercept_, model.coef_[0]], beta_ols, rtol=1e-10),
            close("sigma-hat = sqrt(RSS / n)", model.scale_, np.sqrt(rss / n), rtol=1e-12),
            close("torch L-BFGS on the Gaussian NLL agrees", theta[:2], beta_ols, rtol=1e-6),
            close("... and finds the same sigma", np.exp(theta[2]), np.sqrt(rss / n), rtol=1e-6),
            holds("sigma-hat within 3 SE of the true 0.7", abs(model.scale_ - sigma) < 3 * se_sigma, model.scale_,
                  f"0.7 ± {3 * se_sigma:.3f}"),
            close("log-likelihood = -n/2 (log(2 pi RSS/n) + 1)", model.loglik_,
                  -n / 2 * (np.log(2 * np.pi * rss / n) + 1), rtol=1e-12),
        ],
        figures=[("The maximum-likelihood line (left) and the residuals against the fitted noise density (right).", fig)],
        findings=[f"n = {n}: intercept {model.intercept_:.4f}, slope {model.coef_[0]:.4f}, sigma-hat {model.scale_:.4f} "
                  f"(the unbiased estimate would be {np.sqrt(rss / (n - 2)):.4f})."],
    )


LESSON = Lesson(
    3, "linear_regression", "Linear regression: Gaussian MLE = OLS",
    r"$-\log L(\beta,\sigma) = \frac{n}{2}\log(2\pi\sigma^2) + \frac{\|y - X\beta\|^2}{2\sigma^2}"
    r"\ \Rightarrow\ \hat\beta = (X^\top X)^{-1}X^\top y,\ \hat\sigma^2 = \mathrm{RSS}/n$",
    "For any sigma the Gaussian negative log-likelihood is the residual sum of squares up to scale and shift, "
    "so its minimiser in beta is least squares; setting the sigma-derivative to zero gives RSS/n.",
    run,
)

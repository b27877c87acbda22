"""Lesson 6: ridge and lasso are MAP estimates; only the Laplace prior (L1) gives exact zeros."""

import numpy as np
from sklearn.linear_model import Lasso

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

RELEVANT = np.array([3.0, -2.0, 1.5])


def draw_path(ax, path):
    """The relevant features' paths in colour, the irrelevant ones in grey (one legend entry)."""
    x = np.log10(path.alphas)
    for j in range(path.coefs.shape[0]):
        if j < RELEVANT.size:
            ax.plot(x, path.coefs[j], lw=1.8, color=plots.PALETTE[j], label=f"x{j} (true {RELEVANT[j]:g})")
        else:
            ax.plot(x, path.coefs[j], lw=1, color="0.6", label="x3..x9 (true 0)" if j == RELEVANT.size else None)
    ax.axhline(0, color="0.3", lw=0.6)
    ax.invert_xaxis()
    ax.set_xlabel("log10(alpha)  (stronger prior to the left)")
    ax.set_ylabel("coefficient")
    plots.tidy(ax)


def run(ctx):
    rng = ctx.rng(6)
    n, d = ctx.n(200, 120), 10
    X = rng.standard_normal((n, d))
    beta = np.concatenate([RELEVANT, np.zeros(d - RELEVANT.size)])
    y = X @ beta + rng.standard_normal(n)
    names = [f"x{j}" for j in range(d)]
    import pandas as pd

    frame = pd.DataFrame(X, columns=names)
    lasso = mm.regularization_path(frame, y, family="gaussian", penalty="l1", n_alphas=ctx.n(60, 30))
    ridge = mm.regularization_path(frame, y, family="gaussian", penalty="l2", alphas=np.logspace(4, -2, ctx.n(60, 30)))
    chosen = lasso.select("bic")
    at = lasso.coefs[:, chosen.index]
    irrelevant_zeros = int(np.sum(at[RELEVANT.size:] == 0.0))

    map_fit = mm.LinearRegression(prior=mm.priors.lasso(chosen.alpha)).fit(X, y)
    sk = Lasso(alpha=chosen.alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    mid = ridge.alphas.size // 2
    ridge_map = mm.LinearRegression(prior=mm.priors.ridge(ridge.alphas[mid])).fit(X, y)

    fig, (a, b, c) = plots.subplots(1, 3, figsize=(14, 4.4))
    for ax, path, name in ((a, lasso, "lasso = Laplace prior"), (b, ridge, "ridge = Gaussian prior")):
        draw_path(ax, path)
        ax.set_title(name)
    for ax in (a, b):
        top = np.abs(ax.get_ylim()).max()
        ax.set_ylim(-1.15 * top, 2.0 * top)  # room above the paths for the legend
    a.vlines(np.log10(chosen.alpha), -1.1 * top, 1.1 * top, color="k", ls="--", lw=1,
             label=f"BIC: alpha {chosen.alpha:.3g}")
    for ax in (a, b):
        ax.legend(frameon=False, fontsize=10, loc="upper left", ncol=2)
    c.plot(np.log10(lasso.alphas), lasso.nnz, "o-", ms=3, color=plots.PALETTE[1], label="lasso")
    c.plot(np.log10(ridge.alphas), np.count_nonzero(ridge.coefs, axis=0), "s-", ms=3, color=plots.PALETTE[0],
           label="ridge")
    c.axhline(RELEVANT.size, color="0.4", ls=":", label="relevant features (3)")
    c.invert_xaxis()
    c.set_xlabel("log10(alpha), each in its sklearn convention")
    c.set_ylabel("non-zero coefficients")
    c.set_title("sparsity: exact zeros")
    c.legend(frameon=False, fontsize=10, loc="center right")
    plots.tidy(c)
    fig.tight_layout()

    table = ", ".join(f"alpha {lasso.alphas[i]:.3g}: {lasso.nnz[i]} non-zero"
                      for i in np.linspace(0, lasso.alphas.size - 1, 5).astype(int))
    return LessonOutput(
        checks=[
            holds("lasso at alpha_max: every coefficient exactly 0", lasso.nnz[0] == 0, int(lasso.nnz[0]), "0 non-zero"),
            holds("lasso at the BIC alpha keeps the 3 relevant features", bool(np.all(at[:RELEVANT.size] != 0)),
                  at[:RELEVANT.size], "all non-zero"),
            holds("... and zeros out irrelevant ones exactly", irrelevant_zeros >= 5, irrelevant_zeros, ">= 5 of 7 are 0.0"),
            holds("ridge never gives an exact zero, at any alpha", bool(np.all(ridge.coefs != 0)),
                  int(np.sum(ridge.coefs == 0)), "0 zeros"),
            holds("ridge shrinks: |beta| grows as alpha falls",
                  bool(np.all(np.diff(np.linalg.norm(ridge.coefs, axis=0)) > 0)), "monotone", "monotone"),
            close("path = LinearRegression(prior=lasso(alpha))", map_fit.coef_, at, rtol=1e-6, atol=1e-9),
            close("path = sklearn Lasso(alpha)", sk.coef_, at, rtol=1e-6, atol=1e-9),
            close("ridge path at alpha = LinearRegression(prior=ridge(alpha))", ridge_map.coef_, ridge.coefs[:, mid],
                  rtol=1e-8),
        ],
        figures=[("Coefficient paths under the Laplace prior (left: coefficients hit exactly zero one by one) and "
                  "the Gaussian prior (middle: all shrink, none vanish); right: the number of non-zeros.", fig)],
        findings=[f"Lasso sparsity table: {table}. BIC picks alpha = {chosen.alpha:.4g} with "
                  f"{int(np.sum(at != 0))} non-zero coefficients."],
    )


LESSON = Lesson(
    6, "ridge_lasso", "Ridge and lasso as MAP",
    r"$\hat\beta_{MAP} = \arg\min_\beta \frac{1}{2n}\|y - X\beta\|^2 + \alpha\|\beta\|_1"
    r"\quad\Leftrightarrow\quad \beta_j \sim \mathrm{Laplace}(0,\ \sigma^2/(n\alpha))$",
    "A Gaussian prior on the coefficients adds an L2 penalty (ridge), a Laplace prior an L1 penalty (lasso). "
    "Sweeping the prior strength traces the coefficient paths; only the L1 corner produces exact zeros.",
    run,
)

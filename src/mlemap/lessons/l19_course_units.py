"""Lesson 19: the course's own lambda, in scikit-learn's and mlemap's units, on the course's own data.

The course writes the MAP loss of a linear model as a mean squared error plus a penalty,

    L(theta) = (1/N) |y - X theta|^2 + lambda |theta|^2        (Gaussian prior)
    L(theta) = (1/N) |y - X theta|^2 + lambda |theta|_1        (Laplace prior)

Multiplying the first by N gives |y - X theta|^2 + N lambda |theta|^2: ridge with alpha = N lambda
(scikit-learn's ``Ridge``, mlemap's ``priors.ridge``). Halving the second gives
(1/(2N)) |y - X theta|^2 + (lambda/2) |theta|_1: lasso with alpha = lambda / 2 (``Lasso``,
``priors.lasso``). With these conversions the course's sparsity table is reproduced exactly, and the
value of lambda at which the fifteen irrelevant weights all vanish is found where the lasso path
has a knot: with the active set A and its signs s fixed, the residual is linear in lambda,
r(lambda) = r_0 + lambda q, and an inactive feature enters where |2 x_j' r(lambda) / N| = lambda.
"""

import numpy as np

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds
from .course_data import SPARSE_TRUTH, course_draws

COURSE_LAMBDAS = (0.0, 0.05, 0.2, 0.5, 1.0)


def course_lasso(X, y, lam):
    """argmin (1/N)|y - X theta|^2 + lam |theta|_1 (no intercept, as in the course)."""
    return mm.LinearRegression(prior=mm.priors.lasso(lam / 2), fit_intercept=False).fit(X, y).coef_


def course_ridge(X, y, lam):
    """argmin (1/N)|y - X theta|^2 + lam |theta|^2."""
    return mm.LinearRegression(prior=mm.priors.ridge(len(y) * lam), fit_intercept=False).fit(X, y).coef_


def kkt_gap(X, y, theta, lam) -> float:
    """How far theta is from the course-loss lasso optimality conditions: (2/N) X'(y - X theta) = lam s,
    with |s_j| <= 1 and s_j = sign(theta_j) where theta_j != 0 (0 at the exact optimum)."""
    g = 2 / len(y) * X.T @ (y - X @ theta)
    on = theta != 0
    return float(max(np.max(np.abs(g[on] - lam * np.sign(theta[on])), initial=0.0),
                     np.max(np.abs(g[~on]) - lam, initial=0.0)))


def entry_knot(X, y, lam, theta) -> float:
    """The largest lambda below ``lam`` where an inactive feature enters the course-loss lasso path."""
    n = len(y)
    active = np.flatnonzero(theta)
    XA, s = X[:, active], np.sign(theta[active])
    G = XA.T @ XA
    r0 = y - XA @ np.linalg.solve(G, XA.T @ y)
    q = n / 2 * XA @ np.linalg.solve(G, s)
    inactive = np.setdiff1d(np.arange(X.shape[1]), active)
    a, b = 2 / n * X[:, inactive].T @ r0, 2 / n * X[:, inactive].T @ q
    with np.errstate(divide="ignore"):
        candidates = np.concatenate([a / (1 - b), -a / (1 + b)])
    return float(np.max(candidates[(candidates > 0) & (candidates < lam)]))


def run(ctx):
    draws = course_draws()
    X, y = draws.sparse_X, draws.sparse_y
    n = len(y)
    fits = {lam: (mm.LinearRegression(fit_intercept=False).fit(X, y).coef_ if lam == 0 else course_lasso(X, y, lam))
            for lam in COURSE_LAMBDAS}
    ridges = {lam: course_ridge(X, y, lam) for lam in COURSE_LAMBDAS if lam > 0}
    l1_zeros = {lam: int(np.sum(c == 0)) for lam, c in fits.items()}
    l2_zeros = {lam: int(np.sum(c == 0)) for lam, c in ridges.items()}
    knot = entry_knot(X, y, 0.2, fits[0.2])
    just_above, just_below = course_lasso(X, y, knot * (1 + 1e-6)), course_lasso(X, y, knot * (1 - 1e-3))
    lam_max = 2 / n * np.max(np.abs(X.T @ y))  # every weight is zero from here on
    at_ten = course_lasso(X, y, 10.0)
    below_max = course_lasso(X, y, lam_max * (1 - 1e-3))
    true_support = set(np.flatnonzero(SPARSE_TRUTH))

    # "try this": only the first ten rows
    X10, y10 = X[:10], y[:10]
    grid = np.logspace(np.log10(0.01), np.log10(5), ctx.n(60, 30))
    path10 = mm.regularization_path(X10, y10, penalty="l1", alphas=grid / 2, fit_intercept=False)
    path80 = mm.regularization_path(X, y, penalty="l1", alphas=grid / 2, fit_intercept=False)
    supports10 = [set(np.flatnonzero(path10.coefs[:, i])) for i in range(grid.size)]
    supports80 = [set(np.flatnonzero(path80.coefs[:, i])) for i in range(grid.size)]
    lam10 = 0.5
    chosen10 = [int(j) for j in np.flatnonzero(course_lasso(X10, y10, lam10))]

    fig, (a, b) = plots.subplots(1, 2, figsize=(14, 4.6))
    lams = path80.alphas * 2
    a.plot(lams, 20 - path80.nnz, "o-", ms=3, color=plots.PALETTE[1], label="Laplace prior (L1), N = 80")
    a.plot(lams, 20 - path10.nnz, "s-", ms=3, color=plots.PALETTE[3], label="Laplace prior (L1), N = 10")
    a.plot(list(ridges), list(l2_zeros.values()), "D-", ms=5, color=plots.PALETTE[0], label="Gaussian prior (L2), N = 80")
    a.axvline(knot, color="0.3", ls=":", lw=1.2)
    a.text(knot * 1.08, 1.5, f"15 zeros from\nlambda = {knot:.4f}", fontsize=10)
    a.axhline(15, color="0.6", lw=0.8)
    a.set_xscale("log")
    a.set_xlabel("lambda, in the course's units")
    a.set_ylabel("weights exactly 0 (of 20)")
    a.set_title("sparsity against the course's lambda")
    a.legend(frameon=False, fontsize=10, loc="upper left")
    plots.tidy(a)
    for j in range(X.shape[1]):
        style = dict(color=plots.PALETTE[j], lw=1.8) if j < 5 else dict(color="0.65", lw=0.9)
        b.plot(lams, path80.coefs[j], label=f"theta{j} (true {SPARSE_TRUTH[j]:g})" if j < 5 else None, **style)
    b.plot([], [], color="0.65", lw=0.9, label="theta5..theta19 (true 0)")
    b.axvline(knot, color="0.3", ls=":", lw=1.2)
    b.set_xscale("log")
    b.set_xlabel("lambda, in the course's units")
    b.set_ylabel("weight")
    b.set_title("the lasso path, N = 80")
    b.legend(frameon=False, fontsize=10, loc="center left", bbox_to_anchor=(1.0, 0.5))
    plots.tidy(b)
    fig.tight_layout()

    table = "; ".join(f"lambda {lam:g}: L2 zeros {l2_zeros.get(lam, 0)}, L1 zeros {l1_zeros[lam]}" for lam in COURSE_LAMBDAS)
    return LessonOutput(
        checks=[
            close("ridge in the course's units = (X'X/N + lambda I)^-1 X'y/N (lambda = 0.2)", ridges[0.2],
                  np.linalg.solve(X.T @ X / n + 0.2 * np.eye(20), X.T @ y / n), rtol=1e-9),
            holds("lasso(alpha = lambda/2) solves the course's L1 loss (KKT) at every lambda of the table",
                  max(kkt_gap(X, y, fits[lam], lam) for lam in COURSE_LAMBDAS if lam > 0) < 1e-7,
                  max(kkt_gap(X, y, fits[lam], lam) for lam in COURSE_LAMBDAS if lam > 0), "gap < 1e-7"),
            close("L1 zeros at lambda = 0, 0.05, 0.2, 0.5, 1", list(l1_zeros.values()), [0, 11, 15, 15, 16], rtol=0),
            close("L2 zeros at every lambda of the table", list(l2_zeros.values()), [0, 0, 0, 0], rtol=0),
            holds("15 zeros = exactly the 5 true features kept, at lambda = 0.2",
                  set(np.flatnonzero(fits[0.2])) == true_support, [int(j) for j in np.flatnonzero(fits[0.2])], "[0, 1, 2, 3, 4]"),
            holds(f"15 zeros start at the knot lambda* = {knot:.6f}",
                  int(np.sum(just_above == 0)) == 15 and int(np.sum(just_below == 0)) == 14,
                  [int(np.sum(just_below == 0)), int(np.sum(just_above == 0))], "14 just below, 15 just above"),
            close("every weight is 0 from lambda_max = 2 max|X'y|/N", [int(np.sum(at_ten == 0)), int(np.sum(below_max != 0))],
                  [20, 1], rtol=0),
            holds("N = 10: no lambda keeps exactly the 5 true features", true_support not in supports10,
                  f"lambda {lam10}: {chosen10}", "never {0, 1, 2, 3, 4}"),
            holds("N = 80: a range of lambda does", true_support in supports80, len([s for s in supports80 if s == true_support]),
                  "at least one grid point"),
        ],
        figures=[("Left: exact zeros against the course's lambda (lasso alpha = lambda/2, ridge alpha = N lambda); the "
                  f"fifteen irrelevant weights are all zero from lambda = {knot:.4f} (dotted) until a true one drops "
                  f"out, and every weight is zero from lambda = {lam_max:.3f}. With N = 10 rows the path never keeps "
                  "exactly the true five. Right: the lasso path on the course's 80 rows.", fig)],
        findings=[
            f"The course's table, recomputed with exact zeros: {table}.",
            f"Fifteen zeros appear from lambda = {knot:.6f} (not only at lambda = 10): at lambda = 10 every weight is 0, "
            f"as from lambda_max = {lam_max:.4f} on.",
            f"With N = 10 rows, lambda = {lam10} keeps features {chosen10}: the prior cannot recover the true five "
            "from ten observations of twenty features.",
        ],
    )


LESSON = Lesson(
    19, "course_units", "The course's lambda in scikit-learn's units",
    r"$\frac{1}{N}\|y-X\theta\|^2 + \lambda\|\theta\|_2^2 = \frac{1}{N}\left[\|y-X\theta\|^2 + N\lambda\|\theta\|_2^2\right],"
    r"\quad \frac{1}{N}\|y-X\theta\|^2 + \lambda\|\theta\|_1 = 2\left[\frac{1}{2N}\|y-X\theta\|^2 + \frac{\lambda}{2}\|\theta\|_1\right]$",
    "The course's MAP losses divide the squared error by N; ridge is then alpha = N lambda and lasso alpha = "
    "lambda / 2. On the course's own draws this reproduces its sparsity table and locates exactly where the "
    "fifteen irrelevant weights vanish.",
    run,
)

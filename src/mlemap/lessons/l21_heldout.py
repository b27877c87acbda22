"""Lesson 21: MLE against MAP on held-out data, on the course's own examples: when the prior helps, and when not.

The course's argument for MAP is that a prior guards against overfitting. Its own examples, rerun
with fresh test sets large enough to be trusted, show both sides:

* 50 rows and 5 features with little noise: the data pin every coefficient down, and the prior only
  adds bias; a strong one (lambda = 10, intercept penalised as in the course) doubles the test error.
* 20 rows, 10 features, 3 of them active: the MLE fits noise in the seven idle coefficients; a
  Gaussian prior shrinks them, a Laplace prior sets most to zero, and the test error falls.
* The course's logistic example (``make_classification``, 70 training rows, 20 features of which
  10 are linear combinations of the others) has no MLE at all: the training design has rank 15 and
  the classes are separable, so the likelihood keeps rising along a direction. Only the MAP exists.
"""

import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import Lasso
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.model_selection import train_test_split

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

LAMBDAS = np.logspace(-2, 1.5, 40)


def with_intercept(X):
    return np.column_stack([np.ones(len(X)), X])


def ridge_all(X, y, lam):
    """The course's ridge: (A'A + lambda I)^-1 A'y with A = [1, X], the intercept penalised too."""
    A = with_intercept(X)
    return np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ y)


def fresh_error(coef_with_intercept, w) -> float:
    """E[(b + x'c - x'w)^2] for a fresh x ~ N(0, I): |c - w|^2 + b^2 (exact, no test sample needed)."""
    return float(np.sum((coef_with_intercept[1:] - w) ** 2) + coef_with_intercept[0] ** 2)


def penalised_ridge(X, y, lam):
    model = mm.LinearRegression(prior=mm.priors.ridge(lam), penalize_intercept=True).fit(X, y)
    return np.concatenate([[model.intercept_], model.coef_])


def logistic_kkt_gap(X, y, coef, intercept, alpha) -> float:
    """Optimality of sum_i nll_i + alpha |w|_1 (intercept free): X'(y - p) = alpha sign(w) on the
    non-zeros, |X'(y - p)| <= alpha elsewhere, and sum(y - p) = 0."""
    p = 1 / (1 + np.exp(-(X @ coef + intercept)))
    g = X.T @ (y - p)
    on = coef != 0
    return float(max(np.max(np.abs(g[on] - alpha * np.sign(coef[on])), initial=0.0),
                     np.max(np.abs(g[~on]) - alpha, initial=0.0), abs(np.sum(y - p))))


def run(ctx):
    # --- the course's linear example: 50 rows, 5 features
    rs = np.random.RandomState(42)
    X = rs.randn(50, 5)
    w = np.array([2, -1, 0.5, 0, 0])
    y = X @ w + rs.randn(50) * 0.5
    X_test = rs.randn(10, 5)
    fits = {"MLE": np.concatenate([[(m := mm.LinearRegression().fit(X, y)).intercept_], m.coef_]),
            "MAP lambda 0.1": penalised_ridge(X, y, 0.1), "MAP lambda 10": penalised_ridge(X, y, 10.0)}
    course_mse = {k: float(np.mean((with_intercept(X_test) @ c - X_test @ w) ** 2)) for k, c in fits.items()}
    # expected squared error at a fresh x ~ N(0, I) against the noiseless x'w: |coef - w|^2 + intercept^2
    curve_a = [fresh_error(ridge_all(X, y, lam), w) for lam in LAMBDAS]
    mle_a = fresh_error(fits["MLE"], w)

    # --- the course's sparse example: 20 rows, 10 features, 3 active
    rs = np.random.RandomState(42)
    truth = np.array([3, -2, 0, 0, 0, 1.5, 0, 0, 0, 0.0])
    Xs = rs.randn(20, 10)
    ys = Xs @ truth + rs.randn(20) * 0.5
    sparse = {"MLE": mm.LinearRegression(fit_intercept=False).fit(Xs, ys),
              "MAP Gaussian (lambda 1)": mm.LinearRegression(prior=mm.priors.ridge(1.0), fit_intercept=False).fit(Xs, ys),
              "MAP Laplace (alpha 0.1)": mm.LinearRegression(prior=mm.priors.lasso(0.1)).fit(Xs, ys)}
    sk_lasso = Lasso(alpha=0.1, tol=1e-12, max_iter=100_000).fit(Xs, ys)
    weight_mse = {k: float(np.mean((m.coef_ - truth) ** 2)) for k, m in sparse.items()}
    test_s = {k: fresh_error(np.concatenate([[m.intercept_], m.coef_]), truth) for k, m in sparse.items()}
    curve_s = [fresh_error(np.concatenate([[0.0], np.linalg.solve(Xs.T @ Xs + lam * np.eye(10), Xs.T @ ys)]), truth)
               for lam in LAMBDAS]

    # --- the course's logistic example
    Xc, yc = make_classification(n_samples=100, n_features=20, n_informative=5, n_redundant=5, random_state=42)
    Xtr, Xte, ytr, yte = train_test_split(Xc, yc, test_size=0.3, random_state=42)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mle_c = mm.LogisticRegression().fit(Xtr, ytr)
    kinds = sorted({type(m.message).__name__ for m in caught})
    v = mle_c.separation_.direction[0]
    signs = np.where(ytr == 1, 1.0, -1.0) * (with_intercept(Xtr)[:, [*range(1, 21), 0]] @ _full_direction(mle_c, v))
    models = {"weak L2 (C = 10)": mm.priors.ridge(0.1), "strong L2 (C = 0.1)": mm.priors.ridge(10.0),
              "L1 (C = 1)": mm.priors.lasso(1.0)}
    maps = {k: mm.LogisticRegression(prior=p).fit(Xtr, ytr) for k, p in models.items()}
    sk = {k: SkLogistic(C=1 / a, tol=1e-10, max_iter=100_000).fit(Xtr, ytr)
          for k, a in {"weak L2 (C = 10)": 0.1, "strong L2 (C = 0.1)": 10.0}.items()}
    table = {k: (m.score(Xtr, ytr), m.score(Xte, yte), int(np.sum(np.abs(m.coef_) > 0.01))) for k, m in maps.items()}

    fig, (a, b) = plots.subplots(1, 2, figsize=(13, 4.6))
    a.plot(LAMBDAS, curve_a, color=plots.PALETTE[1], lw=2, label="50 rows, 5 features (course)")
    a.axhline(mle_a, color=plots.PALETTE[1], ls=":", lw=1.3)
    a.plot(LAMBDAS, curve_s, color=plots.PALETTE[0], lw=2, label="20 rows, 10 features, 3 active (course)")
    a.axhline(test_s["MLE"], color=plots.PALETTE[0], ls=":", lw=1.3, label="dotted: the MLE's test error")
    a.plot([0.1, 10], [fresh_error(fits["MAP lambda 0.1"], w), fresh_error(fits["MAP lambda 10"], w)], "o",
           color=plots.PALETTE[1], ms=7)
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("ridge lambda (Gaussian prior strength)")
    a.set_ylabel("expected squared error at a fresh x")
    a.set_title("a prior helps with few rows per feature")
    a.legend(frameon=False, fontsize=10, loc="upper left")
    plots.tidy(a)
    names = list(table)
    pos = np.arange(len(names))
    b.bar(pos - 0.18, [table[k][0] for k in names], 0.36, color=plots.PALETTE[2], label="train accuracy")
    b.bar(pos + 0.18, [table[k][1] for k in names], 0.36, color=plots.PALETTE[3], label="test accuracy (30 rows)")
    for i, k in enumerate(names):
        b.text(i, 1.02, f"{table[k][2]} non-zero", ha="center", fontsize=10)
    b.set_xticks(pos, names)
    b.set_ylim(0, 1.15)
    b.set_ylabel("accuracy")
    b.set_title("logistic: the MLE does not exist; three MAPs")
    b.legend(frameon=False, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    plots.tidy(b)
    fig.tight_layout()

    best = int(np.argmin(curve_s))
    return LessonOutput(
        checks=[
            close("course's ridge (intercept penalised) = (A'A + lambda I)^-1 A'y", fits["MAP lambda 10"],
                  ridge_all(X, y, 10.0), rtol=1e-10),
            holds("course's 10 test points: lambda = 10 more than doubles the MLE's error",
                  course_mse["MAP lambda 10"] > 2 * course_mse["MLE"], [round(v, 4) for v in course_mse.values()],
                  "MSE(lambda 10) > 2 MSE(MLE)"),
            holds("on fresh data (exact expectation) every lambda > 0 is worse than the MLE (50 rows, 5 features)",
                  bool(np.all(np.array(curve_a) > mle_a)) and bool(np.all(np.diff(curve_a) > 0)),
                  [round(mle_a, 4), round(curve_a[0], 4), round(curve_a[-1], 4)], "increasing in lambda, above the MLE"),
            close("Laplace MAP = scikit-learn Lasso(alpha = 0.1)", sparse["MAP Laplace (alpha 0.1)"].coef_, sk_lasso.coef_,
                  rtol=1e-6, atol=1e-9),
            holds("20 rows, 10 features: weight error Laplace < Gaussian < MLE",
                  weight_mse["MAP Laplace (alpha 0.1)"] < weight_mse["MAP Gaussian (lambda 1)"] < weight_mse["MLE"],
                  [round(v, 4) for v in weight_mse.values()], "decreasing"),
            holds("... and the prior lowers the test error over a range of lambda", curve_s[best] < 0.9 * test_s["MLE"],
                  [round(test_s["MLE"], 4), round(curve_s[best], 4)], f"best ridge < 0.9 x MLE (at lambda {LAMBDAS[best]:.2g})"),
            holds("logistic MLE: mlemap warns of separation and rank deficiency",
                  {"SeparationWarning", "IdentifiabilityWarning"} <= set(kinds), kinds, "both warnings"),
            close("the training design has rank 15 of 20 (numpy)", np.linalg.matrix_rank(Xtr), 15, rtol=0),
            holds("the separating direction puts every training row on its class's side (numpy)",
                  bool(np.all(signs >= -1e-9)), float(signs.min()), ">= 0"),
            close("weak and strong L2 MAPs = scikit-learn LogisticRegression(C)",
                  np.concatenate([maps[k].coef_ for k in sk]), np.concatenate([sk[k].coef_.ravel() for k in sk]), rtol=1e-5,
                  atol=1e-8),
            holds("the L1 MAP solves its optimality conditions", logistic_kkt_gap(Xtr, ytr, maps["L1 (C = 1)"].coef_,
                  maps["L1 (C = 1)"].intercept_, 1.0) < 1e-6,
                  logistic_kkt_gap(Xtr, ytr, maps["L1 (C = 1)"].coef_, maps["L1 (C = 1)"].intercept_, 1.0), "gap < 1e-6"),
        ],
        figures=[("Left: test error against the prior's strength on fresh data. With 50 rows for 5 features (the "
                  "course's first example, its lambdas 0.1 and 10 marked) any prior hurts; with 20 rows for 10 "
                  "features it helps over a range of lambda. Right: the course's logistic example has no MLE; the "
                  "three MAPs' accuracies differ by a few of the 30 test rows.", fig)],
        findings=[
            "Course's linear example, its 10 test points: " + ", ".join(f"{k} {v:.4f}" for k, v in course_mse.items()) + ".",
            "Course's sparse example, error of the weights: " + ", ".join(f"{k} {v:.4f}" for k, v in weight_mse.items()) +
            "; test error on fresh data: " + ", ".join(f"{k} {v:.4f}" for k, v in test_s.items()) + ".",
            "Logistic example: the MLE does not exist (separable classes, rank-15 design). " + "; ".join(
                f"{k}: train {tr:.3f}, test {te:.3f}, {nz} non-zero" for k, (tr, te, nz) in table.items()) +
            ". One test row is 0.033 of accuracy: the differences are within chance.",
        ],
    )


def _full_direction(model, v):
    """The separating direction over all 20 features and the intercept (aliased features get 0)."""
    labels = model.separation_.labels
    full = np.zeros(21)
    for value, label in zip(v, labels):
        full[20 if label == "intercept" else int(label[1:])] = value
    return full


LESSON = Lesson(
    21, "heldout", "MLE against MAP on held-out data",
    r"$\mathrm{E}\,\|\hat\beta - \beta\|^2 = \mathrm{bias}^2 + \mathrm{variance}:"
    r"\quad \hat\beta_{MAP} = (X^\top X + \lambda I)^{-1}X^\top y\ \ \mathrm{trades\ variance\ for\ bias}$",
    "The course's own examples on fresh test data: the prior helps when there are few rows per coefficient, "
    "hurts when the data already pin the coefficients down, and is the only estimate when the MLE does not exist.",
    run,
)

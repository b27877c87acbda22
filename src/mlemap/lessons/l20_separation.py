"""Lesson 20: the course's three clusters are separable, so the softmax MLE does not exist; a prior fixes it.

With class 0 (centred at (-2, 0)) on one side of a line and the other classes on the other, moving
the coefficients along a separating direction V makes every row's probability of its own class
rise toward 1: the log-likelihood climbs toward 0 and never reaches a maximum (Albert and Anderson,
1984). Gradient descent on the cross-entropy only seems to converge because it is stopped. A
Gaussian prior on the coefficients (ridge, scikit-learn's ``C = 1/alpha``) makes the log-posterior
strictly concave with a finite maximum.
"""

import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression as SkLogistic

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds
from .course_data import course_draws

ALPHA = 1.0  # the ridge prior's strength (scikit-learn's C = 1/alpha)


def log_softmax_loglik(X, y, coef, intercept) -> float:
    """sum_i log softmax(x_i B' + b)[y_i], written out with numpy."""
    z = X @ coef.T + intercept
    z = z - z.max(axis=1, keepdims=True)
    return float(np.sum(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))))


def run(ctx):
    draws = course_draws()
    X, y = draws.clusters_X, draws.clusters_y
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mle = mm.SoftmaxRegression().fit(X, y)
        zero_vs_rest = mm.LogisticRegression().fit(X, (y != 0).astype(int))
    kinds = sorted({type(w.message).__name__ for w in caught})
    sep = mle.separation_
    # the certificate, checked with numpy: V = 0 for the reference class, then one row per other class
    V = np.vstack([np.zeros(3), sep.direction])
    Xt = np.column_stack([X, np.ones(len(y))])
    margins = np.array([[(V[y[i]] - V[k]) @ Xt[i] for k in range(3) if k != y[i]] for i in range(len(y))])
    ts = np.array([0.0, 1, 3, 10, 30, 100, 1000])
    along = [log_softmax_loglik(X, y, t * V[:, :2], t * V[:, 2]) for t in ts]
    v = zero_vs_rest.separation_.direction[0]
    side = Xt @ v

    mapped = mm.SoftmaxRegression(prior=mm.priors.ridge(ALPHA)).fit(X, y)
    sk = SkLogistic(C=1 / ALPHA, tol=1e-12, max_iter=10_000).fit(X, y)

    fig, (a, b) = plots.subplots(1, 2, figsize=(12.5, 5.4))
    plots.decision_regions(mapped, X, y, ax=a, class_names=["class 0", "class 1", "class 2"])
    grid = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 50)
    if abs(v[1]) > 1e-12:
        a.plot(grid, -(v[0] * grid + v[2]) / v[1], "k--", lw=1.5, label="a line separating class 0")
    a.set_ylim(X[:, 1].min() - 0.6, X[:, 1].max() + 0.6)
    a.legend(frameon=False, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    a.set_title(f"MAP with a ridge prior (alpha = {ALPHA:g}): regions")
    tt = np.logspace(-1, 3, 200)
    b.plot(tt, [-log_softmax_loglik(X, y, t * V[:, :2], t * V[:, 2]) for t in tt], color=plots.PALETTE[1], lw=2,
           label="negative log-likelihood along t V")
    b.axhline(-log_softmax_loglik(X, y, mapped.coef_, mapped.intercept_), color=plots.PALETTE[0], ls="--",
              label="negative log-likelihood at the MAP")
    b.set_xscale("log")
    b.set_yscale("log")
    b.set_xlabel("t (distance along the separating direction V)")
    b.set_ylabel("negative log-likelihood")
    b.set_title("no minimum: the NLL keeps falling toward 0")
    b.legend(frameon=False, fontsize=10, loc="lower left")
    plots.tidy(b)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            holds("mlemap warns of separation", "SeparationWarning" in kinds, kinds, "SeparationWarning"),
            holds("... and calls it complete", sep is not None and sep.kind == "complete", getattr(sep, "kind", None),
                  "complete"),
            holds("its direction separates every row from every other class (numpy)", bool(np.all(margins > 0)),
                  float(margins.min()), "every margin > 0"),
            holds("the log-likelihood rises toward 0 along t V", bool(np.all(np.diff(along) > 0)) and along[-1] > -1e-3,
                  [round(v, 4) for v in along], "increasing, -> 0"),
            holds("class 0 alone is separable from the rest (logistic 0 vs rest)",
                  bool(np.all(side[y != 0] >= -1e-9) and np.all(side[y == 0] <= 1e-9)),
                  zero_vs_rest.separation_.kind, "a line with class 0 on one side"),
            holds("the MLE's coefficients get no standard errors", bool(np.all(np.isnan(mle.se_[1:]))),
                  mle.se_[1:].ravel(), "nan"),
            close("MAP = scikit-learn LogisticRegression(C = 1/alpha): coefficients", mapped.coef_, sk.coef_, rtol=1e-6),
            close("... and intercepts", mapped.intercept_, sk.intercept_, rtol=1e-6, atol=1e-9),
            holds("the MAP has finite standard errors", bool(np.all(np.isfinite(mapped.se_))), mapped.se_.ravel(), "finite"),
        ],
        figures=[(f"Left: the course's clusters with the MAP's decision regions; the dashed line separates class 0 from "
                  f"the rest exactly. Right: along the separating direction the negative log-likelihood (log scale) falls "
                  f"toward 0 without a minimum; the prior's MAP stops at a finite point (accuracy {mapped.score(X, y):.3f}).", fig)],
        findings=[sep.message("SoftmaxRegression").split(". The maximum")[0] + ".",
                  f"MAP coefficients (ridge alpha = {ALPHA:g}): " + "; ".join(
                      f"class {k}: {np.round(mapped.coef_[k], 3).tolist()}, intercept {mapped.intercept_[k]:.3f}"
                      for k in range(3)) + "."],
    )


LESSON = Lesson(
    20, "separation", "Separable classes: no MLE, and the prior's fix",
    r"$(v_{y_i} - v_k)^\top\tilde x_i \geq 0\ \ \forall i,k\ \Rightarrow\ \ell(tV)\uparrow 0\ (t\to\infty);"
    r"\quad \ell(B) - \frac{\alpha}{2}\|B\|^2\ \mathrm{has\ a\ unique\ maximum}$",
    "On the course's own multiclass data, class 0 can be cut off by a straight line, so the softmax likelihood "
    "has no maximum. mlemap says so, with the direction; a Gaussian prior gives a finite MAP.",
    run,
)

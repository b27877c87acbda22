"""Lesson 5: the categorical negative log-likelihood of softmax regression is cross-entropy."""

import numpy as np
import torch
import torch.nn.functional as F

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds, minimise


def categorical_nll(logits, y):
    """-sum_i log softmax(logits_i)[y_i], written out with a stable log-sum-exp."""
    top = logits.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return float(-np.sum(logits[np.arange(len(y)), y] - log_norm))


def cross_entropy(logits, y):
    return float(F.cross_entropy(torch.tensor(logits), torch.tensor(y), reduction="sum"))


def train_with_cross_entropy(X, y, k):
    """A linear layer trained on torch's cross-entropy with L-BFGS (over-parametrised: one row per class)."""
    Xt, yt = torch.tensor(X), torch.tensor(y)
    layer = torch.nn.Linear(X.shape[1], k, dtype=torch.float64)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    minimise(list(layer.parameters()), lambda: F.cross_entropy(layer(Xt), yt), max_iter=1000)
    with torch.no_grad():
        return torch.softmax(layer(Xt), dim=1).numpy()


def run(ctx):
    rng = ctx.rng(5)
    per_class = ctx.n(150, 80)
    centres = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    X = np.vstack([c + 1.1 * rng.standard_normal((per_class, 2)) for c in centres])
    y = np.repeat(np.arange(3), per_class)
    model = mm.SoftmaxRegression().fit(X, y)
    logits = model.decision_function(X)
    probs_torch = train_with_cross_entropy(X, y, 3)

    fig, ax = plots.subplots(figsize=(6, 5.2))
    plots.decision_regions(model, X, y, ax=ax, class_names=["class 0 (reference)", "class 1", "class 2"])
    ax.set_title("softmax regression: decision regions of the MLE")
    return LessonOutput(
        checks=[
            close("categorical NLL = cross_entropy at the MLE", cross_entropy(logits, y), categorical_nll(logits, y),
                  rtol=1e-12),
            close("-loglik_ of the fit = cross-entropy", -model.loglik_, cross_entropy(logits, y), rtol=1e-12),
            close("torch trained on cross-entropy: same probabilities", probs_torch, model.predict_proba(X),
                  atol=1e-6),
            holds("reference class has a zero row (identified MLE, with SEs)",
                  bool(np.all(model.coef_[0] == 0) and np.all(np.isfinite(model.se_[1:]))),
                  model.coef_[0], "coef_[0] = 0, finite se_"),
            holds("training accuracy well above chance (1/3)", model.score(X, y) > 0.8, model.score(X, y), "> 0.8"),
        ],
        figures=[("Each point's region is the class with the largest fitted probability; the boundaries are "
                  "straight lines because the log-odds between any two classes are linear in x.", fig)],
        findings=[f"Accuracy {model.score(X, y):.3f}. The torch layer has one row per class and is not identified, "
                  "but its probabilities equal the MLE's: the likelihood only sees differences of logits."],
    )


LESSON = Lesson(
    5, "multiclass", "Multiclass: categorical NLL = cross-entropy",
    r"$-\log L(B) = -\sum_i \log \frac{e^{x_i^\top\beta_{y_i}}}{\sum_k e^{x_i^\top\beta_k}}"
    r" = \mathrm{CrossEntropy}(XB^\top, y)$",
    "Softmax regression is the categorical likelihood with logits linear in x; its negative log-likelihood "
    "is the cross-entropy loss, and fixing one class's row to zero makes the MLE unique.",
    run,
)

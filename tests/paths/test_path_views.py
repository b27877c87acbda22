"""plot() and summary() of a regularisation path."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest

from mlemap.paths import regularization_path

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


@pytest.fixture
def path():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 4))
    y = X @ [1.0, -0.5, 0.0, 0.25] + rng.standard_normal(100)
    return regularization_path(X, y, n_alphas=12)


def test_plot_returns_the_axes_with_labels_and_legend(path):
    ax = path.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.get_lines()) >= 4
    assert "alpha" in ax.get_xlabel()
    assert ax.get_legend() is not None
    plt.close("all")


def test_plot_draws_on_a_given_axes_and_marks_the_selection(path):
    fig, ax = plt.subplots()
    path.select("bic")
    out = path.plot(ax=ax)
    assert out is ax
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(label.startswith("selected (bic)") for label in labels)
    plt.close(fig)


def test_no_legend_for_many_features():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 25))
    p = regularization_path(X, X[:, 0] + rng.standard_normal(60), n_alphas=5)
    ax = p.plot()
    assert ax.get_legend() is None
    plt.close("all")


def test_categorical_plot():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((90, 2))
    y = np.repeat([0.0, 1.0, 2.0], 30)
    X[:, 0] += y
    ax = regularization_path(X, y, family="categorical", n_alphas=5, eps=0.05).plot()
    assert len(ax.get_lines()) >= 6
    plt.close("all")


def test_summary_text_and_json(path):
    path.select("cv", cv=3, seed=0)
    s = path.summary()
    text = str(s)
    assert "alpha" in text and "non-zeros" in text and "BIC" in text
    assert "selected (cv)" in text
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["selection"]["method"] == "cv"
    assert len(d["alphas"]) == len(d["nnz"]) == len(d["loglik"]) == len(d["bic"]) == 12
    assert "<table>" in s.to_html()
    assert "RegularizationPath(" in repr(path)

"""Plotting functions draw into the given axes and return them; results' .plot() conveniences call them."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.distributions as td  # noqa: E402

import mlemap as mm  # noqa: E402
from mlemap import plots  # noqa: E402

RNG = np.random.default_rng(0)
GAMMA = mm.fit("gamma", RNG.gamma(2.0, 1.5, 200))
POISSON = mm.fit("poisson", RNG.poisson(3.0, 200))
BETA22 = td.Beta(torch.tensor(2.0, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))
COIN_MAP = mm.fit("bernoulli", [1, 1, 1], prior={"probs": BETA22})


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.patches or ax.images)


@pytest.mark.parametrize(
    "draw",
    [
        lambda ax: plots.density(GAMMA, ax=ax),
        lambda ax: plots.density(POISSON, ax=ax),
        lambda ax: plots.qq(GAMMA, ax=ax),
        lambda ax: plots.pp(POISSON, ax=ax),
        lambda ax: plots.loglik_curve(GAMMA, "concentration", ax=ax),
        lambda ax: plots.loglik_contour(GAMMA, ax=ax, truth=(2.0, 1 / 1.5)),
        lambda ax: plots.prior_likelihood_posterior(COIN_MAP, ax=ax),
        lambda ax: plots.estimates_vs_n([10, 100, 1000], {"MLE": [0.5, 0.55, 0.6]}, truth=0.6, ax=ax),
        lambda ax: plots.trajectories(lambda a, b: -(a ** 2 + b ** 2), {"gd": np.array([[1.0, 1.0], [0.5, 0.4], [0.0, 0.0]])},
                                      ax=ax),
        lambda ax: plots.errors_vs_steps({"gd": np.array([[1.0, 1.0], [0.5, 0.4], [0.1, 0.0]])}, np.zeros(2), ax=ax),
    ],
    ids=["density", "pmf-bars", "qq", "pp", "loglik-curve", "contour", "prior-lik-post", "estimates-vs-n",
         "trajectories", "errors-vs-steps"],
)
def test_draws_into_the_given_axes_and_returns_them(draw):
    fig, ax = plt.subplots()
    assert draw(ax) is ax
    assert drawn(ax)


def test_new_axes_when_none_given():
    ax = plots.density(GAMMA)
    assert drawn(ax) and ax.get_xlabel() == "x" and ax.get_ylabel() == "density"


def test_discrete_density_is_a_bar_chart_against_the_pmf():
    ax = plots.density(POISSON)
    assert len(ax.patches) == int(POISSON.problem.x.max() - POISSON.problem.x.min()) + 1
    assert ax.get_ylabel() == "probability"


def test_posterior_plot_marks_mle_and_map():
    ax = plots.prior_likelihood_posterior(COIN_MAP)
    labels = [line.get_label() for line in ax.lines]
    assert any(label.startswith("MLE") for label in labels) and any(label.startswith("MAP") for label in labels)


def test_surface_trio_and_decision_regions():
    fig, row = plt.subplots(1, 3)
    x = RNG.normal(1.0, 2.0, 100)
    prior = {"loc": td.Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))}
    out = plots.surface_trio(mm.fit("normal", x, prior=prior), axes_row=row)
    assert all(drawn(ax) for ax in out)
    X = RNG.normal(size=(120, 2))
    y = (X[:, 0] + X[:, 1] + RNG.normal(size=120) > 0).astype(int)
    ax = plots.decision_regions(mm.LogisticRegression().fit(X, y), X, y)
    assert drawn(ax) and ax.get_xlabel() == "x1"


@pytest.mark.parametrize("kind", ["auto", "density", "qq", "pp", "loglik", "contour"])
def test_fit_result_plot_kinds(kind):
    assert drawn(GAMMA.plot(kind))


def test_fit_result_plot_auto_is_the_posterior_for_a_map_and_rejects_bad_kinds():
    ax = COIN_MAP.plot()
    assert "posterior" in [line.get_label() for line in ax.lines]
    with pytest.raises(mm.MethodError, match="Unknown plot kind 'nope'"):
        GAMMA.plot("nope")
    with pytest.raises(mm.MethodError, match="needs a MAP fit"):
        GAMMA.plot("posterior")


def test_estimator_coefficient_plot():
    X = pd.DataFrame(RNG.normal(size=(300, 3)), columns=["a", "b", "c"])
    y = (X.to_numpy() @ [1.0, -1.0, 0.0] + RNG.normal(size=300) > 0).astype(int)
    model = mm.LogisticRegression().fit(X, y)
    ax = model.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]  # top to bottom
    ci = model.conf_int()
    segments = ax.collections[0].get_segments()
    assert np.allclose(sorted(s[0][0] for s in segments), sorted(ci["lower"].to_numpy()[:3]))
    assert len(mm.LogisticRegression().fit(X, y).plot(intercept=True).get_yticklabels()) == 4
    lasso = mm.LogisticRegression(prior=mm.priors.lasso(0.05)).fit(X, y)
    labels = [line.get_label() for line in lasso.plot().lines]
    assert "estimate (no standard error)" in labels


def test_comparison_and_path_plots():
    comparison = mm.compare(RNG.gamma(2.0, 1.5, 200), families=["gamma", "weibull", "lognormal"])
    fig = comparison.plot()
    assert len(fig.axes) == 2 and drawn(fig.axes[0])
    X = RNG.normal(size=(100, 4))
    path = mm.regularization_path(X, X[:, 0] + RNG.normal(size=100), n_alphas=10)
    ax = plots.coefficient_paths(path)
    assert len(ax.lines) >= 4


def test_importing_mlemap_does_not_import_matplotlib():
    code = "import sys, mlemap; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

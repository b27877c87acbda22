"""Plotting functions draw into the given axes and return them; results' .plot() conveniences call them."""

import io
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

GAMMA = mm.fit("gamma", np.random.default_rng(0).gamma(2.0, 1.5, 200))
POISSON = mm.fit("poisson", np.random.default_rng(1).poisson(3.0, 200))
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


def test_discrete_density_is_bars_of_frequencies_and_stems_of_the_pmf():
    ax = plots.density(POISSON)
    values = np.arange(int(POISSON.problem.x.min()), int(POISSON.problem.x.max()) + 1)
    assert len(ax.patches) == values.size
    assert ax.get_ylabel() == "probability"
    (stems,) = ax.collections  # one vertical segment per value, from 0 to the pmf
    pmf = POISSON.to_scipy().pmf(values)
    segments = stems.get_segments()
    assert np.allclose([s[0] for s in segments], np.column_stack([values, np.zeros(values.size)]))
    assert np.allclose([s[1] for s in segments], np.column_stack([values, pmf]))
    (heads,) = ax.lines
    assert heads.get_linestyle() == "None"  # markers only: no line drawn between two pmf values


def test_the_x_axis_is_labelled_with_the_series_name():
    data = pd.Series(np.random.default_rng(5).gamma(2.0, 1.5, 100), name="waiting_time")
    r = mm.fit("gamma", data)
    assert r.data_name == "waiting_time"
    assert r.plot().get_xlabel() == "waiting_time"
    assert mm.compare(data, ["gamma", "lognormal"]).plot().axes[0].get_xlabel() == "waiting_time"
    assert plots.density(r, xlabel="minutes").get_xlabel() == "minutes"
    assert mm.fit("gamma", data.to_numpy()).plot().get_xlabel() == "x"


def test_a_comparison_plot_draws_every_ranked_family():
    x = np.random.default_rng(6).gamma(2.0, 1.5, 200)
    comparison = mm.compare(x, ["gamma", "weibull", "lognormal", "exponential", "normal", "beta"])
    fig = comparison.plot()
    legend = [t.get_text().split(" ")[0] for t in fig.axes[0].get_legend().get_texts()]
    ranked = [c.family for c in comparison.candidates if c.usable]
    assert len(ranked) == 5 and legend == ["data"] + ranked
    assert len(fig.axes[1].lines) == 5 + 5  # a Q-Q cloud and an identity line per family


def test_saved_figures_keep_their_axis_labels():
    # large densities give wide tick labels, which push the y label off a fixed-margin figure
    r = mm.fit("gamma", np.random.default_rng(7).gamma(2.0, 2e-6, 300))
    ax = r.plot()
    fig = ax.figure
    fig.savefig(io.BytesIO(), format="png")
    renderer = fig.canvas.get_renderer()
    for label in (ax.xaxis.label, ax.yaxis.label):
        box = label.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, label.get_text()
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, label.get_text()


def test_posterior_plot_marks_mle_and_map():
    ax = plots.prior_likelihood_posterior(COIN_MAP)
    labels = [line.get_label() for line in ax.lines]
    assert any(label.startswith("MLE") for label in labels) and any(label.startswith("MAP") for label in labels)


def test_surface_trio_and_decision_regions():
    rng = np.random.default_rng(2)
    fig, row = plt.subplots(1, 3)
    x = rng.normal(1.0, 2.0, 100)
    prior = {"loc": td.Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))}
    out = plots.surface_trio(mm.fit("normal", x, prior=prior), axes_row=row)
    assert all(drawn(ax) for ax in out)
    X = rng.normal(size=(120, 2))
    y = (X[:, 0] + X[:, 1] + rng.normal(size=120) > 0).astype(int)
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
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    y = (X.to_numpy() @ [1.0, -1.0, 0.0] + rng.normal(size=300) > 0).astype(int)
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
    rng = np.random.default_rng(4)
    comparison = mm.compare(rng.gamma(2.0, 1.5, 200), families=["gamma", "weibull", "lognormal"])
    fig = comparison.plot()
    assert len(fig.axes) == 2 and drawn(fig.axes[0])
    X = rng.normal(size=(100, 4))
    path = mm.regularization_path(X, X[:, 0] + rng.normal(size=100), n_alphas=10)
    ax = plots.coefficient_paths(path)
    assert len(ax.lines) >= 4


def test_importing_mlemap_does_not_import_matplotlib():
    code = "import sys, mlemap; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

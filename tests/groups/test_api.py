"""The grouped fit's tables, summary, figures and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch.distributions as td

import mlemap as mm
from mlemap.inference.intervals import normal_quantile


@pytest.fixture(scope="module")
def machines():
    rng = np.random.default_rng(12)
    sizes = rng.integers(2, 60, 25)
    labels = np.repeat([f"M-{i}" for i in range(25)], sizes)
    hours = rng.weibull(1.6, sizes.sum()) * np.repeat(rng.uniform(50, 150, 25), sizes)
    frame = pd.DataFrame({"machine": labels, "hours": hours}).sample(frac=1.0, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mm.MlemapWarning)
        g = mm.fit("weibull", frame["hours"], groups=frame["machine"])
    return frame, g


def test_tables_are_indexed_by_the_group_labels(machines):
    frame, g = machines
    assert isinstance(g, mm.GroupedFit) and len(g) == 25
    assert g.params.index.name == "machine" and list(g.params.index) == sorted(frame["machine"].unique(), key=str)
    assert list(g.params.columns) == ["scale", "concentration"] and list(g.se.columns) == ["scale", "concentration"]
    counts = frame.groupby("machine").size()
    assert (g.n_obs == counts.loc[g.labels].to_numpy()).all() and (g.n == g.n_obs).all()
    assert g.converged.all() and (g.boundary == "").all() and g.method == "numerical"
    ci = g.conf_int(0.9)
    z = normal_quantile(0.9)
    np.testing.assert_allclose(ci[("scale", "lower")], g.params["scale"] - z * g.se["scale"])
    np.testing.assert_allclose(ci[("concentration", "upper")], g.params["concentration"] + z * g.se["concentration"])
    total = sum(mm.fit("weibull", frame.loc[frame.machine == m, "hours"].to_numpy()).loglik for m in g.labels[:3])
    assert g.loglik.iloc[:3].sum() == pytest.approx(total, rel=1e-10)


def test_one_group_is_a_fit_result(machines):
    frame, g = machines
    one = g["M-7"]
    assert isinstance(one, mm.FitResult) and one.n == g.n["M-7"]
    assert one.converged and one.solver == "batched trust-region Newton"
    assert one.conf_int(method="profile")["scale"][0] < one.params["scale"]
    with pytest.raises(KeyError, match="No group 'M-77'.*Close labels"):
        g["M-77"]
    assert g.group_problem("M-7").n_obs == g.n_obs["M-7"]


def test_long_and_wide_tables(machines):
    _, g = machines
    long = g.to_frame()
    assert list(long.columns) == ["machine", "parameter", "estimate", "se", "lower", "upper", "n", "loglik", "converged", "boundary"]
    assert len(long) == 2 * len(g)
    row = long[(long.machine == "M-3") & (long.parameter == "concentration")].iloc[0]
    assert row.estimate == g.params.loc["M-3", "concentration"] and row.se == g.se.loc["M-3", "concentration"]
    wide = g.to_wide()
    assert wide.loc["M-3", "scale_se"] == g.se.loc["M-3", "scale"]


def test_the_summary_is_readable_at_80_columns(machines):
    _, g = machines
    text = str(g.summary())
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "weibull" in text and "groups 25" in text and "median SE" in text


def test_the_plot_draws_every_group(machines, tmp_path):
    import matplotlib.pyplot as plt

    _, g = machines
    axs = g.plot()
    assert len(axs) == 2 and len(axs[0].collections[-1].get_offsets()) == 25
    axs[0].figure.savefig(tmp_path / "groups.png")
    assert (tmp_path / "groups.png").stat().st_size > 5000
    plt.close("all")
    with pytest.raises(mm.MethodError, match="Unknown parameter 'rate'"):
        g.plot(param="rate")


def test_credible_intervals_need_a_prior(machines):
    _, g = machines
    with pytest.raises(mm.MethodError, match="needs a MAP fit"):
        g.credible_interval()
    with pytest.raises(mm.errors.LevelError):
        g.conf_int(1.5)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "groups, error, match",
    [
        (["a", "b"], mm.ShapeError, "'groups' argument has 2 labels but the data have 4 observations"),
        (["a", None, "b", "a"], mm.DataError, "1 missing label.*row 1.*Give those rows a group label"),
        ([1.0, np.nan, np.nan, 2.0], mm.DataError, "2 missing label.*first is at row 1"),
        (pd.Series(["a", "b", pd.NA, "a"]), mm.DataError, "missing label"),
        ("abcd", mm.DataError, "sequence with one label per observation"),
        (np.zeros((4, 2)), mm.ShapeError, "one label per observation \\(1-D\\)"),
        (pd.DataFrame({"a": [1, 1, 2, 2], "b": [1, 2, 1, 2]}), mm.ShapeError, "combine the columns"),
    ],
)
def test_bad_groups_say_what_and_how_to_fix(groups, error, match):
    with pytest.raises(error, match=match):
        mm.fit("normal", [1.0, 2.0, 3.0, 4.0], groups=groups)


def test_labels_of_any_kind():
    x = [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]
    for groups in ([3, 1, 3, 1, 2, 2], pd.Categorical(["x", "y", "x", "y", "z", "z"]), ["b", 1, "b", 1, 2.5, 2.5]):
        g = mm.fit("normal", x, groups=groups)
        assert len(g) == 3 and g.converged.all()
    g = mm.fit("normal", x, groups=pd.Series([3, 1, 3, 1, 2, 2], name="site"))
    assert list(g.labels) == [1, 2, 3] and g.labels.name == "site"
    assert g.params.loc[3, "loc"] == 2.0


def test_empirical_bayes_needs_groups_and_a_conjugate_pair():
    with pytest.raises(mm.MethodError, match="prior='estimate' needs groups"):
        mm.fit("bernoulli", [0, 1, 1], prior="estimate")
    with pytest.raises(mm.PriorError, match="The 'weibull' family has none"):
        mm.fit("weibull", [1.0, 2.0, 3.0], groups=[0, 0, 1], prior="estimate")
    with pytest.raises(mm.PriorError, match="dict of priors or the string 'estimate'"):
        mm.fit("bernoulli", [0, 1, 1], groups=[0, 0, 1], prior="empirical")
    with pytest.raises(mm.MethodError, match="exposure= applies to empirical Bayes"):
        mm.fit("poisson", [0, 1, 1], groups=[0, 0, 1], exposure=[1, 2, 3])
    with pytest.raises(mm.MethodError, match="exposure= needs groups"):
        mm.fit("poisson", [0, 1, 1], exposure=[1, 2, 3])
    with pytest.raises(mm.WeightsError):
        mm.fit("poisson", [0, 1, 1], groups=[0, 0, 1], prior="estimate", exposure=[1, -2, 3])
    with pytest.raises(mm.MethodError, match="No closed form is registered for the 'weibull' family"):
        mm.fit("weibull", [1.0, 2.0, 3.0], groups=[0, 0, 1], method="closed-form")


def test_explicit_priors_and_numerical_method_are_honoured():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], [10, 30])
    x = rng.normal(1.0, 1.0, 40)
    g = mm.fit("normal", x, groups=labels, method="numerical")
    assert g.method == "numerical"
    closed = mm.fit("normal", x, groups=labels)
    np.testing.assert_allclose(g.params.to_numpy(), closed.params.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(g.se.to_numpy(), closed.se.to_numpy(), rtol=1e-8)
    g = mm.fit("normal", x, groups=labels, fixed={"scale": 1.0}, prior={"loc": td.Normal(0.0, 2.0)})
    assert g.estimator == "MAP" and list(g.params.columns) == ["loc"]
    post = g.estimates.posterior["loc"]
    np.testing.assert_allclose(g.se["loc"].to_numpy(), post.scale.numpy())

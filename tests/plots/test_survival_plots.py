"""Survival pictures: Kaplan-Meier or Turnbull against the fitted curves, as drawn data."""

import numpy as np
import pytest

import mlemap as mm
from mlemap.plots import survival_comparison


def _right(seed=0, n=150):
    rng = np.random.default_rng(seed)
    t = 3 * rng.weibull(1.5, n)
    c = rng.exponential(4, n)
    return mm.censored(np.minimum(t, c), event=(t <= c).astype(int)), t


def test_auto_plot_of_a_censored_fit_is_the_survival_plot(tmp_path):
    y, _ = _right()
    r = mm.fit("weibull", y)
    ax = r.plot()
    fitted = ax.lines[-2]  # the fit, then the legend stand-in for the data
    grid, s = fitted.get_data()
    expected = np.exp(-(grid / r.params["scale"]) ** r.params["concentration"])
    np.testing.assert_allclose(s, expected, rtol=1e-12)
    assert "Kaplan" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    ax.figure.savefig(tmp_path / "km.png")
    assert (tmp_path / "km.png").stat().st_size > 10_000


def test_cdf_view_and_turnbull_boxes_for_interval_data():
    _, t = _right(1)
    lo, hi = np.floor(t), np.floor(t) + 1
    with pytest.warns(mm.IdentifiabilityWarning):
        r = mm.fit("gamma", mm.censored(left=np.where(lo == 0, np.nan, lo), right=hi))
    ax = r.plot("survival", what="cdf")
    assert len(ax.patches) >= 5  # undetermined stretches drawn as boxes
    grid, F = ax.lines[-2].get_data()
    assert F[0] == pytest.approx(0.0, abs=1e-3) and np.all(np.diff(F) >= -1e-15)


def test_truncated_fit_draws_the_conditional_survival():
    x = np.random.default_rng(2).normal(1.0, 2.0, 3000)
    x = x[x > 0.5][:300]
    r = mm.fit("normal", x, truncation=(0.5, None))
    grid, s = r.plot().lines[-2].get_data()
    inside = grid >= 0.5
    assert s[inside][0] == pytest.approx(1.0, abs=0.01) and s[-1] < 0.05


def test_comparison_and_command_line_figures(tmp_path):
    y, _ = _right(3)
    comparison = mm.compare(y, families=["weibull", "lognormal", "gamma"])
    fig = comparison.plot(tmp_path / "compare.png")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(label.startswith("weibull (ΔAIC") for label in labels)
    assert survival_comparison(comparison, top=2).axes
    assert (tmp_path / "compare.png").exists()


def test_density_plots_refuse_censored_fits():
    y, _ = _right(4)
    r = mm.fit("weibull", y)
    with pytest.raises(mm.MethodError, match="kind='survival'"):
        r.plot("density")
    with pytest.raises(mm.MethodError, match="'survival' or 'cdf'"):
        r.plot("survival", what="hazard")


def test_survival_plot_of_uncensored_data_is_the_empirical_survival():
    x = np.random.default_rng(5).gamma(2.0, 1.0, 50)
    ax = mm.fit("gamma", x).plot("survival")
    steps = ax.lines[0].get_data()[1]
    assert steps[-1] == pytest.approx(0.0) and steps[1] == pytest.approx(1 - 1 / 50)

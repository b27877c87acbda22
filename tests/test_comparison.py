"""Comparison in notebooks and pandas: _repr_html_ and to_frame()."""

import numpy as np
import pandas as pd

import mlemap as mm


def test_a_comparison_renders_in_notebooks_and_converts_to_a_frame():
    x = np.random.default_rng(0).gamma(2.0, 1.5, 200)
    comparison = mm.compare(x, ["gamma", "weibull", "beta", "normal"])
    frame = comparison.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == [c.family for c in comparison.candidates]
    assert list(frame["rank"].iloc[:3]) == [1, 2, 3] and pd.isna(frame.loc["beta", "rank"])
    assert frame.loc["gamma", "k"] == 2 and str(frame["k"].dtype) == "Int64"
    best = comparison.candidates[0].result
    assert frame.loc["gamma", "aic"] == best.aic and frame.loc["gamma", "delta_aic"] == 0.0
    assert frame.loc["beta", "status"] == "not applicable"
    assert abs(frame["akaike_weight"].sum() - 1) < 1e-12
    html = comparison._repr_html_()
    assert html.startswith('<div class="mlemap-comparison">') and "<td>gamma</td>" in html
    assert "beta: not applicable (data outside its support)" in html

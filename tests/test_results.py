"""FitResult in notebooks and pandas: _repr_html_ and to_frame()."""

import numpy as np
import pandas as pd
import pytest
import torch.distributions as td

import mlemap as mm


def test_a_fit_result_renders_in_notebooks_and_converts_to_a_frame():
    r = mm.fit("gamma", np.random.default_rng(0).gamma(2.0, 1.5, 200))
    html = r._repr_html_()
    assert html.startswith('<div class="mlemap-summary">') and "concentration" in html and "95% CI (wald)" in html
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame) and list(frame.index) == ["concentration", "rate"]
    assert frame.loc["rate", "estimate"] == r.params["rate"]
    assert frame.loc["rate", "se"] == pytest.approx(r.se["rate"])
    lo, hi = r.conf_int(0.9)["rate"]
    assert tuple(r.to_frame(level=0.9).loc["rate", ["lower", "upper"]]) == pytest.approx((lo, hi))


def test_a_map_fit_frame_names_the_prior():
    r = mm.fit("bernoulli", [1, 1, 0], prior={"probs": td.Beta(2.0, 2.0)})
    assert r.to_frame().loc["probs", "prior"].startswith("Beta(")
    assert "credible" in r._repr_html_()

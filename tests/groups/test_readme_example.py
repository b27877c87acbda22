"""The README's empirical-Bayes example, run as written: the numbers it shows hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlemap as mm


def test_the_readme_ads_example():
    rng = np.random.default_rng(7)
    impressions = np.exp(rng.uniform(np.log(5), np.log(5000), 1000)).astype(int)
    ctr = rng.beta(3, 60, 1000)
    ads = pd.DataFrame({"ad": np.repeat([f"ad-{i:04d}" for i in range(1000)], impressions),
                        "clicked": rng.binomial(1, np.repeat(ctr, impressions))})
    eb = mm.fit("bernoulli", ads["clicked"], groups=ads["ad"], prior="estimate")
    assert repr(eb.prior) == "{'probs': Beta(2.54, 51.2)}"
    h = eb.hyperparameters
    assert h.loc["concentration1", "estimate"] == pytest.approx(2.541555, abs=5e-7)
    assert h.loc["concentration0", "se"] == pytest.approx(3.368455, abs=5e-7)
    assert h.loc["mean", "estimate"] == pytest.approx(0.047260, abs=5e-7)
    a, b = h.loc["concentration1", "estimate"], h.loc["concentration0", "estimate"]
    assert (a - 1) / (a + b + 10 - 2) == pytest.approx(0.025, abs=5e-4)  # "no click in ten impressions: about 2.5%"
    alone = mm.fit("bernoulli", ads.loc[ads.ad == "ad-0001", "clicked"], prior=eb.prior)
    assert eb["ad-0001"].params == alone.params

"""Over a source, what main's engine decides from the data: the negative binomial's Poisson limit
(moments by one reduction), zero counts in a Poisson regression (found on the sample, confirmed on
every row), and the in-memory-only options refused with a typed error."""

import warnings

import numpy as np
import pandas as pd
import pytest

import mlemap as mm
from mlemap.errors import MethodError


def _parquet(folder, frame, name="data.parquet", rows=40):
    path = folder / name
    frame.to_parquet(path, row_group_size=rows)
    return str(path)


def test_negative_binomial_without_overdispersion_is_held_at_the_poisson_limit(tmp_path):
    x = np.random.default_rng(3).poisson(3.0, size=300).astype(float)
    assert x.var() <= x.mean()
    path = _parquet(tmp_path, pd.DataFrame({"x": x}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streamed = mm.fit("negative_binomial", mm.scan(path, column="x", chunk_rows=37))
        in_memory = mm.fit("negative_binomial", x)
    for name in ("total_count", "probs"):
        assert streamed.params[name] == pytest.approx(in_memory.params[name], rel=1e-10)
    assert streamed.params["total_count"] > 1e12


def test_poisson_zero_counts_over_a_source_are_diagnosed_like_in_memory(tmp_path):
    rng = np.random.default_rng(4)
    n = 240
    g = rng.choice(["a", "b", "c"], n)
    x = rng.normal(size=n)
    y = rng.poisson(np.exp(0.5 + 0.3 * x))
    y[g == "c"] = 0  # a category whose counts are all 0: its coefficient runs to minus infinity
    frame = pd.DataFrame({"y": y, "x": x, "g": g})
    path = _parquet(tmp_path, frame)
    with pytest.warns(mm.SeparationWarning, match="zero"):
        streamed = mm.regress("y ~ x + C(g)", data=mm.scan(path), family="poisson")
    with pytest.warns(mm.SeparationWarning, match="zero"):
        in_memory = mm.regress("y ~ x + C(g)", data=frame, family="poisson")
    assert "zero counts" in streamed.summary().to_dict()["message"]
    assert streamed.separation_.n_zero == in_memory.separation_.n_zero
    assert streamed.separation_.n_to_zero == in_memory.separation_.n_to_zero
    np.testing.assert_allclose(streamed.separation_.direction, in_memory.separation_.direction, atol=1e-9)


@pytest.mark.parametrize("option", [{"truncation": (0.0, None)}, {"groups": [0, 1]}, {"prior": "estimate"}])
def test_in_memory_only_options_are_refused_over_a_source(tmp_path, option):
    path = _parquet(tmp_path, pd.DataFrame({"x": np.linspace(0.5, 3.0, 50)}))
    with pytest.raises(MethodError, match="in memory"):
        mm.fit("gamma", mm.scan(path, column="x"), **option)


def test_a_survival_formula_over_a_source_is_refused(tmp_path):
    frame = pd.DataFrame({"t": np.linspace(1.0, 5.0, 30), "e": np.tile([0, 1], 15), "x": np.linspace(0, 1, 30)})
    path = _parquet(tmp_path, frame)
    with pytest.raises(mm.errors.FormulaError, match="Surv"):
        mm.regress("Surv(t, e) ~ x", data=mm.scan(path))

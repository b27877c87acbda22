"""Comparison in notebooks and pandas: _repr_html_ and to_frame()."""

import numpy as np
import pandas as pd
import pytest

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


def _ranked(comparison):
    return [(c.family, c.status) for c in comparison.candidates]


def test_a_boundary_fit_is_ranked_after_every_regular_fit():
    # underdispersed counts: the negative binomial is the Poisson limit (a boundary estimate)
    x = [2, 3, 2, 3, 2, 3, 2, 3, 1, 3]
    comparison = mm.compare(x, ["negative_binomial", "geometric", "poisson"])
    statuses = [c.status for c in comparison.candidates]
    assert statuses == ["ok", "ok", "boundary"] and comparison.candidates[2].family == "negative_binomial"
    assert comparison.best.family == "poisson"
    nb = comparison.candidates[2]
    poisson = comparison.candidates[0].result
    assert nb.delta_aic == nb.result.aic - poisson.aic and np.isnan(nb.weight)
    assert abs(sum(c.weight for c in comparison.candidates[:2]) - 1) < 1e-12


def test_a_boundary_fit_with_a_lower_aic_still_comes_after_a_regular_one():
    # ten heads of ten: the Bernoulli's probs = 1 is a boundary estimate with log-likelihood 0, the best AIC;
    # the geometric (every count 1 failure: probs = 1/2) is a regular fit
    comparison = mm.compare([1] * 10, ["bernoulli", "geometric"])
    assert _ranked(comparison) == [("geometric", "ok"), ("bernoulli", "boundary")]
    bernoulli = comparison.candidates[1]
    assert bernoulli.result.aic < comparison.candidates[0].result.aic and bernoulli.delta_aic < 0
    assert comparison.best.family == "geometric"


def test_only_boundary_fits_are_ranked_and_weighted_among_themselves():
    comparison = mm.compare([1] * 10, ["bernoulli"])
    assert _ranked(comparison) == [("bernoulli", "boundary")] and comparison.candidates[0].weight == 1.0


def test_huge_values_are_never_ranked_above_a_finite_fit():
    # the families whose squared scale overflows fail with that reason; those that work on the logs
    # (lognormal, uniform, Pareto) are ranked with finite numbers
    for families in ("continuous", "discrete"):
        comparison = mm.compare([1e300, 2e300, 3e300], families)
        failed = [c for c in comparison.candidates if c.status == "failed"]
        assert failed and all(c.result is None for c in failed)
        assert all("overflows float64" in c.reason for c in failed if families == "continuous")
        ranked = [c for c in comparison.candidates if c.usable]
        assert ranked and comparison.candidates[: len(ranked)] == ranked
        for c in ranked:
            assert np.isfinite(c.result.loglik) and np.isfinite(c.result.aic)
        payload = comparison.to_dict()
        assert payload["best"] == ranked[0].family
        assert all(row["loglik"] is not None for row in payload["candidates"] if row["rank"] is not None)


def test_a_non_finite_log_likelihood_is_a_failure_not_a_rank(monkeypatch):
    from mlemap import comparison as module

    real_fit = module.fit

    def fit(name, data, **options):
        result = real_fit(name, data, **options)
        if name == "normal":
            result.estimate.__dict__["loglik"] = float("nan")  # what an overflow inside a family would give
        return result

    monkeypatch.setattr(module, "fit", fit)
    comparison = mm.compare(np.random.default_rng(1).gamma(2.0, 1.0, 50), ["normal", "gamma"])
    assert _ranked(comparison) == [("gamma", "ok"), ("normal", "failed")]
    assert "not a finite number" in comparison.candidates[1].reason


@pytest.mark.parametrize("data", [[], ["a", "b"], None, "abc", {"a": 1}, [[1, 2], [3, 4]], [1.0, float("nan")]],
                         ids=["empty", "strings", "none", "text", "dict", "matrix", "nan"])
def test_unusable_data_give_a_table_of_failures(data):
    comparison = mm.compare(data, ["normal", "gamma", "poisson"])
    assert comparison.best is None
    assert all(c.status in ("failed", "not applicable") and c.reason for c in comparison.candidates)
    assert comparison.to_dict()["best"] is None and "rank" in str(comparison)


def test_no_families_is_a_typed_error():
    with pytest.raises(mm.ParameterError, match="at least one family"):
        mm.compare([1.0, 2.0], [])

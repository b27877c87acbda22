"""Groups at a boundary, without an estimate, or not converged: flagged with the reason, named in
the warning, and never changing the other groups' answers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mlemap as mm


def fit_recording(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", mm.MlemapWarning)
        g = mm.fit(*args, **kwargs)
    return g, caught


def _healthy(rng, family):
    draw = {"bernoulli": lambda n: rng.binomial(1, 0.4, n).astype(float),
            "weibull": lambda n: rng.weibull(2.0, n) * 3,
            "normal": lambda n: rng.normal(1.0, 2.0, n),
            "gamma": lambda n: rng.gamma(2.0, 1.0, n)}[family]
    return {f"ok{i}": draw(n) for i, n in enumerate([5, 20, 60])}


BAD_GROUPS = {
    # family: bad group -> (its rows, what g.boundary says)
    "bernoulli": {"all heads": (np.ones(7), "probs:"), "all tails": (np.zeros(3), "probs:"), "one row": (np.ones(1), "probs:")},
    "weibull": {"one row": (np.array([2.5]), "no estimate: All 1 observations are equal"),
                "all equal": (np.full(4, 1.5), "no estimate: All 4 observations are equal")},
    "normal": {"one row": (np.array([0.3]), "no estimate"), "all equal": (np.full(3, -2.0), "no estimate")},
    "gamma": {"one row": (np.array([4.0]), "no estimate"), "all equal": (np.full(6, 0.5), "no estimate")},
}


@pytest.mark.parametrize("family", sorted(BAD_GROUPS))
def test_bad_groups_are_flagged_and_leave_the_others_unchanged(family):
    rng = np.random.default_rng(8)
    healthy = _healthy(rng, family)
    groups = {**healthy, **{k: v[0] for k, v in BAD_GROUPS[family].items()}}
    labels = np.concatenate([[k] * len(v) for k, v in groups.items()])
    x = np.concatenate(list(groups.values()))
    g, caught = fit_recording(family, x, groups=labels)
    alone, _ = fit_recording(family, np.concatenate(list(healthy.values())),
                             groups=np.concatenate([[k] * len(v) for k, v in healthy.items()]))
    for label in healthy:
        assert g.boundary[label] == ""
        # a numerical family starts every group at the pooled data's starting values, so the other groups move
        # the start, and the optimum within the convergence criteria's tolerance
        np.testing.assert_allclose(g.params.loc[label].to_numpy(), alone.params.loc[label].to_numpy(), rtol=1e-8)
        np.testing.assert_allclose(g.se.loc[label].to_numpy(), alone.se.loc[label].to_numpy(), rtol=1e-8)
    for label, (_, says) in BAD_GROUPS[family].items():
        assert g.boundary[label].startswith(says), (label, g.boundary[label])
        assert g.se.loc[label].isna().all()
    # one warning names the groups concerned
    text = " ".join(str(w.message) for w in caught)
    for label in BAD_GROUPS[family]:
        assert repr(label) in text


def test_a_boundary_group_fit_alone_says_the_same():
    x = np.r_[np.ones(6), [1, 0, 1, 0, 0]]
    labels = ["A"] * 6 + ["B"] * 5
    g, caught = fit_recording("bernoulli", x, groups=labels)
    assert g.params.loc["A", "probs"] == 1.0 and np.isnan(g.se.loc["A", "probs"])
    assert any(issubclass(w.category, mm.BoundaryWarning) and "'A'" in str(w.message) for w in caught)
    with pytest.warns(mm.BoundaryWarning):
        alone = mm.fit("bernoulli", np.ones(6))
    one = g["A"]
    assert one.boundary == alone.boundary and one.params == alone.params
    assert "probs" in one.se_reasons
    assert g.boundary["A"] == "probs: " + alone.boundary["probs"]


def test_a_group_without_an_estimate_cannot_be_opened_and_says_why():
    g, _ = fit_recording("weibull", [1.0, 2.0, 3.0, 5.0], groups=["a", "a", "a", "b"])
    with pytest.raises(mm.DataError, match="Group 'b' has no estimate: All 1 observations are equal"):
        g["b"]
    assert not g.converged["b"] and g.converged["a"]
    assert g.params.loc["b"].isna().all() and np.isnan(g.loglik["b"])


def test_groups_that_do_not_converge_are_marked_and_named():
    rng = np.random.default_rng(1)
    sizes = [30, 30, 30]
    labels = np.repeat(["slow-1", "slow-2", "slow-3"], sizes)
    x = rng.weibull(np.repeat([0.3, 5.0, 1.0], sizes)) * np.repeat([1e-3, 1e3, 1.0], sizes)
    start = {"concentration": 1.0}  # the same start for every group (not the profile start, which lands on the MLE)
    with pytest.warns(mm.ConvergenceWarning) as record:
        g = mm.fit("weibull", x, groups=labels, max_iter=2, init=start)
    message = " ".join(str(w.message) for w in record)
    stuck = [label for label in g.labels if not g.converged[label]]
    assert stuck and all(repr(label) in message for label in stuck)
    assert all(g.messages[label].startswith("reached max_iter=2") for label in stuck)
    assert "failed" in g.messages[stuck[0]]
    full = mm.fit("weibull", x, groups=labels, init=start)
    assert full.converged.all() and (full.n_iter > 2).any()


def test_student_t_groups_whose_df_runs_off_are_held_at_the_limit():
    rng = np.random.default_rng(0)
    labels = np.repeat(["light", "heavy"], [400, 400])
    x = np.r_[rng.uniform(-1, 1, 400), rng.standard_t(2.0, 400)]  # tails lighter than a normal's: df runs off
    g, _ = fit_recording("studentt", x, groups=labels)
    assert g.converged.all()
    assert g.boundary["light"].startswith("df:") and g.params.loc["light", "df"] > 1e6
    assert g.boundary["heavy"] == "" and 1 < g.params.loc["heavy", "df"] < 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.MlemapWarning)
        alone = mm.fit("studentt", x[400:])
    for name in ("loc", "scale", "df"):
        assert g.params.loc["heavy", name] == pytest.approx(alone.params[name], rel=1e-6)


def test_families_without_a_batched_route_fit_group_by_group():
    rng = np.random.default_rng(3)
    labels = np.repeat(["a", "b", "c"], [1, 12, 40])
    x = rng.laplace(0.0, 1.0, 53)
    g, _ = fit_recording("laplace", x, groups=labels)
    assert g.method.startswith("per group") and g.boundary["a"].startswith("no estimate")
    for label in ("b", "c"):
        alone = mm.fit("laplace", x[labels == label])
        assert g.params.loc[label].to_dict() == alone.params
        assert g[label].params == alone.params
    cats = rng.integers(0, 3, 53)
    g, _ = fit_recording("categorical", cats, groups=labels)
    assert list(g.params.columns) == ["probs[0]", "probs[1]", "probs[2]"]
    alone = mm.fit("categorical", cats[labels == "c"])
    np.testing.assert_allclose(g.params.loc["c"].to_numpy(), alone.params["probs"], rtol=1e-14)

"""Segment reductions and the batched starts against their definitions.

* :class:`~mlemap.groups.segments.Segments` sums, maxima, spreads and selections equal a loop over
  the groups (uneven sizes, size 1 included, and equal sizes);
* the batched objective, summed over pieces of whole groups, is the same for any piece size, and its
  closed-form kernel agrees with autograd on the family's ``log_prob`` (weights and a fixed value);
* the batched Weibull and gamma starts land on each group's maximum-likelihood estimate, checked
  against an independent Newton-polished minimum of the log-likelihood written in torch (weighted
  and not); groups where they cannot converge (one observation) are left to the family's start;
* a grouped Weibull fit from that start meets the exact convergence criteria in every group;
* groups whose rows are all equal (also modulo a full turn) are refused with the single fit's reason.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import mlemap as mm
from mlemap.families import resolve_family
from mlemap.groups.labels import group_index
from mlemap.groups.problem import GroupedProblem
from mlemap.groups.segments import Segments
from mlemap.groups.starts import batched_start

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference import polished_minimum  # noqa: E402


def uneven_lengths(seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.as_tensor(np.r_[1, rng.integers(1, 40, 30), 1, 2])


@pytest.mark.parametrize("lengths", [uneven_lengths(0), torch.full((7,), 5)], ids=["uneven", "equal"])
def test_segment_reductions_equal_a_loop_over_the_groups(lengths):
    seg = Segments(lengths)
    values = torch.as_tensor(np.random.default_rng(1).normal(size=int(lengths.sum())))
    blocks = torch.split(values, lengths.tolist())
    assert torch.allclose(seg.sum(values), torch.stack([b.sum() for b in blocks]), rtol=1e-14, atol=1e-14)
    assert torch.equal(seg.max(values), torch.stack([b.max() for b in blocks]))
    assert torch.equal(seg.min(values), torch.stack([b.min() for b in blocks]))
    per_group = torch.arange(seg.size, dtype=torch.float64)
    spread = torch.cat([torch.full((n,), float(i), dtype=torch.float64) for i, n in enumerate(lengths.tolist())])
    assert torch.equal(seg.spread(per_group), spread)
    assert torch.equal(seg.rowwise(torch.sub, values, per_group), values - spread)
    keep = torch.as_tensor(np.random.default_rng(2).random(seg.size) < 0.5)
    sub, positions = seg.select(keep)
    assert torch.equal(sub.lengths, lengths[keep])
    assert torch.equal(values[positions], torch.cat([b for b, k in zip(blocks, keep.tolist()) if k]))


def grouped_problem(family_name, x, labels, weights=None, fixed=None):
    family = resolve_family(family_name)
    x = torch.as_tensor(x, dtype=torch.float64)
    index = group_index(labels, x.shape[0])
    w = None if weights is None else torch.as_tensor(weights, dtype=torch.float64)
    return GroupedProblem(family, x, w, fixed or {}, {}, index)


@pytest.mark.parametrize("fixed", [{}, {"scale": torch.tensor(2.0, dtype=torch.float64)}], ids=["free", "scale fixed"])
def test_objective_is_the_same_for_any_piece_size_by_kernel_or_autograd(monkeypatch, fixed):
    from mlemap.groups import objective

    rng = np.random.default_rng(6)
    lengths = uneven_lengths(7)
    x = rng.weibull(1.7, int(lengths.sum())) * 3.0
    w = rng.uniform(0.5, 2.0, x.size)
    problem = grouped_problem("weibull", x, np.repeat(np.arange(lengths.numel()), lengths.numpy()), w, fixed)
    names = [n for n in ("scale", "concentration") if n not in fixed]
    some = torch.tensor([0, 3, 4, 9, 30, 31])
    u = torch.as_tensor(rng.normal(0.0, 0.5, (some.numel(), len(names))))

    def evaluate(piece_rows: int, kernels: bool):
        monkeypatch.setattr(objective, "ROWS_PER_PIECE", piece_rows)
        monkeypatch.setattr(objective, "KERNEL_ROWS_PER_PIECE", piece_rows)
        monkeypatch.setattr(objective, "kernel_of", objective.kernel_of if kernels else (lambda family: None))
        return objective.BatchObjective(problem, names).evaluate(u, some)

    reference = evaluate(1 << 20, kernels=False)
    for piece_rows in (1, 7, 50, 1 << 20):
        for kernels in (False, True):
            for got, want in zip(evaluate(piece_rows, kernels), reference):
                assert torch.allclose(got, want, rtol=1e-12, atol=1e-12), (piece_rows, kernels)


def weibull_minimum(x: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """(scale, concentration) maximising the weighted Weibull log-likelihood, polished by Newton."""
    lx, wt = torch.as_tensor(np.log(x)), torch.as_tensor(w)

    def negative_loglik(u):  # u = (log scale, log concentration)
        k = torch.exp(u[1])
        t = lx - u[0]
        return -(wt * (u[1] - u[0] + (k - 1) * t - torch.exp(k * t))).sum()

    u = polished_minimum(negative_loglik, np.array([np.log(x.mean()), 0.0]))
    return {"scale": np.exp(u[0]), "concentration": np.exp(u[1])}


def gamma_minimum(x: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """(concentration, rate) maximising the weighted gamma log-likelihood, polished by Newton."""
    xt, lx, wt = torch.as_tensor(x), torch.as_tensor(np.log(x)), torch.as_tensor(w)

    def negative_loglik(u):  # u = (log concentration, log rate)
        a, b = torch.exp(u[0]), torch.exp(u[1])
        return -(wt * (a * u[1] - torch.lgamma(a) + (a - 1) * lx - b * xt)).sum()

    u = polished_minimum(negative_loglik, np.array([0.0, -np.log(x.mean())]))
    return {"concentration": np.exp(u[0]), "rate": np.exp(u[1])}


STARTS = {  # family: (draw of a group's rows, reference estimate)
    "weibull": (lambda rng, n: rng.weibull(rng.uniform(0.4, 6.0), n) * 10.0 ** rng.uniform(-3, 3), weibull_minimum),
    "gamma": (lambda rng, n: rng.gamma(rng.uniform(0.3, 60.0), 10.0 ** rng.uniform(-3, 3), n), gamma_minimum),
}


@pytest.mark.parametrize("family_name", sorted(STARTS))
@pytest.mark.parametrize("weighted", [False, True])
def test_batched_start_is_each_groups_maximum_likelihood_estimate(family_name, weighted):
    draw, reference = STARTS[family_name]
    rng = np.random.default_rng(3)
    lengths = np.r_[2, rng.integers(3, 60, 12), 1]  # the last group: one observation
    x = np.concatenate([draw(rng, n) for n in lengths])
    w = rng.integers(1, 5, x.size).astype(float) if weighted else np.ones(x.size)
    labels = np.repeat(np.arange(lengths.size), lengths)
    order = rng.permutation(x.size)  # rows in any order
    problem = grouped_problem(family_name, x[order], labels[order], w[order] if weighted else None)
    names = list(problem.free)
    groups = torch.arange(lengths.size)
    values, found = batched_start(problem, names, {}, groups)
    assert found[:-1].all() and not found[-1]
    assert all(torch.isnan(values[n][-1]) for n in names)
    for b in range(lengths.size - 1):
        rows = labels == b
        want = reference(x[rows], w[rows])
        for n in names:
            assert float(values[n][b]) == pytest.approx(want[n], rel=1e-10), (b, n)
    # a subset of the groups reads only their rows
    some = torch.tensor([1, 4, 5])
    sub, sub_found = batched_start(problem, names, {}, some)
    assert sub_found.all()
    for n in names:
        assert torch.allclose(sub[n], values[n][some], rtol=1e-13, atol=0)


def test_weibull_start_steps_aside_for_starting_values_and_a_fixed_parameter():
    x = np.random.default_rng(4).weibull(1.5, 40)
    problem = grouped_problem("weibull", x, np.repeat([0, 1], 20))
    assert batched_start(problem, ["scale", "concentration"], {"concentration": 1.0}, torch.arange(2)) is None
    assert batched_start(problem, ["scale"], {}, torch.arange(2)) is None


def test_grouped_weibull_from_the_batched_start_meets_the_criteria_everywhere():
    rng = np.random.default_rng(5)
    lengths = np.r_[rng.integers(2, 50, 40), 3]
    x = rng.weibull(np.repeat(rng.uniform(0.3, 8.0, lengths.size), lengths)) * np.repeat(10.0 ** rng.uniform(-4, 4, lengths.size), lengths)
    x[-3:] = 2.5  # an all-equal group: no estimate, left out of the batch
    labels = np.repeat(np.arange(lengths.size), lengths)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.MlemapWarning)
        g = mm.fit("weibull", x, groups=labels)
    ok = g.converged.to_numpy()
    assert ok[:-1].all() and not ok[-1]
    _, report, _ = g.estimates.reports
    assert bool(report.converged.all())
    assert (report.scaled_gradient <= 1e-6).all() and (report.decrement <= report.decrement_tol).all()


@pytest.mark.parametrize("family_name, rows, refused", [
    ("weibull", [[1.5, 1.5, 1.5], [1.5, 2.0, 1.5], [3.0]], {0, 2}),
    ("vonmises", [[0.5, 0.5 + 2 * np.pi, 0.5 - 2 * np.pi], [0.5, 0.6], [-1.0, -1.0]], {0, 2}),
])
def test_groups_whose_rows_are_all_equal_are_refused_with_the_familys_reason(family_name, rows, refused):
    x = np.concatenate(rows)
    labels = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    problem = grouped_problem(family_name, x, labels)
    assert set(problem.degenerate) == refused
    for code, why in problem.degenerate.items():
        with pytest.raises(mm.DataError) as single:
            mm.fit(family_name, np.asarray(rows[code]))
        assert why == str(single.value)

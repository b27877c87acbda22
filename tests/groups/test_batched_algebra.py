"""The batched building blocks against their single-group definitions.

* grouped sufficient statistics equal each group's own ``family.statistics`` (every family with
  statistics, weighted and not);
* the batched convergence criteria equal :func:`mlemap.optim.convergence.assess` group by group;
* the batched trust-region steps satisfy the Moré–Sorensen optimality conditions;
* the batched covariance equals :func:`mlemap.inference.covariance.invert_information`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import mlemap as mm
from mlemap.families import resolve_family
from mlemap.groups.convergence import assess_batch
from mlemap.groups.covariance import invert_batch
from mlemap.groups.labels import group_index
from mlemap.groups.problem import GroupedProblem
from mlemap.groups.subproblem import exact_steps
from mlemap.inference.covariance import invert_information
from mlemap.optim.convergence import CRITERIA, assess

SAMPLES = {
    "bernoulli": lambda rng, n: rng.binomial(1, 0.3, n),
    "geometric": lambda rng, n: rng.geometric(0.4, n) - 1,
    "poisson": lambda rng, n: rng.poisson(3.0, n),
    "normal": lambda rng, n: rng.normal(2.0, 3.0, n),
    "lognormal": lambda rng, n: rng.lognormal(0.0, 1.0, n),
    "halfnormal": lambda rng, n: np.abs(rng.normal(0.0, 2.0, n)),
    "exponential": lambda rng, n: rng.exponential(2.0, n),
    "gamma": lambda rng, n: rng.gamma(2.0, 1.5, n),
    "beta": lambda rng, n: rng.beta(2.0, 3.0, n),
    "uniform": lambda rng, n: rng.uniform(1.0, 4.0, n),
    "pareto": lambda rng, n: (rng.pareto(3.0, n) + 1) * 2,
    "vonmises": lambda rng, n: rng.vonmises(0.3, 2.0, n),
}


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a, b, rtol=1e-12, atol=1e-12 * (1 + float(b.abs().max()))))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_grouped_statistics_are_each_groups_own(name, weighted):
    rng = np.random.default_rng(4)
    sizes = [1, 2, 7, 30]
    codes = rng.permutation(np.repeat(np.arange(4), sizes))
    x = torch.as_tensor(SAMPLES[name](rng, len(codes)), dtype=torch.float64)
    w = torch.as_tensor(rng.integers(1, 5, len(codes)), dtype=torch.float64) if weighted else None
    family = resolve_family(name)
    problem = GroupedProblem(family, x, w, {}, {}, group_index(codes, len(codes)))
    batch = problem.statistics
    assert batch is not None
    for g in range(4):
        mask = torch.as_tensor(codes == g)
        alone = family.statistics(family.features(x[mask], {}), None if w is None else w[mask])
        assert _close(batch.weight[g], alone.weight)
        for k, v in alone.sums.items():
            assert _close(batch.sums[k][g], v), k
        for k, (mean, m2) in alone.moments.items():
            assert _close(batch.moments[k][0][g], mean) and _close(batch.moments[k][1][g], m2), k
        for k, (lo, hi) in alone.extremes.items():
            assert _close(batch.extremes[k][0][g], lo) and _close(batch.extremes[k][1][g], hi), k
        for k, parts in getattr(alone, "log_gaps", {}).items():  # where a family keeps log-gaps
            for got, want in zip((v[g] for v in batch.log_gaps[k]), parts):
                assert _close(got, want), k


def test_binomial_statistics_with_a_total_count_per_row():
    rng = np.random.default_rng(2)
    codes = np.repeat([0, 1, 2], [3, 5, 9])
    n = torch.as_tensor(rng.integers(1, 12, 17), dtype=torch.float64)
    x = torch.as_tensor(rng.binomial(n.numpy().astype(int), 0.4), dtype=torch.float64)
    family = resolve_family("binomial")
    problem = GroupedProblem(family, x, None, {"total_count": n}, {}, group_index(codes, 17))
    for g in range(3):
        m = torch.as_tensor(codes == g)
        alone = family.statistics(family.features(x[m], {"total_count": n[m]}), None)
        for k, v in alone.sums.items():
            assert _close(problem.statistics.sums[k][g], v), k


def _random_problems(rng, B: int, p: int):
    """Gradients and Hessians of every kind: definite, semi-definite, indefinite, badly scaled, non-finite."""
    g = torch.as_tensor(rng.normal(size=(B, p)))
    Q = torch.linalg.qr(torch.as_tensor(rng.normal(size=(B, p, p))))[0]
    evals = torch.as_tensor(rng.choice([-1.0, 0.0, 1e-20, 1e-3, 1.0, 1e6], size=(B, p)))
    H = Q @ torch.diag_embed(evals) @ Q.transpose(1, 2)
    scale = torch.as_tensor(10.0 ** rng.uniform(-6, 6, size=(B, p)))
    H = H * scale[:, :, None] * scale[:, None, :]
    g = g * scale * torch.as_tensor(10.0 ** rng.uniform(-14, 0, size=(B, 1)))
    f = torch.as_tensor(rng.choice([0.0, -3.0, 1e8], size=B))
    H[0, 0, 0] = float("nan")
    f[1] = float("inf")
    return f, g, H


@pytest.mark.parametrize("p", [1, 2, 3])
def test_batched_criteria_are_assess_per_group(p):
    rng = np.random.default_rng(p)
    f, g, H = _random_problems(rng, 300, p)
    batch = assess_batch(f, g, H, ftol=1e-15, gtol=1e-6)
    for b in range(300):
        one = assess(float(f[b]), g[b].numpy(), H[b].numpy(), ftol=1e-15, gtol=1e-6)
        got = batch.report(b)
        assert got.failed == one.failed, (b, got.describe(), one.describe())
        conditioned = one.min_curvature > 1e-8  # elsewhere the values are rounding noise; the verdicts agree
        tolerances = {"scaled_gradient": (1e-9, 0), "decrement_tol": (1e-12, 0), "min_curvature": (0, 1e-12),
                      "decrement": (1e-6, 0) if conditioned else None}
        for field, tol in tolerances.items():
            a, e = getattr(got, field), getattr(one, field)
            if tol is None or (np.isinf(a) and np.isinf(e) and np.sign(a) == np.sign(e)):
                continue
            assert np.isclose(a, e, rtol=tol[0], atol=tol[1]), (b, field, a, e)
    assert set(CRITERIA) >= {c for b in range(300) for c in batch.report(b).failed}


@pytest.mark.parametrize("p", [1, 2, 4])
def test_batched_steps_solve_the_trust_region_subproblem(p):
    """Moré–Sorensen: (H + mu I) t = -g, mu >= 0, H + mu I positive semi-definite, mu (delta - |t|) = 0."""
    rng = np.random.default_rng(10 + p)
    B = 400
    A = torch.as_tensor(rng.normal(size=(B, p, p)))
    H = 0.5 * (A + A.transpose(1, 2)) * torch.as_tensor(rng.choice([0.1, 1.0, 10.0], size=(B, 1, 1)))
    g = torch.as_tensor(rng.normal(size=(B, p)))
    g[:20] = 0.0  # stationary points
    g[20:40, 0] = 0.0  # gradients orthogonal to an axis (hard cases where that axis is the lowest eigenvector)
    delta = torch.as_tensor(10.0 ** rng.uniform(-2, 1, B))
    evals, evecs = torch.linalg.eigh(H)
    step = exact_steps(evals, evecs, g, delta)
    t = step.t
    norm = t.norm(dim=1)
    assert bool((norm <= delta * (1 + 1e-9)).all())
    model = (g * t).sum(1) + 0.5 * (t * (H @ t.unsqueeze(-1)).squeeze(-1)).sum(1)
    assert torch.allclose(-model, step.predicted, rtol=1e-9, atol=1e-12)
    assert bool((step.predicted >= -1e-12).all())
    # the global minimum of the model in the ball: no random point of the ball does better
    for _ in range(50):
        d = torch.as_tensor(rng.normal(size=(B, p)))
        d = d / d.norm(dim=1, keepdim=True) * delta[:, None] * torch.as_tensor(rng.uniform(0, 1, (B, 1))) ** (1 / p)
        other = (g * d).sum(1) + 0.5 * (d * (H @ d.unsqueeze(-1)).squeeze(-1)).sum(1)
        assert bool((model <= other + 1e-9 * (1 + other.abs())).all())
    inside = step.newton
    assert bool((evals[inside, 0] > 0).all())


def test_batched_covariance_is_invert_information_per_group():
    rng = np.random.default_rng(3)
    f, g, H = _random_problems(rng, 200, 3)
    cov, reasons = invert_batch(H, "observed information")
    for b in range(200):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mm.MlemapWarning)
            one, why = invert_information(H[b], what="observed information")
        assert (why is None) == (b not in reasons), (b, why, reasons.get(b))
        if why is None:
            assert torch.allclose(cov[b], one, rtol=1e-9, atol=0), b
        else:
            assert reasons[b] == why


@pytest.mark.parametrize("p", [1, 2])
def test_small_eigendecompositions_in_closed_form_match_lapack(p):
    from mlemap.groups.subproblem import symmetric_eigh

    rng = np.random.default_rng(30 + p)
    B = 2000
    Q = torch.linalg.qr(torch.as_tensor(rng.normal(size=(B, p, p))))[0]
    evals = torch.as_tensor(rng.choice([-1.0, 1.0], (B, p)) * 10.0 ** rng.uniform(-12, 12, (B, p)))
    evals[:100] = 1.0  # repeated eigenvalues
    evals[100:200, 0] = 0.0  # singular
    A = Q @ torch.diag_embed(evals) @ Q.transpose(1, 2)
    A = 0.5 * (A + A.transpose(1, 2))
    w, V = symmetric_eigh(A)
    w_ref = torch.linalg.eigvalsh(A)
    size = A.abs().amax((1, 2))
    assert bool(((w - w_ref).abs() <= 1e-14 * size[:, None]).all())
    assert bool((w[:, :-1] <= w[:, 1:]).all())
    assert torch.allclose(V.transpose(1, 2) @ V, torch.eye(p, dtype=A.dtype).expand(B, p, p), atol=1e-14)
    rebuilt = V @ torch.diag_embed(w) @ V.transpose(1, 2)
    assert bool(((rebuilt - A).abs() <= 1e-14 * size[:, None, None]).all())


@pytest.mark.parametrize("family_name", ["weibull"])
@pytest.mark.parametrize("weighted", [False, True])
def test_closed_form_group_derivatives_equal_autograd(family_name, weighted):
    from mlemap.groups.kernels import kernel_of
    from mlemap.groups.segments import Segments

    rng = np.random.default_rng(8)
    family = resolve_family(family_name)
    lengths = torch.as_tensor(np.r_[1, rng.integers(1, 30, 20)])
    seg = Segments(lengths)
    x = torch.as_tensor(rng.weibull(1.3, seg.n_rows) * 4.0)
    w = torch.as_tensor(rng.uniform(0.5, 3.0, seg.n_rows)) if weighted else torch.ones(seg.n_rows, dtype=torch.float64)
    feats = family.features(x, {})
    params = {n: torch.as_tensor(rng.uniform(0.3, 5.0, seg.size)) for n in family.parameters}
    kernel = kernel_of(family)
    sums = [seg.sum(w * t) for t in kernel.row_terms(feats, params, seg)]
    lp, grad, hess = kernel.combine(sums, params, seg.sum(w))
    leaves = {n: v.clone().requires_grad_(True) for n, v in params.items()}
    codes = torch.repeat_interleave(torch.arange(seg.size), lengths)
    per_row = w * family.log_prob(feats, {n: v[codes] for n, v in leaves.items()})
    auto = torch.zeros(seg.size, dtype=torch.float64).index_add(0, codes, per_row)  # per group
    firsts = torch.autograd.grad(auto.sum(), list(leaves.values()), create_graph=True)
    assert torch.allclose(lp, auto.detach(), rtol=1e-13, atol=1e-13)
    names = list(leaves)
    for j, (a, d) in enumerate(zip(names, firsts)):
        assert torch.allclose(grad[a], d.detach(), rtol=1e-12, atol=1e-12), a
        seconds = torch.autograd.grad(d.sum(), list(leaves.values()), retain_graph=True)
        for b, h in zip(names, seconds):
            value = hess.get((a, b), hess.get((b, a)))
            assert torch.allclose(value, h, rtol=1e-12, atol=1e-12), (a, b)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_cholesky_solve_batch_solves_where_the_factor_exists(p):
    from mlemap.groups.subproblem import cholesky_solve_batch

    rng = np.random.default_rng(11)
    B = 200
    M = torch.as_tensor(rng.normal(size=(B, p, p)))
    A = M @ M.transpose(1, 2) + 1e-3 * torch.eye(p, dtype=torch.float64)
    A[::4] = -A[::4]  # negative definite: no factor
    A[1::4, -1, -1] = -1e3  # indefinite: no factor
    b = torch.as_tensor(rng.normal(size=(B, p, 3)))
    x, ok = cholesky_solve_batch(A, b)
    expected_ok = torch.linalg.cholesky_ex(A).info == 0
    assert torch.equal(ok, expected_ok) and bool(ok.any()) and not bool(ok.all())
    assert torch.allclose(x[ok], torch.linalg.solve(A[ok], b[ok]), rtol=1e-9, atol=1e-9)
    assert bool((x[~ok] == 0).all())
    single, single_ok = cholesky_solve_batch(A, b[:, :, 0])
    assert torch.equal(single_ok, ok) and torch.allclose(single, x[:, :, 0], rtol=1e-14, atol=1e-14)

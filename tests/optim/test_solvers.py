"""The flat solvers of mlemap.optim (trust-region Newton, L-BFGS, Powell) on textbook functions, and the engine's use of them."""

import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

import mlemap as mm
import mlemap.core.numerical as engine
from mlemap.optim import OptimizeResult, lbfgs, powell, trust_region_newton

DT = torch.float64


def t(values):
    return torch.tensor(values, dtype=DT)


def with_derivatives(fn):
    """``(fgh, fg, f)`` for a torch function of a vector, derivatives by autograd."""

    def fgh(x):
        x = x.detach().clone().requires_grad_(True)
        y = fn(x)
        (g,) = torch.autograd.grad(y, x, create_graph=True)
        H = torch.stack([torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(x.numel())])
        return y.detach(), g.detach(), H.detach()

    def fg(x):
        with torch.enable_grad():  # L-BFGS evaluates its closure under torch.no_grad()
            x = x.detach().clone().requires_grad_(True)
            y = fn(x)
            (g,) = torch.autograd.grad(y, x)
        return y.detach(), g.detach()

    def f(x):
        with torch.no_grad():
            return fn(x)

    return fgh, fg, f


# ---------------------------------------------------------------------- textbook functions
A = t([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
B = t([1.0, -2.0, 0.5])
X_STAR = np.linalg.solve(A.numpy(), B.numpy())


def quadratic(x):
    return 0.5 * x @ A @ x - B @ x + 3.0


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def double_well(x):
    # Hessian diag(3x^2 - 1, 1): indefinite for |x| < 1/sqrt(3); minima at (+-1, 0), saddle at 0
    return x[0] ** 4 / 4 - x[0] ** 2 / 2 + x[1] ** 2 / 2


def log_barrier(x):
    # NaN for x > 2 (log of a negative number); minimum at x = 5/3
    return (-torch.log(2 - x) - 3 * x).sum()


def test_newton_solves_a_convex_quadratic_in_one_step():
    fgh, fg, f = with_derivatives(quadratic)
    res = trust_region_newton(fgh, f, t([5.0, -3.0, 10.0]))
    assert isinstance(res, OptimizeResult)
    assert res.converged
    assert res.n_iter == 1
    assert res.solver == "newton"
    assert res.message.startswith("converged")
    assert res.report.converged and res.report.stop_reason == "criteria met"
    np.testing.assert_allclose(res.x.numpy(), X_STAR, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.fun, float(quadratic(t(X_STAR))), rtol=1e-14)
    np.testing.assert_allclose(res.hess.numpy(), A.numpy(), rtol=1e-14)
    assert res.grad_norm < 1e-12
    assert res.n_fev >= 2


def test_newton_at_the_optimum_returns_immediately():
    fgh, fg, f = with_derivatives(quadratic)
    res = trust_region_newton(fgh, f, t(X_STAR))
    assert res.converged and res.n_iter == 0 and res.n_fev == 1


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "powell"])
def test_solvers_minimise_a_quadratic(solver):
    fgh, fg, f = with_derivatives(quadratic)
    x0 = t([5.0, -3.0, 10.0])
    if solver == "newton":
        res = trust_region_newton(fgh, f, x0, fg=fg)
    elif solver == "lbfgs":
        res = lbfgs(fg, x0)
    else:
        res = powell(f, x0)
    assert res.converged, res.message
    assert res.solver == solver
    np.testing.assert_allclose(res.x.numpy(), X_STAR, atol=1e-6)


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "powell"])
def test_rosenbrock_from_the_classic_start(solver):
    fgh, fg, f = with_derivatives(rosenbrock)
    x0 = t([-1.2, 1.0])
    if solver == "newton":
        res = trust_region_newton(fgh, f, x0, fg=fg, max_iter=200)
    elif solver == "lbfgs":
        res = lbfgs(fg, x0)
    else:
        res = powell(f, x0)
    assert res.converged, res.message
    assert res.n_iter > 1
    assert res.n_fev >= res.n_iter
    np.testing.assert_allclose(res.x.numpy(), [1.0, 1.0], atol=1e-6)
    assert res.fun < 1e-12
    if solver != "powell":
        assert res.grad_norm < 1e-6


def test_newton_rosenbrock_decreases_monotonically():
    fgh, fg, f = with_derivatives(rosenbrock)
    values = []
    res = trust_region_newton(fgh, f, t([-1.2, 1.0]), callback=lambda x, fx: values.append(fx))
    assert res.converged
    assert values[0] == pytest.approx(24.2)
    assert all(b <= a for a, b in zip(values, values[1:]))


def test_newton_escapes_an_indefinite_start_to_a_minimum():
    fgh, fg, f = with_derivatives(double_well)
    x0 = t([0.1, 1.0])
    assert float(torch.linalg.eigvalsh(fgh(x0)[2]).min()) < 0
    values = []
    res = trust_region_newton(fgh, f, x0, callback=lambda x, fx: values.append(fx))
    assert res.converged
    np.testing.assert_allclose(res.x.numpy(), [1.0, 0.0], atol=1e-8)
    assert res.fun == pytest.approx(-0.25, abs=1e-14)
    assert all(b <= a for a, b in zip(values, values[1:]))
    assert float(torch.linalg.eigvalsh(res.hess).min()) > 0


def test_newton_rejects_non_finite_trial_points():
    fgh, fg, f = with_derivatives(log_barrier)
    # at 0 the Newton step is 10, far past the pole at x = 2
    visited = []
    res = trust_region_newton(fgh, f, t([0.0]), callback=lambda x, fx: visited.append(float(x[0])))
    assert res.converged
    np.testing.assert_allclose(float(res.x[0]), 5 / 3, rtol=1e-12)
    assert all(v < 2 for v in visited)
    assert all(math.isfinite(v) for v in visited)
    assert res.nonfinite_trials >= 1


def test_powell_treats_non_finite_values_as_infinite():
    _, _, f = with_derivatives(log_barrier)
    res = powell(f, t([0.0]))
    assert res.converged
    np.testing.assert_allclose(float(res.x[0]), 5 / 3, rtol=1e-7)


def test_newton_reports_a_non_finite_start():
    fgh, fg, f = with_derivatives(log_barrier)
    res = trust_region_newton(fgh, f, t([3.0]))
    assert not res.converged
    assert res.n_iter == 0
    assert "not finite at the start" in res.message


def test_newton_stops_at_max_iter():
    fgh, fg, f = with_derivatives(rosenbrock)
    res = trust_region_newton(fgh, f, t([-1.2, 1.0]), max_iter=2)
    assert not res.converged
    assert res.n_iter == 2
    assert res.message.startswith("reached max_iter=2 before converging: failed")
    assert res.report.stop_reason == "iteration limit" and res.report.failed
    assert res.grad_norm > 0


def test_lbfgs_stops_at_max_iter():
    fgh, fg, f = with_derivatives(rosenbrock)
    res = lbfgs(fg, t([-1.2, 1.0]), max_iter=3)
    assert not res.converged
    assert res.n_iter <= 3
    assert res.message.startswith("stopped after")


def test_grad_norm_of_the_record():
    empty = torch.zeros(0, dtype=DT)
    assert OptimizeResult(empty, 0.0, empty, None, 0, 0, True, "", "x").grad_norm == 0.0
    assert OptimizeResult(empty, 0.0, None, None, 0, 0, True, "", "x").grad_norm is None
    r = OptimizeResult(t([1.0]), 0.0, t([0.5, -2.0]), None, 0, 0, True, "", "x")
    assert r.grad_norm == 2.0


# ---------------------------------------------------------------------- the engine
def test_engine_warns_with_advice_when_max_iter_is_too_small():
    x = np.random.default_rng(70).standard_t(4.0, size=300)
    with pytest.warns(mm.ConvergenceWarning) as record:
        r = mm.fit("studentt", x, max_iter=1)
    message = str(record[0].message)
    assert "did not converge" in message and "'studentt'" in message
    assert "max_iter=1" in message
    assert "init=" in message and "larger max_iter" in message
    assert not r.converged
    assert r.n_iter == 1
    assert r.solver == "newton"
    assert any("did not converge" in w for w in r.warnings)


@pytest.mark.parametrize("family", ["gamma", "weibull"])
def test_fast_paths_honour_max_iter(family):
    x = np.random.default_rng(71).gamma(2.0, 1.0, size=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.ConvergenceWarning)
        r = mm.fit(family, x, max_iter=1)
    assert r.n_iter <= 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("family", ["gamma", "weibull"])
def test_profile_newton_agrees_with_the_generic_engine(family, seed):
    x = np.random.default_rng(seed).gamma(2.0, 1.5, size=150)
    fast = mm.fit(family, x)
    generic = mm.fit(family, x, solver="newton")
    assert fast.solver == "profile-newton" and generic.solver == "newton"
    assert fast.converged and generic.converged
    for name in fast.params:
        np.testing.assert_allclose(fast.params[name], generic.params[name], rtol=1e-9)
    np.testing.assert_allclose(fast.loglik, generic.loglik, rtol=1e-13)


def test_gamma_profile_newton_converges_on_an_ordinary_sample():
    x = np.random.default_rng(49).gamma(3.0, 1.0, size=60)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        r = mm.fit("gamma", x)
    assert not [w for w in record if issubclass(w.category, mm.ConvergenceWarning)]
    assert r.converged


def test_solver_choice():
    x = 1.0 + 2.0 * np.random.default_rng(72).standard_t(3.0, size=400)
    assert mm.fit("studentt", x).solver == "newton"
    assert mm.fit("laplace", x, method="numerical").solver == "powell"
    assert mm.fit("gamma", np.abs(x) + 0.1).solver == "profile-newton"
    assert mm.fit("gamma", np.abs(x) + 0.1, solver="newton").solver == "newton"


def test_lbfgs_route_agrees_with_newton():
    x = 1.0 + 2.0 * np.random.default_rng(72).standard_t(3.0, size=400)
    a = mm.fit("studentt", x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.ConvergenceWarning)
        b = mm.fit("studentt", x, solver="lbfgs")
    assert b.solver == "lbfgs"
    assert b.converged
    for name in a.params:
        np.testing.assert_allclose(b.params[name], a.params[name], rtol=1e-6)


def test_lbfgs_minimises_an_mlemap_objective():
    from mlemap.core.distribution_problem import DistributionProblem as Problem
    from mlemap.core.distribution_problem import resolve_fixed
    from mlemap.families import resolve_family

    fam = resolve_family("studentt")
    x, fam = fam.prepare(np.random.default_rng(74).standard_t(4.0, size=200), dtype=DT, device=None)
    problem = Problem(fam, x, None, resolve_fixed(fam, None, x), {})
    obj = problem.objective()
    u0 = torch.zeros(obj.size, dtype=DT)
    ref = trust_region_newton(obj.value_grad_hess, obj.value, u0, fg=obj.value_and_grad)
    res = lbfgs(obj.value_and_grad, u0)
    assert ref.converged and res.converged
    np.testing.assert_allclose(res.x.numpy(), ref.x.numpy(), atol=1e-6)


def test_non_finite_objective_at_the_start_raises():
    def log_density(x, s):
        return -torch.log(s) - x**2 / (2 * s**2)

    with pytest.raises(mm.EstimationError, match="init="):
        mm.fit(log_density, [0.1, -0.4, 0.3], init={"s": -1.0})


def _spy_on_newton(monkeypatch):
    from mlemap.core import optimize

    calls = []
    real = optimize.SOLVERS["newton"]

    def spy(*args, **kwargs):
        res = real(*args, **kwargs)
        calls.append(res)
        return res

    monkeypatch.setitem(optimize.SOLVERS, "newton", spy)
    return calls


def _check_warm_start(monkeypatch, x):
    calls = _spy_on_newton(monkeypatch)
    warm = mm.fit("studentt", x)
    assert len(calls) == 2  # subsample first, then the full data
    assert calls[0].converged
    assert warm.converged and warm.solver == "newton"

    calls.clear()
    monkeypatch.setattr(engine, "SUBSAMPLE_ABOVE", 10**12)
    cold = mm.fit("studentt", x)
    assert len(calls) == 1
    assert cold.converged
    for name in warm.params:
        np.testing.assert_allclose(warm.params[name], cold.params[name], rtol=1e-8)

    # the optimum is a maximum of scipy's log-likelihood: no coordinate step improves it
    p = warm.params
    ll = lambda df, loc, scale: stats.t.logpdf(x, df, loc, scale).sum()  # noqa: E731
    best = ll(p["df"], p["loc"], p["scale"])
    for which in range(3):
        for sign in (-1, 1):
            q = [p["df"], p["loc"], p["scale"]]
            q[which] += sign * 1e-4 * max(abs(q[which]), 1.0)
            assert ll(*q) <= best + 1e-12 * abs(best)


def test_subsample_warm_start_gives_the_same_estimate(monkeypatch):
    # the same path as for samples above 200,000 rows, with the thresholds scaled down
    monkeypatch.setattr(engine, "SUBSAMPLE_ABOVE", 4_000)
    monkeypatch.setattr(engine, "SUBSAMPLE_SIZE", 1_000)
    x = 1.0 + 2.0 * np.random.default_rng(73).standard_t(5.0, size=6_000)
    _check_warm_start(monkeypatch, x)


@pytest.mark.slow
def test_large_sample_warm_start_gives_the_same_estimate(monkeypatch):
    assert engine.SUBSAMPLE_ABOVE < 250_000
    x = 1.0 + 2.0 * np.random.default_rng(73).standard_t(5.0, size=250_000)
    _check_warm_start(monkeypatch, x)


# ---------------------------------------------------------------------- row order
def _permuted_fits(x, family="studentt"):
    rng = np.random.default_rng(99)
    fits = [mm.fit(family, x), mm.fit(family, x[rng.permutation(x.size)]), mm.fit(family, np.sort(x)[::-1].copy())]
    for other in fits[1:]:
        for name in fits[0].params:
            assert other.params[name] == pytest.approx(fits[0].params[name], rel=1e-12)
        assert other.loglik == pytest.approx(fits[0].loglik, rel=1e-12)
    return fits


@pytest.mark.parametrize("family", ["studentt", "cauchy", "gumbel"])
def test_estimates_do_not_depend_on_the_order_of_the_rows(monkeypatch, family):
    # the warm-start path of large samples, scaled down: its subsample must not depend on the row order
    monkeypatch.setattr(engine, "SUBSAMPLE_ABOVE", 4_000)
    monkeypatch.setattr(engine, "SUBSAMPLE_SIZE", 1_000)
    x = 1.0 + 2.0 * np.random.default_rng(75).standard_t(4.0, size=6_000)
    _permuted_fits(x, family)


@pytest.mark.slow
def test_a_million_rows_in_any_order_give_the_same_estimate():
    x = 1.0 + 2.0 * np.random.default_rng(76).standard_t(4.0, size=1_000_000)
    fits = _permuted_fits(x)
    assert all(f.converged for f in fits)


def test_the_subsample_is_the_same_rows_in_any_order():
    from mlemap.data.subsample import stratified_subsample

    rng = np.random.default_rng(77)
    x = torch.tensor(rng.normal(size=5_000), dtype=DT)
    w = torch.tensor(rng.integers(1, 4, size=5_000), dtype=DT)
    perm = torch.from_numpy(rng.permutation(5_000))
    a = stratified_subsample([x, w], 700)
    b = stratified_subsample([x[perm], w[perm]], 700)
    assert torch.equal(x[a], x[perm][b]) and torch.equal(w[a], w[perm][b])
    # stratified: every decile of the data is represented in proportion
    deciles = torch.quantile(x, torch.linspace(0.1, 0.9, 9, dtype=DT))
    counts = torch.bincount(torch.bucketize(x[a], deciles), minlength=10)
    assert int(counts.min()) >= 69 and int(counts.max()) <= 71

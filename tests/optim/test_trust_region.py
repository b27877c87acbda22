"""Trust-region Newton: the subproblem solvers, the scaling, the convergence report and the evaluation count."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_solvers import DT, double_well, quadratic, rosenbrock, t, with_derivatives

from mlemap.glm.gram import torch_single_thread
from mlemap.optim import ConvergenceReport, trust_region_newton
from mlemap.optim.convergence import assess
from mlemap.optim.subproblem import exact_step, steihaug_step
from mlemap.optim.trust_region import EXACT_MAX


# ---------------------------------------------------------------------- the subproblem
def _model(H, g, s):
    return float(g @ s + 0.5 * s @ H @ s)


def _check_global_solution(H, g, delta, s, tol=1e-7):
    """Moré–Sorensen: s solves min m(s), |s| <= delta, iff (H + mu I) s = -g, mu >= 0,
    mu (delta - |s|) = 0 and H + mu I is positive semi-definite."""
    norm = np.linalg.norm(s)
    scale = max(np.abs(np.linalg.eigvalsh(H)).max(), np.linalg.norm(g) / delta, 1e-300)
    assert norm <= delta * (1 + 1e-9)
    if norm < delta * (1 - 1e-9):
        mu = 0.0
    else:
        mu = -float(s @ (H @ s + g)) / (norm * norm)
    assert mu >= -tol * scale
    np.testing.assert_allclose(H @ s + mu * s, -g, atol=tol * scale * max(delta, 1.0))
    assert np.linalg.eigvalsh(H + mu * np.eye(len(g)))[0] >= -tol * scale


@settings(max_examples=200, deadline=None)
@given(
    p=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
    shift=st.floats(-3.0, 3.0),
    log_delta=st.floats(-3.0, 3.0),
)
def test_exact_step_solves_the_subproblem_globally(p, seed, shift, log_delta):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(p, p))
    H = A @ A.T / p + shift * np.eye(p)  # indefinite for negative shifts
    g = rng.normal(size=p)
    delta = 10.0**log_delta
    evals, evecs = np.linalg.eigh(H)
    step = exact_step(evals, evecs, g, delta)
    _check_global_solution(H, g, delta, step.t)
    assert step.predicted == pytest.approx(-_model(H, g, step.t), rel=1e-9, abs=1e-12)
    # no feasible point does better (random points in the ball)
    trial = rng.normal(size=(200, p))
    trial *= delta * rng.uniform(size=(200, 1)) ** (1 / p) / np.linalg.norm(trial, axis=1, keepdims=True)
    assert min(_model(H, g, s) for s in trial) >= _model(H, g, step.t) - 1e-9 * max(1.0, abs(_model(H, g, step.t)))


def test_exact_step_is_newton_inside_the_region():
    H = np.array([[4.0, 1.0], [1.0, 3.0]])
    g = np.array([1.0, -2.0])
    step = exact_step(*np.linalg.eigh(H), g, 10.0)
    assert step.newton and not step.on_boundary
    np.testing.assert_allclose(step.t, -np.linalg.solve(H, g), rtol=1e-14)


def test_exact_step_in_the_hard_case():
    # the gradient has no component along the negative-curvature eigenvector e1: mu = 1, the shifted
    # Newton step (0, -1/3) is completed along e1 to the boundary
    H = np.diag([-1.0, 2.0])
    g = np.array([0.0, 1.0])
    step = exact_step(*np.linalg.eigh(H), g, 2.0)
    assert step.on_boundary and not step.newton
    np.testing.assert_allclose(abs(step.t[0]), math.sqrt(4 - 1 / 9), rtol=1e-12)
    np.testing.assert_allclose(step.t[1], -1 / 3, rtol=1e-12)
    _check_global_solution(H, g, 2.0, step.t)


def test_exact_step_at_a_saddle_moves_along_negative_curvature():
    H = np.diag([2.0, -3.0])
    step = exact_step(*np.linalg.eigh(H), np.zeros(2), 0.5)
    np.testing.assert_allclose(np.abs(step.t), [0.0, 0.5], atol=1e-15)
    assert step.predicted == pytest.approx(0.5 * 3 * 0.25)


@settings(max_examples=100, deadline=None)
@given(p=st.integers(2, 30), seed=st.integers(0, 2**31 - 1), shift=st.floats(-2.0, 2.0), log_delta=st.floats(-2, 2))
def test_steihaug_step_decreases_at_least_as_much_as_the_cauchy_point(p, seed, shift, log_delta):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(p, p))
    H = A @ A.T / p + shift * np.eye(p)
    g = rng.normal(size=p)
    delta = 10.0**log_delta
    step = steihaug_step(H, g, delta)
    assert np.linalg.norm(step.t) <= delta * (1 + 1e-9)
    # Cauchy point: the model's minimiser along -g within the region
    gHg = float(g @ H @ g)
    tau = delta / np.linalg.norm(g)
    if gHg > 0:
        tau = min(tau, float(g @ g) / gHg)
    cauchy = -_model(H, g, -tau * g)
    assert step.predicted >= cauchy * (1 - 1e-9)
    assert step.predicted == pytest.approx(-_model(H, g, step.t), rel=1e-9, abs=1e-12)


def test_steihaug_step_is_newton_for_a_positive_definite_model_and_a_large_region():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(20, 20))
    H = A @ A.T + np.eye(20)
    g = rng.normal(size=20)
    step = steihaug_step(H, g, 1e6)
    assert step.newton
    newton = -np.linalg.solve(H, g)
    # stopped at a relative residual min(1/2, sqrt|g|): the model value is close to the optimum's
    assert _model(H, g, step.t) <= 0.75 * _model(H, g, newton)


# ---------------------------------------------------------------------- the optimiser
@pytest.mark.parametrize("exact_max", [200, 0], ids=["exact", "steihaug"])
@pytest.mark.parametrize("fn,x0,x_star", [
    (rosenbrock, [-1.2, 1.0], [1.0, 1.0]),
    (double_well, [0.0, 0.0], [1.0, 0.0]),  # a saddle point start
    (quadratic, [5.0, -3.0, 10.0], None),
])
def test_trust_region_converges_with_either_subproblem_solver(exact_max, fn, x0, x_star):
    fgh, fg, f = with_derivatives(fn)
    res = trust_region_newton(fgh, f, t(x0), fg=fg, exact_max=exact_max)
    assert res.converged, res.message
    if x_star is not None:
        np.testing.assert_allclose(np.abs(res.x.numpy()), x_star, atol=1e-8)
    assert float(torch.linalg.eigvalsh(res.hess).min()) > 0


def test_steihaug_on_many_parameters():
    # more parameters than EXACT_MAX: a convex quartic with coupled curvature, f = sum (x_i - i/p)^4 / 4 + x'Ax / 2
    p = EXACT_MAX + 40
    rng = np.random.default_rng(5)
    B = torch.tensor(rng.normal(size=(p, p)) / math.sqrt(p), dtype=torch.float64)
    A = B @ B.T + 0.1 * torch.eye(p, dtype=torch.float64)
    c = torch.arange(p, dtype=torch.float64) / p

    def fgh(x):
        r = x - c
        return (r**4).sum() / 4 + 0.5 * x @ A @ x, r**3 + A @ x, torch.diag(3 * r**2) + A

    def f(x):
        return fgh(x)[0]

    with torch_single_thread():  # small dense algebra: the thread pool only stalls on a busy machine
        res = trust_region_newton(fgh, f, torch.zeros(p, dtype=torch.float64))
    assert res.converged, res.message
    assert float(fgh(res.x)[1].abs().max()) < 1e-10


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_iterates_do_not_depend_on_the_units_of_the_parameters(scale):
    # y = x / s: the Hessian-diagonal scaling makes the scaled steps identical, so the iterations match
    fgh, fg, f = with_derivatives(rosenbrock)
    S = t([scale, 1 / scale])
    fgh_y, fg_y, f_y = with_derivatives(lambda y: rosenbrock(y * S))
    base = trust_region_newton(fgh, f, t([-1.2, 1.0]), fg=fg, max_step=1e30)
    scaled = trust_region_newton(fgh_y, f_y, t([-1.2, 1.0]) / S, fg=fg_y, max_step=1e30)
    assert scaled.converged and base.converged
    assert scaled.n_iter == base.n_iter
    np.testing.assert_allclose((scaled.x * S).numpy(), base.x.numpy(), rtol=1e-10)


def test_hessian_only_at_accepted_points():
    calls = {"fgh": 0, "f": 0, "fg": 0}
    fgh0, fg0, f0 = with_derivatives(rosenbrock)

    def counted(name, fn):
        def wrapper(x):
            calls[name] += 1
            return fn(x)

        return wrapper

    res = trust_region_newton(counted("fgh", fgh0), counted("f", f0), t([-1.2, 1.0]), fg=counted("fg", fg0))
    assert res.converged
    # one Hessian at the start and one per accepted step; every other evaluation is a trial value
    # (or, at the rounding level of f, a trial gradient)
    assert calls["fgh"] == res.n_iter + 1
    assert calls["f"] >= res.n_iter
    assert res.n_fev == calls["fgh"] + calls["f"] + calls["fg"]


def test_report_names_the_criteria_that_failed_and_what_to_try():
    fgh, fg, f = with_derivatives(rosenbrock)
    res = trust_region_newton(fgh, f, t([-1.2, 1.0]), fg=fg, max_iter=3)
    rep = res.report
    assert isinstance(rep, ConvergenceReport) and not rep.converged
    assert rep.stop_reason == "iteration limit"
    assert "Newton decrement" in rep.failed
    assert "max_iter" in rep.advice
    assert all(c in res.message for c in rep.failed)
    done = trust_region_newton(fgh, f, t([-1.2, 1.0]), fg=fg)
    assert done.report.converged and done.report.failed == [] and done.report.stop_reason == "criteria met"
    assert set(done.report.held) == {"scaled gradient", "Newton decrement", "positive definite Hessian"}


def test_a_saddle_point_is_never_converged():
    # gradient exactly zero at the start, but the Hessian is indefinite: the criteria fail, the step
    # follows the negative curvature to a minimum
    g = np.zeros(2)
    H = np.diag([1.0, -1.0])
    rep = assess(0.0, g, H, ftol=1e-15, gtol=1e-6)
    assert not rep.converged and rep.failed == ["Newton decrement", "positive definite Hessian"]
    assert "saddle" in rep.advice


def test_a_singular_hessian_at_a_stationary_point_is_reported_as_such():
    # f(a, b) = (a + b)^2: every point of a + b = 0 is a minimum, none strict
    fgh, fg, f = with_derivatives(lambda x: (x[0] + x[1]) ** 2)
    res = trust_region_newton(fgh, f, t([1.0, 2.0]), fg=fg)
    assert not res.converged
    assert res.report.singular and res.report.failed == ["positive definite Hessian"]
    assert abs(float(res.x.sum())) < 1e-8


def test_callback_stops_the_iteration():
    fgh, fg, f = with_derivatives(rosenbrock)
    res = trust_region_newton(fgh, f, t([-1.2, 1.0]), fg=fg, callback=lambda x, fx: fx < 1.0)
    assert not res.converged and res.report.stop_reason == "callback"
    assert res.fun < 1.0


# ---------------------------------------------------------------------- the lazy Hessian
def test_secant_update_maps_the_step_to_the_gradient_change_and_stays_positive_definite():
    from mlemap.optim.trust_region import _secant_update

    rng = np.random.default_rng(7)
    A = rng.normal(size=(6, 6))
    H = torch.from_numpy(A @ A.T + np.eye(6))
    s = torch.from_numpy(rng.normal(size=6))
    y = torch.from_numpy((A @ A.T + 3 * np.eye(6)) @ s.numpy())  # curvature of another positive definite matrix
    U = _secant_update(H, s, y)
    np.testing.assert_allclose((U @ s).numpy(), y.numpy(), rtol=1e-12)
    np.testing.assert_allclose(U.numpy(), U.numpy().T, rtol=0, atol=1e-12)
    assert np.linalg.eigvalsh(U.numpy())[0] > 0
    # negative curvature along the step: the kept Hessian is left as it is
    assert _secant_update(H, s, -y) is H


def test_a_lazy_fit_ends_with_one_exact_hessian_and_the_exact_answer():
    # a logistic log-likelihood on many rows, started near the optimum with a Hessian that is 20%
    # off (as a subsample's is): trial points cost gradients, the exact Hessian comes once, at the end
    rng = np.random.default_rng(3)
    X = torch.from_numpy(rng.normal(size=(4000, 5)))
    y = (torch.rand(4000, generator=torch.Generator().manual_seed(3), dtype=DT) < torch.sigmoid(X @ t([1.0, -0.5, 0.2, 0.0, 2.0]))).to(DT)

    def nll(b):
        eta = X @ b
        return (torch.nn.functional.softplus(eta) - y * eta).sum()

    fgh0, fg0, f0 = with_derivatives(nll)
    calls = {"fgh": 0}

    def fgh(x):
        calls["fgh"] += 1
        return fgh0(x)

    exact = trust_region_newton(fgh0, f0, t([0.0] * 5), fg=fg0)
    start = exact.x + t([0.05, -0.05, 0.02, 0.03, -0.1])
    H0 = fgh0(start)[2] * 1.2
    lazy = trust_region_newton(fgh, f0, start, fg=fg0, hessian="lazy", hessian0=H0)
    assert lazy.converged and lazy.hess is not None
    assert calls["fgh"] == 1
    # where it stops, an exact Hessian calls for no polishing: the decrement is below POLISH times its
    # tolerance, so the value is the minimum's to rounding and x is within that distance of it
    from mlemap.optim.trust_region import POLISH

    H = fgh0(exact.x)[2].numpy()
    delta = (lazy.x - exact.x).numpy()
    assert 0.5 * float(delta @ H @ delta) <= POLISH * 1e-15 * abs(float(exact.fun))
    assert float(lazy.fun) == pytest.approx(float(exact.fun), rel=1e-15)
    np.testing.assert_allclose(lazy.hess.numpy(), fgh0(lazy.x)[2].numpy(), rtol=1e-14)

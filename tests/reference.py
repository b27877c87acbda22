"""Independent reference optimisation for tests: scipy to get close, then Newton to machine precision.

A reference must be more accurate than the tolerance a test asserts. scipy's BFGS and Nelder-Mead
stop with gradients around 1e-6, which is not enough for ``rtol=1e-6`` on small coefficients, so
the reference is polished with Newton steps on the same objective written in torch (the test's own
formula, differentiated by autograd), until the Newton decrement is at rounding level.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import optimize


def single_threaded(function):
    """Run ``function`` with one torch thread: the many small operations of autograd Hessians stall
    on a thread pool when the machine is busy."""

    def wrapped(*args, **kwargs):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return function(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    wrapped.__doc__, wrapped.__name__ = function.__doc__, function.__name__
    return wrapped


@single_threaded
def polished_minimum(f_torch, x0, *, max_newton: int = 50) -> np.ndarray:
    """Minimiser of ``f_torch`` (a float64 torch function of one vector) from ``x0``.

    BFGS from ``x0``, then Newton with the exact autograd Hessian and a backtracking line search
    (full steps once the decrement is too small for ``f`` to resolve). The returned point has a
    positive definite Hessian and a Newton decrement below 1e-20 relative to ``max(1, |f|)``
    (asserted: a reference that is not certified fails the test).
    """

    def f_np(v):
        return float(f_torch(torch.as_tensor(v, dtype=torch.float64)))

    def g_np(v):
        t = torch.as_tensor(v, dtype=torch.float64).requires_grad_(True)
        (g,) = torch.autograd.grad(f_torch(t), t)
        return g.numpy()

    x = optimize.minimize(f_np, np.asarray(x0, float), jac=g_np, method="BFGS", options={"gtol": 1e-9, "maxiter": 10_000}).x
    x = torch.as_tensor(x, dtype=torch.float64)
    for _ in range(max_newton):
        g = torch.autograd.functional.jacobian(f_torch, x)
        H = torch.autograd.functional.hessian(f_torch, x)
        step = -torch.linalg.solve(H, g)
        decrement = float(-(g @ step))
        fx = float(f_torch(x))
        if decrement < 0:  # not a convex neighbourhood: no minimum to polish
            break
        if decrement <= 1e-8 * max(1.0, abs(fx)):  # quadratic region: f cannot resolve the decrease,
            x = x + step  # the gradient still can, so the full step is taken
            if decrement <= 1e-24 * max(1.0, abs(fx)):
                break  # converged: certified below
            continue
        t = 1.0
        while float(f_torch(x + t * step)) > fx + 1e-4 * t * float(g @ step) and t > 1e-10:
            t *= 0.5
        if float(f_torch(x + t * step)) > fx:
            break
        x = x + t * step
    g = torch.autograd.functional.jacobian(f_torch, x)
    H = torch.autograd.functional.hessian(f_torch, x)
    decrement = float(g @ torch.linalg.solve(H, g))
    assert int(torch.linalg.cholesky_ex(H).info) == 0, "reference not at a minimum: the Hessian is not positive definite"
    assert 0 <= decrement <= 1e-20 * max(1.0, abs(float(f_torch(x)))), f"reference not converged: decrement {decrement:.3g}"
    return x.numpy()


@single_threaded
def polished_l1_minimum(f_torch, x0, l1, *, zero_tol: float = 1e-9, max_rounds: int = 20) -> np.ndarray:
    """Minimiser of ``f_torch(x) + sum_j l1[j] |x_j|`` (``f_torch`` smooth and convex), to machine precision.

    ``x0`` is an approximate solution (an independent solver's). Its non-zero pattern and signs fix an
    active set on which the L1 term is linear, so the problem is smooth there and
    :func:`polished_minimum` solves it by Newton. The result is certified by the optimality (KKT)
    conditions: every active penalised coordinate keeps its sign, and every zero coordinate has
    ``|df/dx_j| <= l1[j]``. A violated condition moves that coordinate in or out and the round is
    repeated; an uncertified reference fails the test rather than being trusted.
    """
    l1 = np.asarray(l1, dtype=float)
    x0 = np.asarray(x0, dtype=float)
    scale = max(1.0, float(np.abs(x0).max()))
    active = (np.abs(x0) > zero_tol * scale) | (l1 == 0)
    signs = np.sign(x0)
    for _ in range(max_rounds):
        idx = np.flatnonzero(active)
        s = torch.as_tensor(np.where(l1[idx] > 0, signs[idx], 0.0) * l1[idx], dtype=torch.float64)

        def restricted(z, idx=idx, s=s):
            full = torch.zeros(x0.size, dtype=torch.float64)
            full = full.index_put((torch.as_tensor(idx),), z)
            return f_torch(full) + s @ z

        z = polished_minimum(restricted, x0[idx])
        x = np.zeros(x0.size)
        x[idx] = z
        t = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
        (grad,) = torch.autograd.grad(f_torch(t), t)
        grad = grad.numpy()
        slack = 1e-9 * (l1 + np.abs(grad).max() + 1e-300)
        flipped = active & (l1 > 0) & (signs * x <= 0)
        entering = ~active & (np.abs(grad) > l1 + slack)
        if not flipped.any() and not entering.any():
            return x
        active[flipped] = False
        active[entering] = True
        signs[entering] = -np.sign(grad[entering])
        x0 = np.where(active, np.where(entering, 0.0, x), 0.0)
    raise AssertionError("reference not certified: the active set did not settle")


def glm_loss(family: str, eta: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-row negative log-likelihood (up to constants) of a GLM at the linear predictor ``eta``:
    gaussian (y - eta)^2 / 2, bernoulli log(1 + e^eta) - y eta, poisson e^eta - y eta, categorical
    logsumexp(eta) - eta[y] (``eta`` of shape (n, K))."""
    if family == "gaussian":
        return 0.5 * (y - eta) ** 2
    if family == "bernoulli":
        return torch.logaddexp(torch.zeros_like(eta), eta) - y * eta
    if family == "poisson":
        return torch.exp(eta) - y * eta
    if family == "categorical":
        return torch.logsumexp(eta, dim=1) - eta.gather(1, y.long().reshape(-1, 1)).reshape(-1)
    raise ValueError(family)


def penalised_glm_reference(family, X, y, x0, *, l1=0.0, l2=0.0, w=None, offset=None, fit_intercept=True):
    """The exact minimiser of ``(1/W) sum_i w_i loss_i + l1 ||beta||_1 + l2/2 ||beta||^2`` (intercepts
    unpenalised, ``W = sum w``), polished from the approximate solution ``x0 = (beta, intercept)``.

    For categorical, ``x0`` is ``(B.ravel(), b)`` with ``B`` of shape (K, d); the intercepts are
    identified up to a common shift, so the last one is held at 0 while polishing and the returned
    intercepts are centred. Returns ``(beta, intercept)``.
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    K = int(np.max(y)) + 1 if family == "categorical" else 1
    Xt = torch.as_tensor(X, dtype=torch.float64)
    yt = torch.as_tensor(np.asarray(y, dtype=float), dtype=torch.float64)
    wt = torch.ones(n, dtype=torch.float64) if w is None else torch.as_tensor(w, dtype=torch.float64)
    off = None if offset is None else torch.as_tensor(offset, dtype=torch.float64)
    W = float(wt.sum())
    n_icpt = (K - 1 if family == "categorical" else 1) if fit_intercept else 0
    x0 = np.asarray(x0, dtype=float).ravel()
    beta0 = x0[: K * d]
    icpt0 = x0[K * d:]
    if family == "categorical" and fit_intercept:
        icpt0 = icpt0[:-1] - icpt0[-1]
    start = np.r_[beta0, icpt0[:n_icpt]]

    def f(theta):
        beta = theta[: K * d]
        if family == "categorical":
            b = torch.cat([theta[K * d:], torch.zeros(1, dtype=torch.float64)]) if fit_intercept else 0.0
            eta = Xt @ beta.reshape(K, d).T + b
            if off is not None:
                eta = eta + (off[:, None] if off.dim() == 1 else off)
        else:
            eta = Xt @ beta + (theta[-1] if fit_intercept else 0.0)
            if off is not None:
                eta = eta + off
        return (wt * glm_loss(family, eta, yt)).sum() / W + 0.5 * l2 * (beta * beta).sum()

    weights = np.r_[np.full(K * d, float(l1)), np.zeros(n_icpt)]
    theta = polished_l1_minimum(f, start, weights) if l1 > 0 else polished_minimum(f, start)
    beta = theta[: K * d].reshape(K, d) if family == "categorical" else theta[:d]
    if not fit_intercept:
        return beta, (np.zeros(K) if family == "categorical" else 0.0)
    if family == "categorical":
        b = np.r_[theta[K * d:], 0.0]
        return beta, b - b.mean()
    return beta, theta[-1]


def lad_vertex(A, y, theta0, *, w=None, l1=None, tol: float = 1e-6) -> np.ndarray:
    """Exact minimiser of ``sum_i w_i |y_i - A_i theta| + sum_j l1[j] |theta_j|`` near ``theta0``.

    A least-absolute-deviations problem is a linear programme: its solution is a vertex where ``p``
    residuals (or, with an L1 penalty, residuals and coefficients) are exactly zero. The rows and
    coefficients that are zero at ``theta0`` (an iterative solver's approximate answer, within
    ``tol``) give that vertex as the solution of a ``p x p`` linear system. It is certified optimal
    by the subgradient condition ``0 in dF(theta)``: the multipliers of the zero residuals and the
    zero coefficients, the solution of a second ``p x p`` system, must lie in [-1, 1].
    """
    A, y = np.asarray(A, dtype=float), np.asarray(y, dtype=float)
    n, p = A.shape
    w = np.ones(n) if w is None else np.asarray(w, dtype=float)
    l1 = np.zeros(p) if l1 is None else np.broadcast_to(np.asarray(l1, dtype=float), (p,))
    theta0 = np.asarray(theta0, dtype=float)
    zero_rows = np.flatnonzero(np.abs(y - A @ theta0) <= tol * max(1.0, np.abs(y).max()))
    zero_coefs = np.flatnonzero((l1 > 0) & (np.abs(theta0) <= tol * max(1.0, np.abs(theta0).max())))
    M = np.vstack([A[zero_rows], np.eye(p)[zero_coefs]])
    assert M.shape == (p, p), f"reference not at a vertex: {len(zero_rows)} zero residuals, {len(zero_coefs)} zero coefficients"
    theta = np.linalg.solve(M, np.r_[y[zero_rows], np.zeros(zero_coefs.size)])
    theta[zero_coefs] = 0.0
    r = y - A @ theta
    rest = np.setdiff1d(np.arange(n), zero_rows)
    sign_theta = np.where(np.isin(np.arange(p), zero_coefs), 0.0, np.sign(theta))
    g = -(w[rest] * np.sign(r[rest])) @ A[rest] + l1 * sign_theta
    B = np.hstack([-(A[zero_rows] * w[zero_rows, None]).T, np.eye(p)[:, zero_coefs] * l1[zero_coefs]])
    multipliers = np.linalg.solve(B, -g)
    assert np.all(np.abs(multipliers) <= 1 + 1e-9), f"reference vertex not optimal: multipliers {multipliers}"
    return theta

"""The trust-region subproblem of many groups at once, solved exactly (Moré–Sorensen), batched.

For each group :math:`b`, in scaled coordinates,

.. math:: \\min_t\\; \\hat g_b^\\top t + \\tfrac12 t^\\top \\hat H_b t \\quad\\text{subject to}\\quad \\|t\\| \\le \\Delta_b,

from the eigendecomposition :math:`\\hat H_b = Q_b \\Lambda_b Q_b^\\top`: the Newton step when
:math:`\\hat H_b` is positive definite and the step fits, otherwise
:math:`t(\\mu) = -Q(\\Lambda + \\mu I)^{-1} Q^\\top \\hat g` with :math:`\\mu` the root of the secular
equation :math:`\\|t(\\mu)\\| = \\Delta` (safeguarded Newton on :math:`1/\\|t(\\mu)\\| - 1/\\Delta`, in
a bracket), and the hard case completed along the lowest eigenvector. The rules, constants and
stopping tests are those of :func:`mlemap.optim.subproblem.exact_step`, applied elementwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

#: relative width of the lowest eigenvalue's cluster, and the gradient share below which its
#: components count as zero (the hard case)
DEGENERATE = 1e-12


def symmetric_eigh(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ascending eigenvalues and eigenvectors of a batch of symmetric matrices ``(B, p, p)``.

    LAPACK's ``eigh`` for ``p >= 3``; in closed form for ``p <= 2``, where a batched LAPACK call
    spends its time on per-matrix overhead: for :math:`[[a, b], [b, c]]` the eigenvalue of larger
    magnitude is :math:`m \\pm r` (:math:`m = (a + c)/2`, :math:`r = \\operatorname{hypot}((a - c)/2, b)`,
    the sign of :math:`m`) and the other is :math:`(ac - b^2)` divided by it, as LAPACK's ``dlaev2``
    computes them; the eigenvectors are the rotation by :math:`\\tfrac12\\operatorname{atan2}(2b, a - c)`.
    """
    p = A.shape[-1]
    if p >= 3 or A.shape[0] == 0:
        return torch.linalg.eigh(A)
    if p == 1:
        return A[:, :, 0].clone(), torch.ones_like(A)
    a, b, c = A[:, 0, 0], 0.5 * (A[:, 0, 1] + A[:, 1, 0]), A[:, 1, 1]
    m = 0.5 * (a + c)
    r = torch.hypot(0.5 * (a - c), b)
    big = torch.where(m >= 0, m + r, m - r)
    small = torch.where(big != 0, (a * c - b * b) / torch.where(big != 0, big, 1.0), torch.zeros_like(big))
    upper = torch.where(m >= 0, big, small)
    lower = torch.where(m >= 0, small, big)
    theta = 0.5 * torch.atan2(2 * b, a - c)
    cos, sin = torch.cos(theta), torch.sin(theta)
    vectors = torch.stack([torch.stack([-sin, cos], 1), torch.stack([cos, sin], 1)], 2)
    return torch.stack([lower, upper], 1), vectors


def cholesky_solve_batch(A: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:math:`A_b^{-1} b_b` for a batch of symmetric matrices ``(B, p, p)`` and right-hand sides ``(B, p)``
    or ``(B, p, r)``, by the Cholesky factor :math:`A = L L^\\top`, and where that factor exists.

    LAPACK (``cholesky_ex``) for ``p >= 3``; in closed form for ``p <= 2`` (per-matrix overhead again):
    :math:`l_{11} = \\sqrt{a_{11}}`, :math:`l_{21} = a_{21}/l_{11}`, :math:`l_{22} = \\sqrt{a_{22} - l_{21}^2}`,
    the factor existing where the pivots :math:`a_{11}` and :math:`a_{22} - l_{21}^2` are positive, then
    forward and back substitution. Where it does not exist the solution is zero.
    """
    vector = b.dim() == 2
    rhs = b.unsqueeze(-1) if vector else b
    p = A.shape[-1]
    if p >= 3 or A.shape[0] == 0:
        L, info = torch.linalg.cholesky_ex(A)
        ok = info == 0
        x = torch.where(ok[:, None, None], torch.cholesky_solve(rhs, L), torch.zeros_like(rhs))
    elif p == 1:
        a = A[:, 0, 0]
        ok = a > 0
        x = torch.where(ok[:, None, None], rhs / torch.where(ok, a, torch.ones_like(a))[:, None, None], torch.zeros_like(rhs))
    else:
        a, c = A[:, 0, 0], A[:, 1, 1]
        ok = a > 0
        l11 = torch.where(ok, a, torch.ones_like(a)).sqrt()
        l21 = A[:, 1, 0] / l11
        pivot = c - l21 * l21
        ok = ok & (pivot > 0)
        l22 = torch.where(ok, pivot, torch.ones_like(pivot)).sqrt()
        l11, l21, l22 = l11[:, None], l21[:, None], l22[:, None]
        z1 = rhs[:, 0] / l11
        x2 = (rhs[:, 1] - l21 * z1) / l22 / l22
        x1 = (z1 - l21 * x2) / l11
        x = torch.where(ok[:, None, None], torch.stack([x1, x2], 1), torch.zeros_like(rhs))
    return (x.squeeze(-1) if vector else x), ok


@dataclass
class BatchStep:
    t: torch.Tensor  # (B, p) steps in scaled coordinates
    predicted: torch.Tensor  # (B,) decrease predicted by the quadratic model, >= 0
    on_boundary: torch.Tensor  # (B,) bool
    newton: torch.Tensor  # (B,) bool: the unconstrained Newton step


def newton_length(evals: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """:math:`\\|\\Lambda^{-1} c\\|` per group, inf where the model is not positive definite."""
    positive = evals[:, 0] > 0
    safe = torch.where(positive[:, None], evals, torch.ones_like(evals))
    return torch.where(positive, (c / safe).norm(dim=1), torch.full_like(evals[:, 0], float("inf")))


def exact_steps(evals: torch.Tensor, evecs: torch.Tensor, gs: torch.Tensor, delta: torch.Tensor) -> BatchStep:
    """Solve every group's subproblem given its ascending eigenvalues, eigenvectors and scaled gradient."""
    tiny = torch.finfo(evals.dtype).tiny
    c = (evecs.transpose(1, 2) @ gs.unsqueeze(-1)).squeeze(-1)
    lam1 = evals[:, 0]
    newton = newton_length(evals, c) <= delta
    lo = (-lam1).clamp_min(0.0)
    shifted = lo > 0
    e = torch.where(shifted[:, None], evals - lam1[:, None], evals)
    e[:, 0] = torch.where(shifted, torch.zeros_like(lam1), e[:, 0])
    scale = evals.abs().amax(1).clamp_min(tiny)
    cluster = (e <= DEGENERATE * scale[:, None]) & shifted[:, None]
    cnorm = c.norm(dim=1)
    hard = shifted & (torch.where(cluster, c, torch.zeros_like(c)).norm(dim=1) <= DEGENERATE * cnorm.clamp_min(tiny))

    a = torch.zeros_like(c)
    on_boundary = torch.ones_like(newton)
    # the Newton step
    safe = torch.where(evals[:, :1] > 0, evals, torch.ones_like(evals))
    a = torch.where(newton[:, None], -c / safe, a)
    on_boundary = on_boundary & ~newton
    # the hard case, when the step off the lowest eigenvector fits in the region
    rest = torch.where(cluster, torch.zeros_like(c), -c / torch.where(cluster, torch.ones_like(e), e))
    length = rest.norm(dim=1)
    fits = hard & ~newton & (length <= delta)
    tau = (delta * delta - length * length).clamp_min(0.0).sqrt()
    completed = rest.clone()
    completed[:, 0] = torch.where(c[:, 0] > 0, -tau, tau)
    a = torch.where(fits[:, None], completed, a)
    # the boundary step on the secular equation
    secular = ~newton & ~fits
    if bool(secular.any()):
        mu = secular_root(e[secular], c[secular], delta[secular], cnorm[secular])
        step = -c[secular] / (e[secular] + mu[:, None])
        step = torch.where(torch.isfinite(step), step, torch.zeros_like(step))
        norm = step.norm(dim=1)
        d = delta[secular]
        step = torch.where((norm > d)[:, None], step * (d / torch.where(norm > 0, norm, 1.0))[:, None], step)
        a[secular] = step
    predicted = -((c * a).sum(1) + 0.5 * (evals * a * a).sum(1))
    t = (evecs @ a.unsqueeze(-1)).squeeze(-1)
    return BatchStep(t, predicted, on_boundary, newton)


def secular_root(e: torch.Tensor, c: torch.Tensor, delta: torch.Tensor, cnorm: torch.Tensor) -> torch.Tensor:
    """The :math:`\\mu > 0` with :math:`\\|c / (e + \\mu)\\| = \\Delta` per group (:math:`e \\ge 0`), as in
    :func:`mlemap.optim.subproblem._secular_root`: Newton on :math:`\\psi(\\mu) = 1/\\|t(\\mu)\\| - 1/\\Delta`
    kept inside a bracket, bisection where Newton cannot move."""
    lo = torch.zeros_like(delta)
    hi = cnorm / delta
    mu = torch.zeros_like(delta)
    result = hi.clone()
    open_ = torch.ones_like(delta, dtype=torch.bool)
    for _ in range(100):
        restart = ~((lo <= mu) & (mu <= hi)) | ((mu == lo) & (lo == 0.0))
        fresh = torch.where(lo > 0, torch.maximum((lo * hi).sqrt(), lo + 1e-3 * (hi - lo)), 1e-3 * hi)
        mu = torch.where(restart, fresh, mu)
        w = c / (e + mu[:, None])
        norm = (w * w).sum(1).sqrt()
        finite = torch.isfinite(norm)
        long = ~finite | (norm > delta)
        lo = torch.where(long, mu, lo)
        hi = torch.where(long, hi, mu)
        hit = finite & ((norm - delta).abs() <= 1e-10 * delta)
        narrow = ~hit & (hi - lo <= 1e-15 * hi)
        result = torch.where(open_ & hit, mu, torch.where(open_ & narrow, hi, result))
        open_ = open_ & ~hit & ~narrow
        if not bool(open_.any()):
            break
        bisect = ~finite | (norm == 0)
        safe_norm = torch.where(bisect, torch.ones_like(norm), norm)
        psi = 1.0 / safe_norm - 1.0 / delta
        dpsi = (w * w / (e + mu[:, None])).sum(1) / safe_norm**3
        step = torch.where(dpsi > 0, mu - psi / torch.where(dpsi > 0, dpsi, 1.0), 0.5 * (lo + hi))
        mu = torch.where(bisect, 0.5 * (lo + hi), step)
    return torch.where(open_, hi, result)

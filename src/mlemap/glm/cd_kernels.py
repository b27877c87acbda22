"""Compiled coordinate-descent kernels for L1/L2-penalised quadratic problems.

Every kernel minimises, one coordinate at a time over a working set ``ws`` of features,

.. math:: q(\\beta) + \\lambda_1 \\lVert\\beta\\rVert_1 + \\tfrac{\\lambda_2}{2} \\lVert\\beta\\rVert_2^2

where :math:`q` is a convex quadratic whose coordinate gradient :math:`g_j` and curvature :math:`c_j`
are cheap to keep up to date. The exact coordinate minimiser is the soft-threshold

.. math:: \\beta_j \\leftarrow \\frac{S((c_j + \\lambda_2)\\beta_j - (g_j + \\lambda_2 \\beta_j),\\ \\lambda_1)}{c_j + \\lambda_2},
   \\qquad S(z, \\lambda) = \\mathrm{sign}(z)\\max(|z| - \\lambda, 0),

which gives exact zeros. Sweeps follow glmnet's pattern: one sweep over the whole working set,
then sweeps over its non-zero coordinates only until they settle, then another full sweep; the
kernel stops when a full sweep finds no coordinate whose KKT violation (the distance from
:math:`-\\nabla_j` to :math:`\\lambda_1\\,\\partial|\\beta_j|`, measured before its update) exceeds ``tol``.

Kernels, by the quadratic they work on:

* :func:`gram_cd` — least squares through the Gram matrix :math:`Q = X^\\top W X` and the
  correlations :math:`\\rho = X^\\top W y - Q\\beta` (``n >> d``);
* :func:`residual_cd` — least squares through the residual :math:`r = y - X\\beta` (wide data);
* :func:`irls_cd` — the weighted quadratic model of a GLM around a point (proximal Newton), with
  the columns centred implicitly so that the intercept decouples;
* :func:`multinomial_cd` — the same for the softmax model with the full ``K x K`` Hessian blocks.
"""

from __future__ import annotations

import numba
import numpy as np

_FM = {"reassoc", "contract", "nsz"}


@numba.njit(cache=True, inline="always")
def _kkt(g, b, l1):
    """Violation of ``0 in g + l1 * d|b|`` for one coordinate (``g`` includes the L2 term)."""
    if b > 0.0:
        return abs(g + l1)
    if b < 0.0:
        return abs(g - l1)
    return max(abs(g) - l1, 0.0)


@numba.njit(cache=True, inline="always")
def _soft_update(b, g, c, l1):
    """Exact minimiser along one coordinate (``c`` includes the L2 term, ``g`` too)."""
    z = c * b - g
    if z > l1:
        return (z - l1) / c
    if z < -l1:
        return (z + l1) / c
    return 0.0


@numba.njit(cache=True, fastmath=_FM)
def _gram_sweep(Q, rho, beta, idx, ws, full, l1, l2):
    worst = 0.0
    d = Q.shape[0]
    for k in range(idx.shape[0]):
        j = idx[k]
        bj = beta[j]
        g = -rho[j] + l2 * bj
        v = _kkt(g, bj, l1)
        if v > worst:
            worst = v
        c = Q[j, j] + l2
        if c <= 0.0:
            continue
        new = _soft_update(bj, g, c, l1)
        delta = new - bj
        if delta != 0.0:
            beta[j] = new
            if full:
                for t in range(d):
                    rho[t] -= Q[j, t] * delta
            else:
                for t in range(ws.shape[0]):
                    s = ws[t]
                    rho[s] -= Q[j, s] * delta
    return worst


@numba.njit(cache=True)
def gram_cd(Q, rho, beta, ws, l1, l2, tol, max_sweeps):
    """Least squares by its Gram matrix; ``rho[j] = q_j - (Q beta)_j`` kept up to date on ``ws``
    (on every feature when the working set is a large share of them). Returns ``(sweeps, worst)``."""
    full = ws.shape[0] * 3 > Q.shape[0]
    sweeps = 0
    worst = np.inf
    while sweeps < max_sweeps:
        worst = _gram_sweep(Q, rho, beta, ws, ws, full, l1, l2)
        sweeps += 1
        if worst <= tol:
            break
        act = ws[beta[ws] != 0.0]
        while sweeps < max_sweeps:
            inner = _gram_sweep(Q, rho, beta, act, ws, full, l1, l2)
            sweeps += 1
            if inner <= tol:
                break
    return sweeps, worst


@numba.njit(cache=True, fastmath=_FM)
def _residual_sweep(X, r, sq, beta, idx, l1, l2):
    n = X.shape[0]
    worst = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        c = sq[j] + l2
        if c <= 0.0:
            continue
        dot = 0.0
        for i in range(n):
            dot += X[i, j] * r[i]
        bj = beta[j]
        g = -dot + l2 * bj
        v = _kkt(g, bj, l1)
        if v > worst:
            worst = v
        new = _soft_update(bj, g, c, l1)
        delta = new - bj
        if delta != 0.0:
            beta[j] = new
            for i in range(n):
                r[i] -= X[i, j] * delta
    return worst


@numba.njit(cache=True)
def residual_cd(X, r, sq, beta, ws, l1, l2, tol, max_sweeps):
    """Least squares on (centred, weighted) columns ``X`` (Fortran order) with residual
    ``r = y - X beta``; ``sq[j] = ||x_j||^2``. Returns ``(sweeps, worst)``."""
    sweeps = 0
    worst = np.inf
    while sweeps < max_sweeps:
        worst = _residual_sweep(X, r, sq, beta, ws, l1, l2)
        sweeps += 1
        if worst <= tol:
            break
        act = ws[beta[ws] != 0.0]
        while sweeps < max_sweeps:
            inner = _residual_sweep(X, r, sq, beta, act, l1, l2)
            sweeps += 1
            if inner <= tol:
                break
    return sweeps, worst


@numba.njit(cache=True, fastmath=_FM)
def centred_curvature(X, h, ws, m, c):
    """For each ``j`` in ``ws``: the ``h``-weighted mean ``m[j]`` of column ``j`` and the curvature
    ``c[j] = sum_i h_i (x_ij - m_j)^2`` (``m`` is left at zero when ``m`` has length 0)."""
    n = X.shape[0]
    centre = m.shape[0] > 0
    sh = 0.0
    for i in range(n):
        sh += h[i]
    for k in range(ws.shape[0]):
        j = ws[k]
        mj = 0.0
        if centre and sh > 0.0:
            s = 0.0
            for i in range(n):
                s += h[i] * X[i, j]
            mj = s / sh
            m[j] = mj
        s = 0.0
        for i in range(n):
            t = X[i, j] - mj
            s += h[i] * t * t
        c[j] = s


@numba.njit(cache=True, fastmath=_FM)
def _irls_sweep(X, h, v, u, m, c, beta, idx, l1, l2):
    n = X.shape[0]
    centre = m.shape[0] > 0
    sv = 0.0
    if centre:
        for i in range(n):
            sv += v[i]
    worst = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        cj = c[j] + l2
        if cj <= 0.0:
            continue
        mj = m[j] if centre else 0.0
        dot = 0.0
        for i in range(n):
            dot += X[i, j] * v[i]
        bj = beta[j]
        g = dot - mj * sv + l2 * bj
        viol = _kkt(g, bj, l1)
        if viol > worst:
            worst = viol
        new = _soft_update(bj, g, cj, l1)
        delta = new - bj
        if delta != 0.0:
            beta[j] = new
            for i in range(n):
                t = (X[i, j] - mj) * delta
                v[i] += h[i] * t
                u[i] += t
    return worst


@numba.njit(cache=True, fastmath=_FM)
def _irls_intercept(h, v, u, sum_h):
    s = 0.0
    for i in range(v.shape[0]):
        s += v[i]
    if sum_h <= 0.0:
        return 0.0, abs(s)
    delta = -s / sum_h
    for i in range(v.shape[0]):
        v[i] += h[i] * delta
        u[i] += delta
    return delta, abs(s)


@numba.njit(cache=True)
def irls_cd(X, h, v, u, m, c, beta, ws, fit_intercept, sum_h, l1, l2, tol, max_sweeps):
    """Proximal-Newton inner problem of a GLM with scalar linear predictor.

    The quadratic model around the current point is
    :math:`\\sum_i g_i u_i + \\tfrac12 \\sum_i h_i u_i^2` with :math:`u = \\tilde X \\Delta\\beta + \\Delta b`,
    :math:`\\tilde x_{ij} = x_{ij} - m_j` (``m`` the ``h``-weighted column means, empty without an
    intercept) so that the intercept is ``h``-orthogonal to every column. ``v = g + h u`` is the
    model's gradient in the linear predictor; ``u`` is kept for the line search. Returns
    ``(sweeps, intercept change, worst)``."""
    sweeps = 0
    worst = np.inf
    db = 0.0
    while sweeps < max_sweeps:
        worst = _irls_sweep(X, h, v, u, m, c, beta, ws, l1, l2)
        if fit_intercept:
            step, viol = _irls_intercept(h, v, u, sum_h)
            db += step
            worst = max(worst, viol)
        sweeps += 1
        if worst <= tol:
            break
        act = ws[beta[ws] != 0.0]
        while sweeps < max_sweeps:
            inner = _irls_sweep(X, h, v, u, m, c, beta, act, l1, l2)
            if fit_intercept:
                step, viol = _irls_intercept(h, v, u, sum_h)
                db += step
                inner = max(inner, viol)
            sweeps += 1
            if inner <= tol:
                break
    return sweeps, db, worst


@numba.njit(cache=True, fastmath=_FM)
def _mn_update(V, U, P, WP, col, k, delta, t):
    """Apply ``delta`` to class ``k`` of a coordinate whose column is ``col`` (``None``-like: length 0
    means the intercept column of ones): ``V += delta * H u_k`` per observation, ``U_k += delta x``."""
    K, n = V.shape
    ones = col.shape[0] == 0
    for i in range(n):
        x = 1.0 if ones else col[i]
        t[i] = delta * x * WP[k, i]
        U[k, i] += delta * x
    for q in range(K):
        for i in range(n):
            V[q, i] -= t[i] * P[q, i]
    for i in range(n):
        V[k, i] += t[i]


@numba.njit(cache=True, fastmath=_FM)
def _mn_sweep(X, V, U, P, WP, C, beta, idx, l1, l2, t):
    K, n = V.shape
    worst = 0.0
    for kk in range(idx.shape[0]):
        j = idx[kk]
        col = X[:, j]
        for k in range(K):
            ck = C[k, j] + l2
            if ck <= 0.0:
                continue
            dot = 0.0
            for i in range(n):
                dot += col[i] * V[k, i]
            bj = beta[k, j]
            g = dot + l2 * bj
            viol = _kkt(g, bj, l1)
            if viol > worst:
                worst = viol
            new = _soft_update(bj, g, ck, l1)
            delta = new - bj
            if delta != 0.0:
                beta[k, j] = new
                _mn_update(V, U, P, WP, col, k, delta, t)
    return worst


@numba.njit(cache=True, fastmath=_FM)
def _mn_intercepts(V, U, P, WP, Cb, db, t):
    K, n = V.shape
    empty = np.empty(0)
    worst = 0.0
    for k in range(K):
        s = 0.0
        for i in range(n):
            s += V[k, i]
        worst = max(worst, abs(s))
        if Cb[k] > 0.0:
            delta = -s / Cb[k]
            db[k] += delta
            _mn_update(V, U, P, WP, empty, k, delta, t)
    return worst


@numba.njit(cache=True)
def multinomial_cd(X, V, U, P, WP, C, Cb, beta, db, ws, fit_intercept, l1, l2, tol, max_sweeps):
    """Proximal-Newton inner problem of the softmax model (classes in rows, ``beta`` of shape ``(K, d)``).

    The quadratic model is :math:`\\sum_i G_i^\\top u_i + \\tfrac12 \\sum_i u_i^\\top H_i u_i` with
    :math:`H_i = w_i(\\mathrm{diag}(p_i) - p_i p_i^\\top)` and :math:`u_i = \\Delta B\\, x_i + \\Delta b`;
    ``V = G + H u`` (shape ``(K, n)``), ``U = u``, ``WP = w * P``, ``C[k, j] = sum_i H_ikk x_ij^2``,
    ``Cb[k] = sum_i H_ikk``. Intercept changes accumulate in ``db``. Returns ``(sweeps, worst)``."""
    t = np.empty(V.shape[1])
    sweeps = 0
    worst = np.inf
    while sweeps < max_sweeps:
        worst = _mn_sweep(X, V, U, P, WP, C, beta, ws, l1, l2, t)
        if fit_intercept:
            worst = max(worst, _mn_intercepts(V, U, P, WP, Cb, db, t))
        sweeps += 1
        if worst <= tol:
            break
        act_mask = np.zeros(ws.shape[0], dtype=np.bool_)
        for kk in range(ws.shape[0]):
            for k in range(beta.shape[0]):
                if beta[k, ws[kk]] != 0.0:
                    act_mask[kk] = True
        act = ws[act_mask]
        while sweeps < max_sweeps:
            inner = _mn_sweep(X, V, U, P, WP, C, beta, act, l1, l2, t)
            if fit_intercept:
                inner = max(inner, _mn_intercepts(V, U, P, WP, Cb, db, t))
            sweeps += 1
            if inner <= tol:
                break
    return sweeps, worst


@numba.njit(cache=True, fastmath=_FM)
def add_columns(X, idx, vals, out):
    """``out += X[:, idx] @ vals`` without copying the columns (Fortran-ordered ``X``)."""
    n = X.shape[0]
    for k in range(idx.shape[0]):
        j = idx[k]
        a = vals[k]
        for i in range(n):
            out[i] += X[i, j] * a


@numba.njit(cache=True, fastmath=_FM)
def gram_refresh(Q, rho, idx, delta, skip):
    """``rho[t] -= sum_k Q[idx[k], t] * delta[k]`` for every ``t`` with ``skip[t]`` false (the
    correlations of features outside the working set after the kernel moved ``idx`` by ``delta``)."""
    d = Q.shape[0]
    for k in range(idx.shape[0]):
        j = idx[k]
        a = delta[k]
        for t in range(d):
            if not skip[t]:
                rho[t] -= Q[j, t] * a


@numba.njit(cache=True, fastmath=_FM)
def class_curvature(X, HD, ws, C):
    """``C[k, j] = sum_i HD[k, i] * x_ij^2`` for ``j`` in ``ws`` (diagonal of the softmax Hessian blocks)."""
    K, n = HD.shape
    for kk in range(ws.shape[0]):
        j = ws[kk]
        for k in range(K):
            s = 0.0
            for i in range(n):
                x = X[i, j]
                s += HD[k, i] * x * x
            C[k, j] = s

"""Gaussian maximum likelihood and ridge by a stable direct solve.

The estimator minimises the weighted residual sum of squares, plus a ridge term:

.. math:: \\hat\\beta = \\arg\\min_\\beta \\; \\sum_i w_i (y_i - o_i - x_i^\\top\\beta)^2 + \\lambda_2 \\sum_{j \\in P} \\beta_j^2

(``o`` an offset, ``P`` the penalised coefficients: all but the intercept unless asked). With
:math:`s_i = \\sqrt{w_i}` it is the least-squares solution of the stacked system

.. math:: \\begin{pmatrix} S X \\\\ \\sqrt{\\lambda_2}\\, I_P \\end{pmatrix} \\beta \\approx \\begin{pmatrix} S (y - o) \\\\ 0 \\end{pmatrix}

never formed through the normal equations (which square the condition number):

1. the columns are equilibrated by powers of two (exact in floating point) to unit norm;
2. a Householder QR factors the scaled system, intercept column first; a column whose
   :math:`|R_{kk}|` is negligible lies in the span of the columns before it and is aliased (set to 0,
   reported by :mod:`mlemap.glm.design`), and the QR is redone without it;
3. the triangular solve is refined by Björck's iterative refinement of the augmented system
   :math:`r + A z = b,\\; A^\\top r = 0`, with both residuals
   :math:`f = b - r - A z` and :math:`g = -A^\\top r` computed in extended precision (``np.longdouble``,
   a 64-bit mantissa on x86; chunked). Each step solves the correction with the same QR. The error
   contracts by about :math:`\\kappa(A)\\,\\epsilon` per step until it reaches the accuracy of the
   extended residuals, so ill-conditioned designs (uncentred polynomials) keep their digits.

Refinement runs when the problem is small (at most ``4e6`` entries) or the scaled system is not
well conditioned (:math:`\\kappa(R) > 10^3`); a large well-conditioned system is already accurate to
about :math:`\\kappa\\epsilon` after the QR solve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sl

from .design import INTERCEPT, Aliasing, no_aliasing, qr_rtol, triangular_aliasing

_EXT = np.longdouble
_CHUNK = 65536
#: above this many entries (rows x parameters) a well-conditioned problem is solved from R alone
LARGE = 4_000_000
_BLOCK = 8192


@dataclass
class LstsqFit:
    """Solution of the (ridge) least-squares problem.

    ``coef`` has one entry per column of ``X`` (0 for aliased columns); ``inv_gram`` is
    :math:`(X^\\top W X + \\lambda_2 I_P)^{-1}` over ``[coef..., intercept]`` with NaN rows and
    columns for aliased parameters; ``rss`` is the weighted residual sum of squares (penalty excluded).
    """

    coef: np.ndarray
    intercept: float
    rss: float
    inv_gram: np.ndarray
    aliasing: Aliasing
    n_refine: int
    cond: float


def _power_of_two_scales(A: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->j", A, A))
    out = np.ones_like(norms)
    ok = norms > 0
    out[ok] = np.exp2(np.round(np.log2(norms[ok])))
    return out


def _ext_residual(A: np.ndarray, z: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    """:math:`b - r - A z` in extended precision, rounded to float64 (chunked over rows)."""
    out = np.empty(A.shape[0])
    ze = z.astype(_EXT)
    for s in range(0, A.shape[0], _CHUNK):
        e = slice(s, s + _CHUNK)
        out[e] = (b[e].astype(_EXT) - r[e].astype(_EXT) - A[e].astype(_EXT) @ ze).astype(np.float64)
    return out


def _ext_gradient(A: np.ndarray, r: np.ndarray) -> np.ndarray:
    """:math:`-A^\\top r` in extended precision."""
    acc = np.zeros(A.shape[1], dtype=_EXT)
    for s in range(0, A.shape[0], _CHUNK):
        e = slice(s, s + _CHUNK)
        acc -= A[e].T.astype(_EXT) @ r[e].astype(_EXT)
    return acc.astype(np.float64)


def _refine(A, b, Q, R, z, max_refine: int) -> tuple[np.ndarray, np.ndarray, int]:
    r = _ext_residual(A, z, b, np.zeros_like(b))
    last = np.inf
    used = 0
    for k in range(max_refine):
        f = _ext_residual(A, z, b, r)
        g = _ext_gradient(A, r)
        h = sl.solve_triangular(R, g, trans="T")
        Qf = Q.T @ f
        dz = sl.solve_triangular(R, Qf - h)
        size = float(np.abs(dz).max())
        if not np.isfinite(size) or size > 0.5 * last:
            break  # no longer contracting: the extended-precision floor is reached
        z = z + dz
        r = r + (Q @ h + f - Q @ Qf)
        used = k + 1
        last = size
        if size <= 2 * np.finfo(float).eps * float(np.abs(z).max()):
            break
    return z, r, used


def solve_lstsq(
    X: np.ndarray,
    y: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    fit_intercept: bool = True,
    l2: float = 0.0,
    penalize_intercept: bool = False,
    labels: list[str] | None = None,
    max_refine: int = 10,
    refine: bool | None = None,
) -> LstsqFit:
    """Weighted least squares (``l2 = 0``) or ridge regression by QR with iterative refinement."""
    n, d = X.shape
    labels = list(labels) if labels is not None else [f"x{j}" for j in range(d)] + ([INTERCEPT] if fit_intercept else [])
    s = None if sample_weight is None else np.sqrt(sample_weight)
    target = y if offset is None else y - offset
    # intercept first, so that a constant column is aliased rather than the intercept
    order = ([d] if fit_intercept else []) + list(range(d))
    if refine is not True and n * len(order) > LARGE:
        fast = _large_well_conditioned(X, s, target, fit_intercept, l2, penalize_intercept, labels, order)
        if fast is not None:
            beta_ordered, R, D, cond = fast
            return _finish(X, target, sample_weight, fit_intercept, labels, order, list(range(len(order))),
                           beta_ordered, R, D, None, 0, cond)
    A = np.empty((n, len(order)))
    if fit_intercept:
        A[:, 0] = 1.0 if s is None else s
        A[:, 1:] = X if s is None else X * s[:, None]
    else:
        A[:] = X if s is None else X * s[:, None]
    b = target if s is None else target * s
    D = _power_of_two_scales(A)
    A /= D
    penalised = np.array([(j != d) or penalize_intercept for j in order]) if l2 > 0 else np.zeros(len(order), bool)

    def stacked(cols):
        if l2 <= 0:
            return A[:, cols], b
        pen = [c for c in cols if penalised[c]]
        rows = np.zeros((len(pen), len(cols)))
        for i, c in enumerate(pen):
            rows[i, cols.index(c)] = np.sqrt(l2) / D[c]
        return np.vstack([A[:, cols], rows]), np.concatenate([b, np.zeros(len(pen))])

    cols = list(range(len(order)))
    Ak, bk = stacked(cols)
    Q, R = np.linalg.qr(Ak)
    ordered_labels = [labels[j] for j in order]
    alias = triangular_aliasing(R, ordered_labels, qr_rtol(n), D)
    if alias.deficient:
        cols = alias.kept
        Ak, bk = stacked(cols)
        Q, R = np.linalg.qr(Ak)
    z = sl.solve_triangular(R, Q.T @ bk)
    diagR = np.abs(np.diag(R))
    cond = float(np.linalg.cond(R)) if R.shape[0] else 1.0
    if refine is None:
        refine = Ak.size <= 4_000_000 or cond > 1e3
    used = 0
    if refine and max_refine > 0 and diagR.size:
        z, _, used = _refine(Ak, bk, Q, R, z, max_refine)

    beta_ordered = np.zeros(len(order))
    beta_ordered[cols] = z / D[cols]
    return _finish(X, target, sample_weight, fit_intercept, labels, order, cols, beta_ordered, R, D, alias, used, cond)


def _finish(X, target, sample_weight, fit_intercept, labels, order, cols, beta_ordered, R, D, alias, used, cond):
    d = X.shape[1]
    Rinv = sl.solve_triangular(R, np.eye(R.shape[0]))
    inv_scaled = Rinv @ Rinv.T
    inv_ordered = np.full((len(order), len(order)), np.nan)
    inv_ordered[np.ix_(cols, cols)] = inv_scaled / np.outer(D[cols], D[cols])

    # back to the public order [coef..., intercept]
    public = [order.index(j) for j in range(d)] + ([0] if fit_intercept else [])
    beta = beta_ordered[public]
    inv_gram = inv_ordered[np.ix_(public, public)]
    fitted = X @ beta[:d] + (beta[d] if fit_intercept else 0.0)
    resid = target - fitted
    rss = float(np.sum(resid * resid) if sample_weight is None else np.sum(sample_weight * resid * resid))
    kept_public = sorted(order[c] for c in cols)
    aliased_public = [order[c] for c in range(len(order)) if c not in cols]
    alias_public = no_aliasing(labels)
    if aliased_public:
        relations = {order[c]: alias.relations[c] for c in alias.aliased}
        alias_public = Aliasing(labels, kept_public, aliased_public, relations)
    return LstsqFit(
        coef=beta[:d].copy(),
        intercept=float(beta[d]) if fit_intercept else 0.0,
        rss=rss,
        inv_gram=inv_gram,
        aliasing=alias_public,
        n_refine=used,
        cond=cond,
    )


def _large_well_conditioned(X, s, target, fit_intercept, l2, penalize_intercept, labels, order):
    """Tall problems: R of ``[A, b]`` by blocked (TSQR-style) Householder updates, without forming Q.

    The last column of the triangular factor of the augmented matrix is :math:`Q^\\top b`, so the
    solution needs only R. Used when the scaled system is full rank and well conditioned
    (:math:`\\kappa(R) \\le 10^3`, where the QR solve is accurate to about :math:`\\kappa\\epsilon`);
    otherwise ``None`` and the caller takes the refined path.
    """
    n, d = X.shape
    p = len(order)
    sq = np.zeros(d)
    for a in range(0, n, _BLOCK):
        Xc = X[a:a + _BLOCK]
        sq += np.einsum("ij,ij->j", Xc, Xc) if s is None else np.einsum("ij,ij,i->j", Xc, Xc, s[a:a + _BLOCK] ** 2)
    norms = np.sqrt(sq)
    if fit_intercept:
        norms = np.r_[np.sqrt(n if s is None else float(np.sum(s * s))), norms]
    D = np.ones(p)
    ok = norms > 0
    D[ok] = np.exp2(np.round(np.log2(norms[ok])))
    off = int(fit_intercept)
    R = np.zeros((0, p + 1))
    buf = np.empty((_BLOCK, p + 1))
    for a in range(0, n, _BLOCK):
        e = min(a + _BLOCK, n)
        blk = buf[: e - a]
        sc = None if s is None else s[a:e]
        if fit_intercept:
            blk[:, 0] = 1.0 if sc is None else sc
        np.multiply(X[a:e], 1.0 if sc is None else sc[:, None], out=blk[:, off:p])
        blk[:, p] = target[a:e] if sc is None else target[a:e] * sc
        blk[:, :p] /= D
        R = np.linalg.qr(np.vstack([R, blk]), mode="r")
    if l2 > 0:
        extra = np.zeros((p, p + 1))
        for c in range(p):
            if order[c] != d or penalize_intercept:
                extra[c, c] = np.sqrt(l2) / D[c]
        R = np.linalg.qr(np.vstack([R, extra]), mode="r")
    if R.shape[0] < p + 1:
        R = np.vstack([R, np.zeros((p + 1 - R.shape[0], p + 1))])
    Rp = R[:p, :p]
    diag = np.abs(np.diag(Rp))
    if not np.all(diag > qr_rtol(n)):
        return None
    cond = float(np.linalg.cond(Rp))
    if cond > 1e3:
        return None
    z = sl.solve_triangular(Rp, R[:p, p])
    return z / D, Rp, D, cond


def lstsq_from_factor(R0: np.ndarray, n: int, *, fit_intercept: bool = True, l2: float = 0.0,
                      penalize_intercept: bool = False, labels: list[str] | None = None) -> LstsqFit:
    """The (ridge) least-squares solution from the triangular factor ``R0`` of
    :math:`\\sqrt{w}\\,[1, X, y - o]` (intercept column first when fitted), as data read in chunks give it
    (a QR of stacked per-chunk factors).

    :math:`A = QR_0` keeps every norm, so the column scales are the norms of ``R0``'s columns, the
    aliasing and the solution are those of a QR of the scaled system (ridge rows stacked below), and
    the residual sum of squares is :math:`\\lVert R_0 [\\beta; -1] \\rVert^2`. No iterative refinement
    (it would need the rows again): the solution is accurate to about :math:`\\kappa(R)\\,\\epsilon`.
    """
    p = R0.shape[1] - 1
    d = p - int(fit_intercept)
    labels = list(labels) if labels is not None else [f"x{j}" for j in range(d)] + ([INTERCEPT] if fit_intercept else [])
    order = ([d] if fit_intercept else []) + list(range(d))  # the factor's column order
    norms = np.sqrt(np.einsum("ij,ij->j", R0[:, :p], R0[:, :p]))
    D = np.ones(p)
    D[norms > 0] = np.exp2(np.round(np.log2(norms[norms > 0])))
    scaled = np.column_stack([R0[:, :p] / D, R0[:, p]])
    penalised = np.array([(j != d) or penalize_intercept for j in order]) if l2 > 0 else np.zeros(p, bool)

    def factor(cols):
        block = scaled[:, cols + [p]]
        if l2 > 0:
            pen = [c for c in cols if penalised[c]]
            rows = np.zeros((len(pen), len(cols) + 1))
            for i, c in enumerate(pen):
                rows[i, cols.index(c)] = np.sqrt(l2) / D[c]
            block = np.vstack([block, rows])
        R = np.linalg.qr(block, mode="r")
        return R[: len(cols), : len(cols)], R[: len(cols), len(cols)]

    cols = list(range(p))
    R, c = factor(cols)
    ordered_labels = [labels[j] for j in order]
    alias = triangular_aliasing(R, ordered_labels, qr_rtol(n), D)
    if alias.deficient:
        cols = alias.kept
        R, c = factor(cols)
    z = sl.solve_triangular(R, c) if cols else np.zeros(0)
    cond = float(np.linalg.cond(R)) if R.shape[0] else 1.0
    beta_ordered = np.zeros(p)
    beta_ordered[cols] = z / D[cols]
    Rinv = sl.solve_triangular(R, np.eye(R.shape[0]))
    inv_ordered = np.full((p, p), np.nan)
    inv_ordered[np.ix_(cols, cols)] = (Rinv @ Rinv.T) / np.outer(D[cols], D[cols])
    residual = R0 @ np.append(beta_ordered, -1.0)
    public = [order.index(j) for j in range(d)] + ([0] if fit_intercept else [])
    beta = beta_ordered[public]
    alias_public = no_aliasing(labels)
    aliased_public = [order[c] for c in range(p) if c not in cols]
    if aliased_public:
        relations = {order[c]: alias.relations[c] for c in alias.aliased}
        alias_public = Aliasing(labels, sorted(order[c] for c in cols), aliased_public, relations)
    return LstsqFit(coef=beta[:d].copy(), intercept=float(beta[d]) if fit_intercept else 0.0,
                    rss=float(residual @ residual), inv_gram=inv_ordered[np.ix_(public, public)],
                    aliasing=alias_public, n_refine=0, cond=cond)

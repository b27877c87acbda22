"""Weighted Gram matrices :math:`\\tilde X^\\top \\mathrm{diag}(h)\\, \\tilde X` with :math:`h \\ge 0`.

:math:`\\tilde X = [X, 1]` when an intercept is fitted. The product is the Hessian of every smooth
GLM (``h`` = the IRLS weights) and is the one :math:`O(n d^2)` step of a Newton iteration. It is
computed as a symmetric rank-k update (BLAS ``dsyrk``, half the work of a general product) of
:math:`\\sqrt{h}\\,\\tilde X`, over row blocks so that the scaled block stays in cache and no
:math:`n \\times d` temporary is allocated.
"""

from __future__ import annotations

import os

import numpy as np
from scipy.linalg import blas

from ..core.threads import single_threaded_torch, torch_single_thread  # noqa: F401 (the estimators import them here)

_BLOCK = 8192
_PARALLEL_ROWS = 200_000


def weighted_gram(X: np.ndarray, h: np.ndarray, intercept: bool) -> np.ndarray:
    """:math:`\\tilde X^\\top \\mathrm{diag}(h) \\tilde X` for ``h >= 0`` (float64, symmetric).

    Large inputs are split between two threads, each updating its own triangle (BLAS releases
    the GIL; the row blocks are too small for the BLAS's own threading)."""
    n = X.shape[0]
    if n >= _PARALLEL_ROWS and (os.cpu_count() or 1) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            halves = list(pool.map(lambda r: _gram_rows(X, h, intercept, *r), [(0, n // 2), (n // 2, n)]))
        upper = halves[0] + halves[1]
    else:
        upper = _gram_rows(X, h, intercept, 0, n)
    return upper + np.triu(upper, 1).T


def _gram_rows(X: np.ndarray, h: np.ndarray, intercept: bool, lo: int, hi: int) -> np.ndarray:
    """Upper triangle of the weighted Gram matrix of rows ``lo:hi``."""
    d = X.shape[1]
    p = d + int(intercept)
    C = np.zeros((p, p), order="F")
    root = np.sqrt(h[lo:hi])
    block = max(1, min(_BLOCK, hi - lo))
    buf = np.empty((block, p))
    for s in range(lo, hi, block):
        e = min(s + block, hi)
        a = buf[: e - s]
        np.multiply(X[s:e], root[s - lo:e - lo, None], out=a[:, :d])
        if intercept:
            a[:, d] = root[s - lo:e - lo]
        # a is C-ordered (m, p), i.e. a.T is F-ordered (p, m): C += a.T @ a (upper triangle)
        C = blas.dsyrk(1.0, a.T, beta=1.0, c=C, trans=0, lower=0, overwrite_c=1)
    return np.triu(C)


def weighted_cross(X: np.ndarray, h: np.ndarray, intercept: bool) -> np.ndarray:
    """:math:`\\tilde X^\\top \\tilde h` -- the gradient :math:`\\tilde X^\\top g` for a vector ``g``."""
    out = X.T @ h
    return np.concatenate([out, [h.sum()]]) if intercept else out

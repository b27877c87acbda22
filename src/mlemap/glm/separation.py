"""Detection of perfect and quasi-perfect separation in logistic and softmax regression.

The maximum-likelihood estimate of a logistic model does not exist when a direction :math:`v` of
the coefficients (intercept included, :math:`\\tilde x = [x, 1]`) satisfies

.. math:: s_i\\, \\tilde x_i^\\top v \\ge 0 \\quad \\text{for every row with positive weight, not all } 0,

with :math:`s_i = +1` for the second class and :math:`-1` for the first (Albert and Anderson,
1984): the log-likelihood keeps increasing along :math:`v`. The separation is *complete* when a
:math:`v` makes every inequality strict, *quasi-complete* otherwise (some rows on the boundary).

For the softmax with a reference class (its coefficients fixed at 0), a direction
:math:`V = (v_k)` with :math:`(v_{y_i} - v_k)^\\top \\tilde x_i \\ge 0` for every row and class does the same.

Both are found with one linear program (HiGHS): maximise the total margin
:math:`\\sum_i s_i \\tilde x_i^\\top v` over the box :math:`-1 \\le v_j \\le 1` (columns equilibrated)
subject to the inequalities; a positive optimum is a separating direction. A second program,
maximising the smallest margin, tells complete from quasi-complete separation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import show_label


@dataclass
class Separation:
    """A separating direction, per linear predictor (row) and column, in the data's units."""

    kind: str
    direction: np.ndarray  # (rows, p1), largest entry of magnitude 1
    labels: list[str]
    row_names: list[str]
    reference: str | None
    n_boundary: int
    diverging: np.ndarray  # bool, (rows, p1)
    note: str = ""  # how the separation was found, when not on every row at once
    cause: str = "separation"

    def combination(self, row: int) -> str:
        v = self.direction[row]
        terms = [(float(v[j]), self.labels[j]) for j in np.flatnonzero(self.diverging[row])]
        return " ".join(
            (("- " if c < 0 else "+ ") if k else ("-" if c < 0 else "")) + f"{abs(c):.4g}*{lab}"
            for k, (c, lab) in enumerate(terms)
        )

    def message(self, owner: str) -> str:
        if not self.n_boundary:
            boundary = ""
        elif self.reference is None:
            boundary = f" ({self.n_boundary} row(s) lie on the boundary, where the combination is 0)"
        else:
            boundary = f" ({self.n_boundary} row-class comparison(s) are ties)"
        if self.reference is None:
            first, second = self.row_names
            where = (
                f"the combination {self.combination(0)} is >= 0 for every row of class {show_label(second)} and <= 0 "
                f"for every row of class {show_label(first)}{boundary}"
            )
        else:
            parts = [
                f"class {show_label(self.row_names[r])} vs the reference {show_label(self.reference)}: {self.combination(r)}"
                for r in range(self.direction.shape[0])
                if self.diverging[r].any()
            ]
            where = "moving the coefficients along " + "; ".join(parts) + f" never decreases the likelihood of any row{boundary}"
        names = sorted({self.labels[j] for j in np.flatnonzero(self.diverging.any(axis=0))}, key=self.labels.index)
        return (
            f"{self.kind.capitalize()} separation in {owner}: {where}. The maximum-likelihood estimate does not exist: "
            f"the coefficients of {', '.join(names)} grow without bound along this direction, so they are flagged as "
            "diverging and get no standard errors. Add a prior to get finite estimates (e.g. "
            "prior=mm.priors.ridge(alpha=1.0) or prior=torch.distributions.Normal(0.0, 2.5)), or drop the "
            "separating variable." + (f" {self.note}" if self.note else "")
        )


def _margin_matrix(X: np.ndarray, codes: np.ndarray, free: list[int] | None, n_classes: int, intercept: bool):
    """Rows ``A`` with the inequalities ``A v >= 0``; columns ``(rows, p1)`` flattened."""
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if intercept else X
    p1 = Xt.shape[1]
    if free is None:
        s = np.where(codes == 1, 1.0, -1.0)
        return Xt * s[:, None], 1, p1
    from scipy import sparse

    pos = {c: r for r, c in enumerate(free)}
    k = len(free)
    blocks = []
    for j in range(n_classes):
        rows = codes != j
        if not rows.any():
            continue
        Xi = Xt[rows]
        ci = codes[rows]
        m = Xi.shape[0]
        data, cols, rr = [], [], []
        for sign, cls in ((1.0, ci), (-1.0, np.full(m, j))):
            r = np.array([pos.get(int(c), -1) for c in cls])
            ok = r >= 0
            idx = np.flatnonzero(ok)
            for col in range(p1):
                data.append(sign * Xi[idx, col])
                cols.append(r[idx] * p1 + col)
                rr.append(idx)
        blocks.append(
            sparse.csr_matrix((np.concatenate(data), (np.concatenate(rr), np.concatenate(cols))), shape=(m, k * p1))
        )
    return sparse.vstack(blocks).tocsr(), k, p1


def margin_rows(X: np.ndarray, codes: np.ndarray, direction: np.ndarray, free: list[int] | None, n_classes: int,
                intercept: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(margin, size)`` per row for a direction ``(rows, p1)``: the smallest of the row's inequalities
    :math:`s_i \\tilde x_i^\\top v` (binary) or :math:`(v_{y_i} - v_k)^\\top \\tilde x_i` over classes
    :math:`k \\ne y_i` (softmax, the reference class at 0), and the scale :math:`\\|\\tilde x_i\\|_1 \\max|v|`
    to judge it against."""
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if intercept else X
    size = np.abs(Xt).sum(axis=1) * float(np.abs(direction).max() or 1.0)
    if free is None:
        s = np.where(codes == 1, 1.0, -1.0)
        return s * (Xt @ direction[0]), size
    V = np.zeros((n_classes, Xt.shape[1]))
    V[list(free)] = direction
    scores = Xt @ V.T  # (n, K)
    own = scores[np.arange(X.shape[0]), codes]
    others = np.where(np.arange(n_classes)[None, :] == codes[:, None], np.inf, scores)
    return own - others.min(axis=1), size


def find_separation(
    X: np.ndarray,
    codes: np.ndarray,
    *,
    labels: list[str],
    class_names: list,
    intercept: bool = True,
    sample_weight: np.ndarray | None = None,
    free: list[int] | None = None,
    max_size: float = 5e7,
) -> Separation | None:
    """Return the separation found by the linear programs (see the module docstring), or ``None``.

    ``free`` lists the classes with their own coefficients in a softmax model with a reference
    class; ``None`` for the binary model (``codes`` in {0, 1}).
    """
    from scipy.optimize import linprog

    keep = slice(None) if sample_weight is None else sample_weight > 0
    Xk, ck = X[keep], codes[keep]
    n_classes = len(class_names)
    A, k, p1 = _margin_matrix(Xk, ck, free, n_classes, intercept)
    if A.shape[0] * A.shape[1] > max_size:
        return None
    absA = abs(A)
    scale = np.asarray(absA.max(axis=0).todense()).ravel() if hasattr(absA, "todense") else absA.max(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    As = A / scale if not hasattr(A, "multiply") else A.multiply(1.0 / scale).tocsr()
    total = np.asarray(As.sum(axis=0)).ravel()
    res = linprog(-total, A_ub=-As, b_ub=np.zeros(As.shape[0]), bounds=(-1, 1), method="highs")
    if res.status != 0 or res.x is None:
        return None
    v = res.x
    margins = np.asarray(As @ v).ravel()
    top = float(margins.max()) if margins.size else 0.0
    if not top > 1e-7 or margins.min() < -1e-9 * max(1.0, top):
        return None
    n_boundary_rows = margins <= 1e-9 * top
    kind = "complete"
    if n_boundary_rows.any():
        # maximise the smallest margin: positive means every row can be strictly separated
        c = np.zeros(As.shape[1] + 1)
        c[-1] = -1.0
        from scipy import sparse

        A2 = sparse.hstack([-sparse.csr_matrix(As), np.ones((As.shape[0], 1))]).tocsr()
        res2 = linprog(c, A_ub=A2, b_ub=np.zeros(As.shape[0]), bounds=[(-1, 1)] * As.shape[1] + [(None, 1)],
                       method="highs")
        if not (res2.status == 0 and res2.x is not None and res2.x[-1] > 1e-9):
            kind = "quasi-complete"
        else:
            v = res2.x[:-1]
    direction = (v / scale).reshape(k, p1)
    biggest = float(np.abs(direction).max())
    direction = direction / biggest
    diverging = np.abs(v.reshape(k, p1)) > 1e-7 * float(np.abs(v).max())
    direction = np.where(diverging, direction, 0.0)
    n_boundary = 0
    if kind == "quasi-complete":
        per_row = np.asarray(As @ v).ravel() <= 1e-9 * top
        n_boundary = int(per_row.sum()) if free is None else int(np.unique(np.flatnonzero(per_row)).size)
    if free is None:
        return Separation(kind, direction, list(labels), [class_names[0], class_names[1]], None, n_boundary, diverging)
    return Separation(kind, direction, list(labels), [class_names[c] for c in free],
                      class_names[next(c for c in range(n_classes) if c not in free)], n_boundary, diverging)

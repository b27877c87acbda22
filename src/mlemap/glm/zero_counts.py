"""Existence of the maximum-likelihood estimate of a Poisson (log-link) regression.

The log-likelihood :math:`\\sum_i w_i (y_i\\eta_i - e^{\\eta_i})`, :math:`\\eta = \\tilde X\\beta + o`,
has no maximum exactly when a direction :math:`v` of the coefficients (intercept included,
:math:`\\tilde x = [x, 1]`) satisfies

.. math:: \\tilde x_i^\\top v = 0 \\ \\text{for every row with } y_i > 0, \\qquad
          \\tilde x_i^\\top v \\le 0 \\ \\text{for every row with } y_i = 0, \\ \\text{not all } 0

(Haberman 1974; Santos Silva and Tenreyro 2010): along :math:`v` the positive counts keep their
fit while the fitted means of some zero-count rows shrink to 0, so the likelihood keeps
increasing. An all-zero outcome (:math:`v` = minus the intercept) and a category whose counts
are all zero (:math:`v` = minus its indicator) are the common cases; it is the counterpart of
separation in logistic regression.

One linear program (HiGHS) finds :math:`v`: maximise :math:`-\\sum_{y_i = 0} \\tilde x_i^\\top v` over
the box :math:`-1 \\le v_j \\le 1` (columns equilibrated) subject to the constraints; a positive
optimum is such a direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ZeroCounts:
    """A direction along which the Poisson likelihood keeps increasing, in the data's units."""

    direction: np.ndarray  # (1, p1), largest entry of magnitude 1
    labels: list[str]
    diverging: np.ndarray  # bool, (1, p1)
    n_to_zero: int  # zero-count rows whose fitted mean goes to 0
    n_zero: int  # zero-count rows
    n_positive: int  # rows with a positive count
    cause: str = "zero counts"

    def combination(self) -> str:
        v = self.direction[0]
        terms = [(float(v[j]), self.labels[j]) for j in np.flatnonzero(self.diverging[0])]
        return " ".join(
            (("- " if c < 0 else "+ ") if k else ("-" if c < 0 else "")) + f"{abs(c):.4g}*{lab}"
            for k, (c, lab) in enumerate(terms)
        )

    def message(self, owner: str) -> str:
        names = [self.labels[j] for j in np.flatnonzero(self.diverging[0])]
        fix = (
            "Add a prior to get finite estimates (e.g. prior=mm.priors.ridge(alpha=1.0) or "
            "prior=torch.distributions.Normal(0.0, 2.5)), or drop the rows or the category with no events."
        )
        if not self.n_positive:
            where = f"every count is 0, so the likelihood keeps increasing as the fitted means shrink to 0 along {self.combination()}"
            if names == ["intercept"]:
                fix = (
                    "A prior on the coefficients does not help while the intercept is not penalised: give the intercept "
                    "a prior too (a prior with penalize_intercept=True), or collect data with some events."
                )
        else:
            where = (
                f"the combination {self.combination()} is 0 for every row with a positive count and negative for "
                f"{self.n_to_zero} of the {self.n_zero} rows whose count is 0 (for example a category whose counts "
                "are all 0), so moving the coefficients along it fits those zeros ever better"
            )
        return (
            f"The estimate of {owner} does not exist (the likelihood has no maximum): {where}. The coefficients of "
            f"{', '.join(names)} grow without bound (the fitted means of those rows shrink to 0), so they are flagged "
            f"as diverging and get no standard errors. {fix}"
        )


def find_zero_counts(
    X: np.ndarray,
    y: np.ndarray,
    *,
    labels: list[str],
    intercept: bool = True,
    sample_weight: np.ndarray | None = None,
    max_size: float = 5e7,
) -> ZeroCounts | None:
    """Return the direction found by the linear program (see the module docstring), or ``None``."""
    from scipy.optimize import linprog

    keep = np.ones(X.shape[0], bool) if sample_weight is None else sample_weight > 0
    Xt = np.hstack([X[keep], np.ones((int(keep.sum()), 1))]) if intercept else X[keep]
    if Xt.size > max_size:
        return None
    zero = np.asarray(y)[keep] == 0
    if not zero.any():
        return None
    if intercept and zero.all():  # every count is 0: minus the intercept is the simplest such direction
        direction = np.zeros(Xt.shape[1])
        direction[-1] = -1.0
        return ZeroCounts(direction[None, :], list(labels), direction[None, :] != 0, int(zero.sum()), int(zero.sum()), 0)
    scale = np.abs(Xt).max(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    A = Xt / scale
    A_zero, A_pos = A[zero], A[~zero]
    res = linprog(
        A_zero.sum(axis=0),  # minimise the sum of x'v over the zero rows (each <= 0)
        A_ub=A_zero, b_ub=np.zeros(A_zero.shape[0]),
        A_eq=A_pos if A_pos.shape[0] else None, b_eq=np.zeros(A_pos.shape[0]) if A_pos.shape[0] else None,
        bounds=(-1, 1), method="highs",
    )
    if res.status != 0 or res.x is None:
        return None
    v = res.x
    margins = A_zero @ v
    deepest = float(-margins.min())
    if not deepest > 1e-7:
        return None
    if A_pos.shape[0] and float(np.abs(A_pos @ v).max()) > 1e-9 * max(1.0, deepest):
        return None  # not an exact direction (rounding in the solver)
    diverging = np.abs(v) > 1e-7 * float(np.abs(v).max())
    direction = np.where(diverging, v / scale, 0.0)
    direction = direction / float(np.abs(direction).max())
    n_to_zero = int((margins < -1e-9 * deepest).sum())
    return ZeroCounts(direction[None, :], list(labels), diverging[None, :], n_to_zero, int(zero.sum()),
                      int((~zero).sum()))

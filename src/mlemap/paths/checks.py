"""Where a regularisation path has no answer to give: degenerate inputs, and unpenalised points
(``alpha = 0``) whose maximum-likelihood estimate does not exist.

* Every column of ``X`` constant (among rows of positive weight), with an intercept: the
  intercept-only fit is already optimal, :math:`\\alpha_{\\max} = 0`, and a grid from it is all zeros
  (the same for any data whose scores vanish at the fit without features, when no ``alphas`` are given).
* A constant response for the gaussian and laplace families, with an intercept: every coefficient
  is 0 and the dispersion's maximum-likelihood value is 0, so the log-likelihood is infinite.
  (A single class for bernoulli/categorical and all-zero counts for poisson are refused when the
  response is checked.)
* At ``alpha = 0`` the path is the maximum-likelihood fit: for bernoulli and categorical it does not
  exist under separation (:mod:`mlemap.glm.separation`), for poisson when a direction fits the
  zero counts ever better (:mod:`mlemap.glm.zero_counts`); the coefficients there are then the
  last iterate along a diverging direction, and a :class:`~mlemap.SeparationWarning` says so.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, SeparationWarning, warn
from ..glm.separation import find_separation
from ..glm.zero_counts import find_zero_counts

OWNER = "regularization_path"


def _positive_rows(X: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    return X if w is None else X[w > 0]


def check_not_degenerate(X: np.ndarray, y: np.ndarray, w: np.ndarray | None, family_name: str, fit_intercept: bool,
                         feature_names: list[str]) -> None:
    """Raise :class:`DataError` for the degenerate inputs of the module docstring."""
    if not fit_intercept:
        return
    rows = _positive_rows(X, w)
    if rows.shape[0] and np.all(rows.max(axis=0) == rows.min(axis=0)):
        shown = ", ".join(feature_names[:6]) + (", ..." if len(feature_names) > 6 else "")
        raise DataError(
            f"Every column of X is constant ({shown}), so with an intercept the {OWNER} has nothing to select: "
            "the intercept-only fit is optimal at every alpha (alpha_max = 0). Pass columns that vary, or "
            "fit_intercept=False if a constant column is meant to be the intercept."
        )
    if family_name in ("gaussian", "laplace"):
        values = _positive_rows(y, w)
        if values.size and values.max() == values.min():
            raise DataError(
                f"The 'y' argument of {OWNER} is constant ({float(values[0]):g}): with an intercept every coefficient "
                f"is 0 and the {family_name} dispersion's estimate is 0, so the log-likelihood is infinite at every "
                "alpha. Check the response column."
            )


def check_grid_exists(alpha_max: float) -> None:
    """Raise :class:`DataError` when the default grid would be all zeros (:math:`\\alpha_{\\max} = 0`)."""
    if not alpha_max > 0:
        raise DataError(
            "alpha_max is 0 for these data: the score of every coefficient is 0 at the fit without features, so "
            "that fit is the maximum-likelihood one and the default grid from alpha_max down would be all zeros. "
            "Pass alphas=[...] to fit chosen penalties anyway."
        )


def warn_unpenalised_separation(X: np.ndarray, y: np.ndarray, w: np.ndarray | None, family, fit_intercept: bool,
                                alphas: np.ndarray, feature_names: list[str]):
    """At the ``alpha = 0`` points of the grid: the separation or zero-count direction that makes the
    maximum-likelihood estimate non-existent, warned as :class:`~mlemap.SeparationWarning`; or ``None``."""
    if not np.any(alphas == 0):
        return None
    labels = list(feature_names) + (["intercept"] if fit_intercept else [])
    if family.name == "poisson":
        found = find_zero_counts(X, y, labels=labels, intercept=fit_intercept, sample_weight=w)
    elif family.name in ("bernoulli", "categorical"):
        codes = np.asarray(y).astype(np.int64)
        classes = list(range(int(codes.max()) + 1))
        free = list(range(len(classes) - 1)) if family.name == "categorical" else None  # the last class as reference
        found = find_separation(X, codes, labels=labels, class_names=classes, intercept=fit_intercept,
                                sample_weight=w, free=free)
    else:
        return None
    if found is not None:
        zeros = int(np.sum(alphas == 0))
        warn(
            f"At alpha = 0 (no penalty, {zeros} point(s) of the grid): {found.message(OWNER)} The coefficients "
            "reported there are the last iterate along that direction, not estimates; every alpha > 0 has a finite "
            "solution.",
            SeparationWarning,
        )
    return found

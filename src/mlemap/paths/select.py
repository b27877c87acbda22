"""Choosing one alpha of a path: K-fold cross-validation or the BIC.

**Cross-validation.** The rows are shuffled with ``seed`` and dealt into ``cv`` folds (within each
class for bernoulli/categorical, so every training set sees every class). For each fold the path is
refitted on the other folds at the same ``alphas`` (the penalty weights use the training set's own
total weight, as scikit-learn's ``LassoCV`` does) and scored by the weighted mean held-out
deviance per observation, :math:`2\\,[\\text{nll}(y \\mid \\hat\\eta) - \\text{nll}(y \\mid \\eta_{\\text{sat}})]`
at unit dispersion: the squared error for gaussian (``LassoCV``'s criterion), twice the absolute
error for laplace, the Poisson deviance, and :math:`-2\\log p(y)` for bernoulli/categorical. The
chosen alpha minimises the mean over folds; ``alpha_1se`` is the largest alpha within one standard
error of that minimum.

**BIC.** The alpha with the smallest ``path.bic`` (definition in :mod:`mlemap.paths.result`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

from ..core.regression import RegressionProblem
from ..errors import ParameterError
from ..glm.penalized import make_solver
from ..glm.penalized_core import family_threads
from . import grid
from .solve import solve_path


@dataclass
class Selection:
    """The chosen alpha and the curve it was chosen from."""

    method: str
    alpha: float
    index: int
    scores: np.ndarray  # mean held-out deviance per observation (cv) or BIC (bic), per alpha
    se: np.ndarray | None = None  # standard error of the cv mean over folds
    alpha_1se: float | None = None
    index_1se: int | None = None
    cv: int | None = None
    seed: int | None = None

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "alpha": self.alpha,
            "index": self.index,
            "scores": self.scores.tolist(),
            "se": None if self.se is None else self.se.tolist(),
            "alpha_1se": self.alpha_1se,
            "index_1se": self.index_1se,
            "cv": self.cv,
            "seed": self.seed,
        }


def deviance(family, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Per-observation deviance at unit dispersion (see the module docstring)."""
    with torch.no_grad(), family_threads(len(y)):
        nll = family.nll(torch.from_numpy(y), torch.from_numpy(np.ascontiguousarray(eta))).numpy()
    if family.name == "poisson":
        y_log_y = y * np.log(np.where(y > 0, y, 1.0))  # 0 log 0 = 0
        nll = nll - (y - y_log_y)
    return 2.0 * nll


def select_bic(path) -> Selection:
    bic = path.bic
    k = int(np.argmin(bic))
    return Selection("bic", float(path.alphas[k]), k, bic.copy())


def _folds(y: np.ndarray, stratify: bool, cv: int, seed) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    n = y.shape[0]
    assignment = np.empty(n, dtype=np.int64)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(n)]
    start = 0
    for idx in groups:
        idx = rng.permutation(idx)
        assignment[idx] = (np.arange(idx.size) + start) % cv
        start += idx.size
    return [np.flatnonzero(assignment == f) for f in range(cv)]


def _rows(a, idx):
    return None if a is None else a[idx]


def select_cv(path, *, cv: int = 5, seed=0) -> Selection:
    if not path.in_memory:
        from ..errors import MethodError

        raise MethodError("Cross-validation refits the path on folds of rows held in memory; a path over data read "
                          "in passes is selected by BIC: path.select('bic').")
    X, y, w, offset = path._data
    n = X.shape[0]
    if isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or not 2 <= cv <= n:
        raise ParameterError(f"The 'cv' parameter of select must be an int in the range [2, {n}]. Got {cv!r} instead.")
    family = path._family
    alphas = path.alphas
    folds = _folds(y, family.name in ("bernoulli", "categorical"), int(cv), seed)
    scores = np.zeros((cv, len(alphas)))
    n_classes = path.coefs.shape[0] if path.coefs.ndim == 3 else None
    for f, test in enumerate(folds):
        train = np.setdiff1d(np.arange(n), test, assume_unique=True)
        solver = make_solver(RegressionProblem(family, X[train], y[train], weight=_rows(w, train),
                                               offset=_rows(offset, train), intercept=path.fit_intercept,
                                               n_classes=n_classes))
        c1, c2 = grid.penalty_factors(path.penalty, path.l1_ratio, family.name, solver.total_weight)
        sol = solve_path(solver, c1 * alphas, c2 * alphas, path._settings["tol"], path._settings["max_iter"])
        wt = np.ones(test.size) if w is None else w[test]
        for k in range(len(alphas)):
            coef, b = sol.coefs[k], sol.intercepts[k]
            eta = X[test] @ (coef.T if coef.ndim == 2 else coef) + b
            if offset is not None:
                off = offset[test]
                eta = eta + (off[:, None] if (coef.ndim == 2 and off.ndim == 1) else off)
            scores[f, k] = float(wt @ deviance(family, y[test], eta) / wt.sum())
    mean = scores.mean(axis=0)
    se = scores.std(axis=0, ddof=1) / np.sqrt(cv)
    k = int(np.argmin(mean))
    k1 = int(np.flatnonzero(mean <= mean[k] + se[k])[0])
    return Selection("cv", float(alphas[k]), k, mean, se, float(alphas[k1]), k1, int(cv), seed)

"""The fixed data sets the explorer page embeds (drawn once, deterministically, when the page is built).

Each is returned as plain lists so that the page and the tests that check it against mlemap see
the same numbers (JSON keeps every float64 exactly).
"""

from __future__ import annotations

import numpy as np

#: the optimiser panel's model: a 2-D Gaussian mean with this known, elongated covariance
ANGLE = np.deg2rad(30)
_R = np.array([[np.cos(ANGLE), -np.sin(ANGLE)], [np.sin(ANGLE), np.cos(ANGLE)]])
OPTIM_COVARIANCE = _R @ np.diag([8.0, 0.5]) @ _R.T
OPTIM_START = (-4.0, 3.5)
#: the seed of the page's random-number generator (mulberry32) for drawing minibatches
MINIBATCH_SEED = 20240611
#: batch sizes the minibatch slider steps through (the last is the whole sample)
BATCH_SIZES = (1, 5, 10, 100, 1000)


def posterior_2d() -> dict:
    """Twelve rows of a two-coefficient regression, y = 2.5 x1 + x2 + noise (sd 0.4)."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(12, 2))
    y = X @ np.array([2.5, 1.0]) + 0.4 * rng.normal(size=12)
    return {"X": X.tolist(), "y": y.tolist()}


def sparse_regression() -> dict:
    """100 rows, 8 standardised features of which 3 matter, an intercept of 1."""
    rng = np.random.default_rng(6)
    X = rng.standard_normal((100, 8))
    X = (X - X.mean(0)) / X.std(0)
    beta = np.array([2.0, -1.5, 1.0, 0, 0, 0, 0, 0])
    y = 1.0 + X @ beta + rng.standard_normal(100)
    return {"X": X.tolist(), "y": y.tolist(), "truth": beta.tolist()}


def optimiser_sample() -> dict:
    """1000 draws of a 2-D Gaussian with mean (1, 1) and the known covariance above."""
    rng = np.random.default_rng(12)
    x = rng.multivariate_normal([1.0, 1.0], OPTIM_COVARIANCE, BATCH_SIZES[-1])
    return {"x": x.tolist(), "covariance": OPTIM_COVARIANCE.tolist(), "start": list(OPTIM_START),
            "seed": MINIBATCH_SEED, "batch_sizes": list(BATCH_SIZES)}


def all_data() -> dict:
    return {"posterior2d": posterior_2d(), "paths": sparse_regression(), "optim": optimiser_sample()}

"""Profile log-likelihood of one coefficient of a smooth single-output GLM.

:math:`\\ell_p(c) = \\max_{\\theta_{-j}} \\ell(\\theta_j = c, \\theta_{-j})`: the column of parameter
``j`` moves into the offset (``c * x_j``, or ``c`` for the intercept) and the rest is refitted by
Newton from the maximum-likelihood estimate. Used by ``conf_int(method="profile")``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import MethodError
from ..glm.newton import GLMObjective, newton_solve


def training_data(est):
    data = getattr(est, "_profile_data", None)
    if data is None:
        raise MethodError(
            f"Profile intervals of {type(est).__name__} need the training data, which is not kept after pickling; "
            "refit the model, or use method='wald'."
        )
    return data


def glm_profile_loglik(est, j: int, value: float) -> float:
    X, y, w, offset, family = training_data(est)
    d = X.shape[1]
    base = np.zeros(X.shape[0]) if offset is None else offset.copy()
    est_packed = est.estimate_.vector()
    if j < d:
        base += value * X[:, j]
        Xr = np.ascontiguousarray(np.delete(X, j, axis=1))
        intercept = est.fit_intercept
        theta0 = np.delete(est_packed, j)
    else:
        base += value
        Xr, intercept = X, False
        theta0 = est_packed[:d]
    if Xr.shape[1] == 0 and not intercept:
        eta = torch.from_numpy(base)
    else:
        if Xr.shape[1] == 0:
            Xr = np.zeros((X.shape[0], 1))
            theta0 = np.append(0.0, theta0)
        obj = GLMObjective(Xr, y, family, sample_weight=w, offset=base, intercept=intercept)
        fit = newton_solve(obj, theta0=theta0, tol=1e-14, max_iter=100, lazy=False)
        eta = fit.eta
    wt = None if w is None else torch.from_numpy(w)
    return float(family.log_likelihood(torch.from_numpy(y), eta, wt))

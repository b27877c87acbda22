"""Profile log-likelihood of one coefficient of a smooth single-output GLM.

:math:`\\ell_p(c) = \\max_{\\theta_{-j}} \\ell(\\theta_j = c, \\theta_{-j})`: the column of parameter
``j`` moves into the offset (``c * x_j``, or ``c`` for the intercept) and the rest is refitted by
Newton (the core's solver) from the maximum-likelihood estimate. Used by ``conf_int(method="profile")``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core.optimize import minimize
from ..core.regression import RegressionProblem
from ..errors import MethodError


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
        pb = RegressionProblem(family, Xr, y, weight=w, offset=base, intercept=intercept)
        res = minimize(pb.objective(), torch.from_numpy(np.asarray(theta0, dtype=np.float64)), max_iter=100, ftol=1e-14)
        eta = pb.model.eta_of(pb.rows_all(), pb.theta(res.x))
    wt = None if w is None else torch.from_numpy(w)
    return float(family.log_likelihood(torch.from_numpy(y), eta, wt))

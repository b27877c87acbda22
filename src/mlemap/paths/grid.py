"""Penalty specification of a regularisation path: names, ``l1_ratio``, and the grid of ``alpha``.

``alpha`` is scikit-learn's for the family (the ``alpha`` of ``mm.priors.lasso``, ``elastic_net``
and ``ridge``); :meth:`~mlemap.priors.penalties.Penalty.weights` turns it into the weights
:math:`(\\lambda_1, \\lambda_2)` of the objective. Along the path
:math:`\\lambda_1 = c_1\\,\\alpha` and :math:`\\lambda_2 = c_2\\,\\alpha` with constants that depend on
the family, the penalty and the total weight :math:`W`.

The default grid runs from :math:`\\alpha_{\\max}` down to :math:`\\varepsilon\\,\\alpha_{\\max}` on a log
scale. :math:`\\alpha_{\\max} = \\max_j |\\nabla_j f| / c_1` is the smallest ``alpha`` whose solution has
every coefficient zero (:math:`\\nabla f` at the intercept-only fit; for the categorical family
the largest over classes), as scikit-learn's ``_alpha_grid``; for the laplace family it uses the
subgradient of :math:`|r|` at the median fit described in :mod:`mlemap.glm.lad_lasso`. A pure ridge path has no such
point; its grid starts where the L2 weight is 1000 times that gradient scale (glmnet's
convention: the :math:`\\alpha_{\\max}` of an elastic net with ``l1_ratio = 0.001``).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import MethodError, ParameterError
from ..priors.penalties import Penalty

PENALTIES = ("l1", "elastic_net", "l2")
_ALIASES = {"l1": "l1", "lasso": "l1", "elastic_net": "elastic_net", "elasticnet": "elastic_net", "enet": "elastic_net",
            "l2": "l2", "ridge": "l2"}
_KIND = {"l1": "lasso", "elastic_net": "elastic_net", "l2": "ridge"}
RIDGE_RATIO = 1e-3
OWNER = "regularization_path"


def resolve_penalty(penalty, l1_ratio) -> tuple[str, float]:
    """Canonical penalty name and its ``l1_ratio``."""
    name = _ALIASES.get(str(penalty).lower()) if isinstance(penalty, str) else None
    if name is None:
        raise ParameterError(
            f"Unknown penalty {penalty!r} for {OWNER}. Valid penalties are: 'l1' (lasso), 'elastic_net', 'l2' (ridge)."
        )
    if l1_ratio is not None:
        if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, numbers.Real) or not 0 <= l1_ratio <= 1:
            raise ParameterError(
                f"The 'l1_ratio' parameter of {OWNER} must be a float in the range [0, 1]. Got {l1_ratio!r} instead."
            )
        l1_ratio = float(l1_ratio)
    fixed = {"l1": 1.0, "l2": 0.0}.get(name)
    if fixed is not None:
        if l1_ratio is not None and l1_ratio != fixed:
            raise ParameterError(
                f"penalty={name!r} fixes l1_ratio={fixed:g}, but l1_ratio={l1_ratio:g} was given. Use "
                "penalty='elastic_net' to choose the mix of L1 and L2."
            )
        return name, fixed
    return name, 0.5 if l1_ratio is None else l1_ratio


def check_family_penalty(family_name: str, l1_ratio: float) -> None:
    if family_name == "laplace" and l1_ratio < 1:
        raise MethodError(
            f"The laplace family takes the 'l1' penalty only (an exact linear program); l1_ratio={l1_ratio:g} adds an "
            "L2 part. Use penalty='l1' with family='laplace'."
        )


def penalty_factors(name: str, l1_ratio: float, family_name: str, total_weight: float) -> tuple[float, float]:
    """``(c1, c2)`` with ``(lambda_1, lambda_2) = alpha * (c1, c2)``."""
    return Penalty(_KIND[name], 1.0, l1_ratio).weights(family_name, total_weight)


def check_alphas(alphas) -> np.ndarray:
    try:
        arr = np.asarray(alphas, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError(f"The 'alphas' parameter of {OWNER} must be a sequence of floats. Got {alphas!r} instead.") from None
    if arr.size == 0:
        raise ParameterError(f"The 'alphas' parameter of {OWNER} is empty; give at least one alpha or leave it None.")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise ParameterError(
            f"The 'alphas' parameter of {OWNER} must hold floats in the range [0, inf). Got {arr[bad][0]:g} instead."
        )
    return np.sort(arr)[::-1].copy()


def alpha_max(scale: float, name: str, l1_ratio: float, c1: float, c2: float) -> float:
    """Smallest alpha with all coefficients zero (see the module docstring for ridge)."""
    if c1 > 0:
        return scale / c1
    return scale / RIDGE_RATIO / c2 if c2 > 0 else 1.0


#: the largest default grid: each alpha keeps a coefficient vector, so a grid of millions exhausts memory
MAX_ALPHAS = 10_000


def check_n_alphas(value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= MAX_ALPHAS:
        raise ParameterError(
            f"The 'n_alphas' parameter of {OWNER} must be an int in the range [1, {MAX_ALPHAS}]. Got {value!r} instead."
        )
    return int(value)


def default_grid(a_max: float, n_alphas: int, eps: float) -> np.ndarray:
    if a_max <= 0:
        return np.zeros(n_alphas)
    return np.geomspace(a_max, a_max * eps, num=n_alphas)


def check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < 1:
        raise ParameterError(f"The 'eps' parameter of {OWNER} must be a float in the range (0, 1). Got {eps!r} instead.")
    return float(eps)

"""Ridge, lasso and elastic net as the priors they are, in scikit-learn's conventions.

A penalty is a prior on the coefficients: the MAP minimises

.. math:: \\sum_i w_i\\, \\text{nll}(y_i \\mid \\eta_i) + \\lambda_1 \\lVert\\beta\\rVert_1 + \\tfrac{\\lambda_2}{2} \\lVert\\beta\\rVert_2^2

where ``nll`` is the per-observation negative log-likelihood with unit dispersion (``(y - eta)^2/2``
for the Gaussian, ``|y - eta|`` for the Laplace). :math:`\\lambda_1` belongs to a Laplace prior and
:math:`\\lambda_2` to a Gaussian prior. The constructors take scikit-learn's ``alpha`` (and
``l1_ratio``) and convert them so that the coefficients equal scikit-learn's, with
:math:`W = \\sum_i w_i` (the number of observations without weights):

==========  =======================================================  ==========================  ==================================
family      scikit-learn estimator                                   :math:`\\lambda_1`           :math:`\\lambda_2`
==========  =======================================================  ==========================  ==================================
gaussian    ``Ridge(alpha)``                                          0                           :math:`\\alpha`
gaussian    ``Lasso(alpha)`` / ``ElasticNet(alpha, l1_ratio)``        :math:`W\\alpha\\rho`         :math:`W\\alpha(1 - \\rho)`
bernoulli   ``LogisticRegression(C=1/alpha)`` (l2, l1, elasticnet)   :math:`\\alpha\\rho`          :math:`\\alpha(1 - \\rho)`
categorical multinomial ``LogisticRegression(C=1/alpha)``             :math:`\\alpha\\rho`          :math:`\\alpha(1 - \\rho)`
poisson     ``PoissonRegressor(alpha)`` (ridge; l1 as glum)          :math:`W\\alpha\\rho`         :math:`W\\alpha(1 - \\rho)`
laplace     ``QuantileRegressor(quantile=0.5, alpha)`` (lasso)        :math:`2W\\alpha\\rho`        :math:`2W\\alpha(1 - \\rho)`
==========  =======================================================  ==========================  ==================================

(:math:`\\rho` = ``l1_ratio``: 1 for lasso, 0 for ridge.) Note scikit-learn's own inconsistency:
``Ridge`` does not divide the squared error by :math:`n`, ``Lasso`` and ``ElasticNet`` do, so
``ridge(a)`` and ``elastic_net(a, 0)`` differ by the factor :math:`W` for the Gaussian family.

On the likelihood's own scale (dispersion :math:`\\phi = \\sigma^2` for the Gaussian, :math:`b` for the
Laplace, 1 otherwise) the penalty is the prior :math:`\\beta_j \\sim \\text{Laplace}(0, \\phi/\\lambda_1)`
for the L1 part and :math:`\\beta_j \\sim \\mathcal N(0, \\phi/\\lambda_2)` for the L2 part, independently
for every coefficient; the intercept is not penalised unless asked.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch
import torch.distributions as td

from ..errors import PriorError


def _check_alpha(alpha, owner: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not math.isfinite(alpha) or alpha < 0:
        raise PriorError(f"The 'alpha' parameter of {owner} must be a float in the range [0, inf). Got {alpha!r} instead.")
    return float(alpha)


def _check_l1_ratio(l1_ratio) -> float:
    if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, numbers.Real) or not 0 <= l1_ratio <= 1:
        raise PriorError(
            f"The 'l1_ratio' parameter of elastic_net must be a float in the range [0, 1]. Got {l1_ratio!r} instead."
        )
    return float(l1_ratio)


@dataclass(frozen=True)
class Penalty:
    """A ridge, lasso or elastic-net prior on regression coefficients (see the module docstring)."""

    kind: str
    alpha: float
    l1_ratio: float

    def weights(self, family: str, total_weight: float) -> tuple[float, float]:
        """``(lambda_1, lambda_2)`` on the unit-dispersion negative log-likelihood scale."""
        a, rho, W = self.alpha, self.l1_ratio, float(total_weight)
        if family == "gaussian":
            if self.kind == "ridge":
                return 0.0, a
            return W * a * rho, W * a * (1 - rho)
        if family in ("bernoulli", "categorical"):
            return a * rho, a * (1 - rho)
        if family == "poisson":
            return W * a * rho, W * a * (1 - rho)
        if family == "laplace":
            return 2 * W * a * rho, 2 * W * a * (1 - rho)
        raise PriorError(f"The {self.kind} penalty has no convention for the '{family}' family.")

    @property
    def has_l1(self) -> bool:
        return self.l1_ratio > 0 and self.alpha > 0

    def priors(self, family: str, total_weight: float, dispersion: float = 1.0) -> dict[str, td.Distribution]:
        """The equivalent priors on each coefficient, on the likelihood's own scale."""
        l1, l2 = self.weights(family, total_weight)
        out: dict[str, td.Distribution] = {}
        d = torch.tensor(float(dispersion), dtype=torch.float64)
        zero = torch.zeros((), dtype=torch.float64)
        if l1 > 0:
            out["laplace"] = td.Laplace(zero, d / l1, validate_args=False)
        if l2 > 0:
            out["normal"] = td.Normal(zero, torch.sqrt(d / l2), validate_args=False)
        return out

    def sklearn_objective(self, family: str) -> str:
        """The objective scikit-learn minimises for this penalty, written out."""
        a, rho = f"{self.alpha:g}", f"{self.l1_ratio:g}"
        if family == "gaussian":
            if self.kind == "ridge":
                return f"||y - Xw||^2 + {a} ||w||_2^2"
            return f"1/(2n) ||y - Xw||^2 + {a} * ({rho} ||w||_1 + {1 - self.l1_ratio:g}/2 ||w||_2^2)"
        if family in ("bernoulli", "categorical"):
            return f"sum of log-losses + {a} * ({rho} ||w||_1 + {1 - self.l1_ratio:g}/2 ||w||_2^2)   (C = 1/{a})"
        if family == "poisson":
            return f"1/(2n) sum of deviances + {a} * ({rho} ||w||_1 + {1 - self.l1_ratio:g}/2 ||w||_2^2)"
        return f"1/n sum of pinball losses (q = 0.5) + {a} * ({rho} ||w||_1 + {1 - self.l1_ratio:g}/2 ||w||_2^2)"

    def describe(self, family: str, total_weight: float, dispersion: float = 1.0) -> str:
        """One line: the penalty, the prior it is, with its numbers (for summaries)."""
        parts = []
        for name, dist in self.priors(family, total_weight, dispersion).items():
            if name == "laplace":
                parts.append(f"Laplace(0, b={float(dist.scale):.6g})")
            else:
                parts.append(f"Normal(0, sd={float(dist.scale):.6g})")
        prior = " x ".join(parts) if parts else "a flat prior"
        label = self.kind if self.kind != "elastic_net" else f"elastic_net(l1_ratio={self.l1_ratio:g})"
        return (
            f"{label} alpha = {self.alpha:g} with n = {total_weight:g} is the prior {prior} on each coefficient "
            f"(objective: {self.sklearn_objective(family)})"
        )

    def __repr__(self) -> str:
        if self.kind == "elastic_net":
            return f"elastic_net(alpha={self.alpha:g}, l1_ratio={self.l1_ratio:g})"
        return f"{self.kind}(alpha={self.alpha:g})"


def ridge(alpha: float = 1.0) -> Penalty:
    """Gaussian prior on the coefficients, scaled as ``sklearn.linear_model.Ridge(alpha)`` (and
    ``LogisticRegression(C=1/alpha)``, ``PoissonRegressor(alpha)``)."""
    return Penalty("ridge", _check_alpha(alpha, "ridge"), 0.0)


def lasso(alpha: float = 1.0) -> Penalty:
    """Laplace prior on the coefficients, scaled as ``sklearn.linear_model.Lasso(alpha)`` (and
    ``LogisticRegression(penalty='l1', C=1/alpha)``): exact zeros."""
    return Penalty("lasso", _check_alpha(alpha, "lasso"), 1.0)


def elastic_net(alpha: float = 1.0, l1_ratio: float = 0.5) -> Penalty:
    """Product of Laplace and Gaussian priors, scaled as ``sklearn.linear_model.ElasticNet(alpha, l1_ratio)``."""
    return Penalty("elastic_net", _check_alpha(alpha, "elastic_net"), _check_l1_ratio(l1_ratio))

"""The ``prior`` argument of the regression estimators, resolved to the route that fits it.

``prior`` is ``None`` (maximum likelihood, no penalty), a :class:`~mlemap.priors.Penalty`
(``mm.priors.ridge/lasso/elastic_net``, in scikit-learn's scaling) or a scalar
``torch.distributions`` object used as an i.i.d. prior on every coefficient, in the units of the
data (the intercept gets none unless ``penalize_intercept=True``):

=====================================  ==============================================================
prior                                  route
=====================================  ==============================================================
``None``                               MLE
``ridge(alpha)``                       exact ridge (QR for gaussian, Newton with :math:`\\lambda_2 I`)
``lasso`` / ``elastic_net``            the L1 solver (:func:`mlemap.glm.penalized.fit_penalized`)
``td.Normal(0, s)``                    ridge with :math:`\\lambda_2 = \\phi / s^2` (``phi`` the dispersion:
                                       :math:`\\sigma^2` gaussian, ``b`` laplace, 1 otherwise), alternated
                                       with the closed-form update of ``phi``
``td.Laplace(0, b)``                   lasso with :math:`\\lambda_1 = \\phi / b`, alternated likewise
any other scalar distribution on R     the MAP of the joint objective by Newton with autograd Hessians
=====================================  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributions as td
from torch.distributions import constraints

from ..errors import PriorError
from ..priors.penalties import Penalty
from ..priors.resolve import require_finite_parameters


@dataclass(frozen=True)
class PriorPlan:
    kind: str  # "none", "penalty", "normal", "laplace", "generic"
    penalty: Penalty | None = None
    dist: td.Distribution | None = None
    scale: float = float("nan")

    @property
    def is_map(self) -> bool:
        return self.kind != "none"

    def has_l1(self) -> bool:
        return (self.kind == "penalty" and self.penalty.has_l1) or self.kind == "laplace"

    def describe(self, family: str, total_weight: float, dispersion: float = 1.0) -> str:
        if self.kind == "none":
            return "none (maximum likelihood)"
        if self.kind == "penalty":
            return self.penalty.describe(family, total_weight, dispersion)
        from ..report.format import distribution

        return f"{distribution(self.dist)} on each coefficient (i.i.d.)"


def resolve_prior(prior, owner: str) -> PriorPlan:
    if prior is None:
        return PriorPlan("none")
    if isinstance(prior, Penalty):
        if prior.alpha == 0:
            return PriorPlan("none")
        return PriorPlan("penalty", penalty=prior)
    if isinstance(prior, td.Distribution):
        require_finite_parameters(prior, f"The 'prior' argument of {owner}")
        if tuple(prior.batch_shape) != () or tuple(prior.event_shape) != ():
            raise PriorError(
                f"The 'prior' argument of {owner} must be a scalar distribution used for every coefficient; got "
                f"{type(prior).__name__} with batch shape {tuple(prior.batch_shape)} and event shape "
                f"{tuple(prior.event_shape)}. Pass e.g. td.Normal(0.0, 2.0)."
            )
        support = prior.support
        if support is not constraints.real and not isinstance(support, type(constraints.real)):
            raise PriorError(
                f"The prior {type(prior).__name__} given to {owner} has support {support}, which does not cover "
                "the real line where the coefficients live. Use a distribution on all reals (Normal, Laplace, "
                "StudentT, Cauchy, ...)."
            )
        _check_scale_representable(prior, owner)
        loc = getattr(prior, "loc", None)
        centred = loc is not None and float(torch.as_tensor(loc)) == 0.0
        if type(prior) is td.Normal and centred:
            return PriorPlan("normal", dist=prior, scale=float(prior.scale))
        if type(prior) is td.Laplace and centred:
            return PriorPlan("laplace", dist=prior, scale=float(prior.scale))
        return PriorPlan("generic", dist=prior)
    raise PriorError(
        f"The 'prior' argument of {owner} must be None (maximum likelihood), a penalty (mm.priors.ridge(alpha), "
        f"mm.priors.lasso(alpha), mm.priors.elastic_net(alpha, l1_ratio)) or a scalar torch.distributions object "
        f"such as td.Normal(0.0, 2.0). Got {type(prior).__name__} instead."
    )


#: a prior scale below this has a square (the prior's precision) that underflows float64
TINY_PRIOR_SCALE = 2.0**-500


def _check_scale_representable(prior: td.Distribution, owner: str) -> None:
    scale = getattr(prior, "scale", None)
    if scale is not None and 0 < float(torch.as_tensor(scale)) < TINY_PRIOR_SCALE:
        raise PriorError(
            f"The 'prior' argument of {owner} ({type(prior).__name__}) has scale = {float(torch.as_tensor(scale)):.3g}, "
            f"whose square underflows float64: such a prior pins every coefficient at its centre. Drop those "
            f"columns instead, or give a scale of at least {TINY_PRIOR_SCALE:.3g}."
        )

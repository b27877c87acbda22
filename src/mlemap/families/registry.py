"""One registry from names (and torch classes) to families; string-or-instance resolution."""

from __future__ import annotations

import difflib
from typing import Any, Mapping

import torch.distributions as td

from ..errors import FamilyError
from .base import Family
from .bounded import Beta, Uniform, VonMises
from .categorical import Categorical, Dirichlet, Multinomial
from .counts import Bernoulli, Binomial, Geometric, NegativeBinomial, Poisson
from .custom import LogDensity, TorchFamily
from .location_scale import Cauchy, Gumbel, HalfNormal, Laplace, LogNormal, Normal, StudentT
from .logistic import LogLogistic, Logistic
from .multivariate import MultivariateNormal
from .positive import Exponential, Gamma, Pareto, Weibull

FAMILIES: tuple[type[Family], ...] = (
    Bernoulli,
    Binomial,
    Geometric,
    Poisson,
    NegativeBinomial,
    Categorical,
    Multinomial,
    Normal,
    LogNormal,
    Laplace,
    StudentT,
    Cauchy,
    Exponential,
    Gamma,
    Weibull,
    Beta,
    Uniform,
    Pareto,
    HalfNormal,
    Gumbel,
    VonMises,
    MultivariateNormal,
    Dirichlet,
    Logistic,
    LogLogistic,
)


def _normalise(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


_BY_NAME: dict[str, type[Family]] = {}
_BY_TORCH_CLASS: dict[type, type[Family]] = {}
for _cls in FAMILIES:
    for _alias in (_cls.name, *_cls.aliases):
        _BY_NAME[_normalise(_alias)] = _cls
    if _cls.torch_class is not None:
        _BY_TORCH_CLASS[_cls.torch_class] = _cls


def family_names() -> list[str]:
    """The canonical names of the built-in families."""
    return [cls.name for cls in FAMILIES]


def continuous_family_names() -> list[str]:
    return [cls.name for cls in FAMILIES if not cls.discrete and cls.event_ndim == 0]


def discrete_family_names() -> list[str]:
    return [cls.name for cls in FAMILIES if cls.discrete and cls.event_ndim == 0]


def resolve_family(
    spec: Any,
    *,
    init: Mapping[str, Any] | None = None,
    support: Mapping[str, Any] | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> Family:
    """Turn a name, a :class:`Family` (class or instance), a torch distribution class or a
    log-density function into a :class:`Family` (a log-density's parameters are the function's
    arguments, with ``init`` and ``fixed`` naming those it takes through defaults or ``**kwargs``)."""
    if isinstance(spec, Family):
        return spec
    if isinstance(spec, type) and issubclass(spec, Family):
        return spec()
    if isinstance(spec, str):
        cls = _BY_NAME.get(_normalise(spec))
        if cls is None:
            names = family_names()
            spellings = names + [a for cls in FAMILIES for a in cls.aliases]
            close = difflib.get_close_matches(spec.lower(), spellings, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise FamilyError(
                f"Unknown family '{spec}'.{hint} Valid names are: {', '.join(names)}. "
                "A torch.distributions class or a log-density function also works."
            )
        return cls()
    if isinstance(spec, type) and issubclass(spec, td.Distribution):
        cls = _BY_TORCH_CLASS.get(spec)
        return cls() if cls is not None else TorchFamily(spec, init=init)
    if isinstance(spec, td.Distribution):
        raise FamilyError(
            f"The 'family' argument got a distribution instance ({type(spec).__name__}(...)); pass the class "
            f"(td.{type(spec).__name__}) or a name such as '{_BY_TORCH_CLASS.get(type(spec), Normal).name}'."
        )
    if callable(spec):
        return LogDensity(spec, init=init, support=support, fixed=fixed if isinstance(fixed, Mapping) else ())
    raise FamilyError(
        f"The 'family' argument must be a family name, a torch.distributions class or a log-density "
        f"function. Got {type(spec).__name__} instead. Valid names are: {', '.join(family_names())}."
    )

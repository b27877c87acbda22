"""The :class:`Family` interface: a named probability model for i.i.d. observations.

A family knows, for its parameters (named as in ``torch.distributions``):

* their constraints (natural space) and shapes, from which the engine builds unconstrained
  bijections;
* the support of the observations and how to check it (with a precise error);
* the per-observation log-density :math:`\\log p(x_i \\mid \\theta)`;
* optionally, additive sufficient statistics and the log-likelihood as a function of them, so that
  the objective costs O(1) per evaluation after one pass over the data;
* starting values for the optimiser (method of moments or robust quantiles);
* the matching ``torch.distributions`` object, for prediction and sampling.

The log-likelihood of weighted data is :math:`\\ell(\\theta) = \\sum_i w_i \\log p(x_i \\mid \\theta)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

import numpy as np
import torch
from torch.distributions import constraints

from ..data import parallel
from ..data.convert import as_float_tensor, known_extremes
from ..errors import DataError, ParameterError, ShapeError, SupportError
from .statistics import SufficientStatistics
from .tails_registry import tails_of

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Derived:
    """A reparametrisation of one parameter on which a prior may be stated.

    A prior given on ``variance`` of a normal family is a density over ``scale ** 2``; the MAP is the
    mode of the posterior in that space (MAP estimates are not invariant to reparametrisation).
    """

    base: str
    forward: Callable[[torch.Tensor], torch.Tensor]
    inverse: Callable[[torch.Tensor], torch.Tensor]
    constraint: Any
    description: str


class DataContext:
    """Facts about the observations computed once per fit: minimum and maximum (one ``aminmax`` pass).

    Constraints of support-bounding parameters depend on them, and support checks compare them with
    the bounds first, building an element-wise mask (for the error message) only when a check fails.
    """

    def __init__(self, x: torch.Tensor):
        self._x = x
        self._minmax: tuple[torch.Tensor, torch.Tensor] | None = known_extremes(x)

    def _extremes(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._minmax is None:
            self._minmax = torch.aminmax(self._x)
        return self._minmax

    @property
    def min(self) -> torch.Tensor:
        return self._extremes()[0]

    @property
    def max(self) -> torch.Tensor:
        return self._extremes()[1]

    @property
    def all_equal(self) -> bool:
        return bool(self.min == self.max)


class Family:
    """Base class of all families. Subclasses set the class attributes and override the hooks."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    torch_class: ClassVar[type | None] = None
    parameters: ClassVar[tuple[str, ...]] = ()
    #: parameters that are never estimated and must be given in ``fixed`` (binomial ``total_count``)
    options: ClassVar[tuple[str, ...]] = ()
    #: known constants that may be given in ``fixed`` but are not required (multinomial ``total_count``)
    optional_options: ClassVar[tuple[str, ...]] = ()
    discrete: ClassVar[bool] = False
    event_ndim: ClassVar[int] = 0
    support_description: ClassVar[str] = "the real line"
    derived: ClassVar[dict[str, Derived]] = {}
    #: parameters whose MLE is a sample extreme: ``{"low": "min"}`` means ``low <= min(x)``
    bounded_by_data: ClassVar[dict[str, str]] = {}
    #: the scipy.stats name used by the comparison tests and benchmarks
    scipy_name: ClassVar[str | None] = None
    #: False when the log-density is not twice differentiable in a parameter (Laplace in loc): the
    #: standard errors then use :meth:`expected_information` instead of the observed information
    smooth: ClassVar[bool] = True
    #: how each parameter changes when the data are rescaled, :math:`x \\to (x - c) / s`: ``"location"``
    #: (:math:`p \\to (p - c)/s`), ``"scale"`` (:math:`p \\to p/s`), ``"rate"`` (:math:`p \\to p s`),
    #: ``"log-location"`` (:math:`p \\to p - \\log s`); parameters not named are unchanged. A
    #: ``"location"`` entry admits the shift :math:`c`; an empty map means no such symmetry.
    equivariance: ClassVar[dict[str, str]] = {}

    # ------------------------------------------------------------------ description
    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def constraint(self, name: str, ctx: DataContext | None = None):
        """The constraint of parameter ``name`` (it may depend on the data through ``ctx``)."""
        raise NotImplementedError  # pragma: no cover - every family overrides

    def shape(self, name: str, event_shape: torch.Size) -> torch.Size:
        """Shape of parameter ``name`` for observations of ``event_shape``; scalars by default."""
        return torch.Size()

    def all_parameters(self) -> tuple[str, ...]:
        return self.options + self.optional_options + self.parameters

    @property
    def known_constants(self) -> tuple[str, ...]:
        return self.options + self.optional_options

    # ------------------------------------------------------------------ data
    def prepare(self, data: Any, *, dtype: torch.dtype, device) -> tuple[torch.Tensor, "Family"]:
        """Convert raw data to a tensor of observations; may return a family bound to the data."""
        x = as_float_tensor(data, name="data", dtype=dtype, device=device)
        self._check_ndim(x)
        return x, self

    def _check_ndim(self, x: torch.Tensor) -> None:
        if self.event_ndim == 0:
            if x.dim() == 2 and 1 in x.shape:
                return
            if x.dim() != 1:
                raise ShapeError(
                    f"The 'data' argument of a '{self.name}' fit must be 1-D (one number per observation). "
                    f"Got shape {tuple(x.shape)}. Pass a single column, or use a multivariate family "
                    "('multivariate_normal', 'dirichlet', 'multinomial') for vectors."
                )
        elif x.dim() != 2:
            raise ShapeError(
                f"The 'data' argument of a '{self.name}' fit must be 2-D (one row per observation). "
                f"Got shape {tuple(x.shape)}."
            )

    def check_support(self, x: torch.Tensor, fixed: Params, ctx: DataContext) -> None:
        """Raise :class:`SupportError` when observations lie outside the support."""

    def check_identifiable(
        self, x: torch.Tensor, w: torch.Tensor | None, free: set[str], has_prior: set[str], ctx: DataContext
    ) -> None:
        """Raise when the data make the MLE of a free parameter non-existent (degenerate samples)."""

    def features(self, x: torch.Tensor, fixed: Params) -> dict[str, torch.Tensor]:
        """Quantities computed once per fit from the data (for example ``log x``)."""
        return {"x": x}

    # ------------------------------------------------------------------ likelihood
    def log_prob(self, feats: Mapping[str, torch.Tensor], p: Params) -> torch.Tensor:
        """Per-observation log-density :math:`\\log p(x_i \\mid \\theta)`, shape ``(n,)``."""
        raise NotImplementedError  # pragma: no cover - every family overrides

    def statistics(self, feats: Mapping[str, torch.Tensor], w: torch.Tensor | None) -> SufficientStatistics | None:
        """Additive sufficient statistics, or ``None`` if the family has none."""
        return None

    def log_likelihood_stats(self, s: SufficientStatistics, p: Params) -> torch.Tensor:
        """:math:`\\sum_i w_i \\log p(x_i \\mid \\theta)` from the sufficient statistics."""
        raise NotImplementedError  # pragma: no cover - only called when statistics() is implemented

    @property
    def has_statistics(self) -> bool:
        return type(self).statistics is not Family.statistics

    # ------------------------------------------------------------------ start and output
    def initial(self, feats: Mapping[str, torch.Tensor], w: torch.Tensor | None, fixed: Params) -> Params:
        """Starting values for every parameter (method of moments or robust estimates)."""
        raise NotImplementedError  # pragma: no cover - every family overrides

    def distribution(self, p: Params):
        """The ``torch.distributions`` object with parameters ``p``."""
        return self.torch_class(**p, validate_args=False)

    def validate_option(self, name: str, value: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Check a value given in ``fixed`` for an option parameter."""
        return value

    #: parameters whose MLE may run off to infinity, with the value beyond which the model is
    #: indistinguishable from its limit (Student's t with df -> inf is the normal)
    limits: ClassVar[dict[str, float]] = {}

    def limit_estimates(self, problem) -> Params:
        """Free parameters whose likelihood keeps increasing towards an infinite limit, decided from the
        data before optimising (the negative binomial's ``total_count`` when the variance does not
        exceed the mean), each with a value at which the model equals its limit to double precision.
        The numerical route holds them there, estimates the others given them, and reports them as
        boundary estimates with :meth:`boundary_note`."""
        return {}

    def fast_mle(self, problem, max_iter: int = 100) -> tuple[Params, int, bool] | None:
        """Optional specialised MLE solver: ``(params, iterations, converged)`` or ``None`` (use the engine);
        a fourth element, when given, is the exact Hessian of the negative log-likelihood in the
        unconstrained coordinates at ``params`` (the standard errors then reuse it).

        Overridden where a parameter has a closed-form conditional MLE, so that the likelihood can be
        profiled to one dimension and solved by Newton with analytic derivatives.
        """
        return None

    def validate_start(self, feats: Mapping[str, torch.Tensor], start: Params, free: list[str]) -> None:
        """Check the log-density at the starting values before optimising (user-written families do)."""

    def expected_information(self, p: Params, weight: torch.Tensor, names: list[str]) -> torch.Tensor:
        """Expected Fisher information of ``weight`` observations over ``names`` (natural coordinates)."""
        raise NotImplementedError(f"the '{self.name}' family has no expected information")  # pragma: no cover

    def element_labels(self, name: str, shape: tuple) -> list[str]:
        """Row labels for the elements of parameter ``name`` in summaries."""
        if len(shape) == 0:
            return [name]
        return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]

    def canonical(self, p: Params) -> Params:
        """Put estimates in canonical form (for example an angle in (-pi, pi])."""
        return p

    def boundary_note(self, name: str) -> str | None:
        """Why the estimate of ``name`` sits on the boundary, when the family knows a reason."""
        return None

    # ------------------------------------------------------------------ tails (censored data)
    @property
    def has_cdf(self) -> bool:
        """Whether :meth:`log_cdf` and :meth:`log_sf` are available (see :mod:`mlemap.families.tails`)."""
        return tails_of(self) is not None

    def log_cdf(self, x: torch.Tensor, p: Params) -> torch.Tensor:
        """:math:`\\log P(X \\le x)`, stable in the far lower tail, for ``x`` inside the support."""
        return self._tails().log_cdf(x, p)

    def log_sf(self, x: torch.Tensor, p: Params) -> torch.Tensor:
        """:math:`\\log P(X > x)`, stable in the far upper tail, for ``x`` inside the support."""
        return self._tails().log_sf(x, p)

    def _tails(self):
        tails = tails_of(self)
        if tails is None:
            raise NotImplementedError(f"the '{self.name}' family has no cumulative distribution function")
        return tails


# ---------------------------------------------------------------------- support helpers
def raise_outside_support(family: Family, x: torch.Tensor, bad: torch.Tensor, fix: str) -> None:
    """Raise :class:`SupportError` with the count and the first offending observation."""
    if not bool(bad.any()):
        return
    if bad.dim() > 1:
        bad = bad.reshape(bad.shape[0], -1).any(1)
    count = int(bad.sum())
    first = int(torch.nonzero(bad)[0])
    value = x[first].tolist()
    if family.discrete:
        as_int = lambda v: int(v) if isinstance(v, float) and v == int(v) and abs(v) < 1e15 else v  # noqa: E731
        value = [as_int(v) for v in value] if isinstance(value, list) else as_int(value)
    error = SupportError(
        f"The 'data' argument has {count} value(s) outside the support of the '{family.name}' family "
        f"({family.support_description}); the first is {value} at row {first}. {fix}"
    )
    error.count, error.row, error.value, error.fix = count, first, value, fix  # for chunked checks to combine
    raise error


def require_support(ok: bool, family: Family, x: torch.Tensor, bad: Callable[[], torch.Tensor], fix: str) -> None:
    """When the cheap check ``ok`` fails, build the mask ``bad()`` and raise the detailed error."""
    if not ok:
        raise_outside_support(family, x, bad(), fix)


def check_integer(family: Family, x: torch.Tensor, fix: str = "Pass whole-number counts.") -> None:
    raise_outside_support(family, x, x != torch.round(x), fix)


def log_of(x: torch.Tensor) -> torch.Tensor:
    """Elementwise log (one parallel NumPy pass for large CPU arrays)."""
    return parallel.log(x)


def check_all_equal_degenerate(
    family: Family,
    x: torch.Tensor,
    params: tuple[str, ...],
    free: set[str],
    has_prior: set[str],
    why: str,
    ctx: DataContext | None = None,
) -> None:
    """Raise when every observation is the same and a spread parameter is free without a prior."""
    at_risk = [p for p in params if p in free and p not in has_prior]
    if not at_risk or x.shape[0] == 0:
        return
    flat = x.reshape(x.shape[0], -1)
    if x.dim() == 1 and ctx is not None:
        equal = ctx.all_equal
    else:
        equal = bool((flat == flat[0]).all())
    if equal:
        value = flat[0].tolist()
        value = value[0] if len(value) == 1 else value
        raise DataError(
            f"All {x.shape[0]} observations are equal ({value}), so the '{family.name}' likelihood has no "
            f"maximum: {why}. Fix '{at_risk[0]}' with fixed={{'{at_risk[0]}': ...}}, give it a prior, "
            "or collect data with some spread."
        )


#: beyond these data scales the squares of the scale (curvatures, variances of the estimates) leave
#: the float64 range
HUGE_SCALE = 2.0**500
TINY_SCALE = 2.0**-500


def check_scale_representable(family: Family, ctx: DataContext, spread: bool) -> None:
    """Raise :class:`DataError` when the data's scale (their range when ``spread``, else their
    largest value) is so large or so small that its square overflows or underflows float64."""
    size = float(ctx.max - ctx.min) if spread else float(max(abs(float(ctx.max)), abs(float(ctx.min))))
    check_size_representable(family, size, "range" if spread else "largest magnitude")


def check_size_representable(family: Family, size: float, what: str) -> None:
    """Raise :class:`DataError` when a size of the data (``what``: their range, a column's range)
    squared leaves float64."""
    if size > HUGE_SCALE:
        shown = f"{size:.3g}" if math.isfinite(size) else "beyond 1.8e308"
        decade = int(math.log10(size)) if math.isfinite(size) else 308
        raise DataError(
            f"The data's {what} is {shown}: squared, as in the '{family.name}' family's curvature and the variance "
            f"of its estimates, it overflows float64 (above 1.8e308). Divide the data by a power of ten (for example "
            f"10**{decade}) and transform the estimates back."
        )
    if 0 < size < TINY_SCALE:
        raise DataError(
            f"The data's {what} is {size:.3g}: squared, as in the '{family.name}' family's curvature and the variance "
            f"of its estimates, it underflows float64 (below 2.2e-308). Multiply the data by a power of ten (for "
            f"example 10**{-int(math.log10(size))}) and transform the estimates back."
        )


def clamp_interior(value: torch.Tensor, lower: float | None, upper: float | None, rel: float = 1e-3) -> torch.Tensor:
    """Move a starting value strictly inside ``[lower, upper]``."""
    if lower is not None and upper is not None:
        span = upper - lower
        return value.clamp(lower + rel * span, upper - rel * span)
    if lower is not None:
        floor = lower + rel * max(abs(lower), 1.0) * 1e-3
        return torch.where(value > floor, value, torch.full_like(value, floor))
    if upper is not None:
        ceil = upper - rel * max(abs(upper), 1.0) * 1e-3
        return torch.where(value < ceil, value, torch.full_like(value, ceil))
    return value


LOG_2PI = math.log(2 * math.pi)
EULER_GAMMA = 0.5772156649015329

POSITIVE = constraints.positive
REAL = constraints.real
UNIT = constraints.unit_interval


def scalar(value: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(value, dtype=like.dtype, device=like.device)


def require_known_parameter(family: Family, name: str, argument: str) -> None:
    valid = family.all_parameters()
    if name not in valid and name not in family.derived:
        extra = f" (or {', '.join(repr(d) for d in family.derived)} for a prior)" if family.derived else ""
        raise ParameterError(
            f"The '{argument}' argument names '{name}', which is not a parameter of the '{family.name}' family. "
            f"Its parameters are {', '.join(repr(v) for v in valid)}{extra}."
        )

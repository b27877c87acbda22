"""A validated estimation problem and the objectives built from it.

:class:`DistributionProblem` holds the family, the observations (as a float tensor), frequency weights, fixed
values and priors, all checked. Features (such as ``log x``), sufficient statistics and chunked
data are computed once, on first use, and shared by every objective built from the problem (the
fit itself, standard errors, profile likelihoods, bootstrap replicates).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Mapping

import torch

from ..data.subsample import stratified_subsample
from ..errors import ParameterError
from ..families.base import DataContext, Family, require_known_parameter
from ..families.statistics import SufficientStatistics
from ..families.transforms import finite_bounds, is_positive_definite, is_simplex
from ..priors.resolve import PriorTerm
from ..priors.support import describe
from .distribution import WEIGHT, DistributionModel, PriorPenalty
from .layout import ParameterLayout
from .objective import Objective
from .problem import Problem
from .source import PARALLEL_ELEMENTS, InMemorySource


class DistributionProblem(Problem):
    """A distribution problem: i.i.d. observations of one family (see :class:`mlemap.core.problem.Problem`).

    The rows are a tensor in memory here; :class:`~mlemap.core.distribution_stream.StreamDistributionProblem`
    reads them from a source. The routes reach the data only through the views below, which both provide.
    """

    #: whether every row is in memory (fast paths that need them all are skipped otherwise)
    in_memory = True

    def __init__(
        self,
        family: Family,
        x: torch.Tensor,
        weights: torch.Tensor | None,
        fixed: dict[str, torch.Tensor],
        priors: dict[str, PriorTerm],
    ):
        self.family = family
        self.x = x
        self.weights = weights
        self.fixed = fixed
        self.priors = priors
        self.ctx = DataContext(x)
        self.event_shape = x.shape[1:]
        self.free = [p for p in family.parameters if p not in fixed]
        self.shapes = {n: torch.Size(family.shape(n, self.event_shape)) for n in family.all_parameters()}

    def with_fixed(self, extra: Mapping[str, torch.Tensor]) -> "DistributionProblem":
        """The same problem with more parameters held fixed (caches shared when the data view is unchanged)."""
        new = DistributionProblem(
            self.family,
            self.x,
            self.weights,
            {**self.fixed, **extra},
            {k: v for k, v in self.priors.items() if k not in extra},
        )
        new.ctx = self.ctx
        if not any(k in self.family.known_constants for k in extra):
            for attr in ("features", "statistics", "feature_source", "total_weight"):
                if attr in self.__dict__:
                    new.__dict__[attr] = self.__dict__[attr]
        return new

    def with_data(self, x: torch.Tensor, fixed: dict[str, torch.Tensor]) -> "DistributionProblem":
        """The same family and weights on transformed observations whose rows correspond one to one
        (standardised data): the subsample indices are shared, priors are not carried."""
        new = DistributionProblem(self.family, x, self.weights, fixed, {})
        new.__dict__["_subsample_cache"] = self.__dict__.setdefault("_subsample_cache", {})
        return new

    # ------------------------------------------------------------------ facts
    @property
    def dtype(self) -> torch.dtype:
        return self.x.dtype

    @property
    def device(self) -> torch.device:
        return self.x.device

    @property
    def n_obs(self) -> int:
        return int(self.x.shape[0])

    @cached_property
    def source(self) -> InMemorySource:
        """The observations (and weights) as a chunked source."""
        return InMemorySource({"x": self.x, WEIGHT: self.weights})

    @cached_property
    def total_weight(self) -> float:
        return float(self.n_obs if self.weights is None else self.weights.sum())

    def constraint(self, name: str):
        return self.family.constraint(name, self.ctx)

    def free_dimension(self, names: list[str] | None = None) -> int:
        """Number of free scalar dimensions (simplex of K counts K - 1, a d x d covariance d(d+1)/2)."""
        total = 0
        for n in self.free if names is None else names:
            shape, c = self.shapes[n], self.constraint(n)
            if is_simplex(c):
                total += shape.numel() - 1
            elif is_positive_definite(c):
                total += shape[-1] * (shape[-1] + 1) // 2
            else:
                total += shape.numel()
        return total

    # ------------------------------------------------------------------ data views
    @cached_property
    def features(self) -> dict[str, torch.Tensor]:
        return self.family.features(self.x, self.fixed)

    @cached_property
    def feature_source(self) -> InMemorySource:
        """The family's features (and weights) as a chunked source: what the objective reduces over."""
        feats, w, n = self._compressed()
        return feature_source(feats, w, n)

    @cached_property
    def statistics(self) -> SufficientStatistics | None:
        """Additive sufficient statistics, reduced over the chunks of the data (None without them)."""
        if not self.family.has_statistics:
            return None
        source = feature_source(self.features, self.weights, self.n_obs)
        if sum(int(v.numel()) for v in self.features.values()) < PARALLEL_ELEMENTS:
            # sums need no cache-sized chunks: below the threaded size one chunk saves the merges
            source = source.rechunk(max(self.n_obs, 1))
        return source.map_reduce(lambda c: self.family.statistics(c, c.get(WEIGHT)))

    def _compressed(self):
        """Discrete data without statistics: collapse repeated values into weights (exact, faster)."""
        x, w = self.x, self.weights
        per_obs = any(v.dim() > 0 and v.shape[0] == self.n_obs and self.n_obs > 1 for v in self.fixed.values())
        if self.family.discrete and not per_obs and self.n_obs > 64:
            flat = x.reshape(self.n_obs, -1)
            values, inverse = torch.unique(flat, dim=0, return_inverse=True)
            if values.shape[0] < 0.5 * self.n_obs:
                counts = torch.zeros(values.shape[0], dtype=x.dtype, device=x.device)
                counts.index_add_(0, inverse, torch.ones_like(inverse, dtype=x.dtype) if w is None else w)
                xs = values.reshape((values.shape[0],) + tuple(x.shape[1:]))
                return self.family.features(xs, self.fixed), counts, xs.shape[0]
        return self.features, w, self.n_obs

    def feature_sum(self, fn):
        """``fn(features, weights)`` of every row: a sum over the rows (a reduction on other sources)."""
        return fn(self.features, self.weights)

    def quantile(self, q: float) -> torch.Tensor:
        """The weighted ``q``-quantile of the observations (``weighted_median``'s convention at ``q = 0.5``)."""
        from ..families.location_scale import weighted_median, weighted_quantile

        return weighted_median(self.x, self.weights) if q == 0.5 else weighted_quantile(self.x, self.weights, q)

    # ------------------------------------------------------------------ samples of the rows
    def start_sample(self, size: int, above: int):
        """Features, weights and fixed values to start from: every row, or a subsample of ``size`` above ``above`` rows."""
        if self.n_obs > above:
            return self.subsample_features(size)
        return self.features, self.weights, self.fixed

    def spread_sample(self, size: int, above: int):
        """``(x, weights)`` from which the standardisation takes its centre and spread."""
        if self.n_obs > above:
            idx = self.subsample_index(size)
            return self.x[idx], None if self.weights is None else self.weights[idx]
        return self.x, self.weights

    @property
    def check_features(self):
        """The features a family's ``validate_start`` checks the starting values on."""
        return self.features

    def rescaled(self, shift: float, scale: float, located: bool, fixed: dict) -> "DistributionProblem":
        """The problem on :math:`z = (x - c) \\cdot (1/s)` (or :math:`x \\cdot (1/s)`), fixed values as given."""
        z = (self.x - shift) * (1.0 / scale) if located else self.x * (1.0 / scale)
        return self.with_data(z, fixed)

    # ------------------------------------------------------------------ objectives
    def layout(self, names: list[str], held: dict[str, torch.Tensor] | None = None) -> ParameterLayout:
        return ParameterLayout(names, self.shapes, {n: self.constraint(n) for n in names}, held)

    def objective(
        self,
        names: list[str] | None = None,
        *,
        fixed: Mapping[str, torch.Tensor] | None = None,
        held: dict[str, torch.Tensor] | None = None,
        priors: Mapping[str, PriorTerm] | None = None,
        use_statistics: bool = True,
        layout: ParameterLayout | None = None,
    ) -> Objective:
        """The objective over ``names`` (default: every free parameter); ``fixed`` adds held values.

        ``layout`` replaces the default unconstrained layout (for example an identity layout, to
        differentiate in the natural coordinates)."""
        names = self.free if names is None else names
        all_fixed = {**self.fixed, **(fixed or {})}
        priors = self.priors if priors is None else priors
        priors = {k: v for k, v in priors.items() if k in names}
        layout = self.layout(names, held) if layout is None else layout
        model = DistributionModel(self.family, layout, all_fixed)
        penalty = PriorPenalty(layout, all_fixed, priors) if priors else None
        if use_statistics and self.statistics is not None:
            return Objective(model, stats=self.statistics, penalty=penalty)
        return Objective(model, self.feature_source, penalty=penalty)

    def subsample_index(self, size: int) -> torch.Tensor:
        """Row indices of a stratified subsample that does not depend on the order of the rows (drawn once per size)."""
        cache = self.__dict__.setdefault("_subsample_cache", {})
        if size not in cache:
            per_row = [v for v in self.fixed.values() if v.dim() > 0 and v.shape[0] == self.n_obs]
            keys = [self.x] + ([] if self.weights is None else [self.weights]) + per_row
            cache[size] = stratified_subsample(keys, size)
        return cache[size]

    def _subsample(self, size: int):
        idx = self.subsample_index(size)
        fixed = {
            k: (v[idx] if v.dim() > 0 and v.shape[0] == self.n_obs and self.n_obs > 1 else v) for k, v in self.fixed.items()
        }
        w = None if self.weights is None else self.weights[idx]
        return self.family.features(self.x[idx], fixed), w, fixed

    def subsample(self, size: int, seed: int = 0) -> "DistributionProblem":
        """The same problem on a seeded random subsample of ``size`` rows (drawn with replacement),
        weights scaled so that the likelihood keeps its weight against the prior."""
        idx = self.subsample_index(size)
        n = self.n_obs
        fixed = {k: (v[idx] if v.dim() > 0 and v.shape[0] == n and n > 1 else v) for k, v in self.fixed.items()}
        w = None if self.weights is None else self.weights[idx]
        scale = self.total_weight / (size if w is None else float(w.sum()))
        w = torch.full((size,), scale, dtype=self.dtype, device=self.device) if w is None else w * scale
        sub = DistributionProblem(self.family, self.x[idx], w, fixed, self.priors)
        sub.ctx = self.ctx
        return sub

    def subsample_features(self, size: int):
        """Features, weights and fixed values of the random subsample."""
        return self._subsample(size)

    def subsample_objective(self, size: int, names: list[str], fixed=None) -> Objective:
        """The objective on the subsample, weights scaled so the likelihood keeps its weight against the prior."""
        feats, w, fixed_sub = self._subsample(size)
        scale = self.total_weight / (size if w is None else float(w.sum()))
        w = torch.full((size,), scale, dtype=self.dtype, device=self.device) if w is None else w * scale
        priors = {k: v for k, v in self.priors.items() if k in names}
        all_fixed = {**fixed_sub, **(fixed or {})}
        layout = self.layout(names)
        model = DistributionModel(self.family, layout, all_fixed)
        penalty = PriorPenalty(layout, all_fixed, priors) if priors else None
        return Objective(model, feature_source(feats, w, size), penalty=penalty)

    def log_likelihood(self, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        full = {**self.fixed, **params}
        with torch.no_grad():
            if self.statistics is not None:
                return self.family.log_likelihood_stats(self.statistics, full)
            model = DistributionModel(self.family, self.layout([]), self.fixed)
            return self.feature_source.map_reduce(lambda c: model.log_likelihood(c, full))

    def log_prior(self, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        with torch.no_grad():
            total = torch.zeros((), dtype=self.dtype, device=self.device)
            for base, term in self.priors.items():
                total = total + term.log_prob(params[base])
            return total


def feature_source(feats: Mapping[str, torch.Tensor], w: torch.Tensor | None, n: int) -> InMemorySource:
    """Per-observation features (and weights) as an in-memory source; values that are not per row
    (a scalar ``total_count``) travel with every chunk."""
    rows = {k: v for k, v in feats.items() if v.dim() > 0 and v.shape[0] == n}
    constants = {k: v for k, v in feats.items() if k not in rows}
    if w is not None:
        rows[WEIGHT] = w
    return InMemorySource(rows, constants=constants)


# ---------------------------------------------------------------------- input checks
def resolve_fixed(family: Family, fixed: Mapping[str, Any] | None, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Check ``fixed`` against the family and convert values to tensors."""
    if fixed is None:
        fixed = {}
    if not isinstance(fixed, Mapping):
        raise ParameterError(
            f"The 'fixed' argument must be a dict from parameter name to value, for example fixed={{'scale': 1.0}}. "
            f"Got {type(fixed).__name__} instead."
        )
    out: dict[str, torch.Tensor] = {}
    for name, value in fixed.items():
        require_known_parameter(family, name, "fixed")
        if name in family.derived and name not in family.all_parameters():
            base = family.derived[name].base
            raise ParameterError(
                f"Fix '{base}' rather than the derived quantity '{name}' (for example fixed={{'{base}': ...}})."
            )
        try:
            t = torch.as_tensor(value, dtype=x.dtype, device=x.device)
        except (TypeError, ValueError, RuntimeError):
            raise ParameterError(f"The 'fixed' value of '{name}' must be a number or array. Got {value!r}.") from None
        if not bool(torch.isfinite(t).all()):
            raise ParameterError(f"The 'fixed' value of '{name}' must be finite. Got {t.tolist()}.")
        if name in family.known_constants:
            out[name] = family.validate_option(name, t, x)
            continue
        shape = torch.Size(family.shape(name, x.shape[1:]))
        if t.shape != shape:
            raise ParameterError(
                f"The 'fixed' value of '{name}' must have shape {tuple(shape)}; got shape {tuple(t.shape)}."
            )
        c = family.constraint(name, None)
        ok = c.check(t)
        if not bool(torch.as_tensor(ok).all()):
            raise ParameterError(
                f"The 'fixed' value of '{name}' must lie in {describe(c)}; got {t.tolist()}."
            )
        out[name] = t
    missing = [o for o in family.options if o not in out]
    if missing:
        hint = {"total_count": "the number of trials"}.get(missing[0], "a known constant")
        raise ParameterError(
            f"The '{family.name}' family needs '{missing[0]}' ({hint}), which is not estimated: pass "
            f"fixed={{'{missing[0]}': ...}}."
        )
    if not [p for p in family.parameters if p not in out]:
        raise ParameterError(
            f"Every parameter of the '{family.name}' family is fixed ({', '.join(family.parameters)}), so there is "
            "nothing to estimate. Remove at least one of them from 'fixed' (use family.distribution(...).log_prob "
            "to evaluate a fully specified model)."
        )
    return out


def resolve_init(problem: Problem, init: Mapping[str, Any] | None) -> dict[str, torch.Tensor]:
    """Check user starting values: known free parameters, finite, strictly inside their space."""
    if init is None:
        return {}
    if not isinstance(init, Mapping):
        raise ParameterError(
            f"The 'init' argument must be a dict from parameter name to starting value. Got {type(init).__name__}."
        )
    family = problem.family
    out = {}
    for name, value in init.items():
        require_known_parameter(family, name, "init")
        if name in problem.fixed:
            raise ParameterError(f"'{name}' is fixed, so it needs no starting value; remove it from 'init'.")
        if name in family.known_constants:
            raise ParameterError(f"'{name}' is a known constant of '{family.name}'; give it in 'fixed', not 'init'.")
        try:
            t = torch.as_tensor(value, dtype=problem.dtype, device=problem.device)
        except (TypeError, ValueError, RuntimeError):
            raise ParameterError(f"The 'init' value of '{name}' must be a number or array. Got {value!r}.") from None
        shape = problem.shapes[name]
        if t.shape != shape:
            raise ParameterError(f"The 'init' value of '{name}' must have shape {tuple(shape)}; got {tuple(t.shape)}.")
        c = problem.constraint(name)
        lo, hi = finite_bounds(c)
        inside = torch.isfinite(t).all() and torch.as_tensor(c.check(t)).all()
        if lo is not None and not is_simplex(c):
            inside = inside and bool((t > lo).all())
        if hi is not None and not is_simplex(c):
            inside = inside and bool((t < hi).all())
        if not bool(inside):
            raise ParameterError(
                f"The 'init' value of '{name}' must lie strictly inside {describe(c)}; got {t.tolist()}."
            )
        out[name] = t
    return out

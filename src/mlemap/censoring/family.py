"""The likelihood of censored and truncated observations of a family.

A :class:`CensoredFamily` wraps a family that has a cumulative distribution function
(:mod:`mlemap.families.tails`) and replaces its per-observation log-density by

.. math:: \\log L_i = \\begin{cases}
          \\log f(x_i) & \\text{exact} \\\\
          \\log S(l_i) & \\text{right-censored, } X > l_i \\\\
          \\log F(h_i) & \\text{left-censored, } X \\le h_i \\\\
          \\log\\big(F(h_i) - F(l_i)\\big) & \\text{interval, } l_i < X \\le h_i
          \\end{cases} \\;-\\; \\log\\big(F(\\tau_h) - F(\\tau_l)\\big)

for a sample truncated to :math:`(\\tau_l, \\tau_h]`. Everything else (parameters, constraints,
priors, the optimiser, the estimate, the inference) is the wrapped family's and the core's. Each
term is computed in log space: the interval term is :math:`\\log F(h) + \\log(1 - e^{\\log F(l) - \\log F(h)})`
in the lower half, the same with survival functions in the upper half, and
:math:`\\log(1 - F(l) - S(h))` across the median, so that far-tail observations neither underflow
nor cancel.

Observations are stored as ``(low, high)`` rows (:mod:`mlemap.censoring.data`). Before the
likelihood sees them, bounds are clipped to the truncation range, and a bound at or beyond the
edge of the support is opened (a right-censoring time of 0 says nothing about a positive
variable); a row open at both ends carries no information and contributes 0. For the count
families an inclusive range ``[a, b]`` is the interval ``(a - 1, b]`` of the cdf, so "at least
``k``" is :math:`\\log S(k - 1)`; truncation ``(\\tau_l, \\tau_h]`` is the same for counts and reals
(``truncation=(0, None)`` is the zero-truncated Poisson).
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import torch

from ..errors import DataError, FamilyError, IdentifiabilityWarning, ParameterError, ShapeError, SupportError, warn
from ..families.base import DataContext, Family
from ..families.special import LN2, log1mexp
from . import weibull
from .data import EXACT, INTERVAL, KIND_NAMES, LEFT, RIGHT, as_censored, describe_counts, kinds_of

#: a row whose censoring range covers the whole support: it carries no information
UNINFORMATIVE = 4
_EXACT_PREFIX = "exact:"
_COPIED = ("name", "aliases", "torch_class", "parameters", "options", "optional_options", "discrete",
           "support_description", "derived", "scipy_name", "smooth", "limits")


class CensoredFamily(Family):
    """``base`` observed with censoring and truncation (see the module docstring)."""

    name = "censored"

    def __init__(self, base: Family, truncation=None):
        self.base = base
        for attr in _COPIED:
            setattr(self, attr, getattr(base, attr))
        self.event_ndim = 0
        self.bounded_by_data = {}
        self.truncation = check_truncation(truncation)
        self._classified = None

    def __repr__(self) -> str:
        lo, hi = self.truncation
        cut = "" if (lo, hi) == (-math.inf, math.inf) else f", truncation=({lo:g}, {hi:g}]"
        return f"CensoredFamily({self.base!r}{cut})"

    # ------------------------------------------------------------------ description
    def constraint(self, name, ctx=None):
        return self.base.constraint(name, None)

    def shape(self, name, event_shape):
        return self.base.shape(name, torch.Size())

    def validate_option(self, name, value, x):
        return self.base.validate_option(name, value, x[:, 0])

    def distribution(self, p):
        return self.base.distribution(p)

    def canonical(self, p):
        return self.base.canonical(p)

    def boundary_note(self, name):
        return self.base.boundary_note(name)

    def element_labels(self, name, shape):
        return self.base.element_labels(name, shape)

    def expected_information(self, p, weight, names):
        """Not available with censoring: NaN, so that standard errors say they are undefined."""
        like = next(iter(p.values()))
        return torch.full((len(names), len(names)), math.nan, dtype=like.dtype, device=like.device)

    def describe_data(self, x: torch.Tensor) -> str:
        """``"700 exact, 300 right-censored; truncated to (0, inf]"`` for a summary."""
        text = describe_counts(x[:, 0].cpu().numpy(), x[:, 1].cpu().numpy())
        lo, hi = self.truncation
        if (lo, hi) != (-math.inf, math.inf):
            text += f"; truncated to ({lo:g}, {hi:g}]"
        return text

    # ------------------------------------------------------------------ data
    def prepare(self, data, *, dtype, device):
        cd = as_censored(data)
        if cd is None:  # plain values with a truncation range
            x, _ = self.base.prepare(data, dtype=dtype, device=device)
            if x.dim() == 2 and x.shape[1] == 1:
                x = x.reshape(-1)
            if x.dim() != 1:
                raise ShapeError(f"A truncated '{self.name}' fit needs one number per observation; got shape {tuple(x.shape)}.")
            return torch.stack([x, x], 1), self
        pairs = np.empty((len(cd), 2), order="F")  # column-major: each bound is a contiguous column
        pairs[:, 0], pairs[:, 1] = cd.low, cd.high
        return torch.from_numpy(pairs).to(dtype=dtype, device=device), self

    def support(self, fixed) -> tuple[float, float]:
        """The support edges of the wrapped family (``total_count`` of a binomial from ``fixed``)."""
        params = {k: v for k, v in fixed.items()}
        n = params.get("total_count")
        if n is not None and n.dim() > 0 and n.numel() > 1:
            raise ParameterError(
                f"Censored '{self.name}' data need one 'total_count' for every observation; got {n.numel()} values."
            )
        lo, hi = self.base._tails().support(params)
        return float(lo), float(hi)

    def _open_edges(self, fixed) -> tuple[float, float]:
        """Bounds at or below ``lower`` (at or above ``upper``) leave that end of the cdf range open."""
        lo, hi = self.support(fixed)
        return (lo - 1, hi) if self.discrete else (lo, hi)

    def _placeholder(self, fixed) -> float:
        """A value strictly inside the support (stands in for the rows a computation does not use)."""
        lo, hi = self.support(fixed)
        if self.discrete:
            return lo
        if math.isfinite(lo) and math.isfinite(hi):
            return (lo + hi) / 2
        return lo + 1 if math.isfinite(lo) else (hi - 1 if math.isfinite(hi) else 0.0)

    def classify(self, x: torch.Tensor, fixed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(kind, low, high)`` as NumPy arrays: kinds after clipping to the truncation range and opening
        the bounds beyond the support; ``(low, high]`` is the cdf range of a censored row. Computed once
        per data tensor (the checks, the features and the starting values all need it)."""
        edges = self._open_edges(fixed)
        cached = self._classified
        if cached is not None and cached[0]() is x and cached[1] == edges:
            return cached[2]
        xs = x.detach().cpu().numpy()
        low, high = xs[:, 0], xs[:, 1]
        exact = low == high
        if self.discrete:
            low = np.where(exact | np.isinf(low), low, low - 1)
        t_lo, t_hi = self.truncation
        # an exact value lies inside the truncation range (checked), so clipping leaves it alone
        lo_c = np.maximum(low, t_lo) if math.isfinite(t_lo) else low
        hi_c = np.minimum(high, t_hi) if math.isfinite(t_hi) else high
        lower_open = (lo_c <= edges[0]) & ~exact
        upper_open = (hi_c >= edges[1]) & ~exact
        kind = np.full(low.shape, INTERVAL, dtype=np.int8)
        kind[upper_open] = RIGHT
        kind[lower_open] = LEFT
        kind[lower_open & upper_open] = UNINFORMATIVE
        kind[exact] = EXACT
        result = (kind, lo_c, hi_c)
        self._classified = (weakref.ref(x), edges, result)
        return result

    def check_support(self, x, fixed, ctx):
        xs = x.detach().cpu().numpy()
        low, high = xs[:, 0], xs[:, 1]
        kind, lo_c, hi_c = self.classify(x, fixed)
        exact = kind == EXACT
        lower, upper = self.support(fixed)
        values = low[exact]
        inside = (values > lower) & (values < upper)
        if self.discrete:
            inside &= values == np.round(values)
        if not inside.all():  # the family's own check, on every row so that its message names the row
            full = torch.where(torch.from_numpy(exact), x[:, 0], torch.full_like(x[:, 0], self._placeholder(fixed)))
            self.base.check_support(full, fixed, DataContext(full))
        for name, bound in (("left", low), ("right", high)):
            if not self.discrete and bool(((bound >= lower) & (bound <= upper) | np.isinf(bound)).all()):
                continue  # the common case, in a few passes
            finite = np.isfinite(bound) & ~exact
            outside = finite & ((bound < lower) | (bound > upper))
            _raise_rows(outside, lambda i: SupportError(
                f"Row {i} has a {name} censoring bound of {bound[i]:g}, outside the support of the "
                f"'{self.name}' family ({self.support_description}); bounds must lie in [{lower:g}, {upper:g}]. Fix "
                f"the row (for a {name} bound below the support, the value is simply {'left' if name == 'right' else 'right'}-censored)."
            ))
            if self.discrete:
                fractional = finite & (bound != np.round(bound))
                _raise_rows(fractional, lambda i: SupportError(
                    f"Row {i} has a {name} censoring bound of {bound[i]:g}; counts are censored at whole numbers."
                ))
        t_lo, t_hi = self.truncation
        truncated = math.isfinite(t_lo) or math.isfinite(t_hi)
        outside = exact & ((low <= t_lo) | (low > t_hi)) if truncated else np.zeros(1, dtype=bool)
        _raise_rows(outside, lambda i: DataError(
            f"Row {i} holds the value {low[i]:g}, outside the truncation range ({t_lo:g}, {t_hi:g}]: a sample "
            "truncated there cannot contain it. Widen the truncation bounds or drop the row."
        ))
        interval = kind == INTERVAL
        empty = interval & (hi_c <= lo_c)
        if truncated:
            empty |= ~exact & ((lo_c >= t_hi) | (hi_c <= t_lo))
        _raise_rows(empty, lambda i: DataError(
            f"Row {i} is censored to ({low[i]:g}, {high[i]:g}], which lies outside the truncation range "
            f"({t_lo:g}, {t_hi:g}]: a truncated sample cannot contain it. Widen the truncation bounds or fix the row."
        ))
        open_lo, open_hi = self._open_edges(fixed)
        impossible = (kind == LEFT) & (hi_c <= open_lo) if math.isfinite(open_lo) else np.zeros(1, dtype=bool)
        if math.isfinite(open_hi):
            impossible = impossible | ((kind == RIGHT) & (lo_c >= open_hi))
        impossible = impossible | (interval & ((hi_c <= open_lo) | (lo_c >= open_hi)))
        _raise_rows(impossible, lambda i: SupportError(
            f"Row {i} is censored to ({low[i]:g}, {high[i]:g}], which has probability 0 under the "
            f"'{self.name}' family ({self.support_description}). Fix the row or choose another family."
        ))

    def check_identifiable(self, x, w, free, has_prior, ctx):
        xs = x.detach().cpu().numpy()
        kinds = self.classify(x, {})[0] if not self.options else kinds_of(xs[:, 0], xs[:, 1])
        informative = kinds != UNINFORMATIVE
        if not informative.any():
            raise DataError(
                f"None of the {kinds.size} observations carries information: every one is censored beyond the edges "
                f"of the '{self.name}' support. Nothing can be estimated."
            )
        if (kinds == EXACT).any() or has_prior >= set(free):
            return
        present = sorted({int(k) for k in np.unique(kinds[informative])})
        n = int(informative.sum())
        if present == [RIGHT] or present == [LEFT]:
            side = "beyond" if present == [RIGHT] else "below"
            warn(
                f"All {n} informative observations are {KIND_NAMES[present[0]]}: the likelihood keeps increasing as "
                f"the distribution moves {side} them, so the maximum-likelihood estimate does not exist. Observe some "
                "values exactly, or give a prior.",
                IdentifiabilityWarning,
            )
        else:
            warn(
                f"All {n} observations are censored (none is exact): the estimates rest on the censoring intervals "
                "alone; check that each parameter's standard error is finite and use conf_int(method='profile').",
                IdentifiabilityWarning,
            )

    def features(self, x, fixed):
        kind, lo_c, hi_c = self.classify(x, fixed)
        feats = {"kind": torch.from_numpy(kind).to(x.device), "low": torch.from_numpy(lo_c).to(x),
                 "high": torch.from_numpy(hi_c).to(x)}
        if weibull.applies(self, kind):  # the rows stay where the data live; the kernel reads them in NumPy
            return {**feats, **{k: v.to(x) for k, v in weibull.hazard_features(kind, lo_c).items()}}
        exact = kind == EXACT
        values = np.where(exact, x[:, 0].detach().cpu().numpy(), self._placeholder(fixed))
        for key, value in self.base.features(torch.from_numpy(values).to(x), fixed).items():
            feats[_EXACT_PREFIX + key] = value
        return feats

    # ------------------------------------------------------------------ likelihood
    def log_prob(self, f, p):
        if weibull.EVENT in f:
            return weibull.hazard_log_likelihood(f, p)
        kind = f["kind"]
        n = kind.shape[0]
        like = f["low"]
        out = torch.zeros(n, dtype=like.dtype, device=like.device)
        pieces = {
            EXACT: lambda idx: self.base.log_prob(self._exact_features(f, idx, n), p),
            RIGHT: lambda idx: self.base.log_sf(f["low"][idx], p),
            LEFT: lambda idx: self.base.log_cdf(f["high"][idx], p),
            INTERVAL: lambda idx: self.log_interval(f["low"][idx], f["high"][idx], p),
        }
        for code, piece in pieces.items():
            idx = torch.nonzero(kind == code).reshape(-1)
            if idx.numel():
                out = out.index_put((idx,), piece(idx))
        log_z = self.log_truncation_probability(p, like)
        return out if log_z is None else out - log_z

    def _exact_features(self, f, idx, n):
        feats = {}
        for key, value in f.items():
            if key.startswith(_EXACT_PREFIX):
                per_row = value.dim() > 0 and value.shape[0] == n
                feats[key[len(_EXACT_PREFIX):]] = value[idx] if per_row else value
        return feats

    def log_interval(self, low: torch.Tensor, high: torch.Tensor, p) -> torch.Tensor:
        """:math:`\\log(F(h) - F(l))` for ``l < h`` inside the support (see the module docstring)."""
        lc_lo, lc_hi = self.base.log_cdf(low, p), self.base.log_cdf(high, p)
        ls_lo, ls_hi = self.base.log_sf(low, p), self.base.log_sf(high, p)
        lower = lc_hi < -LN2
        upper = ~lower & (ls_lo < -LN2)
        middle = ~lower & ~upper
        neg = torch.full_like(lc_lo, -1.0)
        in_lower = lc_hi + log1mexp(torch.where(lower, lc_lo - lc_hi, neg))
        in_upper = ls_lo + log1mexp(torch.where(upper, ls_hi - ls_lo, neg))
        across = torch.log1p(-torch.where(middle, torch.exp(lc_lo) + torch.exp(ls_hi), torch.zeros_like(lc_lo)))
        return torch.where(lower, in_lower, torch.where(upper, in_upper, across))

    def log_truncation_probability(self, p, like: torch.Tensor) -> torch.Tensor | None:
        """:math:`\\log P(\\tau_l < X \\le \\tau_h)`, or ``None`` when the truncation range covers the support."""
        t_lo, t_hi = self.truncation
        open_lo, open_hi = self._open_edges(p)
        has_lo, has_hi = t_lo > open_lo, t_hi < open_hi
        if not has_lo and not has_hi:
            return None
        lo = torch.tensor([t_lo], dtype=like.dtype, device=like.device)
        hi = torch.tensor([t_hi], dtype=like.dtype, device=like.device)
        if has_lo and has_hi:
            return self.log_interval(lo, hi, p)[0]
        return self.base.log_sf(lo, p)[0] if has_lo else self.base.log_cdf(hi, p)[0]

    # ------------------------------------------------------------------ starting values
    def pseudo_sample(self, f, fixed) -> tuple[torch.Tensor, torch.Tensor]:
        """One stand-in value per informative row (the value, the censoring bound, or the middle of
        the range) and the mask of those rows: the sample the starting values are computed from."""
        kind, low, high = f["kind"], f["low"], f["high"]
        lower, upper = self.support(fixed)
        if self.discrete:
            low = low + 1  # back to the inclusive bound
        right = low if not math.isfinite(upper) else (low + upper) / 2
        left = high if not math.isfinite(lower) else (lower + high) / 2
        middle = torch.sqrt(low * high) if lower >= 0 and not self.discrete else (low + high) / 2
        x = torch.where(kind == EXACT, low, torch.where(kind == RIGHT, right, torch.where(kind == LEFT, left, middle)))
        if self.discrete:
            x = torch.round(x)
        keep = kind != UNINFORMATIVE
        return x, keep

    def initial(self, f, w, fixed):
        x, keep = self.pseudo_sample(f, fixed)
        x = x[keep]
        w = None if w is None else w[keep]
        return self.base.initial(self.base.features(x, fixed), w, fixed)

    def fast_mle(self, problem, max_iter: int = 100):
        return weibull.right_censored_mle(self, problem, max_iter)


def check_truncation(truncation) -> tuple[float, float]:
    """``(lo, hi)`` as floats (``None`` = open, -inf / +inf); typed errors for anything else."""
    if truncation is None:
        return -math.inf, math.inf
    if isinstance(truncation, (str, bytes)) or not hasattr(truncation, "__len__") or len(truncation) != 2:
        raise DataError(
            f"The 'truncation' argument must be a pair (low, high), with None for an open end, for example "
            f"truncation=(0.0, None). Got {truncation!r} instead."
        )
    out = []
    for value, default, side in zip(truncation, (-math.inf, math.inf), ("low", "high")):
        if value is None:
            out.append(default)
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise DataError(f"The {side} truncation bound must be a number or None. Got {value!r} instead.") from None
        if math.isnan(v):
            raise DataError(f"The {side} truncation bound is NaN; use None for an open end.")
        out.append(v)
    if not out[0] < out[1]:
        raise DataError(f"The truncation range ({out[0]:g}, {out[1]:g}] is empty: the low bound must be below the high one.")
    return out[0], out[1]


def _raise_rows(mask: np.ndarray, error) -> None:
    if mask.any():
        raise error(int(np.flatnonzero(mask)[0]))


def censoring_family(family: Family, data, truncation):
    """``(family, data)`` for :func:`mlemap.fit`: the family wrapped for censored or truncated data.

    Plain data without truncation, and censored data whose every value is exact, go to the family
    itself (the same fit, bit for bit). A family without a cdf, or one whose support bound is estimated
    from the data, is refused with the list of families that accept censored data.
    """
    cd = as_censored(data)
    if cd is None and truncation is None:
        return family, data
    if cd is not None and cd.all_exact and truncation is None:
        return family, cd.low
    if isinstance(family, CensoredFamily):
        return family, data
    _check_family(family, cd is not None)
    from .closed_form import CensoredExponential, exponential_applies

    if exponential_applies(family, cd, check_truncation(truncation)):
        return CensoredExponential(family, truncation), data
    return CensoredFamily(family, truncation), data


def accepts_censoring(name: str) -> bool:
    """Whether the named family can be fitted to censored or truncated data."""
    from ..families.registry import resolve_family

    family = resolve_family(name)
    return family.event_ndim == 0 and family.has_cdf and not family.bounded_by_data


def _check_family(family: Family, censored: bool) -> None:
    what = "Censored data" if censored else "A truncated fit"
    if family.bounded_by_data:
        bound = next(iter(family.bounded_by_data))
        raise FamilyError(
            f"{what} cannot be fitted with the '{family.name}' family: its '{bound}' is estimated as a sample extreme, "
            "which censoring and truncation do not determine. Choose another family."
        )
    if family.event_ndim != 0 or not family.has_cdf:
        from ..families.registry import family_names

        names = [name for name in family_names() if accepts_censoring(name)]
        raise FamilyError(
            f"{what} need{'s' if not censored else ''} a family with a cumulative distribution function, and "
            f"'{family.name}' has none. Families that accept censored data: {', '.join(names)}."
        )

"""Families on categories and on the simplex: categorical, multinomial, Dirichlet."""

from __future__ import annotations

import numpy as np
import torch
import torch.distributions as td
from torch.distributions import constraints

from ..data.convert import as_float_tensor, to_numpy_or_tensor
from ..errors import DataError, ParameterError, SupportError
from .base import (
    Family,
    check_all_equal_degenerate,
    check_integer,
    raise_outside_support,
)
from .statistics import (
    SufficientStatistics,
    total_weight,
    weighted_moments,
    weighted_sum,
)


#: the most categories a categorical family holds (a probability vector of this length is 128 MiB)
MAX_CATEGORIES = 2**24


def _xlogy(x, y):
    return torch.special.xlogy(x, y)


class Categorical(Family):
    """Categorical(probs) over :math:`K` categories: :math:`\\log p(x) = \\log p_x`.

    Labels may be integers ``0..K-1`` or any values (strings included); with non-integer labels the
    categories are the sorted distinct values unless ``categories`` is given. Sufficient statistics
    are the weighted counts :math:`c_k`; MLE :math:`\\hat p_k = c_k / W`.
    """

    name = "categorical"
    torch_class = td.Categorical
    parameters = ("probs",)
    discrete = True

    def __init__(self, n_categories: int | None = None, categories=None):
        if categories is not None:
            categories = list(categories)
            if len(set(map(repr, categories))) != len(categories) or not categories:
                raise ParameterError("The 'categories' of a categorical family must be distinct and non-empty.")
            n_categories = len(categories) if n_categories is None else n_categories
            if n_categories != len(categories):
                raise ParameterError("'n_categories' must equal the number of 'categories'.")
        if n_categories is not None and (int(n_categories) != n_categories or not 2 <= n_categories <= MAX_CATEGORIES):
            raise ParameterError(
                f"The 'n_categories' of a categorical family must be a whole number from 2 to {MAX_CATEGORIES:,}. "
                f"Got {n_categories!r}."
            )
        self.n_categories = None if n_categories is None else int(n_categories)
        self.categories = categories

    def __repr__(self):
        return f"Categorical(n_categories={self.n_categories})"

    @property
    def support_description(self):  # type: ignore[override]
        if self.categories is not None:
            shown = ", ".join(map(repr, self.categories[:6])) + (", ..." if len(self.categories) > 6 else "")
            return f"the categories {shown}"
        if self.n_categories is not None:
            return f"integer labels 0..{self.n_categories - 1}"
        return "integer labels 0, 1, 2, ..."

    def constraint(self, name, ctx=None):
        return constraints.simplex

    def shape(self, name, event_shape):
        return torch.Size([self.n_categories])

    def element_labels(self, name, shape):
        if self.categories is None:
            return super().element_labels(name, shape)
        return [f"{name}[{c}]" for c in self.categories]

    def prepare(self, data, *, dtype, device):
        raw = to_numpy_or_tensor(data, name="data")
        if isinstance(raw, np.ndarray) and (raw.dtype == object or raw.dtype.kind in "USVb") or self.categories:
            return self._prepare_labels(np.asarray(raw.cpu() if isinstance(raw, torch.Tensor) else raw), dtype, device)
        x = as_float_tensor(raw, name="data", dtype=dtype, device=device)
        self._check_ndim(x)
        x = x.reshape(-1)
        check_integer(self, x, "Labels must be whole numbers 0..K-1, or pass the labels themselves (strings).")
        raise_outside_support(self, x, x < 0, "Labels must be 0 or more; negative codes are not categories.")
        raise_outside_support(
            self, x, x >= MAX_CATEGORIES,
            f"Integer labels are codes 0..K-1 of at most {MAX_CATEGORIES:,} categories (one probability each); "
            "recode them (np.unique(labels, return_inverse=True)) or pass them as strings.",
        )
        k_data = int(x.max()) + 1
        if self.n_categories is not None:
            raise_outside_support(
                self, x, x >= self.n_categories, f"Labels must be below n_categories={self.n_categories}."
            )
            return x, self
        return x, Categorical(n_categories=max(k_data, 2))

    def _prepare_labels(self, raw: np.ndarray, dtype, device):
        if raw.ndim != 1:
            raw = raw.reshape(-1) if raw.ndim == 2 and 1 in raw.shape else raw
        if raw.ndim != 1:
            raise DataError(f"The 'data' argument of a categorical fit must be 1-D labels; got shape {raw.shape}.")
        if raw.size == 0:
            raise DataError("The 'data' argument is empty (shape (0,)); at least one observation is needed.")
        missing = [i for i, v in enumerate(raw) if v is None or (isinstance(v, float) and np.isnan(v))]
        if missing:
            raise DataError(
                f"The 'data' argument contains {len(missing)} missing label(s); the first at index {missing[0]}. "
                "Drop them before fitting."
            )
        categories = self.categories if self.categories is not None else sorted(set(raw.tolist()), key=_sort_key)
        index = {repr(c): i for i, c in enumerate(categories)}
        codes = np.empty(raw.shape[0], dtype=np.float64)
        for i, v in enumerate(raw.tolist()):
            code = index.get(repr(v))
            if code is None:
                raise SupportError(
                    f"The 'data' argument has the label {v!r} at row {i}, which is not one of the categories "
                    f"{categories[:6]}{'...' if len(categories) > 6 else ''}. Add it to 'categories'."
                )
            codes[i] = code
        if len(categories) < 2:
            categories = list(categories) + [f"<not {categories[0]!r}>"]
        x = torch.as_tensor(codes, dtype=dtype, device=device)
        return x, Categorical(categories=categories)

    def features(self, x, fixed):
        return {"x": x}

    def log_prob(self, f, p):
        return torch.log(p["probs"])[f["x"].long()]

    def statistics(self, f, w):
        x = f["x"].long()
        weights = None if w is None else w
        counts = torch.bincount(x, weights=weights, minlength=self.n_categories).to(f["x"].dtype)
        return SufficientStatistics(total_weight(f["x"], w), sums={"counts": counts})

    def log_likelihood_stats(self, s, p):
        return _xlogy(s.sums["counts"], p["probs"]).sum()

    def initial(self, f, w, fixed):
        counts = self.statistics(f, w).sums["counts"]
        probs = (counts + 0.5) / (counts.sum() + 0.5 * counts.numel())
        return {"probs": probs}

    def distribution(self, p):
        return td.Categorical(probs=p["probs"], validate_args=False)

    def boundary_note(self, name):
        return "some categories were never observed, so their MLE probability is 0 (on the edge of the simplex)"


def _sort_key(value):
    return (str(type(value)), value) if not isinstance(value, (int, float, np.number)) else ("0", value)


class Multinomial(Family):
    """Multinomial(total_count, probs) for rows of counts :math:`x_i \\in \\mathbb{N}^K` with row totals :math:`N_i`.

    :math:`\\log p(x_i) = \\log N_i! - \\sum_k \\log x_{ik}! + \\sum_k x_{ik} \\log p_k`. Row totals may
    differ; ``total_count`` in ``fixed`` is optional and, when given, checked against every row.
    MLE :math:`\\hat p_k = \\sum_i w_i x_{ik} / \\sum_i w_i N_i`.
    """

    name = "multinomial"
    torch_class = td.Multinomial
    parameters = ("probs",)
    optional_options = ("total_count",)
    discrete = True
    event_ndim = 1
    support_description = "rows of whole-number counts"

    def __init__(self, n_categories: int | None = None, total_count: int | None = None):
        self.n_categories = n_categories
        self.total_count = total_count

    def __repr__(self):
        return f"Multinomial(n_categories={self.n_categories})"

    def constraint(self, name, ctx=None):
        return constraints.positive_integer if name == "total_count" else constraints.simplex

    def shape(self, name, event_shape):
        return torch.Size() if name == "total_count" else torch.Size([event_shape[-1]])

    def validate_option(self, name, value, x):
        if value.dim() != 0 or float(value) < 1 or float(value) != round(float(value)):
            raise ParameterError(
                f"The 'fixed' value of 'total_count' for the multinomial family must be one positive whole number. "
                f"Got {value.tolist()}."
            )
        return value

    def prepare(self, data, *, dtype, device):
        x = as_float_tensor(data, name="data", dtype=dtype, device=device)
        self._check_ndim(x)
        if x.shape[1] < 2:
            raise DataError(
                f"The 'data' argument of a multinomial fit needs at least 2 columns (categories); got {x.shape[1]}."
            )
        check_integer(self, x, "Each row must hold whole-number counts per category.")
        raise_outside_support(self, x, x < 0, "Counts must be 0 or more.")
        totals = x.sum(1)
        raise_outside_support(self, x, totals == 0, "Every row needs at least one trial (a positive total).")
        common = int(totals[0]) if bool((totals == totals[0]).all()) else None
        return x, Multinomial(n_categories=x.shape[1], total_count=common)

    def features(self, x, fixed):
        if "total_count" in fixed:
            n = fixed["total_count"]
            raise_outside_support(
                self, x, x.sum(1) != n, f"Every row must sum to the fixed total_count {n.tolist()}."
            )
        totals = x.sum(1)
        return {"x": x, "log_coef": torch.lgamma(totals + 1) - torch.lgamma(x + 1).sum(1)}

    def log_prob(self, f, p):
        return f["log_coef"] + _xlogy(f["x"], p["probs"]).sum(1)

    def statistics(self, f, w):
        x = f["x"]
        return SufficientStatistics(
            total_weight(x, w), sums={"counts": weighted_sum(x, w), "log_coef": weighted_sum(f["log_coef"], w)}
        )

    def log_likelihood_stats(self, s, p):
        return s.sums["log_coef"] + _xlogy(s.sums["counts"], p["probs"]).sum()

    def initial(self, f, w, fixed):
        counts = weighted_sum(f["x"], w)
        return {"probs": (counts + 0.5) / (counts.sum() + 0.5 * counts.numel())}

    def distribution(self, p):
        n = p.get("total_count", self.total_count)
        if n is None:
            raise ParameterError(
                "The rows have different totals, so the fitted multinomial has no single total_count. "
                "Pass fixed={'total_count': N} to choose one for prediction."
            )
        return td.Multinomial(total_count=int(n), probs=p["probs"], validate_args=False)

    boundary_note = Categorical.boundary_note


class Dirichlet(Family):
    """Dirichlet(concentration) for rows on the simplex (positive entries summing to 1).

    :math:`\\log p(x) = \\log\\Gamma(\\alpha_0) - \\sum_k \\log\\Gamma(\\alpha_k) + \\sum_k (\\alpha_k - 1) \\log x_k`,
    :math:`\\alpha_0 = \\sum_k \\alpha_k`; sufficient statistics :math:`\\sum_i w_i \\log x_{ik}`. No closed
    form: Newton on the statistics, started from the method of moments.
    """

    name = "dirichlet"
    torch_class = td.Dirichlet
    parameters = ("concentration",)
    event_ndim = 1
    support_description = "rows of positive numbers summing to 1"

    def constraint(self, name, ctx=None):
        return constraints.independent(constraints.positive, 1)

    def shape(self, name, event_shape):
        return torch.Size([event_shape[-1]])

    def check_support(self, x, fixed, ctx):
        if x.shape[1] < 2:
            raise DataError(f"The 'data' argument of a dirichlet fit needs at least 2 columns; got {x.shape[1]}.")
        raise_outside_support(self, x, x <= 0, "Every entry must be strictly positive (zeros have density 0 or inf).")
        tol = 1e-6 * x.shape[1]
        raise_outside_support(
            self, x, (x.sum(1) - 1).abs() > tol, "Each row must sum to 1; normalise the rows first."
        )

    def check_identifiable(self, x, w, free, has_prior, ctx):
        check_all_equal_degenerate(
            self, x, ("concentration",), free, has_prior, "the concentration grows without bound"
        )

    def features(self, x, fixed):
        return {"log_x": torch.log(x)}

    def log_prob(self, f, p):
        a = p["concentration"]
        return torch.lgamma(a.sum()) - torch.lgamma(a).sum() + (f["log_x"] * (a - 1)).sum(-1)

    def statistics(self, f, w):
        lx = f["log_x"]
        return SufficientStatistics(total_weight(lx, w), sums={"log_x": weighted_sum(lx, w)})

    def log_likelihood_stats(self, s, p):
        a = p["concentration"]
        return s.weight * (torch.lgamma(a.sum()) - torch.lgamma(a).sum()) + ((a - 1) * s.sums["log_x"]).sum()

    def initial(self, f, w, fixed):
        x = torch.exp(f["log_x"])
        W, mean, m2 = weighted_moments(x, w)
        var = torch.diagonal(m2) / W
        precision = (mean * (1 - mean) / var.clamp_min(1e-12) - 1).clamp_min(1e-2)
        # geometric mean of the per-component moment estimates of the total concentration
        total = torch.exp(torch.log(precision).mean())
        return {"concentration": (mean * total).clamp_min(1e-2)}

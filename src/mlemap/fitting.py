"""``fit()``: validate the user's call, build the problem, run it (:mod:`mlemap.core.estimation`), wrap the result.

The estimator is

.. math:: \\hat\\theta = \\arg\\max_\\theta \\Big[\\sum_i w_i \\log p(x_i \\mid \\theta) + \\sum_j \\log \\pi_j(\\theta_j)\\Big]

with no prior term for a maximum-likelihood fit (no hidden penalty). A prior's density is taken
in the space it is stated in (``probs``, or ``variance`` for a normal), so the MAP is the posterior
mode in that space; MAP estimates are not invariant to reparametrisation.

Routes: ``"closed-form"`` (registered MLEs and conjugate pairs), ``"numerical"`` (Newton with the
exact Hessian / L-BFGS in unconstrained space) and, when a parameter has a
:class:`~mlemap.DiscretePrior`, enumeration of its candidates.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import torch.distributions as td

from .censoring.choice import censoring_family
from .closed_form import canonical_prior
from .core.distribution_problem import DistributionProblem, resolve_fixed, resolve_init
from .core.estimation import estimate
from .core.sources_input import as_data_source
from .core.threads import serial_when_busy
from .data.convert import as_weights, resolve_device, resolve_dtype
from .errors import MethodError
from .families import resolve_family
from .priors.resolve import resolve_priors
from .results import FitResult

METHODS = ("auto", "closed-form", "numerical")
SOLVERS = ("auto", "newton", "lbfgs", "powell")


@serial_when_busy
def fit(
    family: Any,
    data: Any,
    *,
    prior: Mapping[str, td.Distribution] | None = None,
    fixed: Mapping[str, Any] | None = None,
    weights: Any = None,
    init: Mapping[str, Any] | None = None,
    method: str = "auto",
    support: Mapping[str, Any] | None = None,
    dtype: Any = None,
    device: Any = None,
    max_iter: int = 200,
    solver: str = "auto",
    truncation: Any = None,
    groups: Any = None,
    exposure: Any = None,
    progress: bool | None = None,
) -> FitResult:
    """Fit ``family`` to ``data`` by maximum likelihood, or by MAP when ``prior`` is given.

    Parameters
    ----------
    family : str, Family, torch.distributions class or callable
        A name from :func:`mlemap.family_names` (``"bernoulli"``, ``"normal"``, ``"studentt"``, ...), a
        ``torch.distributions`` class (``td.Gamma``), or a function ``log_prob(x, **params)`` returning
        one log-density per observation (then ``init`` names and starts the parameters).
    data : array-like, censored data, source or Dask collection
        Observations: one number per observation, or one row per observation for the multivariate
        families; labels (strings included) for ``"categorical"``; or censored observations
        (:func:`mlemap.censored`, or a ``scipy.stats.CensoredData``) for a family with a cdf. Data
        larger than memory: a file scan (``mm.scan("big.parquet", column="x")``) or a dask array or
        Series, read chunk by chunk (where the chunks live, for Dask) with the same estimate as in memory.
    prior : dict, optional
        ``{parameter: distribution}``; any ``torch.distributions`` object whose support covers the
        parameter's space, or :class:`~mlemap.DiscretePrior`. For the normal family the prior may be
        stated on ``variance`` or ``precision``.
    fixed : dict, optional
        Known parameter values (required for the binomial ``total_count``).
    weights : array-like, optional
        Positive frequency weights: observation ``i`` counts ``weights[i]`` times (for a source, the
        name of its weight column).
    init : dict, optional
        Starting values for the numerical route.
    method : {"auto", "closed-form", "numerical"}
        ``"auto"`` uses a closed form where one is registered, else the numerical engine.
    support : dict, optional
        Constraints of a custom log-density's parameters (``"positive"``, ``"unit_interval"``, ...).
    dtype : {"float64", "float32"}, optional
        Float64 by default (standard errors need it); the device follows the data.
    max_iter : int
        Iteration limit of the numerical route.
    truncation : (low, high), optional
        The sample only holds values in ``(low, high]`` (``None`` for an open end): each observation's
        likelihood is divided by the probability of that range (see :mod:`mlemap.censoring.family`).
    groups : array-like, optional
        One group label per observation: the family is fitted in every group at once (vectorised) and a
        :class:`~mlemap.groups.GroupedFit` is returned; with ``prior="estimate"`` the prior is learned
        from the groups (empirical Bayes, :class:`~mlemap.groups.EmpiricalBayesFit`).
    exposure : array-like, optional
        Per-observation exposures of Poisson counts for empirical Bayes (rate times exposure).
    progress : bool, optional
        A progress bar per pass over a Dask collection (default: when standard error is a terminal;
        a file scan has its own ``progress``).

    Raises
    ------
    MlemapError
        A subclass saying what was wrong, where, and how to fix it (:mod:`mlemap.errors`). An exception
        raised inside a user's log-density (or a ``torch.distributions`` class) is wrapped in a
        :class:`~mlemap.LogDensityError` naming the function and the parameter values, with the original
        exception kept as its ``__cause__``.
    """
    if method not in METHODS:
        raise MethodError(f"The 'method' argument must be one of {', '.join(METHODS)}. Got {method!r} instead.")
    if solver not in SOLVERS:
        raise MethodError(f"The 'solver' argument must be one of {', '.join(SOLVERS)}. Got {solver!r} instead.")
    if not isinstance(max_iter, int) or isinstance(max_iter, bool) or max_iter < 1:
        raise MethodError(f"The 'max_iter' argument must be a positive integer. Got {max_iter!r} instead.")
    fam = resolve_family(family, init=init, support=support, fixed=fixed)
    source = as_data_source(data, progress=progress, dtype=dtype, device=device)
    if source is not None:
        unsupported = [name for name, value in (("truncation", truncation), ("groups", groups), ("exposure", exposure))
                       if value is not None] + (["prior='estimate'"] if isinstance(prior, str) else [])
        if unsupported:
            verb = "needs" if len(unsupported) == 1 else "need"
            raise MethodError(f"{' and '.join(unsupported)} {verb} the data in memory; a fit over a file scan or a Dask "
                              "collection reads plain observations. Load the data (or a sample) and fit again.")
        return _fit_source(fam, source, prior, fixed, weights, init, method, max_iter, solver)
    fam, data = censoring_family(fam, data, truncation)
    x, fam = fam.prepare(data, dtype=resolve_dtype(dtype), device=None if device is None else resolve_device(device))
    if fam.event_ndim == 0 and x.dim() == 2 and x.shape[1] == 1:
        x = x.reshape(-1)  # a single column of observations
    w = as_weights(weights, n=x.shape[0], dtype=x.dtype, device=x.device)
    if groups is not None or exposure is not None or isinstance(prior, str):
        from .groups import fit_groups

        return fit_groups(fam, x, w, resolve_fixed(fam, fixed, x), groups, prior=prior, init=init, method=method,
                          max_iter=max_iter, solver=solver, exposure=exposure)
    fixed_t = resolve_fixed(fam, fixed, x)
    problem = DistributionProblem(fam, x, w, fixed_t, {})
    fam.check_support(x, fixed_t, problem.ctx)
    terms = resolve_priors(fam, prior, fixed_t, problem.shapes, problem.ctx, x.dtype, x.device)
    problem.priors = {b: dataclasses.replace(t, prior=canonical_prior(t.prior)) for b, t in terms.items()}
    fam.check_identifiable(x, w, set(problem.free), set(problem.priors), problem.ctx)
    init_t = resolve_init(problem, init)
    result = FitResult(problem, estimate(problem, method=method, init=init_t, max_iter=max_iter, solver=solver))
    name = getattr(data, "name", None)  # a pandas Series' name labels the figures
    result.data_name = name if isinstance(name, str) else None
    return result


def _fit_source(fam, source, prior, fixed, weights, init, method: str, max_iter: int, solver: str) -> FitResult:
    """``fit`` over a source: one survey pass, then the same routes on reductions (see
    :mod:`mlemap.core.distribution_stream`)."""
    import torch

    from .core.distribution_stream import StreamDistributionProblem
    from .core.sources_input import source_device, source_dtype
    from .errors import DataError, WeightsError
    from .families.base import Family

    if fam.event_ndim != 0 or type(fam).prepare is not Family.prepare:
        raise MethodError(f"The '{fam.name}' family reads its data in memory (labels or vectors); fitting it over a "
                          "file scan or a Dask collection is not supported. Load the data and fit again.")
    if weights is not None and not isinstance(weights, str):
        raise WeightsError("With data from a source (a file scan, a Dask collection), give 'weights' as the name of "
                           f"its weight column. Got {type(weights).__name__}.")
    names = list(source.columns)
    if weights is not None and weights not in names:
        raise WeightsError(f"No column '{weights}' (from weights=) in the data. The columns are: {', '.join(names)}.")
    rest = [c for c in names if c != weights]
    if len(rest) != 1:
        raise DataError(f"The data have the columns {', '.join(rest)}: select the one column of observations "
                        "(mm.scan(path, column='x'), or data[['x']] for a dask DataFrame).")
    probe = torch.zeros(0, dtype=source_dtype(source), device=source_device(source))
    fixed_t = resolve_fixed(fam, fixed, probe)
    problem = StreamDistributionProblem.open(fam, source, rest[0], weights, fixed_t)
    ctx = problem.ctx
    terms = resolve_priors(fam, prior, fixed_t, problem.shapes, ctx, problem.dtype, problem.device)
    problem.priors = {b: dataclasses.replace(t, prior=canonical_prior(t.prior)) for b, t in terms.items()}
    proxy = ctx.min.reshape(1).expand(problem.n_obs) if ctx.all_equal else problem.sample_rows_values()[0]
    fam.check_identifiable(proxy, None, set(problem.free), set(problem.priors), ctx)
    init_t = resolve_init(problem, init)
    result = FitResult(problem, estimate(problem, method=method, init=init_t, max_iter=max_iter, solver=solver))
    result.data_name = rest[0]
    return result

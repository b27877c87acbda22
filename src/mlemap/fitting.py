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

from .censoring.family import censoring_family
from .closed_form import canonical_prior
from .core.distribution_problem import DistributionProblem, resolve_fixed, resolve_init
from .core.estimation import estimate
from .data.convert import as_weights, resolve_device, resolve_dtype
from .errors import MethodError
from .families import resolve_family
from .priors.resolve import resolve_priors
from .results import FitResult

METHODS = ("auto", "closed-form", "numerical")
SOLVERS = ("auto", "newton", "lbfgs", "powell")


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
) -> FitResult:
    """Fit ``family`` to ``data`` by maximum likelihood, or by MAP when ``prior`` is given.

    Parameters
    ----------
    family : str, Family, torch.distributions class or callable
        A name from :func:`mlemap.family_names` (``"bernoulli"``, ``"normal"``, ``"studentt"``, ...), a
        ``torch.distributions`` class (``td.Gamma``), or a function ``log_prob(x, **params)`` returning
        one log-density per observation (then ``init`` names and starts the parameters).
    data : array-like or censored data
        Observations: one number per observation, or one row per observation for the multivariate
        families; labels (strings included) for ``"categorical"``; or censored observations
        (:func:`mlemap.censored`, or a ``scipy.stats.CensoredData``) for a family with a cdf.
    prior : dict, optional
        ``{parameter: distribution}``; any ``torch.distributions`` object whose support covers the
        parameter's space, or :class:`~mlemap.DiscretePrior`. For the normal family the prior may be
        stated on ``variance`` or ``precision``.
    fixed : dict, optional
        Known parameter values (required for the binomial ``total_count``).
    weights : array-like, optional
        Positive frequency weights: observation ``i`` counts ``weights[i]`` times.
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
    if not isinstance(max_iter, int) or max_iter < 1:
        raise MethodError(f"The 'max_iter' argument must be a positive integer. Got {max_iter!r} instead.")
    fam = resolve_family(family, init=init, support=support, fixed=fixed)
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



"""Empirical Bayes: the prior learned from all groups, each group's exact posterior under it.

The hyperparameters :math:`\\hat\\eta` maximise the exact marginal likelihood of all the data,
:math:`\\sum_g \\log m_g(\\eta)` (:mod:`.marginals`), with the core's optimiser on that small
objective; their standard errors come from the inverse of its observed information (Hessian of
:math:`-\\sum_g \\log m_g` in the prior's own parameters). When the marginal likelihood is largest
in the limit of no spread between the groups (a concentration growing without bound, or
:math:`\\tau = 0`), the learned prior is that limit, a point mass at the pooled value, and a
warning says so.

Each group's posterior under :math:`\\pi_{\\hat\\eta}` is exact (conjugacy); its mode is the
group's estimate (the MAP, as ``mm.fit`` with that prior returns it), its standard deviation the
standard error, and its quantiles the credible interval.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from ..closed_form import canonical_prior
from ..core.contribution import autograd_contribution
from ..core.optimize import minimize
from ..data.convert import as_weights
from ..errors import BoundaryWarning, ConvergenceWarning, MethodError, PriorError, warn
from ..families.base import DataContext
from ..inference.covariance import invert_information
from ..priors.resolve import resolve_priors
from .estimate import GroupEstimates, no_reasons
from .marginals import BetaBinomialMarginal, GammaPoissonMarginal, NormalNormalMarginal
from .posterior import PointMass
from .problem import GroupedProblem

PAIRS = {"bernoulli": BetaBinomialMarginal, "binomial": BetaBinomialMarginal, "poisson": GammaPoissonMarginal,
         "normal": NormalNormalMarginal}


class _SmallObjective:
    """A function of a few hyperparameters with its exact derivatives (what the core's minimize reads)."""

    def __init__(self, fn):
        self.fn = fn

    def value(self, u):
        return self.fn(u.detach())

    def value_and_grad(self, u):
        c = autograd_contribution(self.fn, u, 1)
        return c.value, c.grad

    def value_grad_hess(self, u):
        c = autograd_contribution(self.fn, u, 2)
        return c.value, c.grad, c.hess


@dataclasses.dataclass
class Hyperparameters:
    """The learned prior: its parameters with standard errors, and how they were found."""

    names: tuple
    values: dict[str, float]
    se: dict[str, float]
    marginal_loglik: float
    at_limit: bool
    converged: bool
    message: str
    reason: str = ""


def fit_empirical_bayes(family, x, weights, fixed: dict, index, *, exposure=None, max_iter: int = 200):
    """Learn the prior of a conjugate pair from the groups and return an :class:`EmpiricalBayesFit`."""
    from .eb_result import EmpiricalBayesFit

    pair = PAIRS.get(family.name)
    if pair is None:
        raise PriorError(
            f"prior='estimate' (empirical Bayes) needs a conjugate pair with an exact marginal likelihood: "
            f"'bernoulli' or 'binomial' (a Beta prior on probs), 'poisson' (a Gamma prior on rate) or 'normal' (a "
            f"Normal prior on loc). The '{family.name}' family has none; give an explicit prior instead, for "
            "example prior={'<parameter>': td.Gamma(2.0, 1.0)}, or fit without a prior."
        )
    if exposure is not None and family.name != "poisson":
        raise MethodError(f"exposure= applies to Poisson counts; the '{family.name}' family takes none.")
    if "loc" in fixed and family.name == "normal":
        raise PriorError("prior='estimate' learns the prior of the normal 'loc'; it cannot also be fixed.")
    problem = GroupedProblem(family, x, weights, fixed, {}, index)
    marginal, expo = _marginal(family, problem, exposure)
    hyper = _maximise(marginal, max_iter)
    prior = _prior(marginal, hyper)
    within = {}
    if family.name == "normal" and marginal.sigma is None:
        within = {"scale": torch.as_tensor(hyper.values["within_scale"], dtype=x.dtype, device=x.device)}
    group_problem = GroupedProblem(family, x, weights, {**fixed, **within}, {}, index)
    if not hyper.at_limit:
        terms = resolve_priors(family, {marginal.parameter: prior}, group_problem.fixed, group_problem.shapes,
                               DataContext(x), x.dtype, x.device)
        group_problem.priors = {b: dataclasses.replace(t, prior=canonical_prior(t.prior)) for b, t in terms.items()}
    estimates = _group_estimates(group_problem, marginal, hyper, prior, expo)
    return EmpiricalBayesFit(group_problem, estimates, marginal=marginal, hyper=hyper, prior=prior,
                             exposure=expo)


# ---------------------------------------------------------------------- the pair's statistics
def _marginal(family, problem, exposure):
    s = problem.statistics
    name = family.name
    if name == "bernoulli":
        k = s.sums["x"]
        return BetaBinomialMarginal(k, s.weight - k, torch.zeros_like(k)), None
    if name == "binomial":
        return BetaBinomialMarginal(s.sums["x"], s.sums["failures"], s.sums["log_choose"]), None
    if name == "poisson":
        y = s.sums["x"]
        if exposure is None:
            return GammaPoissonMarginal(y, s.weight, -s.sums["log_factorial"]), None
        t = as_weights(exposure, n=problem.n_rows, dtype=problem.dtype, device=problem.device)
        t = t[problem.index.order]
        w = problem.weights if problem.weights is not None else torch.ones_like(t)
        T = torch.zeros_like(y).index_add_(0, problem.codes, w * t)
        log_t = torch.zeros_like(y).index_add_(0, problem.codes, w * torch.xlogy(problem.x, t))
        return GammaPoissonMarginal(y, T, log_t - s.sums["log_factorial"]), T
    mean, m2 = s.moments["x"]
    sigma = problem.fixed.get("scale")
    return NormalNormalMarginal(s.weight, mean, m2, sigma), None


# ---------------------------------------------------------------------- the hyperparameters
def _maximise(marginal, max_iter: int) -> Hyperparameters:
    def neg(u):
        return -marginal.log_marginal(*marginal.hyper(u)).sum()

    u0 = marginal.start()
    result = minimize(_SmallObjective(neg), u0, solver="newton", max_iter=max_iter)
    u = result.x
    interior = -float(neg(u))
    limit, limit_values = marginal.limit_log_likelihood()
    limit = float(limit)
    # the limit of no spread wins when the interior optimum is no better; an optimiser still climbing
    # towards the limit (not converged) is judged with a looser margin
    margin = (1e-9 if result.converged else 1e-6) * max(1.0, abs(interior))
    at_limit = not math.isfinite(interior) or limit >= interior - margin
    names = marginal.hyper_names
    if at_limit:
        values = {k: float(v) for k, v in limit_values.items()}
        values.update(marginal.limit_hyperparameters(values))
        se = _limit_se(marginal, limit_values)
        return Hyperparameters(names, values, se, limit, True, True, "the limit of no spread between the groups",
                               marginal.limit_description)
    h = [v.detach() for v in marginal.hyper(u)]
    values = {n: float(v) for n, v in zip(names, h)}
    values["mean"] = float(marginal.prior(*h).mean)
    theta = torch.stack(h)

    def neg_natural(t):
        return -marginal.log_marginal(*t).sum()

    H = torch.autograd.functional.hessian(neg_natural, theta)
    cov, reason = invert_information(H, what="observed information of the marginal likelihood")
    se = {n: math.sqrt(max(float(cov[j, j]), 0.0)) if not math.isnan(float(cov[j, j])) else math.nan
          for j, n in enumerate(names)}
    grad_mean = torch.autograd.functional.jacobian(lambda t: marginal.prior(*t).mean, theta)
    se["mean"] = math.sqrt(max(float(grad_mean @ cov @ grad_mean), 0.0)) if reason is None else math.nan
    if not result.converged:
        warn(f"The marginal likelihood of the prior's parameters did not converge ({result.message}); the learned "
             "prior may be inaccurate. Try a larger max_iter.", ConvergenceWarning)
    return Hyperparameters(names, values, se, interior, False, bool(result.converged), result.message, reason or "")


def _limit_se(marginal, values: dict) -> dict[str, float]:
    """Standard errors of the pooled quantities when the prior is a point mass."""
    mean = float(values["mean"])
    size = float(marginal.size().sum())
    if isinstance(marginal, BetaBinomialMarginal):
        return {"mean": math.sqrt(mean * (1 - mean) / size)}
    if isinstance(marginal, GammaPoissonMarginal):
        return {"mean": math.sqrt(mean / size)}
    sigma = torch.as_tensor(values["within_scale"]) if marginal.sigma is None else marginal.sigma
    mean_se = float(1 / (marginal.W / sigma**2).sum().sqrt())
    out = {"mean": mean_se, "loc": mean_se}
    if marginal.sigma is None:
        out["within_scale"] = float(sigma) / math.sqrt(2 * size)
    return out


def _prior(marginal, hyper: Hyperparameters):
    if hyper.at_limit:
        return PointMass(torch.as_tensor(hyper.values["mean"], dtype=torch.float64))
    h = [torch.as_tensor(hyper.values[n], dtype=torch.float64) for n in marginal.hyper_names]
    return marginal.prior(*h[:2])


# ---------------------------------------------------------------------- the groups
def _group_estimates(problem, marginal, hyper: Hyperparameters, prior, exposure) -> GroupEstimates:
    G = problem.n_groups
    name = marginal.parameter
    if hyper.at_limit:
        value = torch.full((G,), hyper.values["mean"], dtype=problem.dtype, device=problem.device)
        post = PointMass(value)
        mode, reasons = value, None
    else:
        h = [torch.as_tensor(hyper.values[n], dtype=problem.dtype, device=problem.device) for n in marginal.hyper_names]
        post = marginal.posterior(*h)
        mode, reasons = marginal.mode(post)
    boundary = no_reasons(G, [name])
    if reasons is not None:
        boundary[name][:] = reasons
    params = {name: mode}
    stats = problem.statistics
    loglik = problem.family.log_likelihood_stats(stats, {**problem.fixed, **params})
    if exposure is not None:  # sum of w (y log(rate t) - rate t - log y!)
        loglik = torch.xlogy(marginal.y, mode) - mode * marginal.t + marginal.constant
    log_prior = prior.log_prob(mode) if not hyper.at_limit else torch.zeros_like(mode)
    se_reasons = {name: np.full(G, None, dtype=object)}
    return GroupEstimates(
        names=[name], params=params, se={name: post.variance.sqrt()}, loglik=loglik, log_prior=log_prior,
        converged=torch.ones(G, dtype=torch.bool, device=problem.device),
        n_iter=torch.zeros(G, dtype=torch.int64, device=problem.device), estimator="MAP",
        method="empirical Bayes", boundary=boundary, held={}, se_reasons=se_reasons, posterior={name: post},
    )


def warn_at_limit(hyper: Hyperparameters) -> str | None:
    if not hyper.at_limit:
        return None
    message = f"Empirical Bayes: {hyper.reason}. Every group's estimate is the pooled value."
    warn(message, BoundaryWarning)
    return message

"""The result of :func:`mlemap.fit`: one type for every route (closed form, numerical, discrete prior).

Estimates are final when the result is built; quantities derived from them (standard errors,
intervals, the summary) are computed on first access and cached, in the way statsmodels' results
cache ``bse`` and ``conf_int()``.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np
import torch
import torch.distributions as td

from .core.estimate import Estimate
from .distributions.readable import readable
from .errors import MethodError, ParameterError
from .inference.intervals import check_level


def _to_output(t: torch.Tensor) -> float | np.ndarray:
    t = t.detach()
    if t.dim() == 0:
        return float(t)
    return t.cpu().numpy().copy()


#: the keyword options of each interval method of :meth:`FitResult.conf_int`
_INTERVAL_OPTIONS = {"wald": (), "profile": ("params",), "bootstrap": ("n_boot", "seed")}

class FitResult:
    """Estimates, their uncertainty and fit statistics for one fitted family.

    Attributes
    ----------
    params : dict
        Estimated parameters, by torch.distributions name (floats for scalars, arrays otherwise).
    fixed : dict
        Parameters held at the values given in ``fixed``.
    estimator : ``"MLE"`` or ``"MAP"``
    method : ``"closed-form"``, ``"numerical"`` or ``"discrete-prior"``
    loglik : float
        :math:`\\ell(\\hat\\theta) = \\sum_i w_i \\log p(x_i \\mid \\hat\\theta)` (the prior is not included).
    log_prior : float
        :math:`\\log \\pi(\\hat\\theta)` for MAP fits (0 for MLE); ``loglik + log_prior`` is the
        unnormalised log-posterior at the MAP.
    n : float
        Number of observations (sum of the frequency weights).
    k : int
        Number of free scalar parameters (used by ``aic`` and ``bic``).
    boundary : dict
        Parameters whose estimate lies on the edge of the parameter space, with the reason.
    posterior : dict or None
        For MAP fits: the exact posterior of each parameter with a conjugate or discrete prior, or
        its Laplace approximation (a normal at the MAP with the inverse-Hessian covariance). These
        distributions (and those of ``predictive()`` and ``distribution()``) print their parameters:
        ``Beta(concentration1=5.0, concentration0=2.0)``.
    """

    def __init__(self, problem, estimate: Estimate):
        #: the validated problem (family, data, fixed values, priors) this fit solved
        self.problem = problem
        #: the optimum: parameters, covariance, log-likelihood, convergence (see :class:`mlemap.core.estimate.Estimate`)
        self.estimate = estimate
        self.estimator = estimate.estimator
        #: the name of the data (a pandas Series' name), used to label figures; None when unnamed
        self.data_name: str | None = None

    @property
    def loglik(self) -> float:
        """:math:`\\ell(\\hat\\theta) = \\sum_i w_i \\log p(x_i \\mid \\hat\\theta)` (the prior is not included)."""
        return self.estimate.loglik

    @property
    def log_prior(self) -> float:
        """:math:`\\log\\pi(\\hat\\theta)` for a MAP fit, 0 for an MLE."""
        return self.estimate.log_prior

    @property
    def method(self) -> str:
        return self.estimate.method

    @property
    def converged(self) -> bool:
        """True when the optimality conditions hold at the estimate (always for closed forms)."""
        return self.estimate.convergence.converged

    @property
    def n_iter(self) -> int:
        return self.estimate.convergence.n_iter

    @property
    def grad_norm(self) -> float | None:
        g = self.estimate.convergence.grad_norm
        return None if g is None else float(g)

    @property
    def message(self) -> str:
        return self.estimate.convergence.message

    @property
    def solver(self) -> str:
        return self.estimate.convergence.solver

    @property
    def convergence(self):
        """The :class:`~mlemap.core.estimate.Convergence` record (criteria, what failed, advice)."""
        return self.estimate.convergence

    @property
    def boundary(self) -> dict[str, str]:
        return self.estimate.boundary

    @property
    def notes(self) -> list[str]:
        return self.estimate.notes

    @property
    def warnings(self) -> list[str]:
        return self.estimate.warnings

    # ------------------------------------------------------------------ basic facts
    @property
    def family(self):
        return self.problem.family

    @property
    def family_name(self) -> str:
        return self.problem.family.name

    @cached_property
    def params(self) -> dict[str, float | np.ndarray]:
        return {n: _to_output(v) for n, v in self.estimate.params.items()}

    @cached_property
    def fixed(self) -> dict[str, float | np.ndarray]:
        return {n: _to_output(v) for n, v in self.problem.fixed.items()}

    @property
    def priors(self) -> dict[str, td.Distribution]:
        """The priors by the name they were given under (for example ``variance``)."""
        return {t.key: t.prior for t in self.problem.priors.values()}

    @property
    def n(self) -> float:
        return self.estimate.n

    @property
    def n_obs(self) -> int:
        return self.estimate.n_obs

    @property
    def k(self) -> int:
        return int(self.estimate.k)

    @property
    def aic(self) -> float:
        """:math:`2k - 2\\ell(\\hat\\theta)`."""
        return 2 * self.k - 2 * self.loglik

    @property
    def bic(self) -> float:
        """:math:`k \\log n - 2\\ell(\\hat\\theta)`."""
        return self.k * math.log(self.n) - 2 * self.loglik

    @property
    def log_posterior(self) -> float:
        """Unnormalised log-posterior at the estimate, :math:`\\ell(\\hat\\theta) + \\log\\pi(\\hat\\theta)`."""
        return self.loglik + self.log_prior

    # ------------------------------------------------------------------ uncertainty
    @property
    def cov(self) -> np.ndarray:
        """Covariance matrix of the flattened free parameters (labels in :attr:`cov_labels`).

        Inverse observed information for an MLE; the Laplace approximation (inverse Hessian of the
        negative log-posterior) for a MAP.
        """
        return self.estimate.covariance.matrix.cpu().numpy().copy()

    @property
    def cov_labels(self) -> list[str]:
        return self.estimate.covariance.labels()

    @cached_property
    def se(self) -> dict[str, float | np.ndarray]:
        """Standard errors (NaN where undefined; :attr:`se_reasons` says why).

        For an MLE: square roots of the diagonal of the inverse observed information. For a MAP:
        the posterior standard deviation, exact where the posterior is exact (conjugate prior on
        the parameter itself), otherwise from the Laplace approximation.
        """
        out = {n: _to_output(self.estimate.se(n)) for n in self.estimate.params}
        if self.estimator == "MAP":
            for name in out:
                post = self.estimate.posterior.get(name)
                if post is not None and not _is_discrete(post):
                    try:
                        out[name] = _to_output(torch.sqrt(post.variance))
                    except NotImplementedError:
                        pass
        return out

    @property
    def se_reasons(self) -> dict[str, str]:
        """Why a standard error is undefined, per parameter."""
        cov = self.estimate.covariance
        out = {}
        for n in self.estimate.params:
            se = cov.se(n)
            if bool(torch.isnan(se).any()):
                out[n] = cov.reasons.get(n, "the information matrix gives no finite variance")
        return out

    def conf_int(self, level: float = 0.95, method: str = "wald", **options) -> dict[str, tuple]:
        """Confidence intervals ``{name: (lower, upper)}`` at ``level``.

        ``method="wald"``: estimate :math:`\\pm z_{1-\\alpha/2}` SE (natural scale; may cross a bound of the
        parameter space, in which case prefer the profile interval). ``method="profile"``: the set of
        values whose profile log-likelihood is within :math:`\\chi^2_{1,\\text{level}}/2` of the maximum
        (scalar parameters of MLE fits; works on the boundary). ``method="bootstrap"``: percentile
        interval of ``n_boot`` refits on resampled data (options ``n_boot``, ``seed``).
        """
        check_level(level)
        unknown = sorted(set(options) - set(_INTERVAL_OPTIONS.get(method, options)))
        if unknown:
            raise MethodError(
                f"conf_int(method={method!r}) has no option {unknown[0]!r}; "
                + "; ".join(f"method={m!r} takes {', '.join(o) or 'none'}" for m, o in _INTERVAL_OPTIONS.items()) + "."
            )
        if method == "wald":
            from .inference.intervals import wald_intervals

            return wald_intervals(self.estimate, level)
        if method == "profile":
            from .inference.profile import profile_intervals

            return profile_intervals(self, level, **options)
        if method == "bootstrap":
            from .inference.bootstrap import bootstrap_intervals

            return bootstrap_intervals(self, level, **options)
        raise MethodError(
            f"The 'method' argument of conf_int() must be 'wald', 'profile' or 'bootstrap'. Got {method!r} instead."
        )

    # ------------------------------------------------------------------ Bayesian quantities
    @cached_property
    def posterior(self) -> dict[str, td.Distribution] | None:
        """Posterior per prior: exact (conjugate or discrete) or the Laplace approximation."""
        if self.estimator != "MAP":
            return None
        out = dict(self.estimate.posterior)
        priors = self.problem.priors
        covered = {priors[b].key for b in priors if priors[b].key in out}
        cov = None
        for base, term in priors.items():
            if term.key in covered or base not in self.estimate.params:
                continue
            if cov is None:
                cov = self.estimate.covariance
            block = cov.block(base)
            est = self.estimate.params[base]
            if bool(torch.isnan(block).any()):
                continue
            if est.dim() == 0:
                out[base] = td.Normal(est, torch.sqrt(block.reshape(())), validate_args=False)
            elif not _is_constrained_vector(self.problem.constraint(base)):
                out[base] = td.MultivariateNormal(est.reshape(-1), covariance_matrix=block, validate_args=False)
        return {k: readable(v) for k, v in out.items()}

    @property
    def posterior_kind(self) -> dict[str, str]:
        """``"exact"``, ``"discrete"`` or ``"laplace"`` for each entry of :attr:`posterior`."""
        if self.posterior is None:
            return {}
        return {
            k: ("exact" if k in self.estimate.posterior and not _is_discrete(v) else "discrete" if _is_discrete(v) else "laplace")
            for k, v in self.posterior.items()
        }

    def credible_interval(self, level: float = 0.95) -> dict[str, tuple]:
        """Equal-tailed posterior intervals (exact or Laplace) for MAP fits, keyed like :attr:`params`
        (and also by the prior's own key, such as ``variance``, where it differs)."""
        check_level(level)
        if self.estimator != "MAP":
            raise MethodError(
                "credible_interval() needs a MAP fit (a prior); for an MLE use conf_int(), which gives "
                "frequentist confidence intervals."
            )
        from .inference.intervals import credible_intervals

        return credible_intervals(self, level)

    def predictive(self, **options) -> td.Distribution:
        """Distribution of the next observation.

        Exact posterior predictive for conjugate priors (for example a Beta–Bernoulli fit gives a
        Bernoulli with the posterior mean; a Gamma–Poisson fit a negative binomial) and for discrete
        priors (a mixture over the candidates); otherwise the plug-in distribution at the estimate.
        """
        predictive = self.estimate.predictive
        if predictive is not None:
            try:
                dist = predictive(**options)
            except TypeError:
                raise ParameterError(f"predictive() takes no options for this fit; got {sorted(options)}.") from None
            return readable(dist)
        return self.distribution(**options)

    def mle(self) -> "FitResult":
        """The maximum-likelihood fit of the same model to the same data (this fit without its priors)."""
        from .core.distribution_problem import DistributionProblem
        from .core.estimation import estimate

        if self.estimator == "MLE":
            return self
        p = self.problem
        problem = DistributionProblem(p.family, p.x, p.weights, p.fixed, {})
        result = FitResult(problem, estimate(problem))
        result.data_name = self.data_name
        return result

    def log_likelihood_at(self, **params) -> float:
        """:math:`\\ell(\\theta)` at other parameter values (the free ones not given stay at the estimate)."""
        values = dict(self.estimate.params)
        for name, value in params.items():
            if name not in values:
                raise ParameterError(f"'{name}' is not an estimated parameter of this fit ({', '.join(values)}).")
            values[name] = torch.as_tensor(value, dtype=self.problem.dtype, device=self.problem.device)
        return float(self.problem.log_likelihood(values))

    def score(self, params=None, parametrization=None) -> dict:
        """Gradient of the log-likelihood by parameter (see :mod:`mlemap.inference.information`)."""
        from .inference.information import score

        return score(self, params, parametrization)

    def information(self, kind: str = "observed", parametrization=None, params=None) -> np.ndarray:
        """Observed or expected Fisher information, e.g. ``parametrization="variance"`` (see
        :mod:`mlemap.inference.information`)."""
        from .inference.information import information

        return information(self, kind, parametrization, params)

    def log_prior_at(self, **params) -> float:
        """:math:`\\log\\pi(\\theta)` at other parameter values (0 without priors)."""
        values = dict(self.estimate.params)
        for name, value in params.items():
            values[name] = torch.as_tensor(value, dtype=self.problem.dtype, device=self.problem.device)
        return float(self.problem.log_prior(values))

    def to_scipy(self):
        """The fitted distribution as a frozen ``scipy.stats`` object (univariate families), else ``None``."""
        from .families.scipy_map import to_scipy

        if any(np.ndim(v) for v in {**self.fixed, **self.params}.values()):
            return None
        return to_scipy(self.family_name, {**self.fixed, **self.params})

    def distribution(self, **options) -> td.Distribution:
        """The fitted ``torch.distributions`` object at the estimate (fixed values included)."""
        values = {**self.problem.fixed, **self.estimate.params}
        for key, value in options.items():
            values[key] = torch.as_tensor(value, dtype=self.problem.dtype)
        return readable(self.family.distribution(values))

    # ------------------------------------------------------------------ output
    def summary(self, level: float = 0.95, ci: str = "wald"):
        """A :class:`~mlemap.report.Summary`: ``print()`` it, or use ``to_dict()``, ``to_html()``, ``to_frame()``."""
        from .report.summary import Summary

        return Summary.of_fit(self, level=level, ci=ci)

    def to_dict(self, level: float = 0.95, ci: str = "wald") -> dict[str, Any]:
        """JSON-ready dictionary with stable keys (see :meth:`mlemap.report.Summary.to_dict`)."""
        return self.summary(level=level, ci=ci).to_dict()

    def to_frame(self, level: float = 0.95, ci: str = "wald"):
        """The parameter rows (estimate, se, lower, upper, prior, status) as a pandas DataFrame."""
        return self.summary(level=level, ci=ci).to_frame()

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def plot(self, kind: str = "auto", ax=None, **options):
        """Draw the fit with :mod:`mlemap.plots`; returns the matplotlib axes.

        ``kind``: ``"density"`` (fitted density or pmf over the data), ``"qq"``, ``"pp"``,
        ``"loglik"`` (log-likelihood curve of one parameter, ``param=``), ``"contour"``
        (log-likelihood contour over two parameters, ``params=``), ``"posterior"`` (prior,
        likelihood and posterior of one parameter; MAP fits), ``"survival"`` (the Kaplan–Meier or
        Turnbull estimate of the data against the fitted survival function, ``what="cdf"`` for the
        cdf; any fit of a univariate family with a cdf). ``"auto"`` picks ``"survival"`` for censored or
        truncated data, ``"posterior"`` for a MAP fit of one free scalar parameter and ``"density"``
        otherwise. ``options`` go to the plotting function.
        """
        from . import plots

        kinds = {"density": plots.density, "qq": plots.qq, "pp": plots.pp, "loglik": plots.loglik_curve,
                 "contour": plots.loglik_contour, "posterior": plots.prior_likelihood_posterior,
                 "survival": plots.survival}
        if kind == "auto":
            scalar = [k for k, v in self.params.items() if np.ndim(v) == 0]
            kind = "posterior" if self.estimator == "MAP" and len(scalar) == 1 else "density"
            if hasattr(self.family, "truncation"):  # censored or truncated data
                kind = "survival"
        if kind not in kinds:
            valid = ", ".join(repr(k) for k in ("auto", *kinds))
            raise MethodError(f"Unknown plot kind {kind!r}. Valid kinds are: {valid}.")
        if kind == "posterior" and self.estimator != "MAP":
            raise MethodError("kind='posterior' needs a MAP fit (a prior); use kind='loglik' for an MLE.")
        return kinds[kind](self, ax=ax, **options)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"<FitResult {self.estimator} {self.family_name}({shown}) method={self.method} loglik={self.loglik:.6g}>"


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return np.array2string(np.asarray(v), precision=4, threshold=6)


def _is_discrete(dist) -> bool:
    from .priors.discrete import DiscretePrior

    return isinstance(dist, DiscretePrior)


def _is_constrained_vector(constraint) -> bool:
    from .families.transforms import is_positive_definite, is_simplex

    return is_simplex(constraint) or is_positive_definite(constraint)

"""The result of :func:`mlemap.fit`: one type for every route (closed form, numerical, discrete prior).

Estimates are final when the result is built; quantities derived from them (standard errors,
intervals, the summary) are computed on first access and cached, in the way statsmodels' results
cache ``bse`` and ``conf_int()``.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any, Callable

import numpy as np
import torch
import torch.distributions as td

from .distributions.readable import readable
from .errors import MethodError, ParameterError
from .inference.covariance import Covariance, hessian_covariance


def _to_output(t: torch.Tensor) -> float | np.ndarray:
    t = t.detach()
    if t.dim() == 0:
        return float(t)
    return t.cpu().numpy().copy()


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

    def __init__(
        self,
        *,
        problem,
        params: dict[str, torch.Tensor],
        method: str,
        converged: bool = True,
        n_iter: int = 0,
        grad_norm: float = 0.0,
        message: str = "",
        solver: str = "",
        boundary: dict[str, str] | None = None,
        held: dict[str, torch.Tensor] | None = None,
        posterior: dict[str, td.Distribution] | None = None,
        predictive: Callable[..., td.Distribution] | None = None,
        notes: list[str] | None = None,
        warnings: list[str] | None = None,
        hessian_cache=None,
        extra_reasons: dict[str, str] | None = None,
    ):
        self._problem = problem
        self._params_t = {n: params[n] for n in problem.free}
        self.method = method
        self.converged = bool(converged)
        self.n_iter = int(n_iter)
        self.grad_norm = None if grad_norm is None else float(grad_norm)
        self.message = message
        self.solver = solver
        self.boundary = dict(boundary or {})
        self._held = dict(held or {})
        self._exact_posterior = dict(posterior or {})
        self._predictive = predictive
        self.notes = list(notes or [])
        self.warnings = list(warnings or [])
        self._hessian_cache = hessian_cache
        self._extra_reasons = dict(extra_reasons or {})
        self.estimator = "MAP" if problem.priors else "MLE"
        #: the name of the data (a pandas Series' name), used to label figures; None when unnamed
        self.data_name: str | None = None

    @cached_property
    def loglik(self) -> float:
        """:math:`\\ell(\\hat\\theta) = \\sum_i w_i \\log p(x_i \\mid \\hat\\theta)` (the prior is not included)."""
        return float(self._problem.log_likelihood(self._params_t))

    @cached_property
    def log_prior(self) -> float:
        """:math:`\\log\\pi(\\hat\\theta)` for a MAP fit, 0 for an MLE."""
        return float(self._problem.log_prior(self._params_t)) if self._problem.priors else 0.0

    # ------------------------------------------------------------------ basic facts
    @property
    def family(self):
        return self._problem.family

    @property
    def family_name(self) -> str:
        return self._problem.family.name

    @cached_property
    def params(self) -> dict[str, float | np.ndarray]:
        return {n: _to_output(v) for n, v in self._params_t.items()}

    @cached_property
    def fixed(self) -> dict[str, float | np.ndarray]:
        return {n: _to_output(v) for n, v in self._problem.fixed.items()}

    @property
    def priors(self) -> dict[str, td.Distribution]:
        """The priors by the name they were given under (for example ``variance``)."""
        return {t.key: t.prior for t in self._problem.priors.values()}

    @property
    def n(self) -> float:
        return self._problem.total_weight

    @property
    def n_obs(self) -> int:
        return self._problem.n_obs

    @property
    def k(self) -> int:
        return self._problem.free_dimension()

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
    @cached_property
    def _covariance(self) -> Covariance:
        reasons = dict(self._extra_reasons)
        for name, why in self.boundary.items():
            reasons.setdefault(name, f"the estimate is on the boundary ({why})")
        kind = "negative log-posterior Hessian" if self.estimator == "MAP" else "observed information"
        return hessian_covariance(
            self._problem, self._params_t, self._held, reasons, kind, cached=self._hessian_cache
        )

    @property
    def cov(self) -> np.ndarray:
        """Covariance matrix of the flattened free parameters (labels in :attr:`cov_labels`).

        Inverse observed information for an MLE; the Laplace approximation (inverse Hessian of the
        negative log-posterior) for a MAP.
        """
        return self._covariance.matrix.cpu().numpy().copy()

    @property
    def cov_labels(self) -> list[str]:
        return self._covariance.labels()

    @cached_property
    def se(self) -> dict[str, float | np.ndarray]:
        """Standard errors (NaN where undefined; :attr:`se_reasons` says why).

        For an MLE: square roots of the diagonal of the inverse observed information. For a MAP:
        the posterior standard deviation, exact where the posterior is exact (conjugate prior on
        the parameter itself), otherwise from the Laplace approximation.
        """
        out = {n: _to_output(self._covariance.se(n)) for n in self._params_t}
        if self.estimator == "MAP":
            for name in out:
                post = self._exact_posterior.get(name)
                if post is not None and not _is_discrete(post):
                    try:
                        out[name] = _to_output(torch.sqrt(post.variance))
                    except NotImplementedError:
                        pass
        return out

    @property
    def se_reasons(self) -> dict[str, str]:
        """Why a standard error is undefined, per parameter."""
        cov = self._covariance
        out = {}
        for n in self._params_t:
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
        _check_level(level)
        if method == "wald":
            from .inference.intervals import wald_intervals

            return wald_intervals(self, level)
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
        out = dict(self._exact_posterior)
        covered = {self._problem.priors[b].key for b in self._problem.priors if self._problem.priors[b].key in out}
        cov = None
        for base, term in self._problem.priors.items():
            if term.key in covered or base not in self._params_t:
                continue
            if cov is None:
                cov = self._covariance
            block = cov.block(base)
            est = self._params_t[base]
            if bool(torch.isnan(block).any()):
                continue
            if est.dim() == 0:
                out[base] = td.Normal(est, torch.sqrt(block.reshape(())), validate_args=False)
            elif not _is_constrained_vector(self._problem.constraint(base)):
                out[base] = td.MultivariateNormal(est.reshape(-1), covariance_matrix=block, validate_args=False)
        return {k: readable(v) for k, v in out.items()}

    @property
    def posterior_kind(self) -> dict[str, str]:
        """``"exact"``, ``"discrete"`` or ``"laplace"`` for each entry of :attr:`posterior`."""
        if self.posterior is None:
            return {}
        return {
            k: ("exact" if k in self._exact_posterior and not _is_discrete(v) else "discrete" if _is_discrete(v) else "laplace")
            for k, v in self.posterior.items()
        }

    def credible_interval(self, level: float = 0.95) -> dict[str, tuple]:
        """Equal-tailed posterior intervals (exact or Laplace) for MAP fits, keyed like :attr:`params`
        (and also by the prior's own key, such as ``variance``, where it differs)."""
        _check_level(level)
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
        if self._predictive is not None:
            try:
                dist = self._predictive(**options)
            except TypeError:
                raise ParameterError(f"predictive() takes no options for this fit; got {sorted(options)}.") from None
            return readable(dist)
        return self.distribution(**options)

    def mle(self) -> "FitResult":
        """The maximum-likelihood fit of the same model to the same data (this fit without its priors)."""
        from .fitting import estimate
        from .problem import Problem

        if self.estimator == "MLE":
            return self
        p = self._problem
        problem = Problem(p.family, p.x, p.weights, p.fixed, {})
        result = estimate(problem)
        result.data_name = self.data_name
        return result

    def log_likelihood_at(self, **params) -> float:
        """:math:`\\ell(\\theta)` at other parameter values (the free ones not given stay at the estimate)."""
        values = dict(self._params_t)
        for name, value in params.items():
            if name not in values:
                raise ParameterError(f"'{name}' is not an estimated parameter of this fit ({', '.join(values)}).")
            values[name] = torch.as_tensor(value, dtype=self._problem.dtype, device=self._problem.device)
        return float(self._problem.log_likelihood(values))

    def log_prior_at(self, **params) -> float:
        """:math:`\\log\\pi(\\theta)` at other parameter values (0 without priors)."""
        values = dict(self._params_t)
        for name, value in params.items():
            values[name] = torch.as_tensor(value, dtype=self._problem.dtype, device=self._problem.device)
        return float(self._problem.log_prior(values))

    def to_scipy(self):
        """The fitted distribution as a frozen ``scipy.stats`` object (univariate families), else ``None``."""
        from .families.scipy_map import to_scipy

        if any(np.ndim(v) for v in {**self.fixed, **self.params}.values()):
            return None
        return to_scipy(self.family_name, {**self.fixed, **self.params})

    def distribution(self, **options) -> td.Distribution:
        """The fitted ``torch.distributions`` object at the estimate (fixed values included)."""
        values = {**self._problem.fixed, **self._params_t}
        for key, value in options.items():
            values[key] = torch.as_tensor(value, dtype=self._problem.dtype)
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
        likelihood and posterior of one parameter; MAP fits). ``"auto"`` picks ``"posterior"`` for a
        MAP fit of one free scalar parameter and ``"density"`` otherwise. ``options`` go to the
        plotting function.
        """
        from . import plots

        kinds = {"density": plots.density, "qq": plots.qq, "pp": plots.pp, "loglik": plots.loglik_curve,
                 "contour": plots.loglik_contour, "posterior": plots.prior_likelihood_posterior}
        if kind == "auto":
            scalar = [k for k, v in self.params.items() if np.ndim(v) == 0]
            kind = "posterior" if self.estimator == "MAP" and len(scalar) == 1 else "density"
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


def _check_level(level: float) -> None:
    if not isinstance(level, (int, float)) or not 0 < level < 1:
        raise MethodError(f"The 'level' argument must be a number in (0, 1), such as 0.95. Got {level!r} instead.")


def _is_discrete(dist) -> bool:
    from .priors.discrete import DiscretePrior

    return isinstance(dist, DiscretePrior)


def _is_constrained_vector(constraint) -> bool:
    from .families.transforms import is_positive_definite, is_simplex

    return is_simplex(constraint) or is_positive_definite(constraint)

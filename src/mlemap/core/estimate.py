"""The record of an optimum, read by the inference layer: one type for every route and front end.

An :class:`Estimate` holds what a solver found and nothing derived from the user's call:

* ``params``: the estimated (free) parameters by name, natural values as tensors (for a
  regression, one scalar per packed coefficient label);
* ``covariance``: the :class:`~mlemap.inference.covariance.Covariance` over their flattened
  elements (the inverse observed information for an MLE, the Laplace approximation for a MAP, a
  sandwich where asked), computed on first use from a factory since it may need the exact Hessian;
* ``loglik`` and ``log_prior`` at the estimate, the ``estimator`` (``"MLE"`` or ``"MAP"``), the
  effective number of parameters ``k``, the total weight ``n`` and number of rows ``n_obs``;
* ``convergence``: solver, iterations, whether the true optimality conditions hold and, when
  the smooth solver ran, its :class:`~mlemap.optim.convergence.ConvergenceReport`;
* ``boundary`` (parameter -> reason) and ``held`` (natural values of elements held on the edge
  of the space), per-parameter status, notes and warnings for the summary, a dispersion estimated
  alongside, diagnostics, and exact posteriors where a conjugate or
  discrete prior gives them, with the exact posterior predictive.

``FitResult`` and the estimators' fitted attributes are views of an ``Estimate``; standard
errors, intervals and posteriors are functions of it (:mod:`mlemap.inference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

import numpy as np
import torch


@dataclass
class Convergence:
    """How the optimum was reached, and whether it is one."""

    converged: bool = True
    n_iter: int = 0
    solver: str = ""
    message: str = ""
    grad_norm: float | None = 0.0
    #: the smooth solver's report of the three criteria (None for closed forms and special solvers)
    report: Any = None
    #: the value of the minimised objective at the estimate, where the solver reports it
    objective: float = float("nan")

    @property
    def failed(self) -> list[str]:
        """The optimality criteria that do not hold (empty when converged or without a report)."""
        return [] if self.report is None else list(self.report.failed)


class Estimate:
    """An optimum with its covariance and fit statistics (see the module docstring)."""

    def __init__(
        self,
        *,
        params: dict[str, torch.Tensor],
        estimator: str,
        method: str,
        covariance: Callable[[], Any] | Any,
        loglik: Callable[[], float] | float,
        log_prior: Callable[[], float] | float = 0.0,
        k: Callable[[], float] | float,
        n: float,
        n_obs: int,
        convergence: Convergence | None = None,
        boundary: dict[str, str] | None = None,
        held: dict[str, torch.Tensor] | None = None,
        posterior: dict[str, Any] | None = None,
        predictive: Callable[..., Any] | None = None,
        notes: list[str] | None = None,
        warnings: list[str] | None = None,
        covariance_kind: str = "observed information",
        dispersion: float | None = None,
        status: dict[str, str] | None = None,
        prior_description: str = "",
        diagnostics: dict[str, Any] | None = None,
    ):
        self.params = dict(params)
        self.estimator = estimator
        self.method = method
        self._covariance = covariance
        self._loglik = loglik
        self._log_prior = log_prior
        self._k = k
        self.n = float(n)
        self.n_obs = int(n_obs)
        self.convergence = convergence or Convergence()
        self.boundary = dict(boundary or {})
        self.held = dict(held or {})
        self.posterior = dict(posterior or {})
        self.predictive = predictive
        self.notes = list(notes or [])
        self.warnings = list(warnings or [])
        self.covariance_kind = covariance_kind
        #: a dispersion estimated alongside (the regression's sigma or b), not among ``params``
        self.dispersion = dispersion
        #: short per-parameter states shown in tables ("aliased (set to 0)", "diverging (separation)")
        self.status = dict(status or {})
        #: the prior in words, as the summary shows it ("" for an MLE)
        self.prior_description = prior_description
        #: what diagnostics found (for example ``{"separation": ...}``)
        self.diagnostics = dict(diagnostics or {})

    @cached_property
    def covariance(self):
        """Covariance over the flattened elements of ``params`` (computed on first use)."""
        c = self._covariance
        return c() if callable(c) else c

    @cached_property
    def loglik(self) -> float:
        v = self._loglik
        return float(v() if callable(v) else v)

    @cached_property
    def log_prior(self) -> float:
        v = self._log_prior
        return float(v() if callable(v) else v)

    @cached_property
    def k(self) -> float:
        v = self._k
        return float(v() if callable(v) else v)

    @property
    def converged(self) -> bool:
        return self.convergence.converged

    @property
    def labels(self) -> list[str]:
        return self.covariance.labels()

    def vector(self) -> np.ndarray:
        """Every estimated element, flattened in the order of :attr:`labels`."""
        if not self.params:
            return np.zeros(0)
        return np.concatenate([np.atleast_1d(v.detach().cpu().numpy()).reshape(-1) for v in self.params.values()])

    def se_vector(self) -> np.ndarray:
        """Standard errors of :meth:`vector` (NaN where undefined)."""
        var = np.diag(self.covariance.matrix.detach().cpu().numpy())
        with np.errstate(invalid="ignore"):
            return np.where(np.isnan(var), np.nan, np.sqrt(np.clip(var, 0, None)))

    def se(self, name: str) -> torch.Tensor:
        """Standard errors of one parameter (NaN where undefined)."""
        return self.covariance.se(name)

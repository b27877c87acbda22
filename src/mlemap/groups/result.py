"""The result of a grouped fit: tables with one row per group, and each group's own fit on demand.

``g.params``, ``g.se``, ``g.conf_int()``, ``g.loglik``, ``g.converged``, ``g.boundary`` and ``g.n``
are pandas objects indexed by the group labels. ``g[label]`` is the
:class:`~mlemap.results.FitResult` of one group: built from that group's own problem (its rows,
the fixed values and the prior) and the batched estimate, so it is what ``mm.fit`` on those rows
alone returns (closed forms are re-run on the group's statistics; a numerical estimate is taken
from the batch and its standard errors computed from the group's own Hessian).
"""

from __future__ import annotations

import warnings
from functools import cached_property
from typing import Any

import pandas as pd
import torch

from ..errors import DataError, MethodError
from ..inference.intervals import check_level, normal_quantile


class GroupedFit:
    """Estimates of one family in every group (see the module docstring).

    Attributes
    ----------
    params, se : DataFrame
        One row per group, one column per free parameter (NaN where undefined).
    loglik, n, n_obs, converged, n_iter, boundary : Series
        Per group: the log-likelihood at the estimate, the total weight and number of rows, whether
        the optimality conditions hold, the solver's iterations, and why an estimate is on the
        boundary of its space or does not exist ("" when neither).
    """

    def __init__(self, problem, estimates, *, results: list | None = None, notes: list[str] | None = None):
        #: the grouped problem (family, rows in group order, fixed values, priors, group layout)
        self.problem = problem
        #: the batched estimates (:class:`~mlemap.groups.estimate.GroupEstimates`)
        self.estimates = estimates
        self._results = results
        #: notes on how the fit was run
        self.notes = list(notes or [])
        #: the warnings issued by the fit
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ facts
    @property
    def family_name(self) -> str:
        return self.problem.family.name

    @property
    def estimator(self) -> str:
        return self.estimates.estimator

    @property
    def method(self) -> str:
        return self.estimates.method

    @property
    def labels(self) -> pd.Index:
        """The group labels, in the order of every table."""
        return self.problem.index.labels

    def __len__(self) -> int:
        return self.problem.n_groups

    def __iter__(self):
        return iter(self.labels)

    @property
    def priors(self) -> dict:
        return {t.key: t.prior for t in self.problem.priors.values()}

    def _series(self, values, name: str) -> pd.Series:
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        return pd.Series(values, index=self.labels, name=name)

    def _frame(self, values: dict[str, torch.Tensor]) -> pd.DataFrame:
        data = {n: v.detach().cpu().numpy() for n, v in values.items()}
        return pd.DataFrame(data, index=self.labels, columns=list(values))

    @cached_property
    def params(self) -> pd.DataFrame:
        """The estimate of each free parameter in each group (NaN where the estimate does not exist)."""
        return self._frame(self.estimates.params)

    @cached_property
    def se(self) -> pd.DataFrame:
        """Standard errors (observed information; the posterior standard deviation for a MAP with a
        conjugate prior, else the Laplace approximation); NaN where undefined (see :attr:`se_reasons`)."""
        return self._frame(self.estimates.se)

    @cached_property
    def se_reasons(self) -> pd.DataFrame:
        """Why a standard error is undefined ("" where it is defined)."""
        return pd.DataFrame({n: [r or "" for r in v] for n, v in self.estimates.se_reasons.items()}, index=self.labels)

    @property
    def loglik(self) -> pd.Series:
        """:math:`\\sum_{i \\in g} w_i \\log p(x_i \\mid \\hat\\theta_g)` per group (the prior not included)."""
        return self._series(self.estimates.loglik, "loglik")

    @property
    def log_prior(self) -> pd.Series:
        return self._series(self.estimates.log_prior, "log_prior")

    @property
    def n(self) -> pd.Series:
        """Number of observations of each group (the sum of its weights)."""
        return self._series(self.problem.weight, "n")

    @property
    def n_obs(self) -> pd.Series:
        """Number of rows of each group."""
        return self._series(self.problem.index.count, "n_obs")

    @property
    def converged(self) -> pd.Series:
        """True where the group's optimality conditions hold (always for closed forms)."""
        return self._series(self.estimates.converged, "converged")

    @property
    def n_iter(self) -> pd.Series:
        return self._series(self.estimates.n_iter, "n_iter")

    @cached_property
    def boundary(self) -> pd.Series:
        """Why a group's estimate is on the boundary of its space, or does not exist ("" when neither)."""
        return pd.Series(self.estimates.boundary_text(), index=self.labels, name="boundary", dtype=object)

    @property
    def messages(self) -> pd.Series:
        """The solver's message per group (numerical route)."""
        if self.estimates.messages is None:
            return self._series(["closed-form estimate"] * len(self), "message")
        return self._series(list(self.estimates.messages), "message")

    # ------------------------------------------------------------------ intervals
    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald intervals :math:`\\hat\\theta \\pm z_{1-\\alpha/2}\\,\\mathrm{SE}` per group: columns
        ``(parameter, "lower")`` and ``(parameter, "upper")``; NaN where the SE is undefined (for an
        interval on the boundary use ``g[label].conf_int(method="profile")``)."""
        check_level(level)
        z = normal_quantile(level)
        est, se = self.params, self.se
        columns = {}
        for n in est.columns:
            columns[(n, "lower")] = est[n] - z * se[n]
            columns[(n, "upper")] = est[n] + z * se[n]
        return pd.DataFrame(columns, index=self.labels)

    def credible_interval(self, level: float = 0.95) -> pd.DataFrame:
        """Equal-tailed posterior intervals per group (MAP fits): exact for a conjugate prior, else from
        the Laplace approximation; columns ``(parameter, "lower")`` and ``(parameter, "upper")``."""
        check_level(level)
        if self.estimator != "MAP":
            raise MethodError(
                "credible_interval() needs a MAP fit (a prior); for an MLE use conf_int(), which gives "
                "frequentist confidence intervals."
            )
        from .posterior import credible_table

        return credible_table(self, level)

    def intervals(self, level: float = 0.95) -> pd.DataFrame:
        """Credible intervals for a MAP fit, confidence intervals for an MLE (as in the tables)."""
        return self.credible_interval(level) if self.estimator == "MAP" else self.conf_int(level)

    # ------------------------------------------------------------------ one group
    def __getitem__(self, label: Any):
        """The :class:`~mlemap.results.FitResult` of one group, as ``mm.fit`` on its rows alone returns it."""
        code = self.problem.index.position(label)
        failed = self.estimates.failed.get(code)
        if failed is not None:
            raise DataError(f"Group {label!r} has no estimate: {failed}")
        if self._results is not None:
            return self._results[code]
        from .single import group_result

        return group_result(self, code)

    def group_problem(self, label: Any):
        """The :class:`mlemap.problem.Problem` of one group (its rows, fixed values and prior)."""
        return self.problem.group(self.problem.index.position(label))

    # ------------------------------------------------------------------ output
    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """A long table, one row per group and parameter: estimate, SE, interval (credible for a MAP),
        n, loglik and status."""
        ci = self.intervals(level)
        rows = []
        name = self.labels.name or "group"
        base = pd.DataFrame({name: self.labels, "n": self.n.to_numpy(), "loglik": self.loglik.to_numpy(),
                             "converged": self.converged.to_numpy(), "boundary": self.boundary.to_numpy()})
        for p in self.params.columns:
            part = base.copy()
            part.insert(1, "parameter", p)
            part.insert(2, "estimate", self.params[p].to_numpy())
            part.insert(3, "se", self.se[p].to_numpy())
            part.insert(4, "lower", ci[(p, "lower")].to_numpy())
            part.insert(5, "upper", ci[(p, "upper")].to_numpy())
            rows.append(part)
        return pd.concat(rows, ignore_index=True)

    def to_wide(self, level: float = 0.95) -> pd.DataFrame:
        """One row per group: each parameter's estimate, SE and interval (credible for a MAP), then n,
        loglik and status."""
        ci = self.intervals(level)
        out = pd.DataFrame(index=self.labels)
        for p in self.params.columns:
            out[p] = self.params[p]
            out[f"{p}_se"] = self.se[p]
            out[f"{p}_lower"] = ci[(p, "lower")]
            out[f"{p}_upper"] = ci[(p, "upper")]
        out["n"] = self.n
        out["loglik"] = self.loglik
        out["converged"] = self.converged
        out["boundary"] = self.boundary
        return out

    def summary(self, level: float = 0.95):
        """A compact overview (print it): the fit, the spread of the estimates over the groups, and the
        groups that need attention."""
        from .summary import GroupSummary

        return GroupSummary(self, level)

    def plot(self, param: str | None = None, ax=None, level: float = 0.95):
        """Each group's estimate with its interval against the group's size (one panel per parameter)."""
        from .plots import estimates_against_size

        return estimates_against_size(self, param=param, ax=ax, level=level)

    def __repr__(self) -> str:
        return (f"<GroupedFit {self.estimator} {self.family_name}: {len(self)} groups, method={self.method}, "
                f"{int(self.converged.sum())} converged>")


def quietly(fn, *args, **kwargs):
    """Run ``fn`` with mlemap's warnings recorded instead of shown; return its value and the messages."""
    from ..errors import MlemapWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MlemapWarning)
        value = fn(*args, **kwargs)
    return value, [str(w.message) for w in caught if issubclass(w.category, MlemapWarning)]


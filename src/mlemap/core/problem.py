"""The one problem type: a model of the rows, where the rows come from, and the prior.

Every fit mlemap runs, a distribution or a regression, by closed form or numerically, in memory or
chunk by chunk, is a :class:`Problem`:

.. math:: \\hat x = \\arg\\min_x \\; \\sum_{c \\in \\text{chunks}} f_c(x) + f_\\pi(x)

with ``f_c`` a chunk's contribution from the *model* (:mod:`mlemap.core.distribution` for a family
of i.i.d. observations, :mod:`mlemap.core.regression` for a conditional family of ``y | x``), the
chunks yielded by the *source* (:mod:`mlemap.core.source`) and ``f_pi`` minus the log-prior. What
the optimiser needs of a problem is this contract:

* :meth:`Problem.objective`: value, gradient and exact Hessian of the full objective at ``x``;
* a starting point: ``initial()`` where the problem can start itself (regressions: the
  intercept-only fit); distribution problems take theirs from the family, per set of free
  parameters, and pass it to the optimiser;
* :meth:`Problem.subsample`: the same problem on a random subset of the rows, weights scaled up to
  keep the likelihood's weight against the prior (a cheap warm start on large data);
* ``n_obs``, ``total_weight``, ``dtype`` and ``device``.

Each kind adds what its front end needs (parameter names and constraints for distributions, the
design's labels and the packing of coefficients for regressions).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


class Problem(ABC):
    """Base class of the estimation problems (see the module docstring)."""

    #: the rows: a :class:`~mlemap.core.source.DataSource`
    source = None

    @property
    def n_obs(self) -> int:
        return int(self.source.n_rows)

    @property
    @abstractmethod
    def total_weight(self) -> float:
        """The sum of the weights (the number of rows without weights)."""

    @property
    @abstractmethod
    def dtype(self) -> torch.dtype:
        """The floating-point type of the objective."""

    @property
    @abstractmethod
    def device(self) -> torch.device:
        """Where the objective is evaluated."""

    @abstractmethod
    def objective(self):
        """The :class:`~mlemap.core.objective.Objective` over the free coordinates."""

    @abstractmethod
    def subsample(self, size: int, seed: int = 0) -> "Problem":
        """The same problem on an order-free subsample of ``size`` rows (a warm start)."""

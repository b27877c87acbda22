"""The objective every numerical fit minimises, as a reduction over the chunks of a data source.

.. math:: f(x) = \\sum_{c} f_c(x) + f_\\pi(x), \\qquad f_c(x) = -\\sum_{i \\in c} w_i \\log p(y_i \\mid \\theta(x)),
          \\quad f_\\pi(x) = -\\sum_j \\log \\pi_j(\\theta_j(x))

A *model* turns one chunk and the optimisation vector ``x`` into a
:class:`~mlemap.core.contribution.Contribution` (value, gradient, Hessian); the *source* reduces
the model over its chunks wherever they live; the *prior* adds its piece once. The same class
serves distributions (``x`` unconstrained, mapped to the natural parameters by a layout) and
regressions (``x`` the coefficients, Hessians formed in the linear predictor). A model with
sufficient statistics is reduced over the source once, and each evaluation then costs O(1).

No Jacobian term is added for the map from ``x`` to the natural parameters, so the minimiser is the
posterior mode in the space the prior is stated in, whatever the optimisation coordinates.
"""

from __future__ import annotations

from typing import Protocol

import torch

from .contribution import Contribution
from .source import Chunk, DataSource


class Model(Protocol):
    """What the objective needs of a model of the rows."""

    size: int

    def contribution(self, chunk: Chunk, x: torch.Tensor, order: int) -> Contribution: ...


class Penalty(Protocol):
    """A term of the objective that does not depend on the data (minus the log-prior)."""

    def contribution(self, x: torch.Tensor, order: int) -> Contribution: ...


class Objective:
    """``f(x)`` with exact derivatives, summed over a source's chunks (or evaluated from statistics).

    Exactly one of ``source`` and ``stats`` is given. With ``stats`` the model must provide
    ``contribution_from_statistics(stats, x, order)``.
    """

    def __init__(self, model, source: DataSource | None = None, *, stats=None, penalty: Penalty | None = None):
        if (source is None) == (stats is None):
            raise ValueError("give exactly one of source and stats")
        self.model = model
        self.source = source
        self.stats = stats
        self.penalty = penalty
        #: ``(x, the data's contribution)`` of the last evaluation with the Hessian (what a fit's
        #: summary at its optimum can read instead of passing over the rows again)
        self.last_exact = None

    @property
    def size(self) -> int:
        return self.model.size

    def evaluate(self, x: torch.Tensor, order: int) -> Contribution:
        """The contribution of the data (every chunk) and of the penalty at ``x``."""
        if self.stats is not None:
            total = self.model.contribution_from_statistics(self.stats, x, order)
        else:
            total = self.source.map_reduce(lambda chunk: self.model.contribution(chunk, x, order))
        if order >= 2:
            self.last_exact = (x.detach().clone(), total)
        if self.penalty is not None:
            total = total + self.penalty.contribution(x, order)
        return total

    # ------------------------------------------------------------------ the optimisers' view
    def value(self, x: torch.Tensor) -> torch.Tensor:
        return _finite_or_inf(self.evaluate(x, 0).value)

    def value_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.evaluate(x, 1)
        return _finite_or_inf(c.value), c.grad

    def value_grad_hess(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = self.evaluate(x, 2)
        return _finite_or_inf(c.value), c.grad, c.hess


class PassObjective(Objective):
    """An objective over a source whose every evaluation reads the rows once and returns value,
    gradient and Hessian together (kept for the point last evaluated): the optimiser's trial value
    and the derivatives it asks for at the accepted point then cost one pass, not two."""

    def __init__(self, model, source, *, penalty=None):
        super().__init__(model, source, penalty=penalty)
        self._last = None

    def evaluate(self, x: torch.Tensor, order: int):
        last = self._last
        if last is not None and last[0].shape == x.shape and bool(torch.equal(last[0], x.detach().to(last[0].device))):
            return last[1]
        total = super().evaluate(x, 2)
        self._last = (x.detach().clone(), total)
        return total


def _finite_or_inf(value: torch.Tensor) -> torch.Tensor:
    """NaN and +inf both mean "outside the domain" to the optimisers."""
    return torch.nan_to_num(value, nan=torch.inf, posinf=torch.inf)

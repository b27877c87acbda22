"""Numerical solvers as flat functions over an unconstrained vector: Newton and L-BFGS."""

from .lbfgs import lbfgs
from .newton import newton, newton_direction
from .powell import powell
from .result import OptimizeResult

__all__ = ["newton", "newton_direction", "lbfgs", "powell", "OptimizeResult"]

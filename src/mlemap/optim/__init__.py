"""Numerical solvers as flat functions over an unconstrained vector: trust-region Newton, L-BFGS, Powell."""

from .convergence import ConvergenceReport
from .lbfgs import lbfgs
from .powell import powell
from .result import OptimizeResult
from .trust_region import trust_region_newton

__all__ = ["trust_region_newton", "lbfgs", "powell", "OptimizeResult", "ConvergenceReport"]

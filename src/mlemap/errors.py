"""Typed errors and warnings raised by mlemap.

Every error says what was wrong, with which value, and how to fix it. All errors derive from
:class:`MlemapError`; the ones about bad input also derive from :class:`ValueError` (or
:class:`TypeError`) so that generic handlers keep working.
"""

from __future__ import annotations

import os
import sys
import warnings


class MlemapError(Exception):
    """Base class of every error raised by mlemap."""


class DataError(MlemapError, ValueError):
    """The data cannot be used as given (empty, non-finite, wrong shape, wrong type)."""


class FormulaError(DataError):
    """A regression formula that does not parse, is refused by mlemap's formula grammar, or names a
    column the data do not have."""


class DataTypeError(DataError, TypeError):
    """The data hold values that are not numbers (a dict, a string) where numbers are required."""


class DataFileError(DataError):
    """A data file that cannot be used: missing, unreadable or corrupt, or with a column that is
    absent or of the wrong type. ``path`` names the file and ``row_group`` the Parquet row group
    (``None`` where it does not apply)."""

    def __init__(self, message: str, *, path: str | None = None, row_group: int | None = None):
        super().__init__(message)
        self.path = path
        self.row_group = row_group


class SupportError(DataError):
    """Observations lie outside the support of the chosen family."""


class ShapeError(DataError):
    """An array has a shape the family or model cannot use."""


class WeightsError(DataError):
    """The ``weights`` argument is invalid."""


class FamilyError(MlemapError, ValueError):
    """Unknown family name or an invalid family specification."""


class LogDensityError(FamilyError):
    """A user's log-density function raised, or returned something other than one finite log-density
    per observation that depends on the parameters."""


class ParameterError(MlemapError, ValueError):
    """An unknown parameter name, an invalid fixed or initial value, or nothing left to estimate."""


class ArgumentError(ParameterError, TypeError):
    """A call with an argument the function or constructor does not take (a :class:`TypeError` too,
    as Python's own error for an unexpected keyword)."""


class PriorError(MlemapError, ValueError):
    """A prior that cannot be used for the parameter it is attached to."""


class MethodError(MlemapError, ValueError):
    """The requested estimation method or interval method does not apply to this fit."""


class LevelError(ParameterError, MethodError):
    """An interval level outside (0, 1): a bad parameter of an interval method (caught as either)."""


class EstimationError(MlemapError, RuntimeError):
    """The estimate could not be computed (for example a non-finite objective at every trial point)."""


class MlemapWarning(UserWarning):
    """Base class of every warning issued by mlemap."""


class ConvergenceWarning(MlemapWarning):
    """The optimiser stopped before meeting its convergence criterion."""


class BoundaryWarning(MlemapWarning):
    """An estimate lies on the boundary of the parameter space (or the maximum does not exist)."""


class SeparationWarning(MlemapWarning):
    """Classes are (quasi-)perfectly separated: the maximum-likelihood estimate does not exist."""


class IdentifiabilityWarning(MlemapWarning):
    """The information matrix is singular: some parameters are not identified by the data."""


def warn(message: str, category: type[Warning]) -> None:
    """Issue a warning attributed to the first caller outside the mlemap package."""
    package_dir = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package_dir):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


__all__ = [
    "MlemapError",
    "DataError",
    "DataTypeError",
    "DataFileError",
    "FormulaError",
    "SupportError",
    "ShapeError",
    "WeightsError",
    "FamilyError",
    "ParameterError",
    "ArgumentError",
    "PriorError",
    "MethodError",
    "EstimationError",
    "MlemapWarning",
    "ConvergenceWarning",
    "BoundaryWarning",
    "SeparationWarning",
    "IdentifiabilityWarning",
]

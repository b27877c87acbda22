"""mlemap: maximum-likelihood and maximum-a-posteriori estimation.

One recipe for every model: pick the distribution, take its negative log-likelihood, optionally
subtract the log-prior, minimise. Closed forms where they exist, an exact Newton engine everywhere
else, and the uncertainty attached to every estimate.

>>> import mlemap as mm
>>> r = mm.fit("bernoulli", [1, 1, 0, 1, 0, 0, 1, 1, 0, 1])
>>> r.params["probs"]
0.6
"""

from importlib import import_module
from typing import TYPE_CHECKING

from . import errors
from .errors import (
    ArgumentError,
    BoundaryWarning,
    ConvergenceWarning,
    DataError,
    EstimationError,
    FamilyError,
    IdentifiabilityWarning,
    LogDensityError,
    MethodError,
    MlemapError,
    MlemapWarning,
    ParameterError,
    PriorError,
    SeparationWarning,
    ShapeError,
    SupportError,
    WeightsError,
)

# The rest is imported on first use (PEP 562), so that ``import mlemap`` and the command line's
# --help stay fast; torch, scipy and scikit-learn load when a name that needs them is touched.
_LAZY = {
    "fit": ("fitting", "fit"),
    "FitResult": ("results", "FitResult"),
    "compare": ("comparison", "compare"),
    "censored": ("censoring", "censored"),
    "CensoredData": ("censoring", "CensoredData"),
    "Comparison": ("comparison", "Comparison"),
    "lrt": ("inference.lrt", "lrt"),
    "LRTResult": ("inference.lrt", "LRTResult"),
    "regress": ("formula", "regress"),
    "scan": ("core.sources_files", "scan"),
    "FormulaError": ("formula", "FormulaError"),
    "LinearRegression": ("models", "LinearRegression"),
    "LogisticRegression": ("models", "LogisticRegression"),
    "SoftmaxRegression": ("models", "SoftmaxRegression"),
    "PoissonRegression": ("models", "PoissonRegression"),
    "LaplaceRegression": ("models", "LaplaceRegression"),
    "SurvivalRegression": ("survival", "SurvivalRegression"),
    "regularization_path": ("paths", "regularization_path"),
    "RegularizationPath": ("paths", "RegularizationPath"),
    "DiscretePrior": ("priors", "DiscretePrior"),
    "GroupedFit": ("groups", "GroupedFit"),
    "EmpiricalBayesFit": ("groups", "EmpiricalBayesFit"),
    "Family": ("families", "Family"),
    "family_names": ("families", "family_names"),
    "families": ("families", None),
    "priors": ("priors", None),
    "datasets": ("datasets", None),
}


def __getattr__(name: str):
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'mlemap' has no attribute {name!r}") from None
    value = import_module(f".{module}", __name__)
    if attribute is not None:
        value = getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # what static tools and editors see
    from . import datasets, families, priors
    from .censoring import CensoredData, censored
    from .comparison import Comparison, compare
    from .core.sources_files import scan
    from .families import Family, family_names
    from .fitting import fit
    from .formula import FormulaError, regress
    from .inference.lrt import LRTResult, lrt
    from .models import (
        LaplaceRegression,
        LinearRegression,
        LogisticRegression,
        PoissonRegression,
        SoftmaxRegression,
    )
    from .paths import RegularizationPath, regularization_path
    from .priors import DiscretePrior
    from .groups import EmpiricalBayesFit, GroupedFit
    from .results import FitResult
    from .survival import SurvivalRegression

__version__ = "0.1.0"

__all__ = [
    "fit",
    "FitResult",
    "compare",
    "Comparison",
    "censored",
    "CensoredData",
    "lrt",
    "LRTResult",
    "LinearRegression",
    "LogisticRegression",
    "SoftmaxRegression",
    "PoissonRegression",
    "LaplaceRegression",
    "SurvivalRegression",
    "regress",
    "scan",
    "FormulaError",
    "regularization_path",
    "RegularizationPath",
    "DiscretePrior",
    "GroupedFit",
    "EmpiricalBayesFit",
    "Family",
    "family_names",
    "families",
    "priors",
    "datasets",
    "errors",
    "MlemapError",
    "DataError",
    "SupportError",
    "ShapeError",
    "WeightsError",
    "FamilyError",
    "LogDensityError",
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
    "__version__",
]

"""mlemap: maximum-likelihood and maximum-a-posteriori estimation.

One recipe for every model: pick the distribution, take its negative log-likelihood, optionally
subtract the log-prior, minimise. Closed forms where they exist, an exact Newton engine everywhere
else, and the uncertainty attached to every estimate.

>>> import mlemap as mm
>>> r = mm.fit("bernoulli", [1, 1, 0, 1, 0, 0, 1, 1, 0, 1])
>>> r.params["probs"]
0.6
"""

from . import datasets, errors, families, priors
from .errors import (
    BoundaryWarning,
    ConvergenceWarning,
    DataError,
    EstimationError,
    FamilyError,
    IdentifiabilityWarning,
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
from .families import Family, family_names
from .compare import Comparison, compare
from .fit import fit
from .formula import FormulaError, regress
from .inference.lrt import LRTResult, lrt
from .models import LaplaceRegression, LinearRegression, LogisticRegression, PoissonRegression, SoftmaxRegression
from .paths import RegularizationPath, regularization_path
from .priors import DiscretePrior
from .results import FitResult

__version__ = "0.1.0"

__all__ = [
    "fit",
    "FitResult",
    "compare",
    "Comparison",
    "lrt",
    "LRTResult",
    "LinearRegression",
    "LogisticRegression",
    "SoftmaxRegression",
    "PoissonRegression",
    "LaplaceRegression",
    "regress",
    "FormulaError",
    "regularization_path",
    "RegularizationPath",
    "DiscretePrior",
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
    "ParameterError",
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

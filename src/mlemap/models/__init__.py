"""scikit-learn style regression estimators: thin shells over the solvers in :mod:`mlemap.glm`."""

from .laplace import LaplaceRegression
from .linear import LinearRegression
from .logistic import LogisticRegression
from .poisson import PoissonRegression
from .softmax import SoftmaxRegression

__all__ = ["LaplaceRegression", "LinearRegression", "LogisticRegression", "PoissonRegression", "SoftmaxRegression"]

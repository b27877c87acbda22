"""Regularisation paths: MAP estimates over a grid of penalty strengths, with selection by CV or BIC."""

from .path import regularization_path
from .result import RegularizationPath
from .select import Selection

__all__ = ["regularization_path", "RegularizationPath", "Selection"]

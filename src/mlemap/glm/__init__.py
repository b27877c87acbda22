"""Regression as conditional likelihood: families of y given the linear predictor, and their solvers."""

from .family import (
    GLM_FAMILIES,
    BernoulliGLM,
    CategoricalGLM,
    GaussianGLM,
    GLMFamily,
    LaplaceGLM,
    PoissonGLM,
    resolve_glm_family,
)

__all__ = [
    "GLMFamily",
    "GaussianGLM",
    "BernoulliGLM",
    "PoissonGLM",
    "CategoricalGLM",
    "LaplaceGLM",
    "GLM_FAMILIES",
    "resolve_glm_family",
]

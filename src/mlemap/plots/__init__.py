"""Pictures that explain fits (matplotlib, imported only when a function is called).

Every plotting function takes ``ax=`` (drawing into existing axes, or new ones) and returns the axes.
"""

from ..paths.plot import plot_path as coefficient_paths
from ._mpl import PALETTE, subplots, tidy
from .coefficients import coefficients
from .fit import comparison_figure, density, fit_figure, pp, qq
from .learning import decision_regions, errors_vs_steps, estimates_vs_n, trajectories
from .surfaces import loglik_contour, loglik_curve, loglik_grid, prior_likelihood_posterior, surface_trio
from .survival import survival, survival_comparison, survival_figure

__all__ = [
    "subplots",
    "tidy",
    "PALETTE",
    "density",
    "qq",
    "pp",
    "fit_figure",
    "comparison_figure",
    "loglik_curve",
    "loglik_contour",
    "loglik_grid",
    "prior_likelihood_posterior",
    "surface_trio",
    "trajectories",
    "errors_vs_steps",
    "estimates_vs_n",
    "decision_regions",
    "coefficients",
    "coefficient_paths",
    "survival",
    "survival_figure",
    "survival_comparison",
]

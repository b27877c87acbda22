"""Pictures that explain fits (matplotlib, imported only when a function is called).

Every plotting function takes ``ax=`` (drawing into existing axes, or new ones) and returns the axes.
"""

from .fit import comparison_figure, density, fit_figure, pp, qq

__all__ = ["density", "qq", "pp", "fit_figure", "comparison_figure"]

"""Many groups at once: one family fitted in every group (vectorised), and empirical Bayes.

``mm.fit(family, data, groups=labels)`` returns a :class:`GroupedFit`; with ``prior="estimate"`` an
:class:`EmpiricalBayesFit`, whose prior is learned from all groups by maximising the exact marginal
likelihood.
"""

from .eb_result import EmpiricalBayesFit
from .fit import fit_groups
from .result import GroupedFit

__all__ = ["fit_groups", "GroupedFit", "EmpiricalBayesFit"]

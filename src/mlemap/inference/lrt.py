"""Likelihood-ratio test of nested maximum-likelihood fits.

:math:`\\Lambda = 2\\,(\\ell_{\\text{full}} - \\ell_{\\text{restricted}})` is referred to
:math:`\\chi^2_{k_\\text{full} - k_\\text{restricted}}` (Wilks). When the restriction puts a parameter on
the boundary of its space (testing a variance component or a mixing weight of zero) the null
distribution is a mixture of chi-squares and this p-value is conservative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from ..errors import MethodError


@dataclass(frozen=True)
class LRTResult:
    statistic: float
    df: int
    pvalue: float

    def __str__(self) -> str:
        return f"likelihood-ratio test: statistic = {self.statistic:.6g}, df = {self.df}, p-value = {self.pvalue:.4g}"


def lrt(restricted, full) -> LRTResult:
    """Test ``restricted`` (the null model) against ``full``; both MLE fits to the same data."""
    from ..results import FitResult

    for label, r in (("restricted", restricted), ("full", full)):
        if not isinstance(r, FitResult):
            raise MethodError(f"The '{label}' argument of lrt() must be a FitResult from mm.fit(). Got {type(r).__name__}.")
        if r.estimator != "MLE":
            raise MethodError(
                f"The '{label}' fit is a MAP fit; the likelihood-ratio test compares maximum-likelihood fits. "
                "Refit without a prior."
            )
    if restricted.n_obs != full.n_obs or not math.isclose(restricted.n, full.n, rel_tol=1e-12):
        raise MethodError(
            f"The two fits use different data ({restricted.n_obs} and {full.n_obs} observations); a likelihood-ratio "
            "test needs both models fitted to the same observations."
        )
    df = full.k - restricted.k
    if df <= 0:
        raise MethodError(
            f"The 'full' model must have more free parameters than the 'restricted' one (got {full.k} and "
            f"{restricted.k}). Pass the smaller (nested) model first: lrt(restricted, full)."
        )
    statistic = 2.0 * (full.loglik - restricted.loglik)
    tolerance = 1e-8 * max(1.0, abs(full.loglik))
    if statistic < -tolerance:
        raise MethodError(
            f"The restricted fit has a higher log-likelihood ({restricted.loglik:.10g}) than the full fit "
            f"({full.loglik:.10g}): the models are not nested, or the full fit did not converge."
        )
    statistic = max(statistic, 0.0)
    return LRTResult(statistic, df, float(stats.chi2.sf(statistic, df)))

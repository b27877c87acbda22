"""The lessons, in order."""

from . import (
    l01_coin,
    l02_gaussian,
    l07_posterior_2d,
    l08_beta_priors,
    l09_convergence,
    l10_discrete_prior,
    l11_nonconjugate,
    l12_optimisers,
    l15_boundary,
    l16_normal_prior,
    l18_intervals,
)

LESSONS = sorted(
    (m.LESSON for m in (l01_coin, l02_gaussian, l07_posterior_2d, l08_beta_priors, l09_convergence, l10_discrete_prior,
                        l11_nonconjugate, l12_optimisers, l15_boundary, l16_normal_prior, l18_intervals)),
    key=lambda lesson: lesson.number,
)

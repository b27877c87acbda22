"""The lessons, in order."""

from . import (
    l01_coin,
    l02_gaussian,
    l03_linear,
    l04_logistic,
    l05_multiclass,
    l06_ridge_lasso,
    l07_posterior_2d,
    l08_beta_priors,
    l09_convergence,
    l10_discrete_prior,
    l11_nonconjugate,
    l12_optimisers,
    l13_mean_median,
    l14_heteroscedastic,
    l15_boundary,
    l16_normal_prior,
    l17_weight_decay,
    l18_intervals,
    l19_course_units,
    l20_separation,
    l21_heldout,
    l22_information,
    l23_minibatches,
    l24_deep_learning_priors,
    l25_mc_dropout,
    l26_choosing_lambda,
)

_MODULES = (
    l01_coin, l02_gaussian, l03_linear, l04_logistic, l05_multiclass, l06_ridge_lasso, l07_posterior_2d,
    l08_beta_priors, l09_convergence, l10_discrete_prior, l11_nonconjugate, l12_optimisers, l13_mean_median,
    l14_heteroscedastic, l15_boundary, l16_normal_prior, l17_weight_decay, l18_intervals, l19_course_units,
    l20_separation, l21_heldout, l22_information, l23_minibatches, l24_deep_learning_priors, l25_mc_dropout,
    l26_choosing_lambda,
)

LESSONS = sorted((m.LESSON for m in _MODULES), key=lambda lesson: lesson.number)

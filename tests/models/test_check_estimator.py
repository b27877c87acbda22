"""scikit-learn's conformance suite (``check_estimator``) on every regression estimator.

Notes on the configuration:

* ``PoissonRegression(quasi=True)``: the suite feeds continuous positive targets (it shifts them to be
  positive, the Poisson tag), which the default model rejects as non-integer counts by design; the
  quasi-likelihood variant accepts them and runs the same code otherwise.
* mlemap's diagnostic warnings (separation, collinearity) are ignored here: the suite's synthetic data
  are often separable or have more columns than rows, and the diagnostics are tested elsewhere.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import mlemap.models as mm
from mlemap import priors

ESTIMATORS = [
    mm.LinearRegression(),
    mm.LinearRegression(cov_type="sandwich"),
    mm.LogisticRegression(),
    mm.SoftmaxRegression(),
    mm.PoissonRegression(quasi=True),
    mm.LaplaceRegression(),
    mm.LinearRegression(prior=priors.ridge(1.0)),
    mm.LogisticRegression(prior=priors.ridge(1.0)),
    mm.SoftmaxRegression(prior=priors.ridge(1.0)),
    mm.PoissonRegression(prior=priors.ridge(0.1), quasi=True),
]


@pytest.mark.filterwarnings("ignore::mlemap.errors.MlemapWarning")
@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_conformance(estimator, check):
    check(estimator)

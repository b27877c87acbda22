"""Logistic and Poisson maximum likelihood: mlemap vs scikit-learn vs statsmodels on the same data.

Cases (n = 1,000,000 by default, standard-normal features, coefficients drawn once):

* logistic, d = 50: ``mm.LogisticRegression()`` (the fit with its standard errors, which it always
  computes) vs ``sklearn.linear_model.LogisticRegression(penalty=None)`` (lbfgs) vs
  ``statsmodels.api.Logit(...).fit()``;
* Poisson, d = 20: ``mm.PoissonRegression()`` vs ``sklearn.linear_model.PoissonRegressor(alpha=0)``
  vs ``statsmodels.api.GLM(..., family=Poisson()).fit()``.

Each library fits the same arrays in the same process; the script prints the median time over
interleaved repetitions (statsmodels gets fewer), the ratios other / mlemap (above 1: mlemap is
faster) and every library's log-likelihood evaluated by one NumPy function at its own estimate,
with the relative difference to mlemap's.

Targets (2-core CPU): mlemap no slower than scikit-learn and at least 10x faster than statsmodels,
with the same log-likelihood to 1e-8 relative.

Run:  python benchmarks/bench_glm.py [--n 1000000] [--repeat 5] [--sm-repeat 1] [--cases logistic,poisson]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy.special import gammaln

import mlemap.models as mm_models
from timing import interleaved_medians


def bernoulli_loglik(X, y, coef, intercept) -> float:
    eta = X @ coef + intercept
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def poisson_loglik(X, y, coef, intercept) -> float:
    eta = X @ coef + intercept
    return float(np.sum(y * eta - np.exp(eta) - gammaln(y + 1)))


def logistic_case(n: int, rng: np.random.Generator):
    import statsmodels.api as sm
    from sklearn.linear_model import LogisticRegression

    d = 50
    X = rng.standard_normal((n, d))
    beta = rng.normal(0.0, 0.3, d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ beta + 0.5)))).astype(np.float64)
    Xc = sm.add_constant(X)

    def fit_mm():
        m = mm_models.LogisticRegression().fit(X, y)
        return m.coef_, m.intercept_, m.se_

    def fit_sk():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # 'penalty' is deprecated in favour of C=inf
            m = LogisticRegression(penalty=None).fit(X, y)
        return m.coef_[0], float(m.intercept_[0])

    def fit_sm():
        r = sm.Logit(y, Xc).fit(disp=0)
        return r.params[1:], float(r.params[0])

    return "logistic", d, X, y, fit_mm, fit_sk, fit_sm, bernoulli_loglik


def poisson_case(n: int, rng: np.random.Generator):
    import statsmodels.api as sm
    from sklearn.linear_model import PoissonRegressor

    d = 20
    X = rng.standard_normal((n, d))
    beta = rng.normal(0.0, 0.15, d)
    y = rng.poisson(np.exp(X @ beta + 0.3)).astype(np.float64)
    Xc = sm.add_constant(X)

    def fit_mm():
        m = mm_models.PoissonRegression().fit(X, y)
        return m.coef_, m.intercept_, m.se_

    def fit_sk():
        m = PoissonRegressor(alpha=0).fit(X, y)
        return m.coef_, float(m.intercept_)

    def fit_sm():
        r = sm.GLM(y, Xc, family=sm.families.Poisson()).fit()
        return r.params[1:], float(r.params[0])

    return "poisson", d, X, y, fit_mm, fit_sk, fit_sm, poisson_loglik


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of the mlemap and scikit-learn fits")
    parser.add_argument("--sm-repeat", type=int, default=1, help="repetitions of the statsmodels fits")
    parser.add_argument("--cases", default="logistic,poisson")
    args = parser.parse_args()
    rng = np.random.default_rng(20240611)
    wanted = {c.strip() for c in args.cases.split(",") if c.strip()}
    print(
        f"n = {args.n:,}; medians of {args.repeat} interleaved runs ({args.sm_repeat} for statsmodels); "
        "ratio = other time / mlemap time (> 1: mlemap faster); mlemap times include its standard errors"
    )
    header = (
        f"{'case':<9} {'d':>3} {'mlemap s':>9} {'sklearn s':>10} {'ratio':>6} {'statsm. s':>10} {'ratio':>6} "
        f"{'loglik mlemap':>18} {'rel. diff sklearn':>18} {'rel. diff statsm.':>18}"
    )
    print(header)
    print("-" * len(header))
    for make in (logistic_case, poisson_case):
        name, d, X, y, fit_mm, fit_sk, fit_sm, loglik = make(args.n, rng)
        if wanted and name not in wanted:
            continue
        fit_mm()  # warm-up (imports, first-call overheads) for every library
        est = {"mm": fit_mm(), "sk": fit_sk(), "sm": fit_sm()}
        t_mm, t_sk, t_sm = interleaved_medians([fit_mm, fit_sk, fit_sm], [args.repeat, args.repeat, args.sm_repeat])
        ll = {k: loglik(X, y, v[0], v[1]) for k, v in est.items()}
        rel = {k: (ll[k] - ll["mm"]) / abs(ll["mm"]) for k in ("sk", "sm")}
        print(
            f"{name:<9} {d:>3} {t_mm:9.3f} {t_sk:10.3f} {t_sk / t_mm:6.2f} {t_sm:10.3f} {t_sm / t_mm:6.1f} "
            f"{ll['mm']:18.6f} {rel['sk']:18.2e} {rel['sm']:18.2e}"
        )
    print("rel. diff = (loglik(other) - loglik(mlemap)) / |loglik(mlemap)|: negative means mlemap's fit is better")


if __name__ == "__main__":
    main()

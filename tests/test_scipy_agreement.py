"""Agreement with scipy.stats: mlemap's estimate is never worse than scipy's own fit.

For each family scipy can fit (``rv.fit`` with the matching fixed location/scale for continuous
families, ``scipy.stats.fit`` or a bounded scipy optimiser for discrete ones), the log-likelihood
computed by scipy's ``logpdf``/``logpmf`` at mlemap's estimate must be at least the one at scipy's
estimate (relative tolerance 1e-9), and mlemap's reported ``loglik`` must equal scipy's value at
mlemap's estimate.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import optimize, stats

import mlemap as mm

SEEDS = [0, 1, 2]


def _de(fun, bounds, *, integrality):
    return optimize.differential_evolution(fun, bounds, integrality=integrality, seed=0, tol=1e-10, polish=True)


def _wrapped(x, loc):
    return np.remainder(x - loc + np.pi, 2 * np.pi) - np.pi


def _nbinom_scipy(x):
    m, v = x.mean(), x.var()
    n0 = m * m / (v - m) if v > m else 10.0
    nll = lambda t: -stats.nbinom.logpmf(x, t[0], t[1]).sum()  # noqa: E731
    res = optimize.minimize(nll, [n0, n0 / (n0 + m)], method="L-BFGS-B", bounds=[(1e-6, 1e6), (1e-9, 1 - 1e-9)])
    res = optimize.minimize(nll, res.x, method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-13, "maxiter": 5000})
    return tuple(res.x)


# family -> (sampler, fixed for mlemap, scipy fit, scipy log-likelihood at scipy params, mlemap params -> scipy params)
CASES = {
    "normal": (
        lambda rng: rng.normal(1.0, 2.0, size=200),
        None,
        lambda x: stats.norm.fit(x),
        lambda x, p: stats.norm.logpdf(x, *p).sum(),
        lambda r: (r["loc"], r["scale"]),
    ),
    "lognormal": (
        lambda rng: rng.lognormal(0.5, 0.7, size=200),
        None,
        lambda x: stats.lognorm.fit(x, floc=0),
        lambda x, p: stats.lognorm.logpdf(x, *p).sum(),
        lambda r: (r["scale"], 0.0, math.exp(r["loc"])),
    ),
    "laplace": (
        lambda rng: rng.laplace(1.0, 2.0, size=201),
        None,
        lambda x: stats.laplace.fit(x),
        lambda x, p: stats.laplace.logpdf(x, *p).sum(),
        lambda r: (r["loc"], r["scale"]),
    ),
    "studentt": (
        lambda rng: 1.0 + 2.0 * rng.standard_t(3.0, size=300),
        None,
        lambda x: stats.t.fit(x),
        lambda x, p: stats.t.logpdf(x, *p).sum(),
        lambda r: (r["df"], r["loc"], r["scale"]),
    ),
    "cauchy": (
        lambda rng: 1.0 + rng.standard_cauchy(size=200),
        None,
        lambda x: stats.cauchy.fit(x),
        lambda x, p: stats.cauchy.logpdf(x, *p).sum(),
        lambda r: (r["loc"], r["scale"]),
    ),
    "exponential": (
        lambda rng: rng.exponential(2.0, size=200),
        None,
        lambda x: stats.expon.fit(x, floc=0),
        lambda x, p: stats.expon.logpdf(x, *p).sum(),
        lambda r: (0.0, 1 / r["rate"]),
    ),
    "gamma": (
        lambda rng: rng.gamma(2.5, 1.5, size=200),
        None,
        lambda x: stats.gamma.fit(x, floc=0),
        lambda x, p: stats.gamma.logpdf(x, *p).sum(),
        lambda r: (r["concentration"], 0.0, 1 / r["rate"]),
    ),
    "weibull": (
        lambda rng: 3.0 * rng.weibull(1.7, size=200),
        None,
        lambda x: stats.weibull_min.fit(x, floc=0),
        lambda x, p: stats.weibull_min.logpdf(x, *p).sum(),
        lambda r: (r["concentration"], 0.0, r["scale"]),
    ),
    "beta": (
        lambda rng: rng.beta(2.0, 5.0, size=200),
        None,
        lambda x: stats.beta.fit(x, floc=0, fscale=1),
        lambda x, p: stats.beta.logpdf(x, *p).sum(),
        lambda r: (r["concentration1"], r["concentration0"], 0.0, 1.0),
    ),
    "uniform": (
        lambda rng: rng.uniform(-1.0, 3.0, size=200),
        None,
        lambda x: stats.uniform.fit(x),
        lambda x, p: stats.uniform.logpdf(x, *p).sum(),
        lambda r: (r["low"], r["high"] - r["low"]),
    ),
    "pareto": (
        lambda rng: 2.0 * (rng.pareto(3.0, size=200) + 1),
        None,
        lambda x: stats.pareto.fit(x, floc=0),
        lambda x, p: stats.pareto.logpdf(x, *p).sum(),
        lambda r: (r["alpha"], 0.0, r["scale"]),
    ),
    "half_normal": (
        lambda rng: np.abs(rng.normal(0.0, 2.0, size=200)),
        None,
        lambda x: stats.halfnorm.fit(x, floc=0),
        lambda x, p: stats.halfnorm.logpdf(x, *p).sum(),
        lambda r: (0.0, r["scale"]),
    ),
    "gumbel": (
        lambda rng: rng.gumbel(1.0, 2.0, size=200),
        None,
        lambda x: stats.gumbel_r.fit(x),
        lambda x, p: stats.gumbel_r.logpdf(x, *p).sum(),
        lambda r: (r["loc"], r["scale"]),
    ),
    "von_mises": (
        lambda rng: rng.vonmises(2.5, 3.0, size=200),
        None,
        lambda x: stats.vonmises.fit(x, fscale=1),
        lambda x, p: stats.vonmises.logpdf(_wrapped(x, p[1]), p[0]).sum(),
        lambda r: (r["concentration"], r["loc"]),
    ),
    "multivariate_normal": (
        lambda rng: rng.multivariate_normal([0.0, 1.0, -1.0], [[2, 0.5, 0.3], [0.5, 1, -0.2], [0.3, -0.2, 1.5]], size=200),
        None,
        lambda x: stats.multivariate_normal.fit(x),
        lambda x, p: stats.multivariate_normal.logpdf(x, p[0], p[1]).sum(),
        lambda r: (r["loc"], r["covariance_matrix"]),
    ),
    "bernoulli": (
        lambda rng: (rng.random(200) < 0.3).astype(float),
        None,
        lambda x: tuple(stats.fit(stats.bernoulli, x, bounds={"p": (0, 1)}, optimizer=_de).params)[:1],
        lambda x, p: stats.bernoulli.logpmf(x, p[0]).sum(),
        lambda r: (r["probs"],),
    ),
    "binomial": (
        lambda rng: rng.binomial(10, 0.35, size=200).astype(float),
        {"total_count": 10},
        lambda x: tuple(stats.fit(stats.binom, x, bounds={"n": (10, 10), "p": (0, 1)}, optimizer=_de).params)[:2],
        lambda x, p: stats.binom.logpmf(x, p[0], p[1]).sum(),
        lambda r: (10, r["probs"]),
    ),
    "geometric": (
        lambda rng: (rng.geometric(0.3, size=200) - 1).astype(float),
        None,
        lambda x: tuple(stats.fit(stats.geom, x + 1, bounds={"p": (0, 1)}, optimizer=_de).params)[:1],
        lambda x, p: stats.geom.logpmf(x + 1, p[0]).sum(),
        lambda r: (r["probs"],),
    ),
    "poisson": (
        lambda rng: rng.poisson(3.5, size=200).astype(float),
        None,
        lambda x: tuple(stats.fit(stats.poisson, x, bounds={"mu": (0, 50)}, optimizer=_de).params)[:1],
        lambda x, p: stats.poisson.logpmf(x, p[0]).sum(),
        lambda r: (r["rate"],),
    ),
    "negative_binomial": (
        # scipy's p is the success probability of a trial: 1 - torch's probs
        lambda rng: rng.negative_binomial(2.7, 0.35, size=300).astype(float),
        None,
        _nbinom_scipy,
        lambda x, p: stats.nbinom.logpmf(x, p[0], p[1]).sum(),
        lambda r: (r["total_count"], 1 - r["probs"]),
    ),
}


def _params(families):
    return [pytest.param(family, seed, id=f"{family}-{seed}") for family in families for seed in SEEDS]


@pytest.mark.parametrize("family,seed", _params(CASES))
def test_mlemap_estimate_is_at_least_as_good_as_scipy(family, seed):
    gen, fixed, scipy_fit, loglik, convert = CASES[family]
    x = gen(np.random.default_rng(seed))
    r = mm.fit(family, x, fixed=fixed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ll_scipy = loglik(x, scipy_fit(x))
    ll_mm = loglik(x, convert(r.params))
    assert np.isfinite(ll_mm)
    assert ll_mm >= ll_scipy - 1e-9 * abs(ll_scipy), (ll_mm, ll_scipy)
    # the reported log-likelihood is scipy's at the estimate
    np.testing.assert_allclose(r.loglik, ll_mm, rtol=1e-10)


def test_studentt_loglik_is_accurate_when_df_runs_to_infinity():
    x = np.random.default_rng(63).normal(0.2, 1.3, size=40)
    with pytest.warns(mm.BoundaryWarning, match="normal limit"):
        r = mm.fit("studentt", x)
    assert "df" in r.boundary and r.converged
    p = r.params
    ll_scipy = stats.t.logpdf(x, p["df"], p["loc"], p["scale"]).sum()
    # the t likelihood never exceeds its normal limit at the normal MLE
    sup = stats.norm.logpdf(x, x.mean(), x.std()).sum()
    assert r.loglik <= sup + 1e-9 * abs(sup)
    np.testing.assert_allclose(r.loglik, ll_scipy, rtol=1e-10)

"""Independent high-precision references for censored likelihoods, written with mpmath.

Every family's log-density, log-cdf and log-survival function is written here from its textbook
formula in mpmath (40 significant digits; incomplete gamma and beta functions from mpmath), and
:func:`mp_mle` solves the likelihood equations in that precision: the gradient by mpmath's numerical
differentiation, the root by Newton (``mp.findroot``). The root does not depend on the starting
point given (any point in its basin), so the reference is as accurate as the precision allows,
whatever produced the start.
"""

from __future__ import annotations

import math

import mpmath as mp

mp.mp.dps = 40
INF = mp.inf


def _z(x, p):
    return (x - p["loc"]) / p["scale"]


def _t_cdf(t, df):
    x = df / (df + t * t)
    tail = mp.betainc(df / 2, mp.mpf(1) / 2, 0, x, regularized=True) / 2
    return tail if t < 0 else 1 - tail


def _t_sf(t, df):
    return _t_cdf(-t, df)


# family -> (log density, cdf, sf); each takes an mpf value and a dict of mpf parameters
FAMILIES = {
    "normal": (
        lambda x, p: -mp.log(p["scale"]) - mp.log(2 * mp.pi) / 2 - _z(x, p) ** 2 / 2,
        lambda x, p: mp.ncdf(_z(x, p)),
        lambda x, p: mp.ncdf(-_z(x, p)),
    ),
    "lognormal": (
        lambda x, p: -mp.log(p["scale"] * x) - mp.log(2 * mp.pi) / 2 - ((mp.log(x) - p["loc"]) / p["scale"]) ** 2 / 2,
        lambda x, p: mp.ncdf((mp.log(x) - p["loc"]) / p["scale"]),
        lambda x, p: mp.ncdf(-(mp.log(x) - p["loc"]) / p["scale"]),
    ),
    "laplace": (
        lambda x, p: -mp.log(2 * p["scale"]) - abs(_z(x, p)),
        lambda x, p: mp.exp(_z(x, p)) / 2 if _z(x, p) < 0 else 1 - mp.exp(-_z(x, p)) / 2,
        lambda x, p: mp.exp(-_z(x, p)) / 2 if _z(x, p) >= 0 else 1 - mp.exp(_z(x, p)) / 2,
    ),
    "studentt": (
        lambda x, p: (mp.loggamma((p["df"] + 1) / 2) - mp.loggamma(p["df"] / 2) - mp.log(p["df"] * mp.pi) / 2
                      - mp.log(p["scale"]) - (p["df"] + 1) / 2 * mp.log(1 + _z(x, p) ** 2 / p["df"])),
        lambda x, p: _t_cdf(_z(x, p), p["df"]),
        lambda x, p: _t_sf(_z(x, p), p["df"]),
    ),
    "cauchy": (
        lambda x, p: -mp.log(mp.pi * p["scale"]) - mp.log(1 + _z(x, p) ** 2),
        lambda x, p: mp.atan2(1, -_z(x, p)) / mp.pi,
        lambda x, p: mp.atan2(1, _z(x, p)) / mp.pi,
    ),
    "gumbel": (
        lambda x, p: -mp.log(p["scale"]) - _z(x, p) - mp.exp(-_z(x, p)),
        lambda x, p: mp.exp(-mp.exp(-_z(x, p))),
        lambda x, p: -mp.expm1(-mp.exp(-_z(x, p))),
    ),
    "logistic": (
        lambda x, p: -mp.log(p["scale"]) - _z(x, p) - 2 * mp.log1p(mp.exp(-_z(x, p))),
        lambda x, p: 1 / (1 + mp.exp(-_z(x, p))),
        lambda x, p: 1 / (1 + mp.exp(_z(x, p))),
    ),
    "half_normal": (
        lambda x, p: mp.log(2 / mp.pi) / 2 - mp.log(p["scale"]) - (x / p["scale"]) ** 2 / 2,
        lambda x, p: mp.erf(x / p["scale"] / mp.sqrt(2)),
        lambda x, p: mp.erfc(x / p["scale"] / mp.sqrt(2)),
    ),
    "exponential": (
        lambda x, p: mp.log(p["rate"]) - p["rate"] * x,
        lambda x, p: -mp.expm1(-p["rate"] * x),
        lambda x, p: mp.exp(-p["rate"] * x),
    ),
    "gamma": (
        lambda x, p: (p["concentration"] * mp.log(p["rate"]) - mp.loggamma(p["concentration"])
                      + (p["concentration"] - 1) * mp.log(x) - p["rate"] * x),
        lambda x, p: mp.gammainc(p["concentration"], 0, p["rate"] * x, regularized=True),
        lambda x, p: mp.gammainc(p["concentration"], p["rate"] * x, INF, regularized=True),
    ),
    "weibull": (
        lambda x, p: (mp.log(p["concentration"] / p["scale"]) + (p["concentration"] - 1) * mp.log(x / p["scale"])
                      - (x / p["scale"]) ** p["concentration"]),
        lambda x, p: -mp.expm1(-((x / p["scale"]) ** p["concentration"])),
        lambda x, p: mp.exp(-((x / p["scale"]) ** p["concentration"])),
    ),
    "loglogistic": (
        lambda x, p: (mp.log(p["concentration"] / p["scale"]) + (p["concentration"] - 1) * mp.log(x / p["scale"])
                      - 2 * mp.log1p((x / p["scale"]) ** p["concentration"])),
        lambda x, p: 1 / (1 + (x / p["scale"]) ** (-p["concentration"])),
        lambda x, p: 1 / (1 + (x / p["scale"]) ** p["concentration"]),
    ),
    "beta": (
        lambda x, p: ((p["concentration1"] - 1) * mp.log(x) + (p["concentration0"] - 1) * mp.log(1 - x)
                      - mp.log(mp.beta(p["concentration1"], p["concentration0"]))),
        lambda x, p: mp.betainc(p["concentration1"], p["concentration0"], 0, x, regularized=True),
        lambda x, p: mp.betainc(p["concentration0"], p["concentration1"], 0, 1 - x, regularized=True),
    ),
    "poisson": (
        lambda k, p: k * mp.log(p["rate"]) - p["rate"] - mp.loggamma(k + 1),
        lambda k, p: mp.gammainc(k + 1, p["rate"], INF, regularized=True),
        lambda k, p: mp.gammainc(k + 1, 0, p["rate"], regularized=True),
    ),
    "geometric": (
        lambda k, p: mp.log(p["probs"]) + k * mp.log(1 - p["probs"]),
        lambda k, p: 1 - (1 - p["probs"]) ** (k + 1),
        lambda k, p: (1 - p["probs"]) ** (k + 1),
    ),
    "negative_binomial": (
        lambda k, p: (mp.loggamma(k + p["total_count"]) - mp.loggamma(p["total_count"]) - mp.loggamma(k + 1)
                      + p["total_count"] * mp.log(1 - p["probs"]) + k * mp.log(p["probs"])),
        lambda k, p: mp.betainc(p["total_count"], k + 1, 0, 1 - p["probs"], regularized=True),
        lambda k, p: mp.betainc(k + 1, p["total_count"], 0, p["probs"], regularized=True),
    ),
    "binomial": (
        lambda k, p: (mp.log(mp.binomial(p["total_count"], k)) + k * mp.log(p["probs"])
                      + (p["total_count"] - k) * mp.log(1 - p["probs"])),
        lambda k, p: mp.betainc(p["total_count"] - k, k + 1, 0, 1 - p["probs"], regularized=True),
        lambda k, p: mp.betainc(k + 1, p["total_count"] - k, 0, p["probs"], regularized=True),
    ),
}


def mp_params(params: dict) -> dict:
    return {k: mp.mpf(float(v)) for k, v in params.items()}


def _log_side(family, x, params, side):
    """log F (side 1) or log S (side 2), each from its own small tail: log(1 - other) near 1."""
    p = mp_params(params) if not all(isinstance(v, mp.mpf) for v in params.values()) else params
    x = mp.mpf(x)
    value = FAMILIES[family][side](x, p)
    if value < mp.mpf("0.5"):
        return mp.log(value)
    return mp.log1p(-FAMILIES[family][3 - side](x, p))


def log_cdf(family: str, x, params) -> float:
    return float(_log_side(family, x, params, 1))


def log_sf(family: str, x, params) -> float:
    return float(_log_side(family, x, params, 2))


def row_log_likelihood(family: str, low, high, p, discrete: bool = False, truncation=(-math.inf, math.inf)):
    """:math:`\\log L` of one ``(low, high)`` row at mpf parameters ``p`` (module conventions)."""
    logpdf, cdf, sf = FAMILIES[family]
    if low == high:
        value = logpdf(mp.mpf(low), p)
    else:
        lo = low - 1 if discrete and math.isfinite(low) else low
        lo, hi = max(lo, truncation[0]), min(high, truncation[1])
        F_hi = 1 if math.isinf(hi) else cdf(mp.mpf(hi), p)
        F_lo = 0 if math.isinf(lo) else cdf(mp.mpf(lo), p)
        S_lo = 1 if math.isinf(lo) else sf(mp.mpf(lo), p)
        S_hi = 0 if math.isinf(hi) else sf(mp.mpf(hi), p)
        value = mp.log(F_hi - F_lo) if F_hi < mp.mpf("0.5") else mp.log(S_lo - S_hi)
    t_lo, t_hi = truncation
    if math.isfinite(t_lo) or math.isfinite(t_hi):
        F_hi = 1 if math.isinf(t_hi) else cdf(mp.mpf(t_hi), p)
        S_lo = 1 if math.isinf(t_lo) else sf(mp.mpf(t_lo), p)
        value -= mp.log(F_hi - (1 - S_lo))
    return value


def log_likelihood(family, low, high, params: dict, weights=None, discrete=False, truncation=(-math.inf, math.inf)):
    p = params if all(isinstance(v, mp.mpf) for v in params.values()) else mp_params(params)
    total = mp.mpf(0)
    for i, (a, b) in enumerate(zip(low, high)):
        w = 1 if weights is None else mp.mpf(float(weights[i]))
        total += w * row_log_likelihood(family, float(a), float(b), p, discrete, truncation)
    return total


def mp_mle(family: str, low, high, start: dict, *, weights=None, discrete=False, truncation=(-math.inf, math.inf),
           fixed: dict | None = None) -> tuple[dict, float, dict]:
    """The root of the likelihood equations in mpmath, from ``start``; the log-likelihood there and the
    standard errors (square roots of the diagonal of the inverse observed information).

    Positive parameters are solved for on the log scale (the root is the same); the information is
    then taken in the natural parameters."""
    names = list(start)
    fixed = mp_params(fixed or {})
    positive = {n: float(start[n]) > 0 and n not in ("loc",) for n in names}

    def natural(v):
        return {**fixed, **dict(zip(names, v))}

    def unpack(v):
        return natural([mp.exp(t) if positive[n] else t for n, t in zip(names, v)])

    def loglik(*v):
        return log_likelihood(family, low, high, unpack(v), weights, discrete, truncation)

    def gradient(*v):
        g = [mp.diff(loglik, v, tuple(int(i == j) for i in range(len(v)))) for j in range(len(v))]
        return g[0] if len(v) == 1 else g

    x0 = [mp.log(mp.mpf(float(start[n]))) if positive[n] else mp.mpf(float(start[n])) for n in names]
    root = mp.findroot(gradient, x0[0] if len(names) == 1 else x0, tol=mp.mpf(10) ** (-30))
    root = [root] if len(names) == 1 else [root[i] for i in range(len(names))]
    theta = [mp.exp(t) if positive[n] else t for n, t in zip(names, root)]

    def loglik_natural(*v):
        return log_likelihood(family, low, high, natural(v), weights, discrete, truncation)

    k = len(names)
    H = mp.matrix(k, k)
    for a in range(k):
        for b in range(k):
            H[a, b] = -mp.diff(loglik_natural, theta, tuple(int(i == a) + int(i == b) for i in range(k)))
    cov = H ** -1
    values = dict(zip(names, theta))
    return ({n: float(values[n]) for n in names}, float(loglik(*root)),
            {n: float(mp.sqrt(cov[i, i])) for i, n in enumerate(names)})

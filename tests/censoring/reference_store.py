"""Stored 40-digit references for censored and truncated fits: the data and the root of the
likelihood equations in mpmath (:func:`mp_reference.mp_mle`), kept in ``references_40_digits.json``.

Solving the likelihood equations at 40 digits takes seconds per case (minutes for the incomplete
beta of the t and beta families), so the default suite compares fits with the stored roots and a
slow test solves the equations again from the stored data. The data are stored with the roots, so
the references do not depend on a random generator's stream (the generators below only build the
file). To rebuild it::

    python tests/censoring/reference_store.py
"""

from __future__ import annotations

import json
import math
import pathlib
import sys
import warnings

import numpy as np

HERE = pathlib.Path(__file__).parent
STORE = HERE / "references_40_digits.json"
if str(HERE.parent) not in sys.path:  # mp_reference, when run as a script
    sys.path.insert(0, str(HERE.parent))


def _right(rng, n, sampler, censor_scale):
    t = sampler(rng, n)
    c = rng.exponential(censor_scale, n)
    return np.minimum(t, c), np.where(t <= c, np.minimum(t, c), np.inf)


def _bins(t, width):
    lo = np.floor(t / width) * width
    return lo, lo + width


def _case_right(sampler, scale):
    def make(rng):
        low, high = _right(rng, 30, sampler, scale)
        return low, high

    return make


REFERENCE_CASES = {
    "weibull-right": ("weibull", _case_right(lambda r, n: 3 * r.weibull(1.6, n), 4.0), {}),
    "lognormal-right": ("lognormal", _case_right(lambda r, n: r.lognormal(0.5, 0.8, n), 3.0), {}),
    "loglogistic-right": ("loglogistic", _case_right(lambda r, n: np.exp(r.logistic(0.3, 0.4, n)), 3.0), {}),
    "gamma-right": ("gamma", _case_right(lambda r, n: r.gamma(2.5, 1.2, n), 5.0), {}),
    "normal-interval": ("normal", lambda r: _bins(r.normal(1.0, 2.0, 30), 1.0), {}),
    "gamma-interval": ("gamma", lambda r: _bins(r.gamma(3.0, 1.0, 8), 0.5), {}),
    # a sample whose t fit has finite df (small interval-censored samples often favour the normal limit)
    "studentt-interval": ("studentt", lambda r: _bins(np.random.default_rng(103).standard_t(1.5, 10) * 2 + 1, 0.5), {}),
    "beta-interval": ("beta", lambda r: _bins(r.beta(2.0, 5.0, 8), 0.05), {}),
    "weibull-left": ("weibull", lambda r: (lambda t: (np.where(t < 1.5, -np.inf, t), np.maximum(t, 1.5)))(2 * r.weibull(1.3, 30)), {}),
    "logistic-mixed": ("logistic", lambda r: (lambda t: (np.where(t < -1, -np.inf, t), np.where(t > 4, np.inf, np.maximum(t, -1))))(
        r.logistic(1.0, 1.5, 30)), {}),
    "normal-truncated": ("normal", lambda r: (lambda t: (t, t))(_above(r.normal(1.0, 2.0, 200), 0.0)[:30]),
                         {"truncation": (0.0, None)}),
    "weibull-truncated-right": ("weibull", lambda r: (lambda t: (t, np.where(t > 4, np.inf, t)))(
        _above(2 * r.weibull(1.5, 200), 0.5)[:30]), {"truncation": (0.5, None)}),
    "normal-both-truncated-interval": ("normal", lambda r: _bins(_between(r.normal(0.0, 2.0, 300), -1.0, 3.0)[:30], 0.5),
                                       {"truncation": (-1.0, 3.0)}),
    "poisson-at-least": ("poisson", lambda r: (lambda k: (np.minimum(k, 6.0), np.where(k >= 6, np.inf, k)))(
        r.poisson(4.0, 30).astype(float)), {}),
    "poisson-zero-truncated": ("poisson", lambda r: (lambda k: (k, k))(_above(r.poisson(1.2, 200).astype(float), 0.0)[:30]),
                               {"truncation": (0, None)}),
    "negative-binomial-at-least": ("negative_binomial", lambda r: (lambda k: (np.minimum(k, 8.0), np.where(k >= 8, np.inf, k)))(
        r.negative_binomial(3.0, 0.4, 20).astype(float)), {}),
    "geometric-interval": ("geometric", lambda r: (lambda k: (2 * np.floor(k / 2), 2 * np.floor(k / 2) + 1))(
        (r.geometric(0.3, 30) - 1).astype(float)), {}),
}


def _above(x, lo):
    return x[x > lo]


def _between(x, lo, hi):
    return x[(x > lo) & (x <= hi)]


def case_data(case: str):
    """``(family, low, high, options)`` of a case, generated afresh (only the builder needs this)."""
    family, make, options = REFERENCE_CASES[case]
    rng = np.random.default_rng(sorted(REFERENCE_CASES).index(case) + 11)
    low, high = make(rng)
    return family, np.asarray(low, float), np.asarray(high, float), options


def truncation_bounds(options) -> tuple[float, float]:
    lo, hi = options.get("truncation", (None, None))
    return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))


def solve_case(family, low, high, options, start, discrete):
    """The 40-digit root from ``start`` (a dict of parameter values): (params, loglik, se)."""
    import mp_reference

    return mp_reference.mp_mle(family, low, high, start, discrete=discrete, truncation=truncation_bounds(options))


def build() -> dict:
    """Every case's data and 40-digit root (started 2% away from mlemap's fit)."""
    import mlemap as mm

    store = {}
    for case in sorted(REFERENCE_CASES):
        family, low, high, options = case_data(case)
        data = mm.censored(left=np.where(np.isinf(low), np.nan, low), right=np.where(np.isinf(high), np.nan, high))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mm.IdentifiabilityWarning)
            r = mm.fit(family, data, **options)
        start = {k: v * 1.02 for k, v in r.params.items()}
        params, loglik, se = solve_case(family, low, high, options, start, r.family.discrete)
        store[case] = {"family": family, "low": low.tolist(), "high": high.tolist(),
                       "truncation": options.get("truncation"), "discrete": bool(r.family.discrete),
                       "params": params, "loglik": loglik, "se": se}
        print(f"{case}: {params}", file=sys.stderr)
    return store


def load() -> dict:
    """The stored cases: data as arrays, options as ``mm.fit`` takes them."""
    cases = json.loads(STORE.read_text())
    for c in cases.values():
        c["low"], c["high"] = np.asarray(c["low"], float), np.asarray(c["high"], float)
        c["options"] = {} if c["truncation"] is None else {"truncation": tuple(c["truncation"])}
    return cases


if __name__ == "__main__":
    STORE.write_text(json.dumps(build(), indent=1) + "\n")

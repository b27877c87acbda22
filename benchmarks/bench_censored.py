"""Censored data: mlemap against scipy and lifelines on the same generated data, in one process.

1. Right-censored Weibull, n = 1,000,000 (about 30% censored): ``mm.fit("weibull", mm.censored(...))``
   with its standard errors, against ``scipy.stats.weibull_min.fit(CensoredData, floc=0)`` (a point
   estimate) and lifelines' ``WeibullFitter`` (estimate and standard errors). Target: mlemap at least
   10x faster than both, with a log-likelihood at least as high.
2. Weibull accelerated failure time regression, n = 1,000,000 and d = 10:
   ``mm.SurvivalRegression(family="weibull")`` (standard errors included) against lifelines'
   ``WeibullAFTFitter``. Target: at least 5x faster.

Each line prints both median times (repetitions interleaved, so that every library sees the same
machine state), the ratio (reference / mlemap; above 1 means mlemap is faster) and both
log-likelihoods. The log-likelihoods are each library's own; scipy reports none, so its estimate
is scored with scipy's ``logpdf`` and ``logsf``.

Run:  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_censored.py [--n 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import scipy.stats as st

import mlemap as mm
from timing import interleaved_medians


def weibull_data(n: int, rng: np.random.Generator):
    """Weibull(shape 1.7, scale 3) times, censored by uniform(0, 8.5) times: about 31% censored."""
    t = 3.0 * rng.weibull(1.7, n)
    c = rng.uniform(0.0, 8.5, n)
    return np.minimum(t, c), (t <= c).astype(int)


def aft_data(n: int, d: int, rng: np.random.Generator):
    """log T = 1 + X beta + 0.7 W (W extreme-value), censored by exponential times: about 38% censored."""
    X = rng.normal(size=(n, d))
    beta = rng.normal(scale=0.3, size=d)
    t = np.exp(1.0 + X @ beta + 0.7 * np.log(rng.exponential(size=n)))
    c = rng.exponential(np.exp(1.6), n)
    return X, np.minimum(t, c), (t <= c).astype(int)


def row(label: str, reference: str, t_ref: float, t_mm: float, ll_ref: float, ll_mm: float) -> str:
    return (f"{label:<28} {reference:<22} {t_ref:9.3f} {t_mm:9.3f} {t_ref / t_mm:7.1f} "
            f"{ll_ref:18.6f} {ll_mm:18.6f} {ll_mm - ll_ref:11.3e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5, help="interleaved repetitions of each fit")
    args = parser.parse_args()
    from lifelines import WeibullAFTFitter, WeibullFitter
    import pandas as pd

    warnings.simplefilter("ignore")  # lifelines' pandas deprecation notices
    rng = np.random.default_rng(20240607)
    time_, event = weibull_data(args.n, rng)
    y = mm.censored(time_, event=event)
    cd = st.CensoredData.right_censored(time_, event == 0)
    mm.fit("weibull", mm.censored([1.0, 2.0, 3.0], event=[1, 0, 1])).se  # warm-up

    def ours():
        r = mm.fit("weibull", y)
        r.se  # noqa: B018 - the standard errors are part of the timed work
        return r

    def scipy_fit():
        return st.weibull_min.fit(cd, floc=0)

    def lifelines_fit():
        f = WeibullFitter().fit(time_, event)
        f.summary  # noqa: B018 - estimates with standard errors
        return f

    r, sp, lf = ours(), scipy_fit(), lifelines_fit()
    t_mm, t_sp, t_lf = interleaved_medians([ours, scipy_fit, lifelines_fit], args.repeat)
    sp_dist = st.weibull_min(sp[0], 0.0, sp[2])
    ll_sp = float(sp_dist.logpdf(time_[event == 1]).sum() + sp_dist.logsf(time_[event == 0]).sum())

    X, t2, e2 = aft_data(args.n, args.d, rng)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(args.d)]).assign(T=t2, E=e2)

    def ours_aft():
        return mm.SurvivalRegression(family="weibull").fit(X, t2, event=e2)

    def lifelines_aft():
        return WeibullAFTFitter().fit(frame, "T", "E")

    m, la = ours_aft(), lifelines_aft()
    t_aft, t_laft = interleaved_medians([ours_aft, lifelines_aft], max(1, args.repeat // 2))

    censored = 1 - event.mean()
    print(f"Weibull, n = {args.n:,} ({censored:.0%} right-censored); AFT: n = {args.n:,}, d = {args.d} "
          f"({1 - e2.mean():.0%} censored). Medians of interleaved runs ({args.repeat} / {max(1, args.repeat // 2)}); "
          "ratio = reference time / mlemap time")
    header = (f"{'case':<28} {'reference':<22} {'ref s':>9} {'mlemap s':>9} {'ratio':>7} "
              f"{'loglik reference':>18} {'loglik mlemap':>18} {'mm - ref':>11}")
    print(header)
    print("-" * len(header))
    print(row("weibull fit (+ SE)", "scipy weibull_min.fit", t_sp, t_mm, ll_sp, r.loglik))
    print(row("weibull fit (+ SE)", "lifelines WeibullFitter", t_lf, t_mm, lf.log_likelihood_, r.loglik))
    print(row(f"weibull AFT, d = {args.d} (+ SE)", "lifelines WeibullAFT", t_laft, t_aft, la.log_likelihood_, m.loglik_))


if __name__ == "__main__":
    main()

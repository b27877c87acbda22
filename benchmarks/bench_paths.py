"""Regularisation paths: mlemap versus scikit-learn (lasso) and glum (L1 logistic) on the same data.

(a) Lasso path, n = 20,000, d = 2,000, 100 alphas (scikit-learn's default grid, eps = 1e-3):
    ``mm.regularization_path(X, y, fit_intercept=False)`` versus ``sklearn.linear_model.lasso_path``
    (which fits no intercept; the data are centred). scikit-learn's default ``tol=1e-4`` stops on a
    loose duality gap, so its coefficients are also taken from a tight run (``tol=1e-10``) and the
    script prints the largest coefficient difference against both.
(b) L1 logistic path, n = 20,000, d = 2,000, 20 alphas: mlemap versus glum's
    ``GeneralizedLinearRegressor(family="binomial", l1_ratio=1, alpha_search=True)``. glum minimises
    ``(1/n) sum_i nll_i + alpha ||w||_1`` (its deviance/2 over the total weight), mlemap's bernoulli
    ``alpha`` is scikit-learn's ``1/C`` (``sum_i nll_i + alpha ||w||_1``), so mlemap runs at
    ``n * alpha_glum``. Both use glum's default grid: 20 alphas from alpha_max down to
    1e-6 alpha_max, log-spaced. glum stops at its default gradient tolerance (1e-4).

Printed: median times (glum runs ``--glum-repeat`` times, once by default: it takes minutes), the
ratio reference / mlemap (> 1: mlemap faster), the largest coefficient difference, and the
objective (in the reference's scaling) summed over the path for both.

Targets on a 2-core CPU: (a) no slower than scikit-learn at its default tol, coefficients equal to
the tight run to 1e-6; (b) at least 2x faster than glum.

Run:  python benchmarks/bench_paths.py [--n 20000] [--d 2000] [--repeat 3] [--cases lasso,logistic]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import mlemap.paths as mp


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def interleaved_medians(fns: list, repeat: int) -> tuple[list[float], list]:
    """Median time of each function, run in turn on every repetition (shared, noisy machines)."""
    times: list[list[float]] = [[] for _ in fns]
    outs: list = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t, outs[i] = timed(fn)
            times[i].append(t)
    return [statistics.median(t) for t in times], outs


def lasso_data(n: int, d: int, rng: np.random.Generator):
    X = rng.standard_normal((n, d))
    beta = np.zeros(d)
    k = max(1, d // 20)
    beta[:k] = rng.standard_normal(k)
    y = X @ beta + rng.standard_normal(n)
    X -= X.mean(axis=0)
    y -= y.mean()
    return X, y


def logistic_data(n: int, d: int, rng: np.random.Generator):
    X = rng.standard_normal((n, d))
    beta = np.zeros(d)
    k = max(1, d // 20)
    beta[:k] = 0.5 * rng.standard_normal(k)
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-(X @ beta)))).astype(np.float64)
    return X, y


def lasso_objective(X, y, coefs, alphas) -> float:
    """sum over alphas of 1/(2n) ||y - X w||^2 + alpha ||w||_1 (scikit-learn's scaling)."""
    n = X.shape[0]
    r = y[:, None] - X @ coefs
    return float(((r * r).sum(axis=0) / (2 * n) + alphas * np.abs(coefs).sum(axis=0)).sum())


def logistic_objective(X, y, coefs, intercepts, alphas) -> float:
    """sum over alphas of (1/n) sum_i nll_i + alpha ||w||_1 (glum's scaling)."""
    eta = X @ coefs + intercepts[None, :]
    nll = np.logaddexp(0.0, eta) - y[:, None] * eta
    return float((nll.mean(axis=0) + alphas * np.abs(coefs).sum(axis=0)).sum())


def row(case, ref_name, t_ref, t_mm, diff, obj_ref, obj_mm, extra=""):
    print(
        f"{case:<9} {ref_name:<22} {t_ref:>9.2f} {t_mm:>9.2f} {t_ref / t_mm:>7.2f} {diff:>11.2e} "
        f"{obj_ref:>17.10f} {obj_mm:>17.10f}{extra}"
    )


def bench_lasso(n, d, repeat, rng):
    from sklearn.linear_model import lasso_path

    X, y = lasso_data(n, d, rng)
    mp.regularization_path(X[:50, :10], y[:50])  # compile / load the kernels once
    (t_mm, t_sk), (path, (alphas, sk_coefs, _)) = interleaved_medians(
        [lambda: mp.regularization_path(X, y, fit_intercept=False), lambda: lasso_path(X, y)], repeat
    )
    t_tight, (_, tight_coefs, _) = timed(lambda: lasso_path(X, y, tol=1e-10, max_iter=100_000))
    assert np.allclose(alphas, path.alphas, rtol=1e-12)
    scale = np.abs(tight_coefs).max()
    diff_default = np.abs(path.coefs - sk_coefs).max()
    diff_tight = np.abs(path.coefs - tight_coefs).max()
    obj_mm = lasso_objective(X, y, path.coefs, path.alphas)
    row("lasso", "sklearn lasso_path", t_sk, t_mm, diff_default, lasso_objective(X, y, sk_coefs, alphas), obj_mm,
        "   (sklearn tol=1e-4)")
    row("lasso", "sklearn tol=1e-10", t_tight, t_mm, diff_tight, lasso_objective(X, y, tight_coefs, alphas), obj_mm,
        f"   (relative diff {diff_tight / scale:.1e})")


def bench_logistic(n, d, repeat, glum_repeat, rng):
    from glum import GeneralizedLinearRegressor

    X, y = logistic_data(n, d, rng)
    mp.regularization_path(X[:100, :10], y[:100], family="bernoulli", n_alphas=3)  # compile once
    a_max = mp.regularization_path(X, y, family="bernoulli", n_alphas=1).alpha_max / n
    grid = np.geomspace(a_max, a_max * 1e-6, 20)  # glum's default grid (min_alpha_ratio 1e-6)

    def run_glum():
        model = GeneralizedLinearRegressor(family="binomial", l1_ratio=1, alpha_search=True, alpha=list(grid))
        return model.fit(X, y)

    def run_mm():
        return mp.regularization_path(X, y, family="bernoulli", alphas=n * grid)

    (t_mm,), (path,) = interleaved_medians([run_mm], repeat)
    (t_glum,), (glum,) = interleaved_medians([run_glum], glum_repeat)
    glum_coefs = glum.coef_path_.T
    glum_intercepts = np.asarray(glum.intercept_path_)
    diff = max(np.abs(path.coefs - glum_coefs).max(), np.abs(path.intercepts - glum_intercepts).max())
    row("logistic", "glum (gradient_tol 1e-4)", t_glum, t_mm, diff,
        logistic_objective(X, y, glum_coefs, glum_intercepts, grid),
        logistic_objective(X, y, path.coefs, path.intercepts, grid),
        f"   (mlemap median of {repeat}, glum of {glum_repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--d", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the mlemap and scikit-learn runs")
    parser.add_argument("--glum-repeat", type=int, default=1, help="repetitions of the glum run")
    parser.add_argument("--cases", default="lasso,logistic", help="comma-separated subset of: lasso, logistic")
    args = parser.parse_args()
    cases = {c.strip() for c in args.cases.split(",") if c.strip()}
    header = (
        f"{'case':<9} {'reference':<22} {'ref s':>9} {'mlemap s':>9} {'ratio':>7} {'max |diff|':>11} "
        f"{'objective ref':>17} {'objective mlemap':>17}"
    )
    print(f"n = {args.n:,}, d = {args.d:,}; ratio = reference time / mlemap time (> 1: mlemap faster); "
          "objective summed over the path, lower is better")
    print(header)
    print("-" * len(header))
    if "lasso" in cases:
        bench_lasso(args.n, args.d, args.repeat, np.random.default_rng(20240601))
    if "logistic" in cases:
        bench_logistic(args.n, args.d, args.repeat, args.glum_repeat, np.random.default_rng(20240602))


if __name__ == "__main__":
    main()

"""Least squares keeps its digits on ill-conditioned designs: checked against exact rational arithmetic.

The reference is the exact least-squares solution of the same float64 data, computed with
``fractions.Fraction`` (normal equations solved exactly, which is fine in rational arithmetic).
"""

from fractions import Fraction

import numpy as np
import pytest

from mlemap.glm.lstsq import solve_lstsq


def exact_lstsq(A: np.ndarray, y: np.ndarray, l2: float = 0.0, penalised=None) -> np.ndarray:
    """Exact solution of (A'A + l2 P) b = A'y in rationals, P = diag(penalised)."""
    n, p = A.shape
    Af = [[Fraction(float(v)) for v in row] for row in A]
    yf = [Fraction(float(v)) for v in y]
    G = [[sum(Af[i][a] * Af[i][b] for i in range(n)) for b in range(p)] for a in range(p)]
    if l2:
        lf = Fraction(float(l2))
        for a in range(p):
            if penalised is None or penalised[a]:
                G[a][a] += lf
    c = [sum(Af[i][a] * yf[i] for i in range(n)) for a in range(p)]
    M = [G[a][:] + [c[a]] for a in range(p)]
    for k in range(p):
        piv = max(range(k, p), key=lambda r: abs(M[r][k]))
        M[k], M[piv] = M[piv], M[k]
        for r in range(k + 1, p):
            f = M[r][k] / M[k][k]
            if f:
                M[r] = [M[r][j] - f * M[k][j] for j in range(p + 1)]
    x = [Fraction(0)] * p
    for k in range(p - 1, -1, -1):
        x[k] = (M[k][p] - sum(M[k][j] * x[j] for j in range(k + 1, p))) / M[k][k]
    return np.array([float(v) for v in x])


def correct_digits(estimate, exact) -> float:
    """Smallest number of correct significant digits over the coefficients."""
    rel = np.abs(np.asarray(estimate) - exact) / np.abs(exact)
    return float(-np.log10(max(rel.max(), 1e-17)))


def degree10_design():
    """A degree-10 polynomial in x on [-9, -3] without centring (in the spirit of NIST's Filip data)."""
    rng = np.random.default_rng(1)
    x = np.sort(rng.uniform(-9.0, -3.0, 82))
    y = 0.85 + 0.05 * np.sin(x) + 0.003 * rng.standard_normal(82)
    return np.vander(x, 11, increasing=True), y


def degree5_large_residuals():
    """A degree-5 polynomial in x = 0..20, integer responses, residual SD in the millions (as NIST's Wampler 5)."""
    x = np.arange(21.0)
    signal = sum(x**k for k in range(6))
    noise = 1e7 * np.where(np.arange(21) % 2 == 0, 1.0, -1.0) * (1.0 + 0.1 * np.arange(21))
    return np.vander(x, 6, increasing=True), np.round(signal + noise)


@pytest.mark.parametrize(
    "make, required",
    [(degree10_design, 7.0), (degree5_large_residuals, 9.0)],
    ids=["degree10-uncentred", "degree5-huge-residuals"],
)
def test_ill_conditioned_polynomials_keep_their_digits(make, required):
    A, y = make()
    exact = exact_lstsq(A, y)
    fit = solve_lstsq(A[:, 1:], y)  # the constant column is the intercept
    estimate = np.r_[fit.intercept, fit.coef]
    assert correct_digits(estimate, exact) >= required
    assert not fit.aliasing.deficient


def test_numpy_lstsq_loses_the_digits_that_refinement_keeps():
    A, y = degree10_design()
    exact = exact_lstsq(A, y)
    numpy_digits = correct_digits(np.linalg.lstsq(A, y, rcond=None)[0], exact)
    fit = solve_lstsq(A[:, 1:], y)
    assert correct_digits(np.r_[fit.intercept, fit.coef], exact) > numpy_digits + 5


def test_residual_standard_deviation_is_in_the_millions():
    A, y = degree5_large_residuals()
    fit = solve_lstsq(A[:, 1:], y)
    assert np.sqrt(fit.rss / (len(y) - 6)) > 1e6


def test_ridge_is_the_exact_augmented_solution():
    A, y = degree10_design()
    A = A[:, :7]
    exact = exact_lstsq(A, y, l2=0.5, penalised=[False] + [True] * 6)
    fit = solve_lstsq(A[:, 1:], y, l2=0.5)
    assert correct_digits(np.r_[fit.intercept, fit.coef], exact) >= 9


def test_weighted_least_squares_equals_repeated_rows_exactly():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.standard_normal(30)
    w = rng.integers(1, 4, 30).astype(float)
    weighted = solve_lstsq(X, y, sample_weight=w)
    repeated = solve_lstsq(np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int)))
    np.testing.assert_allclose(weighted.coef, repeated.coef, rtol=1e-13)
    np.testing.assert_allclose(weighted.rss, repeated.rss, rtol=1e-12)

"""The exact references of tests/reference.py reproduce known solutions and reject wrong ones."""

import numpy as np
import pytest
from reference import lad_vertex, penalised_glm_reference, polished_l1_minimum


def test_l1_polishing_finds_the_soft_threshold_from_a_wrong_active_set():
    rng = np.random.default_rng(0)
    n, d = 64, 6
    Q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    X = Q * np.sqrt(n)  # X'X / n = I: the lasso is soft-thresholding of X'y / n
    y = X @ np.array([2.0, -1.0, 0.3, 0.0, 0.05, -0.02]) + 0.1 * rng.standard_normal(n)
    l1 = 0.2
    z = X.T @ y / n
    expected = np.sign(z) * np.maximum(np.abs(z) - l1, 0.0)
    start = expected + 0.05 * rng.standard_normal(d)  # every coordinate non-zero, some signs wrong
    beta, intercept = penalised_glm_reference("gaussian", X, y, start, l1=l1, fit_intercept=False)
    np.testing.assert_allclose(beta, expected, rtol=1e-13, atol=1e-15)
    assert np.count_nonzero(beta == 0) == np.count_nonzero(expected == 0) > 0


def test_ridge_polishing_equals_the_normal_equations():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 3))
    y = X @ [1.0, 2.0, -1.0] + 0.5 + rng.standard_normal(50)
    w = rng.uniform(0.5, 2.0, 50)
    l2 = 0.3
    A = np.column_stack([X, np.ones(50)])
    P = np.diag([1.0, 1.0, 1.0, 0.0])
    exact = np.linalg.solve(A.T @ (w[:, None] * A) / w.sum() + l2 * P, A.T @ (w * y) / w.sum())
    beta, intercept = penalised_glm_reference("gaussian", X, y, np.zeros(4), l2=l2, w=w)
    np.testing.assert_allclose(np.r_[beta, intercept], exact, rtol=1e-12)


def test_an_uncertified_l1_reference_is_refused():
    def f(x):  # a concave function: no minimum, so no active set settles
        return -(x**2).sum()

    with pytest.raises(AssertionError):
        polished_l1_minimum(f, np.array([1.0, -1.0]), np.array([0.1, 0.1]), max_rounds=3)


def test_the_lad_vertex_of_an_intercept_is_the_median_and_a_wrong_vertex_is_refused():
    rng = np.random.default_rng(2)
    y = rng.standard_normal(41)
    A = np.ones((41, 1))
    assert lad_vertex(A, y, [np.median(y) + 1e-9]) == pytest.approx(np.median(y), abs=0)
    with pytest.raises(AssertionError, match="not optimal"):
        lad_vertex(A, y, [np.sort(y)[5]])  # a data point, hence a vertex, but far from the median

"""Fits do not depend on how the rows are chunked: 1, 7 and 250 chunks give the same estimate.

Every reduction over the data (statistics, log-likelihood, gradient, Hessian) is a sum of per-chunk
contributions, so the number of chunks changes only the order of additions. Each case is fitted with
every in-memory source cut into 1, 7 and 250 chunks; estimates, standard errors and log-likelihoods
agree to 1e-12 relative. (Discrete samples are reduced to their distinct values and the Weibull profile
solver reads its features whole, so neither is chunked in memory.)
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

import mlemap as mm
from mlemap.core import source

N = 3_000
CHUNKINGS = {1: N, 7: -(-N // 7), 250: N // 250}


@pytest.fixture
def chunked(monkeypatch):
    """``chunked(k)``: from now on every in-memory source is cut into chunks of ``N / k`` rows; returns
    the list of chunk counts of the ``N``-row sources whose chunks were then read."""
    original_init, original_chunk = source.InMemorySource.__init__, source.InMemorySource._chunk
    read: list[int] = []

    def chunk(self, start, stop):
        if self.n_rows == N:
            read.append(self.n_chunks)
        return original_chunk(self, start, stop)

    monkeypatch.setattr(source.InMemorySource, "_chunk", chunk)

    def set_chunks(k):
        def init(self, columns, *, chunk_rows=None, constants=None):
            original_init(self, columns, chunk_rows=CHUNKINGS[k], constants=constants)

        monkeypatch.setattr(source.InMemorySource, "__init__", init)
        read.clear()
        return read

    return set_chunks


DISTRIBUTIONS = {
    "normal": lambda rng: rng.normal(1.0, 2.0, N),  # statistics merged by Chan's formula
    "gamma": lambda rng: rng.gamma(2.5, 1.5, N),  # log-gap statistics, profile Newton
    "beta": lambda rng: rng.beta(2.0, 5.0, N),
    "gumbel": lambda rng: rng.gumbel(0.5, 2.0, N),  # trust-region Newton over the chunks
    "studentt": lambda rng: 1.0 + 2.0 * rng.standard_t(4.0, N),
    "cauchy": lambda rng: rng.standard_cauchy(N),
    "logistic": lambda rng: rng.logistic(0.5, 2.0, N),
}


def _same(fits):
    first = fits[0]
    for other in fits[1:]:
        assert other.loglik == pytest.approx(first.loglik, rel=1e-12)
        for name, value in first.params.items():
            np.testing.assert_allclose(other.params[name], value, rtol=1e-12, err_msg=name)
            np.testing.assert_allclose(other.se[name], first.se[name], rtol=1e-12, err_msg=f"standard error of {name}")


@pytest.mark.parametrize("family", list(DISTRIBUTIONS))
def test_distribution_fits_do_not_depend_on_the_chunking(chunked, family):
    x = DISTRIBUTIONS[family](np.random.default_rng(41))
    fits = []
    for k in CHUNKINGS:
        read = chunked(k)
        fits.append(mm.fit(family, x))
        assert read.count(k) >= k, f"the fit did not read the data in {k} chunks"
    assert all(f.converged for f in fits)
    _same(fits)


def _design(rng):
    X = rng.normal(size=(N, 4))
    X[:, 1] *= 100.0
    return X, X @ np.array([-0.4, 0.004, 0.1, 0.4])


REGRESSIONS = {
    "LogisticRegression": lambda rng, eta: (mm.LogisticRegression(), (rng.random(N) < 1 / (1 + np.exp(-eta))).astype(int)),
    "PoissonRegression": lambda rng, eta: (mm.PoissonRegression(), rng.poisson(np.exp(eta))),
    "SoftmaxRegression": lambda rng, eta: (mm.SoftmaxRegression(), np.digitize(eta + rng.logistic(size=N), [-0.5, 0.5])),
}


@pytest.mark.parametrize("estimator", sorted(REGRESSIONS))
def test_regression_fits_do_not_depend_on_the_chunking(chunked, estimator):
    rng = np.random.default_rng(42)
    X, eta = _design(rng)
    model, y = REGRESSIONS[estimator](rng, eta)
    coefs = []
    for k in CHUNKINGS:
        read = chunked(k)
        m = clone(model).fit(X, y)
        assert read.count(k) >= k, f"the fit did not read the data in {k} chunks"
        coefs.append(np.r_[np.ravel(m.coef_), np.ravel(m.intercept_), np.ravel(m.se_)])
    for other in coefs[1:]:
        np.testing.assert_allclose(other, coefs[0], rtol=1e-12, atol=1e-14)

"""Loss equivalences, tested rather than asserted.

* the Bernoulli negative log-likelihood is ``binary_cross_entropy_with_logits``;
* the categorical negative log-likelihood is ``cross_entropy``;
* the Poisson log-likelihood is scipy's ``poisson.logpmf`` summed (log-factorials by a table of the
  distinct counts, or row by row), and its fused value-and-gradient equals the two apart;
* the Gaussian MLE is ordinary least squares (``numpy.linalg.lstsq`` on a well-conditioned design);
* the Laplace MLE is least absolute deviations (the LP vertex that statsmodels ``QuantReg`` at q = 0.5
  points to, solved exactly);
* weight decay in torch's SGD is a Gaussian prior: ``weight_decay=lam`` adds ``lam * w`` to the
  gradient of the mean loss, i.e. ``(lam / 2) ||w||^2`` to it, so SGD on the mean NLL converges to the
  ridge MAP with ``alpha = n * lam`` (``l2 = alpha`` on the summed NLL).
"""

import numpy as np
import pytest
import statsmodels.api as sm
import torch
import torch.nn.functional as F
from reference import lad_vertex

import mlemap.models as mm
from mlemap import priors
from mlemap.glm.family import BernoulliGLM, CategoricalGLM, PoissonGLM
from mlemap.glm.gram import torch_single_thread


def test_bernoulli_nll_is_binary_cross_entropy_with_logits():
    rng = np.random.default_rng(710)
    eta = torch.from_numpy(rng.normal(0, 3, 500))
    y = torch.from_numpy((rng.random(500) < 0.4).astype(float))
    ours = BernoulliGLM().nll(y, eta)
    torch.testing.assert_close(ours, F.binary_cross_entropy_with_logits(eta, y, reduction="none"))
    explicit = -(y * torch.log(torch.sigmoid(eta)) + (1 - y) * torch.log(torch.sigmoid(-eta)))
    torch.testing.assert_close(ours, explicit, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("counts", ["small", "large", "weighted"])
def test_poisson_log_likelihood_is_scipys_logpmf_summed(counts):
    from scipy import stats

    rng = np.random.default_rng(712)
    eta = rng.normal(1.0, 1.5, 2000)
    y = rng.poisson(np.exp(eta)).astype(float)
    if counts == "large":
        y[7] = 1e6  # beyond the table: log-factorials row by row
    w = rng.random(2000) if counts == "weighted" else None
    fam = PoissonGLM()
    ours = float(fam.log_likelihood(torch.from_numpy(y), torch.from_numpy(eta), None if w is None else torch.from_numpy(w)))
    terms = stats.poisson.logpmf(y, np.exp(eta))
    want = float(np.sum(terms if w is None else w * terms))
    assert ours == pytest.approx(want, rel=1e-13)
    nll, grad = fam.nll_and_grad(torch.from_numpy(y), torch.from_numpy(eta))
    torch.testing.assert_close(nll, fam.nll(torch.from_numpy(y), torch.from_numpy(eta)), rtol=0, atol=0)
    torch.testing.assert_close(grad, fam.grad(torch.from_numpy(y), torch.from_numpy(eta)), rtol=0, atol=0)


def test_categorical_nll_is_cross_entropy():
    rng = np.random.default_rng(711)
    eta = torch.from_numpy(rng.normal(0, 2, (400, 4)))
    y = torch.from_numpy(rng.integers(0, 4, 400))
    ours = CategoricalGLM().nll(y, eta)
    torch.testing.assert_close(ours, F.cross_entropy(eta, y, reduction="none"))
    explicit = -torch.log_softmax(eta, dim=1)[torch.arange(400), y]
    torch.testing.assert_close(ours, explicit)


def test_logistic_loglik_is_minus_summed_cross_entropy_at_the_fit():
    rng = np.random.default_rng(712)
    X = rng.standard_normal((300, 3))
    y = (rng.random(300) < 1 / (1 + np.exp(-X @ [1.0, -1.0, 0.5]))).astype(float)
    m = mm.LogisticRegression().fit(X, y)
    eta = torch.from_numpy(X @ m.coef_ + m.intercept_)
    bce = F.binary_cross_entropy_with_logits(eta, torch.from_numpy(y), reduction="sum")
    assert m.loglik_ == pytest.approx(-float(bce), rel=1e-13)


def test_gaussian_mle_is_ordinary_least_squares():
    rng = np.random.default_rng(713)
    X = rng.standard_normal((200, 4))
    y = 2.0 + X @ [1.0, 0.0, -2.0, 0.5] + rng.standard_normal(200)
    m = mm.LinearRegression().fit(X, y)
    A = np.column_stack([X, np.ones(200)])
    ols, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(np.r_[m.coef_, m.intercept_], ols, rtol=1e-12)


def test_laplace_mle_is_least_absolute_deviations():
    rng = np.random.default_rng(714)
    X = rng.standard_normal((301, 3))
    y = 1.0 + X @ [1.0, 2.0, 3.0] + rng.laplace(size=301)
    m = mm.LaplaceRegression().fit(X, y)
    r = sm.QuantReg(y, sm.add_constant(X)).fit(q=0.5, max_iter=10_000, p_tol=1e-12)
    exact = lad_vertex(sm.add_constant(X), y, r.params)  # QuantReg stops ~1e-7 short of the vertex
    np.testing.assert_allclose(np.r_[m.intercept_, m.coef_], exact, rtol=1e-12)
    sad_ours = np.abs(y - m.predict(X)).sum()
    sad_sm = np.abs(y - sm.add_constant(X) @ r.params).sum()
    assert sad_ours <= sad_sm * (1 + 1e-12)
    assert m.scale_ == pytest.approx(sad_ours / 301, rel=1e-12)


def test_sgd_weight_decay_is_a_gaussian_prior_with_alpha_n_times_lambda():
    rng = np.random.default_rng(715)
    n = 200
    X = rng.standard_normal((n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.5 + X @ [1.5, -1.0, 0.5])))).astype(float)
    lam = 0.01
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    with torch_single_thread():  # thousands of tiny steps: torch's thread pool would only add overhead
        w, b = _sgd(Xt, yt, w, b, lam)
    m = mm.LogisticRegression(prior=priors.ridge(alpha=n * lam)).fit(X, y)
    np.testing.assert_allclose(w.detach().numpy(), m.coef_, rtol=1e-8)
    assert float(b.detach()) == pytest.approx(m.intercept_, rel=1e-8)
    # the factor matters: alpha = lam (without n) is a different estimate
    wrong = mm.LogisticRegression(prior=priors.ridge(alpha=lam)).fit(X, y)
    assert np.abs(wrong.coef_ - m.coef_).max() > 1e-2


def _sgd(Xt, yt, w, b, lam):
    opt = torch.optim.SGD([{"params": [w], "weight_decay": lam}, {"params": [b], "weight_decay": 0.0}],
                          lr=0.5, momentum=0.9)
    for _ in range(3000):  # full-batch SGD: the mean NLL, weight decay on the coefficients only
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(Xt @ w + b, yt)
        loss.backward()
        opt.step()
    return w, b

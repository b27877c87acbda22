"""Posteriors, predictives and fitted distributions that mlemap returns print their parameters."""

import pickle

import numpy as np
import torch
import torch.distributions as td

import mlemap as mm
from mlemap.distributions import readable as readable_module


def test_a_conjugate_posterior_prints_its_parameters():
    r = mm.fit("bernoulli", [1, 1, 1], prior={"probs": td.Beta(2.0, 2.0)})
    post = r.posterior["probs"]
    assert repr(post) == "Beta(concentration1=5.0, concentration0=2.0)"
    assert isinstance(post, td.Beta) and type(post).__name__ == "Beta"
    assert repr(r.predictive()) == f"Bernoulli(probs={5 / 7!r})"
    assert repr(r.distribution()) == "Bernoulli(probs=0.8)"


def test_torch_itself_is_left_alone():
    assert repr(td.Beta(torch.tensor(5.0), torch.tensor(2.0))) == "Beta()"


def test_vectors_laplace_posteriors_and_multivariate_fits():
    r = mm.fit("categorical", [0, 1, 2, 1, 1], prior={"probs": td.Dirichlet(torch.ones(3, dtype=torch.float64))})
    assert repr(r.posterior["probs"]) == "Dirichlet(concentration=[2.0, 4.0, 2.0])"
    x = np.random.default_rng(0).gamma(2.0, 1.0, 50)
    laplace = mm.fit("gamma", x, prior={"rate": td.Gamma(2.0, 1.0)}).posterior["rate"]
    assert repr(laplace).startswith("Normal(loc=") and "scale=" in repr(laplace)
    mvn = mm.fit("multivariate_normal", np.random.default_rng(1).normal(size=(40, 2))).distribution()
    assert repr(mvn).startswith("MultivariateNormal(loc=[") and "shape=(2, 2)" in repr(mvn)
    assert "precision_matrix" not in repr(mvn) and "scale_tril" not in repr(mvn)


def test_readable_distributions_still_work_and_pickle(monkeypatch):
    post = mm.fit("bernoulli", [1, 0, 1], prior={"probs": td.Beta(2.0, 2.0)}).posterior["probs"]
    assert float(post.mean) == 4 / 7
    assert repr(post.expand((2,))) == "Beta(concentration1=[4.0, 4.0], concentration0=[3.0, 3.0])"
    blob = pickle.dumps(post)
    assert repr(pickle.loads(blob)) == repr(post)
    # in a fresh process the class does not exist yet: unpickling creates it
    monkeypatch.delattr(readable_module, "ReadableBeta")
    monkeypatch.setattr(readable_module, "_SUBCLASSES", {})
    assert repr(pickle.loads(blob)) == repr(post)

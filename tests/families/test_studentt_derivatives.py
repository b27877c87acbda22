"""Student's t closed-form derivatives against autograd: the chunk sums in the natural parameters,
and the contribution in the unconstrained coordinates (the chain rule through the layout)."""

import numpy as np
import pytest
import torch

from mlemap.core.contribution import autograd_contribution
from mlemap.core.distribution import DistributionModel
from mlemap.core.layout import ParameterLayout
from mlemap.families.registry import resolve_family
from mlemap.families.studentt_derivatives import studentt_derivatives


def _data(weighted: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(1.0 + 2.0 * rng.standard_t(3.0, 400))
    w = torch.from_numpy(rng.uniform(0.5, 2.0, 400)) if weighted else None
    return x, w


def _autograd(x, w, p):
    family = resolve_family("studentt")

    def log_likelihood(v):
        lp = family.log_prob({"x": x}, {"df": v[0], "loc": v[1], "scale": v[2]})
        return lp.sum() if w is None else (w * lp).sum()

    return autograd_contribution(log_likelihood, p, 2)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("df", [0.6, 4.0, 250.0, 3e5])
def test_closed_form_sums_equal_autograd(weighted, df):
    x, w = _data(weighted)
    p = torch.tensor([df, 0.8, 1.7], dtype=torch.float64)
    ref = _autograd(x, w, p)
    value, grad, hess = studentt_derivatives(x, w, p[0], p[1], p[2], 2)
    assert float(value) == pytest.approx(float(ref.value), rel=1e-13)
    # d/d df at a huge df is a difference of nearly equal terms in both computations
    np.testing.assert_allclose(grad.numpy(), ref.grad.numpy(), rtol=1e-12 if df < 1e3 else 1e-8, atol=1e-12)
    np.testing.assert_allclose(hess.numpy(), ref.hess.numpy(), rtol=1e-11, atol=1e-12 * float(ref.hess.abs().max()))
    v1, g1, h1 = studentt_derivatives(x, w, p[0], p[1], p[2], 1)
    assert h1 is None and torch.equal(g1, grad) and float(v1) == float(value)


@pytest.mark.parametrize("free", [("df", "loc", "scale"), ("loc", "scale"), ("df",)])
def test_the_contribution_in_unconstrained_coordinates_equals_autograd(free):
    family = resolve_family("studentt")
    x, w = _data(True, seed=1)
    chunk = {"x": x, "weight": w}
    natural = {"df": torch.tensor(3.5, dtype=torch.float64), "loc": torch.tensor(0.9, dtype=torch.float64),
               "scale": torch.tensor(2.2, dtype=torch.float64)}
    fixed = {n: v for n, v in natural.items() if n not in free}
    layout = ParameterLayout(list(free), {n: torch.Size([]) for n in free},
                             {n: family.constraint(n) for n in free})
    model = DistributionModel(family, layout, fixed)
    u = layout.pack({n: natural[n] for n in free}).to(torch.float64) + 0.1
    got = model.contribution(chunk, u, 2)
    ref = autograd_contribution(lambda v: -model.log_likelihood(chunk, model.params(v)), u, 2)
    assert float(got.value) == pytest.approx(float(ref.value), rel=1e-13)
    np.testing.assert_allclose(got.grad.numpy(), ref.grad.numpy(), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(got.hess.numpy(), ref.hess.numpy(), rtol=1e-11, atol=1e-11)
    again = model.contribution(chunk, u, 1)  # the chain kept for this point
    np.testing.assert_allclose(again.grad.numpy(), got.grad.numpy(), rtol=0, atol=0)

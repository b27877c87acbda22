"""In-memory data sources and additive contributions."""

import numpy as np
import pytest
import torch

from mlemap.core.contribution import Contribution, autograd_contribution
from mlemap.core.source import InMemorySource


def test_chunks_cover_every_row_once_in_order_with_constants_attached():
    x = torch.arange(10.0, dtype=torch.float64)
    src = InMemorySource({"x": x, "w": 2 * x}, chunk_rows=3, constants={"total_count": torch.tensor(5.0)})
    chunks = list(src.chunks())
    assert [len(c["x"]) for c in chunks] == [3, 3, 3, 1] and src.n_chunks == 4
    assert torch.equal(torch.cat([c["x"] for c in chunks]), x)
    assert all(float(c["total_count"]) == 5.0 for c in chunks)
    assert float(src.map_reduce(lambda c: c["w"].sum())) == 90.0


def test_sources_check_row_counts_and_take_rows():
    with pytest.raises(ValueError, match="same number of rows"):
        InMemorySource({"a": np.zeros(3), "b": np.zeros(4)})
    src = InMemorySource({"a": np.arange(5.0), "b": torch.arange(5.0)})
    sub = src.take(np.array([4, 0]))
    assert sub.n_rows == 2 and list(sub.column("a")) == [4.0, 0.0] and sub.column("b").tolist() == [4.0, 0.0]


def test_mapped_source_transforms_each_chunk():
    src = InMemorySource({"x": torch.arange(6.0)}, chunk_rows=4).map(lambda c: {"y": c["x"] ** 2})
    assert float(src.map_reduce(lambda c: c["y"].sum())) == 55.0


def test_contributions_add_and_autograd_is_exact():
    x = torch.tensor([0.3, -1.2], dtype=torch.float64)
    a = autograd_contribution(lambda v: (v ** 3).sum(), x, 2)
    b = autograd_contribution(lambda v: v[0] * v[1], x, 2)
    c = a + b
    np.testing.assert_allclose(c.grad.numpy(), [3 * 0.09 + -1.2, 3 * 1.44 + 0.3], rtol=1e-15)
    np.testing.assert_allclose(c.hess.numpy(), [[6 * 0.3, 1.0], [1.0, 6 * -1.2]], rtol=1e-15)
    assert sum([a, b]).value == c.value
    const = autograd_contribution(lambda v: torch.tensor(2.0, dtype=torch.float64), x, 2)
    assert float(const.value) == 2.0 and not const.grad.any() and not const.hess.any()
    assert isinstance(c, Contribution)

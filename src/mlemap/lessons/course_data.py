"""The course's own data sets, drawn as the course draws them, so that lessons can quote its numbers.

The first notebook of the course seeds torch's generator with 0 once and then draws, in this order:
a linear-regression sample (200 x 2 features, 200 noise values), a logistic sample (300 x 2, then
300 Bernoulli labels), three Gaussian clusters (300 class labels, 300 x 2 offsets), and a sparse
regression (80 x 20 features, 80 noise values). Replaying the same draws from a private generator
gives the same numbers without touching torch's global state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

#: the sparse regression's true weights: five active features out of twenty
SPARSE_TRUTH = np.array([2.0, -1.5, 1.0, 0.7, -0.4] + [0.0] * 15)
#: the three cluster centres of the multiclass example, and the spread around them
CLUSTER_CENTRES = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
CLUSTER_SD = 0.6


@dataclass(frozen=True)
class CourseDraws:
    clusters_X: np.ndarray  # (300, 2)
    clusters_y: np.ndarray  # (300,) labels 0, 1, 2
    sparse_X: np.ndarray  # (80, 20)
    sparse_y: np.ndarray  # (80,)


def course_draws() -> CourseDraws:
    """Replay the first notebook's random draws (torch generator seeded with 0), in its order."""
    g = torch.Generator().manual_seed(0)
    f32 = torch.float32
    torch.randn(200, 2, generator=g, dtype=f32)  # linear regression: features
    torch.randn(200, generator=g, dtype=f32)  # ... and noise
    X_logistic = torch.randn(300, 2, generator=g, dtype=f32)
    logits = X_logistic @ torch.tensor([2.0, -1.5]) + 0.3
    torch.bernoulli(torch.sigmoid(logits), generator=g)  # logistic labels
    labels = torch.randint(0, 3, (300,), generator=g)
    clusters = torch.tensor(CLUSTER_CENTRES, dtype=f32)[labels] + CLUSTER_SD * torch.randn(300, 2, generator=g, dtype=f32)
    X = torch.randn(80, 20, generator=g, dtype=f32)
    y = X @ torch.tensor(SPARSE_TRUTH, dtype=f32) + 0.3 * torch.randn(80, generator=g, dtype=f32)
    as64 = lambda t: t.double().numpy()  # noqa: E731 - float32 draws, analysed in float64
    return CourseDraws(as64(clusters), labels.numpy().astype(int), as64(X), as64(y))

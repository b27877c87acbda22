"""What one pass over a regression's rows adds up: the sums of the intercept-only start
(:class:`InitialSums`) and the fit's summary (:class:`FitSummary`: log-likelihood, largest linear
predictor, the sandwich's meat). Each is additive (``a + b`` merges two chunks' values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .distribution import WEIGHT


def as_numpy(value) -> np.ndarray | None:
    """``value`` (a tensor on any device, an array or None) as a NumPy array."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


# ---------------------------------------------------------------------- the intercept-only start
@dataclass
class InitialSums:
    """:math:`W = \\sum w`, :math:`\\sum w y`, :math:`\\sum w o`, :math:`\\sum w e^{o}` and the class
    weights: what the intercept-only maximum likelihood needs; ``a + b`` adds them."""

    weight: float
    wy: float = 0.0
    wo: float = 0.0
    w_exp_o: float = 0.0
    classes: np.ndarray | None = None
    has_offset: bool = False

    @classmethod
    def of(cls, family, n_classes: int | None, y: np.ndarray, w: np.ndarray | None, offset: np.ndarray | None):
        W = float(y.shape[0]) if w is None else float(w.sum())
        if family.multiclass:
            counts = np.bincount(y.astype(np.int64), weights=w, minlength=n_classes).astype(np.float64)
            return cls(W, classes=counts, has_offset=offset is not None)
        total = (lambda v: float(v.sum())) if w is None else (lambda v: float(np.dot(w, v)))  # noqa: E731
        out = cls(W, total(y), has_offset=offset is not None)
        if offset is not None and offset.ndim == 1:
            out.wo = total(offset)
            out.w_exp_o = total(np.exp(offset))
        return out

    def __add__(self, other: "InitialSums") -> "InitialSums":
        classes = None if self.classes is None else self.classes + other.classes
        return InitialSums(self.weight + other.weight, self.wy + other.wy, self.wo + other.wo,
                           self.w_exp_o + other.w_exp_o, classes, self.has_offset)

    def initial(self, m) -> np.ndarray:
        """The packed intercept-only MLE of the model ``m`` (zeros without an intercept)."""
        theta = np.zeros(m.size)
        if not m.intercept:
            return theta
        W, name = self.weight, m.family.name
        if name == "bernoulli":
            mean = float(np.clip(self.wy / W, 1e-10, 1 - 1e-10))
            theta[m.d] = np.log(mean / (1 - mean))
        elif name == "poisson":
            base = self.w_exp_o if self.has_offset else W
            theta[m.d] = np.log(max(self.wy, 1e-10 * W) / base)
        elif name == "gaussian":
            theta[m.d] = (self.wy - self.wo) / W
        elif name == "categorical":
            logf = np.log(np.maximum(self.classes / W, 1e-10))
            ref = 0.0 if m.k == m.n_classes else logf[next(c for c in range(m.n_classes) if c not in m.free)]
            for a, k in enumerate(m.free):
                theta[a * m.p1 + m.d] = logf[k] - ref
            if m.k == m.n_classes:
                rows = theta.reshape(m.k, m.p1)
                rows[:, m.d] -= rows[:, m.d].mean()
        return theta


# ---------------------------------------------------------------------- what a fit reports of the rows
@dataclass
class FitSummary:
    """Log-likelihood, the largest :math:`|\\eta|` over rows of positive weight, and (optionally) the
    outer product of the per-row scores :math:`\\sum_i w_i\\, g_i g_i^\\top`; ``a + b`` merges them."""

    loglik: float
    largest: float
    meat: np.ndarray | None = None

    def __add__(self, other: "FitSummary") -> "FitSummary":
        meat = None if self.meat is None else self.meat + other.meat
        return FitSummary(self.loglik + other.loglik, max(self.largest, other.largest), meat)


@dataclass
class SummaryMap:
    """One chunk -> its :class:`FitSummary` at ``theta`` (picklable)."""

    model: Any
    theta: torch.Tensor
    meat: bool = False

    def __call__(self, chunk) -> FitSummary:
        from ..glm.inference import score_outer

        m = self.model
        eta = m.eta_of(chunk, self.theta)
        w = chunk.get(WEIGHT)
        loglik = float(m.family.log_likelihood(chunk["y"], eta, w, None))
        positive = eta if w is None else eta[(w > 0).to(eta.device)]
        largest = float(positive.abs().max()) if positive.numel() else 0.0
        meat = None
        if self.meat:
            r = m.family.grad(chunk["y"], eta)
            r = r[:, m.free] if m.multiclass else r
            X = np.ascontiguousarray(as_numpy(chunk["X"]), dtype=np.float64)
            meat = score_outer(X, as_numpy(r), as_numpy(w), m.intercept)
        return FitSummary(loglik, largest, meat)

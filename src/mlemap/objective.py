"""The objective the numerical engine minimises, with exact derivatives from autograd.

.. math:: f(u) = -\\sum_i w_i \\log p(x_i \\mid \\theta(u)) - \\sum_j \\log \\pi_j(\\theta_j(u))

where :math:`\\theta(u)` maps the unconstrained vector to the natural parameters (see
:mod:`mlemap.layout`) and :math:`\\pi_j` are the priors (absent for MLE). The prior is a density in
the parameter's own space (or the space it was stated in, such as ``variance``); no Jacobian term is
added, so the minimiser is the posterior mode in that space whatever the optimisation coordinates.

Data-based likelihoods are summed over chunks of rows that fit in cache, which halves the cost of
the Hessian on large samples; likelihoods with sufficient statistics cost O(1) per evaluation.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from .families.base import Family
from .families.statistics import SufficientStatistics
from .layout import ParameterLayout
from .priors.resolve import PriorTerm

CHUNK_ELEMENTS = 1 << 17


class Objective:
    """Negative log-likelihood (plus minus log-prior) as a function of the unconstrained vector."""

    def __init__(
        self,
        family: Family,
        layout: ParameterLayout,
        fixed: Mapping[str, torch.Tensor],
        priors: Mapping[str, PriorTerm],
        *,
        chunks: Sequence[tuple[dict[str, torch.Tensor], torch.Tensor | None]] | None = None,
        stats: SufficientStatistics | None = None,
    ):
        if (chunks is None) == (stats is None):
            raise ValueError("give exactly one of chunks or stats")
        self.family = family
        self.layout = layout
        self.fixed = dict(fixed)
        self.priors = dict(priors)
        self.chunks = chunks
        self.stats = stats

    # ------------------------------------------------------------------ building blocks
    def params(self, u: torch.Tensor) -> dict[str, torch.Tensor]:
        return {**self.fixed, **self.layout.unpack(u)}

    def _chunk_log_likelihood(self, feats, w, params) -> torch.Tensor:
        lp = self.family.log_prob(feats, params)
        return lp.sum() if w is None else (w * lp).sum()

    def log_likelihood_at(self, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """:math:`\\sum_i w_i \\log p(x_i \\mid \\theta)` at natural parameters (fixed ones filled in)."""
        full = {**self.fixed, **params}
        if self.stats is not None:
            return self.family.log_likelihood_stats(self.stats, full)
        return sum(self._chunk_log_likelihood(f, w, full) for f, w in self.chunks)

    def log_prior_at(self, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        total = None
        for base, term in self.priors.items():
            lp = term.log_prob(params[base])
            total = lp if total is None else total + lp
        return total if total is not None else torch.zeros(())

    # ------------------------------------------------------------------ evaluations
    def value(self, u: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            params = self.params(u)
            f = -self.log_likelihood_at(params)
            if self.priors:
                f = f - self.log_prior_at(params)
            return torch.nan_to_num(f, nan=torch.inf, posinf=torch.inf)

    def value_and_grad(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f, g, _ = self._evaluate(u, order=1)
        return f, g

    def value_grad_hess(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self._evaluate(u, order=2)

    def _pieces(self):
        if self.stats is not None:
            yield lambda params: self.family.log_likelihood_stats(self.stats, params)
        else:
            for feats, w in self.chunks:
                yield lambda params, feats=feats, w=w: self._chunk_log_likelihood(feats, w, params)
        if self.priors:
            yield self.log_prior_at

    def _evaluate(self, u: torch.Tensor, order: int):
        p = u.numel()
        f_total = torch.zeros((), dtype=u.dtype, device=u.device)
        g_total = torch.zeros(p, dtype=u.dtype, device=u.device)
        h_total = torch.zeros(p, p, dtype=u.dtype, device=u.device) if order == 2 else None
        for piece in self._pieces():
            uu = u.detach().clone().requires_grad_(True)
            f = -piece(self.params(uu))
            if not f.requires_grad:  # a piece that does not depend on the free parameters
                f_total = f_total + f.detach()
                continue
            (g,) = torch.autograd.grad(f, uu, create_graph=order == 2)
            f_total = f_total + f.detach()
            g_total = g_total + g.detach()
            if order == 2:
                h_total = h_total + _hessian_rows(g, uu)
        f_total = torch.nan_to_num(f_total, nan=torch.inf, posinf=torch.inf)
        return f_total, g_total, h_total

    # ------------------------------------------------------------------ variants
    def with_layout(self, layout: ParameterLayout, fixed: Mapping[str, torch.Tensor] | None = None) -> "Objective":
        return Objective(
            self.family,
            layout,
            self.fixed if fixed is None else fixed,
            self.priors,
            chunks=self.chunks,
            stats=self.stats,
        )

    def with_priors(self, priors: Mapping[str, PriorTerm]) -> "Objective":
        return Objective(self.family, self.layout, self.fixed, priors, chunks=self.chunks, stats=self.stats)


def _hessian_rows(g: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Exact Hessian from the gradient graph: a backward pass per row, batched over the identity when many."""
    p = u.numel()
    if not g.requires_grad:
        return torch.zeros(p, p, dtype=u.dtype, device=u.device)
    if p <= 8:  # a few backward passes beat the one-off cost of setting up the batched pass
        rows = [torch.autograd.grad(g[i], u, retain_graph=True, allow_unused=True)[0] for i in range(p)]
        return torch.stack([r if r is not None else torch.zeros_like(u) for r in rows]).detach()
    eye = torch.eye(p, dtype=u.dtype, device=u.device)
    try:
        (H,) = torch.autograd.grad(g, u, grad_outputs=eye, is_grads_batched=True, allow_unused=True)
    except RuntimeError:  # an operation without a batching rule: fall back to one pass per row
        rows = [torch.autograd.grad(g[i], u, retain_graph=True, allow_unused=True)[0] for i in range(p)]
        H = torch.stack([r if r is not None else torch.zeros_like(u) for r in rows])
    if H is None:
        return torch.zeros(p, p, dtype=u.dtype, device=u.device)
    return H.detach()


def chunk_rows(feats: dict[str, torch.Tensor], w: torch.Tensor | None, n: int) -> list:
    """Split per-observation features (and weights) into chunks of about CHUNK_ELEMENTS numbers."""
    feats = {k: v for k, v in feats.items() if not k.startswith("sum_")}  # whole-sample totals do not split
    width = max((v[0].numel() if v.dim() > 0 and v.shape[0] == n else 1) for v in feats.values())
    rows = max(1024, CHUNK_ELEMENTS // max(width, 1))
    if n <= rows:
        return [(feats, w)]
    out = []
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        part = {k: (v[start:stop] if v.dim() > 0 and v.shape[0] == n else v) for k, v in feats.items()}
        out.append((part, None if w is None else w[start:stop]))
    return out

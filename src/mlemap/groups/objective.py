"""Every group's objective, with exact gradients and block-diagonal Hessians, in one pass.

For a batch of groups with scalar parameters :math:`\\theta_b` (natural values, shape ``(B,)`` per name),

.. math:: f_b(\\theta_b) = -\\sum_{i \\in b} w_i \\log p(x_i \\mid \\theta_b) - \\sum_j \\log\\pi_j(\\theta_{b,j}).

Each row gets its group's parameters gathered by group code, as leaves of its own; the family's
per-row log-density is differentiated once for the per-row gradients and once per parameter for the
Hessian columns (``p + 1`` backward passes in all, each over every row once), and the rows' terms
are added into their groups with ``index_add``. A family with sufficient statistics is evaluated
from each group's statistics instead (one "row" per group). The prior's terms are added per group.

The optimiser works in unconstrained coordinates :math:`u` with :math:`\\theta = T(u)` elementwise
(the family's bijections, as in the single fit); the chain rule gives
:math:`\\nabla_u f = T'(u) \\odot \\nabla_\\theta f` and
:math:`\\nabla^2_u f = \\operatorname{diag}(T') \\nabla^2_\\theta f \\operatorname{diag}(T') + \\operatorname{diag}(T'' \\odot \\nabla_\\theta f)`.
"""

from __future__ import annotations

from typing import Mapping

import torch

from ..families.transforms import unconstrained_bijection
from .kernels import kernel_of
from .statistics import take

#: rows evaluated together (bounds the memory of the derivative graph)
ROWS_PER_PIECE = 1 << 15


class BatchObjective:
    """The objective of each group over the parameters ``names`` (see the module docstring).

    ``held`` gives per-group values ``(G,)`` of further parameters held fixed (data extremes, values
    held at a limit); ``use_statistics=False`` evaluates row by row even where statistics exist.
    """

    def __init__(self, problem, names: list[str], held: Mapping[str, torch.Tensor] | None = None,
                 *, use_statistics: bool = True):
        self.problem = problem
        self.family = problem.family
        self.names = list(names)
        self.held = dict(held or {})
        self.transforms = [unconstrained_bijection(problem.constraint(n), torch.Size()) for n in self.names]
        self.stats = problem.statistics if use_statistics else None
        self.priors = {b: t for b, t in problem.priors.items() if b in self.names}

    @property
    def size(self) -> int:
        return len(self.names)

    # ------------------------------------------------------------------ coordinates
    def natural(self, u: torch.Tensor) -> dict[str, torch.Tensor]:
        return {n: t(u[:, j]) for j, (n, t) in enumerate(zip(self.names, self.transforms))}

    def unconstrained(self, theta: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.stack([t.inv(theta[n]) for n, t in zip(self.names, self.transforms)], 1)

    # ------------------------------------------------------------------ evaluation
    def _transform(self, u: torch.Tensor):
        """Natural values, :math:`T'(u)` and :math:`T''(u)` of every coordinate."""
        uu = [u[:, j].detach().requires_grad_(True) for j in range(self.size)]
        thetas = [t(v) for t, v in zip(self.transforms, uu)]
        first = [torch.autograd.grad(th.sum(), v, create_graph=True)[0] for th, v in zip(thetas, uu)]
        second = [_grad_or_zero(d1.sum(), v) for d1, v in zip(first, uu)]
        theta = {n: th.detach() for n, th in zip(self.names, thetas)}
        return theta, torch.stack([d.detach() for d in first], 1), torch.stack(second, 1)

    def evaluate(self, u: torch.Tensor, groups: torch.Tensor):
        """Values, gradients and Hessians in ``u`` of the groups ``groups`` (ascending codes)."""
        theta, t1, t2 = self._transform(u)
        f, g, H = self.natural_derivatives(theta, groups)
        g_u = g * t1
        H_u = H * t1[:, :, None] * t1[:, None, :] + torch.diag_embed(g * t2)
        return f, g_u, H_u

    def to_natural(self, u: torch.Tensor, f: torch.Tensor, g_u: torch.Tensor, H_u: torch.Tensor):
        """:meth:`evaluate`'s values turned back into natural coordinates (the chain rule inverted)."""
        _, t1, t2 = self._transform(u)
        g = g_u / t1
        H = (H_u - torch.diag_embed(g * t2)) / (t1[:, :, None] * t1[:, None, :])
        return f, g, 0.5 * (H + H.transpose(1, 2))

    def natural_derivatives(self, theta: Mapping[str, torch.Tensor], groups: torch.Tensor, order: int = 2):
        """Values, gradients and Hessians in the natural parameters (order 0: values only)."""
        B, p = groups.numel(), self.size
        dtype, device = self.problem.dtype, self.problem.device
        f = torch.zeros(B, dtype=dtype, device=device)
        g = torch.zeros(B, p, dtype=dtype, device=device)
        H = torch.zeros(B, p, p, dtype=dtype, device=device)
        kernel = kernel_of(self.family) if self.stats is None else None
        for rows, local, lp_of in self._pieces(groups, kernel if order == 2 else None):
            _accumulate(lp_of, {n: theta[n][local] for n in self.names}, local, f, g, H, order)
        if self.priors:
            _accumulate(self.log_prior, dict(theta), torch.arange(B, device=device), f, g, H, order)
        f = torch.nan_to_num(-f, nan=float("inf"), posinf=float("inf"))
        if not order:
            return f
        for i in range(self.size):  # the upper triangle from the lower
            for j in range(i):
                H[:, j, i] = H[:, i, j]
        return f, -g, -H

    def _pieces(self, groups: torch.Tensor, kernel=None):
        """``(rows, local group of each row, log-density function of the row parameters)`` per piece;
        with a ``kernel`` (:mod:`.kernels`) the function returns the rows' derivatives in closed form."""
        p = self.problem
        held = {k: v[groups] for k, v in self.held.items()}
        if self.stats is not None:
            stats = take(self.stats, groups)
            local = torch.arange(groups.numel(), device=groups.device)
            scalars = {k: v for k, v in p.fixed.items() if v.dim() == 0}
            yield None, local, lambda params: self.family.log_likelihood_stats(stats, {**scalars, **held, **params})
            return
        everyone = groups.numel() == p.n_groups
        if everyone:  # contiguous pieces of the rows: views, no copies
            rows, local_all = None, p.codes
        else:
            rows = p.index.rows_of(groups)
            local_all = torch.repeat_interleave(torch.arange(groups.numel(), device=groups.device), p.index.count[groups])
        n_sel = local_all.shape[0]
        feats = p.features
        per_row = {k for k, v in {**feats, **p.fixed}.items() if v.dim() > 0 and v.shape[0] == p.n_rows and p.n_rows > 1}
        for a in range(0, n_sel, ROWS_PER_PIECE):
            r = slice(a, a + ROWS_PER_PIECE) if rows is None else rows[a : a + ROWS_PER_PIECE]
            local = local_all[a : a + ROWS_PER_PIECE]
            chunk = {k: (v[r] if k in per_row else v) for k, v in feats.items()}
            fixed = {k: (v[r] if k in per_row else v) for k, v in p.fixed.items()}
            held_rows = {k: v[local] for k, v in held.items()}
            w = None if p.weights is None else p.weights[r]

            def lp_of(params, chunk=chunk, fixed=fixed, held_rows=held_rows, w=w):
                lp = self.family.log_prob(chunk, {**fixed, **held_rows, **params})
                return lp if w is None else w * lp

            if kernel is not None:
                lp_of = _closed_form_rows(kernel, chunk, fixed, held_rows, w)
            yield r, local, lp_of

    def log_prior(self, theta: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """:math:`\\sum_j \\log\\pi_j(\\theta_{b,j})` per group, each prior in the space it is stated in."""
        total = 0.0
        for base, term in self.priors.items():
            value = theta[base] if term.derived is None else term.derived.forward(theta[base])
            total = total + term.prior.log_prob(value)
        return total

    def log_likelihood(self, theta: Mapping[str, torch.Tensor], groups: torch.Tensor) -> torch.Tensor:
        """:math:`\\sum_{i \\in b} w_i \\log p(x_i \\mid \\theta_b)` per group (no prior)."""
        B = groups.numel()
        f = torch.zeros(B, dtype=self.problem.dtype, device=self.problem.device)
        with torch.no_grad():
            for _, local, lp_of in self._pieces(groups):
                f.index_add_(0, local, lp_of({n: theta[n][local] for n in self.names}))
        return f


class _closed_form_rows:
    """A piece's rows evaluated by a kernel: log-densities with their derivatives, weighted."""

    def __init__(self, kernel, chunk, fixed, held_rows, w):
        self.kernel, self.chunk, self.fixed, self.held_rows, self.w = kernel, chunk, fixed, held_rows, w

    def __call__(self, params):
        lp, grad, hess = self.kernel(self.chunk, {**self.fixed, **self.held_rows, **params})
        if self.w is not None:
            lp, grad = self.w * lp, {k: self.w * v for k, v in grad.items()}
            hess = {k: self.w * v for k, v in hess.items()}
        return lp, grad, hess


def _accumulate(lp_of, values: Mapping[str, torch.Tensor], local: torch.Tensor, f, g, H, order: int) -> None:
    """Add the log-density terms (and their derivatives in ``values``) of one piece into their groups."""
    names = list(values)
    if isinstance(lp_of, _closed_form_rows):
        with torch.no_grad():
            lp, grad, hess = lp_of(dict(values))
            f.index_add_(0, local, lp)
            for j, a in enumerate(names):
                g[:, j].index_add_(0, local, grad[a])
                for i in range(j, len(names)):
                    pair = (names[i], a) if (names[i], a) in hess else (a, names[i])
                    H[:, i, j].index_add_(0, local, hess[pair])
        return
    if order == 0:
        with torch.no_grad():
            f.index_add_(0, local, lp_of(values).reshape(-1).expand(local.shape[0]))
        return
    leaves = [values[n].detach().requires_grad_(True) for n in names]
    lp = lp_of(dict(zip(names, leaves))).reshape(-1).expand(local.shape[0])
    f.index_add_(0, local, lp.detach())
    grads = torch.autograd.grad(lp.sum(), leaves, create_graph=order > 1, allow_unused=True)
    for j, d in enumerate(grads):
        if d is not None:
            g[:, j].index_add_(0, local, d.detach())
    if order < 2:
        return
    last = max((j for j, d in enumerate(grads) if d is not None and d.requires_grad), default=-1)
    for j, d in enumerate(grads):
        if d is None or not d.requires_grad:
            continue
        col = torch.autograd.grad(d.sum(), leaves[j:], retain_graph=j < last, allow_unused=True)
        for k, c in enumerate(col, start=j):
            if c is not None:
                H[:, k, j].index_add_(0, local, c)  # the lower triangle; mirrored once at the end


def _grad_or_zero(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if not y.requires_grad:
        return torch.zeros_like(x)
    (d,) = torch.autograd.grad(y, x, allow_unused=True)
    return torch.zeros_like(x) if d is None else d.detach()


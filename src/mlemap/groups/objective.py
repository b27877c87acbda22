"""Every group's objective, with exact gradients and block-diagonal Hessians, in one pass.

For a batch of groups with scalar parameters :math:`\\theta_b` (natural values, shape ``(B,)`` per name),

.. math:: f_b(\\theta_b) = -\\sum_{i \\in b} w_i \\log p(x_i \\mid \\theta_b) - \\sum_j \\log\\pi_j(\\theta_{b,j}).

Each row gets its group's parameters gathered by group code, as leaves of its own; the family's
per-row log-density is differentiated once for the per-row gradients and once per parameter for the
Hessian columns (``p + 1`` backward passes in all, each over every row once), and the rows' terms
are added into their groups by segment sums over pieces of whole groups (:mod:`.segments`). A family
with a kernel (:mod:`.kernels`) gets its derivatives in closed form from a few sums per group instead,
and a family with sufficient statistics is evaluated from each group's statistics (one "row" per
group). The prior's terms are added per group.

The optimiser works in unconstrained coordinates :math:`u` with :math:`\\theta = T(u)` elementwise
(the family's bijections, as in the single fit); the chain rule gives
:math:`\\nabla_u f = T'(u) \\odot \\nabla_\\theta f` and
:math:`\\nabla^2_u f = \\operatorname{diag}(T') \\nabla^2_\\theta f \\operatorname{diag}(T') + \\operatorname{diag}(T'' \\odot \\nabla_\\theta f)`.
"""

from __future__ import annotations

import itertools
from typing import Mapping

import torch

from ..families.transforms import unconstrained_bijection
from .kernels import kernel_of
from .segments import Segments
from .statistics import take

#: rows evaluated together (bounds the memory of the derivative graph)
ROWS_PER_PIECE = 1 << 15
#: rows evaluated together by a kernel (no graph: only a few per-row terms are held)
KERNEL_ROWS_PER_PIECE = 1 << 17


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
        for piece, lp_of in self._pieces(groups, kernel if order == 2 else None):
            if isinstance(lp_of, _SummedRows):
                lp_of.accumulate({n: theta[n][piece.groups] for n in self.names}, f, g, H)
            else:
                _accumulate(lp_of, {n: piece.gather(theta[n]) for n in self.names}, piece, f, g, H, order)
        if self.priors:
            _accumulate(self.log_prior, dict(theta), _Piece(slice(0, B)), f, g, H, order)
        f = torch.nan_to_num(-f, nan=float("inf"), posinf=float("inf"))
        if not order:
            return f
        for i in range(self.size):  # the upper triangle from the lower
            for j in range(i):
                H[:, j, i] = H[:, i, j]
        return f, -g, -H

    def _pieces(self, groups: torch.Tensor, kernel=None):
        """``(piece, log-density function of the row parameters)`` per piece of whole groups (:class:`_Piece`);
        with a ``kernel`` (:mod:`.kernels`) the function returns the rows' derivatives in closed form."""
        p = self.problem
        held = {k: v[groups] for k, v in self.held.items()}
        if self.stats is not None:
            stats = take(self.stats, groups)
            scalars = {k: v for k, v in p.fixed.items() if v.dim() == 0}
            yield _Piece(slice(0, groups.numel())), lambda params: self.family.log_likelihood_stats(
                stats, {**scalars, **held, **params})
            return
        counts = p.index.count[groups]
        rows = None if groups.numel() == p.n_groups else p.index.rows_of(groups)  # all rows: views, no copies
        feats = p.features
        per_row = {k for k, v in {**feats, **p.fixed}.items() if v.dim() > 0 and v.shape[0] == p.n_rows and p.n_rows > 1}
        if per_row & set(p.fixed):
            kernel = None  # a kernel takes one value of every parameter per group
        for piece in _whole_groups(counts, ROWS_PER_PIECE if kernel is None else KERNEL_ROWS_PER_PIECE):
            r = piece.rows if rows is None else rows[piece.rows]
            chunk = {k: (v[r] if k in per_row else v) for k, v in feats.items()}
            fixed = {k: (v[r] if k in per_row else v) for k, v in p.fixed.items()}
            held_rows = {k: piece.gather(v) for k, v in held.items()}
            w = None if p.weights is None else p.weights[r]
            if kernel is not None:
                B = piece.groups.stop - piece.groups.start
                constants = {**{k: v.expand(B) for k, v in fixed.items()}, **{k: v[piece.groups] for k, v in held.items()}}
                yield piece, _SummedRows(kernel, piece, chunk, constants, w)
                continue

            def lp_of(params, chunk=chunk, fixed=fixed, held_rows=held_rows, w=w):
                lp = self.family.log_prob(chunk, {**fixed, **held_rows, **params})
                return lp if w is None else w * lp

            yield piece, lp_of

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
            for piece, lp_of in self._pieces(groups):
                piece.add(f, lp_of({n: piece.gather(theta[n]) for n in self.names}))
        return f


class _Piece:
    """Whole groups ``groups`` (a slice of the batch) and their rows ``rows`` (a slice of the batch's
    rows, :class:`.segments.Segments` blocks ``segments``); without segments, one row per group."""

    def __init__(self, groups: slice, rows: slice | None = None, segments: Segments | None = None):
        self.groups, self.rows, self.segments = groups, rows, segments

    @property
    def n_rows(self) -> int:
        return self.groups.stop - self.groups.start if self.segments is None else self.segments.n_rows

    def gather(self, per_group: torch.Tensor) -> torch.Tensor:
        """The values of the piece's groups, one per row."""
        values = per_group[self.groups]
        return values if self.segments is None else self.segments.spread(values)

    def add(self, target: torch.Tensor, per_row: torch.Tensor) -> None:
        """Add the rows' terms into their groups' entries of ``target`` (leading dimension: the batch)."""
        per_row = per_row.reshape(-1).expand(self.n_rows)
        target[self.groups] += per_row if self.segments is None else self.segments.sum(per_row)


def _whole_groups(counts: torch.Tensor, size: int):
    """Pieces of consecutive whole groups of about ``size`` rows (a larger group is a piece of its own)."""
    ends = torch.cumsum(counts, 0)
    starts = ends - counts
    cuts = torch.nonzero(torch.diff(starts // size, prepend=starts[:1] - 1)).reshape(-1).tolist() + [counts.numel()]
    row_cuts = starts.tolist() + [int(ends[-1])] if counts.numel() else [0]
    for a, b in itertools.pairwise(cuts):
        yield _Piece(slice(a, b), slice(row_cuts[a], row_cuts[b]), Segments(counts[a:b]))


class _SummedRows:
    """A piece's groups evaluated by a kernel (:mod:`.kernels`): weighted sums of its row terms, combined per group."""

    def __init__(self, kernel, piece: _Piece, chunk, constants, w):
        self.kernel, self.piece, self.chunk, self.constants, self.w = kernel, piece, chunk, constants, w

    def accumulate(self, values: Mapping[str, torch.Tensor], f, g, H) -> None:
        """Add the piece's log-likelihood, gradients and Hessians (at per-group ``values``) into its groups."""
        seg, params = self.piece.segments, {**self.constants, **values}
        with torch.no_grad():
            terms = self.kernel.row_terms(self.chunk, params, seg)
            if self.w is None:
                sums, W = [seg.sum(t) for t in terms], seg.lengths.to(f.dtype)
            else:
                sums, W = [seg.sum(self.w * t) for t in terms], seg.sum(self.w)
            lp, grad, hess = self.kernel.combine(sums, params, W)
        names, at = list(values), self.piece.groups
        f[at] += lp
        for j, a in enumerate(names):
            g[at, j] += grad[a]
            for i in range(j, len(names)):
                H[at, i, j] += hess[(names[i], a) if (names[i], a) in hess else (a, names[i])]


def _accumulate(lp_of, values: Mapping[str, torch.Tensor], piece: _Piece, f, g, H, order: int) -> None:
    """Add the log-density terms (and their derivatives in ``values``) of one piece into its groups."""
    names = list(values)
    if order == 0:
        with torch.no_grad():
            piece.add(f, lp_of(values))
        return
    leaves = [values[n].detach().requires_grad_(True) for n in names]
    lp = lp_of(dict(zip(names, leaves))).reshape(-1).expand(piece.n_rows)
    piece.add(f, lp.detach())
    grads = torch.autograd.grad(lp.sum(), leaves, create_graph=order > 1, allow_unused=True)
    for j, d in enumerate(grads):
        if d is not None:
            piece.add(g[:, j], d.detach())
    if order < 2:
        return
    last = max((j for j, d in enumerate(grads) if d is not None and d.requires_grad), default=-1)
    for j, d in enumerate(grads):
        if d is None or not d.requires_grad:
            continue
        col = torch.autograd.grad(d.sum(), leaves[j:], retain_graph=j < last, allow_unused=True)
        for k, c in enumerate(col, start=j):
            if c is not None:
                piece.add(H[:, k, j], c)  # the lower triangle; mirrored once at the end


def _grad_or_zero(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if not y.requires_grad:
        return torch.zeros_like(x)
    (d,) = torch.autograd.grad(y, x, allow_unused=True)
    return torch.zeros_like(x) if d is None else d.detach()


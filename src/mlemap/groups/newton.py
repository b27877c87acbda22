"""One trust-region Newton iteration for all groups at once, each group with its own radius and fate.

The groups' problems are independent: ``evaluate(u, groups)`` returns, for the rows
``u[b]`` of the groups ``groups[b]``, the values ``f`` (B,), exact gradients ``g`` (B, p) and
exact Hessians ``H`` (B, p, p) in one pass over their data (the block-diagonal Hessian of the sum,
one block per group). Every rule is that of :func:`mlemap.optim.trust_region.trust_region_newton`,
applied per group:

* the scaling :math:`d_b \\leftarrow \\max(d_b, \\sqrt{|\\operatorname{diag} H_b|})`, the exact
  subproblem (:mod:`.subproblem`, eigendecompositions batched) and the first radius (the scaled
  Newton step, capped so that no coordinate moves more than ``max_step`` times
  :math:`\\max(1, \\|u_b\\|_\\infty)`);
* the ratio :math:`\\rho_b` of actual to predicted decrease: accepted above :math:`10^{-4}`; the radius
  shrinks to a quarter of the step below :math:`1/4` and doubles above :math:`3/4` on the boundary;
  below the resolution of ``f`` the step is judged by the shrinking of the gradient;
* convergence only on the three true criteria (:mod:`.convergence`), then up to three polishing
  Newton steps, each kept when the gradient shrinks fourfold and the criteria hold again;
* per-group stops: iteration limit, too many rejected steps, a step below the resolution of ``u``,
  a non-finite start, or the caller's ``stop(u, groups)``.

Each pass evaluates every trial point of the groups still running (rejected trials cost one pass
like accepted ones), and a group leaves the batch when it stops, so later passes cover only the
rows of the groups still running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from ..optim.convergence import EPS
from .convergence import BatchReport, ReportCache, assess_batch
from .subproblem import cholesky_solve_batch, exact_steps, newton_length, symmetric_eigh

ACCEPT = 1e-4
RESOLVABLE = 1e-10
POLISH = 1e-4
MAX_POLISH = 3
MAX_TRIALS_PER_ITER = 10

#: why a group stopped
CRITERIA_MET, ITERATION_LIMIT, TRIAL_LIMIT, BELOW_RESOLUTION, CALLBACK, NONFINITE_START = range(1, 7)
MESSAGES = {
    CRITERIA_MET: "converged: the gradient, Newton decrement and curvature criteria hold",
    ITERATION_LIMIT: "reached max_iter={max_iter} before converging",
    TRIAL_LIMIT: "too many rejected steps",
    BELOW_RESOLUTION: "the step is below the resolution of x",
    CALLBACK: "stopped by the callback",
    NONFINITE_START: "the objective or its derivatives are not finite at the start",
}


@dataclass
class BatchResult:
    """Where each group stopped, and why."""

    u: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    H: torch.Tensor
    n_iter: torch.Tensor
    stop: torch.Tensor  # one of the codes above
    report: BatchReport
    nonfinite: torch.Tensor
    max_iter: int
    notes: dict = field(default_factory=dict)

    @property
    def converged(self) -> torch.Tensor:
        return self.report.converged

    def messages(self) -> "Messages":
        """The message of every group, written when read."""
        return Messages(self)

    def message(self, b: int) -> str:
        text = MESSAGES[int(self.stop[b])].format(max_iter=self.max_iter)
        if int(self.stop[b]) in (ITERATION_LIMIT, TRIAL_LIMIT, BELOW_RESOLUTION) and not bool(self.converged[b]):
            r = self.report.report(b)
            text += f": failed {', '.join(r.failed)} ({r.describe()})"
        return text


class Messages:
    """Per-group solver messages, composed on access (a list of 100,000 strings is not free)."""

    def __init__(self, result: BatchResult, suffix: str = ""):
        self.result = result
        self.extra: dict[int, str] = {}
        self.suffix = suffix

    def __len__(self) -> int:
        return int(self.result.stop.shape[0])

    def __getitem__(self, b: int) -> str:
        return self.extra.get(b, self.result.message(b) + self.suffix)

    def __iter__(self):
        return (self[b] for b in range(len(self)))


Evaluate = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


def batched_trust_region(
    evaluate: Evaluate,
    u0: torch.Tensor,
    *,
    max_iter: int = 200,
    ftol: float = 1e-15,
    gtol: float = 1e-6,
    max_step: float = 10.0,
    stop: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> BatchResult:
    """Minimise every group's objective from the rows of ``u0`` (G, p) (see the module docstring)."""
    G, p = u0.shape
    dev, dt = u0.device, u0.dtype
    everyone = torch.arange(G, device=dev)
    u = u0.detach().clone()
    f, g, H = evaluate(u, everyone)
    n_iter = torch.zeros(G, dtype=torch.int64, device=dev)
    trials = torch.zeros(G, dtype=torch.int64, device=dev)
    polished = torch.zeros(G, dtype=torch.int64, device=dev)
    nonfinite = torch.zeros(G, dtype=torch.int64, device=dev)
    code = torch.zeros(G, dtype=torch.int64, device=dev)
    d = torch.zeros(G, p, dtype=dt, device=dev)  # 0: not yet set
    delta = torch.full((G,), float("nan"), dtype=dt, device=dev)  # NaN: not yet set
    reports = ReportCache(G, dt, dev, ftol=ftol, gtol=gtol)  # every accepted point bumps n_iter
    start_ok = torch.isfinite(f) & torch.isfinite(g).all(1) & torch.isfinite(H).all(2).all(1)
    code[~start_ok] = NONFINITE_START

    while True:
        running = torch.nonzero(code == 0).reshape(-1)
        if running.numel() == 0:
            break
        r = running
        report = reports.report(r, n_iter, f, g, H)
        if stop is not None:
            stopped = stop(u[r], r)
            code[r[stopped]] = CALLBACK
            keep = ~stopped
            r, report = r[keep], report.select(keep)
        ok = report.converged
        can_polish = ok & (n_iter[r] < max_iter) & (polished[r] < MAX_POLISH) & (report.decrement > POLISH * report.decrement_tol)
        code[r[ok & ~can_polish]] = CRITERIA_MET
        limit = ~ok & (n_iter[r] >= max_iter)
        code[r[limit]] = ITERATION_LIMIT
        too_many = ~ok & ~limit & (trials[r] >= MAX_TRIALS_PER_ITER * (max_iter + 1))
        code[r[too_many]] = TRIAL_LIMIT
        polish_groups = r[can_polish]
        step_groups = r[~ok & ~limit & ~too_many]

        # trust-region steps
        trial_u, s, length, step = _trust_region_steps(u, g, H, d, delta, step_groups, max_step)
        tiny = ~(s.abs() > EPS * u[step_groups].abs()).any(1)
        code[step_groups[tiny]] = BELOW_RESOLUTION
        keep = ~tiny
        step_groups, trial_u, length = step_groups[keep], trial_u[keep], length[keep]
        predicted, on_boundary, positive = step.predicted[keep], step.on_boundary[keep], step.positive[keep]
        trials[step_groups] += 1
        # polishing Newton steps
        polish_u, polish_ok = _newton_steps(u, g, H, polish_groups)
        code[polish_groups[~polish_ok]] = CRITERIA_MET
        polish_groups, polish_u = polish_groups[polish_ok], polish_u[polish_ok]

        if step_groups.numel() + polish_groups.numel() == 0:
            continue
        # one pass over the data of every trial point, in group order
        trial_all = torch.empty_like(u)
        trial_all[step_groups], trial_all[polish_groups] = trial_u, polish_u
        chosen = torch.zeros(G, dtype=torch.bool, device=dev)
        chosen[step_groups], chosen[polish_groups] = True, True
        evaluated = torch.nonzero(chosen).reshape(-1)
        ft_all, gt_all, Ht_all = evaluate(trial_all[evaluated], evaluated)
        where = torch.full((G,), -1, dtype=torch.int64, device=dev)
        where[evaluated] = torch.arange(evaluated.numel(), device=dev)
        at_step, at_polish = where[step_groups], where[polish_groups]
        ft, gt, Ht = ft_all[at_step], gt_all[at_step], Ht_all[at_step]
        fp, gp, Hp = ft_all[at_polish], gt_all[at_polish], Ht_all[at_polish]

        _judge_steps(step_groups, trial_u, length, predicted, on_boundary, positive, ft, gt, Ht,
                     u, f, g, H, d, delta, n_iter, nonfinite)
        kept = _judge_polish(polish_groups, polish_u, fp, gp, Hp, u, f, g, H, ftol, gtol)
        code[polish_groups[~kept]] = CRITERIA_MET
        won = polish_groups[kept]
        u[won], f[won], g[won], H[won] = polish_u[kept], fp[kept], gp[kept], Hp[kept]
        n_iter[won] += 1
        polished[won] += 1
    report = reports.report(everyone, n_iter, f, g, H)
    return BatchResult(u, f, g, H, n_iter, code, report, nonfinite, max_iter)


@dataclass
class _Steps:
    predicted: torch.Tensor
    on_boundary: torch.Tensor
    positive: torch.Tensor


def _trust_region_steps(u, g, H, d, delta, groups, max_step):
    """Trial points of the trust-region step of ``groups``; scalings and first radii set in place."""
    gn, Hn = g[groups], 0.5 * (H[groups] + H[groups].transpose(1, 2))
    diag = torch.diagonal(Hn, dim1=1, dim2=2).abs().sqrt()
    fresh = (d[groups] == 0).all(1)
    positive_diag = torch.where(diag > 0, diag, torch.full_like(diag, float("inf")))
    floor = positive_diag.amin(1)
    floor = torch.where(torch.isfinite(floor), floor, torch.ones_like(floor))
    first = torch.where(diag > 0, diag, floor[:, None])
    dg = torch.where(fresh[:, None], first, torch.maximum(d[groups], diag))
    d[groups] = dg
    gs = gn / dg
    Hs = Hn / (dg[:, :, None] * dg[:, None, :])
    evals, evecs = symmetric_eigh(Hs)
    dl = delta[groups]
    unset = torch.isnan(dl)
    if bool(unset.any()):
        dl[unset] = _initial_radius(evals[unset], evecs[unset], gs[unset], dg[unset], u[groups][unset], max_step)
        delta[groups] = dl
    step = exact_steps(evals, evecs, gs, dl)
    s = step.t / dg
    return u[groups] + s, s, step.t.norm(dim=1), _Steps(step.predicted, step.on_boundary, evals[:, 0] > 0)


def _initial_radius(evals, evecs, gs, d, u, max_step):
    c = (evecs.transpose(1, 2) @ gs.unsqueeze(-1)).squeeze(-1)
    delta = newton_length(evals, c)
    bad = ~torch.isfinite(delta) | (delta == 0)
    top = evals.abs().amax(1)
    gnorm = gs.norm(dim=1)
    fallback = torch.where(top > 0, gnorm / torch.where(top > 0, top, 1.0), gnorm)
    delta = torch.where(bad, fallback, delta)
    delta = torch.where(delta == 0, torch.ones_like(delta), delta)
    cap = max_step * u.abs().amax(1).clamp_min(1.0)
    biggest = (exact_steps(evals, evecs, gs, delta).t / d).abs().amax(1)
    return torch.where(biggest > cap, delta * cap / torch.where(biggest > 0, biggest, 1.0), delta)


def _judge_steps(groups, trial, length, predicted, on_boundary, positive, ft, gt, Ht, u, f, g, H, d, delta,
                 n_iter, nonfinite):
    """Accept or reject each trial point and update the radius (in place)."""
    if groups.numel() == 0:
        return
    f0 = f[groups]
    scale_f = f0.abs().clamp_min(1.0)
    finite_f = torch.isfinite(ft)
    nonfinite[groups[~finite_f]] += 1
    rho = torch.where(predicted > 0, (f0 - ft) / torch.where(predicted > 0, predicted, 1.0), torch.full_like(f0, -float("inf")))
    rho = torch.where(finite_f, rho, torch.full_like(rho, -float("inf")))
    # below the resolution of f, a step is judged by the gradient in the model's metric
    unresolved = finite_f & (rho <= ACCEPT) & positive & (predicted <= RESOLVABLE * scale_f) & (ft <= f0 + RESOLVABLE * scale_f)
    if bool(unresolved.any()):
        before = _gradient_metric(g[groups][unresolved], H[groups][unresolved], d[groups][unresolved])
        after = _gradient_metric(gt[unresolved], H[groups][unresolved], d[groups][unresolved])
        better = torch.isfinite(gt[unresolved]).all(1) & (after < before)
        rho_u = rho[unresolved]
        rho_u[better] = 1.0
        rho[unresolved] = rho_u
    dl = delta[groups]
    dl = torch.where(rho < 0.25, 0.25 * length, torch.where((rho > 0.75) & on_boundary, 2.0 * dl, dl))
    derivatives_ok = torch.isfinite(gt).all(1) & torch.isfinite(Ht).all(2).all(1)
    accept = (rho > ACCEPT) & derivatives_ok
    broken = (rho > ACCEPT) & ~derivatives_ok
    nonfinite[groups[broken]] += 1
    dl = torch.where(broken, 0.25 * length, dl)
    delta[groups] = dl
    won = groups[accept]
    u[won], f[won], g[won], H[won] = trial[accept], ft[accept], gt[accept], Ht[accept]
    n_iter[won] += 1


def _gradient_metric(g, H, d):
    """:math:`g^\\top H^{-1} g` in the scaled model (where it is positive definite)."""
    gs = g / d
    Hs = 0.5 * (H + H.transpose(1, 2)) / (d[:, :, None] * d[:, None, :])
    evals, evecs = symmetric_eigh(Hs)
    c = (evecs.transpose(1, 2) @ gs.unsqueeze(-1)).squeeze(-1)
    return (c * c / evals).sum(1)


def _newton_steps(u, g, H, groups):
    """Full Newton steps :math:`-H^{-1} g` of converged groups (where the Cholesky factor exists)."""
    Hn = 0.5 * (H[groups] + H[groups].transpose(1, 2))
    s, ok = cholesky_solve_batch(Hn, g[groups])
    return u[groups] - s, ok


def _judge_polish(groups, trial, ft, gt, Ht, u, f, g, H, ftol, gtol):
    """A polishing step is kept when f does not rise beyond its resolution, the gradient shrinks at
    least fourfold in the :math:`H^{-1}` norm and the criteria hold at the new point."""
    if groups.numel() == 0:
        return torch.zeros(0, dtype=torch.bool, device=u.device)
    f0 = f[groups]
    scale_f = f0.abs().clamp_min(1.0)
    Hn = 0.5 * (H[groups] + H[groups].transpose(1, 2))
    g0 = g[groups]
    finite = torch.isfinite(ft) & torch.isfinite(gt).all(1)
    gt_safe = torch.where(finite[:, None], gt, torch.zeros_like(gt))
    solved, _ = cholesky_solve_batch(Hn, torch.stack([g0, gt_safe], 2))
    before, after = (g0 * solved[:, :, 0]).sum(1), (gt_safe * solved[:, :, 1]).sum(1)
    report = assess_batch(ft, gt, Ht, ftol=ftol, gtol=gtol)
    return finite & (ft <= f0 + RESOLVABLE * scale_f) & (after < 0.25 * before) & report.converged

"""Trust-region Newton with the exact Hessian and parameter scaling: the smooth solver of mlemap.

Each iteration minimises the quadratic model :math:`m(s) = g^\\top s + \\tfrac12 s^\\top H s` within
:math:`\\|D s\\| \\le \\Delta`, where :math:`D = \\operatorname{diag}(d)` and
:math:`d_i = \\max_k \\sqrt{|H^{(k)}_{ii}|}` over the Hessians seen so far (kept monotone, as MINPACK
keeps its column norms), so that a parameter whose curvature is :math:`10^{12}` times another's
moves in the same units. In scaled coordinates :math:`t = D s` the subproblem is solved exactly by
an eigendecomposition (Moré–Sorensen, indefinite Hessians and the hard case included) for up to
``exact_max`` parameters, by Steihaug's truncated conjugate gradients beyond
(:mod:`mlemap.optim.subproblem`).

A trial point :math:`x + s` costs one value ``f``. With the actual decrease
:math:`a = f(x) - f(x + s)` and the predicted :math:`p = -m(s)`, the ratio :math:`\\rho = a / p`
decides: :math:`\\rho > 10^{-4}` accepts the step (then, and only then, the gradient and the exact
Hessian are evaluated); :math:`\\rho < 1/4` shrinks :math:`\\Delta` to a quarter of the step;
:math:`\\rho > 3/4` on the boundary doubles it. A non-finite trial value (or gradient) rejects the
step and shrinks the radius.

Where the predicted decrease is below ``1e-10`` of :math:`\\max(1, |f|)`, differences of ``f`` may
no longer resolve it: a step that the ratio rejects there is evaluated once more with ``fg`` and
accepted when ``f`` does not rise beyond that level and the gradient shrinks in the
:math:`H^{-1}` norm (a positive definite model only).

Convergence is judged only at accepted points, on the exact derivatives there
(:mod:`mlemap.optim.convergence`): the scaled gradient, the Newton decrement at the rounding level
of ``f`` and a positive definite Hessian. A radius-limited step, a collapsed radius or a step below
the resolution of ``x`` stops the iteration without convergence unless those criteria hold. Once
they hold with a decrement within a factor 1e4 of its tolerance, up to three more Newton steps are
tried, each kept only when the gradient shrinks fourfold and the criteria hold again: the error
moves from the rounding level of ``f`` to that of the gradient.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .convergence import ConvergenceReport, assess, eigh, solve_positive_definite
from .result import OptimizeResult
from .subproblem import Step, exact_step, steihaug_step

FGH = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
FG = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
F = Callable[[torch.Tensor], torch.Tensor]

EPS = float(np.finfo(np.float64).eps)
ACCEPT = 1e-4
#: below this share of max(1, |f|) the predicted decrease is judged with the gradient instead of f
RESOLVABLE = 1e-10
#: subproblems up to this many parameters are solved exactly
EXACT_MAX = 200
#: Newton steps taken after the criteria hold while the decrement is within this factor of its tolerance
POLISH = 1e-4
MAX_POLISH = 3
#: a kept (lazy) Hessian's steps go on until the decrement is this share of its tolerance: where an
#: exact Hessian would call for no polishing step
SETTLE = POLISH
MAX_TRIALS_PER_ITER = 10


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def _finite(*values: torch.Tensor) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in values)


class _Model:
    """Scaled quadratic model at the current point: the scaling, and the eigendecomposition when exact."""

    def __init__(self, g: np.ndarray, H: np.ndarray, d: np.ndarray, exact: bool):
        self.d = d
        self.gs = g / d
        self.Hs = 0.5 * (H + H.T) / np.outer(d, d)
        self.exact = exact
        if exact:
            self.evals, self.evecs = eigh(self.Hs)
            self.positive_definite = bool(self.evals[0] > 0)
        else:
            self.positive_definite = solve_positive_definite(self.Hs, self.gs) is not None

    def step(self, delta: float) -> Step:
        if self.exact:
            return exact_step(self.evals, self.evecs, self.gs, delta)
        return steihaug_step(self.Hs, self.gs, delta)

    def newton_length(self) -> float:
        """Length of the scaled Newton step, inf when the model is not positive definite."""
        if not self.positive_definite:
            return np.inf
        if self.exact:
            return float(np.linalg.norm((self.evecs.T @ self.gs) / self.evals))
        step = steihaug_step(self.Hs, self.gs, np.inf)
        return float(np.linalg.norm(step.t)) if step.newton else np.inf

    def gradient_norm(self, g: np.ndarray) -> float:
        """:math:`g^\\top H^{-1} g` with the model's Hessian (called where it is positive definite)."""
        gs = g / self.d
        if self.exact:
            c = self.evecs.T @ gs
            return float(np.sum(c * c / self.evals))
        return float(gs @ solve_positive_definite(self.Hs, gs))


def _update_scaling(d: np.ndarray | None, H: np.ndarray) -> np.ndarray:
    """:math:`d_i \\leftarrow \\max(d_i, \\sqrt{|H_{ii}|})`; a zero diagonal starts at the smallest positive one (or 1)."""
    diag = np.sqrt(np.abs(np.diag(H)))
    if d is None:
        positive = diag[diag > 0]
        floor = float(positive.min()) if positive.size else 1.0
        return np.where(diag > 0, diag, floor)
    return np.maximum(d, diag)


def trust_region_newton(
    fgh: FGH,
    f: F,
    x0: torch.Tensor,
    *,
    fg: FG | None = None,
    max_iter: int = 200,
    ftol: float = 1e-15,
    gtol: float = 1e-6,
    max_step: float = 10.0,
    exact_max: int = EXACT_MAX,
    polish: bool = True,
    callback: Callable[[torch.Tensor, float], bool | None] | None = None,
    hessian: str = "exact",
    hessian0: torch.Tensor | None = None,
) -> OptimizeResult:
    """Minimise ``f`` by trust-region Newton (see the module docstring).

    ``fgh(x)`` returns value, gradient and exact Hessian; ``f(x)`` the value; ``fg(x)`` value and
    gradient (derived from ``fgh`` when not given). ``ftol`` and ``gtol`` are the tolerances of
    the convergence criteria; ``max_step`` bounds the first step to that many times
    :math:`\\max(1, \\|x_0\\|_\\infty)` per coordinate. ``max_iter`` bounds the accepted steps (each
    may take several trial points). ``polish=False`` skips the Newton steps after convergence (each
    costs a gradient and a Hessian; where the objective is a sum over many rows the criteria's
    accuracy suffices). ``callback(x, f)`` is called at every accepted iterate; returning True
    stops there.

    ``hessian="lazy"`` (for objectives whose Hessian costs far more than their gradient, such as a
    regression on many rows): trial points are evaluated with ``fg`` and an accepted point keeps the
    previous Hessian, updated by BFGS along the step (the secant condition), as long as the Newton
    decrement falls at least fourfold per step; the exact Hessian is recomputed otherwise, and
    always before convergence is judged, so the criteria and the returned ``hess`` are exact. The
    cheap steps go on until the decrement is ``POLISH`` times its tolerance (four orders of magnitude
    below it, where an exact Hessian calls for no polishing step), so one exact Hessian usually ends
    the iteration; should the decrement there still call for them, the polishing steps are taken too.
    ``hessian0`` (with ``"lazy"``) is a Hessian to start from instead of the exact one at ``x0``,
    such as that of a warm start on a subsample.
    """
    if hessian not in ("exact", "lazy"):
        raise ValueError(f"hessian must be 'exact' or 'lazy'; got {hessian!r}")
    lazy = hessian == "lazy"
    if fg is None:
        fg = lambda x: fgh(x)[:2]  # noqa: E731
    state = {"fev": 0, "nonfinite": 0, "h_exact": True}

    def evaluate(fn, x):
        state["fev"] += 1
        return fn(x)

    x = x0.detach().clone()
    if lazy and hessian0 is not None:
        (fx, g), H = evaluate(fg, x), hessian0
        state["h_exact"] = False
    else:
        fx, g, H = evaluate(fgh, x)
    report = None

    def done(it: int, message: str, stop: str) -> OptimizeResult:
        nonlocal fx, g, H, report
        if not state["h_exact"] and report is not None and report.converged and _finite(fx):
            # criteria met with a kept Hessian are judged again on the exact one
            fx, g, H = evaluate(fgh, x)
            state["h_exact"] = True
            report = _assess(fx, g, H, ftol, gtol) if _finite(g, H) else None
        rep = report if report is not None else _assess(float("nan"), g, H, ftol, gtol)
        rep.stop_reason = stop
        exact_h = H if state["h_exact"] else None  # a Hessian kept from an earlier point is not returned
        return OptimizeResult(
            x, float(fx), g, exact_h, it, state["fev"], rep.converged, message, "newton", state["nonfinite"], rep
        )

    if not _finite(fx):
        return done(0, "the objective is not finite at the start", "non-finite start")
    if not _finite(g, H):
        return done(0, "non-finite gradient or Hessian at the start", "non-finite start")
    exact = x.numel() <= exact_max
    d = None
    delta = None
    it = trials = polished = 0
    last_decrement = np.inf
    while True:
        report = _assess(fx, g, H, ftol, gtol)
        # a kept Hessian steps on while the decrement falls fourfold a step, until it is at the level
        # where no polishing step would follow: then one exact Hessian judges the point
        settled = report.converged and report.decrement <= SETTLE * report.decrement_tol
        if not state["h_exact"] and (settled or not report.decrement <= 0.25 * last_decrement):
            fx, g, H = evaluate(fgh, x)  # the same point: only the Hessian is new
            state["h_exact"] = True
            if not _finite(g, H):
                return done(it, "non-finite gradient or Hessian", "non-finite derivatives")
            report = _assess(fx, g, H, ftol, gtol)
        last_decrement = report.decrement
        if callback is not None and callback(x, float(fx)):
            return done(it, "stopped by the callback", "callback")
        if report.converged and state["h_exact"]:
            if polish and it < max_iter and polished < MAX_POLISH and report.decrement > POLISH * report.decrement_tol:
                better = _polish(fgh, evaluate, x, fx, g, H, ftol, gtol)
                if better is not None:
                    x, fx, g, H = better
                    it += 1
                    polished += 1
                    continue
            return done(it, "converged: the gradient, Newton decrement and curvature criteria hold", "criteria met")
        if it >= max_iter:
            return done(it, f"reached max_iter={max_iter} before converging: {_failed(report)}", "iteration limit")
        gn, Hn = _numpy(g), _numpy(H)
        if state["h_exact"] or d is None:
            d = _update_scaling(d, Hn)
        model = _Model(gn, Hn, d, exact)
        xn = _numpy(x)
        if delta is None:
            delta = _initial_radius(model, xn, max_step)
        scale_f = max(1.0, abs(float(fx)))
        kept = False  # whether the accepted point keeps the (updated) Hessian instead of an exact one
        while True:
            if trials >= MAX_TRIALS_PER_ITER * (max_iter + 1):
                return done(it, f"too many rejected steps: {_failed(report)}", "trial limit")
            step = model.step(delta)
            s_np = step.t / d
            if not np.any(np.abs(s_np) > EPS * np.abs(xn)):
                return done(it, f"the step is below the resolution of x: {_failed(report)}", "step below resolution")
            trial = x + torch.as_tensor(s_np, dtype=x.dtype, device=x.device)
            trials += 1
            length = float(np.linalg.norm(step.t))
            if lazy:
                f_t, g_t = evaluate(fg, trial)
            else:
                f_t, g_t = evaluate(f, trial), None
            if not _finite(f_t):
                state["nonfinite"] += 1
                delta = 0.25 * length
                continue
            rho = (float(fx) - float(f_t)) / step.predicted if step.predicted > 0 else -np.inf
            if rho <= ACCEPT and model.positive_definite and step.predicted <= RESOLVABLE * scale_f:
                # f no longer resolves the predicted decrease: accept when the gradient shrinks instead
                if float(f_t) <= float(fx) + RESOLVABLE * scale_f:
                    if g_t is None:
                        _, g_t = evaluate(fg, trial)
                    if _finite(g_t) and model.gradient_norm(_numpy(g_t)) < model.gradient_norm(gn):
                        rho = 1.0
            if rho < 0.25:
                delta = 0.25 * length
            elif rho > 0.75 and step.on_boundary:
                delta = 2.0 * delta
            if rho <= ACCEPT:
                continue
            if lazy and _finite(g_t):
                f_new, g_new, H_new, kept = f_t, g_t, _secant_update(H, trial - x, g_t - g), True
                break
            f_new, g_new, H_new = evaluate(fgh, trial)
            if not _finite(f_new, g_new, H_new):
                state["nonfinite"] += 1
                delta = 0.25 * length
                continue
            break
        state["h_exact"] = not kept
        x, fx, g, H = trial.detach(), f_new, g_new, H_new
        it += 1


def _secant_update(H: torch.Tensor, s: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The BFGS update of a kept Hessian along an accepted step ``s`` with gradient change ``y``:
    :math:`H + yy^\\top / y^\\top s - Hss^\\top H / s^\\top H s`, which then maps ``s`` to ``y``
    exactly (the secant condition) and stays positive definite. The update is skipped, and ``H``
    kept, where the curvature along ``s`` is not clearly positive in both."""
    Hs = H @ s
    ys = float(y @ s)
    sHs = float(s @ Hs)
    if not (ys > 1e-12 * float(torch.linalg.norm(y)) * float(torch.linalg.norm(s)) and sHs > 0):
        return H
    return H + torch.outer(y, y) / ys - torch.outer(Hs, Hs) / sHs


def _polish(fgh, evaluate, x, fx, g, H, ftol, gtol):
    """One more Newton step from a converged point, kept when the gradient shrinks at least fourfold
    in the :math:`H^{-1}` norm and the criteria hold at the new point: the error goes from the
    rounding level of ``f`` towards that of the gradient."""
    Hn, gn = _numpy(H), _numpy(g)
    Hn = 0.5 * (Hn + Hn.T)
    solved = solve_positive_definite(Hn, gn)
    if solved is None:
        return None
    s = -solved
    trial = x + torch.as_tensor(s, dtype=x.dtype, device=x.device)
    # value, gradient and Hessian in one evaluation: the step is almost always kept, and the Hessian
    # at the returned point is what the standard errors need (one pass over the rows, not two)
    f_t, g_t, H_t = evaluate(fgh, trial)
    scale_f = max(1.0, abs(float(fx)))
    if not (_finite(f_t, g_t, H_t) and float(f_t) <= float(fx) + RESOLVABLE * scale_f):
        return None
    before = float(gn @ -s)
    g_next = _numpy(g_t)
    after = float(g_next @ solve_positive_definite(Hn, g_next))
    if not after < 0.25 * before or not _assess(f_t, g_t, H_t, ftol, gtol).converged:
        return None
    return trial.detach(), f_t, g_t, H_t


def _assess(fx, g, H, ftol, gtol) -> ConvergenceReport:
    return assess(float(fx), _numpy(g), _numpy(H), ftol=ftol, gtol=gtol)


def _failed(report: ConvergenceReport) -> str:
    return "failed " + ", ".join(report.failed) + f" ({report.describe()})"


def _initial_radius(model: _Model, x: np.ndarray, max_step: float) -> float:
    """The scaled Newton step's length when the model is positive definite, else the length of the
    Cauchy-like step :math:`\\|\\hat g\\| / \\max|\\lambda|` (a bound on it for Steihaug); either capped so that no coordinate moves more
    than ``max_step`` times :math:`\\max(1, \\|x\\|_\\infty)`."""
    delta = model.newton_length()
    if not np.isfinite(delta) or delta == 0:
        top = float(np.max(np.abs(model.evals))) if model.exact else float(np.abs(model.Hs).sum(axis=1).max())
        gnorm = float(np.linalg.norm(model.gs))
        delta = gnorm / top if top > 0 else gnorm
    if delta == 0:
        delta = 1.0
    cap = max_step * max(1.0, float(np.max(np.abs(x))) if x.size else 1.0)
    biggest = float(np.max(np.abs(model.step(delta).t / model.d))) if x.size else 0.0
    if biggest > cap:
        delta *= cap / biggest
    return delta

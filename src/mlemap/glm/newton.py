"""Newton/IRLS for the smooth GLMs: bernoulli (logit), poisson (log link), categorical (softmax).

Objective, with :math:`\\eta_i = x_i^\\top\\beta + b + o_i` (one column per free class for the
categorical family; a reference class, if any, has :math:`\\eta \\equiv 0`):

.. math:: f(\\theta) = \\sum_i w_i\\, \\text{nll}(y_i \\mid \\eta_i) + \\frac{\\lambda_2}{2} \\sum_{j \\in P} \\theta_j^2

(``P``: the coefficients, plus the intercepts when ``penalize_intercept``). With :math:`\\tilde X = [X, 1]`:

* gradient :math:`\\tilde X^\\top (w \\odot \\partial_\\eta \\text{nll}) + \\lambda_2 \\theta_P`;
* exact Hessian :math:`\\tilde X^\\top \\mathrm{diag}(w \\odot \\partial^2_\\eta \\text{nll}) \\tilde X + \\lambda_2 I_P`;
  for the softmax the blocks :math:`H_{kl} = \\tilde X^\\top \\mathrm{diag}\\big(w\\, p_k(\\delta_{kl} - p_l)\\big) \\tilde X`.

Each iteration solves :math:`H s = -g` (Cholesky; a pseudo-inverse along exactly flat directions),
whose Newton decrement :math:`\\lambda^2 = -g^\\top s \\approx 2(f - f^*)` is the distance to the
optimum in standard-error units; iteration stops when :math:`\\lambda^2/2 \\le \\text{tol} \\cdot
\\max(1, |f|)`. Steps are capped at ``max_step`` times :math:`\\max(1, \\|\\theta\\|_\\infty)` and then
halved until the Armijo condition :math:`f(\\theta + ts) \\le f(\\theta) + 10^{-4} t g^\\top s` holds.
Trial points cost :math:`O(n)`: the linear predictor moves along the precomputed :math:`\\tilde X s`.

Large problems (:math:`n p \\ge 2\\cdot 10^6`) avoid recomputing the :math:`O(n p^2)` Hessian:

1. warm start: Newton to convergence on a uniform subsample of 50,000 rows with weights scaled by
   :math:`W / W_{\\text{sub}}`; its Hessian approximates the full one to :math:`O(m^{-1/2})`;
2. chord steps on the full data: gradient and line search with the latest Hessian, while the
   decrement shrinks at least four-fold per step (otherwise the exact Hessian is recomputed); the
   first full-data pass also starts from the intercept-only fit, so it yields the predictor, value
   and gradient at the warm start at once;
3. the exact Hessian at the final point: the decrement is rechecked with it before stopping, and it
   is returned for the standard errors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sl
import torch

from .family import GLMFamily
from .gram import torch_single_thread, weighted_gram

SUBSAMPLE = 50_000
#: the fused full-data pass is split between two threads from this many rows (and 32 columns)
PARALLEL_ROWS = 200_000
LAZY_SIZE = 2_000_000


@dataclass
class NewtonFit:
    """Solution: ``theta`` packs ``[coef_row, intercept_row]`` per linear predictor (row-major)."""

    theta: np.ndarray
    n_rows: int
    n_coef: int
    intercept: bool
    hessian: np.ndarray
    gradient: np.ndarray
    objective: float
    eta: torch.Tensor
    n_iter: int
    converged: bool
    message: str
    diverging: bool = False

    @property
    def coef(self) -> np.ndarray:
        rows = self.theta.reshape(self.n_rows, -1)[:, : self.n_coef]
        return rows[0].copy() if self.n_rows == 1 else rows.copy()

    @property
    def intercepts(self) -> np.ndarray:
        rows = self.theta.reshape(self.n_rows, -1)
        return rows[:, self.n_coef].copy() if self.intercept else np.zeros(self.n_rows)


class GLMObjective:
    """Value, gradient and exact Hessian of the penalised negative log-likelihood of a smooth GLM.

    ``free`` lists the categorical classes with their own linear predictor (the others, at most
    one, is the reference with :math:`\\eta = 0`); ``None`` for single-output families.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        family: GLMFamily,
        *,
        sample_weight: np.ndarray | None = None,
        offset: np.ndarray | None = None,
        intercept: bool = True,
        l2: float = 0.0,
        penalize_intercept: bool = False,
        n_classes: int | None = None,
        free: list[int] | None = None,
    ):
        self.X = X
        self.family = family
        self.multiclass = family.multiclass
        self.y = torch.from_numpy(np.asarray(y, dtype=np.int64 if family.multiclass else np.float64))
        self.w = None if sample_weight is None else torch.from_numpy(sample_weight)
        self.offset = None if offset is None else torch.from_numpy(offset)
        self.intercept = intercept
        self.l2 = float(l2)
        self.n, self.d = X.shape
        self.p1 = self.d + int(intercept)
        self.K = n_classes if self.multiclass else 1
        self.free = list(free) if self.multiclass else [0]
        self.k = len(self.free)
        self.size = self.k * self.p1
        pen = np.zeros(self.p1, dtype=bool)
        pen[: self.d] = True
        if intercept and penalize_intercept:
            pen[self.d] = True
        self.penalised = np.tile(pen, self.k) if self.l2 > 0 else np.zeros(self.size, dtype=bool)
        # every class with its own unpenalised intercept: a common shift of the intercepts changes
        # nothing, so the Hessian is singular along it and the steps are kept orthogonal to it
        self.flat = None
        if self.multiclass and self.k == self.K and intercept and not (penalize_intercept and self.l2 > 0):
            flat = np.zeros(self.size)
            flat[[a * self.p1 + self.d for a in range(self.k)]] = 1.0 / np.sqrt(self.k)
            self.flat = flat

    # -------------------------------------------------------------- linear predictor
    def linear(self, theta: np.ndarray) -> torch.Tensor:
        """:math:`\\tilde X \\theta` without the offset: ``(n,)``, or ``(n, k)`` for the free classes."""
        rows = np.ascontiguousarray(theta.reshape(self.k, self.p1))
        if self.multiclass:
            out = self.X @ rows[:, : self.d].T
            if self.intercept:
                out += rows[:, self.d]
            return torch.from_numpy(out)
        out = self.X @ rows[0, : self.d]
        if self.intercept:
            out += rows[0, self.d]
        return torch.from_numpy(out)

    def eta(self, lin: torch.Tensor) -> torch.Tensor:
        """Full linear predictor (offset added; reference class filled with zeros)."""
        if self.multiclass:
            if self.k == self.K:
                return lin
            full = torch.zeros(self.n, self.K, dtype=lin.dtype)
            full[:, self.free] = lin
            return full
        return lin if self.offset is None else lin + self.offset

    # -------------------------------------------------------------- value, gradient, Hessian
    def nll(self, eta: torch.Tensor) -> float:
        values = self.family.nll(self.y, eta)
        return float(values.sum() if self.w is None else torch.dot(self.w, values))

    def penalty(self, theta: np.ndarray) -> float:
        if self.l2 <= 0:
            return 0.0
        t = theta[self.penalised]
        return 0.5 * self.l2 * float(t @ t)

    def value(self, theta: np.ndarray, eta: torch.Tensor) -> float:
        return self.nll(eta) + self.penalty(theta)

    def gradient(self, theta: np.ndarray, eta: torch.Tensor) -> np.ndarray:
        r = self.family.grad(self.y, eta)
        if self.w is not None:
            r = r * (self.w[:, None] if self.multiclass else self.w)
        if self.multiclass:
            R = np.ascontiguousarray(r[:, self.free].numpy())
            G = (self.X.T @ R).T  # (k, d)
            parts = [G] + ([R.sum(0)[:, None]] if self.intercept else [])
            g = np.concatenate(parts, axis=1).reshape(-1)
        else:
            rn = r.numpy()
            g = self.X.T @ rn
            if self.intercept:
                g = np.append(g, rn.sum())
        g = np.array(g, dtype=np.float64)
        if self.l2 > 0:
            g[self.penalised] += self.l2 * theta[self.penalised]
        return g

    def full_step(self, theta: np.ndarray, lin: torch.Tensor, s: np.ndarray, block: int = 8192):
        """One pass over ``X`` for a single-output family: the direction ``u = X~ s`` and, at
        ``theta + s``, the value and gradient (each row block of ``X`` is read once for both products).
        Large inputs are split between two threads (the BLAS and torch kernels release the GIL)."""
        n, d = self.n, self.d
        rows = s.reshape(1, self.p1)[0]
        u = np.empty(n)
        lin_np = lin.numpy()
        halves = [(0, n)]
        if n >= PARALLEL_ROWS and d >= 32 and (os.cpu_count() or 1) > 1:  # narrow blocks: not worth it
            halves = [(0, n // 2), (n // 2, n)]

        def run(lo, hi):
            grad = np.zeros(d)
            total = gsum = 0.0
            for a in range(lo, hi, block):
                b = min(a + block, hi)
                Xc = self.X[a:b]
                uc = Xc @ rows[:d]
                if self.intercept:
                    uc += rows[d]
                u[a:b] = uc
                eta = torch.from_numpy(lin_np[a:b] + uc)
                if self.offset is not None:
                    eta = eta + self.offset[a:b]
                y = self.y[a:b]
                values = self.family.nll(y, eta)
                r = self.family.grad(y, eta)
                if self.w is not None:
                    wc = self.w[a:b]
                    total += float(torch.dot(wc, values))
                    r = r * wc
                else:
                    total += float(values.sum())
                rn = r.numpy()
                grad += rn @ Xc
                gsum += float(rn.sum())
            return grad, total, gsum

        if len(halves) == 1:
            parts = [run(*halves[0])]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=2) as pool:
                parts = list(pool.map(lambda h: run(*h), halves))
        grad = sum(p[0] for p in parts)
        total = sum(p[1] for p in parts)
        gsum = sum(p[2] for p in parts)
        theta1 = theta + s
        g = np.append(grad, gsum) if self.intercept else grad
        if self.l2 > 0:
            g[self.penalised] += self.l2 * theta1[self.penalised]
        return torch.from_numpy(u), total + self.penalty(theta1), g

    def hessian(self, theta: np.ndarray, eta: torch.Tensor) -> np.ndarray:
        if self.multiclass:
            H = self._softmax_hessian(eta)
        else:
            h = self.family.hess(self.y, eta)
            if self.w is not None:
                h = h * self.w
            H = weighted_gram(self.X, h.numpy(), self.intercept)
        if self.l2 > 0:
            H[np.diag_indices_from(H)] += self.l2 * self.penalised
        return H

    def _softmax_hessian(self, eta: torch.Tensor) -> np.ndarray:
        logp = torch.log_softmax(eta, dim=1)
        p = logp.exp()
        w = self.w
        H = np.zeros((self.size, self.size))
        for a, k in enumerate(self.free):
            # p_k (1 - p_k) with 1 - p_k summed over the other classes (no cancellation near p_k = 1)
            others = torch.logsumexp(torch.cat([eta[:, :k], eta[:, k + 1 :]], dim=1), dim=1) - torch.logsumexp(eta, dim=1)
            h = p[:, k] * others.exp()
            if w is not None:
                h = h * w
            sa = slice(a * self.p1, (a + 1) * self.p1)
            H[sa, sa] = weighted_gram(self.X, h.numpy(), self.intercept)
            for b in range(a + 1, self.k):
                l = self.free[b]
                h = (logp[:, k] + logp[:, l]).exp()
                if w is not None:
                    h = h * w
                sb = slice(b * self.p1, (b + 1) * self.p1)
                block = -weighted_gram(self.X, h.numpy(), self.intercept)
                H[sa, sb] = block
                H[sb, sa] = block.T
        return H


def newton_direction(H: np.ndarray, g: np.ndarray, flat: np.ndarray | None = None) -> np.ndarray:
    """Solve :math:`H s = -g`. A known flat direction ``flat`` (unit vector with :math:`H n = 0`,
    :math:`g \\perp n`) is handled exactly with :math:`(H + nn^\\top) s = -g`, whose solution has no
    component along it; other directions where ``H`` is flat (relative eigenvalue below 1e-12) get
    a zero step (pseudo-inverse)."""
    if flat is not None:
        H = H + np.outer(flat, flat) * max(1.0, float(np.abs(np.diag(H)).max()))
        g = g - flat * float(flat @ g)
    try:
        c = sl.cho_factor(H, check_finite=False)
        s = -sl.cho_solve(c, g, check_finite=False)
        if np.all(np.isfinite(s)):
            return s
    except (np.linalg.LinAlgError, ValueError):
        pass
    evals, evecs = np.linalg.eigh(0.5 * (H + H.T))
    top = float(np.abs(evals).max()) if evals.size else 1.0
    keep = np.abs(evals) > 1e-12 * top
    coef = np.zeros_like(evals)
    coef[keep] = (evecs[:, keep].T @ g) / np.abs(evals[keep])
    return -(evecs @ coef)


def initial_theta(obj: GLMObjective) -> np.ndarray:
    """Intercept-only maximum likelihood (zeros without an intercept)."""
    theta = np.zeros(obj.size)
    if not obj.intercept:
        return theta
    w = np.ones(obj.n) if obj.w is None else obj.w.numpy()
    W = w.sum()
    name = obj.family.name
    y = obj.y.numpy()
    if name == "bernoulli":
        m = float(np.clip((w * y).sum() / W, 1e-10, 1 - 1e-10))
        theta[obj.d] = np.log(m / (1 - m))
    elif name == "poisson":
        base = W if obj.offset is None else float((w * np.exp(obj.offset.numpy())).sum())
        theta[obj.d] = np.log(max((w * y).sum(), 1e-10 * W) / base)
    elif name == "categorical":
        counts = np.bincount(y, weights=w, minlength=obj.K)
        logf = np.log(np.maximum(counts / W, 1e-10))
        ref = 0.0 if obj.k == obj.K else logf[next(c for c in range(obj.K) if c not in obj.free)]
        for a, k in enumerate(obj.free):
            theta[a * obj.p1 + obj.d] = logf[k] - ref
        if obj.k == obj.K:
            rows = theta.reshape(obj.k, obj.p1)
            rows[:, obj.d] -= rows[:, obj.d].mean()
    return theta


def newton_solve(
    obj: GLMObjective,
    *,
    theta0: np.ndarray | None = None,
    tol: float = 1e-12,
    max_iter: int = 100,
    max_step: float = 10.0,
    lazy: bool | None = None,
    watch_divergence: bool = False,
    divergence_check=None,
    subsample: int = SUBSAMPLE,
    seed: int = 0,
    polish: bool = True,
) -> NewtonFit:
    """Minimise ``obj`` by damped Newton (see the module docstring); returns the exact Hessian at the end.

    ``polish``: on small problems take one more exact step after the stopping rule holds (the error
    goes from the size of the decrement to its square).

    ``watch_divergence`` stops the iteration when the linear predictor runs away (an MLE at infinity);
    ``divergence_check(theta)``, if given, is asked to confirm (e.g. by a separation test) whenever
    the largest linear predictor passes 8, 16, 32, ... and stops the iteration when it returns True.
    """
    with torch_single_thread():
        return _newton(obj, theta0, tol, max_iter, max_step, lazy, watch_divergence, subsample, seed, divergence_check,
                       polish)


def _newton(obj, theta0, tol, max_iter, max_step, lazy, watch_divergence, subsample, seed, divergence_check,
            polish) -> NewtonFit:
    theta = initial_theta(obj) if theta0 is None else np.array(theta0, dtype=np.float64)
    if lazy is None:
        lazy = obj.n * obj.size >= LAZY_SIZE
    H = None
    H_here = False
    notes = ""
    warm = None
    lin = None
    if lazy and obj.n > 4 * subsample:
        warm = _warm_start(obj, theta, subsample, seed, tol, max_step)
        if warm is not None:
            start = theta
            theta, H = warm
            notes = " (warm start on a subsample)"
            if not obj.multiclass and not np.any(start[: obj.d]):
                # from the intercept-only start the predictor is constant: one fused pass gives the
                # predictor, value and gradient at the warm start
                lin0 = torch.full((obj.n,), float(start[obj.d]) if obj.intercept else 0.0, dtype=torch.float64)
                u, f, g = obj.full_step(start, lin0, theta - start)
                lin = lin0 + u
    lazy = lazy and warm is not None
    if lin is None:
        lin = obj.linear(theta)
        eta = obj.eta(lin)
        f = obj.value(theta, eta)
        g = obj.gradient(theta, eta)
    else:
        eta = obj.eta(lin)
    prev_dec = np.inf
    check_at = 8.0
    it = 0
    converged = False
    diverging = False
    message = f"reached max_iter={max_iter} before converging"
    while True:
        if H is None or (not lazy and not H_here):
            H, H_here = obj.hessian(theta, eta), True
        s = newton_direction(H, g, obj.flat)
        dec = -float(g @ s)
        scale = max(1.0, abs(f))
        if not H_here and (dec > 0.25 * prev_dec or dec / 2 <= tol * scale):
            H, H_here = obj.hessian(theta, eta), True
            s = newton_direction(H, g, obj.flat)
            dec = -float(g @ s)
        if not np.isfinite(dec):
            message = "non-finite gradient or Hessian"
            break
        if dec / 2 <= tol * scale:
            converged, message = True, "Newton decrement below tolerance" + notes
            if polish and not lazy and dec > 0:
                # one more exact step is cheap here and takes the error from O(lambda) to O(lambda^2)
                theta_p = theta + s
                lin_p = obj.linear(theta_p)
                eta_p = obj.eta(lin_p)
                f_p = obj.value(theta_p, eta_p)
                if np.isfinite(f_p) and f_p <= f + 1e-13 * scale:
                    theta, lin, eta, f = theta_p, lin_p, eta_p, f_p
                    g = obj.gradient(theta, eta)
                    H_here = False
                    it += 1
            break
        if it >= max_iter:
            break
        biggest = float(np.abs(s).max())
        cap = max_step * max(1.0, float(np.abs(theta).max()))
        if biggest > cap:
            s = s * (cap / biggest)
        slope = float(g @ s)
        if lazy and not obj.multiclass:
            u, f_full, g_full = obj.full_step(theta, lin, s)
            if np.isfinite(f_full) and f_full <= f + 1e-4 * slope:
                theta, lin, f, g = theta + s, lin + u, f_full, g_full
                eta = obj.eta(lin)
                it += 1
                prev_dec = dec
                H_here = False
                continue
        else:
            u = obj.linear(s)
        t, accepted = 1.0, False
        for _ in range(60):
            trial_lin = lin + t * u
            trial_theta = theta + t * s
            trial_eta = obj.eta(trial_lin)
            f_trial = obj.value(trial_theta, trial_eta)
            if np.isfinite(f_trial) and f_trial <= f + 1e-4 * t * slope:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            if not H_here:
                H, H_here = obj.hessian(theta, eta), True
                prev_dec = np.inf
                continue
            if dec / 2 <= 1e-9 * scale:
                converged, message = True, "converged to floating-point precision (no further decrease possible)" + notes
            else:
                message = "the line search failed to decrease the objective"
            break
        theta, lin, eta, f = trial_theta, trial_lin, trial_eta, f_trial
        g = obj.gradient(theta, eta)
        it += 1
        prev_dec = dec
        H_here = False
        if watch_divergence:
            big = _largest(obj, lin)
            if divergence_check is not None and it >= 2 and big > check_at:
                check_at *= 2  # a negative check is repeated only once the predictor has doubled
                if divergence_check(theta):
                    diverging, message = True, "the coefficients diverge (the likelihood keeps increasing along a direction)"
                    break
            if it >= 8 and big > 25.0 and t == 1.0 and float(np.abs(theta).max()) > 5.0:
                diverging, message = True, "the coefficients diverge (the likelihood keeps increasing along a direction)"
                break
    if not H_here:
        H = obj.hessian(theta, eta)
    return NewtonFit(theta, obj.k, obj.d, obj.intercept, H, g, f, eta, it, converged, message, diverging)


def _largest(obj: GLMObjective, lin: torch.Tensor) -> float:
    """Largest linear predictor over the rows with positive weight (a sign of an MLE at infinity)."""
    values = lin if obj.w is None else lin[obj.w > 0]
    return float(values.abs().max())


def _warm_start(obj: GLMObjective, theta: np.ndarray, m: int, seed: int, tol: float, max_step: float):
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(obj.n, size=m, replace=False))
    w_full = None if obj.w is None else obj.w.numpy()
    w_sub = np.ones(m) if w_full is None else w_full[idx]
    W_full = obj.n if w_full is None else float(w_full.sum())
    if not w_sub.sum() > 0:
        return None
    w_sub = w_sub * (W_full / w_sub.sum())
    sub = GLMObjective(
        np.ascontiguousarray(obj.X[idx]),
        obj.y.numpy()[idx],
        obj.family,
        sample_weight=w_sub,
        offset=None if obj.offset is None else obj.offset.numpy()[idx],
        intercept=obj.intercept,
        l2=obj.l2,
        n_classes=obj.K if obj.multiclass else None,
        free=obj.free if obj.multiclass else None,
    )
    sub.penalised = obj.penalised
    # a starting point only: the full-data optimum is about sqrt(p n / m) standard errors away anyway
    fit = newton_solve(sub, theta0=theta, tol=max(tol, 1e-7), max_iter=50, max_step=max_step, lazy=False,
                       watch_divergence=True, polish=False)
    if not fit.converged or fit.diverging:
        return None
    return fit.theta, fit.hessian


def lbfgs_solve(obj: GLMObjective, *, theta0: np.ndarray | None = None, tol: float = 1e-12, max_iter: int = 100,
                gtol: float = 1e-8) -> NewtonFit:
    """Minimise ``obj`` by L-BFGS (for very wide problems, where an :math:`O(p^3)` Newton solve per
    iteration is too costly), then compute the exact Hessian once at the solution for the standard
    errors. Convergence: the largest gradient entry below ``gtol * max(1, |f|)``; the Newton decrement
    with the final Hessian is reported in the message."""
    from ..optim.lbfgs import lbfgs

    theta = initial_theta(obj) if theta0 is None else np.array(theta0, dtype=np.float64)

    def fg(x: torch.Tensor):
        t = x.numpy().astype(np.float64)
        eta = obj.eta(obj.linear(t))
        f = obj.value(t, eta)
        return torch.tensor(f, dtype=torch.float64), torch.from_numpy(obj.gradient(t, eta))

    with torch_single_thread():
        res = lbfgs(fg, torch.from_numpy(theta), max_iter=max(max_iter, 50) * 20, gtol=gtol)
        theta = res.x.numpy().astype(np.float64).copy()
        eta = obj.eta(obj.linear(theta))
        f = obj.value(theta, eta)
        g = obj.gradient(theta, eta)
        H = obj.hessian(theta, eta)
    step = newton_direction(H, g, obj.flat)
    dec = -float(g @ step)
    converged = res.converged or dec / 2 <= tol * max(1.0, abs(f))
    message = f"L-BFGS: {res.message}; Newton decrement at the solution {dec:.2e}"
    return NewtonFit(theta, obj.k, obj.d, obj.intercept, H, g, f, eta, res.n_iter, converged, message)

"""The accelerated failure time model as a model of the core, parametrised as R's ``survreg``.

.. math:: y_i = \\eta_i + \\sigma W_i, \\qquad \\eta_i = x_i^\\top\\beta + b, \\qquad y = \\log T \\text{ (or } T\\text{)}

with ``W`` standard extreme-value (minimum Gumbel: Weibull and exponential times), normal
(log-normal times; Tobit-type with ``y = T``) or logistic (log-logistic times). With
:math:`z_i = (y_i - \\eta_i)/\\sigma` and :math:`s = \\log\\sigma` a row contributes

.. math:: \\ell_i = \\begin{cases} g(z_i) - s - [\\log t_i] & \\text{exact} \\\\ \\log S(z_i) & \\text{right-censored} \\\\
          \\log F(z_i) & \\text{left-censored} \\\\ \\log(F(z_{i2}) - F(z_{i1})) & \\text{interval} \\end{cases}

(:math:`g = \\log f`; the Jacobian :math:`-\\log t` of log-time families makes the log-likelihood
survreg's, on the time scale). The optimisation vector is :math:`\\theta = (\\beta, b, s)`. Derivatives
are formed in :math:`(\\eta, s)`-space: with :math:`L_z, L_{zz}` the derivatives of the row's term in
``z`` (for an interval, in both ``z``'s), :math:`\\partial z/\\partial\\eta = -1/\\sigma` and
:math:`\\partial z/\\partial s = -z`,

.. math:: \\ell_\\eta = -L_z/\\sigma, \\quad \\ell_s = -z L_z, \\quad \\ell_{\\eta\\eta} = L_{zz}/\\sigma^2, \\quad
          \\ell_{\\eta s} = (z L_{zz} + L_z)/\\sigma, \\quad \\ell_{ss} = z^2 L_{zz} + z L_z,

and a chunk's Hessian is :math:`\\tilde X^\\top \\mathrm{diag}(-w\\ell_{\\eta\\eta}) \\tilde X` (one Gram product),
bordered by :math:`\\tilde X^\\top(-w\\ell_{\\eta s})` and :math:`-\\sum w\\ell_{ss}`. Every term is computed
in log space with the law's own hazard :math:`f/S` and reverse hazard :math:`f/F` (exact in the
tails: :math:`e^z` for the extreme-value law, the logistic's :math:`F` and :math:`S`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import special

from ..censoring.data import EXACT, INTERVAL, LEFT, RIGHT
from ..core.contribution import Contribution
from ..core.objective import Objective
from ..core.problem import Problem
from ..core.source import InMemorySource

LN2 = math.log(2.0)
#: rows per chunk: about this many numbers of X, at least ``CHUNK_ROWS_MIN`` rows
CHUNK_ELEMENTS = 1 << 19
CHUNK_ROWS_MIN = 16_384
#: starting values come from least squares on at most this many rows
INITIAL_ROWS = 50_000
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
WEIGHT = "weight"


def log1mexp(a: np.ndarray) -> np.ndarray:
    """:math:`\\log(1 - e^{a})` for :math:`a \\le 0` (Mächler's two branches)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > -LN2, np.log(-np.expm1(a)), np.log1p(-np.exp(a)))


class ExtremeValue:
    """Minimum Gumbel: :math:`F(z) = 1 - \\exp(-e^z)`, :math:`g(z) = z - e^z` (log T of a Weibull time)."""

    name = "extreme"
    median = math.log(math.log(2.0))

    @staticmethod
    def log_density(z):
        return z - np.exp(z)

    @staticmethod
    def dlog_density(z):
        return 1 - np.exp(z), -np.exp(z)

    @staticmethod
    def log_sf(z):
        return -np.exp(z)

    @staticmethod
    def log_cdf(z):
        e = np.exp(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(z < -30, z - 0.5 * e, log1mexp(-e))

    @staticmethod
    def hazard(z):
        return np.exp(z)

    @staticmethod
    def reverse_hazard(z):
        e = np.exp(z)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.where(e > 700, 0.0, e / np.expm1(np.minimum(e, 700)))

    @staticmethod
    def quantile(q):
        return np.log(-np.log1p(-q))


class Gaussian:
    """Standard normal: :math:`g(z) = -z^2/2 - \\tfrac12\\log 2\\pi`."""

    name = "gaussian"
    median = 0.0

    @staticmethod
    def log_density(z):
        return -0.5 * z * z - HALF_LOG_2PI

    @staticmethod
    def dlog_density(z):
        return -z, -np.ones_like(z)

    @staticmethod
    def log_sf(z):
        return special.log_ndtr(-z)

    @staticmethod
    def log_cdf(z):
        return special.log_ndtr(z)

    @staticmethod
    def hazard(z):
        return np.exp(-0.5 * z * z - HALF_LOG_2PI - special.log_ndtr(-z))

    @staticmethod
    def reverse_hazard(z):
        return np.exp(-0.5 * z * z - HALF_LOG_2PI - special.log_ndtr(z))

    @staticmethod
    def quantile(q):
        return special.ndtri(q)


class Logistic:
    """Standard logistic: :math:`F(z) = 1/(1 + e^{-z})`, :math:`g(z) = -z - 2\\log(1 + e^{-z})`."""

    name = "logistic"
    median = 0.0

    @staticmethod
    def log_density(z):
        a = np.abs(z)
        return -a - 2 * np.log1p(np.exp(-a))

    @staticmethod
    def dlog_density(z):
        t = np.tanh(z / 2)
        return -t, -(1 - t * t) / 2

    @staticmethod
    def log_sf(z):
        return -np.logaddexp(0.0, z)

    @staticmethod
    def log_cdf(z):
        return -np.logaddexp(0.0, -z)

    @staticmethod
    def hazard(z):
        return special.expit(z)

    @staticmethod
    def reverse_hazard(z):
        return special.expit(-z)

    @staticmethod
    def quantile(q):
        return special.logit(q)


#: survreg's distributions: name -> (law of W, log-time, fixed scale or None)
DISTRIBUTIONS = {
    "weibull": (ExtremeValue, True, None),
    "exponential": (ExtremeValue, True, 1.0),
    "rayleigh": (ExtremeValue, True, 0.5),
    "lognormal": (Gaussian, True, None),
    "loglogistic": (Logistic, True, None),
    "normal": (Gaussian, False, None),
    "gaussian": (Gaussian, False, None),
    "logistic": (Logistic, False, None),
}


def row_terms(law, kind: np.ndarray, z1: np.ndarray, z2: np.ndarray):
    """Per-row log-likelihood term ``L`` (without ``-s`` and the Jacobian) and its ``z``-derivatives.

    Returns ``(L, L1, L2, L11, L12, L22)``: for one-``z`` rows everything sits in ``L1``/``L11`` (``z1``);
    interval rows use both (``z1 < z2``)."""
    n = kind.shape[0]
    L, L1, L2, L11, L12, L22 = (np.zeros(n) for _ in range(6))
    i = np.flatnonzero(kind == EXACT)
    if i.size:
        z = z1[i]
        L[i] = law.log_density(z)
        L1[i], L11[i] = law.dlog_density(z)
    i = np.flatnonzero(kind == RIGHT)
    if i.size:
        z = z1[i]
        r = law.hazard(z)
        dg, _ = law.dlog_density(z)
        L[i], L1[i], L11[i] = law.log_sf(z), -r, -dg * r - r * r
    i = np.flatnonzero(kind == LEFT)
    if i.size:
        z = z1[i]
        q = law.reverse_hazard(z)
        dg, _ = law.dlog_density(z)
        L[i], L1[i], L11[i] = law.log_cdf(z), q, dg * q - q * q
    i = np.flatnonzero(kind == INTERVAL)
    if i.size:
        a, b = z1[i], z2[i]
        log_d = log_interval(law, a, b)
        r1 = np.exp(law.log_density(a) - log_d)
        r2 = np.exp(law.log_density(b) - log_d)
        ga, _ = law.dlog_density(a)
        gb, _ = law.dlog_density(b)
        L[i], L1[i], L2[i] = log_d, -r1, r2
        L11[i], L12[i], L22[i] = -ga * r1 - r1 * r1, r1 * r2, gb * r2 - r2 * r2
    return L, L1, L2, L11, L12, L22


def log_interval(law, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:math:`\\log(F(b) - F(a))`, ``a < b``: from the cdfs in the lower half, the survival functions in
    the upper half, and :math:`\\log(1 - F(a) - S(b))` across the median."""
    lc_a, lc_b = law.log_cdf(a), law.log_cdf(b)
    ls_a, ls_b = law.log_sf(a), law.log_sf(b)
    lower = lc_b < -LN2
    upper = ~lower & (ls_a < -LN2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(lower, lc_b + log1mexp(np.minimum(lc_a - lc_b, 0.0)),
                        np.where(upper, ls_a + log1mexp(np.minimum(ls_b - ls_a, 0.0)),
                                 np.log1p(-(np.exp(lc_a) + np.exp(ls_b)))))


class AFTModel:
    """Rows ``(X, y1, y2, kind, weight, jacobian)`` of an AFT model; ``theta = (beta, b, s)``.

    ``intercept`` adds ``b``; a ``fixed_scale`` removes ``s`` from ``theta`` (exponential: 1).
    ``y1``/``y2`` are the (log-)time bounds: the value for exact rows, the censoring bound in ``y1``
    (right) or ``y1`` (left), both for intervals. ``jacobian`` is :math:`-\\log t` for exact rows of
    log-time families (0 otherwise)."""

    def __init__(self, law, n_features: int, *, intercept: bool = True, fixed_scale: float | None = None):
        self.law = law
        self.d = int(n_features)
        self.intercept = bool(intercept)
        self.fixed_scale = fixed_scale
        self.p1 = self.d + int(self.intercept)
        self.size = self.p1 + (0 if fixed_scale is not None else 1)

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, float, float]:
        """``(beta, b, s)`` of the optimisation vector."""
        beta = theta[: self.d]
        b = float(theta[self.d]) if self.intercept else 0.0
        s = math.log(self.fixed_scale) if self.fixed_scale is not None else float(theta[self.p1])
        return beta, b, s

    def eta(self, X: np.ndarray, theta: np.ndarray) -> np.ndarray:
        beta, b, _ = self.split(theta)
        return X @ beta + b

    def row_derivatives(self, chunk, theta: np.ndarray):
        """Per-row :math:`\\ell` and its derivatives in :math:`(\\eta, s)` (see the module docstring)."""
        _, _, s = self.split(theta)
        sigma = math.exp(s)
        eta = self.eta(chunk["X"], theta)
        kind = chunk["kind"]
        z1 = (chunk["y1"] - eta) / sigma
        z2 = (chunk["y2"] - eta) / sigma
        interval = kind == INTERVAL
        z2 = np.where(interval, z2, 0.0)
        L, L1, L2, L11, L12, L22 = row_terms(self.law, kind, z1, z2)
        exact = (kind == EXACT).astype(float)
        value = L - exact * s + chunk["jacobian"]
        Lz = L1 + L2
        Lzz = L11 + 2 * L12 + L22
        zL = L1 * z1 + L2 * z2
        zzL = L11 * z1 + L12 * (z1 + z2) + L22 * z2  # sum over pairs of L_ab z_b
        l_eta = -Lz / sigma
        l_s = -zL - exact
        l_ee = Lzz / sigma**2
        l_es = (zzL + Lz) / sigma
        l_ss = L11 * z1 * z1 + 2 * L12 * z1 * z2 + L22 * z2 * z2 + zL
        return value, l_eta, l_s, l_ee, l_es, l_ss

    def contribution(self, chunk, theta, order: int) -> Contribution:
        """Negative log-likelihood of the chunk, with its gradient and Hessian in ``theta``."""
        theta = theta.detach().cpu().numpy() if isinstance(theta, torch.Tensor) else np.asarray(theta, float)
        X, w = chunk["X"], chunk.get(WEIGHT)
        value, l_eta, l_s, l_ee, l_es, l_ss = self.row_derivatives(chunk, theta)
        wv = (lambda a: a) if w is None else (lambda a: w * a)
        total = -float(np.sum(wv(value)))
        if order == 0:
            return Contribution(torch.tensor(total, dtype=torch.float64))
        g_eta = -wv(l_eta)
        grad = np.empty(self.size)
        grad[: self.d] = g_eta @ X
        if self.intercept:
            grad[self.d] = g_eta.sum()
        if self.fixed_scale is None:
            grad[self.p1] = -float(np.sum(wv(l_s)))
        hess = None
        if order >= 2:
            hess = np.empty((self.size, self.size))
            hess[: self.p1, : self.p1] = _gram(X, -wv(l_ee), self.intercept)
            if self.fixed_scale is None:
                h_es = -wv(l_es)
                cross = np.empty(self.p1)
                cross[: self.d] = h_es @ X
                if self.intercept:
                    cross[self.d] = h_es.sum()
                hess[: self.p1, self.p1] = cross
                hess[self.p1, : self.p1] = cross
                hess[self.p1, self.p1] = -float(np.sum(wv(l_ss)))
            hess = torch.from_numpy(hess)
        return Contribution(torch.tensor(total, dtype=torch.float64), torch.from_numpy(grad), hess)


def _gram(X: np.ndarray, h: np.ndarray, intercept: bool) -> np.ndarray:
    """:math:`\\tilde X^\\top\\mathrm{diag}(h)\\tilde X`: BLAS's symmetric update when ``h >= 0`` (a log-concave
    law makes every row's curvature so), a general product otherwise."""
    if bool(np.all(h >= 0)):
        from ..glm.gram import weighted_gram

        return weighted_gram(X, h, intercept)
    A = np.column_stack([X, np.ones(X.shape[0])]) if intercept else X
    return A.T @ (h[:, None] * A)


class SurvivalProblem(Problem):
    """An AFT regression: the rows as a chunked source, the model, and a penalty (minus a log-prior)."""

    def __init__(self, model: AFTModel, X: np.ndarray, y1, y2, kind, jacobian, weight=None, penalty=None,
                 chunk_rows=None):
        self.model = model
        self.X, self.y1, self.y2, self.kind, self.jacobian, self.weight = X, y1, y2, kind, jacobian, weight
        self.penalty = penalty
        if chunk_rows is None:  # a row carries a dozen per-row temporaries: larger chunks than the default
            chunk_rows = max(CHUNK_ROWS_MIN, CHUNK_ELEMENTS // max(X.shape[1], 1))
        self.source = InMemorySource({"X": X, "y1": y1, "y2": y2, "kind": kind, "jacobian": jacobian, WEIGHT: weight},
                                     chunk_rows=chunk_rows)

    @property
    def total_weight(self) -> float:
        return float(self.X.shape[0] if self.weight is None else self.weight.sum())

    @property
    def dtype(self):
        return torch.float64

    @property
    def device(self):
        return torch.device("cpu")

    def objective(self) -> Objective:
        return Objective(self.model, self.source, penalty=self.penalty)

    def initial(self) -> torch.Tensor:
        """Least squares of stand-in values on the design, then the law's location and scale matched
        (the mean of ``W`` is :math:`-\\gamma` for the extreme-value law, 0 otherwise; its standard
        deviation :math:`\\pi/\\sqrt6`, 1, :math:`\\pi/\\sqrt3`)."""
        m = self.model
        rows = np.arange(self.X.shape[0])
        if rows.size > INITIAL_ROWS:  # least squares on a subsample is close enough to start Newton
            rows = np.random.default_rng(0).integers(0, rows.size, INITIAL_ROWS)
        X = self.X[rows]
        y = stand_in(self.kind[rows], self.y1[rows], self.y2[rows])
        w = np.ones(y.shape[0]) if self.weight is None else self.weight[rows]
        A = np.column_stack([X, np.ones(y.shape[0])]) if m.intercept else X
        if A.shape[1]:
            root = np.sqrt(w)[:, None]
            coef, *_ = np.linalg.lstsq(A * root, y * root[:, 0], rcond=None)
            resid = y - A @ coef
        else:
            coef, resid = np.zeros(0), y
        sd = math.sqrt(max(float(np.sum(w * resid**2) / w.sum()), 1e-12))
        spread = {"extreme": math.pi / math.sqrt(6), "gaussian": 1.0, "logistic": math.pi / math.sqrt(3)}[m.law.name]
        sigma = m.fixed_scale if m.fixed_scale is not None else sd / spread
        theta = np.zeros(m.size)
        theta[: m.p1] = coef
        if m.intercept and m.law.name == "extreme":
            theta[m.d] += 0.5772156649015329 * sigma
        if m.fixed_scale is None:
            theta[m.p1] = math.log(sigma)
        return torch.from_numpy(theta)

    def subsample(self, size: int, seed: int = 0) -> "SurvivalProblem":
        rng = np.random.default_rng(seed)
        n = self.X.shape[0]
        idx = np.sort(rng.choice(n, size=min(size, n), replace=False))
        w = np.ones(idx.size) if self.weight is None else self.weight[idx]
        w = w * (self.total_weight / w.sum())
        return SurvivalProblem(self.model, np.ascontiguousarray(self.X[idx]), self.y1[idx], self.y2[idx],
                               self.kind[idx], self.jacobian[idx], w, self.penalty)


def stand_in(kind: np.ndarray, y1: np.ndarray, y2: np.ndarray) -> np.ndarray:
    """One value per row for starting values: the value, the censoring bound, or the interval's middle."""
    return np.where(kind == INTERVAL, (y1 + np.where(kind == INTERVAL, y2, y1)) / 2, y1)

"""The model of a conditional family: rows ``(x_i, y_i, w_i, o_i)`` with :math:`y_i \\mid \\eta_i`.

The linear predictor is :math:`\\eta_i = x_i^\\top\\beta + b + o_i` (one column per free class for the
categorical family; a reference class, if any, has :math:`\\eta \\equiv 0`). The optimisation vector
``theta`` packs ``[beta, b]`` per free class (row-major). One chunk contributes

.. math:: f_c(\\theta) = \\sum_{i \\in c} w_i\\, \\text{nll}(y_i \\mid \\eta_i), \\qquad
          \\nabla f_c = \\tilde X_c^\\top (w \\odot \\partial_\\eta \\text{nll}), \\qquad
          \\nabla^2 f_c = \\tilde X_c^\\top \\mathrm{diag}(w \\odot \\partial^2_\\eta \\text{nll})\\, \\tilde X_c

with :math:`\\tilde X = [X, 1]`: the Hessian is formed in eta-space (the family's per-observation
second derivative, then one weighted Gram product), never by autograd over the coefficients. For the
softmax the blocks are :math:`H_{kl} = \\tilde X^\\top \\mathrm{diag}(w\\, p_k(\\delta_{kl} - p_l)) \\tilde X`.

Chunks are dicts with ``X`` (rows x features), ``y``, and optionally ``weight`` and ``offset``.
On the CPU, NumPy arrays go through BLAS (a symmetric rank-k update for the Gram matrix); torch
tensors (on any device) through torch.

:class:`RidgePenalty` is the Gaussian prior on the coefficients written as a penalty,
:math:`\\tfrac{\\lambda_2}{2}\\sum_{j \\in P}\\theta_j^2` over the penalised coordinates ``P``.
"""

from __future__ import annotations

import numpy as np
import torch

from .contribution import Contribution
from .objective import Objective
from .problem import Problem
from .source import MIN_CHUNK_ROWS, InMemorySource

WEIGHT = "weight"
OFFSET = "offset"


class RegressionModel:
    """A conditional family over a design with ``n_features`` columns (see the module docstring)."""

    def __init__(self, family, n_features: int, *, intercept: bool = True, n_classes: int | None = None,
                 free: list[int] | None = None):
        self.family = family
        self.multiclass = bool(family.multiclass)
        self.d = int(n_features)
        self.intercept = bool(intercept)
        self.p1 = self.d + int(intercept)
        self.n_classes = n_classes if self.multiclass else 1
        self.free = list(range(n_classes)) if self.multiclass and free is None else (list(free) if self.multiclass else [0])
        self.k = len(self.free)
        self.size = self.k * self.p1

    # ------------------------------------------------------------------ linear predictor
    def rows(self, theta) -> tuple:
        """``(coef (k, d), intercepts (k,))`` of the packed vector."""
        r = theta.reshape(self.k, self.p1)
        icpt = r[:, self.d] if self.intercept else None
        return r[:, : self.d], icpt

    def linear(self, X, theta):
        """:math:`\\tilde X \\theta` without the offset: ``(m,)``, or ``(m, k)`` for the free classes."""
        coef, icpt = self.rows(theta)
        if self.multiclass:
            out = X @ coef.T
            return out if icpt is None else out + icpt
        out = X @ coef[0]
        return out if icpt is None else out + icpt[0]

    def eta(self, lin: torch.Tensor, offset: torch.Tensor | None) -> torch.Tensor:
        """Full linear predictor: offset added (one per row, or per row and class for the softmax); the
        reference class (if any) filled with zeros before the offset."""
        if self.multiclass:
            if self.k == self.n_classes:
                full = lin
            else:
                full = torch.zeros(lin.shape[0], self.n_classes, dtype=lin.dtype, device=lin.device)
                full[:, self.free] = lin
            if offset is None:
                return full
            return full + (offset.unsqueeze(1) if offset.dim() == 1 else offset)
        return lin if offset is None else lin + offset

    def eta_of(self, chunk, theta) -> torch.Tensor:
        """:math:`\\eta` of the rows of ``chunk`` at ``theta``."""
        X = chunk["X"]
        if isinstance(X, np.ndarray):
            lin = torch.from_numpy(np.ascontiguousarray(self.linear(X, _as_numpy(theta))))
        else:
            lin = self.linear(X, torch.as_tensor(theta, dtype=X.dtype, device=X.device))
        return self.eta(lin, chunk.get(OFFSET))

    # ------------------------------------------------------------------ contributions
    def contribution(self, chunk, theta, order: int) -> Contribution:
        X, y, w = chunk["X"], chunk["y"], chunk.get(WEIGHT)
        eta = self.eta_of(chunk, theta)
        if order == 0:
            values = self.family.nll(y, eta)
            return Contribution(values.sum() if w is None else torch.dot(w, values))
        values, r = self.family.nll_and_grad(y, eta)
        value = values.sum() if w is None else torch.dot(w, values)
        if w is not None:
            r = r * (w[:, None] if self.multiclass else w)
        if self.multiclass:
            r = r[:, self.free]
        grad = self._cross(X, r)
        if order < 2:
            return Contribution(value, grad)
        positive = eta if w is None else eta[(w > 0).to(eta.device)]
        largest = float(positive.abs().max()) if positive.numel() else 0.0
        return Contribution(value, grad, self._hessian(X, y, eta, w), largest)

    def _cross(self, X, r: torch.Tensor) -> torch.Tensor:
        """:math:`\\tilde X^\\top r` packed per class (``r`` is ``(m,)`` or ``(m, k)``)."""
        numpy = isinstance(X, np.ndarray)
        if numpy:
            R = r.numpy()
            G = (R.T @ X).reshape(self.k, self.d) if self.multiclass else (R @ X).reshape(1, self.d)
            sums = R.sum(0).reshape(self.k, 1)
            parts = np.concatenate([G, sums], axis=1) if self.intercept else G
            return torch.from_numpy(np.ascontiguousarray(parts).reshape(-1))
        R = r if self.multiclass else r.reshape(-1, 1)
        G = R.T @ X
        parts = torch.cat([G, R.sum(0).reshape(self.k, 1)], dim=1) if self.intercept else G
        return parts.reshape(-1)

    def _hessian(self, X, y, eta, w) -> torch.Tensor:
        if not self.multiclass:
            h = self.family.hess(y, eta)
            if w is not None:
                h = h * w
            return gram(X, h, self.intercept)
        logp = torch.log_softmax(eta, dim=1)
        p = logp.exp()
        H = torch.zeros(self.size, self.size, dtype=eta.dtype, device=eta.device)
        for a, k in enumerate(self.free):
            # p_k (1 - p_k) with 1 - p_k summed over the other classes (no cancellation near p_k = 1)
            others = torch.logsumexp(torch.cat([eta[:, :k], eta[:, k + 1:]], dim=1), dim=1) - torch.logsumexp(eta, dim=1)
            h = p[:, k] * others.exp()
            sa = slice(a * self.p1, (a + 1) * self.p1)
            H[sa, sa] = gram(X, h if w is None else h * w, self.intercept)
            for b in range(a + 1, self.k):
                h = (logp[:, k] + logp[:, self.free[b]]).exp()
                sb = slice(b * self.p1, (b + 1) * self.p1)
                block = -gram(X, h if w is None else h * w, self.intercept)
                H[sa, sb] = block
                H[sb, sa] = block.T
        return H

    # ------------------------------------------------------------------ per-row pieces for inference
    def scores(self, chunk, theta) -> torch.Tensor:
        """Per-row score factors :math:`\\partial_\\eta \\text{nll}` (unweighted), ``(m,)`` or ``(m, k)``."""
        r = self.family.grad(chunk["y"], self.eta_of(chunk, theta))
        return r[:, self.free] if self.multiclass else r

    def log_likelihood(self, chunk, theta, dispersion=None) -> torch.Tensor:
        """The family's full log-likelihood of the chunk (constants included)."""
        return self.family.log_likelihood(chunk["y"], self.eta_of(chunk, theta), chunk.get(WEIGHT), dispersion)


#: numbers per chunk of an in-memory NumPy design: each chunk's products are BLAS calls, which want
#: blocks far larger than the elementwise kernels' cache-sized chunks (the per-chunk overhead of a
#: quarter-megabyte chunk costs as much as the products themselves)
DESIGN_CHUNK_ELEMENTS = 1 << 21


def design_chunk_rows(X: np.ndarray) -> int:
    """Rows per chunk of the design ``X``: about :data:`DESIGN_CHUNK_ELEMENTS` numbers."""
    return max(MIN_CHUNK_ROWS, DESIGN_CHUNK_ELEMENTS // max(X.shape[1] + 2, 1))


class RidgePenalty:
    """:math:`\\tfrac{\\lambda_2}{2}\\sum_j m_j\\theta_j^2` with a 0/1 mask ``m`` of penalised coordinates."""

    def __init__(self, l2: float, mask: np.ndarray):
        self.l2 = float(l2)
        self.mask = torch.as_tensor(np.asarray(mask, dtype=np.float64))

    def contribution(self, theta, order: int) -> Contribution:
        t = torch.as_tensor(theta, dtype=torch.float64)
        m = self.mask.to(t.device)
        value = 0.5 * self.l2 * torch.sum(m * t * t)
        grad = self.l2 * m * t if order >= 1 else None
        hess = torch.diag(self.l2 * m) if order >= 2 else None
        return Contribution(value, grad, hess)


def gram(X, h: torch.Tensor, intercept: bool) -> torch.Tensor:
    """:math:`\\tilde X^\\top \\mathrm{diag}(h)\\, \\tilde X` for ``h >= 0`` (BLAS for NumPy, torch otherwise)."""
    if isinstance(X, np.ndarray):
        from ..glm.gram import weighted_gram

        return torch.from_numpy(weighted_gram(X, h.numpy(), intercept))
    root = torch.sqrt(h).unsqueeze(1)
    A = X * root
    if intercept:
        A = torch.cat([A, root], dim=1)
    return A.T @ A


def _tensor(a: np.ndarray) -> torch.Tensor:
    """A tensor sharing ``a``'s memory (a copy when ``a`` is read-only, which torch cannot wrap)."""
    a = np.asarray(a)
    return torch.from_numpy(a if a.flags.writeable else a.copy())


def _as_numpy(theta) -> np.ndarray:
    if isinstance(theta, torch.Tensor):
        return theta.detach().cpu().numpy()
    return np.asarray(theta, dtype=np.float64)


class RegressionProblem(Problem):
    """A regression: the rows ``(X, y, w, offset)`` of a conditional family, the intercept, the free
    classes (softmax) and a Gaussian (ridge) prior of precision ``l2`` on the penalised coordinates.

    The optimisation vector is the packed ``theta`` (see :class:`RegressionModel`), except when
    every class of a softmax has its own unpenalised intercept: a common shift of the intercepts
    then changes nothing, so the intercepts are parametrised in the sum-zero subspace
    (``theta = T x`` with ``T`` orthonormal), where the Hessian is positive definite.
    """

    def __init__(self, family, X, y, *, weight=None, offset=None, intercept: bool = True, n_classes: int | None = None,
                 free: list[int] | None = None, l2: float = 0.0, penalize_intercept: bool = False, chunk_rows=None,
                 features: list[str] | None = None, row_names: list[str] | None = None, class_names=None):
        self.X = X
        self.y = y
        self.weight = weight
        self.offset = offset
        y_t = _tensor(np.asarray(y, dtype=np.int64 if family.multiclass else np.float64))
        self.source = InMemorySource(
            {"X": X, "y": y_t, WEIGHT: None if weight is None else _tensor(weight),
             OFFSET: None if offset is None else _tensor(offset)},
            chunk_rows=chunk_rows if chunk_rows is not None or not isinstance(X, np.ndarray) else design_chunk_rows(X),
        )
        self._setup(family, X.shape[1], intercept, n_classes, free, l2, penalize_intercept, features, row_names,
                    class_names)

    def _setup(self, family, d: int, intercept: bool, n_classes, free, l2: float, penalize_intercept: bool, features,
               row_names, class_names) -> None:
        """The model, labels, penalty mask and parametrisation (whatever holds the rows)."""
        self.family = family
        #: column labels of X, the names of the linear predictors (softmax classes) and of the classes
        self.features = list(features) if features is not None else [f"x{j}" for j in range(d)]
        self.row_names = row_names
        self.class_names = class_names
        self.model = RegressionModel(family, d, intercept=intercept, n_classes=n_classes, free=free)
        self.l2 = float(l2)
        self.penalize_intercept = bool(penalize_intercept)
        m = self.model
        pen = np.zeros(m.p1, dtype=bool)
        pen[: m.d] = True
        if m.intercept and self.penalize_intercept:
            pen[m.d] = True
        self.penalised = np.tile(pen, m.k) if self.l2 > 0 else np.zeros(m.size, dtype=bool)
        self.basis = None
        if m.multiclass and m.k == m.n_classes and m.intercept and not self.penalised[m.d]:
            self.basis = torch.from_numpy(_sum_zero_basis(m.k, m.p1, m.d))

    #: whether every row is in memory (:class:`~mlemap.core.regression_stream.SourceRegressionProblem` reads a source)
    in_memory = True

    # ------------------------------------------------------------------ facts
    @property
    def total_weight(self) -> float:
        return float(self.X.shape[0] if self.weight is None else self.weight.sum())

    @property
    def n_features(self) -> int:
        return self.model.d

    @property
    def dtype(self) -> torch.dtype:
        return torch.float64

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    @property
    def size(self) -> int:
        return self.model.size if self.basis is None else self.basis.shape[1]

    @property
    def n_rows(self) -> int:
        """Linear predictors in the packing (every class for the softmax, 1 otherwise)."""
        return self.model.n_classes

    def labels(self) -> list[str]:
        """Packed labels: ``[features..., (Intercept)]`` per linear predictor (``class:feature`` for the softmax)."""
        from ..glm.design import INTERCEPT

        per_row = self.features + ([INTERCEPT] if self.model.intercept else [])
        if self.row_names is None:
            return per_row
        return [f"{r}:{lab}" for r in self.row_names for lab in per_row]

    def _replace(self, **changes) -> "RegressionProblem":
        m = self.model
        args = dict(weight=self.weight, offset=self.offset, intercept=m.intercept,
                    n_classes=m.n_classes if m.multiclass else None, free=m.free if m.multiclass else None,
                    l2=self.l2, penalize_intercept=self.penalize_intercept, features=self.features,
                    row_names=self.row_names, class_names=self.class_names, X=self.X, y=self.y)
        args.update(changes)
        X, y = args.pop("X"), args.pop("y")
        return RegressionProblem(self.family, X, y, **args)

    def restrict(self, columns: list[int]) -> "RegressionProblem":
        """The problem on the columns ``columns`` of X only (dropping aliased or inactive columns)."""
        if list(columns) == list(range(self.X.shape[1])):
            return self
        X = np.ascontiguousarray(self.X[:, columns])
        return self._replace(X=X, features=[self.features[j] for j in columns])

    def with_penalty(self, l2: float, penalize_intercept: bool = False) -> "RegressionProblem":
        """The problem with a ridge (Gaussian prior) penalty of precision ``l2``."""
        return self._replace(l2=l2, penalize_intercept=penalize_intercept)

    def with_offset(self, offset) -> "RegressionProblem":
        return self._replace(offset=offset)

    def rows(self, index) -> "RegressionProblem":
        """The problem on the rows ``index`` (an integer array), weights as they are."""
        take = lambda a: None if a is None else a[index]  # noqa: E731
        return self._replace(X=np.ascontiguousarray(self.X[index]), y=np.asarray(self.y)[index],
                             weight=take(self.weight), offset=take(self.offset))

    def penalty_hessian(self) -> torch.Tensor:
        """Hessian of the ridge penalty in the optimisation coordinates."""
        D = torch.diag(torch.as_tensor(self.l2 * self.penalised.astype(float)))
        return D if self.basis is None else self.basis.T @ D @ self.basis

    def rows_all(self) -> dict:
        """Every row as one chunk (for per-row quantities: the linear predictor, scores)."""
        return self.source.as_dict()

    # ------------------------------------------------------------------ coordinates
    def theta(self, x: torch.Tensor) -> torch.Tensor:
        """The packed coefficients at the optimisation vector ``x``."""
        return x if self.basis is None else self.basis @ x

    def coordinates(self, theta) -> torch.Tensor:
        """The optimisation vector of packed coefficients ``theta`` (their sum-zero part for the intercepts)."""
        t = torch.as_tensor(np.asarray(theta, dtype=np.float64))
        return t if self.basis is None else self.basis.T @ t

    def objective(self) -> Objective:
        """The objective in the optimisation coordinates (one instance per problem: its last exact
        evaluation is where :meth:`fit_summary` looks first)."""
        cached = self.__dict__.get("_objective_instance")
        if cached is not None:
            return cached
        penalty = RidgePenalty(self.l2, self.penalised) if self.l2 > 0 else None
        if self.basis is None:
            built = self.theta_objective()
        else:
            built = self._objective(Reparametrised(self.model, self.basis),
                                    None if penalty is None else Reparametrised(penalty, self.basis))
        self._objective_instance = built
        return built

    def theta_objective(self) -> Objective:
        """The objective in the packed coefficients themselves (no sum-zero reparametrisation)."""
        penalty = RidgePenalty(self.l2, self.penalised) if self.l2 > 0 else None
        return self._objective(self.model, penalty)

    def _objective(self, model, penalty) -> Objective:
        return Objective(model, self.source, penalty=penalty)

    # ------------------------------------------------------------------ what the routes read of the rows
    def aliasing(self):
        """Exact linear dependences among the columns of X (and the intercept), on a subsample first."""
        from ..glm.design import INTERCEPT, gram_aliasing
        from ..glm.gram import weighted_gram
        from .optimize import SUBSAMPLE_SIZE

        X, w = self.X, self.weight
        d, intercept = X.shape[1], self.model.intercept
        rows = np.ones(X.shape[0], bool) if w is None else w > 0
        idx = np.flatnonzero(rows)
        labels = self.features + ([INTERCEPT] if intercept else [])
        order = ([d] if intercept else []) + list(range(d))
        m = min(SUBSAMPLE_SIZE, max(10_000, 500 * (d + 1)))  # plenty of rows to reveal an exact dependence
        if idx.size > 4 * m:
            sub = np.sort(np.random.default_rng(1).choice(idx, m, replace=False))
            alias = gram_aliasing(weighted_gram(np.ascontiguousarray(X[sub]), np.ones(sub.size), intercept), labels,
                                  order=order)
            if not alias.deficient:
                return alias
        return gram_aliasing(weighted_gram(X, rows.astype(float), intercept), labels, order=order)

    def watch_rows(self, size: int, seed: int = 2):
        """``(chunk, positive)``: at most ``size`` rows (a seeded random subset) on which to follow the
        linear predictor, and the mask of those with positive weight (None: all)."""
        n = self.X.shape[0]
        watched = self if n <= size else self.rows(np.sort(np.random.default_rng(seed).choice(n, size, replace=False)))
        positive = None if watched.weight is None else torch.from_numpy(watched.weight > 0)
        return watched.rows_all(), positive

    def separation_rows(self):
        """``(X, y, weight, on_sample)``: the rows a separation diagnosis reads (every row here)."""
        return self.X, np.asarray(self.y), self.weight, False

    def no_events(self) -> bool:
        """Whether every response of positive weight is 0 (a Poisson intercept then runs off)."""
        y = np.asarray(self.y)
        return not np.any(y if self.weight is None else y[self.weight > 0])

    def fit_summary(self, theta, meat: bool = False):
        """Log-likelihood, largest linear predictor over rows of positive weight and (``meat``) the
        outer product of the scores at ``theta`` (:class:`~mlemap.core.regression_sums.FitSummary`)."""
        from .regression_sums import SummaryMap

        theta = torch.as_tensor(theta)
        known = None if meat else self._summary_from_last_pass(theta)
        return known if known is not None else self.source.map_reduce(SummaryMap(self.model, theta, meat))

    def _summary_from_last_pass(self, theta: torch.Tensor):
        """The summary at ``theta`` from the objective's last exact evaluation, when it was there (the
        optimum a solver ends on): log-likelihood = minus the data's objective value plus the
        family's data-only constant; None when that pass was elsewhere or the constant is unknown."""
        from .regression_sums import FitSummary

        objective = self.__dict__.get("_objective_instance")
        last = None if objective is None or self.basis is not None else objective.last_exact
        if last is None or last[1].largest is None:
            return None
        x, data = last
        if x.shape != theta.shape or not bool(torch.equal(x, theta.to(dtype=x.dtype, device=x.device))):
            return None
        constant = self.log_likelihood_constant()
        if constant is None:
            return None
        return FitSummary(-float(data.value) + constant, float(data.largest))

    def log_likelihood_constant(self) -> float | None:
        """The part of the log-likelihood that depends on the data alone (None where unknown)."""
        rows = self.source.as_dict()
        return self.family.log_likelihood_constant(rows["y"], rows.get(WEIGHT))

    def initial(self) -> torch.Tensor:
        """Intercept-only maximum likelihood (zeros without an intercept)."""
        from .regression_sums import InitialSums

        sums = InitialSums.of(self.family, self.model.n_classes, np.asarray(self.y), self.weight, self.offset)
        return self.coordinates(sums.initial(self.model))

    def subsample(self, size: int, seed: int = 0) -> "RegressionProblem":
        """The same problem on ``size`` rows drawn without replacement; weights scaled to the full total."""
        rng = np.random.default_rng(seed)
        n = self.X.shape[0]
        idx = np.sort(rng.choice(n, size=min(size, n), replace=False))
        w_sub = np.ones(idx.size) if self.weight is None else self.weight[idx]
        total = w_sub.sum()
        w_sub = w_sub * (self.total_weight / total) if total > 0 else w_sub
        return self._replace(X=np.ascontiguousarray(self.X[idx]), y=np.asarray(self.y)[idx], weight=w_sub,
                             offset=None if self.offset is None else self.offset[idx])


class Reparametrised:
    """A model or penalty of ``theta`` seen as a function of ``x`` with ``theta = T x``:
    :math:`g_x = T^\\top g_\\theta`, :math:`H_x = T^\\top H_\\theta T`."""

    def __init__(self, inner, basis: torch.Tensor):
        self.inner = inner
        self.basis = basis
        self.size = basis.shape[1]

    def _map(self, c: Contribution) -> Contribution:
        T = self.basis
        grad = None if c.grad is None else T.T @ c.grad
        hess = None if c.hess is None else T.T @ c.hess @ T
        return Contribution(c.value, grad, hess)

    def contribution(self, *args) -> Contribution:
        *chunk, x, order = args
        return self._map(self.inner.contribution(*chunk, self.basis @ x, order))


def _sum_zero_basis(k: int, p1: int, d: int) -> np.ndarray:
    """``T`` (k p1 x (k p1 - 1)): identity on the coefficients, an orthonormal basis of the sum-zero
    subspace on the ``k`` intercepts (packed at ``a p1 + d``)."""
    size = k * p1
    icpt = [a * p1 + d for a in range(k)]
    others = [i for i in range(size) if i not in icpt]
    # Helmert-type orthonormal contrasts: columns orthogonal to the vector of ones
    q, _ = np.linalg.qr(np.column_stack([np.ones(k), np.eye(k)[:, : k - 1]]))
    contrasts = q[:, 1:]
    T = np.zeros((size, size - 1))
    for col, i in enumerate(others):
        T[i, col] = 1.0
    T[np.ix_(icpt, range(len(others), size - 1))] = contrasts
    return T

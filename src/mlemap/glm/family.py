"""Conditional families for regression: the distribution of ``y`` given the linear predictor.

With :math:`\\eta_i = x_i^\\top\\beta + b + \\text{offset}_i` (a vector per class for the categorical
family), each family gives the negative log-likelihood of one observation and its derivatives in
:math:`\\eta` (what Newton/IRLS and coordinate descent need):

=============  ===============  ==========================================  ======================  ===================
family         link             :math:`-\\log p(y \\mid \\eta)` (up to consts)   :math:`\\partial/\\partial\\eta`   :math:`\\partial^2/\\partial\\eta^2`
=============  ===============  ==========================================  ======================  ===================
gaussian       identity         :math:`(y - \\eta)^2 / (2\\sigma^2)`            :math:`(\\eta - y)/\\sigma^2`     :math:`1/\\sigma^2`
bernoulli      logit            :math:`\\log(1 + e^\\eta) - y\\eta`              :math:`\\sigma(\\eta) - y`      :math:`\\sigma(1-\\sigma)`
poisson        log              :math:`e^\\eta - y\\eta + \\log y!`              :math:`e^\\eta - y`             :math:`e^\\eta`
categorical    softmax          :math:`\\log\\sum_k e^{\\eta_k} - \\eta_y`         :math:`p - e_y`                 :math:`\\mathrm{diag}(p) - pp^\\top`
laplace        identity         :math:`|y - \\eta| / b`                         (not differentiable)     (none)
=============  ===============  ==========================================  ======================  ===================

The Bernoulli NLL is ``binary_cross_entropy_with_logits`` and the categorical NLL is
``cross_entropy``: the library's tests check both identities. All functions work on torch tensors
of any floating dtype and device.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F

from ..errors import DataError, FamilyError


class GLMFamily:
    """Base class; subclasses implement the per-observation pieces."""

    name: ClassVar[str]
    #: True when y is a class label (categorical), giving one linear predictor per class
    multiclass: ClassVar[bool] = False
    #: False for likelihoods with kinks (Laplace), which need a non-smooth solver
    smooth: ClassVar[bool] = True
    #: name of the dispersion parameter estimated alongside the coefficients, if any
    dispersion: ClassVar[str | None] = None

    def validate(self, y: torch.Tensor) -> None:
        """Raise a typed error naming the problem and the fix when ``y`` is outside the support."""

    def nll(self, y: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
        """Per-observation negative log-likelihood (dispersion 1 for gaussian/laplace), shape ``(n,)``."""
        raise NotImplementedError  # pragma: no cover

    def grad(self, y: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
        """:math:`\\partial\\,\\text{nll}/\\partial\\eta` per observation."""
        raise NotImplementedError  # pragma: no cover

    def hess(self, y: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
        """:math:`\\partial^2\\,\\text{nll}/\\partial\\eta^2` per observation (the IRLS weights)."""
        raise NotImplementedError  # pragma: no cover

    def nll_and_grad(self, y: torch.Tensor, eta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(nll, grad)`` together (families override it where the two share work)."""
        return self.nll(y, eta), self.grad(y, eta)

    def mean(self, eta: torch.Tensor) -> torch.Tensor:
        """:math:`E[y \\mid \\eta]` (class probabilities for the categorical family)."""
        raise NotImplementedError  # pragma: no cover

    def log_likelihood(self, y: torch.Tensor, eta: torch.Tensor, w: torch.Tensor | None = None, dispersion=None) -> torch.Tensor:
        """Full weighted log-likelihood, constants included (so it matches scipy and statsmodels)."""
        raise NotImplementedError  # pragma: no cover

    def log_likelihood_constant(self, y: torch.Tensor | None, w: torch.Tensor | None = None) -> float | None:
        """:math:`\\ell - (-\\sum_i w_i\\,\\text{nll}_i)` at dispersion 1, the part of the
        log-likelihood that does not depend on :math:`\\eta` (None where it depends on a dispersion)."""
        return None


def _weighted(values: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    return values.sum() if w is None else (w * values).sum()


#: counts up to this value have their log-factorials looked up in a table
_FACTORIAL_TABLE = 1 << 16


def _log_factorial_sum(y: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """:math:`\\sum_i w_i \\log y_i!` for whole-number counts: by the table of each distinct count's
    total weight (one ``lgamma`` per distinct count) when the counts are small, else row by row."""
    if y.numel() == 0 or not (float(y.max()) <= _FACTORIAL_TABLE and float(y.min()) >= 0 and bool((y == torch.floor(y)).all())):
        return _weighted(torch.lgamma(y + 1), w)
    counts = torch.bincount(y.to(torch.int64), weights=w)
    if counts.dtype != y.dtype:
        counts = counts.to(y.dtype)
    table = torch.lgamma(torch.arange(counts.numel(), dtype=y.dtype, device=y.device) + 1)
    return torch.dot(counts, table)


class GaussianGLM(GLMFamily):
    """Normal errors, identity link; the scale :math:`\\sigma` is estimated (MLE: :math:`\\hat\\sigma^2 = \\sum w r^2 / W`)."""

    name = "gaussian"
    dispersion = "scale"

    def nll(self, y, eta):
        r = y - eta
        return 0.5 * r * r

    def grad(self, y, eta):
        return eta - y

    def hess(self, y, eta):
        return torch.ones_like(eta)

    def mean(self, eta):
        return eta

    def log_likelihood(self, y, eta, w=None, dispersion=None):
        W = y.new_tensor(float(y.shape[0])) if w is None else w.sum()
        r = y - eta
        rss = _weighted(r * r, w)
        sigma2 = rss / W if dispersion is None else torch.as_tensor(dispersion, dtype=y.dtype) ** 2
        return -0.5 * W * math.log(2 * math.pi) - 0.5 * W * torch.log(sigma2) - rss / (2 * sigma2)


class BernoulliGLM(GLMFamily):
    """Binary outcomes in {0, 1}, logit link: :math:`p = \\sigma(\\eta)`."""

    name = "bernoulli"

    def validate(self, y):
        bad = (y != 0) & (y != 1)
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0])
            raise DataError(
                f"The 'y' argument of a logistic (bernoulli) model must hold 0/1 labels; found {y[i].item()} at "
                f"row {i} ({int(bad.sum())} such value(s)). Encode the outcome as 0 and 1, or use SoftmaxRegression "
                "for more than two classes."
            )

    def nll(self, y, eta):
        return F.binary_cross_entropy_with_logits(eta, y, reduction="none")

    def grad(self, y, eta):
        return torch.sigmoid(eta) - y

    def hess(self, y, eta):
        p = torch.sigmoid(eta)
        return p * (1 - p)

    def mean(self, eta):
        return torch.sigmoid(eta)

    def log_likelihood(self, y, eta, w=None, dispersion=None):
        return -_weighted(self.nll(y, eta), w)

    def log_likelihood_constant(self, y, w=None):
        return 0.0


class PoissonGLM(GLMFamily):
    """Counts, log link: :math:`\\mu = e^\\eta` (exposure enters as ``offset = log(exposure)``)."""

    name = "poisson"

    def validate(self, y):
        bad = (y < 0) | (y != torch.round(y))
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0])
            raise DataError(
                f"The 'y' argument of a Poisson model must hold whole-number counts of 0 or more; found "
                f"{y[i].item()} at row {i} ({int(bad.sum())} such value(s)). Pass counts (rates go in as counts "
                "with an exposure)."
            )

    def nll(self, y, eta):
        return torch.exp(eta) - y * eta

    def grad(self, y, eta):
        return torch.exp(eta) - y

    def hess(self, y, eta):
        return torch.exp(eta)

    def nll_and_grad(self, y, eta):
        mu = torch.exp(eta)
        return mu - y * eta, mu - y

    def mean(self, eta):
        return torch.exp(eta)

    def log_likelihood(self, y, eta, w=None, dispersion=None):
        return -_weighted(self.nll(y, eta), w) - _log_factorial_sum(y, w)

    def log_likelihood_constant(self, y, w=None):
        return None if y is None else -float(_log_factorial_sum(y, w))


class CategoricalGLM(GLMFamily):
    """Class labels ``0..K-1``, softmax link; ``eta`` has shape ``(n, K)``."""

    name = "categorical"
    multiclass = True

    def nll(self, y, eta):
        return F.cross_entropy(eta, y.long(), reduction="none")

    def grad(self, y, eta):
        p = torch.softmax(eta, dim=1)
        return p - F.one_hot(y.long(), eta.shape[1]).to(eta.dtype)

    def hess(self, y, eta):
        """Per-observation ``(K, K)`` blocks :math:`\\mathrm{diag}(p) - pp^\\top`, shape ``(n, K, K)``."""
        p = torch.softmax(eta, dim=1)
        return torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)

    def mean(self, eta):
        return torch.softmax(eta, dim=1)

    def log_likelihood(self, y, eta, w=None, dispersion=None):
        return -_weighted(self.nll(y, eta), w)

    def log_likelihood_constant(self, y, w=None):
        return 0.0


class LaplaceGLM(GLMFamily):
    """Laplace errors, identity link: least absolute deviations; the scale :math:`b` is estimated
    (MLE: :math:`\\hat b = \\sum w |r| / W`)."""

    name = "laplace"
    smooth = False
    dispersion = "scale"

    def nll(self, y, eta):
        return (y - eta).abs()

    def grad(self, y, eta):
        return torch.sign(eta - y)

    def mean(self, eta):
        return eta

    def log_likelihood(self, y, eta, w=None, dispersion=None):
        W = y.new_tensor(float(y.shape[0])) if w is None else w.sum()
        sad = _weighted((y - eta).abs(), w)
        b = sad / W if dispersion is None else torch.as_tensor(dispersion, dtype=y.dtype)
        return -W * torch.log(2 * b) - sad / b


GLM_FAMILIES: dict[str, type[GLMFamily]] = {
    "gaussian": GaussianGLM,
    "normal": GaussianGLM,
    "bernoulli": BernoulliGLM,
    "binomial": BernoulliGLM,
    "logistic": BernoulliGLM,
    "poisson": PoissonGLM,
    "categorical": CategoricalGLM,
    "multinomial": CategoricalGLM,
    "softmax": CategoricalGLM,
    "laplace": LaplaceGLM,
}


def resolve_glm_family(name) -> GLMFamily:
    if isinstance(name, GLMFamily):
        return name
    cls = GLM_FAMILIES.get(str(name).lower())
    if cls is None:
        raise FamilyError(
            f"Unknown regression family {name!r}. Valid names are: gaussian, bernoulli, poisson, categorical, laplace."
        )
    return cls()

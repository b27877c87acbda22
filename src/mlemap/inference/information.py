"""The score and the Fisher information of a fit, in the parametrisation the reader uses.

For the log-likelihood :math:`\\ell(\\theta) = \\sum_i w_i \\log p(x_i \\mid \\theta)` of a fitted family:

* the **score** is the gradient :math:`s(\\theta) = \\nabla_\\theta \\ell(\\theta)` (zero at an interior MLE);
* the **observed information** is :math:`J(\\theta) = -\\nabla^2_\\theta \\ell(\\theta)`, the curvature of
  the log-likelihood (exact autograd derivatives);
* the **expected (Fisher) information** is :math:`I(\\theta) = W\\,\\mathbb E_\\theta[s_1(X) s_1(X)^\\top]`,
  with :math:`s_1` the score of one observation and :math:`W` the number of observations (the sum of
  the weights). It is computed by quadrature over the family's distribution at :math:`\\theta`: a sum
  over the support for count families, double-exponential (tanh-sinh) quadrature in probability
  space, split at the median, for continuous ones. The outer-product form is used (not
  :math:`-\\mathbb E[\\nabla^2 \\log p]`) because it also holds where the log-density has a kink, such
  as the Laplace in its location.

Everything is evaluated at the estimate unless ``params`` gives other values, and concerns the
log-likelihood only: for a MAP fit the prior is not included (the posterior precision is the
inverse of :attr:`~mlemap.FitResult.cov`).

**Parametrisation.** By default the coordinates are the family's own (torch.distributions) free
parameters, in the order of :attr:`~mlemap.FitResult.params`, vectors flattened. ``parametrization``
replaces some of them by a reparametrisation :math:`\\phi = g(\\theta)`:

* a family's derived quantities, such as ``"variance"`` (:math:`\\sigma^2`) or ``"precision"``
  (:math:`1/\\sigma^2`) instead of ``scale`` for the normal, log-normal and half-normal;
* ``"logits"`` (:math:`\\log\\frac{p}{1-p}`) instead of ``probs`` for families with a probability in (0, 1).

Give it as a name (``parametrization="variance"``), several names (``["variance"]``) or a mapping
from the parameter to its replacement (``{"scale": "variance"}``). The score and the observed
information are computed by differentiating :math:`\\ell(\\theta(\\phi))` in :math:`\\phi` itself, so away
from a maximum the observed information includes the term :math:`-\\sum_k s_k\\,\\partial^2\\theta_k/\\partial\\phi^2`
that a Jacobian change of variables alone would miss; the expected information transforms as
:math:`I_\\phi = (\\partial\\theta/\\partial\\phi)^\\top I_\\theta\\, (\\partial\\theta/\\partial\\phi)`.

Example (the normal, in the mean-and-variance coordinates of a textbook)::

    r = mm.fit("normal", [2.3, 2.5, 3.1, 3.8, 2.7])
    r.information(kind="expected", parametrization="variance")   # diag(n / s2, n / (2 s2^2))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from torch.distributions import constraints

from ..core.distribution import chunk_log_likelihood
from ..errors import MethodError, ParameterError

KINDS = ("observed", "expected")


@dataclass(frozen=True)
class Coordinate:
    """One coordinate block: ``name`` (what the reader asked for) stands for the family's ``base``."""

    name: str
    base: str
    to_base: Callable[[torch.Tensor], torch.Tensor]  # phi -> theta
    from_base: Callable[[torch.Tensor], torch.Tensor]  # theta -> phi


def _logits_coordinate(base: str) -> Coordinate:
    return Coordinate("logits", base, torch.sigmoid, torch.logit)


def _alternatives(result, base: str) -> dict[str, Coordinate]:
    """The reparametrisations available for the free parameter ``base`` of this fit."""
    out = {}
    for name, derived in getattr(result.family, "derived", {}).items():
        if derived.base == base:
            out[name] = Coordinate(name, base, derived.inverse, derived.forward)
    constraint = result.family.constraint(base)
    if base == "probs" and isinstance(constraint, type(constraints.unit_interval)):
        out["logits"] = _logits_coordinate(base)
    return out


def _requested(parametrization) -> tuple[dict[str, str], list[str]]:
    """``({base: name}, [names whose base is to be found])`` from the accepted spellings."""
    if parametrization is None:
        return {}, []
    if isinstance(parametrization, str):
        return {}, [parametrization]
    if isinstance(parametrization, Mapping):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in parametrization.items()):
            raise ParameterError(
                "The 'parametrization' mapping goes from a parameter to its replacement, both names, "
                f"such as {{'scale': 'variance'}}. Got {parametrization!r} instead."
            )
        return dict(parametrization), []
    if isinstance(parametrization, Sequence) and all(isinstance(v, str) for v in parametrization):
        return {}, list(parametrization)
    raise ParameterError(
        "The 'parametrization' argument must be a name such as 'variance', a list of names, or a mapping "
        f"such as {{'scale': 'variance'}}. Got {parametrization!r} instead."
    )


def coordinates(result, parametrization=None) -> list[Coordinate]:
    """The coordinate blocks, in the order of ``result.params``, with ``parametrization`` applied."""
    free = list(result.params)
    options = {base: _alternatives(result, base) for base in free}
    by_base, names = _requested(parametrization)
    for name in names:
        owners = [base for base in free if name in options[base]]
        if not owners:
            raise ParameterError(_unknown(result, name, options))
        by_base[owners[0]] = name
    blocks = []
    for base in free:
        name = by_base.pop(base, base)
        if name == base:
            blocks.append(Coordinate(base, base, lambda t: t, lambda t: t))
        elif name in options[base]:
            blocks.append(options[base][name])
        else:
            raise ParameterError(_unknown(result, name, options, base))
    if by_base:
        base = next(iter(by_base))
        raise ParameterError(
            f"'{base}' is not an estimated parameter of this {result.family_name} fit, so it cannot be "
            f"reparametrised; the estimated parameters are {', '.join(free)}."
        )
    return blocks


def _unknown(result, name: str, options: dict[str, dict], base: str | None = None) -> str:
    offered = [f"'{alt}' for '{b}'" for b, alts in options.items() for alt in alts]
    where = f" for '{base}'" if base else ""
    valid = ", ".join(offered) if offered else "none (only the family's own parameters)"
    return (
        f"Unknown parametrization {name!r}{where} of this {result.family_name} fit. "
        f"Reparametrisations available: {valid}."
    )


def labels(result, parametrization=None) -> list[str]:
    """Row (and column) labels of :func:`information`, e.g. ``["loc", "variance"]``."""
    out = []
    for block in coordinates(result, parametrization):
        shape = np.shape(result.params[block.base])
        out.extend(result.family.element_labels(block.name, shape))
    return out


# ---------------------------------------------------------------------------------------------- helpers
def _tensor(value, like: torch.Tensor | None = None) -> torch.Tensor:
    return torch.as_tensor(np.asarray(value, dtype=float), dtype=torch.float64)


def _check_elementwise(result) -> None:
    from ..families.transforms import is_positive_definite, is_simplex

    bounding = [name for name in result.params if name in getattr(result.family, "bounded_by_data", {})]
    if bounding:
        names = ", ".join(f"'{n}'" for n in bounding)
        raise MethodError(
            f"{names} of the {result.family_name} family bound{'s' if len(bounding) == 1 else ''} the support of the "
            "data, so the log-likelihood is not regular there and the Fisher information is not defined. Fix "
            f"{'it' if len(bounding) == 1 else 'them'} (fixed={{...}}) to get the information of the other parameters."
        )
    for name in result.params:
        c = result.family.constraint(name)
        if is_simplex(c) or is_positive_definite(c):
            raise MethodError(
                f"The score and information are computed for real-valued parameters and their elements; "
                f"'{name}' of the {result.family_name} family is a constrained vector (a simplex or a "
                "covariance matrix), whose free coordinates are not its elements. Fix it (fixed=...) to "
                "get the information of the other parameters."
            )


def _point(result, blocks: list[Coordinate], params) -> torch.Tensor:
    """The flattened coordinates phi at the estimate, with ``params`` (keyed by coordinate name) replacing some."""
    given = dict(params or {})
    names = {b.name for b in blocks}
    unknown = [k for k in given if k not in names]
    if unknown:
        raise ParameterError(
            f"'{unknown[0]}' is not a coordinate of this fit; with this parametrization the coordinates are "
            f"{', '.join(b.name for b in blocks)}."
        )
    pieces = []
    for b in blocks:
        estimate = _tensor(result.params[b.base])
        if b.name in given:
            value = _tensor(given[b.name])
            if value.shape != estimate.shape:
                raise ParameterError(
                    f"'{b.name}' has shape {tuple(estimate.shape)} in this fit; got a value of shape {tuple(value.shape)}."
                )
            pieces.append(value.reshape(-1))
        else:
            pieces.append(b.from_base(estimate).reshape(-1))
    return torch.cat(pieces)


def _natural(result, blocks: list[Coordinate], phi: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{parameter: theta}`` (fixed values included) from the flat coordinates ``phi``."""
    values = {k: _tensor(v) for k, v in result.fixed.items()}
    start = 0
    for b in blocks:
        shape = np.shape(result.params[b.base])
        size = int(np.prod(shape, dtype=int))
        values[b.base] = b.to_base(phi[start : start + size].reshape(shape))
        start += size
    return values


def _log_likelihood(result, values: dict[str, torch.Tensor]) -> torch.Tensor:
    """:math:`\\sum_i w_i \\log p(x_i \\mid \\theta)` over the chunks of the fitted data, differentiable in ``values``."""
    family = result.problem.family
    return result.problem.feature_source.map_reduce(lambda chunk: chunk_log_likelihood(family, chunk, values))


def _unflatten(result, blocks: list[Coordinate], flat: torch.Tensor) -> dict[str, float | np.ndarray]:
    out, start = {}, 0
    for b in blocks:
        shape = np.shape(result.params[b.base])
        size = int(np.prod(shape, dtype=int))
        piece = flat[start : start + size].detach().numpy().reshape(shape)
        out[b.name] = float(piece) if piece.ndim == 0 else piece.copy()
        start += size
    return out


# ---------------------------------------------------------------------------------------------- score
def score(result, params=None, parametrization=None) -> dict[str, float | np.ndarray]:
    """The score :math:`\\nabla \\ell` by coordinate name, at the estimate or at ``params``.

    ``params`` maps coordinate names (those of ``parametrization``) to values; the others stay at the
    estimate. Zero at an interior MLE; at a MAP it balances the prior's gradient instead.
    """
    _check_elementwise(result)
    blocks = coordinates(result, parametrization)
    phi = _point(result, blocks, params).requires_grad_(True)
    ll = _log_likelihood(result, _natural(result, blocks, phi))
    (grad,) = torch.autograd.grad(ll, phi)
    return _unflatten(result, blocks, grad)


# ---------------------------------------------------------------------------------------------- information
def information(result, kind: str = "observed", parametrization=None, params=None) -> np.ndarray:
    """Observed or expected Fisher information of the log-likelihood (a square array).

    Rows and columns follow the free parameters in the order of ``result.params`` (vectors
    flattened), each replaced as ``parametrization`` says; :func:`labels` names them.
    """
    if kind not in KINDS:
        raise MethodError(f"The 'kind' argument of information() must be 'observed' or 'expected'. Got {kind!r} instead.")
    _check_elementwise(result)
    blocks = coordinates(result, parametrization)
    phi = _point(result, blocks, params)
    if kind == "observed":
        if not getattr(result.family, "smooth", True):
            raise MethodError(
                f"The {result.family_name} log-likelihood has a kink in one of its parameters, so its observed "
                "curvature is zero almost everywhere and says nothing about precision. Use kind='expected'."
            )
        H = torch.autograd.functional.hessian(lambda v: _log_likelihood(result, _natural(result, blocks, v)), phi)
        J = -H
    else:
        J = _expected(result, blocks, phi)
    J = 0.5 * (J + J.T)
    return J.detach().numpy().copy()


def _expected(result, blocks: list[Coordinate], phi: torch.Tensor) -> torch.Tensor:
    """:math:`W\\,\\mathbb E[s_1 s_1^\\top]` by quadrature over the family at ``phi``."""
    from ..families.scipy_map import to_scipy

    theta = {k: v.detach() for k, v in _natural(result, blocks, phi).items()}
    if any(v.dim() > 0 for v in theta.values()) or getattr(result.family, "event_ndim", 0) != 0:
        raise MethodError(
            "The expected information is computed for univariate families with scalar parameters; "
            "use kind='observed' for this fit."
        )
    dist = to_scipy(result.family_name, {k: float(v) for k, v in theta.items()})
    if dist is None:
        raise MethodError(
            f"The expected information of the '{result.family_name}' family needs its distribution in scipy.stats "
            "(to integrate over the data), which mlemap does not map; use kind='observed'."
        )
    nodes, weights = _quadrature(dist, result.family.discrete)
    fixed = {k: _tensor(v) for k, v in result.fixed.items()}
    feats = result.family.features(torch.as_tensor(nodes, dtype=torch.float64), fixed)

    def per_node(v):
        return result.family.log_prob(feats, _natural(result, blocks, v))

    scores = torch.autograd.functional.jacobian(per_node, phi.detach())  # (nodes, k)
    w = torch.as_tensor(weights, dtype=torch.float64)
    info = float(result.n) * (scores.T * w) @ scores
    if not bool(torch.isfinite(info).all()):
        raise MethodError(
            f"The expected information of this {result.family_name} fit is not finite at these parameter values "
            "(the score is unbounded where the data are likely); use kind='observed'."
        )
    return info


def _quadrature(dist, discrete: bool) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of :math:`\\mathbb E[f(X)]` under the frozen scipy distribution ``dist``."""
    if discrete:
        lo, top = dist.support()
        hi = min(top, dist.isf(1e-15))
        while math.isfinite(hi) and hi < top and dist.sf(hi) > 1e-40 and hi - lo <= 10_000_000:
            hi = min(top, 2 * hi + 16)  # until the neglected tail is far below double precision
        if not math.isfinite(lo) or not math.isfinite(hi) or hi - lo > 10_000_000:
            raise MethodError("The expected information needs a count distribution with a manageable support.")
        k = np.arange(lo, hi + 1)
        p = dist.pmf(k)
        keep = p > 0
        return k[keep].astype(float), p[keep]
    # tanh-sinh on each half of the probability scale: u in (0, 1/2) through ppf, (1/2, 1) through isf
    h, t_max = 1 / 64, 6.0
    t = np.arange(-t_max, t_max + h / 2, h)
    v = 0.5 * math.pi * np.sinh(t)
    from scipy.special import expit

    e, e_bar = expit(2 * v), expit(-2 * v)  # position within the half, and its complement, accurately
    w = 0.5 * math.pi * h * np.cosh(t) * e * e_bar
    lower, upper = dist.ppf(0.5 * e), dist.isf(0.5 * e_bar)
    nodes = np.concatenate([lower, upper])
    weights = np.concatenate([w, w])
    lo, hi = dist.support()  # nodes that round onto an end of the support carry no mass; drop them
    keep = (nodes > lo) & (nodes < hi) & (weights > 0) & np.concatenate([0.5 * e > 1e-300, 0.5 * e_bar > 1e-300])
    return nodes[keep], weights[keep]

"""Per-group derivatives in closed form from sums over the rows: fast paths of the batched objective
for families without sufficient statistics, used instead of autograd where registered (every other
family, and any family with values fixed per row, uses autograd).

A kernel has two parts. ``row_terms(feats, params, segments)`` returns per-row terms :math:`r_{ij}`
given each group's natural parameters (``segments``: the groups' blocks of rows, :mod:`.segments`);
the objective sums them per group with the rows' weights, :math:`R_{bj} = \\sum_{i \\in b} w_i r_{ij}`,
and ``combine(R, params, W)`` (:math:`W_b = \\sum_{i \\in b} w_i`) returns each group's log-likelihood,
its gradient and its Hessian by parameter name. The tests check each kernel against autograd on the
family's own ``log_prob`` summed per group.

**Weibull** (scale :math:`\\lambda`, concentration :math:`k`), with :math:`t = \\log x - \\log\\lambda`,
:math:`e = \\exp(k t)` and the sums :math:`T = \\sum w t`, :math:`E = \\sum w e`, :math:`E_1 = \\sum w t e`,
:math:`E_2 = \\sum w t^2 e`: :math:`\\ell = W(\\log k - \\log\\lambda) + (k - 1) T - E`,
:math:`\\partial_\\lambda \\ell = k (E - W) / \\lambda`, :math:`\\partial_k \\ell = W/k + T - E_1`,
:math:`\\partial^2_{\\lambda\\lambda} \\ell = k (W - (k + 1) E) / \\lambda^2`,
:math:`\\partial^2_{\\lambda k} \\ell = (E - W + k E_1) / \\lambda`, :math:`\\partial^2_{kk} \\ell = -W/k^2 - E_2`.
"""

from __future__ import annotations

from typing import Mapping

import torch

from ..families.positive import Weibull

Derivatives = tuple[torch.Tensor, dict[str, torch.Tensor], dict[tuple[str, str], torch.Tensor]]

KERNELS: dict[type, object] = {}


def register_kernel(family: type):
    def decorate(cls):
        KERNELS[family] = cls()
        return cls

    return decorate


def kernel_of(family):
    """The registered kernel of exactly this family type (a subclass may change the density), or None."""
    return KERNELS.get(type(family))


@register_kernel(Weibull)
class WeibullKernel:
    """See the module docstring."""

    def row_terms(self, feats: Mapping[str, torch.Tensor], p: Mapping[str, torch.Tensor], segments) -> list[torch.Tensor]:
        t = segments.rowwise(torch.sub, feats["log_x"], torch.log(p["scale"]))
        e = torch.exp(segments.rowwise(torch.mul, t, p["concentration"]))
        te = t * e
        return [t, e, te, t * te]

    def combine(self, sums: list[torch.Tensor], p: Mapping[str, torch.Tensor], W: torch.Tensor) -> Derivatives:
        T, E, E1, E2 = sums
        scale, k = p["scale"], p["concentration"]
        lp = W * (torch.log(k) - torch.log(scale)) + (k - 1) * T - E
        grad = {"scale": k * (E - W) / scale, "concentration": W / k + T - E1}
        hess = {
            ("scale", "scale"): k * (W - (k + 1) * E) / (scale * scale),
            ("concentration", "scale"): (E - W + k * E1) / scale,
            ("concentration", "concentration"): -W / (k * k) - E2,
        }
        return lp, grad, hess

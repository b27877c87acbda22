"""Per-row derivatives in closed form: fast paths of the batched objective for families without
sufficient statistics, used instead of autograd where registered (every other family uses autograd).

A kernel returns, for one piece of rows with their group's natural parameters gathered, the
per-row log-density, its gradient and its Hessian by parameter name; the tests check each kernel
against autograd on the family's own ``log_prob``.

**Weibull** (scale :math:`\\lambda`, concentration :math:`k`), with :math:`t = \\log x - \\log\\lambda` and
:math:`e = \\exp(k t)`: :math:`\\ell = \\log k - \\log\\lambda + (k - 1) t - e`,
:math:`\\partial_\\lambda \\ell = k (e - 1) / \\lambda`, :math:`\\partial_k \\ell = 1/k + t (1 - e)`,
:math:`\\partial^2_{\\lambda\\lambda} \\ell = k (1 - (k + 1) e) / \\lambda^2`,
:math:`\\partial^2_{\\lambda k} \\ell = (e - 1 + k t e) / \\lambda`, :math:`\\partial^2_{kk} \\ell = -1/k^2 - t^2 e`.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch

from ..families.positive import Weibull

Derivatives = tuple[torch.Tensor, dict[str, torch.Tensor], dict[tuple[str, str], torch.Tensor]]

KERNELS: dict[type, Callable[[Mapping[str, torch.Tensor], Mapping[str, torch.Tensor]], Derivatives]] = {}


def register_kernel(family: type):
    def decorate(fn):
        KERNELS[family] = fn
        return fn

    return decorate


def kernel_of(family) -> Callable | None:
    """The registered kernel of exactly this family type (a subclass may change the density)."""
    return KERNELS.get(type(family))


@register_kernel(Weibull)
def weibull_rows(feats, p) -> Derivatives:
    scale, k = p["scale"], p["concentration"]
    log_scale = torch.log(scale)
    t = feats["log_x"] - log_scale
    e = torch.exp(k * t)
    lp = torch.log(k) - log_scale + (k - 1) * t - e
    grad = {"scale": k * (e - 1) / scale, "concentration": 1 / k + t * (1 - e)}
    hess = {
        ("scale", "scale"): k * (1 - (k + 1) * e) / (scale * scale),
        ("concentration", "scale"): (e - 1 + k * t * e) / scale,
        ("concentration", "concentration"): -1 / (k * k) - t * t * e,
    }
    return lp, grad, hess

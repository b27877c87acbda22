"""The logistic and log-logistic families (survreg's ``logistic`` and ``loglogistic`` distributions).

* Logistic(loc, scale): :math:`F(x) = 1 / (1 + e^{-z})`, :math:`z = (x - \\mu)/s`,
  :math:`\\log p(x) = -\\log s - z - 2\\log(1 + e^{-z})` (scipy's ``logistic(loc, scale)``).
* LogLogistic(scale, concentration): :math:`F(x) = 1/(1 + (x/\\alpha)^{-\\beta})` for :math:`x > 0`,
  :math:`\\log p(x) = \\log\\beta - \\log x + u - 2\\log(1 + e^{u})`, :math:`u = \\beta(\\log x - \\log\\alpha)`
  (scipy's ``fisk(c=beta, scale=alpha)``, actuar's ``llogis(shape, scale)`` used by fitdistrplus). If
  :math:`\\log T = \\mu + \\sigma W` with ``W`` standard logistic (survreg), then
  :math:`\\alpha = e^{\\mu}` and :math:`\\beta = 1/\\sigma`.

Both start from quantiles: the quartiles of the logistic are :math:`\\mu \\pm s\\log 3`.
"""

from __future__ import annotations

import math

import torch
import torch.distributions as td

from .location_scale import LocationScaleFamily, weighted_median, weighted_quantile
from .positive import ScaleShapeFamily

LOG3 = math.log(3.0)


def softplus(z: torch.Tensor) -> torch.Tensor:
    """:math:`\\log(1 + e^{z})` without overflow or a linear cut-off (exact in both tails)."""
    pos = z > 0
    z_pos = torch.where(pos, z, torch.zeros_like(z))
    z_neg = torch.where(pos, torch.zeros_like(z), z)
    return torch.where(pos, z_pos + torch.log1p(torch.exp(-z_pos)), torch.log1p(torch.exp(z_neg)))


def logistic_log_density(z: torch.Tensor) -> torch.Tensor:
    """:math:`\\log f(z) = -z - 2\\log(1 + e^{-z})` of the standard logistic law."""
    return -z - 2 * softplus(-z)


def _quartile_scale(t: torch.Tensor, w) -> tuple[torch.Tensor, torch.Tensor]:
    loc = weighted_median(t, w)
    iqr = weighted_quantile(t, w, 0.75) - weighted_quantile(t, w, 0.25)
    return loc, (iqr / (2 * LOG3)).clamp_min(1e-8)


def logistic_distribution(loc: torch.Tensor, scale: torch.Tensor) -> td.Distribution:
    """The logistic law as a torch distribution (a transformed uniform)."""
    base = td.Uniform(torch.zeros_like(loc), torch.ones_like(loc), validate_args=False)
    transforms = [td.SigmoidTransform().inv, td.AffineTransform(loc, scale)]
    return td.TransformedDistribution(base, transforms, validate_args=False)


class Logistic(LocationScaleFamily):
    """Logistic(loc, scale) on the real line (see the module docstring)."""

    name = "logistic"
    scipy_name = "logistic"

    def log_prob(self, f, p):
        return logistic_log_density((f["x"] - p["loc"]) / p["scale"]) - torch.log(p["scale"])

    def initial(self, f, w, fixed):
        loc, scale = _quartile_scale(f["x"], w)
        return {"loc": fixed.get("loc", loc), "scale": scale}

    def distribution(self, p):
        return logistic_distribution(p["loc"], p["scale"])


class LogLogistic(ScaleShapeFamily):
    """LogLogistic(scale, concentration) on the positive half-line (see the module docstring)."""

    name = "loglogistic"
    aliases = ("log_logistic", "fisk", "llogis")
    scipy_name = "fisk"
    observations = "Log-logistic"

    def log_prob(self, f, p):
        lx = f["log_x"]
        k = p["concentration"]
        return torch.log(k) - lx + logistic_log_density(k * (lx - torch.log(p["scale"])))

    def initial(self, f, w, fixed):
        loc, s = _quartile_scale(f["log_x"], w)
        return {"scale": torch.exp(loc), "concentration": fixed.get("concentration", 1 / s)}

    def distribution(self, p):
        logistic = logistic_distribution(torch.log(p["scale"]), 1 / p["concentration"])
        return td.TransformedDistribution(logistic, [td.ExpTransform()], validate_args=False)

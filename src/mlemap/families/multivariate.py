"""The multivariate normal family with full covariance."""

from __future__ import annotations

import math

import torch
import torch.distributions as td
from torch.distributions import constraints

from ..errors import DataError
from .base import LOG_2PI, Family, check_size_representable
from .statistics import SufficientStatistics, weighted_moments


class MultivariateNormal(Family):
    """MultivariateNormal(loc, covariance_matrix) for rows :math:`x_i \\in \\mathbb R^d`:

    .. math:: \\log p(x) = -\\tfrac12\\left(d\\log 2\\pi + \\log|\\Sigma| + (x - \\mu)^\\top\\Sigma^{-1}(x - \\mu)\\right).

    Sufficient statistics: :math:`W`, the weighted mean :math:`\\bar x` and scatter matrix
    :math:`M_2 = \\sum w_i (x_i - \\bar x)(x_i - \\bar x)^\\top` (Chan-merged across chunks). MLE
    :math:`\\hat\\mu = \\bar x`, :math:`\\hat\\Sigma = M_2 / W` (the biased covariance). Numerically the
    covariance is parametrised by its log-Cholesky factor (:math:`d(d+1)/2` free numbers).
    """

    name = "multivariate_normal"
    aliases = ("mvn", "multivariate_gaussian")
    torch_class = td.MultivariateNormal
    parameters = ("loc", "covariance_matrix")
    event_ndim = 1
    support_description = "rows of real numbers"
    scipy_name = "multivariate_normal"

    def constraint(self, name, ctx=None):
        return constraints.real_vector if name == "loc" else constraints.positive_definite

    def shape(self, name, event_shape):
        d = event_shape[-1]
        return torch.Size([d]) if name == "loc" else torch.Size([d, d])

    def check_identifiable(self, x, w, free, has_prior, ctx):
        ranges = x.amax(0) - x.amin(0)
        widest = int(torch.argmax(ranges))
        check_size_representable(self, float(ranges[widest]), f"range in column {widest}")
        if "covariance_matrix" not in free or "covariance_matrix" in has_prior:
            return
        n, d = x.shape
        W, mean, m2 = weighted_moments(x, w)
        rank = int(torch.linalg.matrix_rank(m2))
        if rank < d:
            reason = (
                f"only {n} rows for {d} columns" if n <= d else "some columns are exact linear combinations of others"
            )
            raise DataError(
                f"The sample covariance of the {d} columns has rank {rank} < {d} ({reason}), so the "
                "multivariate normal likelihood is unbounded and no MLE exists. Drop redundant columns, add rows, "
                "fix 'covariance_matrix', or put a prior (for example an inverse-Wishart-like density) on it."
            )

    def log_prob(self, f, p):
        L, info = torch.linalg.cholesky_ex(p["covariance_matrix"])
        diff = f["x"] - p["loc"]
        if bool(info.any()):  # numerically not positive definite: zero density
            return torch.full(diff.shape[:1], -math.inf, dtype=diff.dtype, device=diff.device)
        z = torch.linalg.solve_triangular(L, diff.T, upper=False)
        d = diff.shape[-1]
        return -0.5 * (d * LOG_2PI + (z * z).sum(0)) - torch.log(torch.diagonal(L)).sum()

    def statistics(self, f, w):
        W, mean, m2 = weighted_moments(f["x"], w)
        return SufficientStatistics(W, moments={"x": (mean, m2)})

    def log_likelihood_stats(self, s, p):
        mean, m2 = s.moments["x"]
        sigma = p["covariance_matrix"]
        d = mean.shape[-1]
        L, info = torch.linalg.cholesky_ex(sigma)
        if bool(info.any()):  # numerically not positive definite (a trial step of the optimiser)
            return torch.tensor(-math.inf, dtype=mean.dtype, device=mean.device)
        delta = (mean - p["loc"]).unsqueeze(-1)
        scatter = m2 + s.weight * (delta @ delta.T)
        quad = torch.cholesky_solve(scatter, L).diagonal().sum()
        logdet = 2 * torch.log(torch.diagonal(L)).sum()
        return -0.5 * (s.weight * (d * LOG_2PI + logdet) + quad)

    def initial(self, f, w, fixed):
        W, mean, m2 = weighted_moments(f["x"], w)
        loc = fixed.get("loc", mean)
        delta = (mean - loc).unsqueeze(-1)
        cov = (m2 + W * delta @ delta.T) / W
        jitter = 1e-9 * torch.diagonal(cov).mean().clamp_min(1e-12)
        return {"loc": mean, "covariance_matrix": cov + jitter * torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device)}

    def distribution(self, p):
        return td.MultivariateNormal(p["loc"], covariance_matrix=p["covariance_matrix"], validate_args=False)

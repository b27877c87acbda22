"""Exact marginal likelihoods of the conjugate pairs that empirical Bayes learns a prior for.

Group :math:`g` has parameter :math:`\\theta_g \\sim \\pi_\\eta` (the prior, hyperparameters
:math:`\\eta`) and observations given :math:`\\theta_g`; integrating :math:`\\theta_g` out gives each
group's marginal likelihood in closed form, from the group's sufficient statistics:

* **Beta–Binomial** (Bernoulli or binomial rows, ``probs ~ Beta(a, b)``), with :math:`k_g` successes
  and :math:`f_g` failures: :math:`\\log m_g = \\log B(a + k_g, b + f_g) - \\log B(a, b) + c_g`
  (:math:`c_g = \\sum \\log\\binom{N_i}{x_i}` for binomial rows) — the beta-binomial law of :math:`k_g`
  up to its binomial coefficient.
* **Gamma–Poisson** (``rate ~ Gamma(alpha, beta)``, counts :math:`y_i` with exposures :math:`t_i`),
  with :math:`Y_g = \\sum y_i`, :math:`T_g = \\sum t_i`:
  :math:`\\log m_g = \\alpha\\log\\beta - \\log\\Gamma(\\alpha) + \\log\\Gamma(\\alpha + Y_g) - (\\alpha + Y_g)\\log(\\beta + T_g) + c_g`,
  :math:`c_g = \\sum (y_i \\log t_i - \\log y_i!)` — the negative binomial law of :math:`Y_g` with
  ``n = alpha`` and ``p = beta / (beta + T_g)`` up to its coefficient.
* **Normal–Normal** (``loc ~ Normal(mu, tau)``, rows :math:`N(\\theta_g, \\sigma^2)`, :math:`\\sigma` known or
  common to all groups and estimated), with weight :math:`W_g`, mean :math:`\\bar y_g` and centred sum of
  squares :math:`S_g`:
  :math:`\\log m_g = -\\tfrac{W_g}{2}\\log 2\\pi\\sigma^2 - \\tfrac{S_g}{2\\sigma^2} + \\tfrac12\\log\\tfrac{2\\pi\\sigma^2}{W_g} + \\log\\phi(\\bar y_g;\\ \\mu,\\ \\tau^2 + \\sigma^2/W_g)`.

Frequency weights count rows that many times. Each pair is optimised in coordinates where its
degenerate limit (no spread between the groups) is one coordinate running off: the prior mean and
the log of its concentration (Beta, Gamma) or of :math:`\\tau` (Normal).
"""

from __future__ import annotations

import math

import torch
import torch.distributions as td

from ..closed_form.conjugate import beta_mode, gamma_mode

LOG_2PI = math.log(2 * math.pi)


#: from this argument on, log-gamma differences use Stirling's series
STIRLING = 30.0


def _stirling_correction(x: torch.Tensor) -> torch.Tensor:
    """:math:`\\log\\Gamma(x) - [(x - \\tfrac12)\\log x - x + \\tfrac12\\log 2\\pi] \\approx 1/(12x) - 1/(360x^3) + 1/(1260x^5)`."""
    inv = 1 / x
    inv2 = inv * inv
    return inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260))


def lgamma_ratio(a: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """:math:`\\log\\Gamma(a + k) - \\log\\Gamma(a)` for :math:`a > 0, k \\ge 0`, with its digits when :math:`a \\gg k`.

    For :math:`a \\ge 30` the difference of Stirling's series, with the leading terms combined so that
    nothing cancels (the two log-gammas themselves would cancel to their rounding error, about
    :math:`\\epsilon\\, a \\log a`):

    .. math:: (a - \\tfrac12)\\operatorname{log1p}(k/a) + k \\log(a + k) - k + r(a + k) - r(a),

    :math:`r(x) = 1/(12x) - 1/(360x^3) + 1/(1260x^5)` (the first omitted term is below
    :math:`10^{-14}/x^2` relative); ``lgamma`` directly for smaller :math:`a`.
    """
    big = a >= STIRLING
    a_big = torch.where(big, a, torch.full_like(a, STIRLING))
    b_big = a_big + k
    series = ((a_big - 0.5) * torch.log1p(k / a_big) + k * torch.log(b_big) - k
              + (_stirling_correction(b_big) - _stirling_correction(a_big)))
    a_small = torch.where(big, torch.ones_like(a), a)
    direct = torch.lgamma(a_small + k) - torch.lgamma(a_small)
    return torch.where(big, series, direct)


class BetaBinomialMarginal:
    """``probs ~ Beta(a, b)`` for Bernoulli or binomial rows (see the module docstring)."""

    parameter = "probs"
    hyper_names = ("concentration1", "concentration0")
    limit_description = ("the groups' proportions vary no more than binomial sampling predicts: the marginal "
                         "likelihood keeps increasing as the prior's concentration a + b grows, so the learned prior "
                         "is a point mass at the pooled proportion (complete pooling)")

    def __init__(self, successes: torch.Tensor, failures: torch.Tensor, constant: torch.Tensor):
        self.k, self.f, self.constant = successes, failures, constant

    def hyper(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, conc = torch.sigmoid(u[0]), torch.exp(u[1])
        return mean * conc, (1 - mean) * conc

    def coordinates(self, a, b) -> torch.Tensor:
        return torch.stack([torch.log(a) - torch.log(b), torch.log(a + b)])

    def log_marginal(self, a, b) -> torch.Tensor:
        k, f = self.k, self.f
        return lgamma_ratio(a, k) + lgamma_ratio(b, f) - lgamma_ratio(a + b, k + f) + self.constant

    def start(self) -> torch.Tensor:
        """Moments of the raw proportions (groups weighted equally), concentration at least 1."""
        n = self.k + self.f
        p = (self.k + 0.5) / (n + 1.0)
        m = p.mean()
        v = p.var() if p.numel() > 1 else m * (1 - m) / 2
        binomial = (m * (1 - m) / n.clamp_min(1)).mean()
        excess = (v - binomial).clamp_min(1e-6 * m * (1 - m))
        conc = (m * (1 - m) / excess - 1).clamp(1.0, 1e6)
        return torch.stack([torch.logit(m), torch.log(conc)])

    def limit_log_likelihood(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The marginal likelihood in the limit of no spread: binomial with the pooled proportion."""
        k, f = self.k.sum(), self.f.sum()
        p = k / (k + f)
        ll = torch.xlogy(self.k, p) + torch.xlogy(self.f, 1 - p) + self.constant
        return ll.sum(), {"mean": p}

    def limit_hyperparameters(self, values: dict) -> dict:
        return {"concentration1": math.inf, "concentration0": math.inf}

    def prior(self, a, b) -> td.Distribution:
        return td.Beta(a, b, validate_args=False)

    def posterior(self, a, b) -> td.Distribution:
        return td.Beta(a + self.k, b + self.f, validate_args=False)

    def mode(self, post: td.Beta):
        return beta_mode(post.concentration1, post.concentration0)

    def raw(self) -> torch.Tensor:
        """Each group's maximum-likelihood estimate: its proportion."""
        return self.k / (self.k + self.f)

    def size(self) -> torch.Tensor:
        return self.k + self.f


class GammaPoissonMarginal:
    """``rate ~ Gamma(alpha, beta)`` for Poisson counts with exposures (see the module docstring)."""

    parameter = "rate"
    hyper_names = ("concentration", "rate")
    limit_description = ("the groups' rates vary no more than Poisson sampling predicts: the marginal likelihood "
                         "keeps increasing as the prior's concentration grows, so the learned prior is a point mass "
                         "at the pooled rate (complete pooling)")

    def __init__(self, counts: torch.Tensor, exposure: torch.Tensor, constant: torch.Tensor):
        self.y, self.t, self.constant = counts, exposure, constant

    def hyper(self, u):
        mean, conc = torch.exp(u[0]), torch.exp(u[1])
        return conc, conc / mean

    def coordinates(self, alpha, beta) -> torch.Tensor:
        return torch.stack([torch.log(alpha) - torch.log(beta), torch.log(alpha)])

    def log_marginal(self, alpha, beta) -> torch.Tensor:
        y, t = self.y, self.t
        # alpha log(beta) - (alpha + y) log(beta + t), without the cancellation of two huge terms
        return lgamma_ratio(alpha, y) - alpha * torch.log1p(t / beta) - y * torch.log(beta + t) + self.constant

    def start(self) -> torch.Tensor:
        r = (self.y + 0.5) / self.t
        m = (self.y.sum() + 0.5) / self.t.sum()
        v = r.var() if r.numel() > 1 else m
        poisson = (m / self.t).mean()
        excess = (v - poisson).clamp_min(1e-6 * m * m)
        conc = (m * m / excess).clamp(1e-2, 1e6)
        return torch.stack([torch.log(m), torch.log(conc)])

    def limit_log_likelihood(self):
        rate = self.y.sum() / self.t.sum()
        ll = torch.xlogy(self.y, rate) - rate * self.t + self.constant
        return ll.sum(), {"mean": rate}

    def limit_hyperparameters(self, values: dict) -> dict:
        return {"concentration": math.inf, "rate": math.inf}

    def prior(self, alpha, beta):
        return td.Gamma(alpha, beta, validate_args=False)

    def posterior(self, alpha, beta):
        return td.Gamma(alpha + self.y, beta + self.t, validate_args=False)

    def mode(self, post: td.Gamma):
        return gamma_mode(post.concentration, post.rate)

    def raw(self):
        return self.y / self.t

    def size(self):
        return self.t


class NormalNormalMarginal:
    """``loc ~ Normal(mu, tau)`` for normal rows with a known or a common estimated scale (see the module docstring)."""

    parameter = "loc"
    limit_description = ("the group means vary no more than the within-group noise predicts: the marginal "
                         "likelihood is largest at a prior scale tau = 0, so the learned prior is a point mass at "
                         "the common mean (complete pooling)")

    def __init__(self, weight: torch.Tensor, mean: torch.Tensor, m2: torch.Tensor, sigma: torch.Tensor | None):
        self.W, self.ybar, self.S = weight, mean, m2
        self.sigma = sigma  # None: estimated with the hyperparameters
        self.hyper_names = ("loc", "scale") + (("within_scale",) if sigma is None else ())

    def hyper(self, u):
        out = (u[0], torch.exp(u[1]))
        return out + ((torch.exp(u[2]),) if self.sigma is None else ())

    def coordinates(self, *h) -> torch.Tensor:
        return torch.stack([h[0], torch.log(h[1])] + ([torch.log(h[2])] if self.sigma is None else []))

    def log_marginal(self, *h) -> torch.Tensor:
        mu, tau = h[0], h[1]
        sigma = h[2] if self.sigma is None else self.sigma
        s2 = sigma * sigma
        within = -0.5 * self.W * (LOG_2PI + torch.log(s2)) - self.S / (2 * s2) + 0.5 * (LOG_2PI + torch.log(s2 / self.W))
        var = tau * tau + s2 / self.W
        d = self.ybar - mu
        return within - 0.5 * (LOG_2PI + torch.log(var)) - d * d / (2 * var)

    def _pooled(self):
        """Total weight and the common mean when tau = 0 (precision-weighted for a known scale)."""
        w = self.W if self.sigma is None else self.W / self.sigma**2
        return self.W.sum(), (w * self.ybar).sum() / w.sum()

    def start(self) -> torch.Tensor:
        W, mu = self._pooled()
        if self.sigma is None:
            dof = (self.W - 1).clamp_min(0).sum()
            s2 = self.S.sum() / dof if dof > 0 else ((self.W * (self.ybar - mu) ** 2).sum() / W)
            sigma = s2.clamp_min(1e-300).sqrt()
        else:
            sigma = self.sigma
        between = self.ybar.var() if self.ybar.numel() > 1 else sigma * sigma
        tau2 = (between - (sigma * sigma / self.W).mean()).clamp_min(1e-4 * between.clamp_min(1e-300))
        u = [mu, 0.5 * torch.log(tau2)]
        return torch.stack(u + ([torch.log(sigma)] if self.sigma is None else []))

    def limit_log_likelihood(self):
        """tau = 0: every group mean is mu (the pooled mean), and sigma the pooled scale when estimated."""
        W, mu = self._pooled()
        if self.sigma is None:
            sigma = ((self.S + self.W * (self.ybar - mu) ** 2).sum() / W).sqrt()
        else:
            sigma = self.sigma
        s2 = sigma * sigma
        ll = -0.5 * self.W * (LOG_2PI + torch.log(s2)) - (self.S + self.W * (self.ybar - mu) ** 2) / (2 * s2)
        extra = {} if self.sigma is not None else {"within_scale": sigma}
        return ll.sum(), {"mean": mu, **extra}

    def limit_hyperparameters(self, values: dict) -> dict:
        return {"loc": values["mean"], "scale": 0.0}

    def prior(self, mu, tau, *rest):
        return td.Normal(mu, tau, validate_args=False)

    def posterior(self, mu, tau, *rest):
        sigma = rest[0] if rest else self.sigma
        precision = 1 / tau**2 + self.W / sigma**2
        var = 1 / precision
        return td.Normal(var * (mu / tau**2 + self.W * self.ybar / sigma**2), var.sqrt(), validate_args=False)

    def mode(self, post: td.Normal):
        return post.loc, None

    def raw(self):
        return self.ybar

    def size(self):
        return self.W

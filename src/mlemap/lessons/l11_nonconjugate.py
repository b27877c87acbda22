"""Lesson 11: a Normal prior on a probability, read both ways, and the rule of succession.

"p(theta) = N(0.5, 0.1)" is ambiguous: statistics texts write the variance second, torch's
``Normal(loc, scale)`` takes the standard deviation. Setting the derivative of the log-posterior
to zero gives, for prior variance v,

    h/theta - (N - h)/(1 - theta) - (theta - 1/2)/v = 0,

a cubic in theta after multiplying by theta(1 - theta). With 3 heads in 7 tosses and v = 0.1 it is
10 theta^3 - 15 theta^2 - 2 theta + 3 = (theta - 3/2)(10 theta^2 - 2) = 0, so theta_MAP = 1/sqrt(5)
exactly; with standard deviation 0.1 (v = 0.01) the root in (0, 1) is 0.484363.
"""

import numpy as np
import torch
import torch.distributions as td

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

DATA = np.array([0, 0, 1, 1, 0, 0, 1])
READINGS = {"variance 0.1": 0.1, "standard deviation 0.1": 0.01}  # the prior variance under each reading


def stationary_cubic(h: int, n: int, variance: float) -> np.ndarray:
    """Coefficients of theta(1 - theta) * d/dtheta log-posterior = 0, highest power first."""
    c = 1 / variance
    return np.array([c, -1.5 * c, 0.5 * c - n, h])


def map_from_cubic(h: int, n: int, variance: float) -> float:
    roots = np.roots(stationary_cubic(h, n, variance))
    inside = [r.real for r in roots if abs(r.imag) < 1e-12 and 0 < r.real < 1]
    assert len(inside) == 1, roots
    return inside[0]


def normal_prior(variance: float) -> td.Normal:
    return td.Normal(torch.tensor(0.5, dtype=torch.float64), torch.tensor(np.sqrt(variance), dtype=torch.float64))


def run(ctx):
    h, n = int(DATA.sum()), DATA.size
    fits = {name: mm.fit("bernoulli", DATA, prior={"probs": normal_prior(v)}) for name, v in READINGS.items()}
    exact = {name: map_from_cubic(h, n, v) for name, v in READINGS.items()}
    theta = {name: r.params["probs"] for name, r in fits.items()}
    two_tails = {name: float(r.distribution().log_prob(torch.zeros(2, dtype=torch.float64)).sum().exp())
                 for name, r in fits.items()}
    uniform = mm.fit("bernoulli", DATA, prior={"probs": td.Uniform(torch.tensor(0.0, dtype=torch.float64),
                                                                   torch.tensor(1.0, dtype=torch.float64))})

    fig, axes = plots.subplots(1, 2, figsize=(12, 4.3), sharey=True)
    for ax, (name, r) in zip(axes, fits.items()):
        sd = np.sqrt(READINGS[name])
        plots.prior_likelihood_posterior(r, ax=ax, title=f"prior N(0.5, {name}): sd {sd:.3g}")
        ax.legend(frameon=False, fontsize=10, loc="upper left")
    fig.tight_layout()
    var_name, sd_name = READINGS
    return LessonOutput(
        checks=[
            holds("no conjugate update: solved numerically", all(r.method == "numerical" for r in fits.values()),
                  [r.method for r in fits.values()], "numerical"),
            close("variance 0.1: the numerical MAP = 1/sqrt(5)", theta[var_name], 1 / np.sqrt(5), rtol=1e-7),
            close("... a root of (theta - 3/2)(10 theta^2 - 2)", exact[var_name], 1 / np.sqrt(5), rtol=1e-12),
            close("... P(two tails | MAP) = (1 - 1/sqrt 5)^2 = 0.305573", two_tails[var_name],
                  (1 - 1 / np.sqrt(5)) ** 2, rtol=1e-7),
            close("standard deviation 0.1: theta_MAP = root of the cubic (0.484363)", theta[sd_name], exact[sd_name],
                  rtol=1e-7),
            close("... P(two tails | MAP) = (1 - theta)^2 (0.265881)", two_tails[sd_name], (1 - exact[sd_name]) ** 2,
                  rtol=1e-7),
            holds("the tighter prior (sd 0.1) pulls harder toward 1/2",
                  abs(theta[sd_name] - 0.5) < abs(theta[var_name] - 0.5) < abs(h / n - 0.5),
                  [round(theta[sd_name], 6), round(theta[var_name], 6), round(h / n, 6)], "0.484 nearer 1/2 than 0.447, than 3/7"),
            close("uniform prior: P(next = heads) = (h+1)/(N+2)", float(uniform.predictive().probs), 4 / 9, rtol=1e-12),
        ],
        figures=[("The same notation, two priors: read as a variance of 0.1 (left, sd 0.316) the prior moves the "
                  "estimate from 3/7 to 1/sqrt(5) = 0.447; read as torch's Normal(0.5, 0.1), a standard deviation "
                  "(right), it pulls harder, to 0.484.", fig)],
        findings=[
            f"Variance 0.1: theta_MAP = {theta[var_name]:.6f} = 1/sqrt(5), P(two tails) = {two_tails[var_name]:.6f}.",
            f"Standard deviation 0.1: theta_MAP = {theta[sd_name]:.6f}, P(two tails) = {two_tails[sd_name]:.6f}.",
            "Under a uniform prior the next toss is heads with probability (3 + 1)/(7 + 2) = 4/9 (Laplace's rule of "
            "succession).",
        ],
    )


LESSON = Lesson(
    11, "nonconjugate", "A Normal prior on a probability, read both ways",
    r"$\frac{h}{\theta} - \frac{N-h}{1-\theta} - \frac{\theta - 1/2}{v} = 0"
    r"\ \Rightarrow\ v = 0.1:\ \hat\theta = 1/\sqrt{5};\quad P(x_{N+1}=1\mid D) = \frac{h+1}{N+2}\ \mathrm{(uniform)}$",
    "A Normal prior is not conjugate to the Bernoulli, but the MAP is still a root of a cubic. Whether "
    "N(0.5, 0.1) means a variance or a standard deviation of 0.1 changes the answer; the lesson computes both.",
    run,
)

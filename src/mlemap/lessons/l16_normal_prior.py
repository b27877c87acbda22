"""Lesson 16: the posterior mean of a normal mean is a precision-weighted average."""

import numpy as np
import torch
import torch.distributions as td

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close


def run(ctx):
    data = np.array([2.3, 2.5, 2.7, 2.9, 3.1])
    mu0, tau2, sigma2 = 2.0, 0.5, 1.0
    prior = td.Normal(torch.tensor(mu0, dtype=torch.float64), torch.tensor(np.sqrt(tau2), dtype=torch.float64))
    r = mm.fit("normal", data, fixed={"scale": np.sqrt(sigma2)}, prior={"loc": prior})
    numerical = mm.fit("normal", data, fixed={"scale": np.sqrt(sigma2)}, prior={"loc": prior}, method="numerical")
    n, xbar = data.size, data.mean()
    expected = (sigma2 * mu0 + n * tau2 * xbar) / (n * tau2 + sigma2)
    post_var = 1 / (1 / tau2 + n / sigma2)
    fig, ax = plots.subplots(figsize=(6.5, 4))
    plots.prior_likelihood_posterior(r, ax=ax, grid=np.linspace(0.5, 4.5, 500), title="Normal prior on a normal mean")
    return LessonOutput(
        checks=[
            close("closed form = (s^2 mu0 + n t^2 x_bar)/(n t^2 + s^2)", r.params["loc"], expected, rtol=1e-14),
            close("the course's number", r.params["loc"], 2.5, rtol=1e-14),
            close("numerical route agrees", numerical.params["loc"], expected, rtol=1e-9),
            close("posterior variance 1/(1/t^2 + n/s^2)", float(r.posterior["loc"].variance), post_var, rtol=1e-14),
        ],
        figures=[("The posterior sits between the prior mean 2 and the sample mean 2.7, closer to the data.", fig)],
    )


LESSON = Lesson(
    16, "normal_prior", "Normal mean with a normal prior",
    r"$\hat\mu_{MAP} = \frac{\sigma^2\mu_0 + n\tau^2\bar x}{n\tau^2 + \sigma^2} = \frac{\mu_0/\tau^2 + n\bar x/\sigma^2}{1/\tau^2 + n/\sigma^2}$",
    "With a conjugate normal prior the posterior is normal, and the MAP is the precision-weighted average of "
    "the prior mean and the sample mean.",
    run,
)

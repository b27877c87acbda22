"""Lesson 12: optimisers and minibatches on the log-likelihood of a 2-D Gaussian mean."""

import numpy as np
import torch

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

COV = 5.0  # Sigma = 5 I, known


def _gradient_path(grad, start, steps, step_fn):
    mu = torch.tensor(start, dtype=torch.float64)
    path = [mu.clone()]
    for t in range(steps):
        mu = step_fn(mu, grad(mu, t))
        path.append(mu.clone())
        if not torch.isfinite(mu).all() or mu.abs().max() > 1e6:
            break
    return torch.stack(path).numpy()


def run(ctx):
    n = 10_000
    rng = ctx.rng(12)
    data = rng.multivariate_normal([1.0, 1.0], COV * np.eye(2), n)
    fit = mm.fit("multivariate_normal", data, fixed={"covariance_matrix": COV * np.eye(2)})
    mle = fit.params["loc"]
    X = torch.tensor(data)
    xbar = X.mean(0)

    def full_grad(mu, t):  # gradient of the total log-likelihood: (n / 5) (x_bar - mu)
        return n / COV * (xbar - mu)

    start = [-4.0, 3.5]
    steps = ctx.n(300, 150)
    runs = {}
    for lr in (1e-4, 5e-4, 9e-4, 1.05e-3):  # stable below 2 / (n / 5) = 1e-3
        runs[f"gradient ascent, lr = {lr:g}"] = _gradient_path(full_grad, start, steps, lambda mu, g, lr=lr: mu + lr * g)
    for label, make in {
        "momentum 0.9, lr = 5e-5": lambda p: torch.optim.SGD([p], lr=5e-5, momentum=0.9),
        "Adam, lr = 0.1": lambda p: torch.optim.Adam([p], lr=0.1),
    }.items():
        mu = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = make(mu)
        path = [mu.detach().clone()]
        for _ in range(steps):
            opt.zero_grad()
            mu.grad = -full_grad(mu.detach(), 0)  # optimisers minimise: the gradient of -loglik
            opt.step()
            path.append(mu.detach().clone())
        runs[label] = torch.stack(path).numpy()
    mu = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    lbfgs = torch.optim.LBFGS([mu], lr=1, max_iter=50, line_search_fn="strong_wolfe")
    lbfgs_path = [mu.detach().clone()]

    def closure():
        lbfgs.zero_grad()
        loss = ((X - mu) ** 2).sum() / (2 * COV)
        loss.backward()
        lbfgs_path.append(mu.detach().clone())
        return loss

    lbfgs.step(closure)
    runs["L-BFGS"] = torch.stack(lbfgs_path).numpy()

    # minibatches: the gradient of the mean log-likelihood of k random observations
    mb_steps = ctx.n(2000, 600)
    minibatch = {}
    final_error = {}
    gen = torch.Generator().manual_seed(12)
    for k in (1, 5, 10, 100, 1000):
        idx = torch.randint(0, n, (mb_steps, k), generator=gen)
        batch_means = X[idx].mean(1)

        def mb_grad(mu, t, batch_means=batch_means):
            return (batch_means[t] - mu) / COV

        path = _gradient_path(mb_grad, start, mb_steps, lambda mu, g: mu + 0.5 * g)
        minibatch[f"batch size {k}"] = path
        final_error[k] = float(np.linalg.norm(path[-200:] - mle, axis=1).mean())

    def surface(A, B):
        return -(((data[:, 0].sum() - n * A) ** 2 + (data[:, 1].sum() - n * B) ** 2) / n
                 + (data**2).sum() - (data.sum(0) ** 2).sum() / n) / (2 * COV)

    window = [(-5, 4), (-3.5, 4.5)]
    fig, (a, b) = plots.subplots(1, 2, figsize=(13, 5.2))
    plots.trajectories(surface, {k: v for k, v in runs.items() if "1.05e-03" not in k and "0.00105" not in k},
                       ax=a, ranges=window, optimum=mle, labels=("mu_1", "mu_2"))
    a.set_title("full-batch optimisers")
    plots.trajectories(surface, minibatch, ax=b, ranges=window, optimum=mle, labels=("mu_1", "mu_2"))
    b.set_title("minibatch gradient ascent (step 0.5)")
    fig.tight_layout()
    fig2, (c, d) = plots.subplots(1, 2, figsize=(13, 4.2))
    plots.errors_vs_steps({k: v for k, v in runs.items()}, mle, ax=c)
    c.set_ylim(1e-12, 1e3)
    c.set_title("distance to the MLE (the largest rate diverges)")
    plots.errors_vs_steps(minibatch, mle, ax=d)
    d.set_title("minibatches: larger batches, less noise")
    fig2.tight_layout()

    diverging = runs["gradient ascent, lr = 0.00105"]
    errors = [final_error[k] for k in (1, 5, 10, 100, 1000)]
    return LessonOutput(
        checks=[
            close("MLE = sample mean", mle, data.mean(0), rtol=1e-12),
            close("gradient ascent, lr = 9e-4, reaches the MLE", runs["gradient ascent, lr = 0.0009"][-1], mle, atol=1e-8),
            holds("lr = 1.05e-3 > 2/(n/5) diverges", np.linalg.norm(diverging[-1] - mle) > 1e3 or not np.all(np.isfinite(diverging[-1])),
                  float(np.linalg.norm(diverging[-1] - mle)), "distance > 1000"),
            close("Adam reaches the MLE", runs["Adam, lr = 0.1"][-1], mle, atol=5e-3),
            close("L-BFGS reaches the MLE", runs["L-BFGS"][-1], mle, atol=1e-6),
            holds("larger batches end closer to the MLE", errors[0] > errors[2] > errors[3] > errors[4], [round(e, 4) for e in errors],
                  "error decreasing from batch 1 to 1000"),
        ],
        figures=[
            ("Paths over the log-likelihood contours: small rates crawl, Adam and momentum curve in, L-BFGS jumps.", fig),
            ("Distance to the MLE by step; a rate above 2 / curvature diverges; minibatch noise shrinks as the batch grows.", fig2),
        ],
        findings=["Mean distance to the MLE over the last 200 steps: " +
                  ", ".join(f"batch {k}: {final_error[k]:.4f}" for k in final_error)],
    )


LESSON = Lesson(
    12, "optimisers", "Optimisers and minibatches on a likelihood surface",
    r"$\ell(\mu) = -\frac{1}{2}\sum_i (x_i-\mu)^T\Sigma^{-1}(x_i-\mu),\quad \mu_{t+1} = \mu_t + \eta\,\nabla\ell(\mu_t),\ \ \eta < 2/\lambda_{\max}$",
    "Plain gradient ascent at several rates (one diverging), momentum, Adam and L-BFGS on n = 10,000 draws; then "
    "stochastic gradients from minibatches of 1 to 1000 observations.",
    run,
)

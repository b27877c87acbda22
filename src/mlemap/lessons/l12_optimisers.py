"""Lesson 12: gradient ascent, momentum, Adam and L-BFGS on the log-likelihood of a 2-D Gaussian mean.

The covariance is known and anisotropic, as a real likelihood surface is: the log-likelihood
:math:`\\ell(\\mu) = -\\frac{n}{2}(\\mu - \\bar x)^\\top\\Sigma^{-1}(\\mu - \\bar x) + c` is an elongated bowl whose
curvatures are :math:`n/\\lambda_i(\\Sigma)`. Plain gradient ascent is stable only for rates below
2 / (largest curvature); near that limit it zigzags across the steep direction, and the flat
direction sets how long it takes.
"""

import numpy as np
import torch

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

N = 10_000
ANGLE = np.deg2rad(30)
ROTATION = np.array([[np.cos(ANGLE), -np.sin(ANGLE)], [np.sin(ANGLE), np.cos(ANGLE)]])
COV = ROTATION @ np.diag([8.0, 0.5]) @ ROTATION.T  # variances 8 and 0.5 along axes turned by 30 degrees
START = [-4.0, 3.5]
FRACTIONS = (0.1, 0.5, 0.9, 1.05)  # learning rates as fractions of the stability limit 2 / largest curvature
COLOURS = {0.1: "#c9a227", 0.5: "#5b8e2d", 0.9: "#d97757", 1.05: "#b5545c",
           "momentum": "#8c6bb1", "Adam": "#1f6f8b", "L-BFGS": "#1a1a1a"}


def gradient_path(grad, steps: int, step_fn) -> np.ndarray:
    """Iterates of ``mu <- step_fn(mu, grad(mu))`` from START (stopped early once they blow up)."""
    mu = torch.tensor(START, dtype=torch.float64)
    path = [mu.clone()]
    for _ in range(steps):
        mu = step_fn(mu, grad(mu))
        path.append(mu.clone())
        if not torch.isfinite(mu).all() or mu.abs().max() > 1e6:
            break
    return torch.stack(path).numpy()


def torch_optimiser_path(make, grad, steps: int) -> np.ndarray:
    """Iterates of a torch optimiser minimising -loglik, fed the exact gradient."""
    mu = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = make(mu)
    path = [mu.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        mu.grad = -grad(mu.detach())
        opt.step()
        path.append(mu.detach().clone())
    return torch.stack(path).numpy()


def run(ctx):
    rng = ctx.rng(12)
    data = rng.multivariate_normal([1.0, 1.0], COV, N)
    fit = mm.fit("multivariate_normal", data, fixed={"covariance_matrix": COV})
    mle = fit.params["loc"]
    X = torch.tensor(data)
    xbar = X.mean(0)
    precision = torch.tensor(np.linalg.inv(COV))
    curvatures = np.linalg.eigvalsh(N * np.linalg.inv(COV))
    limit = 2 / curvatures.max()

    def grad(mu):  # gradient of the total log-likelihood: n Sigma^-1 (x_bar - mu)
        return N * precision @ (xbar - mu)

    steps = 300
    label = {f: f"gradient ascent, lr = {f:g} x limit" for f in FRACTIONS}
    runs = {label[f]: gradient_path(grad, steps, lambda mu, g, lr=f * limit: mu + lr * g) for f in FRACTIONS}
    runs["momentum 0.9, lr = 0.1 x limit"] = torch_optimiser_path(
        lambda p: torch.optim.SGD([p], lr=0.1 * limit, momentum=0.9), grad, steps)
    runs["Adam, lr = 0.5"] = torch_optimiser_path(lambda p: torch.optim.Adam([p], lr=0.5), grad, steps)
    mu = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    lbfgs = torch.optim.LBFGS([mu], lr=1, max_iter=50, line_search_fn="strong_wolfe")
    lbfgs_path = [mu.detach().clone()]

    def closure():
        lbfgs.zero_grad()
        diff = X - mu
        loss = 0.5 * torch.einsum("ij,jk,ik->", diff, precision, diff)
        loss.backward()
        lbfgs_path.append(mu.detach().clone())
        return loss

    lbfgs.step(closure)
    runs["L-BFGS"] = torch.stack(lbfgs_path).numpy()
    colours = dict(zip(runs, [COLOURS[f] for f in FRACTIONS] + [COLOURS["momentum"], COLOURS["Adam"], COLOURS["L-BFGS"]]))

    inv = np.linalg.inv(COV)

    def surface(A, B):  # l(mu) up to its constant
        d = np.stack([A - mle[0], B - mle[1]], axis=-1)
        return -0.5 * N * np.einsum("...i,ij,...j->...", d, inv, d)

    probe = [np.array([0.0, 0.0]), np.array([2.0, -1.0]), np.array(START)]
    from_mlemap = [fit.log_likelihood_at(loc=p) - fit.loglik for p in probe]
    from_formula = [float(surface(np.array(p[0]), np.array(p[1]))) for p in probe]

    steep = np.linalg.eigh(COV)[1][:, 0]  # the direction of the smallest variance: the largest curvature
    zig = (runs[label[0.9]][1:12] - mle) @ steep
    window = [(-5, 4), (-3.5, 4.5)]
    shown = {k: v for k, v in runs.items() if k != label[1.05]}
    fig, ax = plots.subplots(figsize=(10.5, 6.2))
    plots.trajectories(surface, shown, ax=ax, ranges=window, optimum=mle, labels=("mu_1", "mu_2"), colors=colours)
    ax.plot(*runs["L-BFGS"][1:].T, "o", color=COLOURS["L-BFGS"], markersize=4)
    for f in (0.1, 0.5):  # the same curve at different speeds: a dot every 10 steps
        ax.plot(*runs[label[f]][10::10].T, "o", color=COLOURS[f], markersize=4.5, markeredgecolor="white",
                markeredgewidth=0.5)
    ax.legend(fontsize=10, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title("full-batch optimisers on an elongated log-likelihood")
    fig.tight_layout()
    fig2, c = plots.subplots(figsize=(10.5, 4.6))
    plots.errors_vs_steps(runs, mle, ax=c, colors=colours)
    c.set_ylim(1e-12, 1e4)
    c.legend(frameon=False, fontsize=10, loc="center left", bbox_to_anchor=(1.0, 0.5))
    c.set_title("distance to the MLE (above the limit the rate diverges)")
    fig2.tight_layout()

    errors = {k: float(np.linalg.norm(v[-1] - mle)) for k, v in runs.items()}
    return LessonOutput(
        checks=[
            close("MLE = sample mean", mle, data.mean(0), rtol=1e-12),
            close("the surface drawn = mlemap's log-likelihood (up to a constant)", from_formula, from_mlemap, rtol=1e-9),
            close("stability limit 2 / largest curvature = 2 lambda_min(Sigma) / n", limit, 2 * 0.5 / N, rtol=1e-12),
            close("lr = 0.9 x limit reaches the MLE", runs[label[0.9]][-1], mle, atol=1e-8),
            holds("... zigzagging across the steep direction", bool(np.all(zig[:-1] * zig[1:] < 0)), np.sign(zig),
                  "the steep component changes sign every step"),
            holds("lr = 0.1 x limit crawls along the flat direction", errors[label[0.1]] > 100 * errors[label[0.9]],
                  [errors[label[0.1]], errors[label[0.9]]], "still 100x farther after 300 steps"),
            holds("lr = 1.05 x limit diverges", not np.isfinite(errors[label[1.05]]) or errors[label[1.05]] > 1e3,
                  errors[label[1.05]], "distance > 1000"),
            close("momentum reaches the MLE", runs["momentum 0.9, lr = 0.1 x limit"][-1], mle, atol=1e-6),
            close("Adam reaches the MLE", runs["Adam, lr = 0.5"][-1], mle, atol=1e-4),
            close("L-BFGS reaches the MLE", runs["L-BFGS"][-1], mle, atol=1e-6),
            holds("... in a handful of evaluations", len(runs["L-BFGS"]) <= 12, len(runs["L-BFGS"]), "<= 12"),
        ],
        figures=[
            ("Paths from (-4, 3.5) over the log-likelihood. Small rates follow the same curve, the smaller one more "
             "slowly (dots every 10 steps); near the stability limit gradient ascent zigzags across the narrow axis; "
             "momentum overshoots and curls in; Adam moves both coordinates at a similar pace, then spirals in; "
             "L-BFGS (black dots) needs a few steps.", fig),
            ("Distance to the MLE by step: the rate is capped by the steepest curvature, the flat direction sets "
             "the speed; 5% above the cap the iterates diverge.", fig2),
        ],
        findings=[f"Curvatures n/lambda(Sigma) = {curvatures[0]:.0f} and {curvatures[1]:.0f}: gradient ascent is stable "
                  f"for rates below {limit:.2e}. After {steps} steps: " +
                  ", ".join(f"{k}: {v:.2e}" for k, v in errors.items()) + "."],
    )


LESSON = Lesson(
    12, "optimisers", "Optimisers on an elongated likelihood surface",
    r"$\ell(\mu) = -\frac{1}{2}\sum_i (x_i-\mu)^T\Sigma^{-1}(x_i-\mu),\quad \mu_{t+1} = \mu_t + \eta\,\nabla\ell(\mu_t),"
    r"\ \ \eta < 2/\lambda_{\max}(n\Sigma^{-1})$",
    "Gradient ascent at four rates (one above the stability limit), momentum, Adam and L-BFGS on n = 10,000 draws "
    "of a 2-D Gaussian with a known, elongated covariance. Minibatches are lesson 23.",
    run,
)

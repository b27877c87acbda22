"""Lesson 24: deep-learning habits read as priors: weight initialisation, and weight decay in Adam and AdamW.

**Initialisation.** torch's initialisers draw each weight of an ``n_in x n_out`` layer from a zero-mean
normal: Xavier/Glorot with variance 2/(n_in + n_out), He (Kaiming, ReLU) 2/n_in, LeCun 1/n_in. That is a
Gaussian prior *sample*, not a prior in the MAP sense: nothing pulls the weights back unless a
penalty is added. The penalty that would make the initial distribution the prior is
:math:`|w|^2 / (2 s^2)`, an L2 strength of 1/(2 s^2) per weight.

**Weight decay.** ``torch.optim.Adam(weight_decay=wd)`` adds wd w to the gradient before the adaptive
scaling, so its fixed point solves :math:`\\nabla L + wd\\,w = 0`: the MAP under a Gaussian prior, for
any learning-rate schedule (on a mean squared error over n rows, ridge with alpha = n wd / 2).
``AdamW`` shrinks the weights by lr wd w outside the adaptive step; its fixed point solves
:math:`\\hat m/(\\sqrt{\\hat v}+\\epsilon) = -wd\\,w`, which depends on the gradient history and the schedule:
the decay it applies is not the gradient of any fixed log-prior.
"""

import numpy as np
import torch
from scipy import stats

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

N_IN, N_OUT = 784, 256
WD = 0.1
SCHEDULES = {"lr 0.2 x 0.993^t": (0.2, 0.993), "lr 0.05 x 0.993^t": (0.05, 0.993)}


def initialisers():
    """The three schemes as torch applies them, with the variance each intends."""
    return {
        "Xavier (Glorot)": (lambda w: torch.nn.init.xavier_normal_(w), 2 / (N_IN + N_OUT)),
        "He (Kaiming, ReLU)": (lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu"), 2 / N_IN),
        "LeCun": (lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="linear"), 1 / N_IN),
    }


def train(optimiser, X, y, lr, decay, steps):
    """Full-batch training of a linear model on the mean squared error; decay on the weights only."""
    Xt, yt = torch.tensor(X), torch.tensor(y)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = optimiser([{"params": [w], "weight_decay": WD}, {"params": [b], "weight_decay": 0.0}], lr=lr)
    for t in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * decay**t
        opt.zero_grad()
        torch.mean((yt - Xt @ w - b) ** 2).backward()
        opt.step()
    return w.detach().numpy().copy()


def run(ctx):
    gen = torch.Generator().manual_seed(24)
    draws = {}
    for name, (init, variance) in initialisers().items():
        weight = torch.empty(N_OUT, N_IN, dtype=torch.float64)
        with torch.random.fork_rng():
            torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=gen)))
            init(weight)
        draws[name] = (weight.numpy().ravel(), variance)
    fitted = {name: mm.fit("normal", w, fixed={"loc": 0.0}).params["scale"] ** 2 for name, (w, _) in draws.items()}
    m = N_IN * N_OUT

    rng = ctx.rng(24)
    n = 200
    X = rng.standard_normal((n, 4)) * np.array([1.0, 2.0, 0.5, 1.0])
    y = 0.5 + X @ np.array([2.0, -1.0, 0.5, 0.0]) + rng.standard_normal(n)
    ridge = mm.LinearRegression(prior=mm.priors.ridge(n * WD / 2)).fit(X, y).coef_
    mle = mm.LinearRegression().fit(X, y).coef_
    steps = 1000
    ends = {(opt.__name__, label): train(opt, X, y, lr, decay, steps)
            for opt in (torch.optim.Adam, torch.optim.AdamW) for label, (lr, decay) in SCHEDULES.items()}
    labels = list(SCHEDULES)
    adamw_gap = float(np.max(np.abs(ends[("AdamW", labels[0])] - ends[("AdamW", labels[1])])))

    fig, (a, b) = plots.subplots(1, 2, figsize=(13, 4.6))
    grid = np.linspace(-0.15, 0.15, 400)
    for i, (name, (w, variance)) in enumerate(draws.items()):
        colour = plots.PALETTE[i + 1]
        a.hist(w, bins=120, range=(-0.15, 0.15), density=True, histtype="step", color=colour, lw=1.2)
        a.plot(grid, stats.norm.pdf(grid, 0, np.sqrt(fitted[name])), color=colour, lw=2,
               label=f"{name}: N(0, {fitted[name]:.2e}), L2 strength {1 / (2 * fitted[name]):.0f}")
    a.set_xlabel("weight")
    a.set_ylabel("density")
    a.set_title(f"initial weights of a {N_IN} x {N_OUT} layer")
    a.legend(frameon=False, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    plots.tidy(a)
    pos = np.arange(4)
    b.axhline(0, color="0.1", lw=2, label=f"ridge MAP, alpha = n wd / 2 = {n * WD / 2:g}")
    b.plot(pos, mle - ridge, "o", color="0.3", ms=10, mfc="none", mew=1.5, label="MLE (no decay)")
    markers = {("Adam", labels[0]): ("s", plots.PALETTE[0]), ("Adam", labels[1]): ("D", plots.PALETTE[5]),
               ("AdamW", labels[0]): ("^", plots.PALETTE[1]), ("AdamW", labels[1]): ("v", plots.PALETTE[6])}
    for (key, w), offset in zip(ends.items(), (-0.18, -0.06, 0.06, 0.18)):
        marker, colour = markers[key]
        b.plot(pos + offset, w - ridge, marker, color=colour, ms=8, label=f"{key[0]}, {key[1]}")
    b.set_xticks(pos, [f"w{j}" for j in range(4)])
    b.set_ylabel("weight minus the ridge MAP")
    b.set_title(f"weight_decay = {WD}: where Adam and AdamW end")
    b.legend(frameon=False, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    plots.tidy(b)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            *[close(f"{name}: fitted variance = the scheme's", fitted[name], variance, rtol=4 * np.sqrt(2 / m))
              for name, (_, variance) in draws.items()],
            close("Adam's coupled decay ends at the ridge MAP (first schedule)", ends[("Adam", labels[0])], ridge, rtol=1e-7,
                  atol=1e-9),
            close("... and at the same point with another schedule", ends[("Adam", labels[1])], ridge, rtol=1e-5, atol=1e-5),
            holds("AdamW ends elsewhere: not the ridge MAP",
                  min(np.max(np.abs(ends[("AdamW", lab)] - ridge)) for lab in labels) > 1e-2,
                  [float(np.max(np.abs(ends[("AdamW", lab)] - ridge))) for lab in labels], "> 1e-2 from the ridge"),
            holds("... and where depends on the schedule (no fixed prior)", adamw_gap > 1e-2, adamw_gap,
                  "the two AdamW end points differ by > 1e-2"),
        ],
        figures=[("Left: torch's initialisers are Gaussian draws whose fitted variances match their formulas; as priors "
                  "they would be L2 penalties of the strengths shown. Right: full-batch Adam with weight_decay lands on "
                  "the ridge MAP under both schedules; AdamW lands between the ridge and the MLE, at a point that moves "
                  "with the learning-rate schedule.", fig)],
        findings=["Fitted initial variances: " + ", ".join(f"{k} {v:.3e} (formula {draws[k][1]:.3e})" for k, v in fitted.items())
                  + ".",
                  "Adam's weight_decay adds wd w to the gradient, the gradient of (wd/2)|w|^2: a Gaussian log-prior. AdamW "
                  "decays the weights outside the adaptive step, so its end point is not the maximum of any fixed "
                  "posterior: it changes with the learning-rate schedule (" +
                  ", ".join(f"{lab}: {np.round(ends[('AdamW', lab)], 4).tolist()}" for lab in labels) + ")."],
    )


LESSON = Lesson(
    24, "deep_learning_priors", "Initialisation and weight decay as priors",
    r"$w_{ij}\sim\mathcal{N}(0, 2/n_{in})\ \mathrm{(He)};\quad \mathrm{Adam}: \nabla L + wd\,w = 0"
    r"\Leftrightarrow \max\ \log p(D\mid w) - \frac{wd}{2}\|w\|^2;\quad"
    r"\mathrm{AdamW}: \frac{\hat m}{\sqrt{\hat v}+\epsilon} = -wd\,w$",
    "Initialisers draw from Gaussians, which as priors would be L2 penalties; Adam's coupled weight decay is "
    "exactly a Gaussian prior at its fixed point, AdamW's decoupled decay is not.",
    run,
)

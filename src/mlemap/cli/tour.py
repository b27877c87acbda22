"""``mlemap tour``: a short tour of the Python API on the shipped data."""

from __future__ import annotations

import mlemap as mm


def cmd_tour(args) -> None:
    import torch.distributions as td

    from mlemap import datasets

    from .output import show

    waiting = datasets.load("waiting_times")["waiting_time"]
    show(f"mlemap {mm.__version__}: maximum-likelihood and MAP estimation\n")
    show("Gamma fit to 300 waiting times (minutes between customers):\n")
    show(mm.fit("gamma", waiting).summary())
    coin = datasets.load("coin_flips")["heads"]
    show("\nThe course's coin, H H T H T T H H T H, with a Beta(2, 2) prior on the probability of heads:\n")
    show(mm.fit("bernoulli", coin, prior={"probs": td.Beta(2.0, 2.0)}).summary())


def register(sub, common, commands) -> None:
    p = sub.add_parser("tour", help="a short tour: a gamma fit and a coin with a prior, on shipped data")
    p.add_argument("--debug", action="store_true", help="show the traceback of errors")
    commands["tour"] = cmd_tour

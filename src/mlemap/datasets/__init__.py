"""Small data sets shipped with mlemap, so that the first commands need no download.

============== ===== ============================================================================
name           rows  columns
============== ===== ============================================================================
coin_flips        10 ``toss``, ``heads`` (1 = heads): H H T H T T H H T H, the course's coin
waiting_times    300 ``waiting_time``: minutes between consecutive customers at a service desk
classification   300 ``x1``, ``x2`` (features), ``label`` (0/1), ``species`` (three classes)
claims           400 ``age``, ``urban`` (0/1), ``exposure`` (years insured), ``claims`` (count)
============== ===== ============================================================================

The last three were simulated once with a fixed seed (gamma waiting times; three Gaussian clusters
with a logistic label; Poisson claims with a log-linear rate in age and urban, times exposure) and
are frozen as CSV files.
"""

from __future__ import annotations

from importlib import resources

from ..errors import DataError

NAMES = ("coin_flips", "waiting_times", "classification", "claims")


def path(name: str) -> str:
    """File path of a shipped data set."""
    if name not in NAMES:
        raise DataError(f"Unknown data set '{name}'. Shipped data sets: {', '.join(NAMES)}.")
    return str(resources.files(__package__).joinpath(f"{name}.csv"))


def load(name: str):
    """A shipped data set as a pandas DataFrame."""
    import pandas as pd

    return pd.read_csv(path(name))


__all__ = ["NAMES", "load", "path"]

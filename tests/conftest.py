"""Test-wide settings: hypothesis runs derandomised in CI (``CI=true``), with a deadline off; each
pytest-xdist worker computes on one thread (the workers already take every core, and more threads
than cores make torch's and BLAS's thread pools wait on each other); the cyclic garbage collector
pauses while the test modules are imported and then leaves the imported libraries' objects alone
(``gc.freeze``): scanning them again and again cost each worker about three seconds."""

import gc
import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            return
        threadpool_limits(1)


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    gc.disable()
    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()

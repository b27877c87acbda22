"""Thread policy: small fits and busy machines run torch on one thread, and the setting is restored."""

import os

import pytest
import torch

from mlemap.core import threads


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("n, load, inside", [
    (1_000, 0.0, 1),                     # small: one thread whatever the load
    (threads.SERIAL_BELOW, 0.0, 2),      # large on an idle machine: torch's own setting
    (threads.SERIAL_BELOW, 1e6, 1),      # large on a busy machine: one thread
])
def test_family_threads(monkeypatch, two_threads, n, load, inside):
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    with threads.family_threads(n):
        assert torch.get_num_threads() == inside
    assert torch.get_num_threads() == 2


def test_a_fits_own_threads_do_not_make_the_machine_busy(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "getloadavg", lambda: (float(cores),) * 3)
    assert not threads.machine_is_busy()
    monkeypatch.setattr(os, "getloadavg", lambda: (threads.BUSY_LOAD * cores,) * 3)
    assert threads.machine_is_busy()


def test_serial_when_busy_restores_the_setting_after_an_error(monkeypatch, two_threads):
    monkeypatch.setattr(os, "getloadavg", lambda: (1e6,) * 3)

    @threads.serial_when_busy
    def fails():
        assert torch.get_num_threads() == 1
        raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        fails()
    assert torch.get_num_threads() == 2

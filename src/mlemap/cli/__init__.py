"""The ``mlemap`` command line (``mlemap --help``)."""

from .main import main

__all__ = ["main"]

"""Rendering of results: text tables, HTML, JSON-ready dictionaries, DataFrames."""

from .summary import Summary

__all__ = ["Summary"]

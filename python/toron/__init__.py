"""Toron: a deterministic test-operations engine (the Python surface of toron-core)."""

from toron._toron import __version__

__all__ = ["__version__"]

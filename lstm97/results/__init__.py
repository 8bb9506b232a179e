"""Results: the embedded SQLite store of trials and learning curves, and its exports."""

from .store import DEFAULT_STORE, Store

__all__ = ["DEFAULT_STORE", "Store"]

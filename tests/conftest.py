import os
import sqlite3

import pytest

# numba caches compiled kernels; keep test runs single-threaded and deterministic.
os.environ.setdefault("NUMBA_NUM_THREADS", "1")


@pytest.fixture
def store_as(monkeypatch):
    """``store_as(path, "read-only" | "full")``: the store's connections to ``path`` from now on are read-only
    (SQLite's mode=ro, which root cannot bypass as it can file permissions), or see a full disk (SQLite's
    max_page_count at the file's size raises the same SQLITE_FULL error)."""
    import lstm97.results.store as store_module

    real = sqlite3.connect
    kinds: dict[str, str] = {}

    def connect(p, *args, **kwargs):
        kind = kinds.get(str(p))
        if kind == "read-only":
            return real(f"file:{p}?mode=ro", *args, uri=True, **kwargs)
        db = real(p, *args, **kwargs)
        if kind == "full":
            db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
        return db

    monkeypatch.setattr(store_module.sqlite3, "connect", connect)

    def set_kind(path, kind: str) -> None:
        kinds[str(path)] = kind

    return set_kind


@pytest.fixture
def fresh(monkeypatch):
    """Fresh task and model registries (the built-ins only, plus the entry points a test fakes), so that
    registrations made by a test do not leak into other tests."""
    from lstm97 import models, tasks
    from lstm97.registry import Registry

    def copy(reg):
        return Registry(
            reg.kind,
            reg.group,
            {n: e.target for n, e in reg._entries.items() if e.source == "lstm97" and not e.registered},
        )

    monkeypatch.setattr(tasks, "registry", copy(tasks.registry))
    monkeypatch.setattr(models, "registry", copy(models.registry))

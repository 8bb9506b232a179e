"""Tasks: sequence generators with the paper's defaults and success tests (PAPER.md §3).

``make(name, **params)`` builds a task; ``names()`` lists registered tasks. Third-party tasks register through
the entry-point group ``lstm97.tasks`` (``name = "package.module:TaskClass"``), discovered on first lookup.
"""

from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import Protocol, SequenceBatch, Task, TaskSpec

registry = Registry(
    "task",
    "lstm97.tasks",
    {
        "adding": "lstm97.tasks.adding:Adding",
        "adding-modern": "lstm97.tasks.adding_modern:AddingModern",
        "copy": "lstm97.tasks.copy:Copy",
        "latch": "lstm97.tasks.guessing_tasks:Latch",
        "parity": "lstm97.tasks.guessing_tasks:Parity",
        "history-compression": "lstm97.tasks.chunker_validation:HistoryCompression",
        "long-lag": "lstm97.tasks.long_lag:LongLag",
        "long-lag-distractors": "lstm97.tasks.long_lag:LongLagDistractors",
        "reber": "lstm97.tasks.reber:Reber",
        "reber-continual": "lstm97.tasks.reber_continual:ReberContinual",
        "multiplication": "lstm97.tasks.multiplication:Multiplication",
        "temporal-order": "lstm97.tasks.temporal_order:TemporalOrder",
        "two-sequence": "lstm97.tasks.two_sequence:TwoSequence",
    },
)


def get(name: str) -> type[Task]:
    """The task class registered as ``name``."""
    return registry.get(name)


def make(name: str, **params: Any) -> Task:
    """Build the task ``name`` with ``params`` (validated; strings from the CLI are parsed)."""
    return get(name)(**params)


def names() -> list[str]:
    """Names of all loadable tasks."""
    return registry.names()


__all__ = ["Protocol", "SequenceBatch", "Task", "TaskSpec", "get", "make", "names", "registry"]

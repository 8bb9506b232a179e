"""Which stored configurations are a preset's (or an evidence run's) settings, from what the store records alone.

A stored configuration carries its task and model names, every resolved parameter (``task_params``,
``model_params``), the parameters that differ from their declared defaults (``task_args``, ``model_args``), its
budget and the task's default budget. It has the settings (task, task parameters ``tp``, model, model
hyperparameters ``mp``, budget) when the names agree, every parameter the settings name has that value in the
store, the store has no non-default that the settings do not name, and the budget agrees (``None``: the task's
default budget). Nothing is resolved with the installed code, so a report reads a store written by another
version of lstm97 or its plugins the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..identity import canonical

#: ``budget`` value of :func:`select` for "any budget" (the same settings with another budget).
ANY_BUDGET = "any"


@dataclass(frozen=True)
class Stored:
    """One stored configuration: its key, its first trial's record and all its trials."""

    key: str
    first: pd.Series
    trials: pd.DataFrame

    @property
    def newness(self) -> tuple[int, int]:
        """(task version, model version), to prefer the newest among equal matches."""
        return _int(self.first.get("task_version")), _int(self.first.get("model_version"))

    @property
    def budget(self) -> int:
        return int(self.first["max_sequences"])


def _int(v: Any) -> int:
    return 0 if v is None or pd.isna(v) else int(v)


def stored(df: pd.DataFrame) -> list[Stored]:
    """The stored configurations of ``df`` (a ``Store.trials()`` frame), in the order of their first trial."""
    if not len(df):
        return []
    return [Stored(key, g.iloc[0], g) for key, g in df.groupby("config_key", sort=False)]


def _agree(values: Mapping[str, Any], args: Any, wanted: Mapping[str, Any]) -> bool:
    if not isinstance(values, Mapping) or not isinstance(args, Mapping):
        return False
    if any(k not in values or canonical(values[k]) != canonical(v) for k, v in wanted.items()):
        return False
    return all(k in wanted and canonical(wanted[k]) == canonical(v) for k, v in args.items())


def has_settings(
    first: pd.Series, task: str, task_params: Mapping[str, Any], model: str, model_params: Mapping[str, Any]
) -> bool:
    """Whether a stored configuration (its first trial's record) has these task and model settings."""
    return (
        first["task"] == task
        and first["model"] == model
        and _agree(first["task_params"], first.get("task_args"), task_params)
        and _agree(first["model_params"], first.get("model_args"), model_params)
    )


def has_budget(first: pd.Series, budget: int | None) -> bool:
    """Whether a stored configuration's budget is ``budget`` (None: the task's default budget)."""
    limit = first.get("default_budget") if budget is None else budget
    return limit is not None and not pd.isna(limit) and int(first["max_sequences"]) == int(limit)


def select(
    configs: list[Stored],
    task: str,
    task_params: Mapping[str, Any],
    model: str,
    model_params: Mapping[str, Any],
    budget: int | None | str = None,
) -> list[Stored]:
    """The stored configurations with these settings and budget (``ANY_BUDGET``: any budget), best first:
    the newest task and model versions, then the most trials (then the largest budget)."""
    found = [
        c
        for c in configs
        if has_settings(c.first, task, task_params, model, model_params)
        and (budget == ANY_BUDGET or has_budget(c.first, budget))
    ]
    return sorted(found, key=lambda c: (c.newness, len(c.trials), c.budget), reverse=True)


def trials_of(
    df: pd.DataFrame,
    task: str,
    task_params: Mapping[str, Any],
    model: str,
    model_params: Mapping[str, Any],
    budget: int | None = None,
) -> pd.DataFrame:
    """The trials of the best stored configuration with these settings and budget (none: an empty frame)."""
    best = select(stored(df), task, task_params, model, model_params, budget)
    return best[0].trials if best else df.iloc[0:0]

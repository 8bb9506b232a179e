"""Stored nets: a trial's final net rebuilt from the store, for reports that look inside it (prediction only).

The net is rebuilt from the trial's stored weights *and* the model's stored extra state (for example the
number of blocks a growing LSTM had added), with the installed task and model code. When the installed
versions differ from the ones that trained the net, :attr:`StoredNet.note` says so, for the report to print.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass
class StoredNet:
    task: Any
    model: Any
    state: Any  # lstm97.models.TrainState
    note: str = ""  # "" when the installed task and model versions are the stored ones


def stored_net(trial: pd.Series, store) -> StoredNet | None:
    """The final net of ``trial`` (a row of ``store.trials()``), or None when the trial has no weights, its task
    or model cannot be built here, or the weights do not fit the model its record names."""
    from .. import models, tasks
    from ..errors import UserError
    from ..models.base import TrainState

    w = store.weights(int(trial["id"])) if trial["has_weights"] else None
    if w is None:
        return None
    try:
        task = tasks.make(trial["task"], **trial["task_params"])
        model = models.make(trial["model"], task, **trial["model_params"])
    except UserError:
        return None
    if w.shape != (model.layout.size,):
        return None
    extra = trial.get("state")
    extra = copy.deepcopy(extra) if isinstance(extra, dict) else None
    notes = [_mismatch(trial, task, model)]
    if extra is None and model.period:  # a model whose state evolves with its errors (e.g. a growing LSTM)
        notes.append("stored without the model's extra state (lstm97 before 0.2), replayed without it")
    return StoredNet(task, model, TrainState(w, extra), "; ".join(n for n in notes if n))


def _mismatch(trial: pd.Series, task, model) -> str:
    """A sentence naming the installed versions that differ from the stored ones, or ""."""
    parts = []
    for kind, name, stored, installed in (
        ("task", trial["task"], trial.get("task_version"), task.spec.version),
        ("model", trial["model"], trial.get("model_version"), model.spec.version),
    ):
        if stored is not None and not pd.isna(stored) and int(stored) != int(installed):
            parts.append(f"{kind} {name!r} version {int(stored)} trained it, version {int(installed)} is installed")
    return ("replayed with other code than trained it: " + "; ".join(parts)) if parts else ""

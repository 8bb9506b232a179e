"""The identity of a configuration: what makes two trials "the same experiment" in the store.

A configuration's key depends only on the task's name and version, the model's name and version, the
parameters whose values differ from their declared defaults (in canonical form), the sequence budget and the
test size. Adding a parameter with a default therefore never changes an existing key; a change of behaviour
is a version bump (``TaskSpec.version``, ``ModelSpec.version``), which does change keys and so separates new
results from old ones.

"Declared default" means: for a task parameter, its ``Param.default``; for a model hyperparameter, the task's
paper default for that model (``Task.model_defaults``) where it gives one, else the ``Param.default``. So a
preset that only states the paper's settings has empty arguments.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .params import Param


def canonical(value: Any) -> Any:
    """``value`` in the JSON form the store keeps: tuples and arrays as lists, numpy scalars as Python
    numbers, mappings with string keys; integral floats stay floats (``1.0`` is not ``1``)."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def arguments(
    declared: Sequence[Param], values: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The entries of ``values`` that differ from their declared defaults, canonical and sorted by name.

    ``defaults`` overrides the ``Param.default`` of some names (a task's paper defaults for a model). Values
    of names that are not declared (a parameter that no longer exists) are always kept.
    """
    defaults = defaults or {}
    by_name = {p.name: p for p in declared}
    out: dict[str, Any] = {}
    for name in sorted(values):
        value = canonical(values[name])
        p = by_name.get(name)
        if p is not None:
            default = canonical(p.parse(defaults.get(name, p.default)))
            if value == default:
                continue
        out[name] = value
    return out


def config_key(
    task: str,
    task_version: int,
    task_args: Mapping[str, Any],
    model: str,
    model_version: int,
    model_args: Mapping[str, Any],
    max_sequences: int,
    n_test: int,
) -> str:
    """The 16-hex-digit key of a configuration (see the module docstring)."""
    identity = {
        "task": task,
        "task_version": int(task_version),
        "task_args": canonical(task_args),
        "model": model,
        "model_version": int(model_version),
        "model_args": canonical(model_args),
        "max_sequences": int(max_sequences),
        "n_test": int(n_test),
    }
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]

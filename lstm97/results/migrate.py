"""Migration of stores written by older lstm97 releases (schema version 1) to the current schema.

Version 1 keyed a configuration by a hash of every resolved parameter. The migration gives each stored
configuration its version-2 identity (:mod:`lstm97.identity`): its arguments (parameters that differ from
their declared defaults, computed with the installed task and model declarations), the task's default budget,
the protocol in words and the distributions that provided task and model; its old key is kept as
``legacy_key``. The test size in the key is the configuration's, recovered by recomputing the old key.

A configuration whose task or model cannot be loaded here (a plugin that is not installed) keeps its old key
with ``identity = 1``; it is re-keyed when a store is opened where the plugin is available. Everything runs in
the caller's transaction, so a failed migration changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from ..identity import arguments, config_key


def v1_key(task: str, task_params: dict, model: str, model_params: dict, max_sequences: int, n_test: int) -> str:
    """The key lstm97 0.1.0 gave a configuration (a hash of every resolved value)."""
    text = json.dumps(
        {
            "task": task,
            "task_params": task_params,
            "model": model,
            "model_params": model_params,
            "max_sequences": max_sequences,
            "n_test": n_test,
        },
        sort_keys=True,
        default=list,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _parsed(declared, values: dict[str, Any]) -> dict[str, Any]:
    by_name = {p.name: p for p in declared}
    return {k: (by_name[k].parse(v) if k in by_name else v) for k, v in values.items()}


def _with_defaults(declared, values: dict[str, Any]) -> dict[str, Any]:
    return {**{p.name: p.default for p in declared if p.name not in values}, **values}


def identify(row: dict[str, Any]) -> dict[str, Any] | None:
    """The version-2 identity columns of a stored configuration (``row`` holds its stored columns, JSON
    decoded), or None when its task or model cannot be loaded or its parameters no longer parse."""
    from .. import models, tasks
    from ..errors import UserError
    from ..runners.trial import protocol_text

    try:
        task_cls, model_cls = tasks.get(row["task"]), models.get(row["model"])
        # a parameter added after the trial was stored: the trial ran as its declared default (a new
        # parameter's default keeps the earlier behaviour), which a task's paper default may not be
        tp = _parsed(task_cls.spec.params, _with_defaults(task_cls.spec.params, row["task_params"]))
        mp = _parsed(model_cls.spec.params, _with_defaults(model_cls.spec.params, row["model_params"]))
        declared = {p.name for p in task_cls.spec.params}
        task = task_cls(**{k: v for k, v in tp.items() if k in declared})
        proto = task.protocol()
        task_args = arguments(task_cls.spec.params, tp)
        model_args = arguments(model_cls.spec.params, mp, task.model_defaults(model_cls.spec.name))
    except (UserError, ValueError, TypeError, KeyError, AttributeError, NotImplementedError):
        return None
    budget = int(row["max_sequences"])
    n_test = int(proto.n_test)
    for candidate in (int(proto.n_test), int(row["n_test"])):
        if (
            v1_key(row["task"], row["task_params"], row["model"], row["model_params"], budget, candidate)
            == row["config_key"]
        ):
            n_test = candidate
            break
    builtin = (task_cls.__module__.startswith("lstm97."), model_cls.__module__.startswith("lstm97."))
    source_t, version_t = tasks.registry.provenance(row["task"])
    source_m, version_m = models.registry.provenance(row["model"])
    return {
        "config_key": config_key(
            row["task"],
            int(row["task_version"] or 1),
            task_args,
            row["model"],
            int(row["model_version"] or 1),
            model_args,
            budget,
            n_test,
        ),
        "task_args": json.dumps(task_args, sort_keys=True),
        "model_args": json.dumps(model_args, sort_keys=True),
        "default_budget": int(proto.max_sequences),
        "protocol": protocol_text(task, model_cls),
        # what provided a migrated trial: the lstm97 release that stored it for built-ins; a plugin's
        # distribution as installed now, its version at the time unknown
        "task_source": source_t,
        "task_source_version": row["package_version"] if builtin[0] else "",
        "model_source": source_m,
        "model_source_version": row["package_version"] if builtin[1] else "",
        "identity": 2,
    }


_STORED = (
    "task",
    "task_params",
    "task_version",
    "model",
    "model_params",
    "model_version",
    "max_sequences",
    "n_test",
    "package_version",
)


def rekey(db: sqlite3.Connection, where: str = "identity < 2") -> tuple[int, int]:
    """Give every configuration of the trials selected by ``where`` its version-2 identity, inside the caller's
    transaction; return (configurations re-keyed, configurations left for later)."""
    query = f"SELECT config_key, {', '.join(_STORED)} FROM trials WHERE {where} GROUP BY config_key"
    done = left = 0
    for stored in db.execute(query).fetchall():
        row = dict(zip(("config_key", *_STORED), stored, strict=True))
        row["task_params"] = json.loads(row["task_params"])
        row["model_params"] = json.loads(row["model_params"])
        new = identify(row)
        if new is None:
            db.execute(
                f"UPDATE trials SET identity = 1, legacy_key = config_key WHERE config_key = ? AND {where}",
                (row["config_key"],),
            )
            left += 1
            continue
        names = list(new)
        held = _duplicates(db, row["config_key"], new["config_key"])
        if held:
            left += 1
        db.execute(
            f"UPDATE trials SET legacy_key = COALESCE(legacy_key, config_key), "
            f"{', '.join(f'{n} = ?' for n in names)} WHERE config_key = ? AND {where} "
            f"AND id NOT IN ({', '.join('?' * len(held))})",
            [*(new[n] for n in names), row["config_key"], *held],
        )
        done += 1
    return done, left


#: What makes two stored runs of one trial the same run (the runner is deterministic: same seed, same bits).
_OUTCOME = ("status", "success", "sequences", "test_wrong", "test_mse")


def _duplicates(db: sqlite3.Connection, old_key: str, new_key: str) -> list[int]:
    """Trials of ``old_key`` whose seed is already stored under ``new_key``: two runs of one trial, stored
    before a parameter existed and again after (their keys then differed). A run with the same outcome as the
    one kept is deleted (nothing is lost: the kept run holds the same results); one with another outcome is
    left under its old key, pending (identity 1), and its ids are returned so that it is not re-keyed."""
    if old_key == new_key:
        return []
    cols = ", ".join(f"o.{c} IS n.{c}" for c in _OUTCOME)
    pairs = db.execute(
        f"SELECT o.id, {cols} FROM trials o JOIN trials n ON n.config_key = ? AND n.seed = o.seed "
        "WHERE o.config_key = ?",
        (new_key, old_key),
    ).fetchall()
    held = []
    for trial_id, *same in pairs:
        if all(same):
            db.execute("DELETE FROM curves WHERE trial_id = ?", (trial_id,))
            db.execute("DELETE FROM trials WHERE id = ?", (trial_id,))
        else:
            db.execute("UPDATE trials SET identity = 1, legacy_key = config_key WHERE id = ?", (trial_id,))
            held.append(trial_id)
    return held

"""``lstm97 import``: rebuild a store's trials from a ``trials.csv`` (lstm97.results.export), without training.

A published reproduction ships its ``trials.csv`` but not its store. Each row of that CSV becomes a trial record
of the current schema: task and model parameters from the ``task.NAME`` and ``model.NAME`` columns, parsed
with the task's and model's declared :class:`~lstm97.params.Param` (an empty cell of an optional parameter is
None; a parameter without a value takes its declared default), milestones from the ``reached.NAME`` columns,
and the identity columns a trial of this lstm97 has (:mod:`lstm97.identity`; the others as
:func:`.migrate.identify` gives them). The CSV holds no learning curves and no weights: an imported trial has
none, and its ``message`` says so (:data:`NOTE`); its ``state`` (the model's extra learned state, of use only
with the weights) is empty.

The CSV's ``config_key`` is the key of the lstm97 that wrote it, and a row is imported only when its
parameters reproduce it. A version-1 key (lstm97 0.1.0, which hashed every stored value) is recomputed from
the parameters the writing version stored: the cells it filled in. A parameter it did not store (one added
later, or one a trial stored before the parameter existed lacks) is an empty cell and was no part of that
key; it takes its declared default, the behaviour the trial had, so the trial's current key is that of every
parameter resolved (a task's paper default for it, where the default differs, does not apply: e.g. the Exp 2a
nets' ``outputs_see=previous``). The test size is the configuration's or, where that reproduces the old key,
the trial's. A current key is taken as it is when the parameters reproduce it. Rows whose key cannot be
reproduced are refused, all named in one message.

Everything is checked before the store is touched, and every row is written in one transaction: a refused
import writes nothing. Trials already stored (same configuration key and seed) are kept as they are, so
importing twice, or into a store that already holds some of the trials, adds each trial once; a row that
repeats an earlier row's trial (same key, seed and outcome) is left out, and two rows of one trial with
different outcomes are refused.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import math
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..identity import arguments, config_key
from ..params import Param
from . import migrate
from .schema import JSON_COLUMNS, TRIAL_COLUMNS
from .store import Store

#: What an imported trial's ``message`` says (after the trial's own message, if any).
NOTE = "imported from {name} without learning curve or weights"
#: The part of :data:`NOTE` that marks a trial imported before (not noted twice when imported again).
NOTED = "without learning curve or weights"
#: Columns every trials CSV has (lstm97 0.1.0 and later).
REQUIRED = (
    "config_key",
    "task",
    "task_version",
    "model",
    "model_version",
    "max_sequences",
    "n_test",
    "seed",
    "status",
    "success",
    "sequences",
)
STATUSES = ("success", "budget", "diverged")
#: The columns of a trial's outcome: rows of one trial (configuration and seed) must agree on them.
OUTCOME = ("status", "sequences", "milestones", "test_wrong", "test_mse", "test_abs", "n_weights")
#: Refused rows named in full in the message; more are counted.
SHOWN = 10


@dataclass(frozen=True)
class Imported:
    """What :func:`import_csv` did: rows read, trials added, rows whose trial the store already held, and rows
    that repeat an earlier row's trial (the same configuration, seed and outcome)."""

    rows: int
    added: int
    already: int
    repeated: int


class _BadRow(Exception):
    """A cell of one row cannot be read; the message names the column and the value."""


def _int(text: str, column: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise _BadRow(f"{column}={text!r} is not an integer") from None
    if not value.is_integer() or abs(value) >= 2**53:
        raise _BadRow(f"{column}={text!r} is not an integer")
    return int(value)


def _float(text: str, column: str) -> float | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise _BadRow(f"{column}={text!r} is not a number") from None
    return None if math.isnan(value) else value


def _bool(text: str, column: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _BadRow(f"{column}={text!r} is not True or False")


def _params(row: Mapping[str, str], prefix: str, declared: Sequence[Param]) -> tuple[dict, dict]:
    """(every declared parameter resolved, the parameters the writing version stored) from the ``prefix.NAME``
    columns. A value was stored when its cell is filled in, or empty for an optional parameter (None);
    otherwise (an empty cell, or no column) the parameter takes its declared default and was not stored."""
    full: dict[str, Any] = {}
    stored: dict[str, Any] = {}
    for p in declared:
        column = f"{prefix}.{p.name}"
        text = row.get(column)
        try:
            if text is not None and (text != "" or p.optional):
                stored[p.name] = full[p.name] = p.parse(None if text == "" else text)
            else:
                full[p.name] = p.parse(p.default)
        except UserError as exc:
            raise _BadRow(str(exc).removesuffix(".")) from None
    return full, stored


def _configuration(task_cls: type, model_cls: type, params: tuple[dict, dict, dict, dict], stored: dict, seen: dict):
    """(the identity columns beside the key, as :func:`.migrate.identify` gives them; the configuration's test
    size; its arguments with every parameter resolved; its arguments from the stored parameters only), computed
    once per stored configuration (``seen``)."""
    memo = json.dumps(stored, sort_keys=True, default=list)
    if memo not in seen:
        task_params, task_stored, model_params, model_stored = params
        try:
            task = task_cls(**task_params)
            test_size = int(task.protocol().n_test)
            defaults = task.model_defaults(model_cls.spec.name)
        except (UserError, ValueError, TypeError, KeyError, AttributeError, NotImplementedError) as exc:
            raise _BadRow(f"its task parameters do not build a {stored['task']} task ({exc})") from None
        identity = migrate.identify(stored)
        if identity is None:
            raise _BadRow(f"its parameters do not build a {stored['task']} task for {stored['model']}")
        resolved = (
            arguments(task_cls.spec.params, task_params),
            arguments(model_cls.spec.params, model_params, defaults),
        )
        given = arguments(task_cls.spec.params, task_stored), arguments(model_cls.spec.params, model_stored, defaults)
        seen[memo] = identity, test_size, resolved, given
    return seen[memo]


def _record(row: Mapping[str, str], name: str, seen: dict) -> tuple[dict[str, Any] | None, str]:
    """The trial record of one CSV row, or (None, its key) when its parameters do not reproduce its key."""
    from .. import models, tasks

    for column in ("task", "model", "config_key"):
        if not row[column]:
            raise _BadRow(f"it has no {column}")
    task_cls, model_cls = tasks.get(row["task"]), models.get(row["model"])
    task_params, task_stored = _params(row, "task", task_cls.spec.params)
    model_params, model_stored = _params(row, "model", model_cls.spec.params)
    key = row["config_key"]
    ints = {c: _int(row[c], c) for c in ("task_version", "model_version", "max_sequences", "n_test", "seed")}
    ints["sequences"] = _int(row["sequences"], "sequences")
    if ints["seed"] < 0 or ints["max_sequences"] < 1 or ints["n_test"] < 0 or ints["sequences"] < 0:
        raise _BadRow("seed, max_sequences, n_test or sequences is out of range")
    status = row["status"]
    if status not in STATUSES:
        raise _BadRow(f"status={status!r} is not one of {', '.join(STATUSES)}")
    success = _bool(row["success"], "success")
    if success != (status == "success"):
        raise _BadRow(f"success={row['success']!r} contradicts status={status!r}")
    stored = {
        "config_key": key,
        "task": row["task"],
        "task_params": task_stored,
        "task_version": ints["task_version"],
        "model": row["model"],
        "model_params": model_stored,
        "model_version": ints["model_version"],
        "max_sequences": ints["max_sequences"],
        "n_test": ints["n_test"],
        "package_version": row.get("package_version", ""),
    }
    identity, test_size, resolved, given = _configuration(
        task_cls, model_cls, (task_params, task_stored, model_params, model_stored), stored, seen
    )
    identity = dict(identity)
    tests = list(dict.fromkeys([test_size, ints["n_test"]]))

    def keyed(args: tuple[dict, dict], n_test: int) -> str:
        t, m = (row["task"], ints["task_version"]), (row["model"], ints["model_version"])
        return config_key(*t, args[0], *m, args[1], ints["max_sequences"], n_test)

    old = [
        n
        for n in tests
        if migrate.v1_key(row["task"], task_stored, row["model"], model_stored, ints["max_sequences"], n) == key
    ]
    if old:  # a version-1 key (lstm97 0.1.0): the key of the configuration with every parameter resolved
        args, legacy = resolved, key
        identity["config_key"] = keyed(args, old[0])
    else:  # a current key, with every parameter resolved or (a trial migrated from version 1) as stored
        found = [a for a in (resolved, given) for n in tests if keyed(a, n) == key]
        if not found:
            return None, key
        args, legacy = found[0], row.get("legacy_key") or None
        identity["config_key"] = key
    identity["task_args"], identity["model_args"] = args
    for column in ("task_source", "task_source_version", "model_source", "model_source_version"):
        if row.get(column):  # a CSV of a current store says what provided its task and model
            identity[column] = row[column]
    milestones = {
        column.removeprefix("reached."): _int(text, column)
        for column, text in row.items()
        if column.startswith("reached.") and text != ""
    }
    own = row.get("message") or ""
    note = NOTE.format(name=name)
    test_wrong = row.get("test_wrong", "")
    n_weights = row.get("n_weights", "")
    record = {
        **identity,
        "legacy_key": legacy,
        "task": row["task"],
        "task_params": task_params,
        "task_version": ints["task_version"],
        "model": row["model"],
        "model_params": model_params,
        "model_version": ints["model_version"],
        "max_sequences": ints["max_sequences"],
        "n_test": ints["n_test"],
        "stop_rule": row.get("stop_rule") or None,
        "seed": ints["seed"],
        "status": status,
        "success": int(success),
        "sequences": ints["sequences"],
        "unit": row.get("unit") or None,
        "milestones": milestones,
        "test_wrong": -1 if test_wrong == "" else _int(test_wrong, "test_wrong"),
        "test_mse": _float(row.get("test_mse", ""), "test_mse"),
        "test_abs": _float(row.get("test_abs", ""), "test_abs"),
        "n_weights": None if n_weights == "" else _int(n_weights, "n_weights"),
        "wall_time": _float(row.get("wall_time", ""), "wall_time"),
        "package_version": row.get("package_version") or None,
        "message": own if NOTED in own else f"{own}; {note}" if own else note,
        "created": row.get("created") or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "weights": None,
        "state": None,
    }
    return record, ""


def read_csv(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """The trial records of the trials CSV at ``path``, in its order, and the number of rows that repeat an
    earlier row's trial (same configuration and seed, same outcome: left out). UserError, naming the file and
    the lines, when it is missing, not a trials CSV, names a task or model not installed here, has a corrupt row,
    has rows whose configuration key its parameters do not reproduce, or rows of one trial with different
    outcomes."""
    path = Path(path)
    name = repr(str(path))
    if not path.exists():
        raise UserError(f"{name} does not exist; give the trials.csv of a report (lstm97 report writes one).")
    if path.is_dir():
        raise UserError(f"{name} is a directory; give the trials.csv of a report.")
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise UserError(
                    f"{name} is not a trials CSV (as written by lstm97 report or lstm97 results --format csv): "
                    f"it lacks the columns {', '.join(missing)}."
                )
            rows = [(reader.line_num, row) for row in reader]
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise UserError(f"{name} cannot be read as a trials CSV ({exc}).") from None
    records, refused, seen, lines = [], [], {}, {}
    repeated = 0
    for line, row in rows:
        where = f"{name}, line {line}"
        if None in row or None in row.values():
            raise UserError(f"{where}: the row has another number of fields than the header; the file is damaged.")
        try:
            record, key = _record(row, path.name, seen)
        except _BadRow as exc:
            raise UserError(f"{where}: {exc}; the file is damaged.") from None
        except UserError as exc:  # an unknown task or model (a plugin not installed here) or a broken one
            raise UserError(f"{where}: {exc} Install it to import its trials.") from None
        if record is None:
            refused.append(f"line {line} (id {row.get('id', '?')}, key {key})")
            continue
        trial = record["config_key"], record["seed"]
        if trial not in lines:
            lines[trial] = line, len(records)
            records.append(record)
            continue
        first, index = lines[trial]
        if any(records[index][c] != record[c] for c in OUTCOME):
            raise UserError(
                f"{name}, lines {first} and {line}: the same trial (configuration {trial[0]}, seed {trial[1]}) "
                "with different outcomes; the file is damaged or was written from two stores."
            )
        repeated += 1
    if refused:
        shown = "; ".join(refused[:SHOWN]) + (f"; and {len(refused) - SHOWN} more" if len(refused) > SHOWN else "")
        raise UserError(
            f"{name}: {len(refused)} row(s) whose parameters do not reproduce their config_key with the tasks "
            f"and models installed here were refused, and nothing was imported: {shown}."
        )
    return records, repeated


def _encoded(record: Mapping[str, Any]) -> list[Any]:
    """The values of the trials columns for ``record`` (as :meth:`Store.add_trial` encodes them)."""
    values = []
    for column, _ in TRIAL_COLUMNS:
        value = record.get(column)
        if column in JSON_COLUMNS and not (column == "state" and value is None):
            value = json.dumps(value, sort_keys=True, default=list)
        values.append(value)
    return values


def import_csv(path: str | Path, store: str | Path) -> Imported:
    """Import every row of the trials CSV at ``path`` into the store at ``store`` (created if missing), in one
    transaction; trials already stored are left as they are."""
    records, repeated = read_csv(path)  # every check first: a refused import never creates or touches the store
    names = [c for c, _ in TRIAL_COLUMNS]
    insert = f"INSERT OR IGNORE INTO trials ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    with Store(store) as db:
        if db.readonly:
            raise UserError(f"store {str(db.path)!r} is read-only; make it writable or pass another --store.")
        added = 0
        try:
            with db._write():
                for record in records:
                    added += db.db.execute(insert, _encoded(record)).rowcount
        except sqlite3.Error as exc:
            raise UserError(db._explain(exc, "write") + " Nothing was imported.") from None
    return Imported(len(records) + repeated, added, len(records) - added, repeated)

"""The SQLite store: one row per trial, committed in its own transaction, plus learning curves.

Re-running a configuration skips the seeds already stored (``done_seeds``), so an interrupted run resumes
where it stopped without duplicates. A file that is not an lstm97 store, or was written by a newer schema,
raises :class:`~lstm97.errors.UserError` and is never modified. A valid store written before a column of
``EXTRA_COLUMNS`` existed gets that column (NULL for its old trials) when opened.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UserError
from .schema import DDL, EXTRA_COLUMNS, EXTRA_READ, JSON_COLUMNS, SCHEMA_VERSION, TRIAL_COLUMNS

#: Default store path, relative to the working directory.
DEFAULT_STORE = "lstm97.sqlite"


class Store:
    """An lstm97 results database at ``path`` (created if missing unless ``create=False``)."""

    def __init__(self, path: str | Path = DEFAULT_STORE, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise UserError(f"store {str(self.path)!r} does not exist; run 'lstm97 run' first or pass --store.")
        if self.path.is_dir():
            raise UserError(f"store {str(self.path)!r} is a directory; pass a file path with --store.")
        self._columns: set[str] = set()  # the trials table's columns (an old read-only store lacks extras)
        try:
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA foreign_keys = ON")
            self._check_or_create()
        except sqlite3.DatabaseError as exc:
            raise UserError(
                f"store {str(self.path)!r} is not a readable lstm97 store ({exc}); "
                "pass another path with --store (the file was left untouched)."
            ) from None

    def _check_or_create(self) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            with self.db:
                self.db.executescript(DDL)
                self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self._columns = {r[1] for r in self.db.execute("PRAGMA table_info(trials)")}
            return
        if not {"meta", "trials", "curves"} <= tables:
            raise sqlite3.DatabaseError("it holds other tables")
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            raise sqlite3.DatabaseError("no schema version")
        version = int(row[0])
        if version > SCHEMA_VERSION:
            raise UserError(
                f"store {str(self.path)!r} has schema version {version}, newer than this lstm97 "
                f"({SCHEMA_VERSION}); upgrade lstm97 or pass another --store."
            )
        cols = {r[1] for r in self.db.execute("PRAGMA table_info(trials)")}
        missing = {c for c, _ in TRIAL_COLUMNS} - cols
        if missing:
            raise sqlite3.DatabaseError(f"trials table lacks columns {sorted(missing)}")
        for name, kind in EXTRA_COLUMNS:
            if name not in cols:
                try:
                    with self.db:
                        self.db.execute(f"ALTER TABLE trials ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError:  # a read-only file: readable, without the new column
                    pass
        self._columns = {r[1] for r in self.db.execute("PRAGMA table_info(trials)")}

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------------
    def add_trial(self, record: dict[str, Any]) -> bool:
        """Store one finished trial and its curve in one transaction; False if (config, seed) is stored."""
        row = dict(record)
        row.setdefault("created", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        for key in JSON_COLUMNS:
            row[key] = json.dumps(row.get(key), sort_keys=True, default=list)
        row["success"] = int(bool(row["success"]))
        w = row.get("weights")
        row["weights"] = None if w is None else np.ascontiguousarray(w, dtype="<f8").tobytes()
        names = [c for c, _ in TRIAL_COLUMNS + EXTRA_COLUMNS]
        with self.db:  # one transaction: the trial and its curve, or nothing
            cur = self.db.execute(
                f"INSERT OR IGNORE INTO trials ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [row.get(c) for c in names],
            )
            if cur.rowcount == 0:
                return False
            trial_id = cur.lastrowid
            self.db.executemany(
                "INSERT INTO curves VALUES (?, ?, ?, ?)",
                [(trial_id, int(s), float(e), float(c)) for s, e, c in record.get("curve", ())],
            )
        return True

    # -- reading --------------------------------------------------------------------------------------
    def done_seeds(self, config_key: str) -> set[int]:
        """Seeds of the trials of this configuration already stored."""
        rows = self.db.execute("SELECT seed FROM trials WHERE config_key = ?", (config_key,))
        return {int(r[0]) for r in rows}

    def trials(self, config_key: str | None = None) -> pd.DataFrame:
        """All trials (or one configuration's) as a DataFrame; JSON columns decoded to dicts. Weights are
        not included (see :meth:`weights`); ``has_weights`` says which trials have them."""
        has = "weights IS NOT NULL" if "weights" in self._columns else "0"
        extra = [c if c in self._columns else f"NULL AS {c}" for c in EXTRA_READ]
        columns = ", ".join(["id", *(c for c, _ in TRIAL_COLUMNS), *extra, f"{has} AS has_weights"])
        query = f"SELECT {columns} FROM trials"
        args: tuple[Any, ...] = ()
        if config_key is not None:
            query += " WHERE config_key = ?"
            args = (config_key,)
        df = pd.read_sql_query(query + " ORDER BY id", self.db, params=args)
        for key in JSON_COLUMNS:
            df[key] = df[key].map(lambda v: {} if v is None else json.loads(v) or {})
        df["success"] = df["success"].astype(bool)
        df["has_weights"] = df["has_weights"].astype(bool)
        return df

    def weights(self, trial_id: int) -> np.ndarray | None:
        """The final weight vector of trial ``trial_id`` (None if it was stored without one)."""
        column = "weights" if "weights" in self._columns else "NULL"
        row = self.db.execute(f"SELECT {column} FROM trials WHERE id = ?", (int(trial_id),)).fetchone()
        if row is None:
            raise KeyError(f"no trial with id {trial_id}")
        return None if row[0] is None else np.frombuffer(row[0], dtype="<f8").astype(np.float64)

    def curves(self, trial_ids: list[int] | None = None) -> pd.DataFrame:
        """Learning curves: trial_id, sequences, mean_error, frac_correct."""
        df = pd.read_sql_query("SELECT * FROM curves ORDER BY trial_id, sequences", self.db)
        return df if trial_ids is None else df[df["trial_id"].isin(trial_ids)]

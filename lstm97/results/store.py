"""The SQLite store: one row per trial, committed in its own transaction, plus learning curves.

Re-running a configuration skips the seeds already stored (``done_seeds``), so an interrupted run resumes
where it stopped without duplicates. Opening a store checks it before anything else is done: a file that is
not an lstm97 store, is damaged (SQLite's ``quick_check``), has a schema version that is not a number or is
newer than this lstm97's raises :class:`~lstm97.errors.UserError` and is never modified. A store of an older
schema is migrated in one transaction (:mod:`.migrate`); a read-only one is migrated in memory for reading.
:meth:`Store.check_writable` commits a small write, so an unwritable file or directory or a full disk is found
before any training. Several processes may create, migrate and write one store at once (each write takes
SQLite's write lock; the busy timeout waits for it).
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UserError
from . import migrate
from .schema import DDL, JSON_COLUMNS, READ_COLUMNS, SCHEMA_VERSION, TRIAL_COLUMNS, V1_REQUIRED

#: Default store path, relative to the working directory.
DEFAULT_STORE = "lstm97.sqlite"
#: Bytes the write probe commits before a campaign: room for a few trial records (weights and curves).
PROBE_BYTES = 256 * 1024
#: Seconds a write waits for another process's write lock before giving up.
BUSY_TIMEOUT = 60.0


class _NotAStore(Exception):
    """The file is an SQLite database but not an lstm97 store (or is damaged); the message says why."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Store:
    """An lstm97 results database at ``path`` (created if missing unless ``create=False``)."""

    def __init__(self, path: str | Path = DEFAULT_STORE, create: bool = True) -> None:
        self.path = Path(path)
        self.create = create
        self.readonly = False  # opened for reading only (a read-only file migrated in memory)
        name = repr(str(self.path))
        if not self.path.exists() and not create:
            raise UserError(f"store {name} does not exist; run 'lstm97 run' first or pass --store.")
        if self.path.is_dir():
            raise UserError(f"store {name} is a directory; pass a file path with --store.")
        if not self.path.exists() and not self.path.parent.is_dir():
            raise UserError(f"cannot create store {name}: directory {str(self.path.parent)!r} does not exist.")
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise UserError(f"cannot open store {name} ({exc}); pass another path with --store.") from None
        try:
            self.db.execute("PRAGMA foreign_keys = ON")
            self._open()
        except _NotAStore as exc:
            self.db.close()
            raise UserError(
                f"store {name} is not a readable lstm97 store ({exc}); pass another path with "
                "--store (the file was left untouched)."
            ) from None
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise UserError(self._explain(exc, "open")) from None
        self._columns = {r[1] for r in self.db.execute("PRAGMA table_info(trials)")}

    # -- opening --------------------------------------------------------------------------------------
    def _tables(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def _open(self) -> None:
        try:
            tables = self._tables()
        except sqlite3.DatabaseError as exc:
            raise _NotAStore(str(exc)) from None
        if not tables:
            if not self.create:
                raise _NotAStore("it is empty" if self.path.stat().st_size == 0 else "it holds no tables")
            self._create()
            return
        version = self._version(tables)
        self._integrity()
        if version < SCHEMA_VERSION:
            self._upgrade()
        else:
            self._rekey_pending()

    def _create(self) -> None:
        """Create the tables, unless another process did so first (the check runs under the write lock)."""
        with self._write():
            if self._tables():
                return
            self._tables_of_the_schema()
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (_now(),))

    def _tables_of_the_schema(self) -> None:
        """Create every table of the schema that is missing (CREATE TABLE IF NOT EXISTS), inside the caller's
        transaction (statement by statement: executescript would commit it)."""
        for statement in DDL.split(";"):
            if statement.strip():
                self.db.execute(statement)

    def _version(self, tables: set[str]) -> int:
        if not {"meta", "trials", "curves"} <= tables:
            raise _NotAStore("it holds other tables")
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            raise _NotAStore("no schema version")
        try:
            version = int(row[0])
        except (TypeError, ValueError):
            raise _NotAStore(f"its schema version {row[0]!r} is not a number") from None
        if version > SCHEMA_VERSION:
            raise UserError(
                f"store {str(self.path)!r} has schema version {version}, newer than this lstm97 "
                f"({SCHEMA_VERSION}); upgrade lstm97 or pass another --store."
            )
        if version < 1:
            raise _NotAStore(f"unknown schema version {version}")
        cols = {r[1] for r in self.db.execute("PRAGMA table_info(trials)")}
        missing = set(V1_REQUIRED) - cols
        if missing:
            raise _NotAStore(f"trials table lacks columns {sorted(missing)}")
        return version

    def _integrity(self) -> None:
        problems = [r[0] for r in self.db.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise _NotAStore("damaged: " + "; ".join(problems))

    def _upgrade(self) -> None:
        """Migrate to the current schema in one transaction; a read-only store is migrated in memory."""
        try:
            with self._write():
                self._migrate()
            return
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc) and "read-only" not in str(exc):
                raise UserError(
                    f"could not migrate store {str(self.path)!r} to schema version {SCHEMA_VERSION} ({exc}); "
                    "it was left unchanged."
                ) from None
        memory = sqlite3.connect(":memory:", isolation_level=None)
        self.db.backup(memory)
        self.db.close()
        self.db = memory
        self.readonly = True
        with self._write():
            self._migrate()

    def _migrate(self) -> None:
        tables = self._tables()
        version = self._version(tables)  # again, under the write lock: another process may have migrated
        if version >= SCHEMA_VERSION:
            return
        cols = {r[1] for r in self.db.execute("PRAGMA table_info(trials)")}
        for name, kind in TRIAL_COLUMNS:
            if name not in cols:
                self.db.execute(f"ALTER TABLE trials ADD COLUMN {name} {kind}")
        self._tables_of_the_schema()  # the tables version 2 added
        self.db.execute("UPDATE trials SET identity = 1")
        migrate.rekey(self.db)
        self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"migrated_from_{version}", _now()))

    def _rekey_pending(self) -> None:
        """Re-key trials whose task or model could not be loaded when the store was migrated."""
        if self.db.execute("SELECT 1 FROM trials WHERE identity < 2 LIMIT 1").fetchone() is None:
            return
        try:
            with self._write():
                migrate.rekey(self.db)
        except sqlite3.OperationalError:  # read-only: they stay as they are
            pass

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One transaction holding SQLite's write lock from its start; rolled back on any error."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.db.in_transaction:  # SQLite may already have rolled back (e.g. on a full disk)
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _explain(self, exc: sqlite3.Error, doing: str) -> str:
        text = str(exc)
        name = repr(str(self.path))
        if "readonly" in text or "read-only" in text:
            return f"store {name} cannot be written ({text}); make it writable or pass another --store."
        if "disk is full" in text or "disk I/O" in text:
            return f"store {name} cannot be written ({text}); free disk space or pass another --store."
        if "locked" in text or "busy" in text:
            return (
                f"store {name} is locked by another process for more than {BUSY_TIMEOUT:.0f} s ({text}); "
                "try again when it is done."
            )
        if "unable to open" in text:
            return f"cannot {doing} store {name} ({text}); check the path and its directory's permissions."
        return f"store {name} could not be read ({text}); it may be damaged: pass another --store."

    def check_writable(self) -> None:
        """Commit a write of PROBE_BYTES now and remove it (UserError if the store cannot take it), so that an
        unwritable file or directory or a full disk is found before any training. The freed pages are reused
        by the trials that follow."""
        if self.readonly:
            raise UserError(f"store {str(self.path)!r} is read-only; make it writable or pass another --store.")
        try:
            with self._write():
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('write_probe', zeroblob(?))", (PROBE_BYTES,))
            with self._write():
                self.db.execute("DELETE FROM meta WHERE key = 'write_probe'")
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_write', ?)", (_now(),))
        except sqlite3.Error as exc:
            raise UserError(self._explain(exc, "write")) from None

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
        row.setdefault("created", _now())
        for key in JSON_COLUMNS:
            row[key] = (
                None
                if key == "state" and row.get(key) is None
                else json.dumps(row.get(key), sort_keys=True, default=list)
            )
        row["success"] = int(bool(row["success"]))
        row["identity"] = 2
        w = row.get("weights")
        row["weights"] = None if w is None else np.ascontiguousarray(w, dtype="<f8").tobytes()
        names = [c for c, _ in TRIAL_COLUMNS if c != "legacy_key"]
        if self.readonly:
            raise UserError(f"store {str(self.path)!r} is read-only; make it writable or pass another --store.")
        try:
            with self._write():  # one transaction: the trial and its curve, or nothing
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
        except sqlite3.Error as exc:
            raise UserError(self._explain(exc, "write") + " The trials stored before are kept.") from None
        return True

    def add_ablation(self, ablation: str, preset: str, variants: list[tuple[str, str]]) -> None:
        """Record which configuration (key) stands for each variant of an ablation, in one transaction."""
        try:
            with self._write():
                self._tables_of_the_schema()  # a store of an early version 2 lacks the ablations table
                self.db.executemany(
                    "INSERT OR REPLACE INTO ablations VALUES (?, ?, ?, ?, ?)",
                    [(ablation, preset, variant, key, _now()) for variant, key in variants],
                )
        except sqlite3.Error as exc:
            raise UserError(self._explain(exc, "write")) from None

    # -- reading --------------------------------------------------------------------------------------
    def _read(self, query: str, args: tuple[Any, ...] = ()) -> pd.DataFrame:
        try:
            return pd.read_sql_query(query, self.db, params=args)
        except (sqlite3.Error, pd.errors.DatabaseError) as exc:
            raise UserError(self._explain(exc, "read")) from None

    def done_seeds(self, config_key: str) -> set[int]:
        """Seeds of the trials of this configuration already stored."""
        df = self._read("SELECT seed FROM trials WHERE config_key = ?", (config_key,))
        return {int(s) for s in df["seed"]}

    def trials(self, config_key: str | None = None) -> pd.DataFrame:
        """All trials (or one configuration's) as a DataFrame; JSON columns decoded (``state`` to a dict or
        None, the others to dicts). Weights are not included (see :meth:`weights`); ``has_weights`` says which
        trials have them."""
        columns = ", ".join(["id", *READ_COLUMNS, "weights IS NOT NULL AS has_weights"])
        query = f"SELECT {columns} FROM trials"
        args: tuple[Any, ...] = ()
        if config_key is not None:
            query += " WHERE config_key = ?"
            args = (config_key,)
        df = self._read(query + " ORDER BY id", args)
        for key in JSON_COLUMNS:
            if key == "state":  # None: no extra state
                df[key] = df[key].map(lambda v: json.loads(v) if isinstance(v, str) else None)
            else:  # NULL (an all-NULL column reads as NaN): empty
                df[key] = df[key].map(lambda v: json.loads(v) or {} if isinstance(v, str) else {})
        df["success"] = df["success"].astype(bool)
        df["has_weights"] = df["has_weights"].astype(bool)
        return df

    def weights(self, trial_id: int) -> np.ndarray | None:
        """The final weight vector of trial ``trial_id`` (None if it was stored without one)."""
        try:
            row = self.db.execute("SELECT weights FROM trials WHERE id = ?", (int(trial_id),)).fetchone()
        except sqlite3.Error as exc:
            raise UserError(self._explain(exc, "read")) from None
        if row is None:
            raise KeyError(f"no trial with id {trial_id}")
        return None if row[0] is None else np.frombuffer(row[0], dtype="<f8").astype(np.float64)

    def ablations(self) -> pd.DataFrame:
        """The recorded ablations: ablation, preset, variant, config_key, created (in the order recorded)."""
        columns = ["ablation", "preset", "variant", "config_key", "created"]
        if "ablations" not in self._tables():  # a store of an early version 2, before the table existed
            return pd.DataFrame(columns=columns)
        return self._read(f"SELECT {', '.join(columns)} FROM ablations ORDER BY rowid")

    def curves(self, trial_ids: list[int] | None = None) -> pd.DataFrame:
        """Learning curves: trial_id, sequences, mean_error, frac_correct."""
        df = self._read("SELECT * FROM curves ORDER BY trial_id, sequences")
        return df if trial_ids is None else df[df["trial_id"].isin(trial_ids)]

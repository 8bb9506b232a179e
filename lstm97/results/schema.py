"""The store's schema and version (asv-style: every store carries the version it was written with).

One row per trial in ``trials`` (UNIQUE on config key and seed, so a trial is never stored twice), its
learning curve in ``curves``, and ``meta`` holding ``schema_version``. The trial's final weight vector is kept
in ``trials.weights`` (little-endian float64 bytes, NULL when the record has none); it is read only by
``Store.weights``, never into the trial tables. Columns added after version 1 (``EXTRA_COLUMNS``) are added to
an older store when it is opened; its old trials read NULL there.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

#: (column, SQL type) of the trials table, in order; JSON-encoded where the record holds a dict or list.
TRIAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("config_key", "TEXT NOT NULL"),
    ("task", "TEXT NOT NULL"),
    ("task_params", "TEXT NOT NULL"),
    ("task_version", "INTEGER"),
    ("model", "TEXT NOT NULL"),
    ("model_params", "TEXT NOT NULL"),
    ("model_version", "INTEGER"),
    ("max_sequences", "INTEGER"),
    ("n_test", "INTEGER"),
    ("stop_rule", "TEXT"),
    ("seed", "INTEGER NOT NULL"),
    ("status", "TEXT NOT NULL"),  # success | budget | diverged
    ("success", "INTEGER NOT NULL"),
    ("sequences", "INTEGER NOT NULL"),  # until the stopping rule first held, else sequences used
    ("unit", "TEXT"),  # what "sequences" counts: sequences (training) or guesses (random search)
    ("milestones", "TEXT"),  # JSON {rule name: sequences until it first held}
    ("test_wrong", "INTEGER"),  # -1 when not tested (diverged)
    ("test_mse", "REAL"),
    ("n_weights", "INTEGER"),
    ("wall_time", "REAL"),
    ("package_version", "TEXT"),
    ("message", "TEXT"),
    ("created", "TEXT"),
)
JSON_COLUMNS = ("task_params", "model_params", "milestones")
#: Columns added after the first stores were written: created, and added to an older store when it is opened.
EXTRA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("weights", "BLOB"),  # the final flat weight vector, float64 little-endian (record key "weights")
    ("test_abs", "REAL"),  # mean absolute test error (3c: against the noise-free target); NULL if not tested
)
#: Extra columns read into ``Store.trials`` (the weights blob is read only by ``Store.weights``).
EXTRA_READ = ("test_abs",)

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    {", ".join(f"{name} {kind}" for name, kind in TRIAL_COLUMNS + EXTRA_COLUMNS)},
    UNIQUE (config_key, seed)
);
CREATE TABLE IF NOT EXISTS curves (
    trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    sequences INTEGER NOT NULL,
    mean_error REAL,
    frac_correct REAL,
    PRIMARY KEY (trial_id, sequences)
);
"""

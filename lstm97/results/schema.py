"""The store's schema and version (asv-style: every store carries the version it was written with).

One row per trial in ``trials`` (UNIQUE on config key and seed, so a trial is never stored twice), its
learning curve in ``curves``, ``meta`` holding ``schema_version``, and ``ablations`` naming the configurations
of each ablation (``lstm97 ablate``: a preset and its variants, one configuration key per variant). The
trial's final weight vector is kept in ``trials.weights`` (little-endian float64 bytes, NULL when the record
has none); it is read only by ``Store.weights``, never into the trial tables.

Versions:

* 1 (lstm97 0.1.0): the key hashed every resolved parameter, so adding a parameter re-keyed every trial.
* 2: the key is :func:`lstm97.identity.config_key` (names, versions, non-default arguments, budget, test
  size); every trial also records its arguments, the task's default budget, the protocol in words, the model's
  extra state and the distributions (with versions) that provided its task and model. A version-1 store is
  migrated when opened (:mod:`lstm97.results.migrate`).
"""

from __future__ import annotations

SCHEMA_VERSION = 2

#: (column, SQL type) of the trials table, in order; JSON-encoded where the record holds a dict or list.
TRIAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("config_key", "TEXT NOT NULL"),
    ("task", "TEXT NOT NULL"),
    ("task_params", "TEXT NOT NULL"),  # JSON: every resolved task parameter
    ("task_version", "INTEGER"),
    ("model", "TEXT NOT NULL"),
    ("model_params", "TEXT NOT NULL"),  # JSON: every resolved model hyperparameter
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
    ("weights", "BLOB"),  # the final flat weight vector, float64 little-endian (record key "weights")
    ("test_abs", "REAL"),  # mean absolute test error (3c: against the noise-free target); NULL if not tested
    # -- version 2 --
    ("task_args", "TEXT"),  # JSON: the task parameters that differ from their declared defaults
    ("model_args", "TEXT"),  # JSON: the hyperparameters that differ from their defaults for this task
    ("default_budget", "INTEGER"),  # the task protocol's budget (max_sequences of a run that names none)
    ("protocol", "TEXT"),  # the stopping rule in words
    ("state", "TEXT"),  # JSON: the model's extra learned state beside the weights (e.g. blocks grown)
    ("task_source", "TEXT"),  # distribution that provided the task, and its version
    ("task_source_version", "TEXT"),
    ("model_source", "TEXT"),
    ("model_source_version", "TEXT"),
    ("identity", "INTEGER NOT NULL DEFAULT 2"),  # key scheme of config_key: 2, or 1 while awaiting re-keying
    ("legacy_key", "TEXT"),  # the version-1 key of a migrated trial
)
JSON_COLUMNS = ("task_params", "model_params", "milestones", "task_args", "model_args", "state")
#: Columns a version-1 store may lack (added by lstm97 0.1.0 to older stores when it opened them).
V1_OPTIONAL = ("weights", "test_abs")
#: Columns every store must have before migration (version 1's required columns).
V1_REQUIRED = tuple(name for name, _ in TRIAL_COLUMNS[: TRIAL_COLUMNS.index(("weights", "BLOB"))])
#: Columns read into ``Store.trials`` (the weights blob is read only by ``Store.weights``).
READ_COLUMNS = tuple(name for name, _ in TRIAL_COLUMNS if name != "weights")
#: Learning curves hold means over consecutive blocks of this many training sequences; a trial's last row may
#: cover fewer (the sequences after its last full block: since lstm97 0.3.0).
CURVE_BLOCK = 1000
#: Record keys that are not trial columns (the curve goes to the curves table).
RECORD_ONLY = ("curve",)

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    {", ".join(f"{name} {kind}" for name, kind in TRIAL_COLUMNS)},
    UNIQUE (config_key, seed)
);
CREATE TABLE IF NOT EXISTS curves (
    trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    sequences INTEGER NOT NULL,
    mean_error REAL,
    frac_correct REAL,
    PRIMARY KEY (trial_id, sequences)
);
CREATE TABLE IF NOT EXISTS ablations (
    ablation TEXT NOT NULL,
    preset TEXT NOT NULL,
    variant TEXT NOT NULL,
    config_key TEXT NOT NULL,
    created TEXT,
    PRIMARY KEY (ablation, variant)
);
"""
#: Tables a version-2 store has beyond those of version 1 (created when a version-1 store is migrated).
V2_TABLES = ("ablations",)

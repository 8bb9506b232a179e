"""Stores written by lstm97 0.1.0 (schema 1) migrate once, keep every trial, and resume without re-running.

The fixture ``tests/data/store_v1.sqlite`` was written by lstm97 0.1.0 (commit 7e705c3) with
``lstm97 reproduce --all --quick --trials 1``, ``lstm97 reproduce 6a 3a-1 --trials 2`` and
``lstm97 run adding -p T=20 --hp lr=0.5 --trials 2 --max-sequences 20000`` (50 trials, with curves and weights).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from lstm97 import api, tasks
from lstm97.cli import main
from lstm97.errors import UserError
from lstm97.results import Store, migrate
from lstm97.results.schema import SCHEMA_VERSION
from lstm97.runners import TrialConfig

FIXTURE = Path(__file__).parent / "data" / "store_v1.sqlite"


@pytest.fixture
def v1(tmp_path) -> Path:
    path = tmp_path / "v1.sqlite"
    shutil.copy(FIXTURE, path)
    return path


def _raw(path: Path, query: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def test_fixture_is_a_version_1_store():
    assert _raw(FIXTURE, "SELECT value FROM meta WHERE key='schema_version'") == [("1",)]
    assert _raw(FIXTURE, "SELECT COUNT(*) FROM trials") == [(50,)]


def test_migration_keeps_every_trial_and_rekeys(v1):
    old = _raw(v1, "SELECT id, config_key, seed, sequences FROM trials ORDER BY id")
    old_curves = _raw(v1, "SELECT * FROM curves ORDER BY trial_id, sequences")
    with Store(v1) as db:
        df = db.trials()
        assert not db.readonly
    assert _raw(v1, "SELECT value FROM meta WHERE key='schema_version'") == [(str(SCHEMA_VERSION),)]
    assert len(df) == len(old)
    assert list(df["legacy_key"]) == [k for _, k, _, _ in old]
    assert list(df["sequences"]) == [s for *_, s in old]
    assert set(df["identity"]) == {2}
    assert (df["config_key"] != df["legacy_key"]).all()
    assert _raw(v1, "SELECT * FROM curves ORDER BY trial_id, sequences") == old_curves
    # the new key is the one today's code gives the same configuration
    run = df[(df["task"] == "adding") & (df["max_sequences"] == 20_000)].iloc[0]
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {"lr": 0.5}, 20_000)
    assert run["config_key"] == cfg.key() and run["model_args"] == {}  # --hp lr=0.5 restated the paper's lr
    assert set(df["task_source_version"]) == {"0.1.0"}
    assert df["protocol"].map(bool).all() and df["default_budget"].gt(0).all()


def test_migrated_store_runs_zero_trials_for_what_it_holds(v1):
    with Store(v1) as db:
        df = db.trials()
    # implemented or added since 0.1.0 wrote the store, so it holds no trial of them
    new = {"rcc-1", "ch-2a", "ch-val", "cerg-reset", "cerg-standard", "cerg-decay", "cerg-forget", "cerg-forget-decay"}
    new |= {"am-100", "am-200", "am-400", "am-750", "copy-100", "copy-200"}
    chosen = [p for p in api.select_presets(everything=True) if api.preset_unavailable(p) is None and p.id not in new]
    quick = api.plan_presets(chosen, v1, quick=True, trials=1)
    paper = api.plan_presets([p for p in chosen if p.id in ("6a", "3a-1")], v1, trials=2)
    run = api.plan([(TrialConfig.resolve("adding", {"T": 20}, "lstm", {"lr": 0.5}, 20_000), [0, 1])], v1)
    jobs = quick + paper + run
    assert sum(len(j.todo) for j in jobs) == 0
    assert sum(len(j.seeds) for j in jobs) == len(df)
    # and through the CLI, as a user would
    runner = CliRunner()
    res = runner.invoke(main, ["reproduce", *(p.id for p in chosen), "--quick", "--trials", "1", "--store", str(v1)])
    assert res.exit_code == 0, res.output
    assert "0 trials on" in res.output
    res = runner.invoke(
        main,
        [
            "run",
            "adding",
            "-p",
            "T=20",
            "--hp",
            "lr=0.5",
            "--trials",
            "2",
            "--max-sequences",
            "20000",
            "--store",
            str(v1),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "0 trials to run (2 already stored" in res.output
    assert _raw(v1, "SELECT COUNT(*) FROM trials") == [(50,)]


def test_failed_migration_changes_nothing(v1, monkeypatch):
    before = _raw(v1, "SELECT config_key FROM trials ORDER BY id")
    real = migrate.rekey

    def broken(db, where="identity < 2"):
        real(db, where)  # every update made, then a failure before the commit
        raise sqlite3.OperationalError("simulated failure")

    monkeypatch.setattr(migrate, "rekey", broken)
    with pytest.raises(UserError, match="left unchanged"):
        Store(v1)
    assert _raw(v1, "SELECT value FROM meta WHERE key='schema_version'") == [("1",)]
    assert _raw(v1, "SELECT config_key FROM trials ORDER BY id") == before
    assert "identity" not in {r[1] for r in _raw(v1, "PRAGMA table_info(trials)")}
    monkeypatch.setattr(migrate, "rekey", real)
    with Store(v1) as db:
        assert len(db.trials()) == len(before)


def test_read_only_store_is_migrated_in_memory(v1, store_as):
    store_as(v1, "read-only")
    before = v1.read_bytes()
    with Store(v1, create=False) as db:
        assert db.readonly
        df = db.trials()
        assert len(df) == 50 and set(df["identity"]) == {2}
        with pytest.raises(UserError, match="read-only"):
            db.check_writable()
    assert v1.read_bytes() == before


def test_trials_of_an_unknown_plugin_wait_for_it(v1, monkeypatch):
    """A configuration whose task is not installed keeps its old key until a store is opened with it."""
    db = sqlite3.connect(v1)
    old = db.execute(
        "SELECT config_key, task_params, model_params, max_sequences FROM trials "
        "WHERE task='adding' AND max_sequences = 20000 LIMIT 1"
    ).fetchone()
    db.execute("UPDATE trials SET task='my-adding' WHERE config_key = ?", (old[0],))
    db.commit()
    db.close()
    with Store(v1) as s:
        mine = s.trials().query("task == 'my-adding'")
    assert set(mine["identity"]) == {1} and set(mine["config_key"]) == {old[0]}

    cls = tasks.get("adding")
    plugin = type("MyAdding", (cls,), {"spec": dataclasses.replace(cls.spec, name="my-adding")})
    monkeypatch.setitem(
        tasks.registry._entries,
        "my-adding",
        tasks.registry._entries["adding"].__class__("my-adding", "tests:MyAdding", "user", _obj=plugin),
    )
    with Store(v1) as s:
        mine = s.trials().query("task == 'my-adding'")
    cfg = TrialConfig.resolve("my-adding", {"T": 20}, "lstm", {"lr": 0.5}, old[3])
    assert set(mine["identity"]) == {2} and set(mine["config_key"]) == {cfg.key()}
    assert set(mine["legacy_key"]) == {old[0]}


def test_v1_key_is_recomputed_exactly(v1):
    import json

    rows = _raw(v1, "SELECT config_key, task, task_params, model, model_params, max_sequences, n_test FROM trials")
    hits = 0
    for key, task, tp, model, mp, budget, n_test in rows:
        proto_n_test = tasks.make(task, **json.loads(tp)).protocol().n_test
        candidates = {
            migrate.v1_key(task, json.loads(tp), model, json.loads(mp), budget, n) for n in (proto_n_test, n_test)
        }
        hits += key in candidates
    assert hits == len(rows)


def _copy_without(path: Path, trial_id: int, param: str, **changes) -> None:
    """Store a second run of trial ``trial_id`` as 0.1.0 would have before ``param`` existed: the model
    parameters without it, the version-1 key of those, and the given column values."""
    db = sqlite3.connect(path)
    cols = [r[1] for r in db.execute("PRAGMA table_info(trials)") if r[1] != "id"]
    row = dict(
        zip(cols, db.execute(f"SELECT {', '.join(cols)} FROM trials WHERE id = ?", (trial_id,)).fetchone(), strict=True)
    )
    mp = json.loads(row["model_params"])
    del mp[param]
    row["model_params"] = json.dumps(mp, sort_keys=True)
    row["config_key"] = migrate.v1_key(
        row["task"], json.loads(row["task_params"]), row["model"], mp, row["max_sequences"], row["n_test"]
    )
    row.update(changes)
    db.execute(f"INSERT INTO trials ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    db.commit()
    db.close()


def test_trials_stored_before_a_parameter_existed_ran_as_its_declared_default(v1):
    """0.1.0 stored some trials before ``outputs_see`` existed. They ran as its declared default ("current"),
    not as the long-lag task's paper default ("previous"): a run of the RTRL long-lag net without the parameter
    is another configuration than its twin with outputs_see=previous, and a run of the Reber RTRL net without it
    (declared default = the twin's value) is the same trial twice: stored once, with the same results."""
    lag = _raw(v1, "SELECT id, config_key, seed FROM trials WHERE task='long-lag' AND model='rtrl' LIMIT 1")[0]
    reber = _raw(v1, "SELECT id, seed, sequences FROM trials WHERE task='reber' AND model='rtrl' LIMIT 1")[0]
    _copy_without(v1, lag[0], "outputs_see", sequences=123, success=0)  # another outcome: other timing
    _copy_without(v1, reber[0], "outputs_see")  # the same run again
    with Store(v1) as db:
        df = db.trials()
    assert len(df) == 51  # the Reber duplicate stored once, the long-lag run kept
    lag_twin = df[df["legacy_key"] == lag[1]].iloc[0]
    old = df[(df["task"] == "long-lag") & (df["model"] == "rtrl") & (df["sequences"] == 123)]
    assert len(old) == 1 and old["config_key"].iloc[0] != lag_twin["config_key"]
    assert old["model_args"].iloc[0]["outputs_see"] == "current"
    assert "outputs_see" not in lag_twin["model_args"]  # previous: the task's paper default
    kept = df[df["id"] == reber[0]].iloc[0]
    assert len(df[(df["config_key"] == kept["config_key"]) & (df["seed"] == reber[1])]) == 1

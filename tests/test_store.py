"""The SQLite store: one row per trial, no duplicates, curves, schema version, corrupt files."""

import sqlite3

import pytest

from lstm97.errors import UserError
from lstm97.results import Store
from lstm97.results.export import flat_trials, to_csv
from lstm97.results.schema import SCHEMA_VERSION


def record(seed, **kw):
    rec = dict(
        config_key="k1",
        task="adding",
        task_params={"T": 100},
        task_version=1,
        model="lstm",
        model_params={"lr": 0.5, "in_gate_bias": (-3.0, -6.0)},
        model_version=1,
        max_sequences=10,
        n_test=2560,
        stop_rule="ST3(0.01)",
        seed=seed,
        status="success",
        success=True,
        sequences=1234,
        test_wrong=1,
        test_mse=0.001,
        n_weights=93,
        wall_time=0.5,
        package_version="0",
        message="",
        curve=[(1000, 0.1, 0.5), (2000, 0.01, 0.9)],
    )
    rec.update(kw)
    return rec


def test_add_and_read(tmp_path):
    with Store(tmp_path / "s.sqlite") as s:
        assert s.add_trial(record(0))
        assert s.add_trial(record(1, success=False, status="budget"))
        assert not s.add_trial(record(0))  # the same (config, seed) is never stored twice
        assert s.done_seeds("k1") == {0, 1} and s.done_seeds("other") == set()
        df = s.trials()
        assert len(df) == 2 and df["task_params"][0] == {"T": 100}
        assert list(df["success"]) == [True, False]
        assert len(s.curves()) == 4
    flat = flat_trials(df)
    assert flat["task.T"].tolist() == [100, 100] and flat["model.in_gate_bias"][0] == "-3.0,-6.0"
    assert to_csv(df).splitlines()[0].startswith("id,task,model,seed,status")


def test_persistent_across_connections(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as s:
        s.add_trial(record(5))
    with Store(path, create=False) as s:
        assert s.done_seeds("k1") == {5}


def test_corrupt_file_is_reported_and_untouched(tmp_path):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(UserError, match="not a readable lstm97 store"):
        Store(path)
    assert path.read_bytes() == before


def test_foreign_database_is_rejected(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE x (a)")
    db.commit()
    db.close()
    with pytest.raises(UserError, match="other tables"):
        Store(path)


def test_newer_schema_is_rejected(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(UserError, match="newer"):
        Store(path)


def test_missing_store_for_reading(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        Store(tmp_path / "nope.sqlite", create=False)

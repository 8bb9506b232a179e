"""A campaign path that cannot lose work: the store is checked and probed before training, concurrent creation
works, damaged files and impossible seeds are refused with one line."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import lstm97.runners.sweep as sweep
from lstm97 import api
from lstm97.cli import main
from lstm97.errors import UserError
from lstm97.results import Store
from lstm97.runners import TrialConfig, run_trial

RUN = ["run", "adding", "-p", "T=20", "--max-sequences", "200", "--trials", "1", "--jobs", "1"]


@pytest.fixture
def no_training(monkeypatch):
    """Make any training fail loudly: the check under test must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("a trial was trained")

    monkeypatch.setattr(sweep, "run_trial", refuse)


def _one_line_exit_2(res) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, res.output
    return lines[0]


def test_missing_directory_is_refused_before_training(tmp_path, no_training):
    res = CliRunner().invoke(main, [*RUN, "--store", str(tmp_path / "nowhere" / "s.sqlite")])
    assert "does not exist" in _one_line_exit_2(res)


def test_unwritable_store_is_refused_before_training(tmp_path, store_as, no_training):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    store_as(path, "read-only")
    res = CliRunner().invoke(main, [*RUN, "--store", str(path)])
    assert "cannot be written" in _one_line_exit_2(res)


def test_full_disk_is_found_before_training(tmp_path, store_as, no_training):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    store_as(path, "full")
    res = CliRunner().invoke(main, [*RUN, "--store", str(path)])
    assert "free disk space" in _one_line_exit_2(res)


def test_a_store_that_fills_during_a_run_keeps_what_was_stored(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=200)
    with Store(path) as db:
        assert db.add_trial(run_trial(cfg, 0))
        db.db.execute(f"PRAGMA max_page_count = {db.db.execute('PRAGMA page_count').fetchone()[0]}")
        record = run_trial(cfg, 1)
        record["message"] = "x" * 200_000  # does not fit
        with pytest.raises(UserError, match="trials stored before are kept"):
            db.add_trial(record)
        assert db.done_seeds(cfg.key()) == {0}


def _create_and_add(path: str, barrier, i: int, out) -> None:
    try:
        barrier.wait()
        with Store(path) as db:
            db.check_writable()
            ok = db.add_trial(
                {
                    "config_key": "k",
                    "task": "t",
                    "task_params": {},
                    "model": "m",
                    "model_params": {},
                    "seed": i,
                    "status": "budget",
                    "success": False,
                    "sequences": 1,
                    "curve": [(1, 0.5, 0.0)],
                }
            )
        out.put((i, "ok" if ok else "dup"))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        out.put((i, repr(exc)))


def test_processes_creating_one_store_at_once_all_succeed(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for round_ in range(6):
        path = str(tmp_path / f"new{round_}.sqlite")
        n = 6
        barrier, out = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=_create_and_add, args=(path, barrier, i, out)) for i in range(n)]
        for p in procs:
            p.start()
        results = dict(out.get(timeout=60) for _ in procs)
        for p in procs:
            p.join(30)
        assert results == {i: "ok" for i in range(n)}, results
        with Store(path) as db:
            assert sorted(db.trials()["seed"]) == list(range(n))


def test_damaged_page_gives_one_line(tmp_path):
    path = tmp_path / "s.sqlite"
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=200)
    with Store(path) as db:
        for seed in range(3):
            db.add_trial(run_trial(cfg, seed))
    db = sqlite3.connect(path)
    page = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'curves'").fetchone()[0]
    db.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page : (root - 1) * page + 64] = b"\xa5" * 64  # one b-tree page; the file header intact
    path.write_bytes(bytes(data))
    res = CliRunner().invoke(main, ["results", "--store", str(path)])
    assert "damaged" in _one_line_exit_2(res)


@pytest.mark.parametrize("value", ["two", "1.5", ""])
def test_schema_version_that_is_not_a_number(tmp_path, value):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (value,))
    db.commit()
    db.close()
    res = CliRunner().invoke(main, ["results", "--store", str(path)])
    assert "schema version" in _one_line_exit_2(res)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--seed", str(2**63 - 1), "--trials", "2"], "64-bit"),
        (["--seed", str(2**63)], "seed"),
        (["--trials", str(10**12)], "trials"),
        (["--max-sequences", str(2**63)], "max-sequences"),
    ],
)
def test_numbers_the_store_cannot_hold_are_refused(tmp_path, args, words, no_training):
    res = CliRunner().invoke(main, ["run", "adding", "-p", "T=20", "--store", str(tmp_path / "s.sqlite"), *args])
    assert res.exit_code == 2, res.output
    assert words in res.output and "Traceback" not in res.output
    assert not Path(tmp_path / "s.sqlite").exists() or not len(Store(tmp_path / "s.sqlite").trials())


def test_api_refuses_impossible_seeds_and_budgets():
    with pytest.raises(UserError, match="64-bit"):
        api.seeds_for(2**63 - 1, 2)
    with pytest.raises(UserError, match="trials"):
        api.seeds_for(0, 0)
    with pytest.raises(UserError, match="max_sequences"):
        api.configure("adding", {}, "lstm", {}, max_sequences=2**64)


def _add_many(path: str, barrier, first: int, n: int, out) -> None:
    try:
        barrier.wait()
        with Store(path) as db:
            for seed in range(first, first + n):
                db.add_trial(
                    {
                        "config_key": "k",
                        "task": "t",
                        "task_params": {},
                        "model": "m",
                        "model_params": {},
                        "seed": seed,
                        "status": "budget",
                        "success": False,
                        "sequences": 1,
                        "curve": [(1, 0.5, 0.0), (2, 0.25, 0.5)],
                    }
                )
        out.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        out.put(repr(exc))


def test_concurrent_writers_on_an_existing_store_lose_nothing(tmp_path):
    path = str(tmp_path / "s.sqlite")
    Store(path).close()
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_add_many, args=(path, barrier, 100 * i, 100, out)) for i in range(4)]
    for p in procs:
        p.start()
    assert [out.get(timeout=120) for _ in procs] == ["ok"] * 4
    for p in procs:
        p.join(30)
    with Store(path) as db:
        assert sorted(db.trials()["seed"]) == list(range(400))
        assert len(db.curves()) == 800

"""``lstm97 import``: a published trials.csv rebuilds a store whose report has the published tables; keys as this
lstm97 gives them (old keys kept as legacy keys); idempotent; bad input refused whole, in one line.

tests/data/published_v1/ is the reproduction lstm97 0.1.0 published (its trials.csv and table CSVs, written by
an older identity and without some parameters: the migration cases); docs/reproduction/ is the current one."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from lstm97 import api
from lstm97.cli import main
from lstm97.report.build import build
from lstm97.results import Store, importer, migrate

CURRENT = Path(__file__).resolve().parents[1] / "docs" / "reproduction"
PUBLISHED = Path(__file__).resolve().parent / "data" / "published_v1"
CSV = PUBLISHED / "trials.csv"
#: The published tables' columns that the stored trials alone determine (not the verdicts, intervals and
#: notes, whose rules changed since 0.1.0 published them).
TABLES = sorted(p.name for p in PUBLISHED.glob("table*.csv"))
FIGURES = [
    "id",
    "trials",
    "successes",
    "success rate",
    "mean",
    "median",
    "min",
    "max",
    "tested",
    "wrong mean",
    "wrong max",
    "test mse",
    "n_test",
    "weights",
    "budget",
]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def rows() -> list[dict[str, str]]:
    with CSV.open(newline="") as f:
        return list(csv.DictReader(f))


def write(path: Path, records: list[dict[str, str]], header: list[str] | None = None) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, header or list(records[0]))
        w.writeheader()
        w.writerows(records)
    return path


def count(store: Path) -> int:
    db = sqlite3.connect(store)
    try:
        return db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    finally:
        db.close()


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The published CSV imported into a new store, and the report built from it (with figures)."""
    tmp = tmp_path_factory.mktemp("imported")
    store = tmp / "imported.sqlite"
    res = invoke("import", CSV, "--store", store)
    assert res.exit_code == 0, res.output
    build(store, tmp / "report")
    return store, tmp / "report", res.output


@pytest.mark.parametrize("name", TABLES)
def test_the_report_of_the_imported_store_has_the_published_tables(imported, name):
    _, out, _ = imported
    ours, published = pd.read_csv(out / name), pd.read_csv(PUBLISHED / name)
    columns = [c for c in FIGURES if c in published]
    assert len(columns) >= 10
    # the means are summed in seed order now, in store order then: equal up to rounding
    pd.testing.assert_frame_equal(ours[columns], published[columns], check_exact=False, rtol=1e-12)


def test_every_row_is_imported_or_is_the_same_trial_as_an_earlier_row(imported):
    """603 rows: 593 trials, and 10 rows that repeat a trial (same configuration under the current identity,
    same seed, same outcome) stored once before lstm97 had outputs_see and once after, with it set to its
    declared default."""
    store, _, output = imported
    assert "imported 593 of 603 rows" in output and "10 repeating another row's trial" in output
    with Store(store) as db:
        df = db.trials()
    assert len(df) == 593 and set(df["legacy_key"]) <= {r["config_key"] for r in rows()}
    published = {(r["config_key"], int(r["seed"])) for r in rows()}
    assert {(k, int(s)) for k, s in zip(df["legacy_key"], df["seed"], strict=True)} <= published


def test_keys_are_the_current_identity_and_the_old_key_is_kept(imported):
    """Where the CSV's row holds every parameter the trial's version had, the key is the one migrating the
    published store gives it (migrate.identify). A trial stored before a parameter existed ran with its declared
    default, not with a task's paper default for it: the two Exp 2a BPTT trials from before outputs_see keep
    a key of their own (outputs_see=current) beside the later ones (the paper's previous), whose outcome
    differs."""
    store, _, _ = imported
    with Store(store) as db:
        df = db.trials()
    assert (df["identity"] == 2).all()
    by_old = {(r["config_key"], int(r["seed"])): r for r in rows()}
    lacking = 0
    for _, t in df.iterrows():
        r = by_old[(t["legacy_key"], int(t["seed"]))]
        if t["model"] != "lstm" and r["model.outputs_see"] == "":
            lacking += 1
            continue
        stored = {k: t[k] for k in migrate._STORED}
        stored["config_key"] = t["legacy_key"]
        stored["task_params"] = {k: v for k, v in t["task_params"].items() if r.get(f"task.{k}", "") != ""}
        stored["model_params"] = {
            k: v for k, v in t["model_params"].items() if f"model.{k}" in r and (r[f"model.{k}"] != "" or v is None)
        }
        assert migrate.identify(stored)["config_key"] == t["config_key"], r["id"]
    assert lacking == 12
    bptt = df[(df["model"] == "rnn-bptt") & (df["task"] == "long-lag")]
    assert len(bptt) == 4 and bptt["config_key"].nunique() == 2
    assert {json.dumps(a, sort_keys=True) for a in bptt["model_args"]} >= {'{"outputs_see": "current"}'}


def test_imported_trials_say_they_have_no_curves_or_weights(imported):
    store, out, _ = imported
    with Store(store) as db:
        df = db.trials()
        assert not len(db.curves())
    assert not df["has_weights"].any()
    assert df["message"].str.contains("imported from trials.csv without learning curve or weights").all()
    assert df["state"].isna().all()
    assert "needs trials whose records carry their final weights" in (out / "README.md").read_text()


def test_importing_twice_or_into_a_store_with_some_of_the_trials_adds_each_once(tmp_path):
    store = tmp_path / "s.sqlite"
    first = write(tmp_path / "first.csv", rows()[:100])
    assert importer.import_csv(first, store) == importer.Imported(rows=100, added=100, already=0, repeated=0)
    done = importer.import_csv(CSV, store)
    assert done == importer.Imported(rows=603, added=493, already=100, repeated=10) and count(store) == 593
    again = importer.import_csv(CSV, store)
    assert again == importer.Imported(rows=603, added=0, already=593, repeated=10) and count(store) == 593


def test_the_python_api_imports_and_returns_the_store(tmp_path):
    df = api.import_csv(CSV, tmp_path / "s.sqlite")
    assert len(df) == 593 and "config_key" in df


def test_a_report_of_an_imported_store_imports_again_with_the_same_keys(imported, tmp_path):
    """The trials.csv that the report writes (current columns and keys) round-trips."""
    store, out, _ = imported
    again = tmp_path / "again.sqlite"
    done = importer.import_csv(out / "trials.csv", again)
    assert (done.rows, done.added) == (593, 593)
    columns = "config_key, seed, legacy_key, task_params, model_params, task_args, model_args, message, sequences"
    query = f"SELECT {columns} FROM trials ORDER BY id"
    a, b = sqlite3.connect(store), sqlite3.connect(again)
    try:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
    finally:
        a.close()
        b.close()


def _one_line_error(res, *words):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, (SystemExit, type(None)))
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    for w in words:
        assert w in lines[0], res.output


def _changed(tmp_path: Path, line: int, **cells: str) -> Path:
    """The published CSV with some cells of one data row (``line``: the file's line number) changed."""
    records = rows()
    records[line - 2].update(cells)
    return write(tmp_path / "changed.csv", records)


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    (tmp_path / name).write_bytes(content)
    return tmp_path / name


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda t: t / "missing.csv", ["does not exist"]),
        (lambda t: t, ["is a directory"]),
        (lambda t: PUBLISHED / "table1.csv", ["is not a trials CSV", "config_key"]),
        (lambda t: _file(t, "empty.csv", b""), ["is not a trials CSV"]),
        (lambda t: _file(t, "bin.csv", b"\xff\xfe\x00\x81" * 50), ["cannot be read"]),
        (lambda t: _changed(t, 5, task="my-plugin-task"), ["line 5", "my-plugin-task", "Install it"]),
        (lambda t: _changed(t, 7, model="my-model"), ["line 7", "my-model"]),
        (lambda t: _changed(t, 3, seed="zero"), ["line 3", "seed='zero'", "damaged"]),
        (lambda t: _changed(t, 4, status="weird"), ["line 4", "status='weird'"]),
        (lambda t: _changed(t, 4, success="False", status="success"), ["line 4", "contradicts"]),
        (lambda t: _changed(t, 6, **{"model.lr": "fast"}), ["line 6", "lr", "damaged"]),
        (lambda t: _changed(t, 6, **{"model.lr": "0.3"}), ["1 row(s)", "line 6 (id 5, key", "nothing was imported"]),
        (lambda t: _changed(t, 195, sequences="123"), ["lines 12 and 195", "different outcomes"]),
    ],
)
def test_bad_input_is_refused_in_one_line_and_writes_nothing(tmp_path, make, words):
    path = make(tmp_path)
    fresh = tmp_path / "fresh.sqlite"
    _one_line_error(invoke("import", path, "--store", fresh), *words)
    assert not fresh.exists()
    kept = tmp_path / "kept.sqlite"
    importer.import_csv(write(tmp_path / "few.csv", rows()[20:30]), kept)
    _one_line_error(invoke("import", path, "--store", kept), *words)
    assert count(kept) == 10


def test_a_row_with_missing_fields_is_refused(tmp_path):
    lines = CSV.read_text().splitlines()
    lines[3] = ",".join(lines[3].split(",")[:10])
    path = tmp_path / "cut.csv"
    path.write_text("\n".join(lines) + "\n")
    _one_line_error(invoke("import", path, "--store", tmp_path / "s.sqlite"), "line 4", "number of fields")


def test_a_failure_while_writing_rolls_the_whole_import_back(tmp_path, monkeypatch):
    store = tmp_path / "s.sqlite"
    importer.import_csv(write(tmp_path / "few.csv", rows()[20:30]), store)
    real, calls = importer._encoded, []

    def failing(record):
        calls.append(1)
        if len(calls) == 300:
            raise sqlite3.OperationalError("database or disk is full")
        return real(record)

    monkeypatch.setattr(importer, "_encoded", failing)
    _one_line_error(invoke("import", CSV, "--store", store), "disk", "Nothing was imported")
    assert count(store) == 10


def test_a_read_only_store_is_refused(tmp_path, store_as):
    store = tmp_path / "s.sqlite"
    importer.import_csv(write(tmp_path / "few.csv", rows()[20:30]), store)
    store_as(store, "read-only")
    _one_line_error(invoke("import", CSV, "--store", store), "cannot be written")
    assert count(store) == 10


def test_the_current_publication_rebuilds_its_tables_from_its_trials_csv(tmp_path):
    """docs/reproduction/trials.csv imports whole (one trial per row) and the report of that store has the
    published tables' figures (the report was built from the store that holds curves and weights too)."""
    store = tmp_path / "current.sqlite"
    done = importer.import_csv(CURRENT / "trials.csv", store)
    assert done.rows == done.added and done.repeated == 0
    build(store, tmp_path / "report", figures=False)
    for path in sorted(CURRENT.glob("table*.csv")):
        ours, published = pd.read_csv(tmp_path / "report" / path.name), pd.read_csv(path)
        columns = [c for c in FIGURES if c in published]
        pd.testing.assert_frame_equal(ours[columns], published[columns], check_exact=False, rtol=1e-12)

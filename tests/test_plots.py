"""Figures of the report (non-empty PNGs), LSTM.trace against LSTM.predict, and final weights in the store."""

import json
import sqlite3

import numpy as np
import pytest
from test_report_tables import config_columns

from lstm97 import api, models, tasks
from lstm97.paper import presets
from lstm97.paper.tables import SPECS
from lstm97.report import build as build_module
from lstm97.report import plots
from lstm97.report.build import build
from lstm97.report.reproduction import match
from lstm97.results import Store, migrate
from lstm97.results import store as store_module
from lstm97.results.schema import TRIAL_COLUMNS, V1_REQUIRED

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    data = path.read_bytes()
    return data[:8] == PNG and len(data) > 2000


@pytest.mark.parametrize(
    "task, tp, hp, n_act",
    [
        ("temporal-order", {"marks": 2}, {}, None),  # F, output gates, all biases
        ("temporal-order", {"marks": 3}, {}, None),
        ("reber", {}, {}, None),  # gate biases only
        ("long-lag-distractors", {"q": 5, "p": 5}, {}, None),  # one-hot inputs, no biases
        ("long-lag", {"p": 6}, {}, 1),  # B, no output gate, g1, h = id, grown to its one block
        ("long-lag", {"p": 6}, {"blocks": 2}, 1),  # one of two blocks added so far
        ("two-sequence", {"T": 20}, {"g": "g1", "h": "id", "update": "sequence"}, None),
    ],
)
def test_trace_outputs_equal_predict(task, tp, hp, n_act):
    t = tasks.make(task, **tp)
    m = models.make("lstm", t, **hp)
    state = m.init_state(np.random.default_rng(1))
    state.w[:] = np.random.default_rng(2).normal(0.0, 1.0, state.w.size)  # far from the small initial weights
    if n_act is not None:
        state.extra["n_act"] = n_act
    batch = t.sample(np.random.default_rng(3), 4).take(slice(2, 3))
    before = state.w.copy()
    tr = m.trace(state, batch)
    L = int(batch.lengths[0])
    C, CS = m.hp["blocks"], m.hp["blocks"] * m.hp["block_size"]
    assert {k: v.shape for k, v in tr.items()} == {
        "y_in": (L, C),
        "y_out": (L, C),
        "s_c": (L, CS),
        "y_c": (L, CS),
        "outputs": (L, t.n_out),
    }
    np.testing.assert_allclose(tr["outputs"], m.predict(state, batch)[0, :L], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(state.w, before)  # read-only
    if not m.hp["output_gate"]:
        assert (tr["y_out"] == 1.0).all()
    if n_act is not None and n_act < C:
        assert (tr["s_c"][:, n_act * m.hp["block_size"] :] == 0).all() and (tr["y_in"][:, n_act:] == 0).all()
    with pytest.raises(ValueError, match="one sequence"):
        m.trace(state, t.sample(np.random.default_rng(3), 2))


def record(preset_id, seed, success, sequences, weights=None, **kw):
    p = presets.get(preset_id)
    cfg = api.preset_config(p)
    rec = dict(
        **config_columns(cfg),
        stop_rule="ST3(0.1)",
        seed=seed,
        status="success" if success else "budget",
        success=success,
        sequences=sequences,
        unit="sequences",
        milestones={},
        test_wrong=1,
        test_mse=0.01,
        n_weights=p.paper.weights,
        wall_time=1.0,
        package_version="0",
        message="",
        curve=[(1000 * i, 1.0 / i, min(1.0, 0.1 * i)) for i in range(1, 8)],
    )
    if weights is not None:
        rec["weights"] = weights
    rec.update(kw)
    return rec


def trained_6a_weights():
    t = tasks.make("temporal-order", marks=2)
    m = models.make("lstm", t)
    return m.init_state(np.random.default_rng(0)).w


def test_store_keeps_final_weights(tmp_path):
    w = trained_6a_weights()
    with Store(tmp_path / "s.sqlite") as db:
        assert db.add_trial(record("6a", 0, True, 20_000, weights=w))
        assert db.add_trial(record("6a", 1, True, 25_000))
        df = db.trials()
        assert list(df["has_weights"]) == [True, False] and "weights" not in df.columns
        got = db.weights(int(df["id"][0]))
        assert got.dtype == np.float64 and np.array_equal(got, w)
        assert db.weights(int(df["id"][1])) is None
        with pytest.raises(KeyError):
            db.weights(999)


def test_older_store_gets_the_weights_column(tmp_path, monkeypatch):
    """A store of lstm97 0.1.0 from before final weights were kept (schema 1 without the weights and test_abs
    columns): readable, also from a read-only file, and given the columns when opened for writing."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    cols = ", ".join(f"{n} {k}" for n, k in TRIAL_COLUMNS if n in V1_REQUIRED)
    db.executescript(f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE trials (id INTEGER PRIMARY KEY, {cols}, UNIQUE (config_key, seed));
        CREATE TABLE curves (trial_id INTEGER NOT NULL, sequences INTEGER NOT NULL, mean_error REAL,
                             frac_correct REAL, PRIMARY KEY (trial_id, sequences));
    """)
    old = record("6a", 1, True, 25_000)
    old["config_key"] = migrate.v1_key(
        old["task"], old["task_params"], old["model"], old["model_params"], old["max_sequences"], old["n_test"]
    )
    old.update(
        {k: json.dumps(old[k], sort_keys=True, default=list) for k in ("task_params", "model_params", "milestones")}
    )
    db.execute(
        f"INSERT INTO trials ({', '.join(V1_REQUIRED)}) VALUES ({', '.join('?' * len(V1_REQUIRED))})",
        [old.get(n, "") for n in V1_REQUIRED],
    )
    db.commit()
    db.close()
    real = sqlite3.connect
    with monkeypatch.context() as mp:  # a read-only file: readable, without the new columns' values
        mp.setattr(
            store_module.sqlite3,
            "connect",
            lambda p, *a, **k: (
                real(f"file:{p}?mode=ro", *a, uri=True, **k) if str(p) == str(path) else real(p, *a, **k)
            ),
        )
        with Store(path, create=False) as s:
            assert s.trials()["has_weights"].tolist() == [False] and s.weights(1) is None
    with Store(path) as s:  # writable: the columns are added; the old trial reads NULL (NaN) there
        assert s.add_trial(record("6a", 0, True, 20_000, weights=trained_6a_weights(), test_abs=0.25))
        df = s.trials()
        assert df["has_weights"].tolist() == [False, True]
        assert np.isnan(df["test_abs"][0]) and df["test_abs"][1] == 0.25


@pytest.fixture
def rows_and_curves(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as db:
        db.add_trial(record("6a", 0, True, 20_000, weights=trained_6a_weights()))
        db.add_trial(record("6a", 1, False, 5_000_000))
        db.add_trial(record("2c-1", 0, True, 30_000))
        db.add_trial(record("2c-5", 0, True, 60_000))
        db.add_trial(record("2c-9", 0, True, 250_000))
        return path, match(db.trials()), db.curves()


def test_figures_are_png(rows_and_curves, tmp_path):
    _, rows, curves = rows_and_curves
    t9 = [r for r in rows if r.preset.table == "9"]
    assert is_png(plots.sequences_figure("Table 9", t9, tmp_path / "seq.png"))
    assert is_png(plots.curves_figure("Table 9", t9, curves, tmp_path / "curves.png"))
    assert is_png(plots.lag_figure(rows, tmp_path / "lag.png"))
    assert plots.sequences_figure("Table 7", [r for r in rows if r.preset.table == "7"], tmp_path / "x.png") is None
    t = tasks.make("temporal-order", marks=2)
    m = models.make("lstm", t)
    state = m.init_state(np.random.default_rng(0))
    batch = t.sample(np.random.default_rng(1), 1)
    L = int(batch.lengths[0])
    path = plots.trace_figure(
        m.trace(state, batch),
        batch.inputs[0, :L],
        batch.targets[0, L - 1],
        tmp_path / "trace.png",
        "6a",
        list("EBabcdXY"),
        2,
    )
    assert is_png(path)


def test_report_draws_the_trained_temporal_order_net(rows_and_curves, tmp_path):
    path, _, _ = rows_and_curves
    out = tmp_path / "report"
    written = {p.name for p in build(path, out)}
    assert {"trace_6a.png", "exp2c_lag.png", "sequences_table3.png", "curves_table9.png"} <= written
    assert is_png(out / "figures" / "trace_6a.png")
    assert "figures/trace_6a.png" in (out / "README.md").read_text()


def test_trace_follows_table_9_spec_and_names_a_version_mismatch(tmp_path, monkeypatch):
    """The trace figure is Table 9's (its TableSpec names the presets and the input symbols); a net trained by
    another task version than the installed one says so in the title."""
    fig = next(f for f in SPECS["9"].figures if f.kind == "trace")
    from lstm97.tasks.temporal_order import SYMBOLS

    assert fig.presets == ("6a", "6b") and fig.inputs == SYMBOLS
    others = {k: [f.presets for f in s.figures if f.kind == "trace"] for k, s in SPECS.items() if k != "9"}
    assert {k: v for k, v in others.items() if v} == {
        "1": [("1-5", "1-4", "1-3", "1-2", "1-1")],
        "3": [("2c-1", "2c-2")],
        "7": [("4-1", "4-2", "4-3")],
    }
    path = tmp_path / "s.sqlite"
    with Store(path) as db:
        db.add_trial(
            record(
                "6b",
                0,
                True,
                20_000,
                weights=models.make("lstm", tasks.make("temporal-order", marks=3))
                .init_state(np.random.default_rng(0))
                .w,
                task_version=99,
            )
        )
        rows = match(db.trials())
        seen = {}
        monkeypatch.setattr(
            plots,
            "trace_figure",
            lambda tr, x, y, out, title, names, size: seen.update(out=out, title=title, names=names) or out,
        )
        got, note = build_module._trace(db, rows, tmp_path, fig)
        lines = build_module._figures(SPECS["9"], rows, db.curves(), tmp_path, {("9", 2): (got, note)})
    assert got == tmp_path / "trace_6b.png" and seen["names"] == list("EBabcdXY")
    assert note.startswith("replayed with other code than trained it") and note in seen["title"]
    assert "![cell states and gates](figures/trace_6b.png)\n" in lines and f"_trace_6b.png: {note}._\n" in lines
    assert seen["title"].startswith("6b: trained net (seed 0, success after 20,000 sequences)")
    assert "task 'temporal-order' version 99 trained it" in seen["title"]

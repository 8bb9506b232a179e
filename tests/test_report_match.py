"""Finding a preset's (or an evidence run's) trials from what the store records (lstm97.report.match): no
configuration is resolved with the installed code, non-defaults must be named, budgets compared with the
recorded default, and among equal matches the newest versions, then the most trials, win."""

from __future__ import annotations

import pandas as pd
import pytest
from test_report_tables import config_columns, fake

from lstm97 import api, models, tasks
from lstm97.paper import evidence, presets
from lstm97.report import accounts, build, reproduction
from lstm97.report.match import ANY_BUDGET, has_budget, has_settings, select, stored
from lstm97.results import Store
from lstm97.runners import TrialConfig


def frame(*records) -> pd.DataFrame:
    return pd.DataFrame([{"id": i, **r} for i, r in enumerate(records)])


def by_id(rows):
    return {r.preset.id: r for r in rows}


def test_settings_need_every_named_value_and_no_other_non_default():
    first = pd.Series(config_columns(api.configure("temporal-order", {"marks": 2}, "lstm", {"lr": 0.3})))
    assert has_settings(first, "temporal-order", {"marks": 2}, "lstm", {"lr": 0.3})
    assert has_settings(first, "temporal-order", {"marks": 2, "position_base": 1}, "lstm", {"lr": 0.3, "g": "g2"})
    assert not has_settings(first, "temporal-order", {"marks": 2}, "lstm", {})  # lr=0.3 is not named
    assert not has_settings(first, "temporal-order", {"marks": 3}, "lstm", {"lr": 0.3})
    assert not has_settings(first, "temporal-order", {"marks": 2}, "lstm", {"lr": 0.3, "nonsense": 1})
    assert not has_settings(first, "temporal-order", {"marks": 2}, "rtrl", {"lr": 0.3})
    tuples = pd.Series(config_columns(api.preset_config(presets.get("1-1"))))  # tuples are stored as lists
    assert has_settings(tuples, "reber", {}, "lstm", dict(presets.get("1-1").model_params))
    assert has_budget(first, None) and has_budget(first, 5_000_000) and not has_budget(first, 100_000)


def test_newest_versions_then_most_trials_win():
    cfg = api.preset_config(presets.get("6a"))
    old = {**config_columns(cfg), "config_key": "old", "task_version": 0}
    new = {**config_columns(cfg), "config_key": "new"}
    many = {**config_columns(cfg), "config_key": "many"}
    df = frame(
        {**old, "seed": 0},
        {**old, "seed": 1},
        {**old, "seed": 2},
        {**new, "seed": 0},
        {**many, "seed": 0},
        {**many, "seed": 1},
    )
    best = select(stored(df), "temporal-order", {"marks": 2}, "lstm", {})
    assert [c.key for c in best] == ["many", "new", "old"]
    assert [c.key for c in select(stored(df), "temporal-order", {"marks": 2}, "lstm", {}, 1000)] == []
    assert len(select(stored(df), "temporal-order", {"marks": 2}, "lstm", {}, ANY_BUDGET)) == 3


def test_a_non_default_the_preset_does_not_name_is_not_its_trial(tmp_path):
    with Store(tmp_path / "s.sqlite") as db:
        db.add_trial(
            fake("6a", 0, True, 30_000, cfg=api.configure("temporal-order", {"marks": 2}, "lstm", {"lr": 0.3}))
        )
        db.add_trial(
            fake(
                "6b",
                0,
                True,
                30_000,
                cfg=api.configure("temporal-order", {"marks": 3}, "lstm", {}, max_sequences=123_000),
            )
        )
        rows = by_id(reproduction.match(db.trials()))
    assert rows["6a"].mode == "none"
    assert (rows["6b"].mode, rows["6b"].match, rows["6b"].settings) == ("reduced", "budget", "budget 123,000")


def test_the_report_resolves_nothing(tmp_path, monkeypatch):
    """Tables, notes, summary and regeneration commands come from the store and the paper's data alone."""
    e = evidence.LAGS_2A[0]
    with Store(tmp_path / "s.sqlite") as db:
        db.add_trial(fake("6a", 0, True, 30_000, protocol="a stopping rule as stored"))
        db.add_trial(fake("2a", 0, True, 4_000, quick=True))
        db.add_trial(fake("2a", e.seed, True, 40_000, cfg=api.evidence_config(e)))  # evidence seeds
        df = db.trials()

    def refuse(*args, **kwargs):
        raise AssertionError("the report resolved a configuration")

    for target, name in ((tasks, "make"), (tasks, "get"), (models, "make"), (models, "get"), (TrialConfig, "resolve")):
        monkeypatch.setattr(target, name, refuse)
    rows = reproduction.match(df)
    assert by_id(rows)["6a"].mode == "paper" and by_id(rows)["2a"].settings == "quick: p=20, budget 20,000"
    assert reproduction.table("2", rows).set_index("id").loc["2a", "learning rate"] == "1.0"  # as stored
    assert reproduction.tables(rows) and len(reproduction.summary(rows)) == len(presets.PRESETS)
    assert build._notes("9", rows)[0] == "Stopping rule: a stopping rule as stored."
    cmds = build.regenerate_commands(rows, df, "s.sqlite")
    assert "lstm97 reproduce 6a --trials 1 --store s.sqlite" in cmds
    assert "lstm97 reproduce --all --quick --store s.sqlite" in cmds
    assert e.command("s.sqlite", trials=1) in cmds
    assert any(
        "2a p=4 (paper settings otherwise), budget 300,000: 1/1 succeeded, sequences 40,000." in line
        for line in accounts.section(rows, df, pd.DataFrame(columns=["trial_id", "sequences"]))
    )


@pytest.mark.parametrize("pid", ["2c-4", "4-3", "3a-3"])
def test_quick_settings_with_another_budget_are_reduced_runs_of_that_preset(tmp_path, pid):
    p = presets.get(pid)
    cut = api.preset_config(p, quick=True, max_sequences=7_000)
    with Store(tmp_path / "s.sqlite") as db:
        db.add_trial(fake(pid, 0, False, 0, cfg=cut))
        db.add_trial(fake(pid, 1, False, 0, cfg=cut))
        rows = reproduction.match(db.trials())
    row = by_id(rows)[pid]
    changed = ", ".join(f"{k}={v}" for k, v in p.quick.task_params.items())
    assert (row.mode, row.match, row.settings) == ("reduced", "quick budget", f"{changed}, budget 7,000")
    df = pd.concat([r.trials for r in rows])
    assert (
        f"lstm97 reproduce {pid} --quick --trials 2 --max-sequences 7000 --store s.sqlite"
        in build.regenerate_commands(rows, df, "s.sqlite")
    )

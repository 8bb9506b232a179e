"""Stable configuration identity (lstm97.identity): keys survive new defaulted parameters, versions separate."""

from __future__ import annotations

import dataclasses

import pytest

from lstm97 import api, models, tasks
from lstm97.identity import arguments, canonical, config_key
from lstm97.paper.presets import PRESETS
from lstm97.params import Param
from lstm97.runners import TrialConfig, run_trial


def _preset_keys() -> dict[tuple[str, bool], str]:
    keys = {}
    for p in PRESETS:
        if api.preset_unavailable(p) is not None:
            continue
        keys[(p.id, False)] = api.preset_config(p).key()
        if p.quick is not None:
            keys[(p.id, True)] = api.preset_config(p, quick=True).key()
    return keys


def _with_new_param(monkeypatch, cls, param: Param) -> None:
    monkeypatch.setattr(cls, "spec", dataclasses.replace(cls.spec, params=(*cls.spec.params, param)))


def test_adding_a_defaulted_parameter_keeps_every_preset_key(monkeypatch):
    before = _preset_keys()
    assert len(before) > 60  # every implemented preset, at the paper's and the quick settings
    for name in tasks.names():
        _with_new_param(monkeypatch, tasks.get(name), Param("new_task_option", "bool", False, "test"))
    for name in models.names():
        _with_new_param(monkeypatch, models.get(name), Param("forget_gate", "bool", False, "test"))
    after = _preset_keys()
    assert after == before
    # the new option is really there, and setting it is a different configuration
    cfg = TrialConfig.resolve("adding", {"T": 100}, "lstm", {})
    assert cfg.model_params["forget_gate"] is False and cfg.task_params["new_task_option"] is False
    other = TrialConfig.resolve("adding", {"T": 100}, "lstm", {"forget_gate": True})
    assert other.model_args == {"forget_gate": True} and other.key() != cfg.key()


def test_version_bump_changes_the_key_and_separates_stored_trials(monkeypatch, tmp_path):
    store = tmp_path / "s.sqlite"
    cfg = api.configure("adding", {"T": 20}, "lstm", {}, max_sequences=300)
    jobs = api.plan([(cfg, [0, 1])], store)
    api.execute(jobs, store, workers=1)
    assert api.plan([(cfg, [0, 1])], store)[0].todo == []  # stored: nothing to run
    for cls, field in ((tasks.get("adding"), "task_version"), (models.get("lstm"), "model_version")):
        with monkeypatch.context() as mp:
            mp.setattr(cls, "spec", dataclasses.replace(cls.spec, version=cls.spec.version + 1))
            bumped = api.configure("adding", {"T": 20}, "lstm", {}, max_sequences=300)
            assert getattr(bumped, field) == getattr(cfg, field) + 1
            assert bumped.key() != cfg.key()
            (job,) = api.plan([(bumped, [0, 1])], store)
            assert job.todo == [0, 1]  # the old version's trials no longer count as stored
            df = api.run("adding", {"T": 20}, trials=2, max_sequences=300, store=store, jobs=1)
            assert set(df["config_key"]) == {bumped.key()} and set(df[field]) == {getattr(bumped, field)}
    assert len(api.load(store)) == 6  # 2 of the original, 2 per bumped version


def test_stated_defaults_and_spellings_give_one_key():
    base = TrialConfig.resolve("adding", {}, "lstm", {})
    assert base.task_args == {} and base.model_args == {}
    assert TrialConfig.resolve("adding", {"T": "100"}, "lstm", {"lr": base.model_params["lr"]}).key() == base.key()
    a = TrialConfig.resolve("reber", {}, "lstm", {"out_gate_bias": "-1,-2,-3", "blocks": 3, "block_size": 2})
    b = TrialConfig.resolve("reber", {}, "lstm", {"out_gate_bias": (-1.0, -2.0, -3.0), "blocks": "3", "block_size": 2})
    assert a.key() == b.key()
    assert TrialConfig.resolve("adding", {}, "lstm", {}, max_sequences=10).key() != base.key()


def test_model_defaults_are_the_tasks_paper_defaults():
    cfg = TrialConfig.resolve("long-lag", {"p": 100}, "lstm", {})
    assert cfg.model_args == {}  # the paper's 2a net is the default for this task
    lr = cfg.model_params["lr"]
    other = TrialConfig.resolve("long-lag", {"p": 100}, "lstm", {"lr": lr * 2})
    assert other.model_args == {"lr": lr * 2}


def test_arguments_and_canonical_form():
    declared = (Param("a", "int", 1, ""), Param("b", "floats", (1.0, 2.0), ""), Param("c", "str", "x", ""))
    assert arguments(declared, {"a": 1, "b": (1.0, 2.0), "c": "y", "gone": 3}) == {"c": "y", "gone": 3}
    assert arguments(declared, {"a": 2, "b": (1.0,), "c": "x"}, {"c": "z"}) == {"a": 2, "b": [1.0], "c": "x"}
    assert canonical({"t": (1, 2.0), "n": [()]}) == {"t": [1, 2.0], "n": [[]]}
    key = config_key("t", 1, {"x": [1.0]}, "m", 1, {}, 10, 5)
    assert len(key) == 16 and key == config_key("t", 1, {"x": (1.0,)}, "m", 1, {}, 10, 5)
    assert key != config_key("t", 2, {"x": [1.0]}, "m", 1, {}, 10, 5)


def test_record_keys_are_store_columns():
    from lstm97.results.schema import RECORD_ONLY, TRIAL_COLUMNS

    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100)
    record = run_trial(cfg, 0)
    columns = {name for name, _ in TRIAL_COLUMNS}
    assert set(record) - set(RECORD_ONLY) <= columns, set(record) - columns
    guess = run_trial(
        TrialConfig.resolve(
            "latch",
            {"variant": "II", "targets": "tanh"},
            "guess",
            {"arch": "wz", "hidden": 0, "act": "tanh"},
            max_sequences=5,
        ),
        0,
    )
    assert set(guess) - set(RECORD_ONLY) <= columns


def test_record_carries_identity_and_provenance():
    import lstm97

    cfg = TrialConfig.resolve("long-lag", {"p": 4}, "lstm", {}, max_sequences=200)
    r = run_trial(cfg, 0)
    assert r["config_key"] == cfg.key() and r["task_args"] == {"p": 4} and r["model_args"] == {}
    assert (r["task_source"], r["task_source_version"]) == ("lstm97", lstm97.__version__)
    assert (r["model_source"], r["model_source_version"]) == ("lstm97", lstm97.__version__)
    assert r["default_budget"] == tasks.make("long-lag", p=4).protocol().max_sequences
    assert r["protocol"] == tasks.make("long-lag", p=4).protocol().description
    assert r["state"]["n_act"] >= 0  # the growing net's extra state is recorded


def test_a_worker_with_another_version_refuses(monkeypatch):
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100)
    cls = tasks.get("adding")
    monkeypatch.setattr(cls, "spec", dataclasses.replace(cls.spec, version=cls.spec.version + 1))
    with pytest.raises(RuntimeError, match="version"):
        run_trial(cfg, 0)

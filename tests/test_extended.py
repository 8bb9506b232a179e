"""Extended tables (lstm97.paper.extended, ``lstm97 extend``): the descendants beside a paper row, paired."""

from __future__ import annotations

import pytest
from test_report_tables import fake

from lstm97 import api, models, tasks
from lstm97.errors import UserError
from lstm97.paper import extended
from lstm97.report import ablations
from lstm97.results import Store


@pytest.mark.parametrize("ext", extended.EXTENSIONS, ids=lambda e: e.preset)
def test_every_extended_table_plans_with_paired_seeds(ext, tmp_path):
    ab = api.plan_extended(ext.preset, store=tmp_path / "s.sqlite")
    labels = [v for v, _ in ab.variants]
    assert labels[0] == "baseline" and len(labels) == 1 + len(ext.variants)
    assert len({k for _, k in ab.variants}) == len(labels)  # every model its own configuration
    seeds = {tuple(j.seeds) for j in ab.jobs}
    assert len(seeds) == 1 and len(next(iter(seeds))) >= extended.TRIALS
    base = ab.jobs[0].config
    assert {j.config.max_sequences for j in ab.jobs} == {base.max_sequences}  # the preset's budget for all
    task = tasks.make(base.task, **base.task_params)
    target = models.make(base.model, task, **base.model_params).n_weights
    for job in ab.jobs[1:]:
        cfg = job.config
        assert cfg.task == base.task and cfg.task_params == base.task_params
        if cfg.model == "gru":  # the largest GRU within the LSTM's weights
            h = cfg.model_params["hidden"]
            assert models.make("gru", task, **cfg.model_params).n_weights <= target
            assert models.make("gru", task, **{**cfg.model_params, "hidden": h + 1}).n_weights > target
        elif cfg.model_params["forget_gate"]:
            blocks = cfg.model_params["blocks"]
            v = next(v for v in ext.variants if job.label.startswith(v.label))
            assert tuple(cfg.model_params["forget_gate_bias"]) == (v.forget_bias,) * blocks


def test_exp2_table_cuts_the_budget_and_gives_forget_gates_gate_biases(tmp_path):
    ab = api.plan_extended("2c-1", store=tmp_path / "s.sqlite")
    assert ab.name == "extended 2c-1, budget 500,000"
    assert {j.config.max_sequences for j in ab.jobs} == {500_000}
    for job in ab.jobs[1:]:
        mp = job.config.model_params
        if job.config.model == "lstm" and mp["forget_gate"]:  # 2c's net has no biases; Gers' forget biases need them
            assert mp["bias"] == "gates" and job.label.endswith("+ gate biases")
        elif job.config.model == "lstm":
            assert mp["bias"] == "none" and "gate biases" not in job.label
    quick = api.plan_extended("2c-1", quick=True, store=tmp_path / "s.sqlite")
    assert quick.jobs[0].config.max_sequences < 500_000 and quick.name == "extended 2c-1 quick"  # quick's own


def test_unknown_extended_table_is_one_message(tmp_path):
    assert "Gers et al. 2000: about three times longer" in " ".join(
        v for v, _ in api.plan_extended("6b", store=tmp_path / "s.sqlite").variants
    )
    with pytest.raises(UserError, match="unknown extended table.*Allowed: 1-5"):
        api.plan_extended("2c-9")


def test_report_shows_extended_tables_apart_from_ablations(tmp_path):
    path = tmp_path / "s.sqlite"
    ab = api.plan_extended("4-1", trials=2, store=path)
    api.record_ablation(ab, path)
    with Store(path) as db:
        for job in ab.jobs:
            for seed in job.seeds:
                db.add_trial(fake("4-1", seed, True, 10_000 * (seed + 1), cfg=job.config))
        df, recorded = db.trials(), db.ablations()
    md, _ = ablations.section(df, recorded, None)
    text = "\n".join(md)
    assert "## Extended tables: the LSTM's descendants on the paper's tasks" in text
    assert "## Ablations" not in text
    assert "### extended 4-1" in text and "GRU, Adam 1e-3" in text
    assert "mean / baseline's" in text and "| 1.00 " in text  # every variant here as fast as the baseline
    from lstm97.report.reproduction import match

    assert "Measured options" not in ablations.findings(match(df), df, recorded)


def invoke(*args):
    from click.testing import CliRunner

    from lstm97.cli import main

    return CliRunner().invoke(main, list(args))


def test_cli_lists_the_extended_tables():
    res = invoke("extend", "--list")
    assert res.exit_code == 0 and "4-1" in res.output and "vanilla LSTM" in res.output
    res = invoke("extend")
    assert res.exit_code == 2 and "--list" in res.output

"""lstm97 ablate: a preset and its variants with paired seeds, resumable, recorded in the store, reported."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from lstm97 import api
from lstm97.cli import main
from lstm97.errors import UserError
from lstm97.report.ablations import tables, variant_row
from lstm97.results import Store


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_plan_one_option_at_a_time_and_as_a_grid(tmp_path):
    store = tmp_path / "s.sqlite"
    ab = api.plan_ablation("4-1", {"lr": [0.5, 0.1], "T": [100, 50]}, trials=3, max_sequences=100, store=store)
    labels = [v for v, _ in ab.variants]
    assert labels == ["baseline", "lr=0.5", "lr=0.1", "T=100", "T=50"]
    keys = dict(ab.variants)
    assert keys["lr=0.5"] == keys["baseline"] == keys["T=100"]  # the preset's own values: the same configuration
    assert len(ab.jobs) == 3 and all(job.seeds == [0, 1, 2] for job in ab.jobs)  # paired seeds
    grid = api.plan_ablation("4-1", {"lr": [0.1, 0.2], "init": [0.1, 0.2]}, grid=True, trials=2, store=store)
    assert [v for v, _ in grid.variants][1:] == [
        "lr=0.1 init=0.1",
        "lr=0.1 init=0.2",
        "lr=0.2 init=0.1",
        "lr=0.2 init=0.2",
    ]
    assert "(grid)" in grid.name


def test_mistakes_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="Did you mean 'lr'"):
        api.plan_ablation("4-1", {"lrr": [0.1]}, store=tmp_path / "s.sqlite")
    with pytest.raises(UserError, match="NAME=V1,V2"):
        api.parse_vary(["lr"])
    assert api.parse_vary(["in_gate_bias=-1,-2;-3,-6", "lr=0.1,0.2"]) == {
        "in_gate_bias": ["-1,-2", "-3,-6"],
        "lr": ["0.1", "0.2"],
    }
    res = invoke("ablate", "6a", "--vary", "g=g7", "--store", tmp_path / "s.sqlite")
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_ablate_runs_resumes_and_is_reported(tmp_path):
    store = tmp_path / "s.sqlite"
    args = [
        "ablate",
        "6a",
        "--vary",
        "g=g1,g2",
        "--trials",
        "2",
        "--max-sequences",
        "3000",
        "--jobs",
        "1",
        "--store",
        store,
    ]
    res = invoke(*args)
    assert res.exit_code == 0, res.output
    assert "baseline" in res.output and "g=g1" in res.output and "paired" in res.output
    again = invoke(*args)
    assert again.exit_code == 0 and "0 trials to run" in again.output  # resumed: nothing left to run
    with Store(store) as db:
        recorded = db.ablations()
        assert list(recorded["variant"]) == ["baseline", "g=g1", "g=g2"]
        assert len(db.trials()) == 4  # g=g2 is the preset's own g: no extra trials
    out = tmp_path / "report"
    res = invoke("report", "--store", store, "--out", out)
    assert res.exit_code == 0, res.output
    readme = (out / "README.md").read_text()
    assert "## Ablations" in readme and "### 6a: g, budget 3,000" in readme
    assert (out / "figures" / "ablation_1.png").exists()
    assert "Other stored configurations" not in readme  # the variants belong to the ablation


def test_variant_row_pairs_by_seed():
    def trials(rows):
        return pd.DataFrame(rows, columns=["seed", "success", "sequences"])

    base = trials([(0, True, 100), (1, True, 200), (2, False, 1000), (3, True, 300)])
    var = trials([(0, True, 150), (1, False, 1000), (2, True, 400), (3, True, 330)])
    row = variant_row("x=1", var, base)
    assert row["success"].startswith("3/4")
    assert row["paired: only this / only baseline"] == "+1 / −1"
    assert row["paired: Δ sequences (95 % CI)"].startswith("+40")  # seeds 0 and 3: +50, +30
    assert variant_row("baseline", base, base)["paired: only this / only baseline"] == ""


def test_tables_read_only_the_store():
    df = pd.DataFrame(
        {"config_key": ["a", "a", "b"], "seed": [0, 1, 0], "success": [True, False, True], "sequences": [10, 99, 20]}
    )
    rec = pd.DataFrame(
        {
            "ablation": ["6a: g"] * 2,
            "preset": ["6a"] * 2,
            "variant": ["baseline", "g=g1"],
            "config_key": ["a", "b"],
            "created": ["", ""],
        }
    )
    ((name, preset, table, items),) = tables(df, rec)
    assert (name, preset) == ("6a: g", "6a") and list(table["variant"]) == ["baseline", "g=g1"]


def test_findings_say_which_measured_option_closes_a_gap():
    from test_report_tables import fake

    from lstm97.report.ablations import findings
    from lstm97.report.reproduction import match

    variant = api.configure("adding", {"T": 100}, "lstm", {"lr": 0.2})
    base = [fake("4-1", s, True, 700_000 + s) for s in range(4)]
    better = [fake("4-1", s, True, 80_000 + 1000 * s, cfg=variant) for s in range(4)]
    df = pd.DataFrame(base + better).assign(test_abs=0.0).reset_index(names="id")
    rows = match(df)
    assert next(r for r in rows if r.preset.id == "4-1").stats["verdict"] == "worse than the paper"
    key_base = df["config_key"].iloc[0]
    rec = pd.DataFrame(
        {
            "ablation": ["4-1: lr"] * 2,
            "preset": ["4-1"] * 2,
            "variant": ["baseline", "lr=0.2"],
            "config_key": [key_base, variant.key()],
            "created": ["", ""],
        }
    )
    text = findings(rows, df, rec)
    assert text.startswith("Worse than the paper: 1 row (4-1).")
    assert "lr=0.2 closes the gap of 4-1 (4/4 succeed, mean 81,500 against the paper's 74,000" in text
    assert "No ablation is stored yet" in findings(rows, df, rec.iloc[0:0])
    # slower instead: a significant paired change away from the paper, and the gap nothing closes is named
    slower = [fake("4-1", s, True, 900_000 + 1000 * s, cfg=variant) for s in range(4)]
    df2 = pd.DataFrame(base + slower).assign(test_abs=0.0).reset_index(names="id")
    text = findings(match(df2), df2, rec)
    assert "No measured option closes the gap of 4-1." in text
    assert (
        "Measured changes away from the paper: lr=0.2 on 4-1: +201,498 (" in text
        and "Measured changes toward" not in text
    )
    # fewer successes: a paired change of the success rate (exact test of the discordant seeds)
    base8 = [fake("4-1", s, True, 700_000 + s) for s in range(8)]
    fails = [fake("4-1", s, False, 5_000_000, cfg=variant) for s in range(8)]
    df3 = pd.DataFrame(base8 + fails).assign(test_abs=0.0).reset_index(names="id")
    assert "lr=0.2 on 4-1: 0/8 succeed against the baseline's 8/8 (0 seeds gained, 8 lost, paired p = 0.0078" in (
        findings(match(df3), df3, rec)
    )


def test_paired_rate_p_by_hand():
    from lstm97.report.ablations import paired_rate_p

    assert paired_rate_p(0, 0) == 1.0 and paired_rate_p(3, 3) == 1.0
    assert paired_rate_p(1, 13) == paired_rate_p(13, 1) == 2 * (1 + 14) / 2**14
    assert paired_rate_p(0, 8) == 2 / 2**8 and paired_rate_p(0, 5) == 2 / 2**5  # 0.0625: not below 0.05


def test_regenerate_commands_name_each_recorded_ablation_and_extended_table(tmp_path):
    """The report's regeneration commands include every recorded ablation and extended table with stored
    trials, and each command plans the very configurations and seeds that were recorded."""
    import shlex

    from test_report_tables import fake

    from lstm97.report.ablations import commands

    path = tmp_path / "s.sqlite"
    grid = api.plan_ablation("6a", {"g": ["g1"], "reset": [0.5]}, grid=True, trials=2, max_sequences=9000, store=path)
    single = api.plan_ablation("3a-1", {"reset": [0.5], "error_factor": [2]}, trials=3, store=path)
    ext = api.plan_extended("4-1", trials=2, quick=True, store=path)
    for ab in (grid, single, ext):
        api.record_ablation(ab, path)
    with Store(path) as db:
        for ab in (grid, single):  # the extended table has no trials: no command for it
            for job in ab.jobs:
                for seed in job.seeds:
                    db.add_trial(fake(ab.preset, seed, True, 5_000, cfg=job.config))
        df, recorded = db.trials(), db.ablations()
    cmds = commands(df, recorded, "s.sqlite")
    assert cmds == [
        "lstm97 ablate 6a --vary g=g1 --vary reset=0.5 --grid --trials 2 --max-sequences 9000 --store s.sqlite",
        "lstm97 ablate 3a-1 --vary reset=0.5 --vary error_factor=2 --trials 3 --store s.sqlite",
    ]
    for cmd, ab in zip(cmds, (grid, single), strict=True):  # each command plans what was recorded
        words = shlex.split(cmd)
        vary = {}
        for i, w in enumerate(words):
            if w == "--vary":
                k, v = words[i + 1].split("=")
                vary[k] = v.split(",")  # as the CLI passes them
        opt = {w: words[i + 1] for i, w in enumerate(words) if w in ("--trials", "--max-sequences")}
        again = api.plan_ablation(
            words[2],
            vary,
            grid="--grid" in words,
            trials=int(opt["--trials"]),
            max_sequences=int(opt["--max-sequences"]) if "--max-sequences" in opt else None,
            store=path,
        )
        assert again.name == ab.name and again.variants == ab.variants
        assert all(not j.todo for j in again.jobs)  # nothing left to run: the stored trials are the command's


def test_findings_name_the_descendants_that_agree_with_the_paper(tmp_path):
    from test_report_tables import fake

    from lstm97.paper import extended
    from lstm97.report.ablations import findings
    from lstm97.report.reproduction import match

    path = tmp_path / "s.sqlite"
    ab = api.plan_extended("4-1", trials=4, store=path)
    api.record_ablation(ab, path)
    adam = next(j for j in ab.jobs if j.label == "vanilla LSTM, Adam 1e-3")
    with Store(path) as db:
        for s in range(4):
            db.add_trial(fake("4-1", s, True, 700_000 + s))  # the preset: 9.5x the paper's 74,000
            db.add_trial(fake("4-1", s, True, 80_000 + 1000 * s, cfg=adam.config))
        df, recorded = db.trials(), db.ablations()
    text = findings(match(df), df, recorded)
    assert "Descendants whose trials agree with the paper where the 1997 LSTM's do not (extended tables): " in text
    assert "vanilla LSTM, Adam 1e-3 on 4-1 (4/4 succeed, mean 81,500 against the paper's 74,000; n=4 of 10;" in text
    assert "No recorded ablation" not in text and extended.FORGET_BIAS == 5.0

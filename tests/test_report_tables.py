"""The reproduction report's tables from a small store of fabricated trials: exact numbers, intervals, verdicts,
settings of reduced runs, and the files written by ``lstm97 report``."""

import math

import numpy as np
import pandas as pd
import pytest

from lstm97 import api, models, tasks
from lstm97.paper import presets
from lstm97.paper import results as paper
from lstm97.report import stats
from lstm97.report.build import build, latex
from lstm97.report.reproduction import match, table
from lstm97.results import Store
from lstm97.runners.trial import protocol_text


def config_columns(cfg):
    """The columns of a trial record that describe its configuration ``cfg``, as the runner writes them."""
    task = tasks.make(cfg.task, **cfg.task_params)
    return dict(
        config_key=cfg.key(),
        task=cfg.task,
        task_params=cfg.task_params,
        task_args=cfg.task_args,
        task_version=cfg.task_version,
        model=cfg.model,
        model_params=cfg.model_params,
        model_args=cfg.model_args,
        model_version=cfg.model_version,
        max_sequences=cfg.max_sequences,
        default_budget=int(task.protocol().max_sequences),
        n_test=cfg.n_test,
        protocol=protocol_text(task, models.get(cfg.model)),
    )


def fake(preset_id, seed, success, sequences, wrong=0, quick=False, milestones=None, mse=0.001, cfg=None, **kw):
    """A trial record as the runner writes it, for preset ``preset_id`` (paper or quick settings, or ``cfg``)."""
    p = presets.get(preset_id)
    cfg = api.preset_config(p, quick=quick) if cfg is None else cfg
    rec = dict(
        **config_columns(cfg),
        stop_rule="final",
        seed=seed,
        status="success" if success else "budget",
        success=success,
        sequences=sequences if success else cfg.max_sequences,
        unit="sequences",
        milestones={**(milestones or {}), **({"final": sequences} if success else {})},
        test_wrong=wrong,
        test_mse=mse,
        n_weights=p.paper.weights or 0,
        wall_time=1.0,
        package_version="0",
        message="",
        curve=[(1000, 0.5, 0.2), (2000, 0.1, 0.9)],
    )
    rec.update(kw)
    return rec


def fixture_records():
    return [
        fake("6a", 0, True, 20_000, wrong=0),
        fake("6a", 1, True, 30_000, wrong=1),
        fake("6a", 2, True, 40_000, wrong=2),
        fake("4-1", 0, True, 700_000, wrong=9),
        fake("4-1", 1, False, 0, wrong=30),
        fake("4-3", 0, True, 50_000, quick=True),
        fake("4-3", 1, False, 0, quick=True),
        fake("3a-1", 0, True, 25_000, wrong=1, milestones={"ST1": 20_000}),
        fake("3a-1", 1, True, 35_000, wrong=0, milestones={"ST1": 30_000}),
    ]


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "fixture.sqlite"
    with Store(path) as db:
        for rec in fixture_records():
            assert db.add_trial(rec)
    return path


@pytest.fixture
def rows(store):
    with Store(store, create=False) as db:
        return match(db.trials())


def test_wilson_and_bootstrap():
    assert stats.wilson(7, 10) == pytest.approx((0.396778, 0.892209), abs=1e-6)  # the textbook Wilson interval
    assert stats.wilson(3, 3)[1] == 1.0 and stats.wilson(0, 4)[0] == 0.0
    assert all(math.isnan(x) for x in stats.wilson(0, 0))
    x = [12_000, 15_000, 31_000, 44_000, 90_000]
    lo, hi = stats.bootstrap_mean_ci(x)
    assert lo < np.mean(x) < hi and (lo, hi) == stats.bootstrap_mean_ci(x)  # seeded: the same every time
    assert stats.bootstrap_mean_ci([7.0, 7.0]) == (7.0, 7.0)
    assert all(math.isnan(v) for v in stats.bootstrap_mean_ci([]))


def test_verdict_rule():
    lstm = paper.get("9", "6a")  # mean of 20 trials: rate 100 % implied
    assert lstm.implied_rate == 1.0
    assert stats.verdict(lstm, False, 3, 3, 30_000) == (stats.REPRODUCED, "")
    assert stats.verdict(lstm, False, 3, 3, 70_000)[0] == stats.NOT_REPRODUCED  # 2.2x the paper's mean
    assert stats.verdict(lstm, False, 3, 3, 15_000)[0] == stats.NOT_REPRODUCED  # 0.48x the paper's mean
    assert stats.verdict(lstm, False, 3, 3, 16_000)[0] == stats.REPRODUCED
    assert stats.verdict(lstm, False, 3, 2, 30_000)[0] == stats.NOT_REPRODUCED  # 2/3: Wilson 21-94 % < 100 %
    bptt = paper.get("2", "BPTT p=100")  # 0 %, ">5,000,000": only the rate is compared, two-sided
    assert stats.verdict(bptt, True, 18, 0, math.nan)[0] == stats.REPRODUCED
    assert stats.verdict(bptt, True, 18, 9, 1e6)[0] == stats.NOT_REPRODUCED
    rtrl = paper.get("1", "RTRL 3")  # "some fraction": at least one success, mean within a factor 2
    assert stats.verdict(rtrl, True, 10, 0, math.nan)[0] == stats.NOT_REPRODUCED
    assert stats.verdict(rtrl, True, 10, 2, 100_000)[0] == stats.REPRODUCED
    rate97 = paper.get("1", "1-3")  # LSTM rows: doing better than the paper agrees with it
    assert stats.verdict(rate97, False, 30, 30, 14_000)[0] == stats.REPRODUCED
    assert stats.verdict(rate97, False, 30, 20, 14_000)[0] == stats.NOT_REPRODUCED
    assert stats.verdict(rate97, False, 0, 0, math.nan)[0] == stats.NOT_RUN


def test_table9_exact(rows):
    t = table("9", rows).set_index("id")
    r = t.loc["6a"]
    assert r["task"] == "6a" and r["# weights"] == "156"
    assert r["paper: % success"] == "(100)"
    assert r["ours: success k/n (95 % CI)"] == "3/3 = 100 % (44–100)"
    assert r["paper: success after"] == "31,390"
    assert r["ours: mean (median)"] == "30,000 (30,000)"
    assert r["ours: min–max"] == "20,000–40,000"
    assert r["ours: 95 % CI of mean"] == "20,000–40,000"
    assert r["paper: # wrong (of 2,560)"] == "1" and r["ours: # wrong (of 2,560)"] == "1.0 (max 2)"
    assert (r["settings"], r["verdict"]) == ("paper", stats.REPRODUCED)
    assert t.loc["6b", "verdict"] == stats.NOT_RUN and t.loc["6b", "ours: mean (median)"] == "–"


def test_table7_exact(rows):
    t = table("7", rows).set_index("id")
    r = t.loc["4-1"]
    assert list(t.columns[:3]) == ["T", "minimal lag", "# weights"]
    assert (r["T"], r["minimal lag"], r["# weights"]) == ("100", "50", "93")
    assert r["ours: success k/n (95 % CI)"] == "1/2 = 50 % (9–91)"
    assert r["ours: mean (median)"] == "700,000 (700,000)"
    assert r["ours: # wrong (of 2,560)"] == "19.5 (max 30)"
    assert r["verdict"] == stats.NOT_REPRODUCED
    reason = next(x for x in rows if x.preset.id == "4-1").stats["reason"]
    assert "success 1/2 (95 % CI 9–91 %) vs the paper's 100 %" in reason and "9.5× the paper's" in reason
    q = t.loc["4-3"]  # only quick trials: shown, never judged
    assert q["settings"] == "quick: T=100, budget 100,000" and q["verdict"] == stats.REDUCED
    assert q["T"] == "1,000" and q["ours: success k/n (95 % CI)"] == "1/2 = 50 % (9–91)"
    assert t.loc["4-2", "verdict"] == stats.NOT_RUN


def test_table4_milestones_and_fractions(rows):
    r = table("4", rows).set_index("id").loc["3a-1"]
    assert (r["paper: ST1"], r["ours: ST1 (mean)"]) == ("27,380", "25,000")
    assert (r["paper: stop: ST2"], r["ours: mean (median)"]) == ("39,850", "30,000 (30,000)")
    assert r["paper: ST2: fraction misclassified"] == "0.000195"
    assert r["ours: ST2: fraction misclassified"] == "0.000195"  # (1/2560 + 0) / 2
    assert r["verdict"] == stats.REPRODUCED


def test_raw_table_numbers(rows):
    raw = table("9", rows, raw=True).set_index("id")
    r = raw.loc["6a"]
    assert (r["trials"], r["successes"], r["success rate"]) == (3, 3, 1.0)
    assert (r["mean"], r["median"], r["min"], r["max"]) == (30_000, 30_000, 20_000, 40_000)
    assert r["wilson lo"] == pytest.approx(0.4385029682) and r["paper mean"] == 31_390
    assert r["paper success rate"] == 1.0 and r["verdict"] == stats.REPRODUCED
    assert math.isnan(raw.loc["6b", "mean"])


def test_table1_and_not_implemented_rows(rows):
    t = table("1", rows).set_index("id")
    assert list(t.index[:5]) == ["1-1", "1-2", "1-3", "1-4", "1-5"]
    assert t.loc["1-1", "hidden units"] == "4 blocks, size 1" and t.loc["1-1", "learning rate"] == "0.1"
    assert t.loc["rcc-1", "verdict"] == stats.NOT_IMPLEMENTED and t.loc["rcc-1", "# weights"] == "≈119–198"
    assert t.loc["rtrl-1-3", "paper: % success"] == "some fraction"
    assert t.loc["rtrl-1-3", "paper: success after"] == "≈173,000"
    assert t.loc["elman-1", "paper: success after"] == ">200,000"
    t2 = table("2", rows).set_index("id")
    assert t2.loc["ch-2a", "verdict"] == stats.NOT_IMPLEMENTED
    assert t2.loc["rtrl-2a-p10", "learning rate"] == "1.0–10.0"


def test_latex_escapes():
    tex = latex(pd.DataFrame({"% success": ["3/3 = 100 %"], "a_b": ["x & y"]}), "Table 9. 100 %")
    assert r"\%" in tex and r"a\_b" in tex and r"x \& y" in tex and r"\begin{tabular}" in tex
    tex = latex(pd.DataFrame({"range": ["1.0–10.0"], "weights": ["≈170"]}), "Table 2. §4")
    assert tex.isascii() and "1.0--10.0" in tex and r"$\approx$170" in tex and r"\S{}4" in tex


def test_build_writes_every_table_and_figures(store, tmp_path):
    out = tmp_path / "report"
    written = build(store, out)
    names = {p.relative_to(out).as_posix() for p in written}
    for stem in (
        "table1",
        "table2",
        "table2b",
        "table3",
        "table4",
        "table5",
        "table6",
        "table7",
        "table8",
        "table9",
        "guessing",
    ):
        assert f"{stem}.csv" in names and f"{stem}.tex" in names
    assert {"README.md", "trials.csv", "figures/sequences_table9.png", "figures/curves_table7.png"} <= names
    text = (out / "README.md").read_text()
    assert "## Verdict rule" in text and "| 6a " in text and "30,000 (30,000)" in text
    assert "1 reproduced" not in text and "2 reproduced" in text  # 6a and 3a-1
    assert len(pd.read_csv(out / "trials.csv")) == len(fixture_records())
    assert pd.read_csv(out / "table9.csv").set_index("id").loc["6a", "mean"] == 30_000
    again = tmp_path / "again"
    build(store, again)
    assert (again / "README.md").read_text() == text  # deterministic


def test_configurations_of_presets_are_distinct():
    """Each paper and quick configuration belongs to one preset, so the report can tell them apart."""
    keys = {}
    for p in presets.PRESETS:
        if api.preset_unavailable(p) is None:
            for cfg in (api.preset_config(p), api.preset_config(p, quick=True)):
                assert cfg.key() not in keys, f"{p.id} shares a configuration with {keys.get(cfg.key())}"
                keys[cfg.key()] = p.id


def test_a_quick_run_is_not_claimed_by_another_preset(tmp_path):
    """2c-4's quick settings (q = p = 50) are 2c-1's paper settings with a smaller budget."""
    with Store(tmp_path / "s.sqlite") as db:
        db.add_trial(fake("2c-4", 0, True, 40_000, quick=True))
        db.add_trial(fake("4-1", 0, True, 40_000, cfg=api.preset_config(presets.get("4-1"), max_sequences=1_000_000)))
        by_id = {r.preset.id: r for r in match(db.trials())}
    assert by_id["2c-4"].settings == "quick: q=50, p=50, budget 60,000" and len(by_id["2c-4"].trials) == 1
    assert by_id["2c-1"].mode == "none"
    assert by_id["4-1"].settings == "budget 1,000,000" and by_id["4-1"].mode == "reduced"


def test_table6_av_difference_to_mean(tmp_path):
    """Table 6's 'av. difference to mean' is the mean stored test_abs; trials stored without it are skipped."""
    path = tmp_path / "t6.sqlite"
    with Store(path) as db:
        db.add_trial(fake("3c-1", 0, True, 20_000, wrong=1, test_abs=0.010))
        db.add_trial(fake("3c-1", 1, True, 30_000, wrong=3, test_abs=0.020))
        db.add_trial(fake("3c-1", 2, True, 40_000, wrong=2))  # an older record: no test_abs
        rows = match(db.trials())
    r = table("6", rows).set_index("id").loc["3c-1"]
    assert r["paper: av. difference to mean"] == "0.014" and r["ours: av. difference to mean"] == "0.015"
    assert r["ours: fraction misclassified"] == f"{2 / 2560:.6f}"


def test_summary_lists_every_preset_with_ratio_only_at_paper_settings(rows, store, tmp_path):
    from lstm97.report.reproduction import summary

    t = summary(rows).set_index("id")
    assert len(t) == len(presets.PRESETS)
    assert (t.loc["4-1", "ours: success"], t.loc["4-1", "ours: mean (median)"]) == ("1/2", "700,000 (700,000)")
    assert t.loc["4-1", "ours / paper"] == "9.5×" and t.loc["4-1", "verdict"] == stats.NOT_REPRODUCED
    assert t.loc["4-3", "ours / paper"] == "–" and t.loc["4-3", "settings"].startswith("quick:")
    assert t.loc["4-2", "ours: success"] == "–" and t.loc["guess-latch", "paper: mean"] == "22 guesses"
    build(store, tmp_path / "r", figures=False)
    assert (tmp_path / "r" / "summary.md").read_text().strip() in (tmp_path / "r" / "README.md").read_text()


def test_regenerate_commands_come_from_the_store(rows):
    from lstm97.report.build import regenerate, regenerate_commands

    df = pd.concat([r.trials for r in rows])
    text = "\n".join(regenerate(regenerate_commands(rows, df, "s.sqlite"), "s.sqlite"))
    assert "lstm97 reproduce 6a --trials 3 --store s.sqlite" in text
    assert (
        "lstm97 reproduce 3a-1 4-1 --trials 2 --store s.sqlite" in text
        or "lstm97 reproduce 4-1 3a-1 --trials 2 --store s.sqlite" in text
    )
    assert "lstm97 reproduce --all --quick --store s.sqlite" in text and "seeds" not in text


def test_paper_settings_with_a_cut_budget_come_before_the_quick_run(tmp_path):
    p = presets.get("2b")
    cut = api.preset_config(p, max_sequences=500_000)
    with Store(tmp_path / "s.sqlite") as db:
        db.add_trial(fake("2b", 0, False, 0, quick=True))
        db.add_trial(fake("2b", 1, False, 0, quick=True))
        db.add_trial(fake("2b", 0, False, 0, cfg=cut))
        rows = match(db.trials())
    row = next(r for r in rows if r.preset.id == "2b")
    assert row.mode == "reduced" and row.settings == "budget 500,000" and len(row.trials) == 1
    from lstm97.report.build import regenerate_commands

    cmds = regenerate_commands(rows, db_trials(tmp_path / "s.sqlite"), "s.sqlite")
    assert "lstm97 reproduce 2b --trials 1 --max-sequences 500000 --store s.sqlite" in cmds


def db_trials(path):
    with Store(path, create=False) as db:
        return db.trials()

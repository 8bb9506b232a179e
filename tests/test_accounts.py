"""The accounts of the gaps in the reproduction report (lstm97.report.accounts)."""

import numpy as np
import pandas as pd
from test_report_tables import fake

from lstm97 import models, tasks
from lstm97.report import accounts, presets
from lstm97.report.reproduction import match
from lstm97.results import Store


def test_every_account_belongs_to_a_preset_and_its_evidence_runs():
    ids = {p.id for p in presets.PRESETS}
    assert set(accounts.ACCOUNTS) <= ids
    for acc in accounts.ACCOUNTS.values():
        for e in acc.evidence:
            cfg = e.config()  # resolves to a valid task and model
            assert e.command().startswith(f"lstm97 run {e.task}") and cfg.task == e.task


def test_learned_at_is_the_first_block_at_the_level():
    trials = pd.DataFrame({"id": [1, 2, 3]})
    curves = pd.DataFrame({"trial_id": [1, 1, 1, 2, 2, 3], "sequences": [1000, 2000, 3000, 1000, 2000, 1000],
                           "frac_correct": [0.5, 0.991, 1.0, 0.2, 0.98, 0.99]})
    assert accounts.learned_at(trials, curves) == [2000, 1000]
    assert accounts.learned_at(trials.iloc[:0], curves) == []


def test_section_shows_gap_rows_with_their_cause_and_probe(tmp_path):
    task = tasks.make("adding", T=100)
    w = models.make("lstm", task).init_state(np.random.default_rng(0)).w  # an untrained net: wrong answers
    path = tmp_path / "s.sqlite"
    with Store(path) as db:
        db.add_trial(fake("4-1", 0, True, 700_000, wrong=9, weights=w))
        db.add_trial(fake("4-1", 1, True, 500_000, wrong=5))
        db.add_trial(fake("6a", 0, True, 30_000))  # reproduced: no account shown
        df, curves = db.trials(), db.curves()
        rows = match(df)
        lines = accounts.section(rows, df, curves, db.weights)
    text = "\n".join(lines)
    gaps = accounts.gap_table([r for r in rows if r.preset.id == "4-1"], curves)
    assert gaps.iloc[0].tolist() == ["4-1", "not reproduced", "paper", "74,000", "600,000 (600,000)", "– (0/2)"]
    assert gaps.to_markdown(index=False, disable_numparse=True) in text  # the only row shown
    assert "ST3(0.01) waits for 2,000 consecutive" in text and "| 6a |" not in text
    probe = next(x for x in lines if "Extreme-target probe" in x)
    assert "(1 stored final nets, 2,560 fresh sequences each" in probe
    assert "`2c-3`" not in text  # only rows with stored trials


def test_evidence_lines_say_not_run_or_what_is_stored(tmp_path):
    e = accounts.Evidence("2a p=4", "long-lag", {"p": 4}, max_sequences=300_000)
    df = pd.DataFrame({"config_key": [e.config().key()] * 2, "success": [True, False],
                       "sequences": [1200, 300_000], "max_sequences": [300_000] * 2})
    assert "1/2 succeeded, sequences 1,200." in accounts._evidence_line(e, df)
    assert ": not run. `lstm97 run long-lag -p p=4 --model lstm --max-sequences 300000 --trials 2" in \
        accounts._evidence_line(e, df.iloc[:0])


def test_costly_rows_say_whether_they_ran_at_the_paper_settings(tmp_path):
    with Store(tmp_path / "s.sqlite") as db:
        db.add_trial(fake("3b-3", 0, True, 1_500_000))  # paper settings, one trial
        db.add_trial(fake("2c-5", 0, False, 0, quick=True))  # quick settings only
        df, curves = db.trials(), db.curves()
        lines = accounts.section(match(df), df, curves)
    text = "\n".join(lines)
    assert "* `3b-3`: Run at the paper's settings with fewer trials" in text
    assert "* `2c-5`: Not run at the paper's settings" in text

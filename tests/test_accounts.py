"""The accounts of the gaps in the reproduction report (lstm97.report.accounts) and their evidence runs
(lstm97.paper.evidence)."""

import numpy as np
import pandas as pd
from test_report_tables import config_columns, fake

from lstm97 import api, models, tasks
from lstm97.paper import evidence, presets
from lstm97.report import accounts
from lstm97.report.reproduction import match
from lstm97.results import Store


def test_every_account_belongs_to_a_preset_and_its_evidence_runs():
    ids = {p.id for p in presets.PRESETS}
    assert set(accounts.ACCOUNTS) <= ids
    cited = []
    for acc in accounts.ACCOUNTS.values():
        for e in acc.evidence:
            cfg = api.evidence_config(e)  # resolves to a valid task and model
            assert e.command().startswith(f"lstm97 run {e.task}") and cfg.task == e.task
            assert e in evidence.RUNS
            cited += [e] if e not in cited else []
    assert tuple(cited) == evidence.RUNS  # every evidence run is cited, in the order of RUNS


def test_g2_is_labelled_with_its_range():
    """g2 = 4 f(x) - 2 lies in [-2, 2] (PAPER.md §1.2); the published label said [-1, 1]."""
    for e in (evidence.G2_2A, evidence.G2_2B):
        assert e.model_params == {"g": "g2"} and "g in [-2, 2] (g2;" in e.label
    assert not any("[-1, 1]" in e.label for e in evidence.RUNS)


def test_learned_at_is_the_first_block_at_the_level():
    trials = pd.DataFrame({"id": [1, 2, 3]})
    curves = pd.DataFrame(
        {
            "trial_id": [1, 1, 1, 2, 2, 3],
            "sequences": [1000, 2000, 3000, 1000, 2000, 1000],
            "frac_correct": [0.5, 0.991, 1.0, 0.2, 0.98, 0.99],
        }
    )
    assert accounts.learned_at(trials, curves) == [2000, 1000]
    assert accounts.learned_at(trials.iloc[:0], curves) == []


def test_section_shows_gap_rows_with_their_cause_and_probe(tmp_path):
    task = tasks.make("adding", T=100)
    w = models.make("lstm", task).init_state(np.random.default_rng(0)).w  # an untrained net: wrong answers
    path = tmp_path / "s.sqlite"
    with Store(path) as db:
        db.add_trial(fake("4-1", 0, True, 700_000, wrong=9, weights=w))
        db.add_trial(fake("4-1", 1, True, 500_000, wrong=5))
        db.add_trial(fake("6a", 0, True, 30_000))  # no account for 6a: not shown
        df, curves = db.trials(), db.curves()
        rows = match(df)
        lines = accounts.section(rows, df, curves, db)
    text = "\n".join(lines)
    gaps = accounts.gap_table([r for r in rows if r.preset.id == "4-1"], curves)
    assert gaps.iloc[0].tolist() == ["4-1", "inconclusive", "paper", "74,000", "600,000 (600,000)", "– (0/2)"]
    assert gaps.to_markdown(index=False, disable_numparse=True) in text  # the only row shown
    assert "ST3(0.01) waits for 2,000 consecutive" in text and "| 6a |" not in text
    probe = next(x for x in lines if "Extreme-target probe" in x)
    assert "(1 stored final nets, 2,560 fresh sequences each" in probe
    assert "`2c-3`" not in text  # only rows with stored trials


def test_evidence_lines_say_not_run_or_what_is_stored(tmp_path):
    e = evidence.Evidence("2a p=4", "long-lag", {"p": 4}, max_sequences=300_000)
    cols = config_columns(api.evidence_config(e))
    df = pd.DataFrame(
        [
            {**cols, "seed": 1000, "success": True, "sequences": 1200},
            {**cols, "seed": 1001, "success": False, "sequences": 300_000},
            {**cols, "seed": 0, "success": True, "sequences": 900},  # a row's seed: a copy of its trial, not evidence
        ]
    )
    assert "1/2 succeeded, sequences 1,200." in accounts._evidence_line(e, df)
    assert (
        ": not run. `lstm97 run long-lag -p p=4 --model lstm --max-sequences 300000 --trials 2 --seed 1000"
        in accounts._evidence_line(e, df.iloc[:0])
    )
    other = config_columns(api.configure("long-lag", {"p": 4}, "lstm", {"lr": 0.5}, 300_000))  # a non-default
    budget = config_columns(api.configure("long-lag", {"p": 4}, "lstm", {}, 200_000))
    for cols in (other, budget):  # another hyperparameter, another budget: not this run's trials
        df = pd.DataFrame([{**cols, "success": True, "sequences": 1200}])
        assert ": not run." in accounts._evidence_line(e, df)


def test_costly_rows_say_whether_they_ran_at_the_paper_settings(tmp_path):
    with Store(tmp_path / "s.sqlite") as db:
        db.add_trial(fake("3b-3", 0, True, 1_500_000))  # paper settings, one trial
        db.add_trial(fake("2c-5", 0, False, 0, quick=True))  # quick settings only
        df, curves = db.trials(), db.curves()
        lines = accounts.section(match(df), df, curves)
    text = "\n".join(lines)
    assert "* `3b-3`: At the paper's settings (a trial costs" in text
    assert "* `2c-5`: Not run at the paper's settings" in text


def test_probe_says_when_the_installed_code_is_not_the_one_that_trained_the_net(tmp_path):
    task = tasks.make("adding", T=100)
    w = models.make("lstm", task).init_state(np.random.default_rng(0)).w
    with Store(tmp_path / "s.sqlite") as db:
        db.add_trial(fake("4-1", 0, True, 700_000, wrong=9, weights=w, task_version=99))
        df = db.trials()
        rows = match(df)
        row = next(r for r in rows if r.preset.id == "4-1")
        assert row.mode == "paper"  # the same settings: the version only ranks configurations
        probe = accounts.probe_extremes(row, db)
    assert "(1 stored final nets" in probe
    assert "Note: replayed with other code than trained it: task 'adding' version 99 trained it" in probe


def _row(records, pid):
    df = pd.DataFrame(records)
    df["id"] = range(1, len(df) + 1)
    return next(r for r in match(df) if r.preset.id == pid)


def test_slowest_milestones_say_which_milestone_took_the_time():
    """3a's stop is ST2 after ST1: the facts name when the slow trials reached each, and the wording follows."""
    fact = accounts.slowest_milestones("ST1", "ST2")
    late_st1 = [
        fake("3a-1", s, True, n, milestones={"ST1": n - 3000, "ST2": n})
        for s, n in enumerate((10_000, 500_000, 120_000))
    ]
    text = fact(_row(late_st1, "3a-1"), pd.DataFrame())
    assert "reached ST1 at 497,000, 117,000 sequences and ST2 3,000, 3,000 sequences after it" in text
    assert "the time goes into reaching ST1, not into ST2 after it" in text
    late_st2 = [fake("3a-1", s, True, n, milestones={"ST1": 5000, "ST2": n}) for s, n in enumerate((10_000, 500_000))]
    assert "most of the time lies between ST1 and ST2" in fact(_row(late_st2, "3a-1"), pd.DataFrame())
    fast = [fake("3a-1", s, True, 1000, milestones={"ST1": 900, "ST2": 1000}) for s in range(2)]
    assert "Every successful trial stopped within the paper's mean" in fact(_row(fast, "3a-1"), pd.DataFrame())


def test_test_errors_are_compared_with_the_paper_per_1000_test_sequences():
    """4-1: the paper's nets get 1 of 2,560 test sequences wrong; nets with 5 and 9 wrong are 5-9x that."""
    row = _row([fake("4-1", 0, True, 700_000, wrong=9), fake("4-1", 1, True, 500_000, wrong=5)], "4-1")
    text = accounts.test_errors_against_paper(row, pd.DataFrame())
    assert "The 2 stopped nets get 2.0–3.5 of every 1,000 test sequences wrong (mean 2.7); the paper's nets 0.4" in text
    assert ": 5.0–9.0× the paper's; every stopped net is less accurate than the paper's mean" in text
    row = _row([fake("4-1", 0, True, 700_000, wrong=0), fake("4-1", 1, True, 500_000, wrong=5)], "4-1")
    assert "1 of the 2 stopped nets are less accurate" in accounts.test_errors_against_paper(row, pd.DataFrame())


def test_learned_share_and_collapses_come_from_the_curves():
    row = _row([fake("2c-1", 0, True, 10_000), fake("2c-1", 1, True, 20_000)], "2c-1")
    curves = pd.DataFrame(
        {
            "trial_id": [1, 1, 1, 2, 2, 2, 2],
            "sequences": [1000, 2000, 3000, 1000, 2000, 3000, 4000],
            "frac_correct": [0.5, 0.995, 0.99, 0.3, 0.99, 0.6, 0.999],
        }
    )
    text = accounts.learned_share(row, curves)
    assert "came at 10–20 % (median 15 %) of the stopping point in 2 of 2 successful trials" in text
    assert "most of the time comes after the net had learned" in text
    assert "1 of the 2 trials with a 99 % block fell back below 90 % correct after it (lowest blocks: 60 %)" in (
        accounts.collapses(row, curves)
    )
    assert accounts.learned_share(row, curves.iloc[:0]) is None  # no curves stored (e.g. an imported CSV)


def test_failed_trials_say_where_they_ended():
    row = _row([fake("6b", 0, True, 30_000), fake("6b", 1, False, 0, wrong=40)], "6b")
    curves = pd.DataFrame({"trial_id": [2, 2], "sequences": [1000, 2000], "frac_correct": [0.5, 0.62]})
    text = accounts.failed_trials(row, curves)
    assert text == (
        "1 of 2 trials did not succeed within 5,000,000 sequences; its learning curve ended at 62 % correct "
        "training sequences; it gets 40 of 2,560 test sequences wrong."
    )


def test_guessing_gets_its_per_guess_probability_against_the_papers_count():
    """Guesses are geometric: k solutions in G guesses estimate p = k/G; failed trials count their budget."""
    p = presets.get("guess-parity-a1")
    paper = float(p.paper.sequences)
    budget = api.preset_config(p).max_sequences
    recs = [fake("guess-parity-a1", s, True, int(n), unit="guesses") for s, n in enumerate((paper, paper, paper))]
    recs.append(fake("guess-parity-a1", 3, False, 0, unit="guesses"))
    text = accounts.per_guess_probability(_row(recs, "guess-parity-a1"), pd.DataFrame())
    k_over_g = 3 / (3 * paper + budget)
    assert f"Per-guess success probability {k_over_g:.3g} (3 solutions in {3 * paper + budget:,.0f} guesses" in text
    assert "95 % interval" in text and "the paper's mean of" in text
    none = [fake("guess-parity-a1", s, False, 0, unit="guesses") for s in range(2)]
    assert "No trial found a solution in" in accounts.per_guess_probability(_row(none, "guess-parity-a1"), None)


def test_baselines_are_shown_whatever_their_verdict(tmp_path):
    """Baseline rows have accounts with evidence runs (timing reading, learning rates), shown even when the
    row agrees with the paper."""
    with Store(tmp_path / "s.sqlite") as db:
        for s in range(3):
            db.add_trial(fake("rtrl-2a-p4-lr1", s, True, 20_000))
            db.add_trial(fake("elman-1", s, False, 0))
        df, curves = db.trials(), db.curves()
        text = "\n".join(accounts.section(match(df), df, curves, db))
    assert "`rtrl-2a-p4-lr1`" in text and "outputs_see=current" in text
    assert "`elman-1`" in text and "Elman net, lr 0.5 (the row: 0.1): not run." in text
    assert "--hp outputs_see=current" in text and "--seed 1000" in text


def test_continual_reber_nets_are_classed_by_their_error_free_test_length():
    """Gers et al. 2000's classes of the nets that are not perfect: mean error-free length of the final test
    streams (stream - test_mse) above 1,000 symbols ("good") or not ("rest")."""
    row = _row(
        [
            fake("cerg-forget", 0, True, 9_000),
            fake("cerg-forget", 1, False, 30_000, wrong=10, mse=100_000 - 40_000),
            fake("cerg-forget", 2, False, 30_000, wrong=10, mse=100_000 - 31),
        ],
        "cerg-forget",
    )
    assert accounts.stream_lengths(row, pd.DataFrame()) == (
        "2 of 3 nets are not perfect within 30,000 training streams; the mean error-free length of their final "
        "test streams runs 31–40,000 symbols (of 100,000): 1 'good' (above 1,000, Gers et al.'s class), 1 'rest'."
    )
    assert accounts.stream_lengths(_row([fake("cerg-forget", 0, True, 9_000)], "cerg-forget"), None) == (
        "The net is perfect."
    )

"""Summaries beside the paper's numbers, from stored trials alone."""

import pandas as pd

from lstm97.paper import results as paper
from lstm97.report.tables import summary


def test_paper_rows_match_configurations():
    row = paper.find("adding", {"T": 1000, "first_pair_value": "zero"}, "lstm")
    assert row.sequences == 853_000 and row.table == "7"
    assert paper.find("adding", {"T": 200}, "lstm") is None
    st = paper.find("two-sequence", {"T": 100, "N": 1, "noise": "signal", "check_every": 1000}, "lstm")
    assert st.extra["ST1"] == 74_950 and st.sequences == 78_430
    assert paper.find("long-lag-distractors", {"q": 1000, "p": 50}, "lstm").sequences == 203_000
    lstm_1_5 = {"blocks": 3, "block_size": 2, "lr": 0.5, "bias": "gates"}
    assert paper.find("reber", {"check_every": 256}, "lstm", lstm_1_5).row == "1-5"
    assert paper.find("reber", {}, "lstm", {**lstm_1_5, "lr": 0.1}).row == "1-2"
    assert paper.find("reber", {}, "lstm", {**lstm_1_5, "lr": 0.3}) is None


def test_summary_columns():
    def trial(seed, success, seqs, wrong, milestones):
        return dict(
            config_key="k",
            task="two-sequence",
            task_params={"T": 100, "N": 3, "noise": "none"},
            model="lstm",
            seed=seed,
            success=success,
            sequences=seqs,
            test_wrong=wrong,
            max_sequences=10**6,
            n_test=2560,
            n_weights=102,
            stop_rule="ST2",
            milestones=milestones,
        )

    df = pd.DataFrame(
        [
            trial(0, True, 30_000, 1, {"ST1": 20_000, "ST2": 30_000}),
            trial(1, True, 50_000, 3, {"ST1": 40_000, "ST2": 50_000}),
            trial(2, False, 10**6, 9, {}),
        ]
    )
    row = summary(df).iloc[0]
    assert row["trials"] == 3 and round(row["% success"], 1) == 66.7
    assert row["mean seq."] == 40_000 and row["median seq."] == 40_000
    assert row["mean seq. to ST1"] == 30_000
    assert row["wrong of 2560 (mean/max)"] == "4.3/9"
    assert row["paper: mean seq."] == 39_850 and "ST1 27,380" in row["paper: other"]

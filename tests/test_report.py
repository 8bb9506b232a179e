"""The run summary (``lstm97 run``, ``lstm97 results``): configurations told apart by their arguments, the
paper's figure only beside a paper row, the task's own test metrics, text that fits a terminal."""

import pandas as pd
from test_report_tables import fake

from lstm97 import api
from lstm97.paper import presets
from lstm97.report.tables import summary, summary_text


def _frame(records) -> pd.DataFrame:
    return pd.DataFrame(records).assign(test_abs=0.01)


def test_summary_of_a_paper_row():
    df = _frame(
        [
            fake("3a-1", 0, True, 30_000, wrong=1, milestones={"ST1": 20_000}),
            fake("3a-1", 1, True, 50_000, wrong=3, milestones={"ST1": 40_000}),
            fake("3a-1", 2, False, 0, wrong=9),
        ]
    )
    row = summary(df).iloc[0]
    assert row["configuration"] == "two-sequence · lstm"  # the paper's settings: no arguments, its budget
    assert row["success"] == "2/3"
    assert row["sequences: mean (median)"] == "40,000 (40,000)"
    assert row["ST1: mean"] == "30,000"
    assert row["test: wrong"] == "4.3 of 2,560 (max 9)"
    assert row["paper"] == "3a-1: 39,850"


def test_overrides_are_shown_and_other_configurations_get_no_paper_row():
    p = presets.get("4-1")
    lr = api.configure("adding", {"T": 100}, "lstm", {"lr": 0.1})
    budget = api.preset_config(p, max_sequences=20_000)
    df = _frame(
        [
            fake("4-1", 0, True, 70_000, wrong=2),
            fake("4-1", 0, True, 90_000, cfg=lr),
            fake("4-1", 0, False, 0, cfg=budget),
        ]
    )
    out = summary(df)
    assert list(out["configuration"]) == ["adding · lstm", "adding · lstm lr=0.1", "adding · lstm · budget 20,000"]
    assert list(out["paper"]) == ["4-1: 74,000, 100 %", "", ""]
    only_other = summary(df.iloc[1:])
    assert "paper" not in only_other.columns  # no empty paper column
    assert not (only_other == "nan").any().any()


def test_task_metrics_and_width():
    df = _frame([fake("5-140", s, True, 400_000 + s, wrong=s, mse=0.02) for s in range(3)])
    out = summary(df, {"multiplication": ("test_wrong", "test_mse")})
    assert out.iloc[0]["test: MSE"] == "0.02"
    assert "test: MSE" not in summary(df).columns
    text = summary_text(df, {"multiplication": ("test_wrong", "test_mse")})
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "nan" not in text


def test_guesses_are_counted_as_guesses():
    df = _frame([fake("guess-latch", 0, True, 17, unit="guesses")])
    assert summary(df).iloc[0]["sequences: mean (median)"] == "17 (17) guesses"


def test_a_verdict_from_one_trial_is_inconclusive():
    from lstm97.report import stats

    ref = presets.get("6a").paper
    assert stats.verdict(ref, 1, [ref.sequences]) == (stats.INCONCLUSIVE, "a single trial")
    assert stats.verdict(ref, 1, []) == (stats.INCONCLUSIVE, "a single trial")  # even a failure: never judged
    assert stats.verdict(ref, 2, [ref.sequences] * 2)[0] == stats.INCONCLUSIVE  # 2 of 20, no interval from 2
    assert stats.verdict(ref, 20, [ref.sequences] * 20)[0] == stats.AGREES


def test_report_lists_configurations_no_row_stands_for():
    from lstm97.report.build import others
    from lstm97.report.reproduction import match

    own = api.configure("adding", {"T": 33}, "lstm", {"lr": 0.2}, max_sequences=1000)
    df = _frame([fake("6a", 0, True, 20_000), fake("6a", 0, False, 0, cfg=own)]).reset_index(names="id")
    lines = others(match(df), df)
    assert lines[0] == "## Other stored configurations\n"
    table = lines[-1]
    assert "adding T=33 · lstm lr=0.2 · budget 1,000" in table and "temporal-order" not in table
    assert "paper" not in table.splitlines()[0]  # no paper column for what is not the paper's
    assert others(match(df.iloc[:1]), df.iloc[:1]) == []

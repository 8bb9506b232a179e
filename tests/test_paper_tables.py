"""The paper layer (lstm97.paper): one declarative specification per paper table, and data only.

The specifications drive every table-specific choice of the report (columns, labels, notes, figures); these
tests pin them to the paper's tables (PAPER.md §4) and check that the report knows every field value used.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from lstm97.paper import presets, results, tables
from lstm97.paper.tables import SPECS, TABLES
from lstm97.report import build, reproduction, stats

#: The descriptor columns of each table (the paper's own columns before its results, PAPER.md §4).
COLUMNS = {
    "1": ["method", "hidden units", "# weights", "learning rate"],
    "2": ["method", "delay p", "learning rate", "# weights"],
    "2b": ["method", "p", "# weights"],
    "CH92": ["method", "lag", "# weights"],
    "3": ["q (time lag − 1)", "p (# distractor symbols)", "q/p", "# weights"],
    "4": ["T", "N", "# weights"],
    "5": ["T", "N", "# weights"],
    "6": ["T", "N", "# weights"],
    "7": ["T", "minimal lag", "# weights"],
    "8": ["T", "minimal lag", "# weights", "n_seq"],
    "9": ["task", "# weights"],
    "RS": ["task", "architecture", "# weights"],
    "G2000-2": ["algorithm", "# weights"],
    "M16": ["task", "T", "# weights"],
}


def test_one_spec_per_table_in_report_order():
    assert (
        list(SPECS)
        == list(TABLES)
        == ["1", "2", "2b", "CH92", "3", "4", "5", "6", "7", "8", "9", "RS", "G2000-2", "M16"]
    )
    assert all(spec.key == key for key, spec in SPECS.items())
    assert {p.table for p in presets.PRESETS} == set(SPECS)
    assert {r.table for r in results.RESULTS} == set(SPECS)
    stems = [*(f"table{k}" for k in ("1", "2", "2b")), "chunker1992"]
    stems += [*(f"table{k}" for k in ("3", "4", "5", "6", "7", "8", "9")), "guessing", "gers2000_table2", "modern"]
    assert [build.file_stem(k) for k in SPECS] == stems
    assert TABLES["9"] == "Table 9. Exp 6, temporal order" and tables.spec("RS").main == "guesses"


@pytest.mark.parametrize("key", list(SPECS))
def test_spec_rows_and_columns(key):
    spec = SPECS[key]
    assert [p.id for p in spec.rows] == [p.id for p in presets.of_table(key)]
    assert [d.label for d in spec.descriptors] == COLUMNS[key]
    rows = reproduction.match(pd.DataFrame(), spec.rows)  # nothing stored: every row "not run"
    shown = reproduction.table(key, rows)
    labels = [*COLUMNS[key], "paper n", "paper: % success", "ours: success k/n (95 % CI)"]
    for stat in spec.before:
        labels += [f"paper: {stat.label}", f"ours: {stat.ours_label or stat.label}"]
    labels += [f"paper: {spec.main}", "ours: mean (median)", "ours: min–max", "ours: 95 % CI of mean"]
    labels.append("ours: restricted mean (KM median)")
    for stat in spec.after:
        labels += [f"paper: {stat.label}", f"ours: {stat.ours_label or stat.label}"]
    shown.columns = [c.format(n_test=2560) if "{" in c else c for c in shown.columns]
    labels = [c.format(n_test=2560) for c in labels]
    assert list(shown.columns[1:]) == [*labels, "budget", "settings", "verdict"]
    assert set(shown["verdict"]) <= {stats.NOT_RUN, stats.NOT_IMPLEMENTED}
    assert list(shown["paper n"]) == [reproduction._int(p.paper.trials) for p in spec.rows]
    raw = reproduction.table(key, rows, raw=True)
    assert list(raw.columns[: 2 + len(COLUMNS[key])]) == ["id", "paper row", *COLUMNS[key]]
    at = list(raw.columns).index("verdict")  # (a row's own paper figures, e.g. "paper min", may come after)
    assert list(raw.columns[at : at + 3]) == ["verdict", "reason", "command"]
    assert {"paper trials", "paper budget", "restricted mean", "km median", "wrong mean (successful)"} <= set(raw)


#: The paper's number of trials per row (PAPER.md §3 and the §4 captions); None where PAPER.md does not say.
TRIALS = {"1": 30, "2": 18, "2b": 18, "3": 20, "4": 10, "5": 10, "6": 10, "7": 10, "8": 10, "CH92": 17, "G2000-2": 100}


def test_trial_counts_and_budgets_are_the_paper_s():
    for r in results.RESULTS:
        lstm_9 = {"6a": 20, "6b": 10}.get(r.row) if r.table == "9" else None
        expected = lstm_9 or (TRIALS.get(r.table) if r.model != "lstm" or r.table != "RS" else None)
        if r.table == "1" and r.model != "lstm" or r.table == "RS":
            expected = None  # Table 1's baselines (copied from other papers) and §5: not stated
        assert r.trials == expected, r
        assert bool(r.trials_from) == (r.trials is not None) and (not r.trials_from or "PAPER.md §" in r.trials_from)
        # PAPER.md gives a budget only for Exp 2 (§3.2-3.4: 5 million), which Table 2's baselines share
        assert r.budget == (5_000_000 if r.table in ("2", "2b", "3") else None), r


def test_paired_statistics_and_labels():
    assert [s.label for s in SPECS["4"].before] == [s.label for s in SPECS["5"].before] == ["ST1"]
    assert [SPECS[k].main for k in SPECS] == ["success after"] * 5 + ["stop: ST2"] * 2 + ["stop"] + [
        "success after"
    ] * 3 + ["guesses", "perfect after (training streams)", "success after"]
    assert [s.label for s in SPECS["6"].after] == ["fraction misclassified", "av. difference to mean"]
    assert [s.label for s in SPECS["8"].after] == ["# wrong (of {n_test:,})", "MSE (test)"]
    for spec in SPECS.values():  # every paper figure a statistic names is the paper's, in that table
        for stat in (*spec.before, *spec.after):
            if stat.paper not in ("wrong", "fraction wrong"):
                assert all(stat.paper in r.extra for r in results.RESULTS if r.table == spec.key), stat


def test_table_specific_notes_and_figures():
    assert [k for k, s in SPECS.items() if s.notes] == ["6", "G2000-2", "M16"]
    assert SPECS["6"].notes[0].startswith("Av. difference to mean: the mean over the tested trials")
    kinds = {k: [f.kind for f in s.figures] for k, s in SPECS.items()}
    assert kinds["3"] == ["sequences", "curves", "lag", "trace"]
    assert {k: v for k, v in kinds.items() if "trace" in v} == {
        "1": ["sequences", "curves", "trace"],
        "3": ["sequences", "curves", "lag", "trace"],
        "7": ["sequences", "curves", "trace"],
        "9": ["sequences", "curves", "trace"],
    }
    assert all(v == ["sequences", "curves"] for k, v in kinds.items() if k not in ("1", "3", "7", "9"))
    lag = SPECS["3"].figures[2]
    assert lag.file == "exp2c_lag.png" and lag.caption == "learning time against lag"
    for key in ("1", "3", "7", "9"):  # a trace draws a net of one of the table's own rows
        trace = SPECS[key].figures[-1]
        assert set(trace.presets) <= {p.id for p in SPECS[key].rows}
        assert trace.missing.startswith(f"_No {'/'.join(trace.presets)} trial")


def test_every_descriptor_kind_is_known_to_the_report():
    rows = reproduction.match(pd.DataFrame())
    for key, spec in SPECS.items():
        for r in rows:
            if r.preset.table == key:
                for d in spec.descriptors:
                    assert isinstance(reproduction._descriptor(d, r), str)
    with pytest.raises(ValueError, match="unknown descriptor kind"):
        reproduction._descriptor(tables.Descriptor("x", "nonsense"), rows[0])


def test_the_paper_layer_imports_no_code_that_resolves_or_runs():
    layers = tuple(f"lstm97.{name}" for name in ("runners", "results", "report", "tasks", "models", "registry"))
    code = (
        "import sys, lstm97.paper.presets, lstm97.paper.tables, lstm97.paper.evidence, lstm97.paper.results\n"
        f"bad = [m for m in sys.modules if m.startswith({layers!r})]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    for p in presets.PRESETS:  # presets are data: none of them can resolve itself any more
        assert not hasattr(p, "config") and not hasattr(p, "unavailable") and not hasattr(p, "stop_rule")

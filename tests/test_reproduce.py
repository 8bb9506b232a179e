"""``lstm97 reproduce`` and ``lstm97 report`` through click's CliRunner: listing, a tiny quick run that resumes,
one-line errors, and the report files."""

import pandas as pd
import pytest
from click.testing import CliRunner

from lstm97 import api
from lstm97.cli import main
from lstm97.paper import presets
from lstm97.results import Store


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_list_shows_every_row_of_tables_1_to_9():
    res = invoke("reproduce", "--list")
    assert res.exit_code == 0, res.output
    lines = {line.split()[0]: line for line in res.output.splitlines() if line.strip()}
    for p in presets.PRESETS:
        assert p.id in lines, p.id
        assert f" {p.table} " in lines[p.id]
    assert not any("not implemented" in line for line in lines.values())  # RCC and the chunker run
    assert " 30 " in lines["1-5"] and " 18 " in lines["2a"] and " 20 " in lines["2c-9"]
    assert "estimated total at the paper's settings" in res.output


def test_list_quick_says_what_is_reduced():
    res = invoke("reproduce", "--list", "--quick", "--table", "7")
    assert res.exit_code == 0, res.output
    assert [line.split()[0] for line in res.output.splitlines()[1:4]] == ["4-1", "4-2", "4-3"]
    assert "T=1000→100" in res.output and "trials 10→2" in res.output and "quick settings (reduced)" in res.output


def test_help_explains_quick():
    res = invoke("reproduce", "--help")
    assert res.exit_code == 0 and "Reduced settings" in res.output and "not a reproduction" in res.output


def test_quick_run_stores_resumes_and_reports(tmp_path):
    store = tmp_path / "s.sqlite"
    args = ["reproduce", "6a", "--quick", "--trials", "1", "--max-sequences", "2000", "--jobs", "1", "--store", store]
    res = invoke(*args)
    assert res.exit_code == 0, res.output
    assert "quick mode: REDUCED settings" in res.output and "trials 20→2" in res.output
    assert "budget override" in res.output and "1 to run (0 stored)" in res.output
    assert "| 6a" in res.output and "reduced settings (no verdict)" in res.output
    with Store(store) as db:
        df = db.trials()
    cfg = api.preset_config(presets.get("6a"), quick=True, max_sequences=2000)
    assert list(df["config_key"]) == [cfg.key()] and list(df["seed"]) == [0]
    assert df["sequences"].iloc[0] == 2000 or df["success"].iloc[0]
    res = invoke(*args)
    assert res.exit_code == 0 and "0 to run (1 stored)" in res.output
    out = tmp_path / "report"
    res = invoke("report", "--store", store, "--out", out)
    assert res.exit_code == 0, res.output
    assert (out / "README.md").exists() and (out / "table9.tex").exists()
    table9 = pd.read_csv(out / "table9.csv").set_index("id")
    assert table9.loc["6a", "trials"] == 1 and table9.loc["6a", "settings"] == "budget 2,000"


def test_two_presets_share_one_worker_pool(tmp_path):
    store = tmp_path / "s.sqlite"
    res = invoke(
        "reproduce", "4-1", "4-2", "--quick", "--trials", "1", "--max-sequences", "300", "--jobs", "2", "--store", store
    )
    assert res.exit_code == 0, res.output
    with Store(store) as db:
        df = db.trials()
    assert sorted(df["task_params"].map(lambda d: d["T"])) == [20, 50]


@pytest.mark.parametrize(
    "args, words",
    [
        (["reproduce", "6x"], ["unknown preset '6x'", "Did you mean"]),
        (["reproduce"], ["name the presets", "--list"]),
        (["reproduce", "--table", "12"], ["unknown table '12'"]),
        (["report", "--store", "/nonexistent/s.sqlite", "--out", "/nonexistent/out"], ["does not exist"]),
    ],
)
def test_mistakes_get_one_line_and_exit_2(args, words):
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    for w in words:
        assert w in res.output

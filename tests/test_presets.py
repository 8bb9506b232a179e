"""Presets: every row of the paper's Tables 1-9 is one, each links to the paper's numbers and resolves to a valid
configuration once its task and model are registered (lstm97.api.preset_config); quick settings stay cheap."""

import dataclasses

import pytest

from lstm97 import api, models, tasks
from lstm97.errors import UserError
from lstm97.paper import presets
from lstm97.paper import results as paper
from lstm97.paper.presets import PRESETS
from lstm97.paper.tables import TABLES
from lstm97.runners.trial import protocol_text

TABLE_ROWS = [
    "1-1",
    "1-2",
    "1-3",
    "1-4",
    "1-5",
    "2a",
    "2b",
    *(f"2c-{i}" for i in range(1, 10)),
    "3a-1",
    "3a-2",
    "3a-3",
    "3b-1",
    "3b-2",
    "3b-3",
    "3c-1",
    "3c-2",
    "4-1",
    "4-2",
    "4-3",
    "5-140",
    "5-13",
    "6a",
    "6b",
]
BASELINES = [
    "rtrl-1-3",
    "rtrl-1-12",
    "elman-1",
    "rcc-1",
    "rtrl-2a-p4-lr1",
    "rtrl-2a-p4-lr4",
    "rtrl-2a-p4-lr10",
    "rtrl-2a-p10",
    "rtrl-2a-p100",
    "bptt-2a-p100",
    "ch-2a",
    "ch-val",
]
GUESSING = ["guess-2seq", "guess-parity-a1", "guess-parity-a2", "guess-latch"]
#: Gers et al. 2000's Table 2 (PAPER.md §11.1), at the paper's 100 nets per row.
CERG = ["cerg-reset", "cerg-standard", "cerg-decay", "cerg-forget", "cerg-forget-decay"]
MODERN = ["am-100", "am-200", "am-400", "am-750", "copy-100", "copy-200"]


def test_every_paper_row_is_a_preset_with_unique_id():
    ids = presets.ids()
    assert len(ids) == len(set(ids))
    assert set(TABLE_ROWS + BASELINES + GUESSING + CERG + MODERN) == set(ids)


def test_every_paper_table_row_has_a_preset():
    linked = {(p.table, p.row) for p in PRESETS}
    for r in paper.RESULTS:
        assert (r.table, r.row) in linked, f"paper row {r.table}/{r.row} has no preset"


@pytest.mark.parametrize("p", PRESETS, ids=lambda p: p.id)
def test_preset_links_to_the_paper_and_its_table(p):
    ref = p.paper
    assert p.table in TABLES
    assert (ref.task, ref.model) == (p.task, p.model)
    assert all(p.task_params.get(k) == v for k, v in ref.params.items())
    assert all(p.model_params.get(k) == v for k, v in ref.model_params.items())
    if p.implemented:
        assert p.trials == (ref.trials or 10)
        assert p.quick is not None and p.quick.trials <= 3 and p.cost > 0 and p.quick_cost > 0
        if p.quick.task_params:  # quick settings shorten lags, never lengthen them
            for k, v in p.quick.task_params.items():
                assert v <= p.task_params[k]
    else:
        assert p.trials == 0 and p.quick is None


def test_paper_trial_counts():
    by_id = {p.id: p for p in PRESETS}
    assert all(by_id[f"1-{i}"].trials == 30 for i in range(1, 6))
    assert by_id["2a"].trials == by_id["2b"].trials == by_id["rtrl-2a-p100"].trials == 18
    assert all(by_id[f"2c-{i}"].trials == 20 for i in range(1, 10)) and by_id["6a"].trials == 20
    assert by_id["4-3"].trials == by_id["6b"].trials == by_id["3c-2"].trials == 10


@pytest.mark.parametrize("p", [p for p in PRESETS if p.implemented], ids=lambda p: p.id)
def test_preset_resolves(p):
    """Once its task and model are registered, a preset resolves at paper and quick settings."""
    if p.task not in tasks.names():
        pytest.skip(f"task {p.task!r} is not registered yet")
    if p.model not in models.names():
        pytest.skip(f"model {p.model!r} is not registered yet")
    assert api.preset_unavailable(p) is None
    full = api.preset_config(p)
    quick = api.preset_config(p, quick=True)
    assert full.task == p.task and full.model == p.model
    assert full.max_sequences == (p.max_sequences or tasks.make(p.task, **p.task_params).protocol().max_sequences)
    assert quick.max_sequences == p.quick.max_sequences and quick.key() != full.key()
    assert api.preset_config(p, max_sequences=123).max_sequences == 123
    assert protocol_text(tasks.make(p.task, **p.task_params), models.get(p.model))  # the stored stopping rule
    ref = p.paper
    if ref.weights is not None and p.model in ("lstm", "rtrl", "rnn-bptt", "elman", "chunker"):
        m = models.make(p.model, tasks.make(p.task, **p.task_params), **p.model_params)
        assert m.n_weights == ref.weights  # Table 10's W and the baselines' (estimated) counts


def test_not_implemented_rows_are_listed_never_run():
    """Every row of the paper runs now; a row marked not implemented (a plugin's, say) is listed, never run."""
    assert all(p.implemented for p in PRESETS)
    p = dataclasses.replace(presets.get("ch-2a"), implemented=False)
    assert "not implemented" in api.preset_unavailable(p)
    with pytest.raises(UserError, match="not implemented"):
        api.preset_config(p)


def test_unavailable_model_is_reported(monkeypatch):
    p = presets.get("6a")
    monkeypatch.setattr(models, "names", lambda: ["guess"])
    assert api.preset_unavailable(p) == "model 'lstm' is not registered"
    with pytest.raises(UserError, match="not registered"):
        api.preset_config(p)


def test_select_and_errors():
    assert [p.id for p in presets.select(tables=["7"])] == ["4-1", "4-2", "4-3"]
    assert [p.id for p in presets.select(["6b", "4-1"], ["9"])] == ["4-1", "6a", "6b"]
    assert len(presets.select(everything=True)) == len(PRESETS)
    assert [p.id for p in presets.of_table("rs")] == GUESSING
    with pytest.raises(UserError, match="Did you mean '6[ab]'"):
        presets.get("6x")
    with pytest.raises(UserError, match="unknown table '12'"):
        presets.of_table("12")


def test_quick_mode_fits_in_ten_minutes_on_two_cores():
    seconds = sum(p.quick_cost * p.quick.trials for p in PRESETS if p.quick)
    assert seconds / 2 < 300  # estimated wall time of 'reproduce --all --quick' (limit 600 s, margin for overhead)
    assert "T=1000→100" in presets.get("4-3").reduced() and "trials 10→2" in presets.get("4-3").reduced()


def test_reduced_shows_the_paper_budget_it_is_given():
    """Presets resolve nothing: the caller passes the task's paper budget (lstm97.api.paper_budget)."""
    p = presets.get("4-3")
    assert "budget paper→100,000" in p.reduced()
    assert "budget 5,000,000→100,000" in p.reduced(5_000_000)
    assert p.reduced(api.paper_budget(p)) == p.reduced(tasks.make("adding", T=1000).protocol().max_sequences)
    g = presets.get("guess-2seq")  # its own budget wins over the task's
    assert "budget 1,000,000→2,000" in g.reduced(123)
    assert dataclasses.replace(presets.get("ch-2a"), quick=None).reduced() == "not run in quick mode"


@pytest.mark.parametrize("p", [p for p in PRESETS if p.implemented], ids=lambda p: p.id)
def test_equivalent_run_command_gives_the_same_configuration(p):
    """'lstm97 run' with the preset's command stores its trials under the preset's configuration."""
    if api.preset_unavailable(p) is not None:
        pytest.skip(api.preset_unavailable(p))
    from lstm97.params import parse_assignments
    from lstm97.runners import TrialConfig

    for quick in (False, True):
        words = p.command(quick).split()
        tp = [words[i + 1] for i, w in enumerate(words) if w == "-p"]
        hp = [words[i + 1] for i, w in enumerate(words) if w == "--hp"]
        budget = int(words[words.index("--max-sequences") + 1]) if "--max-sequences" in words else None
        cfg = TrialConfig.resolve(
            words[2], parse_assignments(tp), words[words.index("--model") + 1], parse_assignments(hp), budget
        )
        assert cfg.key() == api.preset_config(p, quick=quick).key()

"""Output and target ranges: every model declares the range of its outputs (``Model.output_range``), every task
the range its targets must reach (``Task.target_range``), and a model whose outputs cannot reach a task's targets
is one UserError where a configuration is resolved (``TrialConfig.resolve``: ``lstm97 run``, ``reproduce``,
``ablate`` and the Python API), before any training. The plugin-author story: a plugin task whose plain sums lie
in [0, 2] gets that message with the default LSTM, not a silently failing run, and runs with output=linear.
``lstm97 check TASK`` reports the mismatch (a skipped ``ranges`` check for the LSTM it checks a task with when the
task's paper defaults name no model; a failing ``paper-defaults`` check when they name one), and the contract checks
that the declarations hold.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

import lstm97
from lstm97 import api, models, tasks
from lstm97.checks import ContractError, check_model, check_task, model_checks, run_checks
from lstm97.cli import main
from lstm97.errors import UserError
from lstm97.params import Param
from lstm97.runners import TrialConfig
from lstm97.tasks import Protocol, SequenceBatch, Task, TaskSpec
from lstm97.tasks.criteria import st3

BUILTIN_MODELS = ("lstm", "gru", "rnn-bptt", "elman", "rtrl", "guess")


@pytest.fixture
def register(monkeypatch):
    """``register(registry, name, cls)`` for this test only: the registry's entries are restored afterwards."""

    def add(registry, name, cls):
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
        registry.register(name, cls)

    return add


class PlainSum(Task):
    """A plugin author's adding task: the plain sum of the two marked values (in [0, 2]) at the last step."""

    spec = TaskSpec(
        name="plain-sum",
        title="Plain sum of two marked values",
        paper="not in the paper (a test plugin)",
        params=(Param("L", "int", 8, "sequence length", low=4, high=100),),
    )
    tolerance = 0.2

    @property
    def n_in(self) -> int:
        return 2

    @property
    def n_out(self) -> int:
        return 1

    def target_range(self) -> tuple[float, float]:
        return (0.0, 2.0)

    def protocol(self) -> Protocol:
        return Protocol(stop=st3(0.01, window=50), max_sequences=2000, n_test=50, description="ST3(0.01) over 50")

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        L = self.params["L"]
        u = rng.random((n, L + 2))
        rows = np.arange(n)
        first, second = (
            np.floor(u[:, L] * (L // 2)).astype(int),
            L // 2 + np.floor(u[:, L + 1] * (L - L // 2)).astype(int),
        )
        marks = np.zeros((n, L))
        marks[rows, first] = marks[rows, second] = 1.0
        targets = np.zeros((n, L, 1))
        targets[:, -1, 0] = u[rows, first] + u[rows, second]
        mask = np.zeros((n, L), dtype=bool)
        mask[:, -1] = True
        inputs = np.ascontiguousarray(np.stack([u[:, :L], marks], axis=2))
        return SequenceBatch(inputs, targets, mask, np.full(n, L, dtype=np.int64))


class PlainSumWithLstmDefaults(PlainSum):
    spec = TaskSpec(name="plain-sum-lstm", title="Plain sum", paper="-", params=PlainSum.spec.params)
    paper_defaults = {"lstm": {"lr": 0.1}}  # forgets output=linear


class PlainSumLinear(PlainSum):
    spec = TaskSpec(name="plain-sum-linear", title="Plain sum", paper="-", params=PlainSum.spec.params)
    paper_defaults = {"lstm": {"lr": 0.1, "output": "linear"}}


def invoke(*args):
    return CliRunner().invoke(main, list(args))


# -- the declarations -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "model,hp,expected",
    [
        ("lstm", {}, (0.0, 1.0)),
        ("lstm", {"output": "linear"}, (-math.inf, math.inf)),
        ("gru", {}, (0.0, 1.0)),
        ("gru", {"output": "linear"}, (-math.inf, math.inf)),
        ("rnn-bptt", {}, (0.0, 1.0)),
        ("rnn-bptt", {"act": "tanh"}, (-1.0, 1.0)),
        ("elman", {}, (0.0, 1.0)),
        ("rtrl", {"act": "tanh"}, (-1.0, 1.0)),
        ("guess", {}, (0.0, 1.0)),
        ("guess", {"act": "tanh"}, (-1.0, 1.0)),
        ("guess", {"net": "lstm"}, (0.0, 1.0)),
    ],
)
def test_every_builtin_model_declares_its_output_range(model, hp, expected):
    task = tasks.make("adding", T=20)
    assert models.make(model, task, **hp).output_range() == expected


@pytest.mark.parametrize(
    "task,params,expected",
    [
        ("adding", {}, (0.0, 1.0)),
        ("adding-modern", {}, (0.0, 2.0)),
        ("multiplication", {}, (0.0, 1.0)),
        ("two-sequence", {"noise": "target"}, (0.0, 1.0)),  # the noise-free targets 0.2 / 0.8
        ("latch", {}, (-1.0, 1.0)),
        ("latch", {"variant": "I"}, (-0.8, 0.8)),
        ("latch", {"targets": "logistic"}, (0.0, 1.0)),
        ("parity", {}, (0.0, 1.0)),
        ("reber", {}, (0.0, 1.0)),
        ("long-lag", {"p": 4}, (0.0, 1.0)),
        ("temporal-order", {}, (0.0, 1.0)),
    ],
)
def test_every_builtin_task_declares_its_target_range(task, params, expected):
    t = tasks.make(task, **params)
    assert t.target_range() == expected
    batch = t.sample(np.random.default_rng(0), 64)
    ideal = t.ideal_outputs(batch)[batch.mask]
    assert expected[0] <= ideal.min() and ideal.max() <= expected[1]


def test_the_builtin_pairings_of_the_paper_fit():
    """Every preset that can run resolves (its model reaches its task's targets)."""
    from lstm97.paper.presets import PRESETS

    resolved = 0
    for p in PRESETS:
        if api.preset_unavailable(p) is None:
            api.preset_config(p, quick=True)
            resolved += 1
    assert resolved > 10


# -- the check where a configuration is resolved ------------------------------------------------------------------
def test_a_mismatch_is_one_clear_user_error():
    with pytest.raises(UserError) as info:
        TrialConfig.resolve("adding-modern", {}, "lstm", {})
    msg = str(info.value)
    for part in ("task 'adding-modern'", "[0, 2]", "model 'lstm'", "[0, 1]", "--hp output=linear"):
        assert part in msg, msg
    assert "\n" not in msg
    TrialConfig.resolve("adding-modern", {}, "lstm", {"output": "linear"})  # the fix works


@pytest.mark.parametrize(
    "task,params,model,hp,fix",
    [
        ("latch", {}, "rnn-bptt", {}, "--hp act=tanh"),
        ("latch", {}, "gru", {}, "--hp output=linear"),
        ("adding-modern", {}, "rnn-bptt", {"act": "tanh"}, "--model lstm --hp output=linear"),
        ("adding-modern", {}, "guess", {"net": "lstm"}, "--model lstm --hp output=linear"),
    ],
)
def test_the_message_names_a_fix_for_each_model(task, params, model, hp, fix):
    with pytest.raises(UserError, match=f"model '{model}'.*{fix}"):
        api.configure(task, params, model, hp)


def test_run_reproduce_and_the_python_api_refuse_before_training(tmp_path):
    store = tmp_path / "s.sqlite"
    with pytest.raises(UserError, match="output=linear"):
        lstm97.run("adding-modern", {"T": 20}, trials=1, max_sequences=10, store=store)
    assert not store.exists()  # refused before the store is touched
    res = invoke("run", "adding-modern", "-p", "T=20", "--trials", "1", "--store", str(store))
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "task 'adding-modern' has targets in [0, 2], but model 'lstm' gives outputs in [0, 1]" in res.output
    assert not store.exists()


def test_the_contract_trial_runs_every_pair_but_the_ranges_check_reports_it():
    task = tasks.make("adding-modern", T=10)
    outcomes = {o.check.name: o for o in run_checks(model_checks(models.make("lstm", task), task, ranges=True))}
    assert outcomes["trial"].status == "ok" and outcomes["predict"].status == "ok"
    assert outcomes["ranges"].status == "skip"
    assert "lstm97 run refuses this pair" in outcomes["ranges"].message
    assert "--hp output=linear" in outcomes["ranges"].message
    fine = models.make("lstm", task, output="linear")
    assert all(o.status == "ok" for o in run_checks(model_checks(fine, task, ranges=True)))
    assert "ranges" not in [c.name for c in model_checks(fine, task)]  # only where asked (lstm97 check TASK)


# -- the plugin author's story ------------------------------------------------------------------------------------
def test_a_plugin_task_with_plain_sums_gets_the_message_then_runs_with_linear_outputs(register, tmp_path):
    register(tasks.registry, "plain-sum", PlainSum)
    check_task(PlainSum())
    store = str(tmp_path / "s.sqlite")
    args = ("run", "plain-sum", "--trials", "1", "--jobs", "1", "--max-sequences", "200", "--store", store)
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    assert "task 'plain-sum' has targets in [0, 2], but model 'lstm' gives outputs in [0, 1]" in res.output
    assert "Use --hp output=linear" in res.output and "Traceback" not in res.output
    res = invoke(*args, "--hp", "output=linear")
    assert res.exit_code == 0, res.output
    df = lstm97.load(store)
    assert len(df) == 1 and df["model_args"].iloc[0] == {"output": "linear"}


def test_lstm97_check_reports_the_mismatch_of_a_plugin_task(register):
    register(tasks.registry, "plain-sum", PlainSum)
    res = invoke("check", "plain-sum")
    assert res.exit_code == 0, res.output
    assert "skip lstm@plain-sum/ranges: lstm97 run refuses this pair: task 'plain-sum' has targets" in res.output
    assert "ok plain-sum/success-test" in res.output and "ok lstm@plain-sum/trial" in res.output


def test_paper_defaults_that_cannot_reach_the_targets_fail_the_check(register):
    register(tasks.registry, "plain-sum-lstm", PlainSumWithLstmDefaults)
    with pytest.raises(ContractError, match=r"paper_defaults\['lstm'\]: task 'plain-sum-lstm' has targets in \[0, 2\]"):
        check_task(PlainSumWithLstmDefaults())
    register(tasks.registry, "plain-sum-linear", PlainSumLinear)
    check_task(PlainSumLinear())
    res = invoke("check", "plain-sum-linear")
    assert res.exit_code == 0 and " 0 skipped" in res.output, res.output
    cfg = TrialConfig.resolve("plain-sum-linear", {}, "lstm", {}, max_sequences=10)
    assert cfg.model_params["output"] == "linear" and cfg.model_args == {}


# -- the contract checks the declarations ---------------------------------------------------------------------------
class WrongRange(PlainSum):
    def target_range(self):
        return (0.0, 1.0)  # but the sums reach 2


class BadRange(PlainSum):
    def target_range(self):
        return (1.0, 0.0)


def test_the_task_contract_checks_the_declared_target_range():
    with pytest.raises(ContractError, match=r"outside target_range\(\) = \[0, 1\]"):
        check_task(WrongRange())
    with pytest.raises(ContractError, match=r"target_range\(\) must return a tuple \(lo, hi\)"):
        check_task(BadRange())


def test_the_model_contract_checks_the_declared_output_range():
    from lstm97.models.lstm import LSTM

    class Claims(LSTM):
        def output_range(self):
            return (0.0, 1e-3)  # logistic outputs of a fresh net exceed 0.001

    class Nonsense(LSTM):
        def output_range(self):
            return "0..1"

    task = tasks.make("adding", T=20)
    with pytest.raises(ContractError, match=r"outside output_range\(\) = \[0, 0.001\]"):
        check_model(Claims.for_task(task), task, trial=False)
    with pytest.raises(ContractError, match=r"output_range\(\) must return a tuple"):
        check_model(Nonsense.for_task(task), task, trial=False)

"""The modern adding problem (PAPER.md §11.4) against its definition: two input rows of length T (values U[0, 1],
an indicator with exactly two 1s, one in each half), the plain sum at the last step, the do-nothing baseline MSE
0.167; the protocol "train for the budget, then succeed if the test MSE beats the baseline" (FinalTestRule)."""

from __future__ import annotations

import numpy as np
import pytest

from lstm97 import tasks
from lstm97.checks import check_task
from lstm97.errors import UserError
from lstm97.runners import TrialConfig, run_trial
from lstm97.tasks.adding_modern import BASELINE_MSE, AddingModern
from lstm97.tasks.criteria import FinalTestRule


@pytest.mark.parametrize("T", [100, 200, 400, 750, 7, 2])
def test_sequences_follow_the_definition(T):
    task = tasks.make("adding-modern", T=T)
    n = 300
    b = task.sample(np.random.default_rng(T), n)
    assert b.inputs.shape == (n, T, 2) and b.targets.shape == (n, T, 1) and (b.lengths == T).all()
    values, marks = b.inputs[:, :, 0], b.inputs[:, :, 1]
    assert (values >= 0).all() and (values < 1).all()
    assert set(np.unique(marks)) <= {0.0, 1.0} and (marks.sum(axis=1) == 2).all()
    half = T // 2
    assert (marks[:, :half].sum(axis=1) == 1).all() and (marks[:, half:].sum(axis=1) == 1).all()
    assert (b.mask[:, -1]).all() and b.mask.sum() == n  # the one target: the last step
    np.testing.assert_array_equal(b.targets[:, -1, 0], (values * marks).sum(axis=1))  # the plain sum
    assert not b.targets[:, :-1].any()


def test_positions_are_uniform_in_each_half():
    T = 10
    b = tasks.make("adding-modern", T=T).sample(np.random.default_rng(0), 20_000)
    counts = b.inputs[:, :, 1].sum(axis=0)
    np.testing.assert_allclose(counts / 20_000, np.full(T, 1 / 5), atol=0.015)


def test_the_do_nothing_baseline_is_0_167():
    task = tasks.make("adding-modern")
    b = task.sample(np.random.default_rng(1), 40_000)
    assert task.error(b, np.ones_like(b.targets)).mean() == pytest.approx(1 / 6, abs=0.004)
    assert BASELINE_MSE == 0.167


@pytest.mark.parametrize("T", [2, 3, 100])
def test_contract(T):
    check_task(AddingModern(T=T))


def test_parameters_and_protocol():
    with pytest.raises(UserError, match="T"):
        tasks.make("adding-modern", T=1)
    task = tasks.make("adding-modern")
    assert task.params == {"T": 100} and task.target_range() == (0.0, 2.0)
    proto = task.protocol()
    assert isinstance(proto.stop, FinalTestRule) and proto.stop.max_mse == BASELINE_MSE
    assert (proto.max_sequences, proto.n_test, proto.milestones) == (400_000, 10_000, ())
    assert task.model_defaults("lstm") == {}  # no paper defaults: the 1997 paper has no such task


@pytest.mark.kernel
def test_a_trial_trains_the_budget_and_succeeds_when_the_test_beats_the_baseline(monkeypatch):
    cfg = TrialConfig.resolve("adding-modern", {"T": 10}, "lstm", {"output": "linear"}, max_sequences=300, n_test=200)
    rec = run_trial(cfg, 0)
    assert rec["sequences"] == 300 and rec["milestones"] == {}  # never stopped early
    assert rec["success"] == (rec["test_mse"] < BASELINE_MSE)
    assert rec["stop_rule"] == "test MSE < 0.167"
    for threshold, status in ((10.0, "success"), (0.0, "budget")):
        rule = FinalTestRule(threshold, name="test MSE < 0.167")
        real = AddingModern.protocol
        monkeypatch.setattr(AddingModern, "protocol", lambda self, r=rule, p=real: _with_stop(p(self), r))
        again = run_trial(cfg, 0)
        assert again["status"] == status and again["test_mse"] == rec["test_mse"]
        monkeypatch.setattr(AddingModern, "protocol", real)


def _with_stop(proto, rule):
    from dataclasses import replace

    return replace(proto, stop=rule)


def test_final_test_rule_never_holds_while_training():
    rule = FinalTestRule(0.167)
    assert rule.scan(rule.start(), np.zeros(5), np.ones(5, dtype=bool)) == -1
    assert rule.holds(0.1) and not rule.holds(0.167) and not rule.holds(float("nan"))


def test_the_run_header_says_every_trial_runs_its_whole_budget(tmp_path):
    """Its stopping rule is the final test (beats the baseline or not): no trial stops early, unlike Exp 4's."""
    from click.testing import CliRunner

    from lstm97.cli import main

    def header(*args):
        res = CliRunner().invoke(main, ["run", *args, "--trials", "1", "--max-sequences", "200", "--store",
                                        str(tmp_path / "s.sqlite")])  # fmt: skip
        assert res.exit_code == 0, res.output
        return next(line for line in res.output.splitlines() if line.startswith("cost: "))

    assert header("adding-modern", "-p", "T=20", "--hp", "output=linear").endswith("every trial runs its whole budget")
    assert header("adding", "-p", "T=20").endswith("trials that succeed stop earlier")

"""The copy task (PAPER.md §11.4): the generator follows the spec, the baseline is 10 log 8 / (T + 20), the error is
the per-step cross-entropy, correctness is argmax at the 10 recall steps, models without a distribution refuse it
with one message, and a short trial runs through the runner (FinalTestRule against the baseline)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.errors import Incompatible, UserError
from lstm97.runners import TrialConfig
from lstm97.runners.trial import run_trial
from lstm97.tasks.copy import BLANK, DELIMITER


def test_generator_follows_the_spec():
    task = tasks.make("copy", T=7)
    b = task.sample(np.random.default_rng(0), 50)
    L = 7 + 20
    assert b.inputs.shape == (50, L, 10) and b.targets.shape == (50, L, 10) and b.mask.all()
    assert (b.lengths == L).all() and (b.inputs.sum(axis=2) == 1).all() and (b.targets.sum(axis=2) == 1).all()
    x, y = b.inputs.argmax(axis=2), b.targets.argmax(axis=2)
    assert np.array_equal(x, b.info["active"])
    assert (x[:, :10] < 8).all() and (x[:, 10 : 10 + 6] == BLANK).all() and (x[:, 16] == DELIMITER).all()
    assert (x[:, 17:] == BLANK).all()
    assert (y[:, : 7 + 10] == BLANK).all() and np.array_equal(y[:, -10:], x[:, :10])
    assert set(np.unique(x[:, :10])) == set(range(8))  # every symbol a0..a7 occurs


def test_chunk_invariant_sampling():
    task = tasks.make("copy", T=3)
    one = task.sample(np.random.default_rng(5), 6)
    rng = np.random.default_rng(5)
    many = [task.sample(rng, 1) for _ in range(6)]
    assert all(np.array_equal(one.inputs[i], m.inputs[0]) for i, m in enumerate(many))


def test_baseline_error_and_correctness():
    task = tasks.make("copy", T=100)
    assert task.baseline() == pytest.approx(10 * math.log(8) / 120)
    assert task.protocol().stop.max_mse == task.baseline()
    b = task.sample(np.random.default_rng(1), 4)
    memoryless = np.zeros(b.targets.shape)
    memoryless[:, :110, BLANK] = 1.0
    memoryless[:, 110:, :8] = 1.0 / 8
    np.testing.assert_allclose(task.error(b, memoryless), task.baseline(), rtol=1e-12)
    assert not task.correct(b, memoryless).any()  # ties at the recall steps are wrong
    np.testing.assert_allclose(task.error(b, b.targets), 0.0, atol=0)
    assert task.correct(b, b.targets).all()
    off = b.targets.copy()
    off[0, -3] = np.roll(off[0, -3], 1)  # one wrong recall symbol
    assert task.correct(b, off).tolist() == [False, True, True, True]
    nan = b.targets.copy()
    nan[1, -1] = np.nan
    assert not task.correct(b, nan)[1] and np.isnan(task.error(b, nan)[1])


def test_models_without_a_distribution_refuse_it_with_one_message():
    task = tasks.make("copy", T=5)
    with pytest.raises(Incompatible, match=r"probability distribution.*--hp output=softmax"):
        models.make("lstm", task, output="logistic")
    with pytest.raises(Incompatible, match="probability distribution"):
        models.make("rtrl", task)
    with pytest.raises(UserError, match="output=softmax"):
        TrialConfig.resolve("copy", {"T": 5}, "gru", {"output": "linear"})
    assert models.make("lstm", task).hp["output"] == "softmax"  # the paper default
    assert models.make("gru", task).hp["output"] == "softmax"


@pytest.mark.kernel
def test_a_short_trial_is_chunk_invariant_and_judged_against_the_baseline():
    cfg = TrialConfig.resolve("copy", {"T": 3}, "lstm", {"blocks": 4}, max_sequences=40, n_test=20)
    a, b = run_trial(cfg, 0, chunk=7), run_trial(cfg, 0, chunk=40)
    assert a["weights"].tobytes() == b["weights"].tobytes() and a["test_mse"] == b["test_mse"]
    assert a["stop_rule"].startswith("test cross-entropy <")
    assert a["status"] == ("success" if a["test_mse"] < tasks.make("copy", T=3).baseline() else "budget")

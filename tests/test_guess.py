"""Random weight guessing (PAPER.md §5): deterministic per seed, reuses the wrapped net's forward kernel."""

import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.runners import TrialConfig, run_trial


def test_guess_is_deterministic_and_counts_guesses():
    cfg = TrialConfig.resolve("two-sequence", {"T": 20, "N": 3}, "guess", {}, max_sequences=200_000)
    a, b = run_trial(cfg, seed=5), run_trial(cfg, seed=5)
    assert a["status"] == "success" and a["unit"] == "guesses"
    assert (a["sequences"], a["test_wrong"], a["test_mse"]) == (b["sequences"], b["test_wrong"], b["test_mse"])
    assert a["n_test"] == 100 and a["n_weights"] == 52  # A2: 10 hidden x 4 + output (input, 10 units, bias)
    assert run_trial(cfg, seed=6)["sequences"] != a["sequences"]


def test_found_weights_solve_the_training_set():
    task = tasks.make("two-sequence", T=20, N=3)
    model = models.make("guess", task)
    rng = np.random.default_rng(0)
    train, test = task.search_sets(np.random.default_rng(1), np.random.default_rng(2))
    assert len(train) == len(test) == 100
    assert (train.info["label"] == 0).sum() == 50  # half per class
    state, guesses, ok = model.search(task, train, rng, 100_000)
    assert ok and guesses >= 1
    assert task.correct(train, model.predict(state, train)).all()
    assert np.all(np.abs(state.w) <= 100.0) and not state.w[~model.free()].any()


def test_budget_exhausted():
    """A search stopped by its budget one guess before it would succeed is a failure at exactly the budget."""
    params = {"T": 20, "N": 3}
    found = run_trial(TrialConfig.resolve("two-sequence", params, "guess", {}, max_sequences=100_000), seed=1)
    assert found["status"] == "success" and found["sequences"] > 1
    budget = found["sequences"] - 1
    rec = run_trial(TrialConfig.resolve("two-sequence", params, "guess", {}, max_sequences=budget), seed=1)
    assert rec["status"] == "budget" and not rec["success"] and rec["sequences"] == budget
    assert rec["unit"] == "guesses" and 0 <= rec["test_wrong"] <= rec["n_test"]  # the last guess is tested


@pytest.mark.parametrize("net, weights", [("lstm", 102), ("rnn", 52)])
def test_guess_wraps_lstm_and_rnn(net, weights):
    task = tasks.make("two-sequence", T=20, N=3)
    model = models.make("guess", task, net=net)
    assert model.n_weights == weights
    state = model.guess(np.random.default_rng(0))
    assert np.abs(state.w).max() <= 100.0
    batch = task.sample(np.random.default_rng(1), 3)
    assert model.predict(state, batch).shape == batch.targets.shape


def test_guess_does_not_train():
    task = tasks.make("two-sequence", T=20, N=3)
    model = models.make("guess", task)
    with pytest.raises(TypeError, match="does not train"):
        model.train_chunk(model.init_state(np.random.default_rng(0)), task.sample(np.random.default_rng(0), 1))

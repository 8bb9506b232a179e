"""Sequential network construction (grow=plateau, PAPER.md §1.8 remedy 1, Exp 2a/2b)."""

import numpy as np
import pytest

from lstm97 import tasks
from lstm97.models.lstm import LSTM
from lstm97.runners import TrialConfig, run_trial

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel


def test_absent_blocks_neither_act_nor_change():
    task = tasks.make("adding", T=20)
    model = LSTM.for_task(task, grow="plateau")
    state = model.init_state(np.random.default_rng(0))
    assert state.extra["n_act"] == 0
    before = {k: v.copy() for k, v in model.views(state.w).items()}
    batch = task.sample(np.random.default_rng(1), 20)
    res = model.train_chunk(state, batch)
    after = model.views(state.w)
    for name in ("W_in", "W_out", "W_c", "b_in", "b_out", "b_c", "W_k"):
        np.testing.assert_array_equal(after[name], before[name])  # cells output 0: no gradient reaches them
    assert not np.array_equal(after["b_k"], before["b_k"])  # the output bias still learns
    # without blocks the output is the same for every sequence (bias only), up to the bias's own updates
    full = LSTM.for_task(task)
    assert full.init_state(np.random.default_rng(0)).extra["n_act"] == 2
    assert res.status == 0


def test_a_block_is_added_when_the_error_stops_decreasing():
    model = LSTM.for_dims(2, 1, blocks=2, grow="plateau", grow_window=4)
    state = model.init_state(np.random.default_rng(0))
    model.observe(state, np.array([4, 4, 4, 4, 3, 3, 3, 3]))  # decreasing: no block yet
    assert state.extra["n_act"] == 0
    model.observe(state, np.array([3, 3, 3, 3.0]))  # a window not below the previous one: add a block
    assert state.extra["n_act"] == 1
    model.observe(state, np.array([2, 2, 2, 2, 2, 2, 2, 2.0]))  # new reference window, then a plateau
    assert state.extra["n_act"] == 2
    model.observe(state, np.array([9, 9, 9, 9.0]))  # all blocks present: nothing more happens
    assert state.extra["n_act"] == 2


def test_growing_trials_are_chunk_invariant():
    cfg = TrialConfig.resolve(
        "adding", {"T": 20}, "lstm", {"grow": "plateau", "grow_window": 50}, max_sequences=1000, n_test=50
    )
    recs = [run_trial(cfg, seed=4, chunk=c) for c in (7, 64, 1000)]
    for r in recs[1:]:
        assert (r["test_mse"], r["curve"]) == (recs[0]["test_mse"], recs[0]["curve"])

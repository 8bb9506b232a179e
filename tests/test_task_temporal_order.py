"""The temporal-order generator (Exp 6a/6b) against PAPER.md §3.8, on thousands of sequences."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.batches import assert_chunk_invariant

from lstm97.checks import check_task
from lstm97.errors import UserError
from lstm97.models.lstm import LSTM
from lstm97.tasks import SequenceBatch
from lstm97.tasks.criteria import st3
from lstm97.tasks.temporal_order import SYMBOLS, WINDOWS, TemporalOrder

E, B, X, Y = (SYMBOLS.index(s) for s in "EBXY")
N = 4000


def within(count, n, p, k=5.0):
    return abs(count - n * p) < k * np.sqrt(n * p * (1 - p))


@pytest.fixture(scope="module", params=[(2, 1), (3, 1), (2, 0), (3, 0)], ids=lambda p: f"marks{p[0]}-base{p[1]}")
def sampled(request):
    marks, base = request.param
    task = TemporalOrder(marks=marks, position_base=base)
    return task, task.sample(np.random.default_rng(marks + 10 * base), N)


def test_one_hot_lengths_and_mask(sampled):
    task, batch = sampled
    assert batch.inputs.shape == (N, 110, 8) and batch.targets.shape == (N, 110, task.n_out)
    alive = np.arange(110)[None, :] < batch.lengths[:, None]
    assert np.isin(batch.inputs, (0.0, 1.0)).all()
    np.testing.assert_array_equal(batch.inputs.sum(axis=2), alive.astype(float))  # one hot per step, 0 after
    active = batch.info["active"]
    assert active.dtype == np.int64 and active.shape == (N, 110)
    np.testing.assert_array_equal(np.where(alive, batch.inputs.argmax(axis=2), -1), active)
    counts = np.bincount(batch.lengths - 100, minlength=11)
    assert counts.shape == (11,) and all(within(c, N, 1 / 11) for c in counts)  # lengths 100..110, uniform
    assert np.array_equal(batch.mask, np.arange(110)[None, :] == batch.lengths[:, None] - 1)  # end only
    assert not batch.targets[~batch.mask].any()


def test_symbols_and_marker_windows(sampled):
    task, batch = sampled
    marks, base = task.params["marks"], task.params["position_base"]
    active, rows = batch.info["active"], np.arange(N)
    assert (active[:, 0] == E).all() and (active[rows, batch.lengths - 1] == B).all()  # E first, B last
    assert (active == E).sum() == N and (active == B).sum() == N
    xy = np.isin(active, (X, Y))
    assert (xy.sum(axis=1) == marks).all()
    r, idx = np.nonzero(xy)
    where = idx.reshape(N, marks) + base  # positions counted from position_base, in sequence order
    for k, (lo, hi) in enumerate(WINDOWS[marks]):
        counts = np.bincount(where[:, k] - lo, minlength=hi - lo + 1)
        assert counts.shape == (hi - lo + 1,)  # nothing outside the window
        assert all(within(c, N, 1 / (hi - lo + 1)) for c in counts)  # every position occurs, uniformly
        is_y = active[rows, where[:, k] - base] == Y
        assert within(is_y.sum(), N, 0.5)
    # distractors: uniform over a, b, c, d at every other step
    other = (np.arange(110)[None, :] < batch.lengths[:, None]) & ~xy
    other[:, 0] = False
    other[rows, batch.lengths - 1] = False
    d = active[other]
    assert np.isin(d, (2, 3, 4, 5)).all()
    assert all(within(c, d.size, 0.25) for c in np.bincount(d - 2, minlength=4))


def test_class_is_the_xy_string(sampled):
    task, batch = sampled
    marks = task.params["marks"]
    active, label = batch.info["active"], batch.info["label"]
    assert label.dtype == np.int64 and label.shape == (N,)
    strings = ["".join(SYMBOLS[s] for s in row[np.isin(row, (X, Y))]) for row in active]
    order = ["".join(p) for p in itertools.product("XY", repeat=marks)]  # XX, XY, YX, YY (XXX, ..., YYY)
    assert [order.index(s) for s in strings] == label.tolist()
    names = ("Q", "R", "S", "U") if marks == 2 else ("Q", "R", "S", "U", "V", "A", "B", "C")
    assert task.classes == names
    ends = batch.targets[np.arange(N), batch.lengths - 1]
    np.testing.assert_array_equal(ends, np.eye(2**marks)[label])  # one-hot class target
    counts = np.bincount(label, minlength=2**marks)
    assert all(within(c, N, 2.0**-marks) for c in counts)  # balanced classes


def test_position_base_shifts_positions_by_one():
    one = TemporalOrder(position_base=1).sample(np.random.default_rng(6), 500)
    zero = TemporalOrder(position_base=0).sample(np.random.default_rng(6), 500)
    np.testing.assert_array_equal(one.lengths, zero.lengths)
    np.testing.assert_array_equal(one.info["label"], zero.info["label"])
    i1 = np.nonzero(np.isin(one.info["active"], (X, Y)))
    i0 = np.nonzero(np.isin(zero.info["active"], (X, Y)))
    np.testing.assert_array_equal(i1[0], i0[0])
    np.testing.assert_array_equal(i1[1] + 1, i0[1])
    # with position_base=1, t1 in 10-20 is the 10th-20th element (indices 9-19)
    assert i1[1][::2].min() == 9 and i1[1][::2].max() == 19 and i0[1][::2].min() == 10


def test_success_test_and_protocol():
    task = TemporalOrder()
    batch = task.sample(np.random.default_rng(3), 500)
    assert task.tolerance == 0.3
    assert task.correct(batch, np.clip(batch.targets, 0.29, 0.71)).all()
    assert not task.correct(batch, np.clip(batch.targets, 0.30001, 1.0)).any()  # every output must be close
    proto = task.protocol()
    assert proto.stop == st3(0.1) and (proto.max_sequences, proto.n_test) == (5_000_000, 2560)


@pytest.mark.parametrize(
    "marks, weights, blocks, igb, lr",
    [
        (2, 156, 2, (-2.0, -4.0), 0.5),
        (3, 308, 3, (-2.0, -4.0, -6.0), 0.1),
    ],
)
def test_paper_model(marks, weights, blocks, igb, lr):
    task = TemporalOrder(marks=marks)
    hp = task.model_defaults("lstm")
    assert (hp["blocks"], hp["block_size"], hp["in_gate_bias"], hp["lr"]) == (blocks, 2, igb, lr)
    assert hp["out_gate_bias"] is None and hp["bias"] == "all" and hp["init"] == 0.1
    assert LSTM.for_task(task).n_weights == weights  # Table 9
    assert task.model_defaults("other") == {}


@pytest.mark.parametrize("params", [{}, {"marks": 3}, {"position_base": 0}, {"marks": 3, "position_base": 0}])
def test_contract(params):
    check_task(TemporalOrder(**params))


@settings(max_examples=25, deadline=None)
@given(marks=st.sampled_from([2, 3]), base=st.sampled_from([0, 1]), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9))
def test_chunk_invariance(marks, base, seed, n):
    task = TemporalOrder(marks=marks, position_base=base)
    assert_chunk_invariant(task, seed, n)


@pytest.mark.parametrize(
    "bad", [{"marks": 1}, {"marks": 4}, {"marks": "a"}, {"position_base": 2}, {"position_base": -1}, {"T": 100}]
)
def test_bad_parameters(bad):
    with pytest.raises(UserError):
        TemporalOrder(**bad)


def test_sparse_inputs_train_like_dense():
    # info["active"] lets the kernel skip zero inputs; the result must equal the dense computation, also for a
    # sub-batch from take() (which trims inputs but, for now, not the [n, L] info arrays)
    task = TemporalOrder(marks=3)
    batch = task.sample(np.random.default_rng(2), 6).take(slice(1, 4))
    dense = SequenceBatch(batch.inputs, batch.targets, batch.mask, batch.lengths)
    model = LSTM.for_task(task)
    s1, s2 = model.init_state(np.random.default_rng(1)), model.init_state(np.random.default_rng(1))
    np.testing.assert_array_equal(model.train_chunk(s1, batch).outputs, model.train_chunk(s2, dense).outputs)
    np.testing.assert_array_equal(s1.w, s2.w)

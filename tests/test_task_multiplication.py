"""The multiplication-problem generator (Exp 5) against PAPER.md §3.7, on thousands of sequences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.batches import assert_chunk_invariant

from lstm97 import tasks
from lstm97.checks import check_task
from lstm97.errors import UserError
from lstm97.models.lstm import LSTM
from lstm97.tasks.criteria import WindowRule
from lstm97.tasks.multiplication import Multiplication


def _marks(seq):
    return np.nonzero(seq["inputs"][:, 1] == 1.0)[0]


@pytest.mark.parametrize("T", [100, 500])
def test_rules_on_many_sequences(T):
    task = Multiplication(T=T)
    batch = task.sample(np.random.default_rng(0), 3000)
    assert set(np.unique(batch.lengths)) == set(range(T, T + T // 10 + 1))  # the whole length range occurs
    window = T // 2 - 1
    marked, first_marked, second_marked = [], 0, 0
    for i in range(len(batch)):
        seq = batch.sequence(i)
        x, m = seq["inputs"][:, 0], seq["inputs"][:, 1]
        L = len(m)
        marks = _marks(seq)
        assert len(marks) == 2
        assert marks.min() < 10 and marks.max() < window  # one of the first 10, the other of the first T/2 - 1
        assert np.all((x >= 0.0) & (x <= 1.0))  # values uniform in [0, 1]
        assert m[L - 1] == -1.0 and m[0] == (1.0 if 0 in marks else -1.0)
        assert np.all(m[np.setdiff1d(np.arange(1, L - 1), marks)] == 0.0)
        assert seq["mask"].sum() == 1 and seq["mask"][L - 1]  # target at the last step only
        # X1 * X2, unscaled; with first_pair_value=one a first pair marked in step 1 has value 1 = X1
        assert seq["targets"][L - 1, 0] == x[marks[0]] * x[marks[1]]
        # pair 0 marked in step 1 shows value 1.0 (X1 = 1); marked in step 2 it keeps its drawn value (X2)
        first_marked += bool(0 in marks and x[0] == 1.0)
        second_marked += bool(0 in marks and x[0] != 1.0)
        marked.extend(marks)
    counts = np.bincount(marked, minlength=window)
    assert counts[window:].sum() == 0 and counts[:window].min() > 0
    for count, p in ((first_marked, 0.1), (second_marked, 0.9 / (window - 1))):
        assert abs(count - 3000 * p) < 5 * np.sqrt(3000 * p * (1 - p))
    beyond = np.arange(batch.mask.shape[1])[None, :] >= batch.lengths[:, None]
    assert not batch.inputs[beyond].any() and not batch.targets[beyond].any()


def test_values_are_uniform():
    batch = Multiplication(T=100).sample(np.random.default_rng(2), 2000)
    x = batch.inputs[:, 1:99, 0].ravel()  # pairs that are never the value-1 first pair, always within length
    hist = np.histogram(x, bins=10, range=(0.0, 1.0))[0]
    assert np.all(np.abs(hist - x.size / 10) < 5 * np.sqrt(x.size * 0.09))
    assert x.min() >= 0.0 and x.max() < 1.0


def test_marks_and_lengths_equal_the_adding_tasks():
    # same seed and T: the marking logic is the adding task's, only the values differ
    mult = Multiplication(T=100).sample(np.random.default_rng(8), 2000)
    add = tasks.make("adding", T=100).sample(np.random.default_rng(8), 2000)
    np.testing.assert_array_equal(mult.lengths, add.lengths)
    np.testing.assert_array_equal(mult.inputs[:, :, 1], add.inputs[:, :, 1])
    np.testing.assert_array_equal(mult.mask, add.mask)
    untouched = add.inputs[:, :, 1] != 1.0
    alive = np.arange(110)[None, :] < add.lengths[:, None]
    sel = untouched[:, :] & alive
    np.testing.assert_allclose(add.inputs[:, :, 0][sel], 2.0 * mult.inputs[:, :, 0][sel] - 1.0, atol=1e-15)


def test_first_pair_value_options():
    one = Multiplication(T=100).sample(np.random.default_rng(5), 4000)
    keep = Multiplication(T=100, first_pair_value="keep").sample(np.random.default_rng(5), 4000)
    np.testing.assert_array_equal(keep.targets, one.targets)  # the target uses X1 = 1 either way
    np.testing.assert_array_equal(keep.inputs[:, :, 1], one.inputs[:, :, 1])
    seq, step, unit = np.nonzero(keep.inputs != one.inputs)
    assert len(seq) > 100  # about 4000/10 sequences have the first pair marked in step 1
    assert np.all(step == 0) and np.all(unit == 0) and np.all(one.inputs[seq, 0, 1] == 1.0)
    assert np.all(one.inputs[seq, 0, 0] == 1.0)
    second = np.array([_marks(keep.sequence(i))[-1] for i in seq])
    np.testing.assert_array_equal(one.targets[seq, one.lengths[seq] - 1, 0], keep.inputs[seq, second, 0])


def test_success_test_and_stopping_rule():
    task = Multiplication(n_seq=13)
    batch = task.sample(np.random.default_rng(3), 500)
    assert task.tolerance == 0.04
    assert task.correct(batch, batch.targets + 0.0399).all()
    assert not task.correct(batch, batch.targets - 0.0401).any()
    proto = task.protocol()
    assert proto.stop == WindowRule(2000, max_wrong=12, name=proto.stop.name)
    assert (proto.max_sequences, proto.n_test) == (5_000_000, 2560)
    # fewer than 13 of the 2000 most recent wrong: holds with 12 wrong, not with 13
    for wrong, holds_at in ((12, 1999), (13, -1)):
        good = np.ones(2000, dtype=bool)
        good[np.linspace(0, 1999, wrong).astype(int)] = False
        assert proto.stop.scan(proto.stop.start(), np.zeros(2000), good) == holds_at
    assert Multiplication(n_seq=140).protocol().stop.max_wrong == 139


def test_paper_model():
    task = Multiplication()
    hp = task.model_defaults("lstm")
    assert hp["lr"] == 0.1 and hp["in_gate_bias"] is None and hp["out_gate_bias"] is None
    assert hp["bias"] == "all" and hp["init"] == 0.1
    assert LSTM.for_task(task).n_weights == 93  # 8 hidden units x (2 + 8 + 1) + (4 + 1)


@pytest.mark.parametrize("params", [{}, {"n_seq": 140}, {"first_pair_value": "keep"}, {"T": 20}, {"T": 1000}])
def test_contract(params):
    check_task(Multiplication(**params))


@settings(max_examples=25, deadline=None)
@given(
    T=st.integers(20, 400), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9), fpv=st.sampled_from(["one", "keep"])
)
def test_chunk_invariance(T, seed, n, fpv):
    task = Multiplication(T=T, first_pair_value=fpv)
    assert_chunk_invariant(task, seed, n)


@pytest.mark.parametrize(
    "bad", [{"T": 5}, {"T": "x"}, {"n_seq": 0}, {"n_seq": 2001}, {"first_pair_value": "zero"}, {"Q": 1}]
)
def test_bad_parameters(bad):
    with pytest.raises(UserError):
        Multiplication(**bad)

"""The adding-problem generator against PAPER.md §3.6, on thousands of sequences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.batches import assert_chunk_invariant

from lstm97 import tasks
from lstm97.errors import UserError


def _marks(seq):
    return np.nonzero(seq["inputs"][:, 1] == 1.0)[0]


@pytest.mark.parametrize("T", [100, 500])
def test_rules_on_many_sequences(T):
    task = tasks.make("adding", T=T)
    batch = task.sample(np.random.default_rng(0), 3000)
    lo, hi = T, T + T // 10
    assert set(np.unique(batch.lengths)) == set(range(lo, hi + 1))  # the whole length range occurs
    window = T // 2 - 1
    marked = []
    for i in range(len(batch)):
        seq = batch.sequence(i)
        x, m = seq["inputs"][:, 0], seq["inputs"][:, 1]
        L = len(m)
        marks = _marks(seq)
        assert len(marks) == 2
        assert marks.min() < 10  # one of the first 10 pairs
        assert marks.max() < max(window, 10)  # the other among the first T/2 - 1
        assert np.all(np.abs(x) <= 1.0) and np.all(x[L:] == 0)
        assert m[L - 1] == -1.0
        assert m[0] == (1.0 if 0 in marks else -1.0)
        assert np.all(m[np.setdiff1d(np.arange(1, L - 1), marks)] == 0.0)
        assert seq["mask"].sum() == 1 and seq["mask"][L - 1]  # target at the last step only
        # with first_pair_value=zero a pair marked in step 1 at position 0 also has value 0
        assert seq["targets"][L - 1, 0] == pytest.approx(0.5 + x[marks].sum() / 4.0, abs=1e-15)
        marked.extend(marks)
    counts = np.bincount(marked, minlength=window)
    assert counts[window:].sum() == 0 and counts[:window].min() > 0


def test_marker_positions_are_uniform():
    n, window = 48000, 49
    batch = tasks.make("adding", T=100).sample(np.random.default_rng(1), n)
    counts = np.bincount(np.nonzero(batch.inputs[:, :, 1] == 1.0)[1], minlength=window)
    # P(mark at k) = 1/10 + 0.9/48 for k < 10 (step 1 or step 2), 1/48 for 10 <= k < 49 (step 2)
    expect = np.r_[np.full(10, n * (0.1 + 0.9 / 48)), np.full(window - 10, n / 48)]
    assert counts.shape == (window,)
    assert np.all(np.abs(counts - expect) < 5 * np.sqrt(expect))


def test_first_pair_marked_value_options():
    zero = tasks.make("adding", T=100).sample(np.random.default_rng(5), 4000)
    keep = tasks.make("adding", T=100, first_pair_value="keep").sample(np.random.default_rng(5), 4000)
    np.testing.assert_array_equal(keep.targets, zero.targets)  # the target uses X1 = 0 either way
    np.testing.assert_array_equal(keep.inputs[:, :, 1], zero.inputs[:, :, 1])
    seq, step, unit = np.nonzero(keep.inputs != zero.inputs)
    assert len(seq) > 100  # about 4000/10 sequences have the first pair marked in step 1
    assert np.all(step == 0) and np.all(unit == 0) and np.all(zero.inputs[seq, 0, 1] == 1.0)
    assert np.all(zero.inputs[seq, 0, 0] == 0.0)


@settings(max_examples=25, deadline=None)
@given(T=st.integers(20, 400), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9))
def test_chunk_invariance(T, seed, n):
    task = tasks.make("adding", T=T)
    assert_chunk_invariant(task, seed, n)


@pytest.mark.parametrize("bad", [{"T": 5}, {"T": "x"}, {"first_pair_value": "drop"}, {"Q": 1}])
def test_bad_parameters(bad):
    with pytest.raises(UserError):
        tasks.make("adding", **bad)

"""The Exp 2 generators (2a, 2b: ``long-lag``; 2c: ``long-lag-distractors``) against PAPER.md §3.2–§3.4."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.batches import assert_chunk_invariant

from lstm97.checks import check_task
from lstm97.errors import UserError
from lstm97.models.lstm import LSTM
from lstm97.tasks.criteria import EvalRule
from lstm97.tasks.long_lag import LongLag, LongLagDistractors


def _check_one_hot(batch, n_in):
    n, L, _ = batch.inputs.shape
    alive = np.arange(L)[None, :] < batch.lengths[:, None]
    assert batch.n_in == n_in
    np.testing.assert_array_equal(batch.inputs.sum(axis=2), alive.astype(float))
    assert set(np.unique(batch.inputs)) == {0.0, 1.0}
    active = batch.info["active"]
    assert active.dtype == np.int64 and active.shape == (n, L)
    np.testing.assert_array_equal(active, np.where(alive, batch.inputs.argmax(axis=2), -1))


def _full(batch):
    """[n, L + 1] symbol indices: the inputs followed by the final element (2a/2b: last target)."""
    last = batch.targets[:, -1].argmax(axis=1)
    return np.concatenate([batch.info["active"], last[:, None]], axis=1)


# -- Exp 2a / 2b -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [2, 4, 10, 100])
def test_2a_exactly_two_sequences(p):
    n = 1000
    batch = LongLag(p=p, variant="a").sample(np.random.default_rng(p), n)
    _check_one_hot(batch, p + 1)
    assert batch.inputs.shape == (n, p, p + 1) and (batch.lengths == p).all() and batch.mask.all()
    seqs = {tuple(s) for s in _full(batch)}
    x, y, middle = p - 1, p, tuple(range(p - 1))  # x = a_p, y = a_{p+1}; a_i has unit i - 1
    assert seqs == {(x, *middle, x), (y, *middle, y)}
    n_y = int((batch.info["active"][:, 0] == y).sum())
    assert abs(n_y - n / 2) < 5 * np.sqrt(n / 4)


def test_targets_are_the_next_symbol():
    for variant in ("a", "b"):
        batch = LongLag(p=30, variant=variant).sample(np.random.default_rng(2), 500)
        np.testing.assert_array_equal(batch.targets[:, :-1], batch.inputs[:, 1:])
        np.testing.assert_array_equal(batch.targets.sum(axis=2), np.ones((500, 30)))
        np.testing.assert_array_equal(batch.targets[:, -1], batch.inputs[:, 0])  # the last symbol repeats the first


def test_2b_middle_parts_are_random():
    p, n = 100, 1500
    batch = LongLag(p=p, variant="b").sample(np.random.default_rng(7), n)
    _check_one_hot(batch, p + 1)
    full = _full(batch)
    assert full.shape == (n, p + 1)
    assert np.all(full[:, 0] == full[:, -1]) and np.isin(full[:, 0], [p - 1, p]).all()
    middle = full[:, 1:-1]
    assert middle.min() == 0 and middle.max() == p - 2  # only a_1..a_{p-1}, never x or y
    assert len({tuple(m) for m in middle}) == n  # no two middle parts alike
    counts = np.bincount(middle.ravel(), minlength=p - 1)
    expect = middle.size / (p - 1)
    assert np.all(np.abs(counts - expect) < 5 * np.sqrt(expect))
    # repetitions occur, as drawing with replacement implies
    assert np.mean([len(set(m)) < p - 1 for m in middle]) > 0.99
    n_y = int((full[:, 0] == p).sum())
    assert abs(n_y - n / 2) < 5 * np.sqrt(n / 4)
    # the class symbol is independent of the middle part
    assert abs(middle[full[:, 0] == p].mean() - middle[full[:, 0] == p - 1].mean()) < 0.5


def test_2a_2b_correct():
    a = LongLag(p=20, variant="a")
    batch = a.sample(np.random.default_rng(0), 50)
    assert a.correct(batch, batch.targets).all()
    out = batch.targets.copy()
    out[:, 5, 3] += 0.24
    assert a.correct(batch, out).all()
    out[0, 5, 3] += 0.02  # 0.26 at a middle step: 2a needs every step
    assert a.correct(batch, out).tolist() == [False] + [True] * 49
    b = LongLag(p=20, variant="b")
    batch = b.sample(np.random.default_rng(0), 50)
    out = batch.targets + 0.9 * (np.arange(20) < 19)[None, :, None]  # wrong everywhere but at the end
    assert b.correct(batch, out).all()
    out[1, 19, 0] = 0.3
    out[2, 19, batch.targets[2, 19].argmax()] = 0.76
    assert b.correct(batch, out).tolist() == [True, False, True] + [True] * 47
    out[2, 19, batch.targets[2, 19].argmax()] = 0.74
    assert not b.correct(batch, out)[2]
    assert not b.correct(batch, np.full(out.shape, np.nan)).any()
    assert not a.correct(batch, np.full(out.shape, np.nan)).any()


@pytest.mark.parametrize("variant", ["a", "b"])
def test_long_lag_spec_protocol_weights(variant):
    task = LongLag(variant=variant)
    assert task.params == {"p": 100, "variant": variant, "check_every": 100, "success": "frozen"}
    assert task.n_in == 101 and task.n_out == 101 and task.tolerance == 0.25 and task.spec.version == 1
    assert "§3.2" in task.spec.paper and "§3.3" in task.spec.paper and "Table 10" in task.spec.paper
    proto = task.protocol()
    assert isinstance(proto.stop, EvalRule) and proto.stop.fresh == 10_000 and proto.stop.max_wrong == 0
    assert proto.stop.every == 100 and proto.max_sequences == 5_000_000 and proto.n_test == 10_000
    assert LSTM.for_task(task).n_weights == 10504
    assert task.model_defaults("lstm")["grow"] == "plateau"  # sequential construction (§3.2)
    for p in (4, 10, 50):
        assert LSTM.for_task(LongLag(p=p, variant=variant)).n_weights == 2 * (p + 1) + (p + 1) * (p + 2)
    check_task(task)


@pytest.mark.parametrize("bad", [{"p": 1}, {"p": "x"}, {"p": 2.5}, {"variant": "c"}, {"q": 3}])
def test_long_lag_bad_parameters(bad):
    with pytest.raises(UserError):
        LongLag(**bad)


@settings(max_examples=30, deadline=None)
@given(p=st.integers(2, 40), variant=st.sampled_from("ab"), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8))
def test_long_lag_chunk_invariance(p, variant, seed, n):
    task = LongLag(p=p, variant=variant)
    assert_chunk_invariant(task, seed, n)


# -- Exp 2c ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def distractors():
    q, p = 20, 30
    return q, p, LongLagDistractors(q=q, p=p).sample(np.random.default_rng(5), 3000)


@pytest.fixture(scope="module")
def many_distractors():
    """Lengths and distractor counts of 20,000 sequences, drawn in chunks to keep memory small."""
    q, p = 20, 30
    task, rng = LongLagDistractors(q=q, p=p), np.random.default_rng(6)
    lengths, counts, first, cls = [], np.zeros(p, dtype=np.int64), [], []
    for _ in range(20):
        batch = task.sample(rng, 1000)
        active = batch.info["active"]
        middle = active[:, 2:]
        counts += np.bincount(middle[(middle >= 0) & (middle < p)], minlength=p)
        lengths.append(batch.lengths)
        first.append(active[:, 2])
        cls.append(active[:, 1])
    return q, p, np.concatenate(lengths), counts, np.concatenate(first), np.concatenate(cls)


def test_2c_structure(distractors):
    q, p, batch = distractors
    n, L = batch.mask.shape
    _check_one_hot(batch, p + 4)
    e, b, x, y = p, p + 1, p + 2, p + 3
    active, lengths = batch.info["active"], batch.lengths
    rows, last = np.arange(n), lengths - 1
    assert L == lengths.max()  # padded to the longest sequence
    assert (lengths >= q + 3).all() and (lengths == q + 3).any()  # sequence length q+k+4 >= q+4
    assert (active[:, 0] == b).all() and np.isin(active[:, 1], [x, y]).all()
    assert (active[rows, last] == e).all()
    alive = np.arange(L)[None, :] < lengths[:, None]
    inner = alive.copy()
    inner[:, :2] = False
    inner[rows, last] = False
    assert (active[inner] < p).all() and (active[inner] >= 0).all()  # only distractors in between
    assert (active[~alive] == -1).all() and not batch.inputs[~alive].any()
    # the only target: at the last input step (e), the class symbol = element 2, over the outputs (x, y)
    assert batch.n_out == 2
    np.testing.assert_array_equal(batch.mask.sum(axis=1), np.ones(n))
    assert batch.mask[rows, last].all()
    np.testing.assert_array_equal(batch.targets[rows, last].argmax(axis=1), active[:, 1] - x)
    np.testing.assert_array_equal(batch.targets.sum(axis=(1, 2)), np.ones(n))
    n_y = int((active[:, 1] == y).sum())
    assert abs(n_y - n / 2) < 5 * np.sqrt(n / 4)


def test_2c_lengths_are_geometric(many_distractors):
    q, _, lengths, *_ = many_distractors
    n = len(lengths)
    k = lengths - (q + 3)
    # P(k) = (1/10)(9/10)^k: E[k] = 9, sd = sqrt(90). The mean sequence length is q+13 (the paper's sum),
    # not the paper's stated q+14 (PAPER.md §3.4 CONFLICT).
    se = np.sqrt(90 / n)
    assert abs(k.mean() - 9) < 5 * se
    assert abs((lengths + 1).mean() - (q + 13)) < 5 * se
    for j in (0, 1, 5, 20):
        expect = n * 0.1 * 0.9**j
        assert abs((k == j).sum() - expect) < 5 * np.sqrt(expect), j
    assert abs((k >= 30).sum() - n * 0.9**30) < 5 * np.sqrt(n * 0.9**30)


def test_2c_distractors_uniform(many_distractors):
    q, p, lengths, counts, first, cls = many_distractors
    assert counts.sum() == (lengths - 3).sum()
    expect = counts.sum() / p
    assert np.all(np.abs(counts - expect) < 5 * np.sqrt(expect))
    # the distractor right after the class symbol does not depend on the class
    assert abs(first[cls == p + 2].mean() - first[cls == p + 3].mean()) < 0.5
    n_y = int((cls == p + 3).sum())
    assert abs(n_y - len(cls) / 2) < 5 * np.sqrt(len(cls) / 4)


def test_2c_correct_is_abs_02_at_the_end():
    task = LongLagDistractors(q=5, p=8)
    batch = task.sample(np.random.default_rng(0), 40)
    rows, last = np.arange(40), batch.lengths - 1
    assert task.correct(batch, batch.targets).all()
    out = batch.targets + 0.9  # errors away from the target step are ignored
    out[rows, last] = batch.targets[rows, last] * 0.62 + 0.19  # errors of 0.19 on both outputs
    assert task.correct(batch, out).all()
    out[3, last[3], 1 - int(batch.targets[3, last[3]].argmax())] = 0.21
    assert task.correct(batch, out).tolist() == [True] * 3 + [False] + [True] * 36
    assert not task.correct(batch, np.full(out.shape, np.nan)).any()


def test_2c_spec_protocol_weights():
    task = LongLagDistractors()
    assert task.params == {"q": 50, "p": 50, "check_every": 1000, "success": "frozen"}
    assert task.n_in == 54 and task.n_out == 2 and task.tolerance == 0.2 and task.spec.version == 1
    assert "§3.4" in task.spec.paper and "Table 3" in task.spec.paper
    proto = task.protocol()
    assert isinstance(proto.stop, EvalRule) and proto.stop.fresh == 10_000 and proto.stop.max_wrong == 0
    assert proto.max_sequences == 5_000_000 and proto.n_test == 10_000
    for p, w in ((50, 364), (100, 664), (200, 1264), (500, 3064), (1000, 6064)):
        assert LSTM.for_task(LongLagDistractors(q=1000, p=p)).n_weights == w == 6 * p + 64


def test_2c_contract():
    check_task(LongLagDistractors(q=10, p=6))


@pytest.mark.parametrize("bad", [{"q": 0}, {"p": 0}, {"q": "many"}, {"variant": "a"}])
def test_2c_bad_parameters(bad):
    with pytest.raises(UserError):
        LongLagDistractors(**bad)


@settings(max_examples=30, deadline=None)
@given(q=st.integers(1, 30), p=st.integers(1, 20), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8))
def test_2c_chunk_invariance(q, p, seed, n):
    task = LongLagDistractors(q=q, p=p)
    whole = assert_chunk_invariant(task, seed, n)
    assert all(whole.sequence(i)["active"].shape == (whole.lengths[i],) for i in range(n))

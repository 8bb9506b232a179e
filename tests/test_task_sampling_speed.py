"""The vectorised Exp 2 samplers (``long-lag-distractors``: bulk draws walked by a numba kernel; ``long-lag``:
one-hot arrays filled by a kernel) against the Python implementations they replaced, copied here unchanged
as the references: every array (values, dtype, shape, layout) and the Generator's state afterwards are the
same, for many seeds, parameters, chunk splits and bit generators."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm97.tasks.base import SequenceBatch
from lstm97.tasks.long_lag import LongLag, LongLagDistractors

pytestmark = pytest.mark.kernel


# -- the replaced implementations (lstm97/tasks/long_lag.py before the vectorisation), verbatim --------------


def _reference_one_hot(index: np.ndarray, width: int) -> np.ndarray:
    """float64 [*index.shape, width] with a 1 at ``index`` (nothing where index is -1)."""
    out = np.zeros((*index.shape, width))
    where = np.nonzero(index >= 0)
    out[(*where, index[where])] = 1.0
    return out


def _reference_sample(task: LongLagDistractors, rng: np.random.Generator, n: int) -> SequenceBatch:
    """``LongLagDistractors.sample`` as it was: one ``rng.random(2)`` and one ``rng.random(q + k)`` per sequence."""
    p, q = task.params["p"], task.params["q"]
    log_continue = math.log(task.continue_prob)
    classes = np.zeros(n, dtype=np.int64)
    distractors = []
    for i in range(n):
        u = rng.random(2)
        classes[i] = int(u[0] * 2)  # 0: x, 1: y
        k = int(math.log1p(-u[1]) / log_continue)
        distractors.append(np.floor(rng.random(q + k) * p).astype(np.int64))
    lengths = np.array([d.shape[0] + 3 for d in distractors], dtype=np.int64)  # b, class, ..., e
    L = int(lengths.max()) if n else 0
    active = np.full((n, L), -1, dtype=np.int64)
    active[:, 0] = p + 1  # b
    active[:, 1] = p + 2 + classes  # x or y
    for i, d in enumerate(distractors):
        active[i, 2 : 2 + d.shape[0]] = d
    rows, last = np.arange(n), lengths - 1
    active[rows, last] = p  # e
    targets = np.zeros((n, L, 2))
    targets[rows, last, classes] = 1.0
    mask = np.zeros((n, L), dtype=bool)
    mask[rows, last] = True
    return SequenceBatch(_reference_one_hot(active, p + 4), targets, mask, lengths, {"active": active})


def _reference_long_lag_sample(task: LongLag, rng: np.random.Generator, n: int) -> SequenceBatch:
    """``LongLag.sample`` (2a, 2b) as it was."""
    p = task.params["p"]
    u = rng.random((n, 1 if task.params["variant"] == "a" else p))
    first = np.where(np.floor(u[:, 0] * 2) == 0, p - 1, p)  # x = a_p or y = a_{p+1}
    if task.params["variant"] == "a":
        middle = np.broadcast_to(np.arange(p - 1), (n, p - 1))
    else:
        middle = np.floor(u[:, 1:] * (p - 1)).astype(np.int64)
    seq = np.concatenate([first[:, None], middle, first[:, None]], axis=1).astype(np.int64)
    active = np.ascontiguousarray(seq[:, :-1])
    return SequenceBatch(
        _reference_one_hot(active, p + 1),
        _reference_one_hot(seq[:, 1:], p + 1),
        np.ones((n, p), dtype=bool),
        np.full(n, p, dtype=np.int64),
        {"active": active},
    )


# -- comparison --------------------------------------------------------------------------------------------


def _same_state(a, b) -> bool:
    """Bit-generator states (nested dicts; MT19937's key is an array) are equal."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def _assert_same_batch(new: SequenceBatch, ref: SequenceBatch) -> None:
    got, want = new.arrays(), ref.arrays()
    assert got.keys() == want.keys()
    for key, w in want.items():
        g = got[key]
        assert g.dtype == w.dtype and g.shape == w.shape, key
        assert g.flags.c_contiguous == w.flags.c_contiguous, key
        np.testing.assert_array_equal(g, w, err_msg=key)


BIT_GENERATORS = (np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64)


def _assert_same_stream(task, reference, seed: int, chunks, bit_generator=np.random.PCG64, warm: bool = False):
    """Chunk after chunk from one Generator: the same batches and the same Generator state after each."""
    new_rng = np.random.Generator(bit_generator(seed))
    ref_rng = np.random.Generator(bit_generator(seed))
    if warm:  # a buffered 32-bit half in the state (has_uint32), and a stream that is not at its start
        for rng in (new_rng, ref_rng):
            rng.integers(0, 10, dtype=np.int32)
            rng.random(3)
    for n in chunks:
        new, ref = task.sample(new_rng, n), reference(task, ref_rng, n)
        _assert_same_batch(new, ref)
        assert _same_state(new_rng.bit_generator.state, ref_rng.bit_generator.state), (seed, n)
    # and the stream goes on alike
    np.testing.assert_array_equal(new_rng.random(5), ref_rng.random(5))


# -- Exp 2c ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("q, p", [(1, 1), (1, 4), (2, 1), (5, 3), (20, 30), (50, 50), (100, 100), (100, 50), (7, 500)])
@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 - 1])
def test_2c_identical_to_reference(q, p, seed):
    _assert_same_stream(LongLagDistractors(q=q, p=p), _reference_sample, seed, [1, 7, 64, 1, 7])


@pytest.mark.parametrize("bit_generator", BIT_GENERATORS, ids=lambda b: b.__name__)
@pytest.mark.parametrize("warm", [False, True])
def test_2c_identical_for_every_bit_generator(bit_generator, warm):
    task = LongLagDistractors(q=10, p=12)
    for seed in range(3):
        _assert_same_stream(task, _reference_sample, seed, [7, 1, 64], bit_generator, warm)


def test_2c_many_seeds_one_sequence_each():
    """Many short streams: class and k draws at every position of the buffer's first round."""
    task = LongLagDistractors(q=3, p=5)
    for seed in range(300):
        _assert_same_stream(task, _reference_sample, seed, [1, 1, 7])


def test_2c_buffer_growth_and_long_batches():
    """Batches whose doubles outgrow the first buffer (room for q+12 per sequence; a sequence takes q+2+k,
    so one sequence with k > 10 does, probability 0.9^11 = 0.31) and long batches (many rounds at q = 1)."""
    task = LongLagDistractors(q=1, p=3)
    grown = 0
    for seed in range(60):
        _assert_same_stream(task, _reference_sample, seed, [1, 2, 1])
        batch = task.sample(np.random.default_rng(seed), 1)
        grown += int((batch.lengths - 1).sum() > 1 + 12)
    assert grown >= 5
    for seed in range(3):
        _assert_same_stream(task, _reference_sample, seed, [2000, 64])


def test_2c_empty_batch_draws_nothing():
    """n = 0 (the old code raised IndexError there): an empty batch of the right shapes, no draws."""
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    batch = LongLagDistractors(q=4, p=6).sample(rng, 0)
    assert rng.bit_generator.state == before
    assert batch.inputs.shape == (0, 0, 10) and batch.targets.shape == (0, 0, 2) and batch.mask.shape == (0, 0)
    assert batch.lengths.dtype == np.int64 and batch.info["active"].dtype == np.int64 and len(batch) == 0


@settings(max_examples=60, deadline=None)
@given(
    q=st.integers(1, 120),
    p=st.integers(1, 150),
    seed=st.integers(0, 2**64 - 1),
    chunks=st.lists(st.sampled_from([1, 7, 64]), min_size=1, max_size=4),
    bit_generator=st.sampled_from(BIT_GENERATORS),
)
def test_2c_identical_hypothesis(q, p, seed, chunks, bit_generator):
    _assert_same_stream(LongLagDistractors(q=q, p=p), _reference_sample, seed, chunks, bit_generator)


# -- Exp 2a / 2b ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["a", "b"])
@pytest.mark.parametrize("p", [2, 3, 10, 100])
def test_long_lag_identical_to_reference(variant, p):
    task = LongLag(p=p, variant=variant)
    for seed in (0, 7, 2**40 + 3):
        _assert_same_stream(task, _reference_long_lag_sample, seed, [1, 7, 64])


@settings(max_examples=30, deadline=None)
@given(
    p=st.integers(2, 120),
    variant=st.sampled_from("ab"),
    seed=st.integers(0, 2**64 - 1),
    chunks=st.lists(st.sampled_from([1, 7, 64]), min_size=1, max_size=3),
)
def test_long_lag_identical_hypothesis(p, variant, seed, chunks):
    _assert_same_stream(LongLag(p=p, variant=variant), _reference_long_lag_sample, seed, chunks)

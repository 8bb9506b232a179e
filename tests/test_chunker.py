"""The two-net chunker (``lstm97.models.chunker``, PAPER.md §2 "CH", §11.5) against the plain-numpy reference
(tests/reference/chunker_reference.py) and against finite differences.

* kernel vs reference to 1e-10 (both nets' weights after ``train_chunk``, A's outputs, ``predict``) on several
  configurations: timing, RTRL / truncated BPTT per net, update timing, failure test, time code, net sizes;
* ``update="sequence"`` is each net's exact gradient (RTRL, and untruncated BPTT, which also equals RTRL);
* one-hot inputs equal dense ones bit for bit; chunking never changes a bit; a seed fixes a trial whatever the
  chunk size; the paper's 10,506 weights; parameter errors; non-finite values; the public contract.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference.batches import one_hot_batch
from reference.chunker_reference import loss_a, loss_c, reference_predict, reference_train
from reference.lstm_reference import central_differences, random_batch

from lstm97 import models, tasks
from lstm97.checks import check_model
from lstm97.errors import UserError
from lstm97.models.base import NONFINITE, OK, TrainState
from lstm97.models.chunker import Chunker
from lstm97.runners import TrialConfig, run_trial
from lstm97.tasks import SequenceBatch

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

ATOL = 1e-10

#: Configurations: (name, hyperparameters, n_in, n_out, one-hot inputs)
CONFIGS = [
    ("rtrl-prev", dict(), 4, 3, False),
    ("rtrl-cur", dict(outputs_see="current", hidden=2, c_hidden=2), 4, 3, False),
    ("bptt-trunc", dict(train_a="bptt", train_c="bptt", truncate=2, hidden=2), 3, 3, False),
    ("bptt-full-seq", dict(train_a="bptt", train_c="bptt", truncate=0, update="sequence"), 3, 2, False),
    ("mixed-binary", dict(train_c="bptt", truncate=3, time_code="binary", time_units=3, c_hidden=2), 4, 3, False),
    (
        "mixed-onehot",
        dict(train_a="bptt", truncate=1, time_code="onehot", time_units=4, outputs_see="current"),
        3,
        3,
        False,
    ),
    ("winner-seq", dict(fail_test="winner", update="sequence", hidden=2), 5, 4, False),
    ("sparse-rtrl", dict(hidden=2, c_hidden=2, time_code="binary", time_units=2), 6, 6, True),
    ("sparse-bptt", dict(train_a="bptt", train_c="bptt", truncate=3, outputs_see="current"), 6, 4, True),
]


def _hp(model: Chunker) -> dict:
    return dict(model.hp)


def _shapes(model: Chunker) -> tuple[dict, dict]:
    return model.layout.shapes, model.c_layout.shapes


def _batch(seed, n_in, n_out, sparse, n=5, L=8):
    rng = np.random.default_rng(seed)
    if sparse:
        return one_hot_batch(rng, n, n_in, n_out, L)
    inputs, targets, mask, lengths = random_batch(rng, n, L, n_in, n_out, p_target=0.6)
    mask[1, :] = False  # one sequence without targets: C only sees its first step
    return SequenceBatch(inputs, targets, mask, lengths)


def _model(n_in, n_out, **hp) -> Chunker:
    hp = {"lr": 0.9, "init": 0.5, "fail_threshold": 0.3, **hp}
    return Chunker.for_dims(n_in, n_out, **hp)


# --------------------------------------------------------------------------------------------------------
# Kernel vs reference
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,hp,n_in,n_out,sparse", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_kernel_matches_reference(name, hp, n_in, n_out, sparse):
    model = _model(n_in, n_out, **hp)
    state = model.init_state(np.random.default_rng(len(name)))
    wA0, wC0 = state.w.copy(), state.extra["c"].copy()
    batch = _batch(len(name) + 100, n_in, n_out, sparse)
    shpA, shpC = _shapes(model)
    wA, wC, out, traces = reference_train(wA0, wC0, shpA, shpC, batch, _hp(model), trace=True)
    res = model.train_chunk(state, batch)
    assert res.status == OK and res.n_done == len(batch)
    np.testing.assert_allclose(res.outputs, out, rtol=0, atol=ATOL)
    np.testing.assert_allclose(state.w, wA, rtol=0, atol=ATOL)
    np.testing.assert_allclose(state.extra["c"], wC, rtol=0, atol=ATOL)
    # not vacuous: both nets learned, and C ran at some steps and not at others, trained at some of them
    assert np.abs(state.w - wA0).max() > 1e-3 and np.abs(state.extra["c"] - wC0).max() > 1e-3
    steps = [e for events, _ in traces for e in events]
    assert any(f for _, f in steps) and int(batch.lengths.sum()) > len(steps)
    # predict: A alone, weights unchanged
    before = state.copy()
    np.testing.assert_allclose(
        model.predict(state, batch), reference_predict(state.w, shpA, batch, _hp(model)), rtol=0, atol=ATOL
    )
    np.testing.assert_array_equal(state.w, before.w)
    np.testing.assert_array_equal(state.extra["c"], before.extra["c"])


def test_paper_2a_system_matches_reference():
    """The Exp 2a configuration (the defaults) on long-lag p=5, one-hot path, several sequences in one chunk."""
    task = tasks.make("long-lag", p=5)
    model = models.make("chunker", task, init=0.5)
    state = model.init_state(np.random.default_rng(7))
    wA0, wC0 = state.w.copy(), state.extra["c"].copy()
    batch = task.sample(np.random.default_rng(8), 6)
    wA, wC, out = reference_train(wA0, wC0, *_shapes(model), batch, _hp(model))
    res = model.train_chunk(state, batch)
    np.testing.assert_allclose(res.outputs, out, rtol=0, atol=ATOL)
    np.testing.assert_allclose(state.w, wA, rtol=0, atol=ATOL)
    np.testing.assert_allclose(state.extra["c"], wC, rtol=0, atol=ATOL)


# --------------------------------------------------------------------------------------------------------
# Exact gradients (update="sequence")
# --------------------------------------------------------------------------------------------------------
def _one_sequence(seed, n_in, n_out, L=7):
    rng = np.random.default_rng(seed)
    inputs, targets, mask, lengths = random_batch(rng, 1, L, n_in, n_out, p_target=0.7)
    lengths[0] = L
    mask[0, L - 1] = True
    return SequenceBatch(inputs, targets, mask, lengths)


@pytest.mark.parametrize(
    "hp",
    [
        dict(),
        dict(outputs_see="current", hidden=2, c_hidden=2),
        dict(train_a="bptt", train_c="bptt", truncate=0, time_code="binary", time_units=3),
        dict(train_a="bptt", train_c="rtrl", truncate=0, outputs_see="current", time_code="onehot", time_units=2),
    ],
    ids=["rtrl-prev", "rtrl-cur", "bptt-prev-binary", "bptt-cur-onehot"],
)
def test_sequence_update_is_the_exact_gradient(hp):
    model = _model(3, 2, update="sequence", lr=0.5, fail_threshold=0.35, **hp)
    state = model.init_state(np.random.default_rng(11))
    wA0, wC0 = state.w.copy(), state.extra["c"].copy()
    shpA, shpC = _shapes(model)
    for seed in range(12, 100):  # a sequence where C is trained at >= 2 of its steps and skips some steps
        batch = _one_sequence(seed, 3, 2)
        *_, traces = reference_train(wA0, wC0, shpA, shpC, batch, _hp(model), trace=True)
        events, traj = traces[0]
        if sum(f for _, f in events) >= 2 and len(events) < batch.lengths[0]:
            break
    else:
        raise AssertionError("no suitable sequence")
    model.train_chunk(state, batch)
    seq = batch.sequence(0)
    lr = model.hp["lr"]
    gA = -central_differences(lambda w: loss_a(w, shpA, seq, traj, _hp(model)), wA0)
    gC = -central_differences(lambda w: loss_c(w, shpC, seq, events, _hp(model)), wC0)
    np.testing.assert_allclose((state.w - wA0) / lr, gA, rtol=0, atol=1e-7)
    np.testing.assert_allclose((state.extra["c"] - wC0) / lr, gC, rtol=0, atol=1e-7)
    assert np.abs(gA).max() > 1e-3 and np.abs(gC).max() > 1e-3


@pytest.mark.parametrize("outputs_see", ["previous", "current"])
def test_untruncated_bptt_equals_rtrl(outputs_see):
    batch = _batch(21, 4, 3, sparse=False)
    states = []
    for algo in ("rtrl", "bptt"):
        model = _model(
            4, 3, update="sequence", train_a=algo, train_c=algo, truncate=0, outputs_see=outputs_see, hidden=2
        )
        state = model.init_state(np.random.default_rng(22))
        model.train_chunk(state, batch)
        states.append(state)
    np.testing.assert_allclose(states[0].w, states[1].w, rtol=0, atol=ATOL)
    np.testing.assert_allclose(states[0].extra["c"], states[1].extra["c"], rtol=0, atol=ATOL)


# --------------------------------------------------------------------------------------------------------
# Bit-identities: one-hot = dense, chunk invariance, determinism of a trial
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,hp,n_in,n_out,sparse", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_one_hot_equals_dense_and_chunks_change_nothing(name, hp, n_in, n_out, sparse):
    model = _model(n_in, n_out, **hp)
    sparse_batch = one_hot_batch(np.random.default_rng(31), 8, n_in, n_out, 9)
    dense = SequenceBatch(sparse_batch.inputs, sparse_batch.targets, sparse_batch.mask, sparse_batch.lengths)
    whole = model.init_state(np.random.default_rng(32))
    res = model.train_chunk(whole, sparse_batch)
    other = model.init_state(np.random.default_rng(32))
    np.testing.assert_array_equal(model.train_chunk(other, dense).outputs, res.outputs)
    np.testing.assert_array_equal(other.w, whole.w)
    np.testing.assert_array_equal(other.extra["c"], whole.extra["c"])
    parts = model.init_state(np.random.default_rng(32))
    outs = [model.train_chunk(parts, sparse_batch.take(slice(a, a + 4))) for a in (0, 4)]
    np.testing.assert_array_equal(parts.w, whole.w)
    np.testing.assert_array_equal(parts.extra["c"], whole.extra["c"])
    for a, r in zip((0, 4), outs, strict=True):
        for j in range(4):
            k = int(sparse_batch.lengths[a + j])
            np.testing.assert_array_equal(r.outputs[j, :k], res.outputs[a + j, :k])


def test_a_seed_fixes_the_trial_whatever_the_chunk():
    cfg = TrialConfig.resolve("long-lag", {"p": 4}, "chunker", {}, max_sequences=600, n_test=50)
    runs = [run_trial(cfg, 5, chunk=c) for c in (256, 37, 256)]
    for r in runs[1:]:
        for key in ("sequences", "status", "test_wrong", "test_mse", "curve", "n_weights"):
            assert r[key] == runs[0][key], key
        np.testing.assert_array_equal(r["weights"], runs[0]["weights"])
        assert r["state"] == runs[0]["state"]
    other = run_trial(cfg, 6)
    assert not np.array_equal(other["weights"], runs[0]["weights"])


# --------------------------------------------------------------------------------------------------------
# Weight counts, parameters, failures, contract
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p,want,rtrl", [(4, 42, 36), (10, 156, 144), (100, 10506, 10404)])
def test_weight_counts(p, want, rtrl):
    """A = the 2a RTRL net (PAPER.md Table 2: 36 / 144 / 10404) + one output unit with p+1 inputs and 1 hidden
    weight: 10,506 at p=100 (Table 2's CH row). C, in extra, is another RTRL net."""
    task = tasks.make("long-lag", p=p)
    model = models.make("chunker", task)
    assert model.n_weights == want == rtrl + (p + 1) + 1
    assert models.make("rtrl", task).n_weights == rtrl
    assert model.system_weights == want + rtrl
    state = model.init_state(np.random.default_rng(0))
    assert model.weights_of(state) == want and state.extra["c"].size == rtrl
    timed = models.make("chunker", task, time_code="binary", time_units=5)
    assert timed.n_weights == want and timed.c_layout.size == rtrl + 5 * (1 + p + 1)


@pytest.mark.parametrize(
    "hp,match",
    [
        (dict(fail_test="max"), "fail_test"),
        (dict(truncate=-1), "truncate"),
        (dict(fail_threshold=0.0), "fail_threshold"),
        (dict(train_c="lstm"), "train_c"),
        (dict(time_code="gray"), "time_code"),
        (dict(hidden=0), "hidden"),
        (dict(chunk_size=3), "chunk_size"),
    ],
)
def test_bad_hyperparameters_are_user_errors(hp, match):
    with pytest.raises(UserError, match=match):
        Chunker.for_dims(3, 3, **hp)


def test_nonfinite_weights_stop_the_chunk():
    model = _model(3, 2)
    state = model.init_state(np.random.default_rng(0))
    state.extra["c"][0] = np.nan
    batch = _batch(1, 3, 2, sparse=False)
    res = model.train_chunk(state, batch)
    assert res.status == NONFINITE and res.n_done == 0 and np.isnan(res.outputs).all()
    state = model.init_state(np.random.default_rng(0))
    state.w[:] = np.nan
    assert np.isnan(model.predict(state, batch)).all()


def test_extra_state_survives_json():
    """A stored state's C comes back as a list; the model accepts it."""
    model = _model(3, 2)
    state = model.init_state(np.random.default_rng(0))
    listed = TrainState(state.w.copy(), {"c": state.extra["c"].tolist()})
    batch = _batch(2, 3, 2, sparse=False)
    a, b = model.train_chunk(state, batch), model.train_chunk(listed, batch)
    np.testing.assert_array_equal(a.outputs, b.outputs)
    np.testing.assert_array_equal(state.extra["c"], listed.extra["c"])


def test_public_contract():
    task = tasks.make("long-lag", p=4)
    check_model(models.make("chunker", task), task)
    assert "chunker" in models.names()


# --------------------------------------------------------------------------------------------------------
# The validation task: Schmidhuber 1992's 20-step, 22-symbol experiment
# --------------------------------------------------------------------------------------------------------
def test_history_compression_sequences():
    from reference.batches import assert_chunk_invariant

    from lstm97.checks import check_task

    task = tasks.make("history-compression")
    assert (task.n_in, task.n_out) == (22, 23)
    b = assert_chunk_invariant(task, 3, 40)
    assert b.lengths.tolist() == [21] * 40 and b.mask.all()
    act = b.info["active"]
    assert set(act[:, 0]) == {0, 1} and (act[:, 1:] == np.arange(2, 22)).all()
    np.testing.assert_array_equal(b.info["label"], act[:, 0])
    # next-symbol targets: the following input; after b_20 a random class symbol
    np.testing.assert_array_equal(b.targets[:, :-1, :22].argmax(axis=2), act[:, 1:])
    assert set(b.targets[:, -1, :22].argmax(axis=1)) == {0, 1} and (b.targets[:, :, :22].sum(axis=2) == 1).all()
    # the target unit: 1 after an a-block, 0 after an x-block and at every other step
    np.testing.assert_array_equal(b.targets[:, -1, 22], (act[:, 0] == 0).astype(float))
    assert not b.targets[:, :-1, 22].any()
    # correctness looks at the target unit at block ends only
    out = np.full(b.targets.shape, 0.5)
    out[:, :, 22] = b.targets[:, :, 22] * 0.8 + 0.1
    assert task.correct(b, out).all()
    out[0, -1, 22] = 0.5
    assert not task.correct(b, out)[0] and task.correct(b, out)[1:].all()
    out[1, -1, 22] = np.nan
    assert not task.correct(b, out)[1]
    check_task(task)


def test_history_compression_streams_blocks():
    task = tasks.make("history-compression", lag=3, blocks=3)
    b = task.sample(np.random.default_rng(0), 8)
    assert b.inputs.shape == (8, 12, 5) and b.targets.shape == (8, 12, 6)
    act = b.info["active"]
    for k in range(3):
        np.testing.assert_array_equal(act[:, 4 * k + 1 : 4 * k + 4], np.broadcast_to([2, 3, 4], (8, 3)))
        np.testing.assert_array_equal(b.targets[:, 4 * k + 3, 5], (act[:, 4 * k] == 0).astype(float))
    np.testing.assert_array_equal(b.targets[:, 3, :5].argmax(axis=1), act[:, 4])  # the stream goes on
    np.testing.assert_array_equal(task.block_ends(), [3, 7, 11])


def test_chunker_defaults_on_history_compression():
    model = models.make("chunker", tasks.make("history-compression"))
    assert model.hp["train_a"] == model.hp["train_c"] == "bptt" and model.hp["truncate"] == 4
    assert model.n_weights == 1 * 23 + 24 * 23  # hidden unit + (23 task outputs + 1 state unit) x (22 in + 1)

"""Sparse one-hot batches (``SequenceBatch.one_hot``): inputs given only by ``info["active"]``, built densely
only when asked for; the Exp 2 samplers return them, the kernels with a one-hot path never build them, and
every result is the one the dense batches gave."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_task_sampling_speed import _reference_long_lag_sample, _reference_one_hot, _reference_sample

from lstm97 import models, tasks
from lstm97.runners import trial
from lstm97.runners.trial import TrialConfig, run_trial
from lstm97.tasks import SequenceBatch
from lstm97.tasks.checks import ContractError, changed, check_batch, snapshot

# the samplers as they were before sparse batches (dense inputs), kept by the sampling tests
_dense_one_hot = _reference_one_hot
_reference_2ab = _reference_long_lag_sample
_reference_2c = _reference_sample


def _dense(batch: SequenceBatch, keep_active: bool = True) -> SequenceBatch:
    """The same batch with dense inputs (and ``info["active"]`` unless ``keep_active`` is false)."""
    info = {k: v for k, v in batch.info.items() if keep_active or k != "active"}
    return SequenceBatch(one_hot_copy(batch), batch.targets, batch.mask, batch.lengths, info)


def one_hot_copy(batch: SequenceBatch) -> np.ndarray:
    return _dense_one_hot(batch.info["active"], batch.n_in)


def _assert_same(a: SequenceBatch, b: SequenceBatch) -> None:
    x, y = a.arrays(), b.arrays()
    assert x.keys() == y.keys()
    for k in x:
        assert x[k].dtype == y[k].dtype and x[k].shape == y[k].shape, k
        np.testing.assert_array_equal(x[k], y[k], err_msg=k)


CASES = [
    ("long-lag", {"p": 10, "variant": "a"}, _reference_2ab),
    ("long-lag", {"p": 12, "variant": "b"}, _reference_2ab),
    ("long-lag-distractors", {"q": 6, "p": 5}, _reference_2c),
]


@pytest.mark.parametrize("name,params,reference", CASES, ids=["2a", "2b", "2c"])
def test_samplers_give_the_dense_samplers_sequences_sparsely(name, params, reference):
    task = tasks.make(name, **params)
    for seed in range(3):
        rng, ref_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        for n in (1, 5, 17):
            got, want = task.sample(rng, n), reference(task, ref_rng, n)
            assert got.sparse and got._inputs is None and "inputs" not in got.stored()
            assert got.n_in == task.n_in and len(got) == n
            _assert_same(got, want)  # builds got.inputs
            assert got.inputs.flags.c_contiguous and got.inputs is got.inputs  # built once, kept
        assert rng.bit_generator.state == ref_rng.bit_generator.state


def test_lazy_inputs_take_concat_and_sequence_stay_sparse():
    task = tasks.make("long-lag-distractors", q=4, p=3)
    rng = np.random.default_rng(1)
    a, b = task.sample(rng, 6), task.sample(rng, 3)
    da, db = _dense(a), _dense(b)
    sub = a.take(np.array([4, 1, 1]))
    assert sub.sparse and sub._inputs is None
    _assert_same(sub, da.take(np.array([4, 1, 1])))
    both = SequenceBatch.concat([a, b])
    assert both.sparse and both._inputs is None and a._inputs is None and b._inputs is None
    _assert_same(both, SequenceBatch.concat([da, db]))
    for i in range(len(a)):
        sa, sd = a.sequence(i), da.sequence(i)
        assert sa.keys() == sd.keys() and all(np.array_equal(sa[k], sd[k]) for k in sa)
    assert a._inputs is None
    assert a.kernel_inputs.shape == (1, 1, a.n_in) and a.kernel_inputs.dtype == np.float64
    assert a.kernel_inputs.flags.c_contiguous and a._inputs is None
    mixed = SequenceBatch.concat([a, db])  # a dense part: dense (a's inputs built)
    assert not mixed.sparse
    _assert_same(mixed, SequenceBatch.concat([da, db]))
    assert da.kernel_inputs is da.inputs
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.inputs = da.inputs
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.targets = da.targets
    with pytest.raises(ValueError, match="disagree"):
        SequenceBatch.one_hot(a.info["active"][:, :-1], a.n_in, a.targets, a.mask, a.lengths)


def test_nbytes_counts_what_is_held_and_a_long_2a_batch_is_small():
    task = tasks.make("long-lag", p=1000, variant="a")
    batch = task.sample(np.random.default_rng(0), 4)
    dense_inputs = 4 * 1000 * 1001 * 8
    held = batch.nbytes - batch.targets.nbytes  # the targets are dense one-hot codes too
    assert "inputs" not in batch.stored() and held < dense_inputs / 500
    assert batch.nbytes == sum(a.nbytes for a in (batch.targets, batch.mask, batch.lengths, batch.info["active"]))
    assert batch.inputs.nbytes == dense_inputs  # built on demand ...
    assert batch.nbytes - held - batch.targets.nbytes == dense_inputs  # ... and then counted


@pytest.mark.parametrize(
    "name,params,hp", [("long-lag", {"p": 6, "variant": "b"}, {}), ("long-lag-distractors", {"q": 8, "p": 6}, {})]
)
def test_lstm_on_a_sparse_batch_gives_the_dense_bits(name, params, hp):
    task = tasks.make(name, **params)
    model = models.make("lstm", task, **hp)
    batch = task.sample(np.random.default_rng(3), 20)
    start = model.init_state(np.random.default_rng(4))
    start.w[:] = np.random.default_rng(5).uniform(-1, 1, start.w.size)
    results = []
    for b in (batch, _dense(batch), _dense(batch, keep_active=False)):
        state = start.copy()
        res = model.train_chunk(state, b)
        results.append((state.w.tobytes(), res.outputs.tobytes(), model.predict(state, b).tobytes()))
    assert batch._inputs is None  # the sparse path never built the inputs
    assert results[0] == results[1] == results[2]


def test_rnn_predict_on_a_sparse_batch_gives_the_dense_bits():
    task = tasks.make("long-lag", p=5, variant="b")
    model = models.make("rtrl", task)
    batch = task.sample(np.random.default_rng(0), 6)
    state = model.init_state(np.random.default_rng(1))
    sparse = model.predict(state, batch)
    assert batch._inputs is None
    assert sparse.tobytes() == model.predict(state, _dense(batch, keep_active=False)).tobytes()


def test_lanes_on_sparse_batches_build_no_inputs():
    task = tasks.make("long-lag-distractors", q=5, p=4)
    model = models.make("lstm", task)
    rng = np.random.default_rng(2)
    batches = [task.sample(rng, n) for n in (3, 5)]
    states = [model.init_state(rng) for _ in batches]
    ref = [st.copy() for st in states]
    want = [model.train_chunk(st, _dense(b)) for st, b in zip(ref, batches, strict=True)]
    got = model.train_lanes(states, batches)
    assert all(b._inputs is None for b in batches)
    for g, w, st, r in zip(got, want, states, ref, strict=True):
        assert g.outputs.tobytes() == w.outputs.tobytes() and st.w.tobytes() == r.w.tobytes()


def test_a_2c_trial_builds_no_inputs_and_its_chunks_change_nothing(monkeypatch):
    cfg = TrialConfig.resolve("long-lag-distractors", {"q": 30, "p": 30, "check_every": 200}, "lstm", {}, 600, 300)
    ref = run_trial(cfg, seed=1)

    def refuse(self):
        raise AssertionError("a dense input array was built")

    monkeypatch.setattr(SequenceBatch, "inputs", property(refuse))
    rec = run_trial(cfg, seed=1)
    cap = trial._rows_cap(tasks.make(cfg.task, **cfg.task_params))
    assert cap[0] > cap[1]  # training chunks from the bytes held; the test's as they always were
    monkeypatch.setattr(trial, "_rows_cap", lambda task: (3, cap[1]))  # tiny training and check chunks
    small = run_trial(cfg, seed=1)
    keys = ("status", "sequences", "milestones", "test_wrong", "test_mse", "test_abs", "curve")
    for r in (rec, small):
        assert all(r[k] == ref[k] for k in keys) and r["weights"].tobytes() == ref["weights"].tobytes()


def test_checks_accept_sparse_batches_and_catch_their_mistakes():
    task = tasks.make("long-lag-distractors", q=4, p=3)
    batch = task.sample(np.random.default_rng(0), 7)
    check_batch(batch, 7, task.n_in, task.n_out, "sample")
    assert batch._inputs is None
    check_batch(_dense(batch), 7, task.n_in, task.n_out, "sample")  # a plugin's dense batch, as before
    short = int(np.argmin(batch.lengths))
    active = batch.info["active"].copy()
    active[short, -1] = 0  # an input beyond the sequence's length
    bad = SequenceBatch.one_hot(active, task.n_in, batch.targets, batch.mask, batch.lengths)
    with pytest.raises(ContractError, match="beyond each sequence's length"):
        check_batch(bad, 7, task.n_in, task.n_out, "sample")
    active = batch.info["active"].copy()
    active[0, 0] = task.n_in
    bad = SequenceBatch.one_hot(active, task.n_in, batch.targets, batch.mask, batch.lengths)
    with pytest.raises(ContractError, match=r"indices in \[0, 7\)"):
        check_batch(bad, 7, task.n_in, task.n_out, "sample")
    before = snapshot(batch)
    assert "inputs" not in before and not changed(batch, before)
    batch.inputs[0, 0, 0] += 1.0  # built, then changed in place
    assert changed(batch, before) == ["inputs"]

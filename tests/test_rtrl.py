"""The RTRL model (``lstm97.models.rtrl``, PAPER.md §2 RTRL row) against the dense plain-numpy reference
(tests/reference/rtrl_reference.py) and against finite differences.

* kernel vs reference to 1e-10 (weights after ``train_chunk``, outputs) on random nets and padded sequences
  with random lengths and targets, for every architecture, bias, activation and update option;
* ``update="sequence"`` is the exact gradient: Delta w / lr == -1/2 dE/dw of one sequence (central differences);
* one-hot inputs give bit-identical results to dense ones; chunking never changes a bit; absent weights stay
  0; a non-finite value gives status NONFINITE; the public contract; the paper's weight counts.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from reference.batches import one_hot_batch
from reference.lstm_reference import central_differences, random_batch
from reference.rnn_reference import state_of
from reference.rtrl_reference import (
    PARAM_NAMES,
    flatten,
    make_masks,
    random_params,
    reference_loss,
    reference_predict,
    reference_train,
    unflatten,
)

from lstm97 import tasks
from lstm97.checks import check_model
from lstm97.models.base import NONFINITE, OK
from lstm97.models.rtrl import RTRL
from lstm97.tasks import SequenceBatch

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

ATOL = 1e-10

#: (arch, hidden, recurrence, skip, n_out) or (..., order): every connectivity of models.rnn
ARCHS = [
    ("layered", 3, "full", False, 2),
    ("layered", 3, "full", True, 2),
    ("layered", 2, "self", False, 2),
    ("layered", 2, "self", True, 3),
    ("layered", 2, "none", False, 2),
    ("layered", 2, "none", True, 2),
    ("layered", 0, "full", True, 2),
    ("wz", 2, "full", False, 2),
    ("a2", 3, "full", False, 1),
    ("wz", 2, "seq", False, 2),  # order=seq (the recurrence column carries the order for wz / a2)
    ("a2", 3, "seq", False, 1),
    ("layered", 1, "self-prev", True, 3),  # outputs_see=previous (Williams & Zipser timing)
]


def _seed(*key):
    """A seed that depends on the test case only (``hash`` of a str changes between processes)."""
    return zlib.crc32(repr(key).encode())


def _model(arch, hidden, recurrence, skip, n_out, bias=True, act="logistic", update="step", lr=0.5, n_in=3):
    order = "seq" if recurrence == "seq" else "sync"
    outputs_see = "previous" if recurrence.endswith("-prev") else "current"
    recurrence = {"seq": "full", "self-prev": "self"}.get(recurrence, recurrence)
    return RTRL.for_dims(
        n_in,
        n_out,
        arch=arch,
        hidden=hidden,
        recurrence=recurrence,
        skip=skip,
        order=order,
        outputs_see=outputs_see,
        bias=bias,
        act=act,
        update=update,
        lr=lr,
        init=0.2,
    )


def _masks(model):
    hp = model.hp
    return make_masks(
        model.n_in,
        model.n_out,
        hp["arch"],
        hp["hidden"],
        hp["recurrence"],
        hp["skip"],
        hp["bias"],
        hp["order"],
        hp["outputs_see"],
    )


def _data(model, seed, n=4, length=7):
    """Random sequences; sequence 1 has no target, sequence 2 a target at every step."""
    rng = np.random.default_rng(seed)
    inputs, targets, mask, lengths = random_batch(rng, n, length, model.n_in, model.n_out, p_target=0.4)
    mask[1, :] = False
    mask[2, : lengths[2]] = True
    return inputs, targets, mask, lengths


# --------------------------------------------------------------------------------------------------------
# Kernel vs reference
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch,hidden,recurrence,skip,n_out", ARCHS)
def test_masks_match_reference(arch, hidden, recurrence, skip, n_out):
    for bias in (True, False):
        model = _model(arch, hidden, recurrence, skip, n_out, bias=bias)
        for name, m in _masks(model).items():
            np.testing.assert_array_equal(model.masks[name], m, err_msg=name)
        assert model.n_weights == sum(int(m.sum()) for m in _masks(model).values())


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("act", ["logistic", "tanh"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("arch,hidden,recurrence,skip,n_out", ARCHS)
def test_kernel_matches_reference(arch, hidden, recurrence, skip, n_out, bias, act, update):
    model = _model(arch, hidden, recurrence, skip, n_out, bias=bias, act=act, update=update)
    masks = _masks(model)
    seed = _seed(arch, hidden, recurrence, skip, n_out, bias, act, update)
    params = random_params(masks, np.random.default_rng(seed))
    arrays = _data(model, seed + 1)
    want, want_out = reference_train(params, masks, *arrays, act=act, lr=model.hp["lr"], update=update)
    state = state_of(model, params)
    res = model.train_chunk(state, SequenceBatch(*arrays))
    assert res.status == OK and res.n_done == len(arrays[3])
    np.testing.assert_allclose(res.outputs, want_out, rtol=0, atol=ATOL)
    got = model.views(state.w)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=ATOL, err_msg=name)
    assert np.abs(state.w - flatten(params)).max() > 1e-3  # the check is not vacuous
    # prediction (the forward kernel of models.rnn) agrees with the reference and keeps the weights
    w = state.w.copy()
    np.testing.assert_allclose(
        model.predict(state, SequenceBatch(*arrays)),
        reference_predict(want, masks, *arrays, act=act),
        rtol=0,
        atol=ATOL,
    )
    np.testing.assert_array_equal(state.w, w)


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("arch,hidden,recurrence,skip,n_out", ARCHS)
def test_one_hot_inputs_equal_dense(arch, hidden, recurrence, skip, n_out, update):
    model = _model(arch, hidden, recurrence, skip, n_out, update=update, lr=0.7, n_in=6)
    sparse = one_hot_batch(np.random.default_rng(_seed(arch, hidden, recurrence, skip)), 10, 6, n_out, 9)
    dense = SequenceBatch(sparse.inputs, sparse.targets, sparse.mask, sparse.lengths)
    s1, s2 = model.init_state(np.random.default_rng(1)), model.init_state(np.random.default_rng(1))
    r1, r2 = model.train_chunk(s1, sparse), model.train_chunk(s2, dense)
    np.testing.assert_array_equal(r1.outputs, r2.outputs)
    np.testing.assert_array_equal(s1.w, s2.w)


def test_the_paper_2a_net_matches_reference():
    """Exp 2a's net (hidden=1, recurrence=self, skip, no bias) on long-lag p=4 sequences, one-hot path."""
    task = tasks.make("long-lag", p=4)
    model = RTRL.for_task(task, hidden=1, recurrence="self", skip=True, bias=False, init=0.2, lr=1.0)
    masks = _masks(model)
    params = random_params(masks, np.random.default_rng(3))
    batch = task.sample(np.random.default_rng(4), 5)
    want, want_out = reference_train(params, masks, batch.inputs, batch.targets, batch.mask, batch.lengths)
    state = state_of(model, params)
    res = model.train_chunk(state, batch)
    np.testing.assert_allclose(res.outputs, want_out, rtol=0, atol=ATOL)
    got = model.views(state.w)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=ATOL, err_msg=name)
    assert model.sensitivities == 6  # one tracked unit (the hidden one) x its 5 input weights and self-weight


# --------------------------------------------------------------------------------------------------------
# update="sequence" is the exact gradient
# --------------------------------------------------------------------------------------------------------
def _one_sequence(model, seed, length=6):
    """One sequence with targets at >= 2 steps and at least one step without target."""
    rng = np.random.default_rng(seed)
    inputs, targets, mask, lengths = random_batch(rng, 1, length, model.n_in, model.n_out)
    mask[0, :] = False
    mask[0, rng.choice(length - 1, size=2, replace=False)] = True
    mask[0, length - 1] = True
    return inputs, targets, mask, lengths


@pytest.mark.parametrize(
    "arch,hidden,recurrence,skip,n_out,act",
    [
        ("layered", 3, "full", True, 2, "logistic"),
        ("layered", 2, "self", False, 2, "tanh"),
        ("wz", 2, "full", False, 2, "tanh"),
        ("wz", 2, "seq", False, 2, "logistic"),
        ("a2", 2, "full", False, 1, "logistic"),
    ],
)
def test_sequence_update_is_the_exact_gradient(arch, hidden, recurrence, skip, n_out, act):
    model = _model(arch, hidden, recurrence, skip, n_out, act=act, update="sequence", lr=0.5)
    masks = _masks(model)
    seed = _seed("fd", arch, hidden, recurrence, act)
    params = random_params(masks, np.random.default_rng(seed))
    seq = _one_sequence(model, seed + 1)
    w0 = flatten(params)
    present = flatten(masks).astype(bool)  # finite differences over the present weights only

    def on_present(loss, w):
        def sub(v):
            full = w.copy()
            full[present] = v
            return loss(full)

        return central_differences(sub, w[present], 1e-6)

    # the reference's rule vs finite differences of the reference loss
    new, _ = reference_train(params, masks, *seq, act=act, lr=0.5, update="sequence")
    fd = on_present(lambda w: reference_loss(unflatten(w, masks), masks, *seq, act), w0)
    assert np.abs(fd).max() > 1e-3
    np.testing.assert_allclose(((flatten(new) - w0) / 0.5)[present], -0.5 * fd, rtol=1e-6, atol=1e-8)
    # the kernel's rule vs finite differences of the kernel's own forward pass
    state = state_of(model, params)
    w1 = state.w.copy()
    assert model.train_chunk(state, SequenceBatch(*seq)).status == OK
    probe = model.init_state(np.random.default_rng(0))
    batch = SequenceBatch(*seq)

    def loss(w):
        probe.w[:] = w
        diff = (batch.targets - model.predict(probe, batch)) * batch.mask[..., None]
        return float(np.sum(diff * diff))

    kfd = on_present(loss, w1)
    np.testing.assert_allclose(((state.w - w1) / 0.5)[present], -0.5 * kfd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("arch,hidden,recurrence,skip,n_out", ARCHS)
def test_sequence_update_equals_full_bptt(arch, hidden, recurrence, skip, n_out):
    """Offline RTRL and untruncated BPTT (``rnn-bptt``, truncate=0) compute the same gradient (PAPER.md §2)."""
    from lstm97.models.rnn_bptt import RNNBPTT

    model = _model(arch, hidden, recurrence, skip, n_out, update="sequence", lr=0.5)
    hp = {k: v for k, v in model.hp.items() if k != "update"}
    bptt = RNNBPTT.for_dims(model.n_in, model.n_out, **hp, truncate=0)
    params = random_params(_masks(model), np.random.default_rng(_seed("bptt", arch, hidden, recurrence, skip)))
    batch = SequenceBatch(*_data(model, 13))
    s1, s2 = state_of(model, params), state_of(bptt, params)
    r1, r2 = model.train_chunk(s1, batch), bptt.train_chunk(s2, batch)
    np.testing.assert_allclose(r1.outputs, r2.outputs, rtol=0, atol=ATOL)
    np.testing.assert_allclose(s1.w, s2.w, rtol=0, atol=ATOL)


def test_step_and_sequence_updates_agree_only_with_a_single_final_target():
    model_step = _model("layered", 3, "full", True, 2, update="step")
    model_seq = _model("layered", 3, "full", True, 2, update="sequence")
    params = random_params(_masks(model_step), np.random.default_rng(21))
    inputs, targets, mask, lengths = _data(model_step, 22)
    final = np.zeros_like(mask)
    final[np.arange(len(lengths)), lengths - 1] = True
    for m, same in ((final, True), (mask, False)):
        ws = []
        for model in (model_step, model_seq):
            state = state_of(model, params)
            model.train_chunk(state, SequenceBatch(inputs, targets, m, lengths))
            ws.append(state.w)
        gap = np.abs(ws[0] - ws[1]).max()
        assert gap < ATOL if same else gap > 1e-6


# --------------------------------------------------------------------------------------------------------
# Execution details, bookkeeping, divergence
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("update", ["step", "sequence"])
def test_chunk_size_never_changes_a_bit(update):
    task = tasks.make("long-lag", p=4, variant="b")
    model = RTRL.for_task(task, hidden=2, recurrence="full", skip=True, bias=True, update=update, lr=1.0)
    batch = task.sample(np.random.default_rng(5), 20)
    results = []
    for size in (1, 7, 20):
        state = model.init_state(np.random.default_rng(6))
        outputs = []
        for a in range(0, 20, size):
            res = model.train_chunk(state, batch.take(slice(a, a + size)))
            assert res.status == OK
            outputs.append(res.outputs)
        results.append((state.w, np.concatenate(outputs)))
    for w, out in results[1:]:
        np.testing.assert_array_equal(w, results[0][0])
        np.testing.assert_array_equal(out, results[0][1])


@pytest.mark.parametrize("arch,hidden,recurrence,skip,n_out", ARCHS)
def test_absent_weights_stay_zero(arch, hidden, recurrence, skip, n_out):
    model = _model(arch, hidden, recurrence, skip, n_out, bias=False, lr=2.0)
    state = model.init_state(np.random.default_rng(8))
    model.train_chunk(state, SequenceBatch(*_data(model, 9)))
    assert np.all(state.w[~model.free()] == 0.0)
    assert np.all(state.w[model.free()] != 0.0)


def test_non_finite_values_give_status_nonfinite():
    model = _model("layered", 2, "full", True, 2)
    arrays = _data(model, 10, n=4)
    state = model.init_state(np.random.default_rng(11))
    state.w[model._plan["present"][3]] = np.nan
    res = model.train_chunk(state, SequenceBatch(*arrays))
    assert res.status == NONFINITE and res.n_done == 0
    # a run that overflows by itself: huge inputs, tiny weights, so that nothing saturates and lr x p = inf
    model = _model("wz", 2, "full", False, 2, act="tanh", lr=1e3)
    state = model.init_state(np.random.default_rng(12))
    state.w *= 1e-306
    inputs, targets, mask, lengths = arrays
    mask[0, :] = True
    with np.errstate(all="ignore"):  # NUMBA_DISABLE_JIT=1: numpy warns about the overflow
        res = model.train_chunk(state, SequenceBatch(inputs * 1e306, targets, mask, lengths))
    assert res.status == NONFINITE and res.n_done == 0


@pytest.mark.parametrize(
    "task_name,task_params,hp",
    [
        ("long-lag", {"p": 4}, {"hidden": 1, "recurrence": "self", "skip": True, "bias": False, "lr": 1.0}),
        ("long-lag", {"p": 4}, {}),
        ("reber", {}, {"arch": "wz", "hidden": 3, "lr": 0.05}),
        ("reber", {}, {"arch": "layered", "hidden": 4, "recurrence": "full", "update": "sequence"}),
    ],
)
def test_contract(task_name, task_params, hp):
    task = tasks.make(task_name, **task_params)
    check_model(RTRL.for_task(task, **hp), task)


# --------------------------------------------------------------------------------------------------------
# The paper's weight counts (PAPER.md §2 RTRL row, Table 10)
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p,weights", [(4, 36), (10, 144), (100, 10404)])
def test_exp_2a_weight_counts(p, weights):
    model = RTRL.for_task(tasks.make("long-lag", p=p), hidden=1, recurrence="self", skip=True, bias=False)
    assert model.n_weights == weights
    assert model.sensitivities == p + 2  # RTRL carries only dy_hidden/dw for the hidden unit's weights


@pytest.mark.parametrize("hidden,with_bias,paper", [(3, 180, 170), (12, 513, 494)])
def test_exp_1_weight_counts(hidden, with_bias, paper):
    """Smith & Zipser's nets (Williams & Zipser architecture, 7 inputs and outputs): the paper's "≈170" and
    "≈494" are exactly the counts without bias weights; with a bias per unit they are 180 and 513."""
    task = tasks.make("reber")
    assert RTRL.for_task(task, arch="wz", hidden=hidden, bias=True).n_weights == with_bias
    assert RTRL.for_task(task, arch="wz", hidden=hidden, bias=False).n_weights == paper
    assert RTRL.for_task(task).n_weights == 170  # the task's paper default: 3 hidden units, no biases


def test_forward_levels_group_the_units_no_unit_of_a_level_sees():
    from lstm97 import models
    from lstm97.models._rnn_kernels import levels

    task = tasks.make("long-lag", p=4)
    arch = dict(arch="layered", hidden=1, recurrence="self", skip=True, bias=False)
    U = 1 + task.n_out
    # Williams & Zipser's timing: the outputs see the hidden unit's previous value, so every unit is one level
    assert models.make("rtrl", task, **arch).levels.tolist() == [0, U]
    # the outputs see its current value: the hidden unit, then every output unit at once
    assert models.make("rtrl", task, **arch, outputs_see="current").levels.tolist() == [0, 1, U]
    # a unit that sees a lower unit of its level starts a new one; A from a unit at or above it is refused
    a_ptr, a_idx = np.array([0, 0, 1, 2, 3]), np.array([0, 1, 0])
    assert levels(a_ptr, a_idx).tolist() == [0, 1, 2, 4]
    with pytest.raises(ValueError, match="at or above"):
        levels(np.array([0, 1]), np.array([0]))

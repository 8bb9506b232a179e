"""The BPTT learners of the conventional nets (``rnn-bptt``, ``elman``; PAPER.md §2, §3.1, §3.2).

* kernel vs the plain-numpy reference (tests/reference/rnn_reference.py) to 1e-10, weights and outputs, for
  every architecture, bias, activation and truncation depth 0 (full), 1 (Elman), 3;
* the reference's and the kernel's full BPTT vs central finite differences: one sequence changes the weights
  by lr * (-1/2 dE/dw) exactly (E summed over the target steps, §1.5);
* depth 1 is Elman's one-step rule, written separately in the reference as backprop in the net of one step
  and checked against finite differences with the context held constant;
* truncation at a depth >= the sequence length is the full gradient;
* one-hot inputs (sparse path) bit-identical to dense; chunk invariance; absent weights stay 0; non-finite
  values give status 1; the public contract; the paper's weight counts.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from reference.batches import one_hot_batch
from reference.rnn_reference import (
    PARAM_NAMES,
    central_differences,
    delta_full,
    delta_one_step,
    delta_truncated,
    delta_truncated_sum,
    elman_train,
    flatten,
    forward,
    make_config,
    masks,
    n_weights,
    random_batch,
    random_params,
    reference_loss,
    reference_train,
    squared_error,
    state_of,
    step,
    unflatten,
)

from lstm97 import tasks
from lstm97.checks import check_model
from lstm97.models.rnn_bptt import RNNBPTT, Elman
from lstm97.tasks import SequenceBatch

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

ATOL = 1e-10
EPS = 1e-6
RTOL = 1e-6

ARCHS = [
    *[dict(arch="layered", recurrence=r, skip=s) for r in ("full", "self", "none") for s in (False, True)],
    dict(arch="wz"),
    dict(arch="a2"),
    dict(arch="wz", order="seq"),
    dict(arch="a2", order="seq"),
    dict(arch="layered", recurrence="self", skip=True, outputs_see="previous"),
]
ARCH_IDS = [
    f"{a['arch']}-{a.get('recurrence', a.get('order', ''))}{'-skip' if a.get('skip') else ''}"
    f"{'-prev' if a.get('outputs_see') == 'previous' else ''}"
    for a in ARCHS
]


def _seed(*key):
    """A seed that depends on the test case only (``hash`` of a str changes between processes)."""
    return zlib.crc32(repr(key).encode())


def _cfg(arch, bias=True, act="logistic", truncate=0, n_in=3, n_out=2, hidden=3, lr=0.5):
    return make_config(
        arch,
        n_in=n_in,
        n_out=1 if arch["arch"] in ("a2", "a1") else n_out,
        hidden=hidden,
        bias=bias,
        act=act,
        lr=lr,
        truncate=truncate,
    )


def _model(cfg, cls=RNNBPTT):
    keys = ("arch", "hidden", "recurrence", "skip", "order", "outputs_see", "bias", "act", "lr", "truncate")
    return cls.for_dims(cfg["n_in"], cfg["n_out"], **{k: cfg[k] for k in keys})


def _present(model):
    """bool [n_weights-vector]: which entries of the flat vector are connections."""
    m = np.zeros(model.layout.size)
    views = model.views(m)
    for name in PARAM_NAMES:
        views[name][...] = model.masks[name]
    return m.astype(bool)


def _data(cfg, seed, n=4, length=7):
    """Random padded sequences; sequence 1 has no target, sequence 2 a target at every step."""
    rng = np.random.default_rng(seed)
    inputs, targets, mask, lengths = random_batch(rng, n, length, cfg["n_in"], cfg["n_out"], p_target=0.4)
    mask[1, :] = False
    mask[2, : lengths[2]] = True
    return inputs, targets, mask, lengths


def _sequence(cfg, seed, length=6):
    """One sequence with targets at >= 2 steps (the last one included) and >= 1 step without."""
    rng = np.random.default_rng(seed)
    inputs, targets, mask, lengths = random_batch(rng, 1, length, cfg["n_in"], cfg["n_out"])
    mask[0, :] = False
    mask[0, rng.choice(length - 1, size=2, replace=False)] = True
    mask[0, length - 1] = True
    return inputs, targets, mask, lengths


def _assert_params_equal(model, w, expected, atol=ATOL, context=""):
    got = model.views(w)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=atol, err_msg=f"{context} {name}")


# --------------------------------------------------------------------------------------------------------
# Nets: connectivity and weight counts
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
def test_masks_match_reference(arch, bias):
    cfg = _cfg(arch, bias=bias, n_in=4, hidden=5)
    model = _model(cfg)
    for name, m in masks(cfg).items():
        np.testing.assert_array_equal(model.masks[name], m, err_msg=name)
    assert model.n_weights == n_weights(cfg) == int(_present(model).sum())


@pytest.mark.parametrize("p,weights", [(4, 36), (10, 144), (100, 10404)])
def test_exp2a_weight_counts(p, weights):
    """Table 2: one self-recurrent hidden unit, p+1 outputs, every layer sees all layers below, no bias."""
    task = tasks.make("long-lag", p=p)
    model = RNNBPTT.for_task(task, hidden=1, recurrence="self", skip=True, bias=False)
    assert model.n_weights == weights


def test_elman_defaults():
    """Elman's net for Exp 1 (Table 1: 15 hidden units, "≈435" weights: exactly ours without biases, the
    task's paper default; 457 with every bias)."""
    model = Elman.for_task(tasks.make("reber"))
    hp = model.hp
    assert (hp["arch"], hp["recurrence"], hp["hidden"], hp["truncate"], hp["skip"]) == ("layered", "full", 15, 1, False)
    assert model.n_weights == 7 * 15 + 15 * 15 + 15 * 7 == 435 and not hp["bias"]
    assert Elman.for_task(tasks.make("reber"), bias=True).n_weights == 457
    assert RNNBPTT.for_task(tasks.make("reber")).hp["truncate"] == 0


# --------------------------------------------------------------------------------------------------------
# Kernel vs reference
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("truncate", [0, 1, 3])
@pytest.mark.parametrize("act", ["logistic", "tanh"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
def test_kernel_matches_reference(arch, bias, act, truncate):
    cfg = _cfg(arch, bias=bias, act=act, truncate=truncate)
    seed = _seed(arch, bias, act, truncate)
    params = random_params(cfg, np.random.default_rng(seed))
    arrays = _data(cfg, seed + 1)
    ref_params, ref_outputs = reference_train(params, cfg, *arrays)

    model = _model(cfg)
    state = state_of(model, params)
    res = model.train_chunk(state, SequenceBatch(*arrays))
    assert res.status == 0 and res.n_done == len(arrays[3])
    np.testing.assert_allclose(res.outputs, ref_outputs, rtol=0, atol=ATOL, err_msg="outputs")
    _assert_params_equal(model, state.w, ref_params, context=str(cfg))
    assert max(np.abs(ref_params[k] - params[k]).max() for k in PARAM_NAMES) > 1e-3  # not vacuous
    assert np.all(state.w[~_present(model)] == 0.0)  # absent weights stay exactly 0


@pytest.mark.parametrize("truncate", [0, 2])
def test_train_outputs_are_the_forward_pass_before_the_update(truncate):
    """Outputs come from the forward pass with the weights in use at that step: the first sequence's equal
    ``predict`` with the initial weights, bit for bit, until its first update. ``predict`` leaves the weights
    alone and matches the reference forward pass."""
    cfg = _cfg(ARCHS[0], truncate=truncate)
    params = random_params(cfg, np.random.default_rng(3))
    batch = SequenceBatch(*_data(cfg, 4))
    model = _model(cfg)
    state = state_of(model, params)
    w0 = state.w.copy()
    predicted = model.predict(state, batch)
    np.testing.assert_array_equal(state.w, w0)
    for i in range(len(batch)):
        T = int(batch.lengths[i])
        np.testing.assert_allclose(
            predicted[i, :T], forward(params, cfg, batch.inputs[i, :T])[1:, -2:], rtol=0, atol=ATOL
        )
    res = model.train_chunk(state, batch)
    # full BPTT: the whole first sequence; truncated: up to its first target step (then the weights change)
    upto = int(batch.lengths[0]) if truncate == 0 else int(np.flatnonzero(batch.mask[0])[0]) + 1
    np.testing.assert_array_equal(res.outputs[0, :upto], predicted[0, :upto])
    if truncate:
        assert not np.array_equal(res.outputs[0], predicted[0])
    else:  # the next sequence with a target runs with the updated weights
        assert not np.array_equal(res.outputs[2], predicted[2])


def test_no_targets_no_weight_change():
    cfg = _cfg(dict(arch="wz"))
    for truncate in (0, 1, 3):
        model = _model(make_config(cfg, truncate=truncate))
        state = model.init_state(np.random.default_rng(1))
        inputs, targets, mask, lengths = _data(cfg, 2)
        w0 = state.w.copy()
        model.train_chunk(state, SequenceBatch(inputs, targets, np.zeros_like(mask), lengths))
        np.testing.assert_array_equal(state.w, w0)


# --------------------------------------------------------------------------------------------------------
# Full BPTT is the exact gradient
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["logistic", "tanh"])
@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
def test_reference_full_bptt_is_the_gradient(arch, act):
    cfg = _cfg(arch, act=act)
    seed = _seed("ref-fd", arch, act)
    params = random_params(cfg, np.random.default_rng(seed))
    inputs, targets, mask, lengths = _sequence(cfg, seed + 1)
    d = flatten(delta_full(params, cfg, inputs[0], targets[0], mask[0]))
    fd = central_differences(
        lambda w: reference_loss(unflatten(w, cfg), cfg, inputs, targets, mask, lengths), flatten(params), EPS
    )
    present = flatten(masks(cfg)).astype(bool)
    assert np.abs(fd[present]).max() > 1e-3
    np.testing.assert_allclose(d[present], -0.5 * fd[present], rtol=RTOL, atol=1e-8)
    assert np.all(d[~present] == 0.0)


@pytest.mark.parametrize("act", ["logistic", "tanh"])
@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
def test_kernel_full_bptt_is_the_gradient(arch, act):
    """One sequence, truncate=0: Delta w == lr * (-1/2 dE/dw), dE/dw by central differences of predict."""
    cfg = _cfg(arch, act=act, lr=0.7)
    seed = _seed("kernel-fd", arch, act)
    params = random_params(cfg, np.random.default_rng(seed))
    batch = SequenceBatch(*_sequence(cfg, seed + 1))
    model = _model(cfg)
    state = state_of(model, params)
    w0 = state.w.copy()
    assert model.train_chunk(state, batch).status == 0
    probe = model.init_state(np.random.default_rng(0))

    def loss(w):
        probe.w[:] = w
        return squared_error(model.predict(probe, batch), batch.targets, batch.mask)

    fd = central_differences(loss, w0, EPS)
    present = _present(model)
    assert np.abs(fd[present]).max() > 1e-3
    np.testing.assert_allclose((state.w - w0)[present] / cfg["lr"], -0.5 * fd[present], rtol=RTOL, atol=1e-8)
    np.testing.assert_array_equal(state.w[~present], 0.0)


# --------------------------------------------------------------------------------------------------------
# Truncation
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
def test_truncation_at_full_depth_is_the_full_gradient(arch):
    cfg = _cfg(arch)
    seed = _seed("deep", arch)
    params = random_params(cfg, np.random.default_rng(seed))
    inputs, targets, mask, lengths = _sequence(cfg, seed + 1)
    L = int(lengths[0])
    full = flatten(delta_full(params, cfg, inputs[0], targets[0], mask[0]))
    for k in (L, L + 5):
        deep = flatten(delta_truncated_sum(params, cfg, inputs[0], targets[0], mask[0], k))
        np.testing.assert_allclose(deep, full, rtol=0, atol=1e-12)
    shallow = flatten(delta_truncated_sum(params, cfg, inputs[0], targets[0], mask[0], 1))
    if arch.get("recurrence") != "none":  # with recurrence, truncation is real
        assert np.abs(shallow - full).max() > 1e-4


@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
def test_kernel_deep_truncation_equals_full_bptt_with_a_final_target(arch):
    """With the only target at the sequence end both modes make one identical update per sequence."""
    cfg = _cfg(arch)
    seed = _seed("deep-kernel", arch)
    params = random_params(cfg, np.random.default_rng(seed))
    inputs, targets, mask, lengths = _data(cfg, seed + 1, n=3)
    mask[:] = False
    mask[np.arange(3), lengths - 1] = True
    batch = SequenceBatch(inputs, targets, mask, lengths)
    results = []
    for truncate in (0, inputs.shape[1], 1000):
        model = _model(make_config(cfg, truncate=truncate))
        state = state_of(model, params)
        model.train_chunk(state, batch)
        results.append(state.w)
    np.testing.assert_allclose(results[1], results[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(results[2], results[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("act", ["logistic", "tanh"])
@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
def test_one_step_rule_is_backprop_with_constant_context(arch, act):
    """Elman's rule, as written in the reference, is -1/2 dE(t)/dw with y(t-1) held constant; it equals
    truncated BPTT of depth 1."""
    cfg = _cfg(arch, act=act)
    seed = _seed("elman-fd", arch, act)
    rng = np.random.default_rng(seed)
    params = random_params(cfg, rng)
    U = cfg["hidden"] + cfg["n_out"]
    x_t, y_prev, target = rng.uniform(-1, 1, cfg["n_in"]), rng.uniform(-1, 1, U), rng.uniform(0, 1, cfg["n_out"])
    d = flatten(delta_one_step(params, cfg, x_t, y_prev, target))

    def loss(w):
        y = step(unflatten(w, cfg), cfg, x_t, y_prev)
        return float(np.sum((target - y[-cfg["n_out"] :]) ** 2))

    fd = central_differences(loss, flatten(params), EPS)
    present = flatten(masks(cfg)).astype(bool)
    np.testing.assert_allclose(d[present], -0.5 * fd[present], rtol=RTOL, atol=1e-8)
    # the same as depth-1 truncated BPTT at step 1 of a sequence whose y(0) is y_prev
    ys = np.stack([np.zeros(U), y_prev, step(params, cfg, x_t, y_prev)])
    xs = np.stack([np.zeros(cfg["n_in"]), x_t])
    tg = np.stack([np.zeros(cfg["n_out"]), target])
    np.testing.assert_allclose(flatten(delta_truncated(params, cfg, ys, xs, tg, 1, 1)), d, rtol=0, atol=1e-14)


@pytest.mark.parametrize("act", ["logistic", "tanh"])
@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
def test_kernel_depth_one_is_elmans_rule(arch, act):
    cfg = _cfg(arch, act=act, truncate=1)
    seed = _seed("elman-kernel", arch, act)
    params = random_params(cfg, np.random.default_rng(seed))
    arrays = _data(cfg, seed + 1)
    ref_params, ref_outputs = elman_train(params, cfg, *arrays)
    model = _model(cfg, Elman)
    state = state_of(model, params)
    res = model.train_chunk(state, SequenceBatch(*arrays))
    np.testing.assert_allclose(res.outputs, ref_outputs, rtol=0, atol=ATOL)
    _assert_params_equal(model, state.w, ref_params)


# --------------------------------------------------------------------------------------------------------
# Execution details that must not change results
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("truncate", [0, 1, 3])
@pytest.mark.parametrize("arch", [ARCHS[0], ARCHS[3], ARCHS[6], ARCHS[7]], ids=lambda a: a["arch"])
def test_sparse_equals_dense(arch, truncate):
    n_in = 6
    cfg = _cfg(arch, truncate=truncate, n_in=n_in, lr=0.9)
    model = _model(cfg)
    sparse = one_hot_batch(np.random.default_rng(_seed("sparse", arch, truncate)), 12, n_in, cfg["n_out"], 11)
    dense = SequenceBatch(sparse.inputs, sparse.targets, sparse.mask, sparse.lengths)
    s1 = model.init_state(np.random.default_rng(1))
    s2 = model.init_state(np.random.default_rng(1))
    w0 = s1.w.copy()
    r1 = model.train_chunk(s1, sparse)
    r2 = model.train_chunk(s2, dense)
    assert np.abs(s1.w - w0).max() > 1e-3
    np.testing.assert_array_equal(r1.outputs, r2.outputs)
    np.testing.assert_array_equal(s1.w, s2.w)
    np.testing.assert_array_equal(model.predict(s1, sparse), model.predict(s2, dense))


@pytest.mark.parametrize("one_hot", [False, True])
@pytest.mark.parametrize("truncate", [0, 1, 3])
def test_chunk_invariance(truncate, one_hot):
    n, n_in = 15, 5
    cfg = _cfg(dict(arch="wz"), truncate=truncate, n_in=n_in)
    model = _model(cfg)
    rng = np.random.default_rng(_seed("chunks", truncate, one_hot))
    if one_hot:
        batch = one_hot_batch(rng, n, n_in, cfg["n_out"], 9)
    else:
        batch = SequenceBatch(*random_batch(rng, n, 9, n_in, cfg["n_out"]))
    results = []
    for size in (1, 7, n):
        state = model.init_state(np.random.default_rng(2))
        outputs = []
        for start in range(0, n, size):
            part = batch.take(slice(start, start + size))
            res = model.train_chunk(state, part)
            assert res.status == 0 and res.n_done == len(part)
            outputs.extend(res.outputs[i, : part.lengths[i]] for i in range(len(part)))
        results.append((state.w, outputs))
    for w, outputs in results[1:]:
        np.testing.assert_array_equal(w, results[0][0])
        for a, b in zip(outputs, results[0][1], strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("truncate", [0, 1])
def test_absent_weights_stay_zero_on_a_task(truncate):
    task = tasks.make("long-lag", p=10)
    model = RNNBPTT.for_task(
        task, hidden=2, recurrence="self", skip=False, truncate=truncate, lr=2.0, outputs_see="current"
    )
    state = model.init_state(np.random.default_rng(0))
    w0 = state.w.copy()
    res = model.train_chunk(state, task.sample(np.random.default_rng(1), 50))
    assert res.status == 0
    present = _present(model)
    assert np.all(state.w[~present] == 0.0)
    assert np.all(state.w[present] != w0[present])


@pytest.mark.parametrize("truncate", [0, 1, 3])
def test_non_finite_gives_status_1(truncate):
    cfg = _cfg(ARCHS[0], truncate=truncate)
    model = _model(cfg)
    inputs, targets, mask, lengths = _data(cfg, 9)
    # a non-finite weight: the first sequence already fails
    state = model.init_state(np.random.default_rng(0))
    state.w[np.flatnonzero(_present(model))[0]] = np.nan
    res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))
    assert (res.status, res.n_done) == (1, 0)
    # a non-finite input in sequence 2: sequences 0 and 1 are done
    state = model.init_state(np.random.default_rng(0))
    inputs = inputs.copy()
    inputs[2, 0, 0] = np.inf
    with np.errstate(invalid="ignore"):  # NUMBA_DISABLE_JIT=1: numpy warns about inf * 0
        res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))
    assert (res.status, res.n_done) == (1, 2)


@pytest.mark.parametrize("truncate", [0, 1, 3])
@pytest.mark.parametrize("cls", [RNNBPTT, Elman])
@pytest.mark.parametrize("task", [("long-lag", {"p": 4}), ("adding", {"T": 20})], ids=["long-lag", "adding"])
def test_contract(task, cls, truncate):
    t = tasks.make(task[0], **task[1])
    check_model(cls.for_task(t, truncate=truncate), t)

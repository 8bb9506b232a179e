"""The LSTM options of Gers, Schmidhuber & Cummins 2000's continual embedded Reber grammar (PAPER.md §11.1):
``outputs_see_inputs`` and ``bias=gates_outputs`` (the 424-weight net), ``state_decay``, ``external_reset`` (states
reset at the batch's ``info["reset"]`` marks), ``lr_decay`` / ``lr_decay_every`` and halting (a batch's
``info["halt"]``: a sequence stops after its first step with an output off by that much). Each equals the
plain-numpy reference (tests/reference/lstm_reference.py) to 1e-10, is chunk-invariant, and leaves the defaults
(and so every stored configuration's key) alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference.lstm_cases import ATOL, assert_params_close, case_data, case_seed, kernel_model, set_params
from reference.lstm_reference import make_config, random_params, reference_train

from lstm97 import models, tasks
from lstm97.errors import UserError
from lstm97.models.lstm import LSTM
from lstm97.runners import TrialConfig
from lstm97.tasks import SequenceBatch

#: (name, extra reference configuration, use resets, halt tolerance)
CASES = [
    ("outputs see inputs", dict(connectivity="cells", outputs_see_inputs=True, bias="gates_outputs"), False, 0.0),
    ("state decay", dict(state_decay=0.9), False, 0.0),
    ("state decay, peepholes", dict(state_decay=0.8, peepholes=True, connectivity="cells"), False, 0.0),
    ("state decay, 1997 traces", dict(state_decay=0.9, state_decay_traces=False), False, 0.0),
    (
        "state decay, 1997 traces, peepholes",
        dict(state_decay=0.8, state_decay_traces=False, peepholes=True, connectivity="cells"),
        False,
        0.0,
    ),
    ("external reset", dict(forget_gate=True), True, 0.0),
    ("halt", dict(connectivity="cells", outputs_see_inputs=True, bias="gates_outputs", forget_gate=True), False, 0.3),
    ("lr decay", dict(lr_decay=0.7, lr_decay_every=2), False, 0.0),
    ("everything", dict(state_decay=0.9, lr_decay=0.9, outputs_see_inputs=True, connectivity="F"), True, 0.35),
]


def _cfg(update, extra):
    base = dict(n_in=3, n_out=2, blocks=2, block_size=2, bias="all", lr=0.4, update=update)
    return make_config({**base, **extra})


def _hp(cfg):
    keys = ("outputs_see_inputs", "state_decay", "state_decay_traces", "lr_decay", "lr_decay_every")
    hp = {k: cfg[k] for k in keys}
    return hp


@pytest.mark.kernel
@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("name,extra,use_resets,halt", CASES, ids=[c[0] for c in CASES])
def test_kernel_matches_the_reference(name, extra, use_resets, halt, update):
    cfg = _cfg(update, extra)
    seed = case_seed("cerg-options", name, update)
    params = random_params(cfg, np.random.default_rng(seed), -0.5, 0.5)
    inputs, targets, mask, lengths = case_data(cfg, seed + 1, n=6, length=9)
    info = {}
    resets = None
    if use_resets:
        resets = np.random.default_rng(seed + 2).random(mask.shape) < 0.3
        info["reset"] = resets
    if halt:
        info["halt"] = np.full(len(lengths), halt)
    model, state = kernel_model(cfg, **_hp(cfg), external_reset=use_resets)
    set_params(model, state, params)
    batch = SequenceBatch(inputs, targets, mask, lengths, info)
    res = model.train_chunk(state, batch)
    stops: list[int] = []
    expected, outputs = reference_train(
        params, cfg, inputs, targets, mask, lengths, resets=resets, halt=halt, stops=stops
    )
    assert res.status == 0
    np.testing.assert_allclose(res.outputs, outputs, rtol=0, atol=ATOL)
    assert_params_close(model, state.w, expected, f"{name} {update}")
    if halt:
        assert res.stops.tolist() == stops and (np.array(stops) < lengths).any()  # some sequences halted
    if cfg["lr_decay"] != 1.0:
        decays, left = divmod(len(lengths), cfg["lr_decay_every"])
        assert state.extra["lr"] == pytest.approx(0.4 * cfg["lr_decay"] ** decays) and state.extra["lr_pos"] == left
    set_params(model, state, params)
    pred_stops: list[int] = []
    np.testing.assert_allclose(
        model.predict(state, batch),
        reference_train(params, cfg, inputs, targets, mask, lengths, False, resets, halt, pred_stops)[1],
        rtol=0,
        atol=ATOL,
    )


@pytest.mark.kernel
@pytest.mark.parametrize("name,extra,use_resets,halt", CASES, ids=[c[0] for c in CASES])
def test_chunk_invariance(name, extra, use_resets, halt):
    cfg = _cfg("step", extra)
    inputs, targets, mask, lengths = case_data(cfg, 7, n=6, length=9)
    info = {"reset": np.random.default_rng(8).random(mask.shape) < 0.3} if use_resets else {}
    if halt:
        info["halt"] = np.full(6, halt)
    batch = SequenceBatch(inputs, targets, mask, lengths, info)
    model, whole = kernel_model(cfg, **_hp(cfg), external_reset=use_resets)
    parts = whole.copy()
    out = model.train_chunk(whole, batch).outputs
    pieces = [model.train_chunk(parts, batch.take(slice(a, a + 1))).outputs for a in range(6)]
    assert whole.w.tobytes() == parts.w.tobytes()
    assert all(np.array_equal(out[a, : p.shape[1]], p[0]) for a, p in enumerate(pieces))
    assert whole.extra == parts.extra or whole.extra.keys() == parts.extra.keys()


def test_the_cerg_net_has_424_weights():
    task = tasks.make("reber-continual", stream=50)
    assert models.make("lstm", task).n_weights == 424  # 4 x 2 cells, forget gates: PAPER.md §11.1
    assert models.make("lstm", task, forget_gate=False, forget_gate_bias=None).n_weights == 360


def test_refusals():
    with pytest.raises(UserError, match="constant forget gate"):
        LSTM.for_dims(2, 2, state_decay=0.9, forget_gate=True)
    with pytest.raises(UserError, match="under B the outputs see the inputs"):
        LSTM.for_dims(2, 2, outputs_see_inputs=True, connectivity="B")
    with pytest.raises(UserError, match="gradient=full does not support state_decay"):
        LSTM.for_dims(2, 2, state_decay=0.9, gradient="full", update="sequence")
    model = LSTM.for_dims(2, 2, external_reset=True)
    batch = SequenceBatch(np.zeros((1, 3, 2)), np.zeros((1, 3, 2)), np.ones((1, 3), bool), np.array([3]))
    with pytest.raises(UserError, match="marks its string starts"):
        model.train_chunk(model.init_state(np.random.default_rng(0)), batch)


def test_defaults_keep_keys():
    plain = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100)
    spelt = TrialConfig.resolve(
        "adding",
        {"T": 20},
        "lstm",
        {
            "outputs_see_inputs": False,
            "external_reset": False,
            "state_decay": 1.0,
            "state_decay_traces": True,
            "lr_decay": 1.0,
        },
        max_sequences=100,
    )
    assert plain.key() == spelt.key()
    assert "lr" not in models.make("lstm", tasks.make("adding", T=20)).init_state(np.random.default_rng(0)).extra


@pytest.mark.kernel
def test_untraced_state_decay_learns_otherwise():
    """state_decay_traces=false changes the weights' changes, not the forward pass."""
    cfg = _cfg("step", dict(state_decay=0.9))
    params = random_params(cfg, np.random.default_rng(11), -0.5, 0.5)
    batch = SequenceBatch(*case_data(cfg, 12, n=4, length=9))
    weights, outputs = [], []
    for traced in (True, False):
        model, state = kernel_model(cfg, **{**_hp(cfg), "state_decay_traces": traced})
        set_params(model, state, params)
        outputs.append(model.predict(state, batch))
        model.train_chunk(state, batch)
        weights.append(state.w)
    assert np.array_equal(outputs[0], outputs[1])
    assert np.abs(weights[0] - weights[1]).max() > 1e-6


@pytest.mark.kernel
@pytest.mark.parametrize("hp", [{}, {"forget_gate": False, "forget_gate_bias": None, "external_reset": True}])
def test_trace_follows_predict_up_to_the_halt(hp):
    task = tasks.make("reber-continual", stream=80)
    model = models.make("lstm", task, init=1.0, **hp)
    state = model.init_state(np.random.default_rng(3))
    batch = task.sample(np.random.default_rng(4), 1)
    out = model.predict(state, batch)[0]
    stop = int(task.error_free(batch, out[None])[0]) + 1  # predict halts right after the first wrong symbol
    assert stop < 80
    traced = model.trace(state, batch)["outputs"]
    np.testing.assert_allclose(traced[:stop], out[:stop], rtol=0, atol=1e-12)
    assert (out[stop:] == 0).all()
    free = {k: v for k, v in batch.info.items() if k != "halt"}  # without halting, every step is computed
    whole = SequenceBatch(batch.inputs, batch.targets, batch.mask, batch.lengths, free)
    np.testing.assert_allclose(traced, model.predict(state, whole)[0], rtol=0, atol=1e-12)

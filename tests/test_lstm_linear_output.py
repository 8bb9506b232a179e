"""The LSTM's ``output=linear``: linear output units y_k = net_k with e_k = t_k - y_k (f' = 1), not in the 1997
paper (docs/deviations.md).

* The truncated kernel equals the numpy reference (tests/reference/lstm_reference.py, ``output="linear"``) to
  1e-10, with update=step and update=sequence, on a few structures (the generic kernel: the flag is read at run
  time; tests/test_lstm_specialised.py compares the specialised one with it).
* gradient=full: the kernel's change of one sequence equals the reference's gradient (1e-10) and central finite
  differences of the numpy loss; several sequences equal reference_train_full.
* predict and trace give the linear outputs; ``output=logistic`` is the default and leaves configuration keys
  alone; the declared output range is (0, 1) or unbounded.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import lstm_bptt_reference as bptt
from reference.lstm_cases import ATOL, assert_params_close, case_data, case_seed, kernel_model, set_params
from reference.lstm_reference import (
    PARAM_NAMES,
    flatten,
    make_config,
    random_batch,
    random_params,
    reference_loss,
    reference_predict,
    reference_train,
    unflatten,
)

from lstm97.models.lstm import LSTM
from lstm97.runners import TrialConfig
from lstm97.tasks import SequenceBatch

#: (connectivity, output_gate, forget_gate, peepholes, bias): a few structures, every output-unit source kind.
STRUCTS = [("F", True, False, False, "all"), ("B", True, False, False, "hidden"), ("cells", False, True, True, "all")]


def _cfg(conn, og, fg, pe, bias, **kw):
    return make_config(
        n_in=3,
        n_out=2,
        blocks=2,
        block_size=2,
        connectivity=conn,
        output_gate=og,
        forget_gate=fg,
        peepholes=pe,
        bias=bias,
        output="linear",
        **{"lr": 0.3, **kw},
    )


@pytest.mark.kernel
@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("conn,og,fg,pe,bias", STRUCTS)
def test_truncated_kernel_matches_the_reference(conn, og, fg, pe, bias, update):
    cfg = _cfg(conn, og, fg, pe, bias, update=update, error_factor=2 if conn == "B" else 1)
    seed = case_seed("linear", conn, og, fg, pe, bias, update)
    params = random_params(cfg, np.random.default_rng(seed), -0.5, 0.5)
    inputs, targets, mask, lengths = case_data(cfg, seed + 1)
    targets = 2.0 * targets - 0.5  # targets outside [0, 1]: only linear units reach them
    model, state = kernel_model(cfg)
    assert model.hp["output"] == "linear"
    set_params(model, state, params)
    res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))
    expected, outputs = reference_train(params, cfg, inputs, targets, mask, lengths)
    assert res.status == 0 and res.n_done == len(lengths)
    np.testing.assert_allclose(res.outputs, outputs, rtol=0, atol=ATOL)
    assert (np.abs(outputs) > 1.0).any() or (outputs < 0).any()  # really not logistic
    assert_params_close(model, state.w, expected, f"{conn} {update}")
    set_params(model, state, params)
    batch = SequenceBatch(inputs, targets, mask, lengths)
    np.testing.assert_allclose(
        model.predict(state, batch), reference_predict(params, cfg, inputs, targets, mask, lengths), rtol=0, atol=ATOL
    )


@pytest.mark.parametrize("conn,og,fg,pe,bias", STRUCTS)
def test_reference_full_gradient_equals_finite_differences(conn, og, fg, pe, bias):
    cfg = _cfg(conn, og, fg, pe, bias, update="sequence", reset=0.3)
    seed = case_seed("linear-fd", conn, og, fg, pe, bias)
    params = random_params(cfg, np.random.default_rng(seed), -0.8, 0.8)
    inputs, targets, mask, lengths = random_batch(np.random.default_rng(seed + 1), 1, 5, 3, 2)
    mask[0, -1] = True
    targets = 2.0 * targets
    seq = (inputs[0], targets[0], mask[0])
    w = flatten(params)
    assert bptt.batched_loss(w, cfg, *seq)[0] == pytest.approx(
        reference_loss(params, cfg, inputs, targets, mask, lengths), rel=1e-12
    )
    fd = bptt.central_differences(w, cfg, *seq)
    assert np.abs(fd).max() > 1e-3
    np.testing.assert_allclose(
        flatten(bptt.gradient(params, cfg, *seq)), -0.5 * fd, rtol=0, atol=1e-7 * np.abs(fd).max()
    )


@pytest.mark.kernel
@pytest.mark.parametrize("conn,og,fg,pe,bias", STRUCTS)
def test_full_gradient_kernel_equals_reference_and_finite_differences(conn, og, fg, pe, bias):
    """One sequence, lr 1: the change is -1/2 dE/dw; then several sequences with update=epoch."""
    cfg = _cfg(conn, og, fg, pe, bias, update="sequence", lr=1.0)
    seed = case_seed("linear-full", conn, og, fg, pe, bias)
    params = random_params(cfg, np.random.default_rng(seed), -0.8, 0.8)
    inputs, targets, mask, lengths = random_batch(np.random.default_rng(seed + 1), 1, 5, 3, 2)
    mask[0, -1] = True
    targets = 2.0 * targets
    model, state = kernel_model(cfg, gradient="full")
    set_params(model, state, params)
    w0 = state.w.copy()
    assert model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths)).status == 0
    change = model.views(state.w - w0)
    seq = (inputs[0], targets[0], mask[0])
    fd = unflatten(-0.5 * bptt.central_differences(flatten(params), cfg, *seq), cfg)
    scale = max(np.abs(v).max() if v.size else 0.0 for v in fd.values())
    ref = bptt.gradient(params, cfg, *seq)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(change[name], fd[name], rtol=0, atol=1e-7 * scale, err_msg=name)
        np.testing.assert_allclose(change[name], ref[name], rtol=0, atol=ATOL, err_msg=name)
    cfg = _cfg(conn, og, fg, pe, bias, update="epoch", epoch=2, lr=0.4)
    batch = random_batch(np.random.default_rng(seed + 2), 5, 6, 3, 2, p_target=0.5)
    model, state = kernel_model(cfg, gradient="full")
    set_params(model, state, params)
    res = model.train_chunk(state, SequenceBatch(*batch))
    expected, outputs = bptt.reference_train_full(params, cfg, *batch)
    assert res.status == 0
    np.testing.assert_allclose(res.outputs, outputs, rtol=0, atol=ATOL)
    assert_params_close(model, state.w, expected, f"{conn} epoch")


@pytest.mark.kernel
def test_trace_and_predict_give_the_linear_outputs():
    model = LSTM.for_dims(2, 1, output="linear", forget_gate=True, init=1.0)
    state = model.init_state(np.random.default_rng(0))
    batch = SequenceBatch(*random_batch(np.random.default_rng(1), 1, 9, 2, 1))
    out = model.predict(state, batch)[0]
    np.testing.assert_allclose(model.trace(state, batch)["outputs"], out, rtol=0, atol=1e-12)
    logistic = LSTM.for_dims(2, 1, forget_gate=True, init=1.0)
    np.testing.assert_allclose(
        logistic.predict(state, batch)[0], 1.0 / (1.0 + np.exp(-out)), rtol=0, atol=1e-12
    )  # the same net input, squashed


def test_logistic_is_the_default_and_keeps_keys():
    assert LSTM.for_dims(2, 1).hp["output"] == "logistic"
    plain = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100)
    spelt = TrialConfig.resolve("adding", {"T": 20}, "lstm", {"output": "logistic"}, max_sequences=100)
    assert spelt.key() == plain.key() and "output" not in plain.model_args
    assert LSTM.for_dims(2, 1).output_range() == (0.0, 1.0)
    assert LSTM.for_dims(2, 1, output="linear").output_range() == (-np.inf, np.inf)

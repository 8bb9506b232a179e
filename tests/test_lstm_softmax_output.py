"""The LSTM's and the GRU's ``output=softmax``: y = softmax(net), trained on the cross-entropy CE = -sum_k t_k log
y_k with e_k = t_k - y_k (= -dCE/dnet_k), not in the 1997 paper (docs/deviations.md). The learning-rate convention
is the squared error's: Delta w = lr (-dL/dw) with L = CE here and L = E/2 for logistic and linear units.

* The truncated kernel equals the numpy reference (``output="softmax"``) to 1e-10, update=step and sequence.
* The output layer's change of one sequence (update=sequence, lr 1) is -dCE/dw by central finite differences: the
  output units are no source of any unit, so the truncated gradient is exact there.
* gradient=full: the change of one sequence equals the reference's gradient (1e-10) and -dCE/dw by finite
  differences, for every weight.
* Chunk invariance, predict and trace agree, outputs sum to 1; the GRU's softmax output layer equals the
  reference's and its gradient is -dCE/dw.
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
    reference_predict,
    reference_train,
    unflatten,
)

from lstm97 import models, tasks
from lstm97.errors import UserError
from lstm97.models.lstm import LSTM
from lstm97.runners import TrialConfig
from lstm97.tasks import SequenceBatch

STRUCTS = [("F", True, False, False, "all"), ("B", True, False, False, "hidden"), ("cells", False, True, True, "all")]


def _cfg(conn, og, fg, pe, bias, **kw):
    return make_config(
        n_in=3,
        n_out=3,
        blocks=2,
        block_size=2,
        connectivity=conn,
        output_gate=og,
        forget_gate=fg,
        peepholes=pe,
        bias=bias,
        output="softmax",
        **{"lr": 0.3, **kw},
    )


def _distributions(rng, shape):
    """Targets that are probability distributions over the last axis."""
    t = rng.random(shape)
    return t / t.sum(axis=-1, keepdims=True)


@pytest.mark.kernel
@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("conn,og,fg,pe,bias", STRUCTS)
def test_truncated_kernel_matches_the_reference(conn, og, fg, pe, bias, update):
    cfg = _cfg(conn, og, fg, pe, bias, update=update)
    seed = case_seed("softmax", conn, og, fg, pe, bias, update)
    params = random_params(cfg, np.random.default_rng(seed), -0.5, 0.5)
    inputs, _, mask, lengths = case_data(cfg, seed + 1)
    targets = _distributions(np.random.default_rng(seed + 2), mask.shape + (3,))
    model, state = kernel_model(cfg)
    set_params(model, state, params)
    res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))
    expected, outputs = reference_train(params, cfg, inputs, targets, mask, lengths)
    assert res.status == 0 and res.n_done == len(lengths)
    np.testing.assert_allclose(res.outputs, outputs, rtol=0, atol=ATOL)
    inside = np.arange(mask.shape[1])[None, :] < lengths[:, None]
    np.testing.assert_allclose(res.outputs.sum(axis=2)[inside], 1.0, rtol=0, atol=1e-12)
    assert_params_close(model, state.w, expected, f"{conn} {update}")
    set_params(model, state, params)
    batch = SequenceBatch(inputs, targets, mask, lengths)
    np.testing.assert_allclose(
        model.predict(state, batch), reference_predict(params, cfg, inputs, targets, mask, lengths), rtol=0, atol=ATOL
    )


def _ce(params, cfg, inputs, targets, mask, lengths) -> float:
    out = reference_predict(params, cfg, inputs, targets, mask, lengths)
    return float(-(targets * np.log(np.where(mask[..., None], out, 1.0))).sum())


@pytest.mark.kernel
@pytest.mark.parametrize("conn,og,fg,pe,bias", STRUCTS)
def test_output_layer_change_is_minus_the_cross_entropy_gradient(conn, og, fg, pe, bias):
    cfg = _cfg(conn, og, fg, pe, bias, update="sequence", lr=1.0)
    seed = case_seed("softmax-fd", conn, og, fg, pe, bias)
    params = random_params(cfg, np.random.default_rng(seed), -0.8, 0.8)
    inputs, _, mask, lengths = random_batch(np.random.default_rng(seed + 1), 1, 6, 3, 3, p_target=0.6)
    mask[0, -1] = True
    targets = _distributions(np.random.default_rng(seed + 2), mask.shape + (3,))
    model, state = kernel_model(cfg)
    set_params(model, state, params)
    w0 = state.w.copy()
    assert model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths)).status == 0
    change = model.views(state.w - w0)
    for name in ("W_k", "b_k"):
        if not params[name].size:
            continue
        fd = np.zeros_like(params[name])
        for idx in np.ndindex(fd.shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][idx] += 1e-6
            down[name][idx] -= 1e-6
            fd[idx] = (
                _ce(up, cfg, inputs, targets, mask, lengths) - _ce(down, cfg, inputs, targets, mask, lengths)
            ) / 2e-6
        assert np.abs(fd).max() > 1e-3
        np.testing.assert_allclose(change[name], -fd, rtol=0, atol=1e-7 * np.abs(fd).max(), err_msg=name)


@pytest.mark.kernel
@pytest.mark.parametrize("conn,og,fg,pe,bias", STRUCTS)
def test_full_gradient_is_minus_the_cross_entropy_gradient(conn, og, fg, pe, bias):
    cfg = _cfg(conn, og, fg, pe, bias, update="sequence", lr=1.0)
    seed = case_seed("softmax-full", conn, og, fg, pe, bias)
    params = random_params(cfg, np.random.default_rng(seed), -0.8, 0.8)
    inputs, _, mask, lengths = random_batch(np.random.default_rng(seed + 1), 1, 5, 3, 3)
    mask[0, -1] = True
    targets = _distributions(np.random.default_rng(seed + 2), mask.shape + (3,))
    model, state = kernel_model(cfg, gradient="full")
    set_params(model, state, params)
    w0 = state.w.copy()
    res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))
    assert res.status == 0
    np.testing.assert_allclose(res.outputs, reference_predict(params, cfg, inputs, targets, mask, lengths), atol=ATOL)
    change = model.views(state.w - w0)
    seq = (inputs[0], targets[0], mask[0])
    assert bptt.batched_loss(flatten(params), cfg, *seq)[0] == pytest.approx(
        _ce(params, cfg, inputs, targets, mask, lengths), rel=1e-12
    )
    fd = unflatten(-bptt.central_differences(flatten(params), cfg, *seq), cfg)
    scale = max(np.abs(v).max() if v.size else 0.0 for v in fd.values())
    ref = bptt.gradient(params, cfg, *seq)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(change[name], fd[name], rtol=0, atol=1e-7 * scale, err_msg=name)
        np.testing.assert_allclose(change[name], ref[name], rtol=0, atol=ATOL, err_msg=name)


@pytest.mark.kernel
def test_chunk_invariance_and_trace():
    task = tasks.make("copy", T=4)
    model = models.make("lstm", task, blocks=3)
    batch = task.sample(np.random.default_rng(3), 6)
    whole = model.init_state(np.random.default_rng(0))
    parts = whole.copy()
    out = model.train_chunk(whole, batch).outputs
    pieces = [model.train_chunk(parts, batch.take(slice(a, a + 2))).outputs for a in range(0, 6, 2)]
    assert whole.w.tobytes() == parts.w.tobytes()
    assert np.array_equal(out, np.concatenate(pieces))
    one = batch.take(slice(0, 1))
    np.testing.assert_allclose(model.trace(whole, one)["outputs"], model.predict(whole, one)[0], rtol=0, atol=1e-12)


def test_softmax_refusals_and_defaults():
    with pytest.raises(UserError, match="at least two output units"):
        LSTM.for_dims(2, 1, output="softmax")
    assert LSTM.for_dims(2, 2, output="softmax").output_range() == (0.0, 1.0)
    assert "distribution" in LSTM.for_dims(2, 2, output="softmax").capabilities()
    assert "distribution" not in LSTM.for_dims(2, 2).capabilities()
    plain = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100)
    assert "output" not in plain.model_args


@pytest.mark.kernel
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_gru_softmax_matches_the_reference_and_steps_on_the_cross_entropy(optimizer):
    from reference import gru_reference as G

    from lstm97.models.gru import GRU

    lr = 0.5 if optimizer == "sgd" else 0.05
    cfg = G.make_config(n_in=3, n_out=3, hidden=3, output="softmax", optimizer=optimizer, lr=lr)
    seed = case_seed("gru-softmax", optimizer)
    params = G.random_params(cfg, np.random.default_rng(seed))
    inputs, _, mask, lengths = random_batch(np.random.default_rng(seed + 1), 4, 6, 3, 3, p_target=0.5)
    mask[0, lengths[0] - 1] = True
    targets = _distributions(np.random.default_rng(seed + 2), mask.shape + (3,))
    keys = ("hidden", "reset_after", "output", "optimizer", "lr", "beta1", "beta2", "rho", "eps")
    model = GRU.for_dims(3, 3, **{k: cfg[k] for k in keys})
    state = model.init_state(np.random.default_rng(0))
    state.w[:] = G.flatten(params)
    res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))
    ref, outputs, _ = G.reference_train(params, cfg, inputs, targets, mask, lengths)
    assert res.status == 0
    np.testing.assert_allclose(res.outputs, outputs, rtol=0, atol=ATOL)
    np.testing.assert_allclose(state.w, G.flatten(ref), rtol=0, atol=ATOL)
    # the reference's gradient is -dCE/dw: central differences of the cross-entropy of one sequence
    x, t, m = inputs[0, : lengths[0]], targets[0, : lengths[0]], mask[0, : lengths[0]]

    def ce(w):
        y = G.forward(G.unflatten(w, cfg), cfg, x)["y"]
        return float(-(t[m] * np.log(y[m])).sum())

    w0 = G.flatten(params)
    fd = np.array([(ce(w0 + 1e-6 * e) - ce(w0 - 1e-6 * e)) / 2e-6 for e in np.eye(w0.size)])
    grad = G.flatten(G.gradient(params, cfg, x, t, m))
    assert np.abs(fd).max() > 1e-3
    np.testing.assert_allclose(grad, -fd, rtol=0, atol=1e-7 * np.abs(fd).max())

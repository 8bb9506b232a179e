"""LSTM with the full gradient and a modern optimiser (``--hp optimizer=adam|rmsprop``; issue "Beyond the paper"):
the kernel's steps equal Adam / RMSProp written out in numpy on the reference's gradients (to 1e-10), the moments
carry over chunks bit for bit, and the option is refused where there is no per-sequence gradient."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from reference import lstm_bptt_reference as bptt
from reference.lstm_cases import assert_params_close, case_seed, kernel_model, set_params
from reference.lstm_reference import PARAM_NAMES, random_batch, random_params
from test_lstm_full_gradient import _cfg, _trim

from lstm97.errors import UserError
from lstm97.models.lstm import LSTM
from lstm97.tasks import SequenceBatch


def _reference_steps(params, cfg, batch, optimizer, lr, beta1=0.9, beta2=0.999, rho=0.9, eps=1e-8):
    """Adam (Kingma & Ba's Algorithm 1) or RMSProp on g = the reference's -1/2 dE/dw of each sequence in turn."""
    p = {k: np.array(params[k], dtype=np.float64, copy=True) for k in PARAM_NAMES}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(x) for k, x in p.items()}
    inputs, targets, mask, lengths = batch
    for i in range(len(lengths)):
        L = int(lengths[i])
        grad = bptt.gradient(p, {**cfg, "lr": 1.0}, inputs[i, :L], targets[i, :L], mask[i, :L])
        t = i + 1
        for k in PARAM_NAMES:
            g = grad[k]
            if optimizer == "adam":
                m[k] = beta1 * m[k] + (1 - beta1) * g
                v[k] = beta2 * v[k] + (1 - beta2) * g * g
                p[k] = p[k] + lr * (m[k] / (1 - beta1**t)) / (np.sqrt(v[k] / (1 - beta2**t)) + eps)
            else:
                v[k] = rho * v[k] + (1 - rho) * g * g
                p[k] = p[k] + lr * g / (np.sqrt(v[k]) + eps)
    return p


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
@pytest.mark.parametrize(
    "conn,fg,pe", [("F", False, False), ("F", True, True), ("cells", True, False), ("B", False, True)]
)
def test_kernel_steps_are_the_optimiser_on_the_reference_gradient(optimizer, conn, fg, pe):
    cfg = _cfg(conn, True, fg, pe, lr=0.01)
    seed = case_seed("lstm-optimizer", optimizer, conn, fg, pe)
    params = random_params(cfg, np.random.default_rng(seed), -0.5, 0.5)
    batch = random_batch(np.random.default_rng(seed + 1), 4, 6, 2, 2, p_target=0.5)
    model, state = kernel_model(cfg, gradient="full", optimizer=optimizer)
    set_params(model, state, params)
    res = model.train_chunk(state, SequenceBatch(*batch))
    assert res.status == 0 and res.n_done == 4
    expected = _reference_steps(params, cfg, batch, optimizer, 0.01)
    assert_params_close(model, state.w, expected, f"{optimizer} {conn} fg={fg} pe={pe}")
    if optimizer == "adam":
        assert state.extra["t"] == 4


def test_moments_carry_over_chunks_bit_for_bit():
    hp = dict(gradient="full", update="sequence", forget_gate=True, peepholes=True, lr=0.01, optimizer="adam")
    batch = SequenceBatch(*random_batch(np.random.default_rng(31), 7, 8, 3, 2, p_target=0.5))
    finals = []
    for cuts in ((0, 7), (0, 1, 4, 7), (0, 6, 7)):
        model = LSTM.for_dims(3, 2, **hp)
        state = model.init_state(np.random.default_rng(32))
        for a, b in itertools.pairwise(cuts):
            model.train_chunk(state, _trim(batch.take(slice(a, b))))
        finals.append(state)
    for s in finals[1:]:
        np.testing.assert_array_equal(s.w, finals[0].w)
        np.testing.assert_array_equal(s.extra["m"], finals[0].extra["m"])
        np.testing.assert_array_equal(s.extra["v"], finals[0].extra["v"])
        assert s.extra["t"] == finals[0].extra["t"] == 7


@pytest.mark.parametrize("hp", [dict(optimizer="adam"), dict(optimizer="rmsprop", gradient="full", update="epoch")])
def test_optimiser_needs_the_full_gradient_per_sequence(hp):
    with pytest.raises(UserError, match="set gradient=full and update=sequence"):
        LSTM.for_dims(2, 2, **hp)


def test_sgd_state_has_no_moments():
    state = LSTM.for_dims(2, 2, gradient="full", update="sequence").init_state(np.random.default_rng(0))
    assert "m" not in state.extra and "t" not in state.extra

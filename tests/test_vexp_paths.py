"""The kernels that take their output units' exp by :func:`lstm97.models._vexp.exp_neg` (the LSTM's scalar
kernel, the conventional nets' forward pass, the chunker) give the same bits with its SIMD loops as with one
``math.exp`` per unit, training and predicting. Only where the SIMD loops agree with the C library's exp
(:func:`~lstm97.models._vexp.agrees_with_libm`); elsewhere (and with the JIT off) the kernels never take them."""

from __future__ import annotations

import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.models import _lstm_kernels, _vexp, chunker, rnn, rtrl

pytestmark = pytest.mark.skipif(not _vexp.agrees_with_libm(), reason="the SIMD exp is not math.exp's here")

_NET_2A = dict(arch="layered", hidden=1, recurrence="self", skip=True, bias=False, act="logistic", init=0.2)

CASES = [
    ("lstm, logistic outputs (2a net)", "long-lag", {"p": 10}, "lstm", {}),
    ("lstm, softmax outputs", "copy", {"T": 5}, "lstm", {"blocks": 3}),
    ("rtrl, one level", "long-lag", {"p": 10}, "rtrl", {**_NET_2A, "lr": 1.0}),
    ("rtrl, two levels", "long-lag", {"p": 10}, "rtrl", {**_NET_2A, "lr": 1.0, "outputs_see": "current"}),
    ("rnn-bptt", "long-lag", {"p": 10}, "rnn-bptt", {**_NET_2A, "lr": 1.0, "truncate": 0}),
    ("elman", "reber", {}, "elman", {}),
    ("chunker", "long-lag", {"p": 10}, "chunker", {}),
]


def _bits(model, state, batch, vexp: bool, monkeypatch) -> bytes:
    for module in (_lstm_kernels, rnn, rtrl, chunker):
        monkeypatch.setattr(module, "agrees_with_libm", lambda: vexp)
    s = state.copy()
    out = model.predict(s, batch).tobytes()
    res = model.train_chunk(s, batch)
    extra = np.asarray((s.extra or {}).get("c", [])).tobytes()
    return out + res.outputs.tobytes() + s.w.tobytes() + extra


@pytest.mark.parametrize("name,task_name,tp,model_name,hp", CASES, ids=[c[0] for c in CASES])
def test_the_simd_exp_gives_the_scalar_bits(name, task_name, tp, model_name, hp, monkeypatch):
    task = tasks.make(task_name, **tp)
    model = models.make(model_name, task, **hp)
    rng = np.random.default_rng(5)
    state = model.init_state(rng)
    batch = task.sample(rng, 8)
    assert _bits(model, state, batch, True, monkeypatch) == _bits(model, state, batch, False, monkeypatch)

"""The specialised LSTM kernels compute the same bits as the generic one.

``lstm_chunk`` runs a configuration through the generic kernel (flags read at run time) until it has done
``SPECIALISE_AFTER`` time steps of it in the process, then through the kernel compiled for it (every flag and
size a compile-time constant, :func:`lstm97.models._lstm_kernels.kernel`). Which one runs must never show in a
result: the kernel-versus-reference tests cover the generic kernel; here each specialised one is compared with
it bit for bit on configurations that together switch every flag both ways, a switch in the middle of a trial
changes nothing, and stored trials of lstm97 0.1.0 replay identically through the specialised kernels.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.models import _lstm_kernels as K
from lstm97.results import Store
from lstm97.runners.trial import TrialConfig, run_trial

FIXTURE = Path(__file__).parent / "data" / "store_v1.sqlite"
_KERNEL = K.kernel

#: (task, task parameters, LSTM hyperparameters): between them every flag of ``Flags`` takes both values.
CONFIGS = [
    ("adding", {"T": 20}, {}),  # dense inputs, connectivity F, g2/h1, every layer biased, update per step
    ("reber", {}, {"update": "sequence", "reset": 0.5}),  # one-hot inputs, gate biases only
    ("long-lag", {"variant": "a", "p": 10}, {"connectivity": "B"}),  # B: outputs see the inputs
    ("adding", {"T": 20}, {"forget_gate": True, "peepholes": True, "connectivity": "cells", "bias": "all"}),
    (
        "reber",
        {},
        {
            "forget_gate": True,
            "update": "epoch",
            "epoch": 3,
            "output_gate": False,
            "bias": "none",
            "in_gate_bias": "r",
            "out_gate_bias": "r",
        },
    ),
    ("temporal-order", {}, {"g": "g1", "h": "id", "block_size": 1, "peepholes": True}),
    (
        "adding",
        {"T": 20},
        {
            "grow": "plateau",
            "grow_window": 2,
            "blocks": 3,
            "in_gate_bias": "r",
            "out_gate_bias": "r",
            "state_decay": 0.8,
            "state_decay_traces": False,
        },
    ),  # fewer active blocks than C; state decay with the 1997 traces
    ("adding-modern", {"T": 20}, {"output": "linear", "update": "sequence"}),  # linear output units
    ("copy", {"T": 5}, {"blocks": 3}),  # softmax output units, one-hot inputs under connectivity cells
    ("adding", {"T": 20}, {"state_decay": 0.9, "outputs_see_inputs": True, "lr_decay": 0.99}),  # state decay
    # halting streams, external resets, outputs that see the (one-hot) inputs under connectivity cells
    ("reber-continual", {"stream": 60}, {"external_reset": True, "forget_gate": False, "forget_gate_bias": None}),
]


def _run(task: str, tp: dict, mp: dict, after: int, monkeypatch) -> tuple[bytes, bytes, list]:
    """Train on two chunks and predict; return the weights' and outputs' bytes and which kernels ran."""
    monkeypatch.setattr(K, "SPECIALISE_AFTER", after)
    monkeypatch.setattr(K, "_steps", {})
    used = []

    def recording(fl):
        used.append(fl is not None)
        return _KERNEL(fl)

    monkeypatch.setattr(K, "kernel", recording)
    t = tasks.make(task, **tp)
    m = models.make("lstm", t, **mp)
    state = m.init_state(np.random.default_rng(0))
    rng = np.random.default_rng(1)
    outputs = []
    for _ in range(2):
        batch = t.sample(rng, 6)
        m.train_chunk(state, batch)
        outputs.append(m.predict(state, batch))
    return state.w.tobytes(), b"".join(o.tobytes() for o in outputs), used


@pytest.mark.parametrize("task,tp,mp", CONFIGS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS)])
def test_the_specialised_kernel_computes_the_generic_kernels_bits(task, tp, mp, monkeypatch):
    w0, out0, used0 = _run(task, tp, mp, -1, monkeypatch)
    w1, out1, used1 = _run(task, tp, mp, 0, monkeypatch)
    assert not any(used0) and all(used1) and len(used1) == 4  # generic only, then specialised only
    assert w1 == w0 and out1 == out0


def test_every_flag_takes_both_values_among_the_configurations():
    seen = {}
    for task, tp, mp in CONFIGS:
        t = tasks.make(task, **tp)
        m = models.make("lstm", t, **mp)
        v = m.views(m.init_state(np.random.default_rng(0)).w)
        batch = t.sample(np.random.default_rng(0), 1)
        fl = K.Flags(
            sparse="active" in batch.info,
            conn_f=m.hp["connectivity"] != "B",
            gate_rec=m.hp["connectivity"] == "F",
            g2=m.hp["g"] == "g2",
            h1=m.hp["h"] == "h1",
            linear=m.hp["output"] == "linear",
            softmax=m.hp["output"] == "softmax",
            learn=True,
            per_step=m.hp["update"] == "step",
            has_og=v["W_out"].size > 0,
            has_fg=v["W_phi"].size > 0,
            has_pe=v["P_in"].size > 0,
            out_in=m.hp["connectivity"] == "B" or m.hp["outputs_see_inputs"],
            decay=m.hp["state_decay"] != 1.0,
            decay_traces=m.hp["state_decay"] != 1.0 and m.hp["state_decay_traces"],
            halt="halt" in batch.info,
            ext_reset=m.hp["external_reset"],
            bias_in=v["b_in"].size > 0,
            bias_out=v["b_out"].size > 0,
            bias_c=v["b_c"].size > 0,
            bias_k=v["b_k"].size > 0,
            bias_phi=v["b_phi"].size > 0,
            S=m.hp["block_size"],
            C=m.hp["blocks"],
            n_in=t.n_in,
            n_out=t.n_out,
            n_z=v["W_c"].shape[1],
            n_src=v["W_k"].shape[1],
        )
        for name, value in fl._asdict().items():
            seen.setdefault(name, set()).add(value)
    for name in K.Flags._fields:
        if name != "learn":  # train_chunk and predict: both in every case
            assert len(seen[name]) >= 2, name


def test_switching_kernels_in_the_middle_of_a_trial_changes_nothing(monkeypatch):
    w0, out0, _ = _run("reber", {}, {}, -1, monkeypatch)
    w1, out1, used = _run("reber", {}, {}, 100, monkeypatch)  # after the first chunk (6 strings, < 100 steps)
    assert True in used and False in used
    assert (w1, out1) == (w0, out0)


def test_stored_trials_replay_identically_through_the_specialised_kernels(tmp_path, monkeypatch):
    """Trials stored by lstm97 0.1.0 (tests/data/store_v1.sqlite, the generic kernel's predecessor) on
    one-hot (2a, 2c) and dense (adding, temporal order) inputs: the same record with every kernel specialised."""
    store = tmp_path / "v1.sqlite"
    shutil.copy(FIXTURE, store)
    with Store(store) as db:
        df = db.trials()
    monkeypatch.setattr(K, "SPECIALISE_AFTER", 0)
    replayed = 0
    for trial_id in (8, 17, 33, 38):
        row = df[df["id"] == trial_id].iloc[0]
        cfg = TrialConfig.resolve(
            row["task"],
            row["task_params"],
            row["model"],
            row["model_params"],
            int(row["max_sequences"]),
            int(row["n_test"]),
        )
        assert cfg.key() == row["config_key"], trial_id
        rec = run_trial(cfg, int(row["seed"]), chunk=64)
        for field in ("status", "success", "sequences", "test_wrong", "test_mse", "milestones"):
            assert rec[field] == row[field], (trial_id, field)
        replayed += 1
    assert replayed == 4

"""Shared set-up of the LSTM kernel-versus-reference tests: a case's seed, the kernel model of a reference
configuration (lstm_reference.make_config), random data with the masks every case needs, copying reference
parameters into a kernel state, comparing them, and a digest of a weight vector."""

from __future__ import annotations

import hashlib
import zlib

import numpy as np

from .lstm_reference import PARAM_NAMES, random_batch

#: Kernel and reference agree to this absolute tolerance on every weight.
ATOL = 1e-10
#: The reference configuration's keys that are LSTM hyperparameters of the same name.
_HP = (
    "blocks",
    "block_size",
    "connectivity",
    "output_gate",
    "bias",
    "g",
    "h",
    "lr",
    "update",
    "epoch",
    "reset",
    "forget_gate",
    "peepholes",
    "output",
)


def case_seed(*key) -> int:
    """A seed that depends on the test case only (``hash`` of a str changes between processes)."""
    return zlib.crc32(repr(key).encode())


def kernel_model(cfg, **extra):
    """The kernel LSTM of reference configuration ``cfg`` (random gate biases, init 0.1) and a fresh state."""
    from lstm97.models.lstm import LSTM

    hp = {k: cfg[k] for k in _HP if k in cfg}
    if "error_factor" in cfg:
        hp["error_factor"] = int(cfg["error_factor"])
    model = LSTM.for_dims(cfg["n_in"], cfg["n_out"], init=0.1, in_gate_bias=None, out_gate_bias=None, **hp, **extra)
    return model, model.init_state(np.random.default_rng(0))


def set_params(model, state, params) -> None:
    """Copy the reference's parameter arrays into the kernel state's named views."""
    views = model.views(state.w)
    for name in PARAM_NAMES:
        views[name][...] = params[name]


def case_data(cfg, seed, n=5, length=7):
    """Random sequences with, besides the random masks, a sequence without any target and one with a target at
    every step."""
    rng = np.random.default_rng(seed)
    inputs, targets, mask, lengths = random_batch(rng, n, length, cfg["n_in"], cfg["n_out"], p_target=0.4)
    mask[1, :] = False  # a whole sequence without targets (traces still run)
    mask[2, : lengths[2]] = True  # a target at every step
    return inputs, targets, mask, lengths


def assert_params_close(model, w, expected, context="") -> None:
    """Every named weight array of ``w`` equals the reference's ``expected`` to ATOL."""
    got = model.views(w)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=ATOL, err_msg=f"{context} {name}")


def digest(w) -> str:
    """16 hex digits of the weight vector's bytes (for weights recorded before a change)."""
    return hashlib.sha256(np.ascontiguousarray(w).tobytes()).hexdigest()[:16]

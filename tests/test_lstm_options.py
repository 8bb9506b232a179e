"""The LSTM's protocol options from the authors' own codes (PAPER.md §1.8, §1.9, §10): ``reset``, ``bias_init``,
``r_bias``, ``error_factor``, ``update="epoch"`` (with ``epoch``) and ``connectivity="cells"``.

Each option is off by default, and the default gives the weights of before the options existed bit for bit
(digests recorded before the change). Set, the kernel equals the plain-numpy reference to 1e-10, and training
does not depend on how the sequences are cut into chunks.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from reference.lstm_cases import assert_params_close as _assert_params_equal
from reference.lstm_cases import case_data as _data
from reference.lstm_cases import case_seed as _seed
from reference.lstm_cases import digest as _digest
from reference.lstm_cases import kernel_model as _model
from reference.lstm_cases import set_params as _set
from reference.lstm_reference import (
    PARAM_NAMES,
    make_config,
    n_weights,
    random_batch,
    random_params,
    reference_predict,
    reference_train,
)

from lstm97 import tasks
from lstm97.models.lstm import LSTM
from lstm97.runners import TrialConfig, run_trial
from lstm97.tasks import SequenceBatch

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

ATOL = 1e-10

#: The options at their defaults, spelled out.
DEFAULTS = {"reset": 0.0, "bias_init": "exact", "r_bias": "init", "error_factor": 1, "epoch": 1000}


# --------------------------------------------------------------------------------------------------------
# Defaults: bit for bit the behaviour of before the options
# --------------------------------------------------------------------------------------------------------
#: (hyperparameters, digest of the initial weights, digest after two chunks), recorded before the options
#: were added (3 inputs, 2 outputs, init_state seed 3, two chunks of 6 random sequences from seed 4).
BEFORE = [
    ({}, "503a412b4442a8e5", "a9561171eecd04b9"),
    ({"update": "sequence"}, "503a412b4442a8e5", "a4d1fc9db8e78c9c"),
    ({"connectivity": "B", "bias": "hidden", "output_gate": False}, "0be69f079a9b6d5c", "82c8eb51ab5020da"),
    (
        {"bias": "gates", "in_gate_bias": (-1.0, -2.0), "out_gate_bias": (-2.0, -4.0), "init": 0.2},
        "43c19cf21ec4bf91",
        "0d07eedc131df185",
    ),
    (
        {"in_gate_bias": (-3.0, -6.0), "update": "sequence", "g": "g1", "h": "id"},
        "423d6f5a2be70299",
        "e22bc50bfb2c11ed",
    ),
    ({"grow": "plateau", "grow_window": 5}, "503a412b4442a8e5", "9ab1ab7514e9a589"),
]


def _train_two_chunks(hp):
    model = LSTM.for_dims(3, 2, **hp)
    state = model.init_state(np.random.default_rng(3))
    w0 = state.w.copy()
    rng = np.random.default_rng(4)
    for _ in range(2):
        model.train_chunk(state, SequenceBatch(*random_batch(rng, 6, 9, 3, 2, p_target=0.5)))
        model.observe(state, np.arange(6.0)[::-1])
    return w0, state


@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.parametrize("hp,init_digest,final_digest", BEFORE)
def test_defaults_give_the_weights_of_before(hp, init_digest, final_digest, explicit):
    w0, state = _train_two_chunks({**hp, **(DEFAULTS if explicit else {})})
    assert (_digest(w0), _digest(state.w)) == (init_digest, final_digest)
    assert set(state.extra) == {"n_act", "pending", "prev"}  # no new stored state by default


def test_default_options_leave_configuration_keys_alone():
    plain = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100, n_test=10)
    spelled = TrialConfig.resolve("adding", {"T": 20}, "lstm", dict(DEFAULTS), max_sequences=100, n_test=10)
    assert spelled.model_args == {} and spelled.key() == plain.key()


# --------------------------------------------------------------------------------------------------------
# Kernel against the reference
# --------------------------------------------------------------------------------------------------------
def _check_against_reference(cfg, seed):
    params = random_params(cfg, np.random.default_rng(seed))
    arrays = _data(cfg, seed + 1)
    ref_params, ref_outputs = reference_train(params, cfg, *arrays, learn=True)
    model, state = _model(cfg)
    _set(model, state, params)
    res = model.train_chunk(state, SequenceBatch(*arrays))
    assert res.status == 0 and res.n_done == len(arrays[3])
    np.testing.assert_allclose(res.outputs, ref_outputs, rtol=0, atol=ATOL, err_msg="outputs")
    _assert_params_equal(model, state.w, ref_params, f"{cfg}")
    assert max(np.abs(ref_params[k] - params[k]).max(initial=0.0) for k in PARAM_NAMES) > 1e-3
    np.testing.assert_allclose(
        model.predict(state, SequenceBatch(*arrays)),
        reference_predict(ref_params, cfg, *arrays),
        rtol=0,
        atol=ATOL,
        err_msg="predict",
    )
    return model, state


OPTIONS = [
    {"reset": 0.5},
    {"reset": 0.3, "update": "sequence"},
    {"error_factor": 2},
    {"error_factor": 2, "update": "sequence"},
    {"update": "epoch", "epoch": 1},
    {"update": "epoch", "epoch": 2},
    {"update": "epoch", "epoch": 3},
    {"update": "epoch", "epoch": 7},  # longer than the data: nothing is applied
    {"reset": 0.5, "error_factor": 2, "update": "epoch", "epoch": 2},
]


@pytest.mark.parametrize("bias", ["none", "gates", "all"])
@pytest.mark.parametrize("connectivity,output_gate", list(itertools.product(["F", "B", "cells"], [True, False])))
@pytest.mark.parametrize("options", OPTIONS, ids=repr)
def test_options_match_reference(options, connectivity, output_gate, bias):
    index = OPTIONS.index(options) + ["F", "B", "cells"].index(connectivity)
    g, h = [("g2", "h1"), ("g1", "id"), ("g2", "id")][index % 3]
    cfg = make_config(
        n_in=3,
        n_out=2,
        blocks=2,
        block_size=2,
        connectivity=connectivity,
        output_gate=output_gate,
        bias=bias,
        g=g,
        h=h,
        lr=0.5,
        **options,
    )
    if cfg["update"] == "epoch" and cfg["epoch"] > 5:
        params = random_params(cfg, np.random.default_rng(1))
        arrays = _data(cfg, 2)
        model, state = _model(cfg)
        _set(model, state, params)
        w0 = state.w.copy()
        model.train_chunk(state, SequenceBatch(*arrays))
        np.testing.assert_array_equal(state.w, w0)  # the epoch has not ended
        assert np.abs(state.extra["acc"]).max() > 1e-3 and state.extra["pos"] == 5
        _assert_params_equal(model, state.w, reference_train(params, cfg, *arrays)[0])
        return
    _check_against_reference(cfg, _seed(repr(options), connectivity, output_gate, bias))


@pytest.mark.parametrize("C,S", [(1, 1), (3, 1), (1, 3)])
def test_cells_connectivity_layouts_match_reference(C, S):
    cfg = make_config(n_in=2, n_out=3, blocks=C, block_size=S, connectivity="cells", bias="all", lr=1.0)
    model, _ = _model(cfg)
    assert model.n_weights == n_weights(cfg)
    _check_against_reference(cfg, _seed("cells", C, S))


def test_error_factor_2_is_the_learning_rate_doubled():
    base = dict(n_in=2, n_out=2, blocks=2, block_size=2, bias="all")
    params = random_params(make_config(base), np.random.default_rng(7))
    arrays = _data(make_config(base), 8)
    results = []
    for lr, factor in ((0.5, 2), (1.0, 1)):
        model, state = _model(make_config(base, lr=lr, error_factor=factor))
        _set(model, state, params)
        model.train_chunk(state, SequenceBatch(*arrays))
        results.append(state.w)
    np.testing.assert_array_equal(results[0], results[1])


def test_epoch_of_one_is_update_sequence():
    base = dict(n_in=2, n_out=2, blocks=2, block_size=2, bias="all", lr=0.5)
    params = random_params(make_config(base), np.random.default_rng(9))
    arrays = _data(make_config(base), 10)
    results = []
    for options in ({"update": "sequence"}, {"update": "epoch", "epoch": 1}):
        model, state = _model(make_config(base, **options))
        _set(model, state, params)
        model.train_chunk(state, SequenceBatch(*arrays))
        results.append(state.w)
    np.testing.assert_array_equal(results[0], results[1])


def test_reset_changes_only_the_first_step_sources():
    """reset=0.5 sets the previous-step activations of cells and gates, not the states: the first step of a
    sequence sees 0.5 from every cell and gate under F, from every cell under "cells", nothing under B."""
    for connectivity, differs in (("F", True), ("cells", True), ("B", False)):
        outs = []
        for reset in (0.0, 0.5):
            cfg = make_config(n_in=2, n_out=2, blocks=2, block_size=2, connectivity=connectivity, reset=reset)
            model, state = _model(cfg)
            outs.append(model.predict(state, SequenceBatch(*_data(cfg, 11))))
        assert (np.abs(outs[0] - outs[1]).max() > 1e-6) == differs, connectivity


# --------------------------------------------------------------------------------------------------------
# Chunk invariance
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [
        {"update": "epoch", "epoch": 3, "reset": 0.5},
        {"update": "epoch", "epoch": 2, "connectivity": "cells", "error_factor": 2},
        {"update": "sequence", "connectivity": "cells", "reset": 0.5},
    ],
    ids=repr,
)
def test_chunks_carry_weights_and_epoch_sums_over(options):
    cfg = make_config(n_in=2, n_out=2, blocks=2, block_size=2, bias="all", lr=0.5, **options)
    seed = _seed("chunks", repr(options))
    params = random_params(cfg, np.random.default_rng(seed))
    arrays = _data(cfg, seed + 1, n=8)
    ref_params, _ = reference_train(params, cfg, *arrays)
    batch = SequenceBatch(*arrays)
    for cuts in ((0, 8), (0, 2, 8), (0, 1, 4, 5, 8), tuple(range(9))):
        model, state = _model(cfg)
        _set(model, state, params)
        for a, b in itertools.pairwise(cuts):
            model.train_chunk(state, batch.take(slice(a, b)))
        _assert_params_equal(model, state.w, ref_params, f"cuts {cuts}")


@pytest.mark.parametrize(
    "options",
    [
        {"update": "epoch", "epoch": 30},
        {"reset": 0.5, "connectivity": "cells", "error_factor": 2, "bias_init": "jitter", "r_bias": "0.1"},
    ],
    ids=repr,
)
def test_trials_are_chunk_invariant(options):
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", options, max_sequences=200, n_test=30)
    recs = [run_trial(cfg, seed=5, chunk=c) for c in (7, 64, 1000)]
    for r in recs[1:]:
        assert (r["test_mse"], r["curve"], r["state"]) == (recs[0]["test_mse"], recs[0]["curve"], recs[0]["state"])


# --------------------------------------------------------------------------------------------------------
# Initialisation: bias_init and r_bias
# --------------------------------------------------------------------------------------------------------
def _init(**hp):
    model = LSTM.for_dims(2, 1, blocks=3, block_size=2, bias="all", init=0.5, **hp)
    return model.views(model.init_state(np.random.default_rng(12)).w)


def test_bias_init_jitter_adds_the_configured_bias_to_the_random_one():
    random = _init(in_gate_bias=None, out_gate_bias=None)
    exact = _init(in_gate_bias=(-1.0, -2.0, -3.0), out_gate_bias=(-2.0, -4.0, -6.0))
    jitter = _init(in_gate_bias=(-1.0, -2.0, -3.0), out_gate_bias=(-2.0, -4.0, -6.0), bias_init="jitter")
    np.testing.assert_array_equal(exact["b_in"], [-1.0, -2.0, -3.0])
    np.testing.assert_array_equal(jitter["b_in"], random["b_in"] + [-1.0, -2.0, -3.0])
    np.testing.assert_array_equal(jitter["b_out"], random["b_out"] + [-2.0, -4.0, -6.0])
    for name in ("W_in", "W_out", "W_c", "b_c", "W_k", "b_k"):
        np.testing.assert_array_equal(jitter[name], random[name])
        np.testing.assert_array_equal(exact[name], random[name])
    # only one of the two gates configured: the other stays random
    half = _init(in_gate_bias=(-1.0, -2.0, -3.0), bias_init="jitter")
    np.testing.assert_array_equal(half["b_out"], random["b_out"])


def test_r_bias_draws_the_random_gate_biases_from_a_tenth():
    default = _init()
    narrow = _init(r_bias="0.1")
    assert np.abs(default["b_in"]).max() > 0.1  # init = 0.5: the default interval is wider
    for name in ("b_in", "b_out"):
        assert np.abs(narrow[name]).max() <= 0.1 and not np.array_equal(narrow[name], default[name])
    for name in ("W_in", "W_out", "W_c", "b_c", "W_k", "b_k"):  # the other weights are drawn as before
        np.testing.assert_array_equal(narrow[name], default[name])
    both = _init(r_bias="0.1", in_gate_bias=(-3.0, -6.0, -9.0), bias_init="jitter")
    np.testing.assert_array_equal(both["b_in"], narrow["b_in"] + [-3.0, -6.0, -9.0])
    np.testing.assert_array_equal(both["b_out"], narrow["b_out"])


# --------------------------------------------------------------------------------------------------------
# Connectivity "cells": weight counts
# --------------------------------------------------------------------------------------------------------
def test_cells_connectivity_weight_count_for_the_adding_net():
    """Adding net (Table 10: 2 inputs, 1 output, 2 blocks of size 2, bias "all"): 93 weights under F; without
    the 4 gate sources, each of the 2 + 2 + 4 gate and cell-input units loses 4 weights: 93 - 32 = 61."""
    task = tasks.make("adding", T=20)
    assert LSTM.for_task(task).n_weights == 93
    cells = LSTM.for_task(task, connectivity="cells")
    assert cells.n_weights == 61 == cells.free().sum() == cells.layout.size
    assert cells.views(np.zeros(61))["W_in"].shape == (2, 2 + 4)


def test_trace_follows_the_options():
    task = tasks.make("adding", T=20)
    batch = task.sample(np.random.default_rng(13), 1)
    for hp in ({"reset": 0.5}, {"connectivity": "cells"}, {"connectivity": "cells", "reset": 0.5}):
        model = LSTM.for_task(task, **hp)
        state = model.init_state(np.random.default_rng(14))
        np.testing.assert_allclose(
            model.trace(state, batch)["outputs"], model.predict(state, batch)[0], rtol=0, atol=1e-12
        )

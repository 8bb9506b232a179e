"""Forget gates (Gers, Schmidhuber & Cummins 2000, PAPER.md §11.1): ``forget_gate``, ``forget_gate_bias``.

Off by default, and then the layout, the weights and the results are those of the 1997 LSTM bit for bit. On, the
kernel equals the plain-numpy reference to 1e-10 for every connectivity, gate, bias, squashing and update
option, with dense and one-hot inputs, and training does not depend on how the sequences are cut into chunks.

"Held at 1": a forget gate with bias +1000 has net input >= 1000 - |sum_m w_m z_m| > 745 here, so in IEEE-754
double precision exp(-net) underflows to exactly 0, y_phi = 1 / (1 + 0) = 1 exactly and f'(net_phi) =
y_phi (1 - y_phi) = 0 exactly. Then y_phi s(t-1) = s(t-1), y_phi ds = ds and the forget-gate trace and changes
are exact zeros: every other weight and every output must equal the 1997 net's bit for bit (array_equal, not
allclose), in the kernel and in the reference. No test-only code path is involved: it is the shipped kernel with
forget_gate=true, and the test checks that y_phi is exactly 1 at every step and that the forget weights did not
move, so the premise is verified, not assumed.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from reference.batches import one_hot_batch
from reference.lstm_cases import assert_params_close as _assert_params_close
from reference.lstm_cases import case_data as _data
from reference.lstm_cases import case_seed as _seed
from reference.lstm_cases import kernel_model as _model
from reference.lstm_cases import set_params as _set
from reference.lstm_reference import (
    PARAM_NAMES,
    make_config,
    n_weights,
    param_shapes,
    random_params,
    reference_predict,
    reference_train,
)
from test_lstm_options import BEFORE, _digest, _train_two_chunks

from lstm97 import tasks
from lstm97.errors import UserError
from lstm97.models.lstm import LSTM
from lstm97.runners import TrialConfig, run_trial
from lstm97.tasks import SequenceBatch

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

ATOL = 1e-10
NEW_NAMES = ("W_phi", "b_phi", "P_in", "P_phi", "P_out")  # the forget gates' and peepholes' weights
OLD_NAMES = tuple(k for k in PARAM_NAMES if k not in NEW_NAMES)
HUGE = 1000.0  # a forget-gate bias that holds y_phi at exactly 1.0 (see the module docstring)


# --------------------------------------------------------------------------------------------------------
# Off by default: the 1997 layout and results
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hp,init_digest,final_digest", BEFORE)
def test_forget_gate_false_gives_the_weights_of_before(hp, init_digest, final_digest):
    w0, state = _train_two_chunks({**hp, "forget_gate": False, "forget_gate_bias": None})
    assert (_digest(w0), _digest(state.w)) == (init_digest, final_digest)


def test_default_leaves_configuration_keys_alone():
    plain = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100, n_test=10)
    spelled = TrialConfig.resolve(
        "adding", {"T": 20}, "lstm", {"forget_gate": False, "forget_gate_bias": None}, max_sequences=100, n_test=10
    )
    assert spelled.model_args == {} and spelled.key() == plain.key()


# --------------------------------------------------------------------------------------------------------
# Layout and weight counts
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("connectivity,output_gate", list(itertools.product(["F", "B", "cells"], [True, False])))
@pytest.mark.parametrize("bias", ["none", "gates", "hidden", "all"])
@pytest.mark.parametrize("forget_gate", [False, True])
def test_layout_matches_reference(forget_gate, bias, connectivity, output_gate):
    cfg = make_config(
        n_in=3,
        n_out=2,
        blocks=2,
        block_size=3,
        connectivity=connectivity,
        output_gate=output_gate,
        bias=bias,
        forget_gate=forget_gate,
    )
    model, state = _model(cfg)
    assert model.n_weights == n_weights(cfg) == state.w.shape[0]
    views = model.views(np.arange(model.n_weights, dtype=np.float64))
    for name, shape in param_shapes(cfg).items():
        assert views[name].shape == shape, name
    used = np.sort(np.concatenate([views[name].ravel() for name in PARAM_NAMES]))
    np.testing.assert_array_equal(used, np.arange(model.n_weights))
    # the forget gate has the input gate's sources and bias, and comes last in the flat vector
    assert views["W_phi"].shape == ((2, views["W_in"].shape[1]) if forget_gate else (0, views["W_in"].shape[1]))
    assert views["b_phi"].shape == (views["b_in"].shape if forget_gate else (0,))
    old = make_config(cfg, forget_gate=False)
    assert np.all(np.concatenate([views[k].ravel() for k in ("W_phi", "b_phi")]) >= n_weights(old))


def test_adding_net_weight_count():
    """Adding net (2 inputs, 1 output, 2 blocks of 2 cells, connectivity F, bias "all"): 93 weights (Table 10).
    A forget gate per block sees the input gate's n_z = 2 inputs + 4 cells + 2 input gates + 2 output gates = 10
    sources and has a bias: 2 x (10 + 1) = 22 more, 115 in all."""
    task = tasks.make("adding", T=20)
    assert LSTM.for_task(task).n_weights == 93
    model = LSTM.for_task(task, forget_gate=True)
    assert model.n_weights == 93 + 22 == 115 == model.free().sum() == model.layout.size
    assert model.layout.shapes["W_phi"] == (2, 10) and model.layout.shapes["b_phi"] == (2,)


def test_footprint_counts_the_forget_gate():
    task = tasks.make("adding", T=20)
    plain, forget = LSTM.for_task(task).footprint(), LSTM.for_task(task, forget_gate=True).footprint()
    assert forget.bytes > plain.bytes and forget.flops_per_step > plain.flops_per_step


# --------------------------------------------------------------------------------------------------------
# Kernel against the reference
# --------------------------------------------------------------------------------------------------------
def _check_against_reference(cfg, seed, **extra):
    params = random_params(cfg, np.random.default_rng(seed))
    params["b_phi"] = params["b_phi"] + 1.0  # forget gates mostly open, as in Gers et al. 2000
    arrays = _data(cfg, seed + 1)
    ref_params, ref_outputs = reference_train(params, cfg, *arrays, learn=True)
    model, state = _model(cfg, **extra)
    _set(model, state, params)
    res = model.train_chunk(state, SequenceBatch(*arrays))
    assert res.status == 0 and res.n_done == len(arrays[3])
    np.testing.assert_allclose(res.outputs, ref_outputs, rtol=0, atol=ATOL, err_msg="outputs")
    _assert_params_close(model, state.w, ref_params, f"{cfg}")
    # not vacuous: the forget-gate weights learn, and the forget gate changes the result
    assert np.abs(ref_params["W_phi"] - params["W_phi"]).max() > 1e-4
    plain = make_config(cfg, forget_gate=False)
    plain_params = {k: (params[k] if k in OLD_NAMES else np.zeros(param_shapes(plain)[k])) for k in PARAM_NAMES}
    assert np.abs(reference_train(plain_params, plain, *arrays)[1] - ref_outputs).max() > 1e-3
    np.testing.assert_allclose(
        model.predict(state, SequenceBatch(*arrays)),
        reference_predict(ref_params, cfg, *arrays),
        rtol=0,
        atol=ATOL,
        err_msg="predict",
    )


LAYOUTS = [(1, 1), (2, 2), (3, 1), (1, 3)]
GH = [("g2", "h1"), ("g1", "id"), ("g2", "id"), ("g1", "h1")]


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("bias", ["none", "gates", "hidden", "all"])
@pytest.mark.parametrize("connectivity,output_gate", list(itertools.product(["F", "B", "cells"], [True, False])))
@pytest.mark.parametrize("C,S", LAYOUTS)
def test_train_chunk_matches_reference(C, S, connectivity, output_gate, bias, update):
    index = LAYOUTS.index((C, S)) + ["none", "gates", "hidden", "all"].index(bias) + (update == "sequence")
    g, h = GH[(index + 2 * output_gate) % len(GH)]
    cfg = make_config(
        n_in=3,
        n_out=2,
        blocks=C,
        block_size=S,
        connectivity=connectivity,
        output_gate=output_gate,
        bias=bias,
        g=g,
        h=h,
        lr=0.5,
        update=update,
        forget_gate=True,
    )
    _check_against_reference(cfg, _seed("forget", C, S, connectivity, output_gate, bias, update))


@pytest.mark.parametrize("g,h", GH)
@pytest.mark.parametrize(
    "options",
    [{"update": "epoch", "epoch": 2}, {"reset": 0.5}, {"reset": 0.5, "update": "epoch", "epoch": 3}],
    ids=repr,
)
def test_protocol_options_match_reference(options, g, h):
    cfg = make_config(
        n_in=2, n_out=2, blocks=2, block_size=2, bias="all", g=g, h=h, lr=1.0, forget_gate=True, **options
    )
    _check_against_reference(cfg, _seed("forget-options", repr(options), g, h))


@pytest.mark.parametrize("connectivity", ["F", "B", "cells"])
@pytest.mark.parametrize("update", ["step", "sequence"])
def test_one_hot_inputs_equal_dense(connectivity, update):
    """The sparse path multiplies the traces of every source by y_phi, also those of the inputs not hot now."""
    rng = np.random.default_rng(7)
    model = LSTM.for_dims(
        9, 3, blocks=2, block_size=2, connectivity=connectivity, update=update, lr=0.7, init=1.0, forget_gate=True
    )
    sparse = one_hot_batch(rng, 12, 9, 3, 15)
    dense = SequenceBatch(sparse.inputs, sparse.targets, sparse.mask, sparse.lengths)
    s1, s2 = model.init_state(np.random.default_rng(1)), model.init_state(np.random.default_rng(1))
    r1, r2 = model.train_chunk(s1, sparse), model.train_chunk(s2, dense)
    np.testing.assert_array_equal(r1.outputs, r2.outputs)
    np.testing.assert_array_equal(s1.w, s2.w)


# --------------------------------------------------------------------------------------------------------
# Held at 1: the 1997 LSTM bit for bit
# --------------------------------------------------------------------------------------------------------
def _held_at_one(cfg, seed, arrays):
    """(params with forget gates held at 1, the same 1997 params)."""
    plain = make_config(cfg, forget_gate=False)
    old = random_params(plain, np.random.default_rng(seed))
    held = {k: old[k] for k in OLD_NAMES}
    held["W_phi"] = np.random.default_rng(seed + 7).uniform(-1.0, 1.0, param_shapes(cfg)["W_phi"])
    held["b_phi"] = np.full(param_shapes(cfg)["b_phi"], HUGE)
    held.update({k: np.zeros(param_shapes(cfg)[k]) for k in ("P_in", "P_phi", "P_out")})  # no peepholes here
    return held, old, plain


@pytest.mark.parametrize("update", ["step", "sequence", "epoch"])
@pytest.mark.parametrize("bias", ["gates", "hidden", "all"])
@pytest.mark.parametrize("connectivity,output_gate", list(itertools.product(["F", "B", "cells"], [True, False])))
def test_forget_gate_held_at_one_is_the_1997_lstm_bit_for_bit(connectivity, output_gate, bias, update):
    cfg = make_config(
        n_in=3,
        n_out=2,
        blocks=2,
        block_size=2,
        connectivity=connectivity,
        output_gate=output_gate,
        bias=bias,
        lr=0.5,
        update=update,
        epoch=2,
        forget_gate=True,
    )
    seed = _seed("held", connectivity, output_gate, bias, update)
    arrays = _data(cfg, seed + 1)
    held, old, plain = _held_at_one(cfg, seed, arrays)
    batch = SequenceBatch(*arrays)
    # the premise, checked: y_phi is exactly 1.0 at every step of every sequence, before and after training
    model, state = _model(cfg)
    _set(model, state, held)
    for i in range(len(arrays[3])):
        assert np.all(model.trace(state, batch.take(slice(i, i + 1)))["y_phi"] == 1.0)

    # the kernel: forget gates held at 1 against the 1997 kernel (no forget gate)
    res = model.train_chunk(state, batch)
    model0, state0 = _model(plain)
    _set(model0, state0, old)
    res0 = model0.train_chunk(state0, batch)
    np.testing.assert_array_equal(res.outputs, res0.outputs)
    got, want = model.views(state.w), model0.views(state0.w)
    for name in OLD_NAMES:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    np.testing.assert_array_equal(got["W_phi"], held["W_phi"])  # f'(net_phi) = 0: the forget weights stay
    np.testing.assert_array_equal(got["b_phi"], held["b_phi"])
    assert max(np.abs(want[k] - old[k]).max(initial=0.0) for k in OLD_NAMES) > 1e-3  # it did learn
    for i in range(len(arrays[3])):
        assert np.all(model.trace(state, batch.take(slice(i, i + 1)))["y_phi"] == 1.0)
    np.testing.assert_array_equal(model.predict(state, batch), model0.predict(state0, batch))

    # the reference, written from the equations, reduces to the 1997 equations in the same way
    ref, ref_out = reference_train(held, cfg, *arrays)
    ref0, ref0_out = reference_train(old, plain, *arrays)
    np.testing.assert_array_equal(ref_out, ref0_out)
    for name in OLD_NAMES:
        np.testing.assert_array_equal(ref[name], ref0[name], err_msg=name)
    np.testing.assert_array_equal(ref["W_phi"], held["W_phi"])


def test_held_at_one_with_one_hot_inputs_and_a_task():
    """The same on a real task's one-hot inputs (the sparse kernel path), through init_state's
    forget_gate_bias: the weights drawn for the 1997 net are the first weights of the flat vector."""
    task = tasks.make("reber")
    batch = task.sample(np.random.default_rng(2), 20)
    assert batch.info.get("active") is not None
    plain = LSTM.for_task(task)
    held = LSTM.for_task(task, forget_gate=True, forget_gate_bias=(HUGE,) * plain.hp["blocks"])
    s0, s1 = plain.init_state(np.random.default_rng(3)), held.init_state(np.random.default_rng(3))
    np.testing.assert_array_equal(s1.w[: plain.n_weights], s0.w)
    np.testing.assert_array_equal(plain.train_chunk(s0, batch).outputs, held.train_chunk(s1, batch).outputs)
    np.testing.assert_array_equal(s1.w[: plain.n_weights], s0.w)
    assert np.all(held.views(s1.w)["b_phi"] == HUGE)


def test_a_finite_forget_bias_is_not_held_at_one():
    """The comparison above is not vacuous: with bias +5 (y_phi ~ 0.993) the results differ."""
    task = tasks.make("adding", T=20)
    batch = task.sample(np.random.default_rng(2), 10)
    plain = LSTM.for_task(task)
    forget = LSTM.for_task(task, forget_gate=True, forget_gate_bias=(5.0, 5.0))
    s0, s1 = plain.init_state(np.random.default_rng(3)), forget.init_state(np.random.default_rng(3))
    plain.train_chunk(s0, batch)
    forget.train_chunk(s1, batch)
    assert np.abs(s1.w[: plain.n_weights] - s0.w).max() > 1e-9


# --------------------------------------------------------------------------------------------------------
# Chunk invariance
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [{"update": "step"}, {"update": "sequence", "connectivity": "cells"}, {"update": "epoch", "epoch": 3}],
    ids=repr,
)
def test_chunks_carry_weights_over(options):
    cfg = make_config(n_in=2, n_out=2, blocks=2, block_size=2, bias="all", lr=0.5, forget_gate=True, **options)
    seed = _seed("forget-chunks", repr(options))
    params = random_params(cfg, np.random.default_rng(seed))
    arrays = _data(cfg, seed + 1, n=8)
    ref_params, _ = reference_train(params, cfg, *arrays)
    batch = SequenceBatch(*arrays)
    for cuts in ((0, 8), (0, 2, 8), (0, 1, 4, 5, 8), tuple(range(9))):
        model, state = _model(cfg)
        _set(model, state, params)
        for a, b in itertools.pairwise(cuts):
            model.train_chunk(state, batch.take(slice(a, b)))
        _assert_params_close(model, state.w, ref_params, f"cuts {cuts}")


@pytest.mark.parametrize(
    "options",
    [
        {"forget_gate": True, "forget_gate_bias": (1.0, 2.0)},
        {"forget_gate": True, "update": "epoch", "epoch": 30, "r_bias": "0.1", "bias_init": "jitter"},
    ],
    ids=repr,
)
def test_trials_are_chunk_invariant(options):
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", options, max_sequences=200, n_test=30)
    recs = [run_trial(cfg, seed=5, chunk=c) for c in (7, 64, 1000)]
    for r in recs[1:]:
        assert (r["test_mse"], r["curve"], r["state"]) == (recs[0]["test_mse"], recs[0]["curve"], recs[0]["state"])


# --------------------------------------------------------------------------------------------------------
# Initialisation, validation, trace
# --------------------------------------------------------------------------------------------------------
def _init(**hp):
    model = LSTM.for_dims(2, 1, blocks=3, block_size=2, bias="all", init=0.5, **hp)
    return model, model.views(model.init_state(np.random.default_rng(12)).w)


def test_forget_gate_bias_initialisation():
    _, plain = _init()
    _, random = _init(forget_gate=True)
    _, exact = _init(forget_gate=True, forget_gate_bias=(1.0, 2.0, 3.0))
    _, jitter = _init(forget_gate=True, forget_gate_bias=(1.0, 2.0, 3.0), bias_init="jitter")
    for name in OLD_NAMES:  # the 1997 weights are drawn as without forget gates
        for views in (random, exact, jitter):
            np.testing.assert_array_equal(views[name], plain[name])
    assert np.abs(random["b_phi"]).max() <= 0.5 and np.abs(random["W_phi"]).max() <= 0.5
    np.testing.assert_array_equal(exact["b_phi"], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(jitter["b_phi"], random["b_phi"] + [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(exact["W_phi"], random["W_phi"])
    _, narrow = _init(forget_gate=True, r_bias="0.1")
    _, narrow0 = _init(r_bias="0.1")
    assert np.abs(narrow["b_phi"]).max() <= 0.1 and not np.array_equal(narrow["b_phi"], random["b_phi"])
    for name in OLD_NAMES:
        np.testing.assert_array_equal(narrow[name], narrow0[name])


@pytest.mark.parametrize(
    "hp,message",
    [
        ({"forget_gate_bias": (1.0, 2.0, 3.0)}, "forget_gate=false"),
        ({"forget_gate": True, "forget_gate_bias": (1.0, 2.0)}, "one per block"),
        ({"forget_gate": True, "forget_gate_bias": (1.0, 2.0, 3.0), "bias": "none"}, "no bias"),
    ],
)
def test_forget_gate_bias_is_validated(hp, message):
    with pytest.raises(UserError, match=message):
        LSTM.for_dims(2, 1, blocks=3, block_size=2, **{"bias": "all", **hp})


@pytest.mark.parametrize("hp", [{}, {"connectivity": "cells", "reset": 0.5}, {"grow": "plateau"}], ids=repr)
def test_trace_has_the_forget_gate(hp):
    task = tasks.make("adding", T=20)
    batch = task.sample(np.random.default_rng(13), 1)
    model = LSTM.for_task(task, forget_gate=True, **hp)
    state = model.init_state(np.random.default_rng(14))
    if hp.get("grow"):
        state.extra["n_act"] = 1
    tr = model.trace(state, batch)
    np.testing.assert_allclose(tr["outputs"], model.predict(state, batch)[0], rtol=0, atol=1e-12)
    n_act = 1 if hp.get("grow") else 2
    assert tr["y_phi"].shape == (int(batch.lengths[0]), 2)
    assert np.all((tr["y_phi"][:, :n_act] > 0) & (tr["y_phi"][:, :n_act] < 1)) and np.all(tr["y_phi"][:, n_act:] == 0)
    plain = LSTM.for_task(task)
    assert "y_phi" not in plain.trace(plain.init_state(np.random.default_rng(14)), batch)

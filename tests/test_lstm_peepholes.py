"""Peepholes (Gers, Schraudolph & Schmidhuber 2002, PAPER.md §11.2): ``peepholes``.

Off by default (the 1997 layout and results: the digests of before, bit for bit). On, each gate has one weight
per cell of its block from the cell's state: the input and forget gates see s(t-1), the output gate s(t). No
error flows through them (s is just one more source of the gate), and they are trained with the gate's traces
(input, forget gate) or error (output gate). The kernel equals the plain-numpy reference to 1e-10 with and
without forget gates, for every connectivity, gate, bias and update option, dense and one-hot.

"Held at 0": with every peephole weight exactly 0, net + 0 * s = net exactly (s finite), so the forward pass is
the net without peepholes bit for bit; on a single sequence with update=sequence every change is computed from
that forward pass, so the 1997 weights end bit for bit where the net without peepholes puts them, while the
peephole weights themselves learn (their gradient is not 0).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from reference.batches import one_hot_batch
from reference.lstm_cases import case_seed as _seed
from reference.lstm_reference import (
    PARAM_NAMES,
    make_config,
    n_weights,
    param_shapes,
    random_params,
    reference_predict,
    reference_train,
)
from test_lstm_forget import OLD_NAMES, _assert_params_close, _data, _model, _set
from test_lstm_options import BEFORE, _digest, _train_two_chunks

from lstm97 import tasks
from lstm97.models.lstm import LSTM
from lstm97.runners import TrialConfig, run_trial
from lstm97.tasks import SequenceBatch

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

ATOL = 1e-10
PEEP = ("P_in", "P_phi", "P_out")


@pytest.mark.parametrize("hp,init_digest,final_digest", BEFORE)
def test_peepholes_false_gives_the_weights_of_before(hp, init_digest, final_digest):
    w0, state = _train_two_chunks({**hp, "peepholes": False})
    assert (_digest(w0), _digest(state.w)) == (init_digest, final_digest)


def test_default_leaves_configuration_keys_alone():
    plain = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100, n_test=10)
    spelled = TrialConfig.resolve("adding", {"T": 20}, "lstm", {"peepholes": False}, max_sequences=100, n_test=10)
    assert spelled.model_args == {} and spelled.key() == plain.key()


# --------------------------------------------------------------------------------------------------------
# Layout and weight counts
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("forget_gate", [False, True])
@pytest.mark.parametrize("connectivity,output_gate", list(itertools.product(["F", "B", "cells"], [True, False])))
def test_layout_matches_reference(connectivity, output_gate, forget_gate):
    cfg = make_config(
        n_in=3,
        n_out=2,
        blocks=2,
        block_size=3,
        connectivity=connectivity,
        output_gate=output_gate,
        bias="all",
        forget_gate=forget_gate,
        peepholes=True,
    )
    model, state = _model(cfg)
    assert model.n_weights == n_weights(cfg) == state.w.shape[0]
    views = model.views(np.arange(model.n_weights, dtype=np.float64))
    for name, shape in param_shapes(cfg).items():
        assert views[name].shape == shape, name
    used = np.sort(np.concatenate([views[name].ravel() for name in PARAM_NAMES]))
    np.testing.assert_array_equal(used, np.arange(model.n_weights))
    assert views["P_in"].shape == (6,) and views["P_phi"].shape == ((6,) if forget_gate else (0,))
    assert views["P_out"].shape == ((6,) if output_gate else (0,))
    old = n_weights(make_config(cfg, forget_gate=False, peepholes=False))
    assert np.all(views["P_in"] >= old)  # after the 1997 weights


def test_adding_net_weight_count():
    """Adding net (2 blocks of 2 cells, output gates): one peephole per cell and gate, 4 cells x 2 gates = 8
    more than 93 (101); with forget gates 93 + 22 + 4 x 3 = 127."""
    task = tasks.make("adding", T=20)
    assert LSTM.for_task(task, peepholes=True).n_weights == 93 + 8 == 101
    both = LSTM.for_task(task, peepholes=True, forget_gate=True)
    assert both.n_weights == 93 + 22 + 12 == 127 == both.free().sum()
    assert LSTM.for_task(task, peepholes=True).footprint().bytes > LSTM.for_task(task).footprint().bytes


# --------------------------------------------------------------------------------------------------------
# Kernel against the reference
# --------------------------------------------------------------------------------------------------------
def _check_against_reference(cfg, seed):
    params = random_params(cfg, np.random.default_rng(seed))
    params["b_phi"] = params["b_phi"] + 1.0
    arrays = _data(cfg, seed + 1)
    ref_params, ref_outputs = reference_train(params, cfg, *arrays, learn=True)
    model, state = _model(cfg)
    _set(model, state, params)
    res = model.train_chunk(state, SequenceBatch(*arrays))
    assert res.status == 0 and res.n_done == len(arrays[3])
    np.testing.assert_allclose(res.outputs, ref_outputs, rtol=0, atol=ATOL, err_msg="outputs")
    _assert_params_close(model, state.w, ref_params, f"{cfg}")
    # not vacuous: every peephole array learns, and the peepholes change the outputs
    for name in PEEP:
        if params[name].size:
            assert np.abs(ref_params[name] - params[name]).max() > 1e-7, name  # >> ATOL
    closed = {k: (np.zeros_like(v) if k in PEEP else v) for k, v in params.items()}
    assert np.abs(reference_predict(closed, cfg, *arrays) - reference_predict(params, cfg, *arrays)).max() > 1e-5
    np.testing.assert_allclose(
        model.predict(state, SequenceBatch(*arrays)),
        reference_predict(ref_params, cfg, *arrays),
        rtol=0,
        atol=ATOL,
        err_msg="predict",
    )


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("bias", ["none", "gates", "all"])
@pytest.mark.parametrize("forget_gate", [False, True])
@pytest.mark.parametrize("connectivity,output_gate", list(itertools.product(["F", "B", "cells"], [True, False])))
@pytest.mark.parametrize("C,S", [(1, 1), (2, 2), (1, 3), (3, 1)])
def test_train_chunk_matches_reference(C, S, connectivity, output_gate, forget_gate, bias, update):
    g, h = [("g2", "h1"), ("g1", "id"), ("g2", "id"), ("g1", "h1")][(C + S + output_gate + forget_gate) % 4]
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
        forget_gate=forget_gate,
        peepholes=True,
    )
    _check_against_reference(cfg, _seed("peep", C, S, connectivity, output_gate, forget_gate, bias, update))


@pytest.mark.parametrize("forget_gate", [False, True])
@pytest.mark.parametrize(
    "options", [{"update": "epoch", "epoch": 2}, {"reset": 0.5, "update": "epoch", "epoch": 3}], ids=repr
)
def test_protocol_options_match_reference(options, forget_gate):
    cfg = make_config(
        n_in=2, n_out=2, blocks=2, block_size=2, bias="all", lr=1.0, forget_gate=forget_gate, peepholes=True, **options
    )
    _check_against_reference(cfg, _seed("peep-options", repr(options), forget_gate))


@pytest.mark.parametrize("forget_gate", [False, True])
@pytest.mark.parametrize("connectivity", ["F", "B", "cells"])
def test_one_hot_inputs_equal_dense(connectivity, forget_gate):
    rng = np.random.default_rng(7)
    model = LSTM.for_dims(
        9, 3, blocks=2, block_size=2, connectivity=connectivity, lr=0.7, init=1.0, forget_gate=forget_gate,
        peepholes=True,
    )  # fmt: skip
    sparse = one_hot_batch(rng, 12, 9, 3, 15)
    dense = SequenceBatch(sparse.inputs, sparse.targets, sparse.mask, sparse.lengths)
    s1, s2 = model.init_state(np.random.default_rng(1)), model.init_state(np.random.default_rng(1))
    r1, r2 = model.train_chunk(s1, sparse), model.train_chunk(s2, dense)
    np.testing.assert_array_equal(r1.outputs, r2.outputs)
    np.testing.assert_array_equal(s1.w, s2.w)


# --------------------------------------------------------------------------------------------------------
# Held at 0: the net without peepholes bit for bit
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("forget_gate", [False, True])
@pytest.mark.parametrize("connectivity,output_gate", list(itertools.product(["F", "B", "cells"], [True, False])))
def test_zero_peepholes_are_the_net_without_them_bit_for_bit(connectivity, output_gate, forget_gate):
    cfg = make_config(
        n_in=3,
        n_out=2,
        blocks=2,
        block_size=2,
        connectivity=connectivity,
        output_gate=output_gate,
        bias="all",
        lr=0.5,
        update="sequence",
        forget_gate=forget_gate,
        peepholes=True,
    )
    plain = make_config(cfg, peepholes=False)
    seed = _seed("peep-zero", connectivity, output_gate, forget_gate)
    old = random_params(plain, np.random.default_rng(seed))
    zero = {k: (np.zeros(param_shapes(cfg)[k]) if k in PEEP else old[k]) for k in PARAM_NAMES}
    arrays = _data(cfg, seed + 1)
    arrays[2][0, :] = True  # the first sequence (full length) has a target at every step
    batch = SequenceBatch(*arrays)
    model, state = _model(cfg)
    _set(model, state, zero)
    model0, state0 = _model(plain)
    _set(model0, state0, old)
    np.testing.assert_array_equal(model.predict(state, batch), model0.predict(state0, batch))
    np.testing.assert_array_equal(reference_predict(zero, cfg, *arrays), reference_predict(old, plain, *arrays))
    one = batch.take(slice(0, 1))
    model.train_chunk(state, one)
    model0.train_chunk(state0, one)
    got, want = model.views(state.w), model0.views(state0.w)
    for name in OLD_NAMES:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert max(np.abs(got[k] - old[k]).max(initial=0.0) for k in OLD_NAMES) > 1e-3
    for name in PEEP:
        if got[name].size:
            assert np.abs(got[name]).max() > 0.0, name


# --------------------------------------------------------------------------------------------------------
# Chunk invariance, initialisation, trace
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [{"update": "step"}, {"update": "sequence", "forget_gate": True}, {"update": "epoch", "epoch": 3}],
    ids=repr,
)
def test_chunks_carry_weights_over(options):
    cfg = make_config(n_in=2, n_out=2, blocks=2, block_size=2, bias="all", lr=0.5, peepholes=True, **options)
    seed = _seed("peep-chunks", repr(options))
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
    [{"peepholes": True}, {"peepholes": True, "forget_gate": True, "forget_gate_bias": (1.0, 2.0), "r_bias": "0.1"}],
    ids=repr,
)
def test_trials_are_chunk_invariant(options):
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", options, max_sequences=200, n_test=30)
    recs = [run_trial(cfg, seed=5, chunk=c) for c in (7, 64, 1000)]
    for r in recs[1:]:
        assert (r["test_mse"], r["curve"], r["state"]) == (recs[0]["test_mse"], recs[0]["curve"], recs[0]["state"])


def test_initialisation_keeps_the_1997_weights():
    def views(**hp):
        model = LSTM.for_dims(2, 1, blocks=3, block_size=2, bias="all", init=0.5, **hp)
        return model.views(model.init_state(np.random.default_rng(12)).w)

    plain, peep = views(), views(peepholes=True, forget_gate=True)
    for name in OLD_NAMES:
        np.testing.assert_array_equal(peep[name], plain[name])
    for name in PEEP:
        assert peep[name].shape == (6,) and 0 < np.abs(peep[name]).max() <= 0.5


@pytest.mark.parametrize("hp", [{}, {"forget_gate": True}, {"output_gate": False, "connectivity": "cells"}], ids=repr)
def test_trace_follows_the_peepholes(hp):
    task = tasks.make("adding", T=20)
    batch = task.sample(np.random.default_rng(13), 1)
    model = LSTM.for_task(task, peepholes=True, **hp)
    state = model.init_state(np.random.default_rng(14))
    state.w[:] = np.random.default_rng(15).normal(0.0, 1.0, state.w.size)
    np.testing.assert_allclose(model.trace(state, batch)["outputs"], model.predict(state, batch)[0], rtol=0, atol=1e-12)

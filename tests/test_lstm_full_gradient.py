"""The LSTM's full gradient (Graves & Schmidhuber 2005, PAPER.md §11.3): ``gradient=full``.

* The plain-numpy reference (tests/reference/lstm_bptt_reference.py) equals central finite differences of the
  numpy loss, and its forward pass gives the loss of the 1997 reference (lstm_reference) to 1e-12, for every
  combination of connectivity, output gate, forget gate, peepholes, g, h and bias scheme; so does the kernel's
  change of one sequence (update=sequence: delta / lr = -1/2 dE/dw, the factor 2 of dE/dy being inside lr).
* The kernel's weights after several sequences equal the reference's to 1e-10 (update=sequence and epoch,
  reset 0.5, error_factor 2, sequential construction).
* Training does not depend on how the sequences are cut into chunks (bits); the outputs are predict's.
* gradient=truncated (the default) is the behaviour of before bit for bit (the digests of test_lstm_options),
  and spelling it out leaves configuration keys alone.
* The full gradient differs from the truncated one where truncation cuts a path (the recurrent columns, the
  peepholes) and equals it where truncation is exact (the output units' weights; everything under B without
  peepholes).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from reference import lstm_bptt_reference as bptt
from reference.lstm_cases import assert_params_close, case_seed, kernel_model, set_params
from reference.lstm_reference import (
    PARAM_NAMES,
    flatten,
    make_config,
    random_batch,
    random_params,
    recurrent_columns,
    reference_loss,
    unflatten,
)
from test_lstm_options import BEFORE, _digest, _train_two_chunks

from lstm97 import models, tasks
from lstm97.checks import check_model
from lstm97.errors import UserError
from lstm97.models.base import NONFINITE
from lstm97.models.lstm import LSTM
from lstm97.runners import TrialConfig, run_trial
from lstm97.tasks import SequenceBatch

FD_RTOL = 1e-7  # of the largest gradient entry: central differences, eps 1e-6
ATOL = 1e-10

#: (connectivity, output_gate, forget_gate, peepholes, g, h, bias): every combination.
COMBOS = list(
    itertools.product(
        ["F", "cells", "B"], [True, False], [False, True], [False, True], ["g2", "g1"], ["h1", "id"],
        ["none", "gates", "hidden", "all"],
    )
)  # fmt: skip
STRUCT = list(itertools.product(["F", "cells", "B"], [True, False], [False, True], [False, True]))


def _cfg(conn, og, fg, pe, g="g2", h="h1", bias="all", C=2, S=2, **kw):
    return make_config(
        n_in=2,
        n_out=2,
        blocks=C,
        block_size=S,
        connectivity=conn,
        output_gate=og,
        forget_gate=fg,
        peepholes=pe,
        g=g,
        h=h,
        bias=bias,
        **{"lr": 1.0, "update": "sequence", **kw},
    )


def _sequence(cfg, seed, length=5):
    """One random sequence with targets at about half the steps and at the last one."""
    inputs, targets, mask, lengths = random_batch(np.random.default_rng(seed), 1, length, cfg["n_in"], cfg["n_out"])
    mask[0, -1] = True
    return inputs, targets, mask, lengths


def _kernel(cfg, **extra):
    return kernel_model(cfg, gradient="full", **extra)


def _kernel_step(cfg, params, batch, n_act=None):
    """The kernel's change of the weights over ``batch`` (views by name), its state and outputs."""
    model, state = _kernel(cfg, **({"grow": "plateau"} if n_act is not None else {}))
    if n_act is not None:
        state.extra["n_act"] = n_act
    set_params(model, state, params)
    w0 = state.w.copy()
    res = model.train_chunk(state, SequenceBatch(*batch))
    assert res.status == 0
    return model.views(state.w - w0), model, state, res


# --------------------------------------------------------------------------------------------------------
# (a) The gradient against central finite differences of the numpy loss
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("conn,og,fg,pe,g,h,bias", COMBOS)
def test_reference_gradient_equals_finite_differences(conn, og, fg, pe, g, h, bias):
    cfg = _cfg(conn, og, fg, pe, g, h, bias, reset=0.3)
    seed = case_seed("bptt-ref", conn, og, fg, pe, g, h, bias)
    params = random_params(cfg, np.random.default_rng(seed), -0.8, 0.8)
    inputs, targets, mask, lengths = _sequence(cfg, seed + 1)
    seq = (inputs[0], targets[0], mask[0])
    w = flatten(params)
    # the batched forward pass gives the 1997 reference's loss: the finite differences are of the numpy loss
    assert bptt.batched_loss(w, cfg, *seq)[0] == pytest.approx(
        reference_loss(params, cfg, inputs, targets, mask, lengths), rel=1e-12
    )
    fd = bptt.central_differences(w, cfg, *seq)
    assert np.abs(fd).max() > 1e-3  # not vacuous
    np.testing.assert_allclose(
        flatten(bptt.gradient(params, cfg, *seq)), -0.5 * fd, rtol=0, atol=FD_RTOL * np.abs(fd).max()
    )


@pytest.mark.kernel
@pytest.mark.parametrize("conn,og,fg,pe,g,h,bias", COMBOS)
def test_kernel_gradient_equals_finite_differences(conn, og, fg, pe, g, h, bias):
    """One sequence, update=sequence, lr 1: the kernel's change is -1/2 dE/dw, and the reference's to 1e-10."""
    cfg = _cfg(conn, og, fg, pe, g, h, bias)
    seed = case_seed("bptt-kernel", conn, og, fg, pe, g, h, bias)
    params = random_params(cfg, np.random.default_rng(seed), -0.8, 0.8)
    batch = _sequence(cfg, seed + 1)
    change, model, _, _ = _kernel_step(cfg, params, batch)
    seq = (batch[0][0], batch[1][0], batch[2][0])
    fd = unflatten(-0.5 * bptt.central_differences(flatten(params), cfg, *seq), cfg)
    scale = max(np.abs(v).max() if v.size else 0.0 for v in fd.values())
    ref = bptt.gradient(params, cfg, *seq)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(change[name], fd[name], rtol=0, atol=FD_RTOL * scale, err_msg=name)
        np.testing.assert_allclose(change[name], ref[name], rtol=0, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("n_act", [0, 1, 2])
@pytest.mark.parametrize("conn", ["F", "cells", "B"])
def test_reference_gradient_with_inactive_blocks(conn, n_act):
    """Sequential construction: blocks n_act.. are constants; their weights get exact zeros."""
    cfg = _cfg(conn, True, True, True, C=3, S=2)
    seed = case_seed("bptt-grow", conn, n_act)
    params = random_params(cfg, np.random.default_rng(seed), -0.8, 0.8)
    seq = tuple(a[0] for a in _sequence(cfg, seed + 1)[:3])
    fd = bptt.central_differences(flatten(params), cfg, *seq, n_act=n_act)
    grad = bptt.gradient(params, cfg, *seq, n_act=n_act)
    np.testing.assert_allclose(flatten(grad), -0.5 * fd, rtol=0, atol=FD_RTOL * np.abs(fd).max())
    for name in ("W_in", "W_out", "W_phi", "b_in", "b_out", "b_phi"):
        assert not grad[name][n_act:].any()
    for name in ("W_c", "b_c", "P_in", "P_phi", "P_out"):
        assert not grad[name][2 * n_act :].any()


# --------------------------------------------------------------------------------------------------------
# (b) Kernel against reference over several sequences
# --------------------------------------------------------------------------------------------------------
@pytest.mark.kernel
@pytest.mark.parametrize("update", ["sequence", "epoch"])
@pytest.mark.parametrize("conn,og,fg,pe", STRUCT)
def test_kernel_matches_reference_over_sequences(conn, og, fg, pe, update):
    i = STRUCT.index((conn, og, fg, pe))
    g, h, bias = ("g2", "g1")[i % 2], ("h1", "id")[i // 2 % 2], ("none", "gates", "hidden", "all")[i % 4]
    extra = {"reset": 0.5, "error_factor": 2} if i % 3 == 0 else {}
    cfg = _cfg(conn, og, fg, pe, g, h, bias, lr=0.7, update=update, epoch=2, **extra)
    seed = case_seed("bptt-train", conn, og, fg, pe, update)
    params = random_params(cfg, np.random.default_rng(seed), -0.5, 0.5)
    inputs, targets, mask, lengths = random_batch(np.random.default_rng(seed + 1), 5, 6, 2, 2, p_target=0.5)
    mask[1] = False  # a sequence without targets
    model, state = _kernel(cfg)
    set_params(model, state, params)
    res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))
    expected, outputs = bptt.reference_train_full(params, cfg, inputs, targets, mask, lengths)
    assert res.status == 0 and res.n_done == 5
    np.testing.assert_allclose(res.outputs, outputs, rtol=0, atol=ATOL)
    assert_params_close(model, state.w, expected, f"{conn} og={og} fg={fg} pe={pe} {update}")


@pytest.mark.kernel
@pytest.mark.parametrize("conn", ["F", "cells", "B"])
def test_kernel_matches_reference_with_inactive_blocks(conn):
    cfg = _cfg(conn, True, True, True, C=3, S=2, lr=0.5)
    seed = case_seed("bptt-grow-train", conn)
    params = random_params(cfg, np.random.default_rng(seed), -0.5, 0.5)
    batch = random_batch(np.random.default_rng(seed + 1), 3, 6, 2, 2)
    change, model, state, _ = _kernel_step(cfg, params, batch, n_act=2)
    expected, _ = bptt.reference_train_full(params, cfg, *batch, n_act=2)
    assert_params_close(model, state.w, expected, conn)
    assert not change["W_in"][2:].any() and not change["W_c"][4:].any() and not change["P_out"][4:].any()


# --------------------------------------------------------------------------------------------------------
# (c) Chunks, outputs, divergence
# --------------------------------------------------------------------------------------------------------
def _trim(batch: SequenceBatch) -> SequenceBatch:
    """The batch padded only to its own longest sequence (chunks are padded per chunk)."""
    L = int(batch.lengths.max())
    return SequenceBatch(
        np.ascontiguousarray(batch.inputs[:, :L]),
        np.ascontiguousarray(batch.targets[:, :L]),
        np.ascontiguousarray(batch.mask[:, :L]),
        batch.lengths.copy(),
    )


@pytest.mark.kernel
@pytest.mark.parametrize("update", ["sequence", "epoch"])
def test_training_is_chunk_invariant(update):
    """The same weights, epoch sums and outputs (bits) whatever the chunks and their padding."""
    hp = dict(gradient="full", update=update, epoch=3, forget_gate=True, peepholes=True, lr=0.5)
    batch = SequenceBatch(*random_batch(np.random.default_rng(21), 8, 9, 3, 2, p_target=0.5))
    results = []
    for cuts in ((0, 8), (0, 1, 2, 3, 4, 5, 6, 7, 8), (0, 3, 8), (0, 5, 6, 8)):
        model = LSTM.for_dims(3, 2, **hp)
        state = model.init_state(np.random.default_rng(22))
        rows = []
        for a, b in itertools.pairwise(cuts):
            out = model.train_chunk(state, _trim(batch.take(slice(a, b)))).outputs
            rows += [out[i, : batch.lengths[a + i]] for i in range(b - a)]
        results.append((state, rows))
    state0, rows0 = results[0]
    for state, rows in results[1:]:
        np.testing.assert_array_equal(state.w, state0.w)
        if update == "epoch":
            np.testing.assert_array_equal(state.extra["acc"], state0.extra["acc"])
            assert state.extra["pos"] == state0.extra["pos"] == 8 % 3
        for got, want in zip(rows, rows0, strict=True):
            np.testing.assert_array_equal(got, want)


@pytest.mark.kernel
def test_trials_are_chunk_invariant():
    options = {"gradient": "full", "update": "sequence", "forget_gate": True}
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", options, max_sequences=150, n_test=30)
    recs = [run_trial(cfg, seed=5, chunk=c) for c in (7, 64, 1000)]
    for r in recs[1:]:
        assert (r["test_mse"], r["curve"], r["state"]) == (recs[0]["test_mse"], recs[0]["curve"], recs[0]["state"])


@pytest.mark.kernel
@pytest.mark.parametrize("hp", [{}, {"peepholes": True, "forget_gate": True, "connectivity": "cells", "reset": 0.5}])
def test_outputs_are_predicts(hp):
    """The forward pass is the truncated kernel's arithmetic: outputs bit for bit those of predict."""
    model = LSTM.for_dims(3, 2, gradient="full", update="sequence", **hp)
    state = model.init_state(np.random.default_rng(3))
    batch = SequenceBatch(*random_batch(np.random.default_rng(4), 1, 9, 3, 2))
    before = model.predict(state, batch)
    np.testing.assert_array_equal(model.train_chunk(state, batch).outputs, before)


@pytest.mark.kernel
def test_non_finite_weights_stop_the_chunk():
    model = LSTM.for_dims(3, 2, gradient="full", update="sequence")
    state = model.init_state(np.random.default_rng(3))
    state.w[0] = np.nan
    res = model.train_chunk(state, SequenceBatch(*random_batch(np.random.default_rng(4), 3, 5, 3, 2)))
    assert (res.status, res.n_done) == (NONFINITE, 0) and np.isnan(res.outputs).all()


# --------------------------------------------------------------------------------------------------------
# (d) gradient=truncated is the behaviour of before
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hp,init_digest,final_digest", BEFORE)
def test_truncated_gives_the_weights_of_before(hp, init_digest, final_digest):
    w0, state = _train_two_chunks({**hp, "gradient": "truncated"})
    assert (_digest(w0), _digest(state.w)) == (init_digest, final_digest)


def test_default_leaves_configuration_keys_alone():
    plain = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100, n_test=10)
    spelled = TrialConfig.resolve("adding", {"T": 20}, "lstm", {"gradient": "truncated"}, max_sequences=100, n_test=10)
    assert spelled.model_args == {} and spelled.key() == plain.key()
    full = TrialConfig.resolve(
        "adding", {"T": 20}, "lstm", {"gradient": "full", "update": "sequence"}, max_sequences=100, n_test=10
    )
    assert full.model_args == {"gradient": "full", "update": "sequence"} and full.key() != plain.key()


# --------------------------------------------------------------------------------------------------------
# (e) Full against truncated
# --------------------------------------------------------------------------------------------------------
def _both(cfg, seed):
    params = random_params(cfg, np.random.default_rng(seed), -0.8, 0.8)
    batch = _sequence(cfg, seed + 1, length=7)
    full, model, _, _ = _kernel_step(cfg, params, batch)
    trunc_model, state = kernel_model(cfg)
    set_params(trunc_model, state, params)
    w0 = state.w.copy()
    trunc_model.train_chunk(state, SequenceBatch(*batch))
    return full, model.views(state.w - w0), np.abs(flatten(full)).max()


@pytest.mark.kernel
@pytest.mark.parametrize("conn", ["F", "cells"])
def test_full_differs_where_truncation_cuts(conn):
    cfg = _cfg(conn, True, False, False)
    full, trunc, scale = _both(cfg, case_seed("bptt-vs-trunc", conn))
    rec = recurrent_columns(cfg)
    for name in ("W_in", "W_c", "W_out"):  # the columns from y_c(t-1) (and under F, the gates)
        f, t = full[name][:, rec], trunc[name][:, rec]
        assert np.abs(f - t).max() > 0.05 * np.abs(f).max(), name
    f, t = full["W_in"][:, :2], trunc["W_in"][:, :2]  # the error reaches earlier inputs along other paths too
    assert np.abs(f - t).max() > 0.05 * np.abs(f).max()
    for name in ("W_k", "b_k"):  # the output units: eq. 22 is exact
        np.testing.assert_allclose(full[name], trunc[name], rtol=0, atol=1e-13 * scale, err_msg=name)


@pytest.mark.kernel
@pytest.mark.parametrize("fg", [False, True])
@pytest.mark.parametrize("og", [True, False])
def test_full_equals_truncated_without_recurrence(og, fg):
    """Under B without peepholes nothing but the CEC crosses time: the truncated rule is the exact gradient."""
    cfg = _cfg("B", og, fg, False)
    full, trunc, scale = _both(cfg, case_seed("bptt-B", og, fg))
    for name in PARAM_NAMES:
        np.testing.assert_allclose(full[name], trunc[name], rtol=0, atol=1e-13 * scale, err_msg=name)


@pytest.mark.kernel
def test_full_differs_through_the_peepholes():
    cfg = _cfg("B", True, True, True)
    full, trunc, scale = _both(cfg, case_seed("bptt-peep"))
    for name in ("W_in", "W_phi", "W_c", "P_in"):
        assert np.abs(full[name] - trunc[name]).max() > 0.05 * np.abs(full[name]).max(), name
    np.testing.assert_allclose(full["W_k"], trunc["W_k"], rtol=0, atol=1e-13 * scale)


# --------------------------------------------------------------------------------------------------------
# Validation, footprint, contract
# --------------------------------------------------------------------------------------------------------
def test_update_step_is_refused():
    with pytest.raises(UserError, match="set update=sequence"):
        LSTM.for_dims(2, 1, gradient="full")
    with pytest.raises(UserError, match="gradient"):
        LSTM.for_dims(2, 1, gradient="exact", update="sequence")


def test_footprint_counts_the_stored_steps():
    trunc = LSTM.for_dims(5, 3, blocks=4, update="sequence").footprint()
    full = LSTM.for_dims(5, 3, blocks=4, update="sequence", gradient="full").footprint()
    assert full.bytes > trunc.bytes and full.flops_per_step > 0


@pytest.mark.parametrize("hp", [{}, {"grow": "plateau", "grow_window": 5}, {"update": "epoch", "epoch": 7}], ids=repr)
def test_contract_holds(hp):
    task = tasks.make("adding", T=20)
    check_model(models.make("lstm", task, gradient="full", **{"update": "sequence", **hp}), task)

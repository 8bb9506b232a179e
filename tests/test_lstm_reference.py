"""The numba LSTM kernel (``lstm97.models.lstm``) against the plain-numpy reference (tests/reference).

On random nets (every weight uniform in [-1, 1]) and random padded sequences (random lengths, targets at
random steps, steps and whole sequences without targets, arbitrary target values where there is no target),
the kernel's weights after ``train_chunk`` and its outputs must equal the reference's to 1e-10, for every
layout, connectivity, gate, bias, squashing and update option (PAPER.md §1.2-1.5, §1.9).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from reference.lstm_cases import assert_params_close as _assert_params_equal
from reference.lstm_cases import case_data
from reference.lstm_cases import case_seed as _seed
from reference.lstm_cases import kernel_model as _kernel
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

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

ATOL = 1e-10

LAYOUTS = [(1, 1), (2, 2), (3, 1), (1, 3)]
BIASES = ["none", "gates", "hidden", "all"]
GH = [("g2", "h1"), ("g1", "id"), ("g2", "id"), ("g1", "h1")]


def _batch(arrays):
    from lstm97.tasks import SequenceBatch

    return SequenceBatch(*arrays)


def _data(cfg, seed, n=4, length=7):
    """Random sequences (4 here), with a sequence without any target and one with a target at every step."""
    return case_data(cfg, seed, n, length)


def _check_against_reference(cfg, seed):
    params = random_params(cfg, np.random.default_rng(seed))
    arrays = _data(cfg, seed + 1)
    ref_params, ref_outputs = reference_train(params, cfg, *arrays, learn=True)

    model, state = _kernel(cfg)
    _set(model, state, params)
    res = model.train_chunk(state, _batch(arrays))
    assert res.status == 0
    assert res.n_done == len(arrays[3])
    np.testing.assert_allclose(res.outputs, ref_outputs, rtol=0, atol=ATOL, err_msg="outputs")
    _assert_params_equal(model, state.w, ref_params, f"{cfg}")
    # the weights did change (the comparison is not vacuous)
    assert max(np.abs(ref_params[k] - params[k]).max(initial=0.0) for k in PARAM_NAMES) > 1e-3


# --------------------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("connectivity,output_gate,bias", list(itertools.product(["F", "B"], [True, False], BIASES)))
@pytest.mark.parametrize("C,S", LAYOUTS)
def test_layout_matches_reference(C, S, connectivity, output_gate, bias):
    cfg = make_config(
        n_in=3, n_out=2, blocks=C, block_size=S, connectivity=connectivity, output_gate=output_gate, bias=bias
    )
    model, state = _kernel(cfg)
    assert model.n_weights == n_weights(cfg) == state.w.shape[0]
    views = model.views(np.arange(model.n_weights, dtype=np.float64))
    assert set(views) == set(PARAM_NAMES)
    for name, shape in param_shapes(cfg).items():
        assert views[name].shape == shape, name
    # the views tile the flat vector: every weight belongs to exactly one array
    used = np.sort(np.concatenate([views[name].ravel() for name in PARAM_NAMES]))
    np.testing.assert_array_equal(used, np.arange(model.n_weights))


# --------------------------------------------------------------------------------------------------------
# Training and outputs
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("output_gate", [True, False])
@pytest.mark.parametrize("connectivity", ["F", "B"])
@pytest.mark.parametrize("C,S", LAYOUTS)
def test_train_chunk_matches_reference(C, S, connectivity, output_gate, bias, update):
    # cycle the squashing pairs over the grid so that each appears with every layout and connectivity
    index = LAYOUTS.index((C, S)) + BIASES.index(bias) + (update == "sequence") + 2 * output_gate
    g, h = GH[index % len(GH)]
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
    )
    _check_against_reference(cfg, _seed(C, S, connectivity, output_gate, bias, update))


@pytest.mark.parametrize("n_in,n_out", [(1, 1), (4, 3)])
@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("g,h", GH)
@pytest.mark.parametrize("connectivity", ["F", "B"])
def test_squashing_variants_match_reference(connectivity, g, h, update, n_in, n_out):
    cfg = make_config(
        n_in=n_in,
        n_out=n_out,
        blocks=2,
        block_size=2,
        connectivity=connectivity,
        output_gate=True,
        bias="all",
        g=g,
        h=h,
        lr=1.0,
        update=update,
    )
    _check_against_reference(cfg, _seed(connectivity, g, h, update, n_in, n_out))


@pytest.mark.parametrize("connectivity,output_gate", list(itertools.product(["F", "B"], [True, False])))
def test_predict_matches_reference_and_keeps_weights(connectivity, output_gate):
    cfg = make_config(
        n_in=2,
        n_out=3,
        blocks=2,
        block_size=2,
        connectivity=connectivity,
        output_gate=output_gate,
        bias="all",
        lr=0.5,
        update="step",
    )
    seed = _seed("predict", connectivity, output_gate)
    params = random_params(cfg, np.random.default_rng(seed))
    arrays = _data(cfg, seed + 1)
    model, state = _kernel(cfg)
    _set(model, state, params)
    w0 = state.w.copy()
    outputs = model.predict(state, _batch(arrays))
    np.testing.assert_array_equal(state.w, w0)
    np.testing.assert_allclose(outputs, reference_predict(params, cfg, *arrays), rtol=0, atol=ATOL)
    # padding is zero
    inside = np.arange(arrays[2].shape[1])[None, :] < arrays[3][:, None]
    assert np.all(outputs[~inside] == 0.0)


@pytest.mark.parametrize("update", ["step", "sequence"])
def test_chunks_carry_weights_over(update):
    """Training on sequences in two chunks equals training on them in one (and equals the reference)."""
    cfg = make_config(
        n_in=2, n_out=2, blocks=2, block_size=2, connectivity="F", output_gate=True, bias="all", lr=0.5, update=update
    )
    seed = _seed("chunks", update)
    params = random_params(cfg, np.random.default_rng(seed))
    arrays = _data(cfg, seed + 1, n=5)
    ref_params, _ = reference_train(params, cfg, *arrays)
    batch = _batch(arrays)

    model, state = _kernel(cfg)
    _set(model, state, params)
    model.train_chunk(state, batch.take(slice(0, 2)))
    model.train_chunk(state, batch.take(slice(2, 5)))
    _assert_params_equal(model, state.w, ref_params, "two chunks")


def test_no_targets_no_weight_change():
    cfg = make_config(
        n_in=2, n_out=2, blocks=2, block_size=2, connectivity="F", output_gate=True, bias="all", lr=0.5, update="step"
    )
    params = random_params(cfg, np.random.default_rng(5))
    inputs, targets, mask, lengths = _data(cfg, 6)
    mask[:] = False
    ref_params, _ = reference_train(params, cfg, inputs, targets, mask, lengths)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(ref_params[name], params[name])
    model, state = _kernel(cfg)
    _set(model, state, params)
    w0 = state.w.copy()
    model.train_chunk(state, _batch((inputs, targets, mask, lengths)))
    np.testing.assert_array_equal(state.w, w0)


@pytest.mark.parametrize("connectivity", ["F", "B"])
def test_step_and_sequence_update_agree_with_only_a_final_target(connectivity):
    """PAPER.md §1.9: with the only target at the sequence end, both update readings give the same result;
    with targets at several steps they differ."""
    base = dict(
        n_in=2, n_out=2, blocks=2, block_size=2, connectivity=connectivity, output_gate=True, bias="all", lr=0.5
    )
    cfg_step = make_config(base, update="step")
    cfg_seq = make_config(base, update="sequence")
    seed = _seed("final", connectivity)
    params = random_params(cfg_step, np.random.default_rng(seed))
    inputs, targets, mask, lengths = _data(cfg_step, seed + 1)
    final = np.zeros_like(mask)
    final[np.arange(len(lengths)), lengths - 1] = True
    for m, same in ((final, True), (mask, False)):
        results = []
        for cfg in (cfg_step, cfg_seq):
            model, state = _kernel(cfg)
            _set(model, state, params)
            model.train_chunk(state, _batch((inputs, targets, m, lengths)))
            results.append(state.w.copy())
            _assert_params_equal(
                model, state.w, reference_train(params, cfg, inputs, targets, m, lengths)[0], f"update={cfg['update']}"
            )
        if same:
            np.testing.assert_allclose(results[0], results[1], rtol=0, atol=ATOL)
        else:
            assert np.abs(results[0] - results[1]).max() > 1e-6

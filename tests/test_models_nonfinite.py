"""A net that goes non-finite gives NaN outputs, never silent zeros: predict (and train_chunk) mark the
sequence the kernel stopped at, and every later one of the batch (not computed), as NaN, so that the task
counts them wrong and their errors are NaN; the sequences before it keep the outputs the kernel computed."""

import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.models.base import NONFINITE, OK, ChunkResult
from lstm97.tasks import SequenceBatch

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

#: (model, hyperparameters, task, task parameters): every built-in forward path, on dense inputs
DENSE_CASES = [
    ("lstm", {}, "adding", {"T": 20}),
    ("lstm", {"connectivity": "B", "output_gate": False}, "adding", {"T": 20}),
    ("rnn-bptt", {}, "adding", {"T": 20}),
    ("rtrl", {"arch": "wz", "hidden": 2}, "adding", {"T": 20}),
    ("elman", {}, "adding", {"T": 20}),
    ("guess", {}, "two-sequence", {"T": 20, "N": 3}),
    ("guess", {"net": "lstm"}, "two-sequence", {"T": 20, "N": 3}),
]


def _setup(model_name, hp, task_name, tp, n=5):
    task = tasks.make(task_name, **tp)
    model = models.make(model_name, task, **hp)
    state = model.init_state(np.random.default_rng(0))
    return task, model, state, task.sample(np.random.default_rng(1), n)


def _poisoned(batch, i):
    """``batch`` with a NaN on the first input of sequence i."""
    inputs = batch.inputs.copy()
    inputs[i, 0, 0] = np.nan
    return SequenceBatch(inputs, batch.targets, batch.mask, batch.lengths, dict(batch.info))


@pytest.mark.parametrize(
    "model_name,hp,task_name,tp", DENSE_CASES, ids=[f"{m}-{t}-{i}" for i, (m, _, t, _) in enumerate(DENSE_CASES)]
)
def test_predict_marks_the_failing_sequence_and_the_rest_nan(model_name, hp, task_name, tp):
    task, model, state, batch = _setup(model_name, hp, task_name, tp)
    clean = model.predict(state, batch)
    assert np.isfinite(clean).all()
    out = model.predict(state, _poisoned(batch, 2))
    np.testing.assert_array_equal(out[:2], clean[:2])  # computed before the failure: unaffected
    assert np.isnan(out[2:]).all()  # the failing sequence and the ones after it
    ok, err = task.correct(batch, out), task.error(batch, out)
    assert not ok[2:].any() and np.isnan(err[2:]).all() and np.isfinite(err[:2]).all()
    np.testing.assert_array_equal(ok[:2], task.correct(batch, clean)[:2])


@pytest.mark.parametrize(
    "model_name,task_name,tp",
    [
        ("lstm", "long-lag", {"p": 4}),
        ("rtrl", "long-lag", {"p": 4}),
        ("rnn-bptt", "long-lag", {"p": 4}),
        ("elman", "reber", {}),
        ("lstm", "reber", {}),
    ],
)
def test_a_non_finite_weight_makes_every_output_nan(model_name, task_name, tp):
    """One-hot inputs (the sparse kernel paths): a NaN weight that every unit's sum reaches."""
    task, model, state, batch = _setup(model_name, {}, task_name, tp)
    w0 = state.w.copy()
    state.w[np.flatnonzero(model.free())[-1]] = np.nan  # a weight of the last output unit (or its bias)
    out = model.predict(state, batch)
    assert out.shape == batch.targets.shape and np.isnan(out).all()
    assert not task.correct(batch, out).any()
    state.w[:] = w0
    assert np.isfinite(model.predict(state, batch)).all()


def test_train_chunk_outputs_are_nan_from_the_failing_sequence_on():
    task, model, state, batch = _setup("lstm", {}, "adding", {"T": 20})
    ref = model.train_chunk(state.copy(), batch)
    res = model.train_chunk(state, _poisoned(batch, 3))
    assert (res.status, res.n_done) == (NONFINITE, 3)
    np.testing.assert_array_equal(res.outputs[:3], ref.outputs[:3])
    assert np.isnan(res.outputs[3:]).all()


def test_chunk_result_leaves_ok_outputs_alone():
    outputs = np.zeros((3, 4, 1))
    assert ChunkResult(OK, 3, outputs).outputs is outputs and not np.isnan(outputs).any()
    assert np.isnan(ChunkResult(NONFINITE, 1, outputs).outputs[1:]).all() and (outputs[0] == 0).all()

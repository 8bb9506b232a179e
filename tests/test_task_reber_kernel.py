"""``Reber.correct`` (numba kernels ``_top_k_correct`` and ``_abs_correct``) against the numpy implementation it
replaced, copied here unchanged as the reference: the same boolean per string for both target encodings and
both success tests, on random outputs with ties, NaN and infinite values, the targets and the ideal outputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm97.errors import UserError
from lstm97.tasks.base import max_abs_error
from lstm97.tasks.reber import Reber

pytestmark = pytest.mark.kernel


def _reference_correct(task: Reber, batch, outputs: np.ndarray) -> np.ndarray:
    """``Reber.correct`` as it was (lstm97/tasks/reber.py before the kernels), verbatim."""
    if task.params["success"] == "abs":
        return max_abs_error(batch, outputs) < task.params["beta"]
    L = batch.mask.shape[1]
    legal = batch.info["legal"][:, :L]
    outputs = outputs[:, :L]
    lowest_legal = np.where(legal, outputs, np.inf).min(axis=2)
    highest_illegal = np.where(legal, -np.inf, outputs).max(axis=2)
    return np.where(batch.mask, lowest_legal > highest_illegal, True).all(axis=1)


#: (targets, success, beta) of every valid combination, beta at its default and at other values.
MODES = [
    ("next", "top-k", 0.5),
    ("legal", "top-k", 0.5),
    ("legal", "abs", 0.5),
    ("legal", "abs", 0.25),
    ("legal", "abs", 0.75),
    ("legal", "abs", 1e-6),
    ("legal", "abs", 1.0),
]


def _outputs(rng: np.random.Generator, batch, task: Reber, kind: str) -> np.ndarray:
    """Outputs of one of several kinds for ``batch`` (padding steps hold random values too)."""
    shape = batch.targets.shape
    ideal = task.ideal_outputs(batch)
    if kind == "uniform":
        return rng.random(shape)
    if kind == "ties":  # few distinct values: ties between legal and illegal outputs are frequent
        return rng.integers(0, 3, shape) / 2.0
    if kind == "near":  # the ideal outputs plus noise of a level drawn per string: some correct, some not
        return ideal + rng.normal(0, 1, shape) * rng.uniform(0, 0.3, (shape[0], 1, 1))
    if kind == "ideal":
        return ideal.copy()
    if kind == "targets":
        return batch.targets.copy()
    if kind == "constant":
        return np.full(shape, 1.0)
    if kind == "grid":  # errors that hit beta exactly (0.25, 0.5, 0.75, 1.0 away from a 0/1 target)
        return ideal + np.where(rng.random(shape) < 0.02, rng.integers(-4, 5, shape) / 4.0, 0.0)
    out = ideal + rng.normal(0, 0.05, shape)
    hit = rng.random(shape) < (0.01 if kind == "nan" else 0.02)
    if kind == "nan":
        out[hit] = np.nan
    elif kind == "inf":
        out[hit] = rng.choice([np.inf, -np.inf], hit.sum())
    else:
        raise AssertionError(kind)
    return out


KINDS = ("uniform", "ties", "near", "ideal", "targets", "constant", "grid", "nan", "inf")


def _check(task, batch, outputs) -> np.ndarray:
    want = _reference_correct(task, batch, outputs)
    got = task.correct(batch, outputs)
    assert got.dtype == np.bool_ and got.shape == (len(batch),)
    np.testing.assert_array_equal(got, want)
    return got


@pytest.mark.parametrize("targets, success, beta", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_correct_identical_to_reference(targets, success, beta, kind):
    task = Reber(targets=targets, success=success, beta=beta)
    for seed in range(4):
        rng = np.random.default_rng(seed)
        batch = task.sample(rng, 256)
        _check(task, batch, _outputs(rng, batch, task, kind))


def test_outcomes_are_mixed():
    """The random kinds produce correct and wrong strings alike (so the comparison above is not trivial)."""
    for targets, success, beta in MODES[:3]:
        task = Reber(targets=targets, success=success, beta=beta)
        rng = np.random.default_rng(1)
        batch = task.sample(rng, 256)
        for kind in ("near", "nan", "grid") if success == "abs" else ("near", "nan"):
            ok = _check(task, batch, _outputs(rng, batch, task, kind))
            assert 0 < ok.sum() < len(ok), (targets, success, kind)


@pytest.mark.parametrize("targets, success, beta", MODES[:3])
def test_fixed_sets_taken_in_chunks(targets, success, beta):
    """As the runner's checks see them: chunks taken from the fixed sets, and NaN everywhere."""
    task = Reber(targets=targets, success=success, beta=beta)
    train, test = task.fixed_sets(np.random.default_rng(3), np.random.default_rng(4))
    rng = np.random.default_rng(5)
    for fixed in (train, test):
        for a, b in ((0, 16), (16, 48), (48, 112), (112, 256), (0, 256)):
            part = fixed.take(slice(a, b))
            _check(task, part, _outputs(rng, part, task, "near"))
            _check(task, part, np.full(part.targets.shape, np.nan))


def test_non_contiguous_and_longer_outputs():
    """Outputs that are a strided view, and (top-k, which looked only at the first L steps) longer ones."""
    rng = np.random.default_rng(8)
    for targets, success, beta in MODES[:3]:
        task = Reber(targets=targets, success=success, beta=beta)
        batch = task.sample(rng, 64)
        n, L, _ = batch.targets.shape
        big = rng.random((n, L + 3, 9))
        big[:, :L, :7] = task.ideal_outputs(batch) + rng.normal(0, 0.05, (n, L, 7))
        view = big[:, :L, :7]
        assert not view.flags.c_contiguous
        _check(task, batch, view)
        if success == "top-k":
            _check(task, batch, big[:, :, :7])


def test_empty_batch_and_bad_shapes():
    task = Reber()
    batch = task.sample(np.random.default_rng(0), 5)
    assert task.correct(batch.take(slice(0, 0)), np.zeros((0, 0, 7))).shape == (0,)
    for bad in (batch.targets[:, :-1], batch.targets[:, :, :6], batch.targets[:4], batch.targets[0]):
        with pytest.raises(ValueError):
            task.correct(batch, bad)
    with pytest.raises(UserError):
        Reber(success="abs")


@settings(max_examples=80, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
)
def test_correct_identical_hypothesis(mode, kind, seed, n):
    targets, success, beta = mode
    task = Reber(targets=targets, success=success, beta=beta)
    rng = np.random.default_rng(seed)
    batch = task.sample(rng, n)
    _check(task, batch, _outputs(rng, batch, task, kind))


@settings(max_examples=80, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    seed=st.integers(0, 2**32 - 1),
    values=st.lists(st.sampled_from([0.0, -0.0, 0.25, 0.5, 0.75, 1.0, 1.5, -0.5, np.nan, np.inf, -np.inf]), min_size=1),
)
def test_correct_identical_on_special_values(mode, seed, values):
    """Outputs built only from a few special values (signed zeros, exact thresholds, NaN, infinities)."""
    targets, success, beta = mode
    task = Reber(targets=targets, success=success, beta=beta)
    rng = np.random.default_rng(seed)
    batch = task.sample(rng, 8)
    _check(task, batch, rng.choice(np.array(values), batch.targets.shape))

"""The random-guessing problems (latch, parity) against PAPER.md §5 and [G01] node2-node4."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.batches import assert_chunk_invariant

from lstm97.checks import check_task
from lstm97.errors import UserError
from lstm97.tasks.criteria import EvalRule
from lstm97.tasks.guessing_tasks import Latch, Parity

LATCH_PARAMS = [
    {},
    {"variant": "II"},
    {"targets": "tanh"},
    {"variant": "II", "targets": "tanh"},
    {"noise_var": 0.0},
    {"signal": 3.5},
    {"targets": "tanh", "tolerance": 0.2},
    {"min_length": 1, "max_length": 1},
]
PARITY_PARAMS = [{}, {"noise": 0.2}, {"min_length": 1, "max_length": 3}, {"min_length": 7, "max_length": 7}]


def within(count, n, p, k=5.0):
    """``count`` successes of ``n`` trials are within k standard deviations of the binomial mean."""
    return abs(count - n * p) < k * np.sqrt(n * p * (1 - p))


def var_ok(x, var, k=5.0):
    """Sample variance of ``x`` (mean 0 known) within k standard errors of ``var`` (Gaussian x)."""
    x = np.asarray(x)
    return abs(x.mean()) < k * np.sqrt(var / x.size) and abs((x**2).mean() - var) < k * var * np.sqrt(2 / x.size)


def end(batch):
    return batch.targets[np.arange(len(batch)), batch.lengths - 1, 0]


def alive(batch):
    return np.arange(batch.mask.shape[1])[None, :] < batch.lengths[:, None]


@pytest.fixture(scope="module")
def parity_batch():
    return Parity().sample(np.random.default_rng(0), 4000)


@pytest.fixture(scope="module")
def latch_batch():
    return Latch().sample(np.random.default_rng(0), 4000)


@pytest.mark.parametrize("which", ["parity", "latch"])
def test_layout_lengths_mask_and_classes(which, parity_batch, latch_batch):
    batch = parity_batch if which == "parity" else latch_batch
    assert batch.inputs.shape == (4000, 600, 1) and batch.targets.shape == (4000, 600, 1)
    assert set(np.unique(batch.lengths)) == set(range(500, 601))  # the whole range [500, 600] occurs
    counts = np.bincount(batch.lengths - 500, minlength=101)
    assert all(within(c, 4000, 1 / 101) for c in counts)
    beyond = ~alive(batch)
    assert not batch.inputs[beyond].any() and not batch.targets[beyond].any()
    assert np.array_equal(batch.mask, np.arange(600)[None, :] == batch.lengths[:, None] - 1)  # end only
    assert not batch.targets[~batch.mask].any()
    label = batch.info["label"]
    assert label.dtype == np.int64 and label.shape == (4000,) and set(np.unique(label)) == {0, 1}
    assert within(label.sum(), 4000, 0.5)  # each class with probability 0.5


def test_parity_targets_and_inputs(parity_batch):
    batch = parity_batch
    x = batch.inputs[:, :, 0]
    assert np.all(np.isin(x[alive(batch)], (-1.0, 1.0)))  # exactly +-1 without noise
    odd = (x == 1.0).sum(axis=1) % 2
    assert np.array_equal(end(batch), odd.astype(float))  # 1.0 for an odd number of +1 elements
    assert np.array_equal(batch.info["label"], odd)
    # the bits are independent fair coins at every position, the flipped one included
    bits = x[:, :500] == 1.0
    assert all(within(c, 4000, 0.5) for c in bits.sum(axis=0))
    assert abs(np.corrcoef(bits[:, :-1].ravel(), bits[:, 1:].ravel())[0, 1]) < 5 / np.sqrt(bits.size)


def test_parity_noise(parity_batch):
    noisy = Parity(noise=0.2).sample(np.random.default_rng(0), 4000)
    np.testing.assert_array_equal(noisy.lengths, parity_batch.lengths)
    np.testing.assert_array_equal(noisy.targets, parity_batch.targets)  # same seed: same bits
    live = alive(noisy)
    clean = parity_batch.inputs[:, :, 0][live]
    x = noisy.inputs[:, :, 0][live]
    assert np.all(np.abs(x) <= 1.2) and np.all(np.sign(x) == clean)
    noise = x - clean
    assert np.all(np.abs(noise) <= 0.2)
    assert abs(noise.mean()) < 5 * np.sqrt(0.04 / 3 / noise.size)  # uniform in [-0.2, 0.2]: var 0.04/3
    assert abs(noise.var() - 0.04 / 3) < 0.01 * 0.04 / 3
    assert abs(np.mean(np.abs(noise) < 0.1) - 0.5) < 0.002
    assert not np.any(noisy.inputs[~live])


def test_parity_balanced_strings_are_uniform_within_class():
    """Flipping one bit of a wrong-parity draw leaves every string of the wanted parity equally likely."""
    task = Parity(min_length=3, max_length=3)
    batch = task.balanced(np.random.default_rng(1), 40_000)
    x = batch.inputs[:, :, 0] > 0
    codes = x @ np.array([4, 2, 1])
    for cls in (0, 1):
        strings = [c for c in range(8) if bin(c).count("1") % 2 == cls]
        got = np.bincount(codes[batch.info["label"] == cls], minlength=8)
        assert got[[c for c in range(8) if c not in strings]].sum() == 0
        assert all(within(got[c], 20_000, 0.25) for c in strings)


def test_latch_inputs_and_targets(latch_batch):
    batch = latch_batch
    label, x = batch.info["label"], batch.inputs[:, :, 0]
    sign = np.where(label == 0, 1.0, -1.0)
    assert np.array_equal(x[:, 0], sign)  # the class is on the first element, +1 (class 1) or -1 (class 2)
    assert np.array_equal(end(batch), np.where(label == 0, 1.0, -1.0))  # default: variant II, tanh targets
    later = x[:, 1:][alive(batch)[:, 1:]]
    assert later.size > 2_000_000
    assert var_ok(later, 0.2)  # variance 0.2 (not standard deviation 0.2)
    sd = np.sqrt(0.2)
    assert abs(np.mean(np.abs(later) < sd) - 0.682689) < 0.002
    assert abs(np.mean(np.abs(later) < 2 * sd) - 0.954500) < 0.001
    # the later elements carry no class information
    assert abs(x[label == 0, 1:500].mean() - x[label == 1, 1:500].mean()) < 0.005
    a, b = x[:, 1:499], x[:, 2:500]
    assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 5 / np.sqrt(a.size)


@pytest.mark.parametrize(
    "variant, targets, t1", [("I", "logistic", 1.0), ("II", "logistic", 1.0), ("I", "tanh", 0.8), ("II", "tanh", 1.0)]
)
def test_latch_options(latch_batch, variant, targets, t1):
    batch = Latch(variant=variant, targets=targets).sample(np.random.default_rng(0), 4000)
    np.testing.assert_array_equal(batch.inputs, latch_batch.inputs)  # variants differ only in the targets
    t2 = 0.0 if targets == "logistic" else -t1
    np.testing.assert_array_equal(end(batch), np.where(batch.info["label"] == 0, t1, t2))
    assert Latch(variant=variant, targets=targets).class_targets() == (t1, t2)


def test_latch_signal_and_noise_free(latch_batch):
    quiet = Latch(noise_var=0.0, signal=2.5).sample(np.random.default_rng(0), 4000)
    np.testing.assert_array_equal(quiet.lengths, latch_batch.lengths)
    np.testing.assert_array_equal(quiet.inputs[:, 0, 0], 2.5 * latch_batch.inputs[:, 0, 0])
    assert not quiet.inputs[:, 1:].any()  # later elements exactly 0.0
    loud = Latch(noise_var=0.8).sample(np.random.default_rng(0), 200)
    np.testing.assert_allclose(loud.inputs[:, 1:], 2.0 * latch_batch.inputs[:200, 1:], atol=1e-12)


@pytest.mark.parametrize("task", [Parity(), Parity(noise=0.2), Latch(), Latch(variant="I", targets="logistic")])
def test_fixed_sets_are_balanced_and_separate(task):
    train, test = task.fixed_sets(np.random.default_rng(1), np.random.default_rng(2))
    for batch in (train, test):
        assert len(batch) == 100
        assert np.bincount(batch.info["label"]).tolist() == [50, 50]
        lo, hi = task.class_targets() if isinstance(task, Latch) else (0.0, 1.0)
        np.testing.assert_array_equal(end(batch), np.where(batch.info["label"] == 0, lo, hi))
        assert batch.lengths.min() >= 500 and batch.lengths.max() <= 600
    assert not np.array_equal(train.lengths, test.lengths)
    assert not any(
        np.array_equal(train.sequence(i)["inputs"], test.sequence(j)["inputs"])
        for i, j in itertools.product(range(100), range(100))
        if train.lengths[i] == test.lengths[j]
    )
    # the training set comes from the first stream only, the test set from the second only
    again, _ = task.fixed_sets(np.random.default_rng(1), np.random.default_rng(9))
    np.testing.assert_array_equal(again.inputs, train.inputs)
    _, again = task.fixed_sets(np.random.default_rng(9), np.random.default_rng(2))
    np.testing.assert_array_equal(again.inputs, test.inputs)


def test_parity_fixed_set_targets_are_parities():
    train, _ = Parity(noise=0.2).fixed_sets(np.random.default_rng(3), np.random.default_rng(4))
    ones = (train.inputs[:, :, 0] > 0).sum(axis=1)
    np.testing.assert_array_equal(end(train), (ones % 2).astype(float))


def test_protocol_and_success_test():
    for task in (Latch(), Parity()):
        proto = task.protocol()
        assert proto.stop == EvalRule(every=1, sets=("train",), name="all training sequences correct")
        assert (proto.n_train, proto.n_eval, proto.n_test, proto.test_on_eval) == (100, 100, 100, True)
        assert proto.max_sequences == 1_000_000 and proto.milestones == ()
        assert task.n_in == 1 and task.n_out == 1 and task.tolerance == 0.1
        assert task.paper_defaults["guess"]["range"] == 100.0
        batch = task.sample(np.random.default_rng(5), 50)
        assert task.correct(batch, batch.targets + 0.0999).all()
        assert not task.correct(batch, batch.targets - 0.1001).any()


def test_latch_tolerance():
    """A saturated latch (output near +-1) meets the variant I tanh targets +-0.8 only at tolerance 0.2."""
    for tol, ok in ((0.1, False), (0.2, True)):
        task = Latch(variant="I", targets="tanh", tolerance=tol)
        assert task.tolerance == tol and f"< {tol:g}" in task.protocol().description
        batch = task.sample(np.random.default_rng(6), 100)
        saturated = np.where(batch.mask[:, :, None], np.sign(batch.targets) * 0.9999, 0.0)
        assert task.correct(batch, saturated).all() == ok


@pytest.mark.parametrize("params", LATCH_PARAMS)
def test_latch_contract(params):
    check_task(Latch(**params))


@pytest.mark.parametrize("params", PARITY_PARAMS)
def test_parity_contract(params):
    check_task(Parity(**params))


@settings(max_examples=25, deadline=None)
@given(
    cls=st.sampled_from([Latch, Parity]),
    lo=st.integers(1, 40),
    extra=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 9),
)
def test_chunk_invariance(cls, lo, extra, seed, n):
    task = cls(min_length=lo, max_length=lo + extra)
    assert_chunk_invariant(task, seed, n)


@pytest.mark.parametrize(
    "cls, bad",
    [
        (Latch, {"min_length": 601}),
        (Latch, {"max_length": 499}),
        (Latch, {"min_length": 0}),
        (Latch, {"variant": "III"}),
        (Latch, {"targets": "linear"}),
        (Latch, {"noise_var": -0.1}),
        (Latch, {"signal": 0.0}),
        (Latch, {"noise": 0.2}),
        (Latch, {"tolerance": 0.0}),
        (Parity, {"noise": 1.0}),
        (Parity, {"noise": -0.2}),
        (Parity, {"min_length": 10, "max_length": 9}),
        (Parity, {"max_length": "x"}),
        (Parity, {"variant": "I"}),
    ],
)
def test_bad_parameters(cls, bad):
    with pytest.raises(UserError):
        cls(**bad)

"""The 2-sequence generator (Exp 3a/3b/3c) against PAPER.md §3.5, on thousands of sequences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.batches import assert_chunk_invariant

from lstm97.checks import check_task
from lstm97.errors import UserError
from lstm97.models.lstm import LSTM
from lstm97.tasks import Task
from lstm97.tasks.two_sequence import STThresholds, TwoSequence, box_muller

NOISES = ("none", "signal", "target")


def within(count, n, p, k=5.0):
    """``count`` successes of ``n`` trials are within k standard deviations of the binomial mean."""
    return abs(count - n * p) < k * np.sqrt(n * p * (1 - p))


def var_ok(x, var, k=5.0):
    """Sample variance of ``x`` (mean 0 known) within k standard errors of ``var`` (Gaussian x)."""
    x = np.asarray(x)
    return abs(x.mean()) < k * np.sqrt(var / x.size) and abs((x**2).mean() - var) < k * var * np.sqrt(2 / x.size)


def last(batch, array):
    return array[np.arange(len(batch)), batch.lengths - 1]


@pytest.fixture(scope="module")
def batches():
    """The same seed under 3a, 3b and 3c (T=100, N=3)."""
    return {noise: TwoSequence(noise=noise).sample(np.random.default_rng(0), 6000) for noise in NOISES}


@pytest.mark.parametrize("noise", NOISES)
def test_layout_lengths_and_mask(batches, noise):
    batch = batches[noise]
    assert batch.inputs.shape == (6000, 110, 1) and batch.targets.shape == (6000, 110, 1)
    assert set(np.unique(batch.lengths)) == set(range(100, 111))  # the whole range [T, T + T/10] occurs
    counts = np.bincount(batch.lengths - 100, minlength=11)
    assert all(within(c, 6000, 1 / 11) for c in counts)
    beyond = np.arange(110)[None, :] >= batch.lengths[:, None]
    assert not batch.inputs[beyond].any() and not batch.targets[beyond].any()
    assert np.array_equal(batch.mask, np.arange(110)[None, :] == batch.lengths[:, None] - 1)  # end only
    assert not batch.targets[~batch.mask].any()
    label = batch.info["label"]
    assert label.dtype == np.int64 and set(np.unique(label)) == {0, 1}
    assert within(label.sum(), 6000, 0.5)  # classes with probability 0.5
    assert batch.info["clean_targets"].dtype == np.float64 and batch.info["clean_targets"].shape == (6000,)


def test_3a_signal_targets_and_distractor_noise(batches):
    batch = batches["none"]
    label, x = batch.info["label"], batch.inputs[:, :, 0]
    sign = np.where(label == 0, 1.0, -1.0)
    assert np.array_equal(x[:, :3], np.repeat(sign[:, None], 3, axis=1))  # first N carry +-1 exactly
    assert np.array_equal(last(batch, batch.targets[:, :, 0]), np.where(label == 0, 1.0, 0.0))
    assert np.array_equal(batch.info["clean_targets"], last(batch, batch.targets[:, :, 0]))
    alive = np.arange(110)[None, :] < batch.lengths[:, None]
    noise = x[:, 3:][alive[:, 3:]]
    assert noise.size > 600_000
    assert var_ok(noise, 0.2)  # variance 0.2, not standard deviation 0.2 (PAPER.md §8)
    # Gaussian shape: mass within one and two standard deviations; no class information after step N
    sd = np.sqrt(0.2)
    assert abs(np.mean(np.abs(noise) < sd) - 0.682689) < 0.003
    assert abs(np.mean(np.abs(noise) < 2 * sd) - 0.954500) < 0.002
    assert abs(x[label == 0, 3:].mean() - x[label == 1, 3:].mean()) < 0.01
    # neighbouring noise values (also the two of one Box-Muller pair) are uncorrelated
    a, b = x[:, 3:99], x[:, 4:100]
    assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 5 / np.sqrt(a.size)


def test_3b_noise_on_the_signal(batches):
    a, b = batches["none"], batches["signal"]
    np.testing.assert_array_equal(b.lengths, a.lengths)
    np.testing.assert_array_equal(b.targets, a.targets)
    np.testing.assert_array_equal(b.inputs[:, 3:], a.inputs[:, 3:])  # distractors unchanged
    extra = b.inputs[:, :3, 0] - a.inputs[:, :3, 0]  # the added noise on each of the first N elements
    assert var_ok(extra.ravel(), 0.2)
    assert abs(np.corrcoef(extra[:, 0], extra[:, 1])[0, 1]) < 5 / np.sqrt(6000)  # independent per element


def test_3c_noisy_targets(batches):
    a, c = batches["none"], batches["target"]
    np.testing.assert_array_equal(c.inputs, a.inputs)  # inputs as in 3a
    np.testing.assert_array_equal(c.mask, a.mask)
    clean = c.info["clean_targets"]
    assert np.array_equal(clean, np.where(c.info["label"] == 0, 0.2, 0.8))
    noise = last(c, c.targets[:, :, 0]) - clean
    assert var_ok(noise, 0.1)
    # a bigger sample for the variance itself: 40,000 target-noise values
    big = TwoSequence(T=10, N=1, noise="target").sample(np.random.default_rng(9), 40_000)
    assert var_ok(last(big, big.targets[:, :, 0]) - big.info["clean_targets"], 0.1, k=4.0)


def test_correct_and_error():
    for noise, tol in (("none", 0.2), ("signal", 0.2)):
        task = TwoSequence(noise=noise)
        batch = task.sample(np.random.default_rng(3), 500)
        assert task.tolerance == tol
        assert task.correct(batch, batch.targets + 0.19).all()
        assert not task.correct(batch, batch.targets - 0.20001).any()
        out = np.random.default_rng(4).random(batch.targets.shape)
        np.testing.assert_array_equal(task.abs_error(batch, out), Task.abs_error(task, batch, out))
    task = TwoSequence(noise="target")
    batch = task.sample(np.random.default_rng(3), 2000)
    out = np.zeros_like(batch.targets)
    rows, ends = np.arange(2000), batch.lengths - 1
    clean = batch.info["clean_targets"]
    for delta, ok in ((0.0, True), (0.09999, True), (-0.09999, True), (0.10001, False), (-0.10001, False)):
        out[rows, ends, 0] = clean + delta
        assert (task.correct(batch, out) == ok).all()
        np.testing.assert_allclose(task.abs_error(batch, out), abs(delta), atol=1e-12)
    # training error is against the noisy target; success against the noise-free one
    out[rows, ends, 0] = clean
    np.testing.assert_allclose(task.error(batch, out), (last(batch, batch.targets[:, :, 0]) - clean) ** 2)
    assert task.correct(batch, out).all() and not task.correct(batch, batch.targets).all()


def test_stopping_thresholds_and_protocol():
    assert TwoSequence(noise="none").st_thresholds == STThresholds(0, 0.01, 256)
    assert TwoSequence(noise="signal").st_thresholds == STThresholds(5, 0.04, 256)  # "fewer than 6"
    assert TwoSequence(noise="target").st_thresholds == STThresholds(0, 0.015, 256)
    proto = TwoSequence(noise="signal", check_every=500).protocol()
    (st1,), st2 = proto.milestones, proto.stop
    assert (st1.name, st1.every, st1.max_wrong) == ("ST1", 500, 5)
    assert (st2.name, st2.max_wrong, st2.max_mean_abs) == ("ST2", 5, 0.04)
    assert proto.n_eval == 256 and proto.n_test == 2560 and not proto.test_on_eval


@pytest.mark.parametrize("noise, lr", [("none", 1.0), ("signal", 1.0), ("target", 0.1)])
def test_paper_model(noise, lr):
    task = TwoSequence(noise=noise)
    hp = task.model_defaults("lstm")
    assert hp["lr"] == lr and hp["bias"] == "hidden" and hp["in_gate_bias"] == (-1.0, -3.0, -5.0)
    model = LSTM.for_task(task)
    assert model.n_weights == 102  # Table 4-6: 9 hidden units x (1 + 9 + 1) + 3
    assert TwoSequence.paper_defaults["lstm"]["lr"] == 1.0  # the class table is not modified


@pytest.mark.parametrize(
    "params", [{}, {"noise": "signal"}, {"noise": "target"}, {"T": 1000, "N": 1}, {"T": 2, "N": 1}]
)
def test_contract(params):
    check_task(TwoSequence(**params))


def test_box_muller_is_standard_normal():
    z = box_muller(np.random.default_rng(4).random((1000, 200)))
    assert var_ok(z.ravel(), 1.0)
    assert abs(np.mean(z**4) - 3.0) < 0.05  # Gaussian kurtosis
    assert np.isfinite(box_muller(np.array([0.0, 0.0]))).all()  # u = 0 is safe


@settings(max_examples=25, deadline=None)
@given(
    T=st.integers(2, 300),
    data=st.data(),
    noise=st.sampled_from(NOISES),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 9),
)
def test_chunk_invariance(T, data, noise, seed, n):
    task = TwoSequence(T=T, N=data.draw(st.integers(1, T - 1)), noise=noise)
    assert_chunk_invariant(task, seed, n)


@pytest.mark.parametrize(
    "bad",
    [{"T": 100, "N": 100}, {"T": 5, "N": 7}, {"T": 1}, {"N": 0}, {"noise": "input"}, {"T": "x"}, {"variance": 0.2}],
)
def test_bad_parameters(bad):
    with pytest.raises(UserError):
        TwoSequence(**bad)

"""Random test batches shared by the kernel tests."""

import numpy as np

from lstm97.tasks import SequenceBatch


def one_hot_batch(rng, n, n_in, n_out, L):
    """n sequences of one-hot inputs (with ``info["active"]``), random lengths, masks and targets."""
    lengths = rng.integers(1, L + 1, n).astype(np.int64)
    active = rng.integers(-1, n_in, (n, L)).astype(np.int64)  # -1: a step with no input at all
    steps = np.arange(L)[None, :] < lengths[:, None]
    active[~steps] = -1
    inputs = np.zeros((n, L, n_in))
    r, t = np.nonzero(active >= 0)
    inputs[r, t, active[r, t]] = 1.0
    mask = (rng.random((n, L)) < 0.5) & steps
    targets = np.where(mask[..., None], rng.random((n, L, n_out)), 0.0)
    return SequenceBatch(inputs, targets, mask, lengths, {"active": active})


def assert_chunk_invariant(task, seed, n):
    """One ``task.sample`` call with n sequences gives the same sequences, every array of them, as n calls
    with n=1 from the same seed; returns the batch of the single call."""
    whole = task.sample(np.random.default_rng(seed), n)
    rng = np.random.default_rng(seed)
    for i in range(n):
        a, b = whole.sequence(i), task.sample(rng, 1).sequence(0)
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    return whole

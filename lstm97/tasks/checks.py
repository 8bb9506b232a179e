"""The public contract every task must pass (run it in a plugin's own tests: ``lstm97.checks.check_task``).

Each failure raises :class:`ContractError` with a message that tells the task's author what to fix.
"""

from __future__ import annotations

import numpy as np

from .base import Protocol, SequenceBatch, Task, TaskSpec


class ContractError(AssertionError):
    """A task or model breaks the lstm97 contract."""


def _require(cond: bool, msg: str) -> None:
    if not cond:
        raise ContractError(msg)


def check_batch(batch: SequenceBatch, n: int, n_in: int, n_out: int, who: str) -> None:
    """Shapes, dtypes, contiguity and padding of one batch."""
    _require(isinstance(batch, SequenceBatch), f"{who}.sample must return a SequenceBatch")
    _require(len(batch) == n, f"{who}.sample(rng, {n}) returned {len(batch)} sequences")
    for name, dtype in (("inputs", np.float64), ("targets", np.float64), ("mask", np.bool_), ("lengths", np.int64)):
        arr = getattr(batch, name)
        _require(arr.dtype == dtype, f"{who}: {name} must be {np.dtype(dtype)}, got {arr.dtype}")
        _require(arr.flags.c_contiguous, f"{who}: {name} must be C-contiguous (use np.ascontiguousarray)")
    _require(batch.n_in == n_in, f"{who}: inputs have {batch.n_in} units but n_in is {n_in}")
    _require(batch.n_out == n_out, f"{who}: targets have {batch.n_out} units but n_out is {n_out}")
    L = batch.mask.shape[1]
    _require(
        bool((batch.lengths >= 1).all() and (batch.lengths <= L).all()),
        f"{who}: lengths must lie in [1, padded length {L}]",
    )
    beyond = np.arange(L)[None, :] >= batch.lengths[:, None]
    _require(not batch.mask[beyond].any(), f"{who}: mask must be False beyond each sequence's length")
    _require(
        not batch.inputs[beyond].any() and not batch.targets[beyond].any(),
        f"{who}: inputs and targets must be zero beyond each sequence's length",
    )
    _require(bool(batch.mask.any(axis=1).all()), f"{who}: every sequence needs at least one target step")
    if "active" in batch.info:  # the one-hot index the kernels use to skip zero inputs
        active = batch.info["active"]
        _require(
            active.dtype == np.int64 and active.shape == batch.mask.shape, f"{who}: info['active'] must be int64 [n, L]"
        )
        hot = np.zeros_like(batch.inputs)
        rows, steps = np.nonzero(active >= 0)
        hot[rows, steps, active[rows, steps]] = 1.0
        _require(
            np.array_equal(hot, batch.inputs),
            f"{who}: info['active'] must name the one hot input unit at every step (-1 where none)",
        )
    _require(
        bool(np.isfinite(batch.inputs).all() and np.isfinite(batch.targets).all()),
        f"{who}: inputs and targets must be finite",
    )


def _same(a: SequenceBatch, b: SequenceBatch, i: int, j: int) -> bool:
    sa, sb = a.sequence(i), b.sequence(j)
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def check_task(task: Task, n: int = 7, seed: int = 1234) -> None:
    """Check ``task`` against the contract: spec, sampling, chunk invariance, determinism, success test."""
    who = f"task {type(task).__name__}"
    _require(isinstance(getattr(type(task), "spec", None), TaskSpec), f"{who} needs a class attribute spec")
    _require(isinstance(task.protocol(), Protocol), f"{who}.protocol() must return a Protocol")
    state = np.random.get_state()
    whole = task.sample(np.random.default_rng(seed), n)
    _require(
        _np_state_equal(state, np.random.get_state()),
        f"{who}.sample must use only the Generator it is given, not np.random's global state",
    )
    check_batch(whole, n, task.n_in, task.n_out, who)
    again = task.sample(np.random.default_rng(seed), n)
    _require(all(_same(whole, again, i, i) for i in range(n)), f"{who}.sample is not deterministic")
    rng = np.random.default_rng(seed)
    singles = [task.sample(rng, 1) for _ in range(n)]
    _require(
        all(_same(whole, s, i, 0) for i, s in enumerate(singles)),
        f"{who}.sample is not chunk-invariant: one call with n={n} must give the same sequences as "
        f"{n} calls with n=1 (draw a fixed amount of randomness per sequence, in sequence order)",
    )
    perfect = task.correct(whole, task.ideal_outputs(whole))
    _require(perfect.shape == (n,) and perfect.dtype == np.bool_, f"{who}.correct must return bool[n]")
    _require(bool(perfect.all()), f"{who}.correct must accept its ideal outputs (by default the targets)")
    part = whole.take(np.arange(n)[::2])
    check_batch(part, len(part), task.n_in, task.n_out, f"{who} (a sub-batch from take)")
    joined = SequenceBatch.concat([part, whole.take(slice(0, 1))])
    check_batch(joined, len(joined), task.n_in, task.n_out, f"{who} (batches joined by concat)")
    err = task.error(whole, whole.targets)
    _require(err.shape == (n,) and bool((err == 0).all()), f"{who}.error of perfect outputs must be 0")
    for model, hp in type(task).paper_defaults.items():
        _require(isinstance(hp, dict), f"{who}.paper_defaults[{model!r}] must be a dict")


def _np_state_equal(a, b) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]

"""One trial: the training loop (PAPER.md §3 conventions; Table 11 protocols).

A trial trains on fresh on-line sequences, chunk by chunk, until the task's stopping rule holds or the
sequence budget is spent, then tests on fresh sequences. The count of training sequences until the rule
first held is exact and independent of the chunk size: when the rule holds inside a chunk, the weights are
restored to the start of the chunk and only the sequences up to the stopping one are trained again, so the
tested weights are those right after that sequence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import models, tasks
from ..errors import UserError
from ..identity import arguments, canonical, config_key
from ..models.base import OK
from ..provenance import code_version
from ..results.schema import CURVE_BLOCK
from ..seeding import check_stream, streams
from ..tasks.criteria import EvalRule, FinalTestRule

#: Test sequences are evaluated in chunks of this many (memory bound only; results do not depend on it).
TEST_CHUNK = 512
#: Chunks are also capped so that a chunk's arrays take about this many bytes (long one-hot sequences).
CHUNK_BYTES = 128 * 2**20


@dataclass(frozen=True)
class TrialConfig:
    """Everything that defines a trial except its seed; build it with :meth:`resolve`.

    ``task_params`` and ``model_params`` hold every resolved value (paper defaults included); ``task_args``
    and ``model_args`` only those that differ from the declared defaults (:mod:`lstm97.identity`), which with
    the names, versions, budget and test size make up ``key()``, the configuration's identity in the store.
    """

    task: str
    task_params: dict[str, Any]
    model: str
    model_params: dict[str, Any]
    max_sequences: int
    n_test: int
    task_version: int
    model_version: int
    task_args: dict[str, Any]
    model_args: dict[str, Any]

    def key(self) -> str:
        return config_key(
            self.task,
            self.task_version,
            self.task_args,
            self.model,
            self.model_version,
            self.model_args,
            self.max_sequences,
            self.n_test,
        )

    @staticmethod
    def resolve(
        task: str,
        task_params: dict[str, Any],
        model: str,
        model_params: dict[str, Any],
        max_sequences: int | None = None,
        n_test: int | None = None,
        *,
        ranges: bool = True,
    ) -> TrialConfig:
        """Validate names and parameters and fill in every default (paper defaults included); refuse a model
        whose outputs cannot reach the task's targets (:func:`check_ranges`; ``ranges=False`` skips that, for
        the contract's end-to-end trial, which checks the runner's mechanics on every pair)."""
        t = tasks.make(task, **task_params)
        m = models.make(model, t, **model_params)
        if ranges:
            check_ranges(t, m)
        proto = t.protocol()
        return TrialConfig(
            task,
            dict(t.params),
            model,
            dict(m.hp),
            int(proto.max_sequences if max_sequences is None else max_sequences),
            int(proto.n_test if n_test is None else n_test),
            int(t.spec.version),
            int(m.spec.version),
            arguments(t.spec.params, t.params),
            arguments(m.spec.params, m.hp, t.model_defaults(m.spec.name)),
        )


def _interval(lo: float, hi: float) -> str:
    return f"[{lo:g}, {hi:g}]"


def range_mismatch(task, model) -> str | None:
    """Why ``model`` cannot learn ``task`` (its outputs cannot reach the targets: the task's
    :meth:`~lstm97.tasks.Task.target_range` is not inside the model's :meth:`~lstm97.models.Model.output_range`),
    with the fix; None when the ranges fit."""
    t_lo, t_hi = (float(x) for x in task.target_range())
    o_lo, o_hi = (float(x) for x in model.output_range())
    if o_lo <= t_lo and t_hi <= o_hi:
        return None
    params = {p.name: p for p in model.spec.params}
    if "linear" in (getattr(params.get("output"), "choices", None) or ()):
        fix = "Use --hp output=linear (Python: hp={'output': 'linear'}), linear output units"
    elif "tanh" in (getattr(params.get("act"), "choices", None) or ()) and -1.0 <= t_lo and t_hi <= 1.0:
        fix = "Use --hp act=tanh (Python: hp={'act': 'tanh'}), tanh units in [-1, 1]"
    else:
        fix = "Use a model whose outputs reach them, e.g. --model lstm --hp output=linear"
    return (
        f"task {task.spec.name!r} has targets in {_interval(t_lo, t_hi)}, but model {model.spec.name!r} gives "
        f"outputs in {_interval(o_lo, o_hi)}: they can never reach the targets, and every trial would fail. {fix}."
    )


def check_ranges(task, model) -> None:
    """Raise :class:`~lstm97.errors.UserError` (:func:`range_mismatch`'s message) unless ``model``'s outputs can
    reach ``task``'s targets. Called where every configuration is resolved (:meth:`TrialConfig.resolve`), so
    ``lstm97 run``, ``reproduce``, ``ablate`` and the Python API refuse such a pair before any training."""
    why = range_mismatch(task, model)
    if why is not None:
        raise UserError(why)


@dataclass
class _Curve:
    """Means of error and correctness over consecutive blocks of CURVE_BLOCK sequences, and over the last,
    shorter block at the trial's end (its row's sequences then is no multiple of CURVE_BLOCK)."""

    rows: list[tuple[int, float, float]] = field(default_factory=list)
    err: list[np.ndarray] = field(default_factory=list)
    ok: list[np.ndarray] = field(default_factory=list)
    seen: int = 0

    def add(self, err: np.ndarray, ok: np.ndarray) -> None:
        self.err.append(err)
        self.ok.append(ok)
        pending = sum(e.shape[0] for e in self.err)
        if pending < CURVE_BLOCK:
            return
        e, o = np.concatenate(self.err), np.concatenate(self.ok)
        full = pending - pending % CURVE_BLOCK
        for a in range(0, full, CURVE_BLOCK):
            self.seen += CURVE_BLOCK
            self.rows.append((self.seen, float(e[a : a + CURVE_BLOCK].mean()), float(o[a : a + CURVE_BLOCK].mean())))
        self.err, self.ok = [e[full:]], [o[full:]]

    def finish(self) -> None:
        """The last, partial block (fewer than CURVE_BLOCK sequences at the trial's end), if any."""
        if sum(e.shape[0] for e in self.err):
            e, o = np.concatenate(self.err), np.concatenate(self.ok)
            self.seen += e.shape[0]
            self.rows.append((self.seen, float(e.mean()), float(o.mean())))
        self.err, self.ok = [], []


def _evaluate(model, state, task, batch) -> tuple[int, float, float]:
    """(wrong sequences, mean per-sequence error, mean absolute error) of ``batch`` under ``state``."""
    out = model.predict(state, batch)
    return (
        int((~task.correct(batch, out)).sum()),
        float(task.error(batch, out).mean()),
        float(task.abs_error(batch, out).mean()),
    )


def _rows_cap(task) -> tuple[int, int]:
    """(rows, test rows): sequences per chunk that keep a chunk's arrays near CHUNK_BYTES, probed on a throwaway
    stream. ``rows`` (training and check chunks, where the chunk size never changes a result) counts what a
    batch holds (:attr:`SequenceBatch.nbytes`: one-hot inputs as their indices). The final test's mean is a sum
    of its chunks' means, so its chunks are part of the result: ``test rows`` keeps the size they always had,
    from the inputs and targets as dense arrays (never built for it), so that stored trials replay bit for bit."""
    probe = task.sample(np.random.default_rng(0), 4)
    rows = 4 * probe.nbytes / len(probe)  # 4x: lengths may vary
    inputs = probe.mask.size * probe.n_in * 8 if probe.sparse else probe.inputs.nbytes
    dense = 4 * (inputs + probe.targets.nbytes) / len(probe)
    return tuple(max(1, int(CHUNK_BYTES // max(per_seq, 1))) for per_seq in (rows, dense))


def _draws(task, rng: np.random.Generator, n: int) -> Generator[tuple[Any, bool], None, None]:
    """The ``n`` sequences ``task.sample(rng, n)`` draws, as batches to try one after another: their first
    ``task.prefixes`` steps (:meth:`~lstm97.tasks.Task.sample_prefix`), then the whole (``True``: the last).
    The caller stops taking them once the batch it holds is settled; ``rng`` then stands where ``sample``
    leaves it, whichever batch was the last taken."""
    start = rng.bit_generator.state if task.prefixes else None
    for steps in task.prefixes:
        yield task.sample_prefix(rng, n, steps), False
        rng.bit_generator.state = start
    yield task.sample(rng, n), True


def _at_most_wrong(model, state, task, max_wrong: int, n: int, rows: int, part) -> bool:
    """Whether at most ``max_wrong`` of ``n`` sequences are wrong, predicting them in chunks of 16, 32, 64 ...
    (at most ``rows``) and stopping at the first excess: a net that is still wrong fails fast. ``part(done, k)``
    gives the batches to try for the k sequences after the first ``done``, as (batch, last) pairs
    (:func:`_draws`): the sequences wrong within a prefix count at once, and the next batch is tried only while
    some sequence is not settled."""
    wrong, done, size = 0, 0, 16
    while done < n:
        k = min(size, rows, n - done)
        for batch, last in part(done, k):
            out = model.predict(state, batch)
            bad = ~task.correct(batch, out)
            settled = np.ones(k, dtype=bool) if last else task.settled(batch, out)
            if wrong + int((bad & settled).sum()) > max_wrong:
                return False
            if settled.all():
                break
        wrong += int(bad.sum())
        done += k
        size *= 2
    return True


def _fresh_check(model, state, task, rule: EvalRule, rng: np.random.Generator, rows: int) -> bool:
    """Whether at most ``rule.max_wrong`` of ``rule.fresh`` new sequences are wrong (stops at the first excess)."""
    return _at_most_wrong(model, state, task, rule.max_wrong, rule.fresh, rows, lambda done, k: _draws(task, rng, k))


def _fixed_check(model, state, task, rule: EvalRule, batch, rows: int) -> bool:
    """Whether ``rule`` holds on the fixed set ``batch``, exactly as one evaluation of the whole set says. The
    wrong count is taken first with :func:`_at_most_wrong`, so a net that is still wrong fails fast (most checks
    of a trial); only when it passes are the whole set's figures computed as before (a sequence's output and
    correctness do not depend on the chunk it is predicted in)."""
    take = lambda done, k: [(batch.take(slice(done, done + k)), True)]
    if not _at_most_wrong(model, state, task, rule.max_wrong, len(batch), rows, take):
        return False
    w, _, mean_abs = _evaluate(model, state, task, batch)
    return rule.holds(w, mean_abs)


def warm_up(cfg: TrialConfig, lanes: int = 1):
    """Build ``cfg``'s task and model and run the model's kernels once (predict and train; with ``lanes`` > 1
    also :meth:`~lstm97.models.Model.train_lanes`, on copies) on one throwaway sequence, which compiles them (or
    loads numba's cache) in this process; return (task, model, state, rng) to go on with, or None for a
    searching model (random guessing). Nothing of it reaches a trial."""
    task = tasks.make(cfg.task, **cfg.task_params)
    model = models.make(cfg.model, task, **cfg.model_params)
    if getattr(model, "is_search", False):
        return None
    rng = np.random.default_rng(0)
    state = model.init_state(rng)
    batch = task.sample(rng, 1)
    model.predict(state, batch)
    if lanes > 1:
        model.train_lanes([state.copy(), state.copy()], [batch, batch])
    model.train_chunk(state, batch)
    return task, model, state, rng


def run_trial(
    cfg: TrialConfig, seed: int, chunk: int = 256, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Run one trial and return its record (a flat dict; see results.schema for the columns).

    ``chunk`` is an execution detail: it never changes the result. Window rules are scanned sequence by
    sequence; evaluation rules are checked when the sequence count reaches a multiple of their ``every``
    (chunks are cut there). The loop itself is :func:`trial_steps`, driven here with ``model.train_chunk``
    (:func:`lstm97.runners.lanes.run_lanes` drives several at once).
    """
    t0 = time.perf_counter()
    task, model = _build(cfg)
    return _drive(trial_steps(cfg, seed, task, model, chunk, progress, t0), model.train_chunk)


def _build(cfg: TrialConfig):
    """``cfg``'s task and model, checked to be the versions ``cfg`` was resolved for."""
    task = tasks.make(cfg.task, **cfg.task_params)
    model = models.make(cfg.model, task, **cfg.model_params)
    _check_versions(cfg, task, model)
    return task, model


def _drive(steps: Generator, train: Callable) -> dict[str, Any]:
    """Run the generator ``steps`` of :func:`trial_steps` to its end, answering each request with ``train``."""
    try:
        request = next(steps)
        while True:
            request = steps.send(train(*request))
    except StopIteration as stop:
        return stop.value


def trial_steps(
    cfg: TrialConfig,
    seed: int,
    task,
    model,
    chunk: int = 256,
    progress: Callable[[int], None] | None = None,
    t0: float | None = None,
) -> Generator[tuple[Any, Any], Any, dict[str, Any]]:
    """The training loop of one trial as a generator: it yields each training request ``(state, batch)``, is
    sent back the :class:`~lstm97.models.base.ChunkResult` of training ``state`` on ``batch`` in place (what
    ``model.train_chunk(state, batch)`` returns), and returns the trial's record. Checks, the final test and
    every prediction stay inside; who trains is the driver's business (:func:`run_trial`, or
    :func:`~lstm97.runners.lanes.run_lanes` for several trials at once), so a trial's record does not depend on
    it. ``task`` and ``model`` are ``cfg``'s (:func:`_build`)."""
    t0 = time.perf_counter() if t0 is None else t0
    proto = task.protocol()
    rng = streams(seed)
    if getattr(model, "is_search", False):
        return _search_trial(cfg, seed, task, model, rng, t0)
    rules = (*proto.milestones, proto.stop)
    state = model.init_state(rng.weights)
    train_set, eval_set = task.fixed_sets(rng.train, rng.test)
    sets = {"train": train_set, "eval": eval_set}
    states = [r.start() for r in rules]
    hits: list[int | None] = [None] * len(rules)
    periods = [r.every for r in rules if isinstance(r, EvalRule)] + ([model.period] if model.period else [])
    rows, test_rows = _rows_cap(task)
    chunk = min(chunk, rows)
    curve = _Curve()
    seen = 0
    status, message = "budget", ""
    while seen < cfg.max_sequences:
        n = min(chunk, cfg.max_sequences - seen, *(p - seen % p for p in periods))
        before = state.copy()
        if train_set is None:
            for batch, last in _draws(task, rng.train, n):
                res = yield state, batch
                if last or task.settled(batch, res.outputs)[: len(batch) if res.status == OK else res.n_done].all():
                    break
                state = before.copy()  # a sequence went on beyond the prefix: train on more of it, afresh
        else:
            if proto.order == "file":  # the training set in its order, epoch after epoch (JKU, §10.1)
                batch = train_set.take((seen + np.arange(n, dtype=np.int64)) % len(train_set))
            else:  # "t1": exemplars drawn at random from the fixed training set
                batch = train_set.take(np.floor(rng.train.random(n) * len(train_set)).astype(np.int64))
            res = yield state, batch
        if res.status != OK:
            seen += res.n_done + 1
            status = "diverged"
            message = f"non-finite weights or activations at training sequence {seen}"
            break
        err = task.error(batch, res.outputs)
        ok = task.correct(batch, res.outputs)
        for r, rule in enumerate(rules):
            if hits[r] is not None:
                continue
            if isinstance(rule, EvalRule):
                if (seen + n) % rule.every == 0:
                    if rule.fresh:
                        holds = _fresh_check(model, state, task, rule, check_stream(seed, seen + n), rows)
                    else:
                        holds = all(_fixed_check(model, state, task, rule, sets[name], rows) for name in rule.sets)
                    if holds:
                        hits[r] = seen + n
            else:
                at = rule.scan(states[r], err, ok)
                if at >= 0:
                    hits[r] = seen + at + 1
        final = hits[-1]
        if final is not None:
            if final < seen + n:  # restore, then train only up to the stopping sequence
                state = before
                yield state, batch.take(slice(0, final - seen))
            curve.add(err[: final - seen], ok[: final - seen])
            seen = final
            status = "success"
            break
        curve.add(err, ok)
        model.observe(state, err)
        seen += n
        if progress is not None:
            progress(seen)
    curve.finish()
    milestones = {rule.name: hit for rule, hit in zip(rules, hits, strict=True) if hit is not None and hit <= seen}
    test = (-1, float("nan"), float("nan"))
    if status != "diverged":
        if proto.test_on_eval:
            test = _evaluate(model, state, task, eval_set)
        else:
            wrong, total, total_abs = 0, 0.0, 0.0
            size = min(TEST_CHUNK, test_rows)
            for a in range(0, cfg.n_test, size):
                batch = task.sample(rng.test, min(size, cfg.n_test - a))
                w, mse, mae = _evaluate(model, state, task, batch)
                wrong += w
                total += mse * len(batch)
                total_abs += mae * len(batch)
            test = (wrong, total / max(cfg.n_test, 1), total_abs / max(cfg.n_test, 1))
        if isinstance(proto.stop, FinalTestRule) and proto.stop.holds(test[1]):
            status = "success"  # the whole budget trained, then the test beat the rule's baseline
    return _record(
        cfg,
        seed,
        task,
        model,
        status,
        seen,
        milestones,
        test,
        message,
        curve.rows,
        t0,
        proto.stop.name,
        len(eval_set) if proto.test_on_eval else cfg.n_test,
        "sequences",
        state,
    )


def _search_trial(cfg: TrialConfig, seed: int, task, model, rng, t0: float) -> dict[str, Any]:
    """Random weight guessing (§5): guess until the training set is solved, then test on the test set."""
    train_set, test_set = task.search_sets(rng.train, rng.test)
    state, guesses, solved = model.search(task, train_set, rng.model, cfg.max_sequences)
    status = "success" if solved else "budget"
    return _record(
        cfg,
        seed,
        task,
        model,
        status,
        guesses,
        {},
        _evaluate(model, state, task, test_set),
        "",
        [],
        t0,
        "all training sequences correct",
        len(test_set),
        "guesses",
        state,
    )


def _check_versions(cfg: TrialConfig, task, model) -> None:
    """A configuration resolved by one version of a task or model must not run on another (e.g. a Dask
    worker with another installation): its results would be stored under the wrong identity."""
    for kind, name, want, have in (
        ("task", cfg.task, cfg.task_version, task.spec.version),
        ("model", cfg.model, cfg.model_version, model.spec.version),
    ):
        if int(want) != int(have):
            raise RuntimeError(
                f"{kind} {name!r} is version {have} here, but the configuration was resolved for "
                f"version {want}: install the same lstm97 and plugins on every worker"
            )


def protocol_text(task, model) -> str:
    """The trial's stopping rule in words (PAPER.md Table 11); for a searching model (random guessing, §5)
    the search's rule."""
    proto = task.protocol()
    if getattr(model, "is_search", False):
        n_train = proto.n_train if proto.n_train and proto.n_eval else task.search_set_sizes[0]
        return (
            f"guess all weights anew until every one of {n_train} training sequences is correct (§5), "
            "then test on a separate set"
        )
    return proto.description


def _extra_state(state) -> dict[str, Any] | None:
    """The model's extra learned state in JSON form (None when it has none or it is not JSON-able)."""
    if state.extra is None:
        return None
    try:
        return json.loads(json.dumps(canonical(state.extra)))
    except (TypeError, ValueError):
        return None


def _weights(w: np.ndarray) -> np.ndarray:
    """A copy of ``w`` in which every NaN is numpy's NaN. Which NaN (sign and payload) an operation on NaNs gives
    depends on the order of its operands in the machine code, which differs between kernels that compute the
    same numbers (the SIMD lane kernel, ``--lanes``): a diverged trial's record keeps only where its weights are
    NaN, so that it is the same whichever kernel trained it."""
    out = w.copy()
    out[np.isnan(out)] = np.nan
    return out


def _record(
    cfg: TrialConfig,
    seed: int,
    task,
    model,
    status: str,
    seen: int,
    milestones: dict,
    test: tuple[int, float, float],
    message: str,
    curve: list,
    t0: float,
    stop_rule: str,
    n_test: int,
    unit: str,
    state,
) -> dict[str, Any]:
    task_source, task_source_version = tasks.registry.provenance(cfg.task)
    model_source, model_source_version = models.registry.provenance(cfg.model)
    return {
        "config_key": cfg.key(),
        "task": cfg.task,
        "task_params": cfg.task_params,
        "task_args": cfg.task_args,
        "task_version": task.spec.version,
        "task_source": task_source,
        "task_source_version": task_source_version,
        "model": cfg.model,
        "model_params": cfg.model_params,
        "model_args": cfg.model_args,
        "model_version": model.spec.version,
        "model_source": model_source,
        "model_source_version": model_source_version,
        "max_sequences": cfg.max_sequences,
        "default_budget": int(task.protocol().max_sequences),
        "n_test": n_test,
        "stop_rule": stop_rule,
        "protocol": protocol_text(task, model),
        "seed": int(seed),
        "status": status,
        "success": status == "success",
        "sequences": int(seen),
        "unit": unit,
        "milestones": milestones,
        "test_wrong": int(test[0]),  # (wrong, mean per-sequence error, mean absolute error) of the test
        "test_mse": test[1],
        "test_abs": test[2],
        "n_weights": model.weights_of(state),
        "wall_time": time.perf_counter() - t0,
        "package_version": code_version(),
        "message": message,
        "curve": curve,
        "weights": _weights(state.w),  # the final (tested) weights, for reports that look inside a net
        "state": _extra_state(state),  # and the model's extra state (e.g. the blocks a growing LSTM added)
    }

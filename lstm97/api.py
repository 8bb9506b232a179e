"""The Python API of the main job: run trials of a configuration, or the paper's presets, into a store.

>>> import lstm97
>>> df = lstm97.run("adding", {"T": 20}, trials=2, max_sequences=20_000, store="runs.sqlite")  # doctest: +SKIP
>>> lstm97.load("runs.sqlite").groupby("config_key")["success"].mean()                   # doctest: +SKIP

Every call resumes: trials already in the store (same configuration key and seed) are skipped, each finished
trial is committed in its own transaction, and the store is opened, checked and probed for writing before any
training. Trials run on a local worker pool (``jobs``, default all cores) or on any
``concurrent.futures.Executor`` (e.g. Dask's ``Client().get_executor()``). ``progress`` is called in the
calling process with a :class:`Progress` snapshot as training sequences go by. Ctrl-C (or SIGTERM, while a
campaign runs in the main thread) stops the workers within seconds and raises :class:`Interrupted` (a
KeyboardInterrupt) after everything finished so far is stored. Results come back as a pandas DataFrame, one
row per trial (the columns of :meth:`lstm97.results.Store.trials`).

``lstm97 run`` and ``lstm97 reproduce`` are thin wrappers around :func:`plan`, :func:`execute` and
:func:`trials_of` (``run`` and ``reproduce`` below combine them).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import UserError
from .results import DEFAULT_STORE, Store
from .runners import TrialConfig
from .runners.lanes import DEFAULT_LANES, check_lanes
from .runners.sweep import default_jobs, run_many

#: SQLite integers are signed 64-bit: the largest seed and budget a store can hold.
MAX_INT = 2**63 - 1
#: The most trials one call plans (a guard against typos such as --trials 10000000000).
MAX_TRIALS = 1_000_000


class Interrupted(KeyboardInterrupt):
    """A campaign stopped by Ctrl-C or SIGTERM; ``stored`` trials were committed before it stopped."""

    def __init__(self, stored: int = 0, signum: int = signal.SIGINT) -> None:
        super().__init__(f"interrupted after storing {stored} trial(s)")
        self.stored = stored
        self.signum = signum


@dataclass
class Job:
    """One configuration of a campaign: the seeds asked for and those not yet stored."""

    config: TrialConfig
    seeds: list[int]
    todo: list[int]
    label: str = ""  # e.g. the preset id


@dataclass
class Progress:
    """What a campaign has done so far (passed to the ``progress`` callback)."""

    trials: int  # trials to run in this call
    finished: int  # of them, finished and stored
    sequences: int  # training sequences (or guesses) trained so far, finished and running trials together
    budget: int  # the sum of the trials' budgets: the most ``sequences`` can reach
    retired: int  # sequences of running trials plus the whole budget of finished ones (<= budget)
    elapsed: float  # seconds since the campaign started
    running: dict[int, int] = field(default_factory=dict)  # trial index -> sequences seen

    @property
    def rate(self) -> float:
        """Training sequences per second so far."""
        return self.sequences / self.elapsed if self.elapsed > 0 else 0.0


# -- checking what was asked ------------------------------------------------------------------------------
def seeds_for(seed: int, trials: int) -> list[int]:
    """Seeds ``seed`` … ``seed + trials - 1``, refused up front if the store cannot hold them."""
    if int(trials) < 1 or int(trials) > MAX_TRIALS:
        raise UserError(f"trials={trials} is out of range: give 1 to {MAX_TRIALS:,} trials per command.")
    if int(seed) < 0 or int(seed) + int(trials) - 1 > MAX_INT:
        raise UserError(
            f"seeds {seed} to {int(seed) + int(trials) - 1} do not fit the store's 64-bit integers: "
            f"use seeds from 0 to {MAX_INT:,}."
        )
    return list(range(int(seed), int(seed) + int(trials)))


def _check_budget(max_sequences: int | None) -> None:
    if max_sequences is not None and not 1 <= int(max_sequences) <= MAX_INT:
        raise UserError(f"max_sequences={max_sequences} is out of range: give 1 to {MAX_INT:,} sequences.")


def configure(
    task: str,
    params: dict[str, Any] | None = None,
    model: str = "lstm",
    hp: dict[str, Any] | None = None,
    max_sequences: int | None = None,
) -> TrialConfig:
    """The resolved configuration (every default filled in, names and values checked)."""
    _check_budget(max_sequences)
    return TrialConfig.resolve(task, dict(params or {}), model, dict(hp or {}), max_sequences)


# -- presets ------------------------------------------------------------------------------------------------
def preset_unavailable(preset) -> str | None:
    """Why a preset (:mod:`lstm97.paper.presets`) cannot run here: not implemented, or its task or model is not
    registered; None when it can."""
    from . import models, tasks

    if not preset.implemented:
        return f"{preset.paper.row} is not implemented in lstm97 (listed for comparison only)"
    if preset.task not in tasks.names():
        return f"task {preset.task!r} is not registered"
    if preset.model not in models.names():
        return f"model {preset.model!r} is not registered"
    return None


def preset_config(preset, quick: bool = False, max_sequences: int | None = None) -> TrialConfig:
    """A preset's resolved configuration (its quick settings with ``quick``); UserError if it cannot run here."""
    why = preset_unavailable(preset)
    if why is not None:
        raise UserError(f"preset {preset.id}: {why}.")
    task_params, model_params, budget, _ = preset.settings(quick)
    return configure(
        preset.task, task_params, preset.model, model_params, budget if max_sequences is None else max_sequences
    )


def evidence_config(evidence) -> TrialConfig:
    """The resolved configuration of an account's evidence run (:mod:`lstm97.paper.evidence`)."""
    return configure(
        evidence.task, dict(evidence.task_params), evidence.model, dict(evidence.model_params), evidence.max_sequences
    )


def paper_budget(preset) -> int | None:
    """The budget of a preset at the paper's settings: its own, or its task's protocol budget (None when its
    task is not registered here)."""
    if preset.max_sequences is not None:
        return preset.max_sequences
    from . import tasks

    try:
        return tasks.make(preset.task, **preset.task_params).protocol().max_sequences
    except UserError:
        return None


def stops_early(cfg: TrialConfig) -> bool:
    """Whether a trial of ``cfg`` can stop before its budget (its task's stopping rule can hold during training;
    a final-test rule, e.g. adding-modern's "beats the baseline", always runs the whole budget)."""
    from . import tasks
    from .tasks.criteria import FinalTestRule

    return not isinstance(tasks.make(cfg.task, **cfg.task_params).protocol().stop, FinalTestRule)


def seconds_per_sequence(cfg: TrialConfig, budget_seconds: float = 0.2) -> float | None:
    """Measured seconds of training per sequence of ``cfg`` on this machine (the kernel on fresh sequences of a
    throwaway stream, after one untimed call that compiles or loads numba's cache; stopping checks and tests
    not included); None for a searching model (random guessing), whose cost is per guess."""
    from .runners.trial import warm_up

    warmed = warm_up(cfg)
    if warmed is None:
        return None
    task, model, state, rng = warmed

    def timed(n: int) -> float:
        batch = task.sample(rng, n)
        t0 = time.perf_counter()
        model.train_chunk(state, batch)
        return time.perf_counter() - t0

    n = 4
    while True:
        elapsed = timed(n)
        if elapsed >= budget_seconds / 4 or n >= 4096:
            # Once more, and the faster of the two: a kernel compiled or loaded from numba's cache during one
            # call (the LSTM's specialised kernel, taken after SPECIALISE_AFTER steps of a configuration in this
            # process) is not the kernel's time.
            return min(elapsed, timed(n)) / n
        n *= 4


def preset_steps(preset, quick: bool = False) -> float:
    """Mean time steps per sequence of a preset's task settings (64 sequences of a fixed throwaway stream)."""
    from . import tasks

    task_params, _, _, _ = preset.settings(quick)
    batch = tasks.make(preset.task, **task_params).sample(np.random.default_rng(0), 64)
    return float(np.mean(batch.lengths))


def preset_kernel_time(preset, quick: bool = False) -> float | None:
    """The kernel's measured seconds per training sequence of a preset's settings here
    (:func:`seconds_per_sequence`, 0.1 s of measuring); None for a searching model or one too large to build."""
    try:
        return seconds_per_sequence(preset_config(preset, quick), budget_seconds=0.1)
    except UserError:
        return None


def preset_estimate(preset, quick: bool = False, budget: int | None = None):
    """Estimated seconds per trial of a preset, from measured rates (:func:`lstm97.paper.costs.estimate`): an
    :class:`~lstm97.paper.costs.Estimate` (seconds and basis)."""
    from .paper import costs

    return costs.estimate(preset, quick, preset_steps, preset_kernel_time, budget)


# -- planning and running -----------------------------------------------------------------------------------
def plan(
    work: Iterable[tuple[TrialConfig, Sequence[int]] | tuple[TrialConfig, Sequence[int], str]],
    store: str | Path = DEFAULT_STORE,
) -> list[Job]:
    """Each (config, seeds[, label]) with the seeds the store does not hold yet (the store is created if
    missing, and checked)."""
    with Store(store) as db:
        jobs = []
        for item in work:
            cfg, seeds, label = (*item, "")[:3]
            done = db.done_seeds(cfg.key())
            seeds = list(seeds)
            jobs.append(Job(cfg, seeds, [s for s in seeds if s not in done], label))
    return jobs


def execute(
    jobs: Sequence[Job],
    store: str | Path = DEFAULT_STORE,
    *,
    workers: int | None = None,
    chunk: int = 256,
    executor: Executor | None = None,
    progress: Callable[[Progress], None] | None = None,
    lanes: int = DEFAULT_LANES,
) -> int:
    """Run every job's missing seeds in one pool and store each trial as it finishes; return how many were
    stored. The store is probed for writing before any training. Raises :class:`Interrupted` on Ctrl-C or
    SIGTERM (what finished is stored; the workers are stopped). ``lanes`` > 1 trains that many trials of a
    configuration side by side per worker (:mod:`lstm97.runners.lanes`; the same records as ``lanes=1``)."""
    work, seen_before = [], set()
    for job in jobs:  # a (configuration, seed) asked for twice runs once
        todo = [s for s in job.todo if (job.config.key(), s) not in seen_before]
        seen_before.update((job.config.key(), s) for s in todo)
        if todo:
            work.append((job.config, todo))
    if chunk < 1:
        raise UserError(f"chunk={chunk} is out of range: give at least 1 sequence per kernel call.")
    if workers is not None and workers < 1:
        raise UserError(f"jobs={workers} is out of range: give at least 1 worker.")
    lanes = check_lanes(lanes)
    with Store(store) as db:
        db.check_writable()
        if not work:
            return 0
        flat = [(cfg, seed) for cfg, seeds in work for seed in seeds]  # in run_many's order of indices
        budgets = [cfg.max_sequences for cfg, _ in flat]
        index_of = {(cfg.key(), seed): i for i, (cfg, seed) in enumerate(flat)}
        state = {"stored": 0, "seen": {}, "sequences": 0, "retired": 0}
        t0 = time.monotonic()
        last = [-1.0]

        def report(force: bool = False) -> None:
            now = time.monotonic()
            if progress is not None and (force or now - last[0] >= 0.1):
                last[0] = now
                running = dict(state["seen"])
                progress(
                    Progress(
                        len(budgets),
                        state["stored"],
                        state["sequences"] + sum(running.values()),
                        sum(budgets),
                        state["retired"] + sum(running.values()),
                        time.monotonic() - t0,
                        running,
                    )
                )

        def on_result(record: dict[str, Any]) -> None:
            db.add_trial(record)
            index = index_of[(record["config_key"], record["seed"])]
            state["seen"].pop(index, None)
            state["stored"] += 1
            state["sequences"] += int(record["sequences"])
            state["retired"] += budgets[index]
            report(force=True)

        def on_progress(index: int, seen: int) -> None:
            state["seen"][index] = seen
            report()

        with _signals_as_interrupts():
            try:
                report(force=True)
                run_many(work, on_result, workers, chunk, executor, on_progress, lanes)
            except Interrupted as exc:
                raise Interrupted(state["stored"], exc.signum) from None
            except KeyboardInterrupt:
                raise Interrupted(state["stored"]) from None
        return state["stored"]


class _signals_as_interrupts:
    """While a campaign runs in the main thread, SIGINT (Ctrl-C) and SIGTERM raise :class:`Interrupted`, whatever
    disposition the process inherited (a process started with SIGINT ignored, as background jobs of a
    non-interactive shell are, would otherwise not stop on Ctrl-C); the old handlers come back afterwards."""

    def __enter__(self) -> None:
        self.old: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():

            def handler(signum, frame):
                raise Interrupted(0, signum)

            for signum in (signal.SIGINT, signal.SIGTERM):
                self.old[signum] = signal.signal(signum, handler)

    def __exit__(self, *exc: object) -> None:
        for signum, old in self.old.items():
            signal.signal(signum, old)


def trials_of(jobs: Sequence[Job], store: str | Path = DEFAULT_STORE) -> pd.DataFrame:
    """The stored trials of the jobs' configurations and seeds, in the jobs' order and by seed."""
    with Store(store, create=False) as db:
        df = db.trials()
    order = {}
    for job in jobs:
        for s in job.seeds:
            order.setdefault((job.config.key(), s), len(order))
    rank = [order.get((k, int(s)), -1) for k, s in zip(df["config_key"], df["seed"], strict=True)]
    df = df.assign(_rank=rank)
    return df[df["_rank"] >= 0].sort_values("_rank").drop(columns="_rank").reset_index(drop=True)


def run(
    task: str,
    params: dict[str, Any] | None = None,
    model: str = "lstm",
    hp: dict[str, Any] | None = None,
    *,
    trials: int = 10,
    seed: int = 0,
    store: str | Path = DEFAULT_STORE,
    max_sequences: int | None = None,
    jobs: int | None = None,
    chunk: int = 256,
    executor: Executor | None = None,
    progress: Callable[[Progress], None] | None = None,
    lanes: int = DEFAULT_LANES,
) -> pd.DataFrame:
    """Run ``trials`` trials (seeds ``seed`` … ``seed + trials - 1``) of ``model`` with hyperparameters ``hp``
    on ``task`` with parameters ``params`` into ``store``; return their rows (stored ones included).

    Parameters not given take the paper's defaults (``lstm97 tasks`` / ``lstm97 models`` list them);
    ``max_sequences`` overrides the task's budget (a different configuration). ``lanes``: trials per kernel
    call, side by side (speed only: the stored trials are the same whatever its value)."""
    lanes = check_lanes(lanes)
    cfg = configure(task, params, model, hp, max_sequences)
    jobs_ = plan([(cfg, seeds_for(seed, trials))], store)
    execute(jobs_, store, workers=jobs, chunk=chunk, executor=executor, progress=progress, lanes=lanes)
    return trials_of(jobs_, store)


def select_presets(ids: Iterable[str] = (), tables: Iterable[str] = (), everything: bool = False) -> list:
    """Presets by id and by paper table, or all of them (:func:`lstm97.paper.presets.select`)."""
    from .paper import presets

    return presets.select(ids, tables, everything)


def runnable_presets(
    chosen: Sequence, named: Iterable[str] = (), on_skip: Callable[[Any, str], None] | None = None
) -> list:
    """The presets of ``chosen`` that can run here. One that cannot is a UserError when its id is among
    ``named`` (the user asked for it), else skipped (``on_skip(preset, why)`` is told)."""
    named = set(named)
    runnable = []
    for p in chosen:
        why = preset_unavailable(p)
        if why is None:
            runnable.append(p)
        elif p.id in named:
            raise UserError(f"preset {p.id}: {why}.")
        elif on_skip is not None:
            on_skip(p, why)
    return runnable


def plan_presets(
    chosen: Sequence,
    store: str | Path = DEFAULT_STORE,
    *,
    quick: bool = False,
    trials: int | None = None,
    max_sequences: int | None = None,
) -> list[Job]:
    """A job per preset of ``chosen`` that can run here (seeds 0 … n-1; n the paper's trial count, its quick
    count with ``quick``, or ``trials``)."""
    _check_budget(max_sequences)
    work = []
    for p in chosen:
        cfg = preset_config(p, quick, max_sequences)
        n = trials if trials is not None else p.settings(quick)[3]
        work.append((cfg, seeds_for(0, n), p.id))
    return plan(work, store)


def reproduce(
    ids: Iterable[str] = (),
    *,
    tables: Iterable[str] = (),
    everything: bool = False,
    quick: bool = False,
    trials: int | None = None,
    store: str | Path = DEFAULT_STORE,
    max_sequences: int | None = None,
    jobs: int | None = None,
    chunk: int = 256,
    executor: Executor | None = None,
    progress: Callable[[Progress], None] | None = None,
    lanes: int = DEFAULT_LANES,
) -> pd.DataFrame:
    """Run the paper's presets (ids such as ``"6a"``, whole ``tables`` such as ``"7"``, or ``everything``)
    into ``store`` and return their trials. Presets that cannot run here are skipped when selected by table
    or ``everything``, and refused when named. ``lanes`` as in :func:`run`."""
    lanes = check_lanes(lanes)
    runnable = runnable_presets(select_presets(ids, tables, everything), named=ids)
    jobs_ = plan_presets(runnable, store, quick=quick, trials=trials, max_sequences=max_sequences)
    execute(jobs_, store, workers=jobs, chunk=chunk, executor=executor, progress=progress, lanes=lanes)
    return trials_of(jobs_, store)


# -- ablations ------------------------------------------------------------------------------------------------
def parse_vary(items: Iterable[str]) -> dict[str, list[str]]:
    """``["reset=0,0.5", "in_gate_bias=-1,-2;-3,-6"]`` as ``{name: [values]}``: values split at ";" when there is
    one (for parameters whose values hold commas), else at ","."""
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        parts = [v.strip() for v in values.split(";" if ";" in values else ",") if v.strip()]
        if not sep or not name or not parts:
            raise UserError(f"--vary {item!r} is not of the form NAME=V1,V2 (for example reset=0,0.5).")
        if name in out:
            raise UserError(f"--vary {name} is given twice; give every value in one --vary.")
        out[name] = parts
    return out


@dataclass
class Ablation:
    """A preset and its variants (one configuration each, paired seeds 0 … n-1), as planned and recorded."""

    name: str
    preset: str
    jobs: list[Job]  # one per distinct configuration; job.label is its first variant's label
    variants: list[tuple[str, str]]  # (variant label, configuration key); the baseline first


def plan_ablation(
    preset_id: str,
    vary: dict[str, Sequence[Any]],
    *,
    grid: bool = False,
    trials: int | None = None,
    quick: bool = False,
    max_sequences: int | None = None,
    store: str | Path = DEFAULT_STORE,
) -> Ablation:
    """The preset ``preset_id`` and one variant per value of each varied task parameter or model hyperparameter
    (one at a time; every combination with ``grid``), all with the same seeds, so that each variant sees the
    same data streams as the preset's own trials (paired comparisons)."""
    import itertools

    from . import models, tasks
    from .errors import unknown

    (preset,) = select_presets([preset_id])
    task_params, model_params, budget, n = preset.settings(quick)
    budget = budget if max_sequences is None else max_sequences
    base = preset_config(preset, quick, max_sequences)
    task_names = {p.name for p in tasks.get(preset.task).spec.params}
    model_names = {p.name for p in models.get(preset.model).spec.params}
    for name in vary:
        if name in task_names and name in model_names:
            raise UserError(f"--vary {name}: both task {preset.task!r} and model {preset.model!r} have it.")
        if name not in task_names | model_names:
            raise unknown(
                f"parameter of task {preset.task!r} or model {preset.model!r}", name, task_names | model_names
            )
    names = list(vary)
    settings = (
        [dict(zip(names, combo, strict=True)) for combo in itertools.product(*vary.values())]
        if grid
        else [{name: value} for name in names for value in vary[name]]
    )
    seeds = seeds_for(0, trials if trials is not None else n)
    variants, work = [("baseline", base.key())], [(base, seeds, "baseline")]
    for change in settings:
        tp = {**task_params, **{k: v for k, v in change.items() if k in task_names}}
        mp = {**model_params, **{k: v for k, v in change.items() if k in model_names}}
        cfg = configure(preset.task, tp, preset.model, mp, budget)
        label = " ".join(f"{k}={v}" for k, v in change.items())
        variants.append((label, cfg.key()))
        if cfg.key() not in {c.key() for c, _, _ in work}:
            work.append((cfg, seeds, label))
    name = f"{preset.id}: {' × '.join(names) if grid else ', '.join(names)}"
    name += (" (grid)" if grid else "") + (" quick" if quick else "")
    name += f", budget {budget:,}" if max_sequences is not None else ""
    return Ablation(name, preset.id, plan(work, store), variants)


def ablate(
    preset_id: str,
    vary: dict[str, Sequence[Any]],
    *,
    grid: bool = False,
    trials: int | None = None,
    quick: bool = False,
    max_sequences: int | None = None,
    store: str | Path = DEFAULT_STORE,
    jobs: int | None = None,
    chunk: int = 256,
    executor: Executor | None = None,
    progress: Callable[[Progress], None] | None = None,
    lanes: int = DEFAULT_LANES,
) -> pd.DataFrame:
    """Run an ablation (:func:`plan_ablation`) into ``store``, record it there for ``lstm97 report``, and return
    the trials of every variant with a ``variant`` column (a configuration shared by several variants, such
    as a value equal to the preset's, is listed under each). ``lanes`` as in :func:`run`."""
    lanes = check_lanes(lanes)
    ab = plan_ablation(preset_id, vary, grid=grid, trials=trials, quick=quick, max_sequences=max_sequences, store=store)
    return run_ablation(ab, store, jobs=jobs, chunk=chunk, executor=executor, progress=progress, lanes=lanes)


def run_ablation(
    ab: Ablation,
    store: str | Path = DEFAULT_STORE,
    *,
    jobs: int | None = None,
    chunk: int = 256,
    executor: Executor | None = None,
    progress: Callable[[Progress], None] | None = None,
    lanes: int = DEFAULT_LANES,
) -> pd.DataFrame:
    """Record the planned ablation or extended table ``ab`` in ``store``, run what it lacks, and return the trials
    of every variant with a ``variant`` column."""
    record_ablation(ab, store)
    execute(ab.jobs, store, workers=jobs, chunk=chunk, executor=executor, progress=progress, lanes=lanes)
    return ablation_trials(ab, store)


def plan_extended(
    preset_id: str,
    *,
    trials: int | None = None,
    quick: bool = False,
    max_sequences: int | None = None,
    store: str | Path = DEFAULT_STORE,
) -> Ablation:
    """An extended table (:mod:`lstm97.paper.extended`): the preset and each descendant model on its task, with
    the preset's budget and the same seeds (paired, like an ablation; recorded as one)."""
    from . import models, tasks
    from .paper import extended

    ext = extended.get(preset_id)
    (preset,) = select_presets([preset_id])
    task_params, model_params, budget, n = preset.settings(quick)
    budget = budget if max_sequences is None else max_sequences
    cut = max_sequences is not None
    base = preset_config(preset, quick, budget)
    if ext.max_sequences is not None and not cut and base.max_sequences > ext.max_sequences:
        budget, cut = ext.max_sequences, True
        base = preset_config(preset, quick, budget)
    seeds = seeds_for(0, trials if trials is not None else max(n, extended.TRIALS))
    variants, work = [("baseline", base.key())], [(base, seeds, "baseline")]
    task = tasks.make(preset.task, **base.task_params)
    target = models.make(base.model, task, **base.model_params).n_weights
    for v in ext.variants:
        hp = dict(v.params)
        if v.model == base.model:
            hp = {**model_params, **hp}
        elif "output" in model_params:  # output units that reach the targets (adding-modern: linear)
            hp.setdefault("output", model_params["output"])
        blocks = int(base.model_params.get("blocks", 0) or 0)
        # Gers' forget-gate biases need gate biases: a preset without them (Exp 2c) gets random ones
        unbiased = v.model == base.model and base.model_params.get("bias") == "none"
        gains_bias = unbiased and v.forget_bias is not None
        if gains_bias:
            hp["bias"] = "gates"
        if v.forget_bias is not None:
            hp["forget_gate_bias"] = (float(v.forget_bias),) * blocks
        if v.model == "gru" and "lr" not in hp:
            hp["lr"] = base.model_params["lr"]
        if v.sized:
            hp["hidden"] = _units_within(v.model, task, hp, target)
        cfg = configure(preset.task, task_params, v.model, hp, budget)
        label = v.label + (f" ({hp['hidden']} units)" if v.sized else "") + (" + gate biases" if gains_bias else "")
        label += f" [{v.claim}]" if v.claim else ""
        variants.append((label, cfg.key()))
        work.append((cfg, seeds, label))
    name = ext.name + (" quick" if quick else "") + (f", budget {budget:,}" if cut else "")
    return Ablation(name, preset.id, plan(work, store), variants)


def _units_within(model: str, task, hp: dict[str, Any], weights: int) -> int:
    """The most units (``hidden``) whose net has at most ``weights`` weights (at least 1)."""
    from . import models

    def size(h: int) -> int:
        return models.make(model, task, **{**hp, "hidden": h}).n_weights

    lo, hi = 1, 2
    while size(hi) <= weights:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if size(mid) <= weights else (lo, mid)
    return lo


def extend(
    preset_id: str,
    *,
    trials: int | None = None,
    quick: bool = False,
    max_sequences: int | None = None,
    store: str | Path = DEFAULT_STORE,
    jobs: int | None = None,
    chunk: int = 256,
    executor: Executor | None = None,
    progress: Callable[[Progress], None] | None = None,
    lanes: int = DEFAULT_LANES,
) -> pd.DataFrame:
    """Run an extended table (:func:`plan_extended`) into ``store``, record it, and return its trials with a
    ``variant`` column. ``lanes`` as in :func:`run`."""
    lanes = check_lanes(lanes)
    ab = plan_extended(preset_id, trials=trials, quick=quick, max_sequences=max_sequences, store=store)
    return run_ablation(ab, store, jobs=jobs, chunk=chunk, executor=executor, progress=progress, lanes=lanes)


def record_ablation(ab: Ablation, store: str | Path = DEFAULT_STORE) -> None:
    """Record the ablation's variants in the store (before running: a part-run ablation shows as such)."""
    with Store(store) as db:
        db.check_writable()
        db.add_ablation(ab.name, ab.preset, ab.variants)


def ablation_trials(ab: Ablation, store: str | Path = DEFAULT_STORE) -> pd.DataFrame:
    """The stored trials of each variant of ``ab`` (its seeds), with a ``variant`` column."""
    df = trials_of(ab.jobs, store)
    parts = [df[df["config_key"] == key].assign(variant=label) for label, key in ab.variants]
    return pd.concat(parts, ignore_index=True) if parts else df


def load(store: str | Path = DEFAULT_STORE) -> pd.DataFrame:
    """Every trial of an existing store as a DataFrame (one row per trial)."""
    with Store(store, create=False) as db:
        return db.trials()


def import_csv(csv: str | Path, store: str | Path = DEFAULT_STORE) -> pd.DataFrame:
    """Import a report's ``trials.csv`` into ``store`` without training (``lstm97 import``, see
    :mod:`lstm97.results.importer`: no curves or weights) and return every trial the store then holds."""
    from .results.importer import import_csv as into_store

    into_store(csv, store)
    return load(store)


__all__ = [
    "Ablation",
    "Interrupted",
    "ablate",
    "ablation_trials",
    "extend",
    "parse_vary",
    "plan_ablation",
    "plan_extended",
    "record_ablation",
    "run_ablation",
    "Job",
    "Progress",
    "check_lanes",
    "configure",
    "default_jobs",
    "evidence_config",
    "execute",
    "import_csv",
    "load",
    "paper_budget",
    "plan",
    "plan_presets",
    "preset_config",
    "preset_unavailable",
    "reproduce",
    "run",
    "runnable_presets",
    "select_presets",
    "seconds_per_sequence",
    "seeds_for",
    "trials_of",
]

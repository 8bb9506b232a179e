"""Many independent trials of one configuration (``run_sweep``) or several (``run_many``), in parallel worker
processes.

Each trial is a pure function of (config, seed), so results do not depend on the number of workers or on
the order in which trials finish. Finished trials are handed to ``on_result`` in the parent process as they
arrive (the CLI stores each one in its own transaction), so an interrupted sweep loses only unfinished
trials. ``jobs=1`` runs in-process. Dask: pass ``executor`` (any ``concurrent.futures.Executor``, e.g.
``distributed.Client().get_executor()``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any

from .trial import TrialConfig, run_trial


def default_jobs() -> int:
    """All cores available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_sweep(cfg: TrialConfig, seeds: Iterable[int], on_result: Callable[[dict[str, Any]], None],
              jobs: int | None = None, chunk: int = 256, executor: Executor | None = None) -> int:
    """Run one trial per seed and call ``on_result(record)`` for each as it finishes; return the count."""
    return run_many([(cfg, seeds)], on_result, jobs, chunk, executor)


def run_many(work: Iterable[tuple[TrialConfig, Iterable[int]]], on_result: Callable[[dict[str, Any]], None],
             jobs: int | None = None, chunk: int = 256, executor: Executor | None = None) -> int:
    """``run_sweep`` over several configurations, (config, seeds) each, sharing one pool of ``jobs`` workers
    (or ``executor``), so short configurations do not wait for long ones; return the count."""
    trials = [(cfg, seed) for cfg, seeds in work for seed in seeds]
    jobs = default_jobs() if jobs is None else jobs
    done = 0
    if executor is None and (jobs <= 1 or len(trials) <= 1):
        for cfg, seed in trials:
            on_result(run_trial(cfg, seed, chunk))
            done += 1
        return done
    own = executor is None
    if own:
        # spawn: workers start clean (no forked locks or threads); numba loads its cached machine code.
        executor = ProcessPoolExecutor(max_workers=min(jobs, len(trials)),
                                       mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = [executor.submit(run_trial, cfg, seed, chunk) for cfg, seed in trials]
        for fut in as_completed(futures):
            on_result(fut.result())
            done += 1
    finally:
        if own:
            executor.shutdown(wait=False, cancel_futures=True)
    return done

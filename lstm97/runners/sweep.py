"""Many independent trials of one configuration (``run_sweep``) or several (``run_many``), in parallel worker
processes.

Each trial is a pure function of (config, seed), so results do not depend on the number of workers or on
the order in which trials finish. Finished trials are handed to ``on_result`` in the parent process as they
arrive (the campaign stores each one in its own transaction), so an interrupted sweep loses only unfinished
trials. ``jobs=1`` runs in-process. Dask: pass ``executor`` (any ``concurrent.futures.Executor``, e.g.
``distributed.Client().get_executor()``).

Workers report progress (training sequences seen so far) to the parent through a queue, at most a few times a
second per trial; ``on_progress(index, seen)`` is called in the parent with the trial's index in the work list.
Workers ignore SIGINT: an interrupt (Ctrl-C, or any exception) in the parent cancels the queued trials and
terminates the workers at once, since their unfinished trials would be thrown away anyway. A worker whose
parent has died stops at its next chunk.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue as _queue
import signal
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from typing import Any

from .. import registry
from ..errors import UserError
from .trial import TrialConfig, run_trial, warm_up

#: Seconds between two progress reports of one trial from a worker.
PROGRESS_EVERY = 0.25

_QUEUE: Any = None  # in a worker: the queue to the parent
_PARENT: int | None = None  # in a worker: the parent's pid


def default_jobs() -> int:
    """All cores available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_sweep(
    cfg: TrialConfig,
    seeds: Iterable[int],
    on_result: Callable[[dict[str, Any]], None],
    jobs: int | None = None,
    chunk: int = 256,
    executor: Executor | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Run one trial per seed and call ``on_result(record)`` for each as it finishes; return the count."""
    return run_many([(cfg, seeds)], on_result, jobs, chunk, executor, on_progress)


def _init_worker(q, parent: int, registrations=()) -> None:
    global _QUEUE, _PARENT
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates the workers
    registry.restore(registrations)  # the parent's in-process registrations (registry.register)
    _QUEUE, _PARENT = q, parent


def _reporter(index: int) -> Callable[[int], None] | None:
    """The progress callback of trial ``index`` in a worker (None where there is no queue, e.g. on Dask)."""
    if _QUEUE is None:
        return None
    last = [0.0]

    def report(seen: int) -> None:
        if os.getppid() != _PARENT:  # the parent died: nobody will store this trial
            os._exit(1)
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            _QUEUE.put((index, seen))

    return report


def _trial(index: int, cfg: TrialConfig, seed: int, chunk: int, registrations=()) -> tuple[int, dict[str, Any]]:
    registry.restore(registrations)  # on an executor that ran no _init_worker (Dask); a no-op when restored
    return index, run_trial(cfg, seed, chunk, _reporter(index))


def run_many(
    work: Iterable[tuple[TrialConfig, Iterable[int]]],
    on_result: Callable[[dict[str, Any]], None],
    jobs: int | None = None,
    chunk: int = 256,
    executor: Executor | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """``run_sweep`` over several configurations, (config, seeds) each, sharing one pool of ``jobs`` workers
    (or ``executor``), so short configurations do not wait for long ones; return the count. Trials are indexed
    in the order of ``work`` (for ``on_progress``)."""
    trials = [(cfg, seed) for cfg, seeds in work for seed in seeds]
    jobs = default_jobs() if jobs is None else jobs
    done = 0
    if executor is None and (jobs <= 1 or len(trials) <= 1):
        for index, (cfg, seed) in enumerate(trials):
            report = None if on_progress is None else (lambda seen, i=index: on_progress(i, seen))
            on_result(run_trial(cfg, seed, chunk, report))
            done += 1
        return done
    own = executor is None
    q = None
    carried = registry.registrations()  # in-process registrations, for the workers
    if own:
        _compile_once([cfg for cfg, _ in trials])
        # spawn: workers start clean (no forked locks or threads); numba loads its cached machine code.
        ctx = multiprocessing.get_context("spawn")
        q = ctx.Queue()
        executor = ProcessPoolExecutor(
            max_workers=min(jobs, len(trials)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(q, os.getpid(), carried),
        )
    finished = False
    try:
        with _script_not_reimported():
            extra = () if own else (carried,)  # a foreign executor's workers ran no _init_worker
            index = {executor.submit(_trial, i, cfg, seed, chunk, *extra): i for i, (cfg, seed) in enumerate(trials)}
        pending = set(index)
        lost: list[tuple[TrialConfig, int, BaseException]] = []
        while pending:
            ready, pending = wait(pending, timeout=PROGRESS_EVERY, return_when=FIRST_COMPLETED)
            _drain(q, on_progress)
            for fut in ready:
                exc = fut.exception()
                if type(exc).__name__ == "KilledWorker":  # the other trials go on; said at the end
                    lost.append((*trials[index[fut]], exc))
                    continue
                _, record = fut.result()
                on_result(record)
                done += 1
        finished = True
        if lost:
            raise _killed(lost)
    finally:
        if own:
            _stop(executor, finished)
            q.close()
            q.join_thread()
    return done


def _killed(lost: list[tuple[TrialConfig, int, BaseException]]) -> UserError:
    """The message for trials whose Dask workers all died. A scheduler gives a trial whose worker died to
    another worker, up to its ``distributed.scheduler.allowed-failures``; then it raises KilledWorker, which
    names no trial."""
    cfg, seed, exc = lost[0]
    tries = getattr(exc, "allowed_failures", None)
    more = f" (and {len(lost) - 1} more trial(s))" if len(lost) > 1 else ""
    return UserError(
        f"the {'' if tries is None else f'{tries + 1} '}Dask workers that ran the trial of {cfg.task} with "
        f"{cfg.model}, seed {seed}{more}, all died while running it; every other trial is stored. Look at the "
        "workers' logs (memory?), then run the same command again to resume."
    )


@contextlib.contextmanager
def _script_not_reimported():
    """While the pool starts its workers, hide the path of a ``__main__`` script from multiprocessing, so that
    spawned workers do not re-run the user's script (which would start the same campaign again and fail without
    an ``if __name__ == "__main__":`` guard). The workers need nothing from it: the trial function and its
    arguments live in lstm97. Modules run with ``-m`` and interactive sessions are left as they are."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def _compile_once(configs: list[TrialConfig]) -> None:
    """Run each distinct model's kernels once in this process before the workers start (:func:`warm_up`), so
    that with a cold numba cache the kernels are compiled (and cached) once here instead of once per worker;
    with a warm cache this loads them once."""
    for cfg in {cfg.key(): cfg for cfg in configs}.values():
        try:
            warm_up(cfg)
        except Exception:  # a warm-up only: any problem shows (with its message) in the trial itself
            continue


def _drain(q, on_progress: Callable[[int, int], None] | None) -> None:
    if q is None:
        return
    while True:
        try:
            index, seen = q.get_nowait()
        except (_queue.Empty, OSError, ValueError):
            return
        if on_progress is not None:
            on_progress(index, seen)


def _stop(executor: ProcessPoolExecutor, finished: bool) -> None:
    """Shut the pool down; unless every trial finished, terminate the workers now instead of letting them
    compute trials whose results nobody would store."""
    if finished:
        executor.shutdown(wait=True)
        return
    processes = list(getattr(executor, "_processes", {}).values())  # the standard library keeps no public list
    executor.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + 5.0
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(1.0)

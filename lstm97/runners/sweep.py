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

Workers start from a fork server (Linux, macOS) that has imported lstm97 and the configurations' task and model
modules and run their kernels once (:func:`_pool_context`), so numba compiles or loads them once, in the server,
and every worker starts with them loaded. Elsewhere workers are spawned, after the parent ran the kernels once
(:func:`_compile_once`: a cold cache is filled once, not by every worker). Never plain ``fork``: the parent has
threads (numba's, the pool's).
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

from .. import models, registry, tasks
from ..errors import UserError
from .lanes import check_lanes, run_lanes
from .trial import TrialConfig, run_trial, warm_up

#: Seconds between two progress reports of one trial from a worker.
PROGRESS_EVERY = 0.25

_QUEUE: Any = None  # in a worker: the queue to the parent
_ALIVE: Any = None  # in a worker: the read end of a pipe the parent holds open (readable at EOF: it died)


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
    lanes: int = 1,
) -> int:
    """Run one trial per seed and call ``on_result(record)`` for each as it finishes; return the count."""
    return run_many([(cfg, seeds)], on_result, jobs, chunk, executor, on_progress, lanes)


def _init_worker(q, alive, registrations=()) -> None:
    global _QUEUE, _ALIVE
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates the workers
    registry.restore(registrations)  # the parent's in-process registrations (registry.register)
    _QUEUE, _ALIVE = q, alive


def _reporter(index: int) -> Callable[[int], None] | None:
    """The progress callback of trial ``index`` in a worker (None where there is no queue, e.g. on Dask)."""
    if _QUEUE is None:
        return None
    last = [0.0]

    def report(seen: int) -> None:
        if _ALIVE.poll():  # the parent died (its end of the pipe closed): nobody will store this trial
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
    lanes: int = 1,
) -> int:
    """``run_sweep`` over several configurations, (config, seeds) each, sharing one pool of ``jobs`` workers
    (or ``executor``), so short configurations do not wait for long ones; return the count. Trials are indexed
    in the order of ``work`` (for ``on_progress``). With ``lanes`` > 1 each task of the pool is a queue of
    seeds of one configuration run ``lanes`` at a time in lock step (:func:`_run_lanes`)."""
    work = [(cfg, list(seeds)) for cfg, seeds in work]
    trials = [(cfg, seed) for cfg, seeds in work for seed in seeds]
    jobs = default_jobs() if jobs is None else jobs
    lanes = lanes_in_use(work, jobs, lanes, local=executor is None)
    if lanes > 1:
        return _run_lanes(work, trials, on_result, jobs, chunk, executor, on_progress, lanes)
    done = 0
    if executor is None and (jobs <= 1 or len(trials) <= 1):
        for index, (cfg, seed) in enumerate(trials):
            report = None if on_progress is None else (lambda seen, i=index: on_progress(i, seen))
            on_result(run_trial(cfg, seed, chunk, report))
            done += 1
        return done
    own = executor is None
    q = alive = None
    carried = registry.registrations()  # in-process registrations, for the workers
    if own:
        configs = [cfg for cfg, _ in trials]
        ctx = _pool_context(configs)
        q, alive = ctx.Queue(), ctx.Pipe(duplex=False)
        executor = ProcessPoolExecutor(
            max_workers=min(jobs, len(trials)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(q, alive[0], carried),
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
            for end in alive:
                end.close()
    return done


def lanes_in_use(work: Iterable[tuple[TrialConfig, Iterable[int]]], jobs: int, lanes: int, local: bool = True) -> int:
    """The lanes :func:`run_many` runs ``work`` with: ``lanes``, but locally never more than the largest of its
    queues (:func:`_lane_groups`) has seeds (one seed per worker: 1, the one-trial path)."""
    lanes = check_lanes(lanes)
    work = [(cfg, list(seeds)) for cfg, seeds in work]
    if lanes > 1 and local and any(seeds for _, seeds in work):
        lanes = min(lanes, max(len(items) for _, items in _lane_groups(work, max(1, jobs), lanes, foreign=False)))
    return lanes


#: Seconds the parent waits for the records a finished lane group sent through the queue (they travel apart
#: from the group's own result, so they may arrive just after it).
RECORD_WAIT = 60.0


def _lane_groups(
    work: list[tuple[TrialConfig, list[int]]], jobs: int, lanes: int, foreign: bool
) -> list[tuple[TrialConfig, list[tuple[int, int]]]]:
    """The pool's tasks with lanes: queues of (trial index, seed) of one configuration each. Locally, a
    configuration's seeds are dealt round-robin to as many queues as keep every worker busy: one per ``lanes``
    seeds up to ``jobs`` queues, and at least ``jobs`` / (number of configurations) queues, so that a single
    configuration with fewer than ``jobs`` * ``lanes`` seeds still reaches every worker (a queue refills its
    lanes as trials finish). On a foreign executor (Dask) a queue holds at most ``lanes`` seeds: its records
    come back only with its result, so an interrupted queue loses at most that many trials."""
    groups, index = [], 0
    share = -(-jobs // max(1, sum(1 for _, seeds in work if seeds)))
    for cfg, seeds in work:
        items = [(index + k, seed) for k, seed in enumerate(seeds)]
        index += len(seeds)
        if not items:
            continue
        need = -(-len(items) // lanes)
        n = need if foreign else min(len(items), max(1, min(jobs, need), share))
        groups += [(cfg, items[g::n]) for g in range(n)]
    return groups


def _lane_group(
    cfg: TrialConfig, items: list[tuple[int, int]], lanes: int, chunk: int, registrations=()
) -> tuple[list[int], list[tuple[int, dict[str, Any]]]]:
    """A worker's queue of (trial index, seed) run ``lanes`` at a time (:func:`~.lanes.run_lanes`). Each finished
    trial's record goes to the parent through the progress queue at once (so it is stored at once); where there
    is no queue (Dask), the records come back with the result. Returns (indices sent, (index, record) kept)."""
    registry.restore(registrations)
    sent: list[int] = []
    kept: list[tuple[int, dict[str, Any]]] = []
    reporters: dict[int, Callable[[int], None] | None] = {}

    def progress(pos: int, seen: int) -> None:
        if pos not in reporters:
            reporters[pos] = _reporter(items[pos][0])
        if reporters[pos] is not None:
            reporters[pos](seen)

    def on_result(pos: int, record: dict[str, Any]) -> None:
        index = items[pos][0]
        if _QUEUE is None:
            kept.append((index, record))
        else:
            _QUEUE.put((index, record))
            sent.append(index)

    run_lanes(cfg, [seed for _, seed in items], lanes, on_result, chunk, None if _QUEUE is None else progress)
    return sent, kept


def _run_lanes(
    work: list[tuple[TrialConfig, list[int]]],
    trials: list[tuple[TrialConfig, int]],
    on_result: Callable[[dict[str, Any]], None],
    jobs: int,
    chunk: int,
    executor: Executor | None,
    on_progress: Callable[[int, int], None] | None,
    lanes: int,
) -> int:
    """:func:`run_many` with ``lanes`` > 1: each configuration's seeds in queues (:func:`_lane_groups`), each
    queue run by one worker ``lanes`` trials at a time; every record is handed to ``on_result`` as its trial
    finishes."""
    done = 0
    if executor is None and (jobs <= 1 or len(trials) <= 1):
        offset = 0
        for cfg, seeds in work:
            report = None if on_progress is None else (lambda pos, seen, o=offset: on_progress(o + pos, seen))
            done += run_lanes(cfg, seeds, lanes, lambda pos, record: on_result(record), chunk, report)
            offset += len(seeds)
        return done
    own = executor is None
    groups = _lane_groups(work, jobs, lanes, foreign=not own)
    q = alive = None
    carried = registry.registrations()
    if own:
        configs = [cfg for cfg, _ in groups]
        ctx = _pool_context(configs, lanes)
        q, alive = ctx.Queue(), ctx.Pipe(duplex=False)
        executor = ProcessPoolExecutor(
            max_workers=min(jobs, len(groups)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(q, alive[0], carried),
        )
    received: set[int] = set()

    def on_record(index: int, record: dict[str, Any]) -> None:
        nonlocal done
        if index in received:
            return
        received.add(index)
        on_result(record)
        done += 1

    finished = False
    try:
        with _script_not_reimported():
            extra = () if own else (carried,)
            futures = {
                executor.submit(_lane_group, cfg, items, lanes, chunk, *extra): g
                for g, (cfg, items) in enumerate(groups)
            }
        pending = set(futures)
        lost: list[tuple[TrialConfig, int, BaseException]] = []
        while pending:
            ready, pending = wait(pending, timeout=PROGRESS_EVERY, return_when=FIRST_COMPLETED)
            _drain(q, on_progress, on_record)
            for fut in ready:
                cfg, items = groups[futures[fut]]
                exc = fut.exception()
                if type(exc).__name__ == "KilledWorker":  # the other queues go on; said at the end
                    missing = [seed for index, seed in items if index not in received]
                    lost.append((cfg, (missing or [items[0][1]])[0], exc))
                    continue
                sent, kept = fut.result()
                for index, record in kept:
                    on_record(index, record)
                deadline = time.monotonic() + RECORD_WAIT
                while not received.issuperset(sent):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{len(set(sent) - received)} finished trial(s) never reached the parent")
                    _drain(q, on_progress, on_record, wait_first=PROGRESS_EVERY)
        finished = True
        if lost:
            raise _killed(lost)
    except KeyboardInterrupt:
        _drain(q, None, on_record)  # finished trials already on their way are stored, then the interrupt goes on
        raise
    finally:
        if own:
            _stop(executor, finished)
            q.close()
            q.join_thread()
            for end in alive:
                end.close()
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


_SERVER: list = [None]  # what the fork server this process started was started with (:func:`_pool_context`)


def _pool_context(configs: list[TrialConfig], lanes: int = 1):
    """The multiprocessing context of a local pool, with the kernels of ``configs`` compiled or loaded once
    before any worker starts. Where the platform has one: the fork server, told to import lstm97's runner and
    the task and model modules of ``configs`` (:func:`_preloads`) and last :mod:`._warm`, which runs the
    configurations' kernels in the server (:func:`~.trial.warm_up`, with ``lanes``), so that every worker is
    forked from it with all of that imported and the kernels loaded. Else spawn, after the kernels ran here
    (:func:`_compile_once`: with a cold numba cache they are compiled and cached once, not once per worker).
    The fork server (one per process) is kept for later pools, and started anew when one needs other modules or
    kernels, or the environment or ``sys.path`` has changed since (its workers inherit its environment, not this
    process's, which spawned workers would see)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        _compile_once(configs, lanes)
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    from . import _warm

    preloads = _preloads(configs)
    warm = {cfg.key(): cfg for cfg in configs}
    key = (dict(os.environ), list(sys.path))
    server = getattr(forkserver, "_forkserver", None)
    started = _SERVER[0]
    if started is not None and (
        started[1] != key or not set(preloads) <= set(started[0]) or not set(warm) <= started[3]
    ):
        if hasattr(server, "_stop"):  # private, as the standard library offers no public way (3.8+)
            server._stop()
        preloads = list(dict.fromkeys([*started[0], *preloads]))
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([*preloads, _warm.__name__])
    os.environ[_warm.ENV] = _warm.encode(list(warm.values()), lanes)
    try:
        forkserver.ensure_running()
    finally:
        del os.environ[_warm.ENV]
    if started is None or getattr(server, "_forkserver_pid", 0) != started[2]:
        _SERVER[0] = (preloads, key, getattr(server, "_forkserver_pid", None), set(warm))
    return ctx


def _preloads(configs: list[TrialConfig]) -> list[str]:
    """The modules a fork server imports for ``configs``: the runner, then the modules of their task and model
    classes (built-ins and plugins alike; never ``__main__``, and nothing that does not load here)."""
    names = {__name__: None}
    for cfg in configs:
        for group, name in ((tasks, cfg.task), (models, cfg.model)):
            try:
                module = group.get(name).__module__
            except Exception:  # the trial itself reports it
                continue
            if module != "__main__" and module in sys.modules:
                names[module] = None
    return list(names)


def _compile_once(configs: list[TrialConfig], lanes: int = 1) -> None:
    """Run each distinct model's kernels once in this process before the workers start (:func:`warm_up`), so
    that with a cold numba cache the kernels are compiled (and cached) once here instead of once per worker;
    with a warm cache this loads them once."""
    for cfg in {cfg.key(): cfg for cfg in configs}.values():
        try:
            warm_up(cfg, lanes)
        except Exception:  # a warm-up only: any problem shows (with its message) in the trial itself
            continue


def _drain(
    q,
    on_progress: Callable[[int, int], None] | None,
    on_record: Callable[[int, dict[str, Any]], None] | None = None,
    wait_first: float = 0.0,
) -> None:
    """Hand what the workers put on the queue to ``on_progress(index, seen)`` and (lane groups' finished trials)
    ``on_record(index, record)``; with ``wait_first`` > 0, wait up to that many seconds for the first item."""
    if q is None:
        return
    while True:
        try:
            index, payload = q.get(timeout=wait_first) if wait_first > 0 else q.get_nowait()
        except (_queue.Empty, OSError, ValueError):
            return
        wait_first = 0.0
        if isinstance(payload, dict):
            if on_record is not None:
                on_record(index, payload)
        elif on_progress is not None:
            on_progress(index, payload)


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

"""The local worker pool: forked from a fork server that has lstm97 and the configurations' modules imported
(spawned where there is none), the kernels compiled or loaded once in the parent, workers that notice a dead
parent, and records that do not depend on any of it."""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from lstm97.runners import sweep
from lstm97.runners.trial import TrialConfig

pytestmark = pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server on this platform"
)


def _cfg() -> TrialConfig:
    return TrialConfig.resolve("long-lag-distractors", {"q": 5, "p": 4, "check_every": 100}, "lstm", {}, 300, 50)


def _worker_view(name: str) -> tuple[bool, str | None, bool]:
    """In a worker: whether ``name`` was imported before this task ran, an environment variable, and whether the
    parent's end of the liveness pipe is closed."""
    return name in sys.modules, os.environ.get("LSTM97_TEST_POOL"), bool(sweep._ALIVE.poll())


def _pool(ctx, alive, jobs: int = 1) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        jobs, mp_context=ctx, initializer=sweep._init_worker, initargs=(ctx.Queue(), alive[0], ())
    )


def test_workers_come_from_a_fork_server_with_the_modules_imported(monkeypatch):
    cfg = _cfg()
    assert sweep._preloads([cfg]) == ["lstm97.runners.sweep", "lstm97.tasks.long_lag", "lstm97.models.lstm"]
    monkeypatch.setenv("LSTM97_TEST_POOL", "first")
    ctx = sweep._pool_context([cfg])
    assert ctx.get_start_method() == "forkserver"
    alive = ctx.Pipe(duplex=False)
    with _pool(ctx, alive) as pool:
        assert pool.submit(_worker_view, "lstm97.models._lstm_kernels").result() == (True, "first", False)
        assert pool.submit(_worker_view, "lstm97.models._lstm_kernels").result()[2] is False
        alive[1].close()  # the parent's end gone, as when it dies
        assert pool.submit(_worker_view, "lstm97.models._lstm_kernels").result()[2] is True
    alive[0].close()
    # a changed environment reaches the workers (the fork server is started anew)
    monkeypatch.setenv("LSTM97_TEST_POOL", "second")
    ctx = sweep._pool_context([cfg])
    alive = ctx.Pipe(duplex=False)
    with _pool(ctx, alive) as pool:
        assert pool.submit(_worker_view, "lstm97.tasks.long_lag").result() == (True, "second", False)
    for end in alive:
        end.close()


def _kernels_in_worker() -> tuple[list[str], int, bool]:
    """In a worker, before it runs any trial: the configurations warmed in its fork server, how many
    signatures the LSTM's generic kernel has compiled or loaded, and whether the warm-up's variable leaked."""
    from lstm97.models import _lstm_kernels
    from lstm97.runners import _warm

    return sorted(_warm.WARMED), len(_lstm_kernels.kernel(None).signatures), _warm.ENV in os.environ


def test_workers_start_with_the_kernels_loaded_in_the_fork_server():
    cfg = _cfg()
    other = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, 300, 50)
    for configs in ([cfg], [cfg], [cfg, other]):  # the second pool reuses the server; the third restarts it
        ctx = sweep._pool_context(configs)
        alive = ctx.Pipe(duplex=False)
        with _pool(ctx, alive) as pool:
            warmed, signatures, leaked = pool.submit(_kernels_in_worker).result()
        for end in alive:
            end.close()
        assert {c.key() for c in configs} <= set(warmed) and signatures >= 1 and not leaked
    assert "LSTM97_WARM" not in os.environ


def test_spawn_where_there_is_no_fork_server(monkeypatch):
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    ran = []
    monkeypatch.setattr(sweep, "_compile_once", lambda configs, lanes=1: ran.append((len(configs), lanes)))
    assert sweep._pool_context([_cfg()], 4).get_start_method() == "spawn"
    assert ran == [(1, 4)]  # the kernels ran in the parent before the spawned workers start


def test_pool_records_equal_in_process_ones():
    cfg = _cfg()
    seeds = [0, 1, 2]
    got: dict[str, list[dict]] = {"serial": [], "pool": []}
    sweep.run_sweep(cfg, seeds, got["serial"].append, jobs=1)
    sweep.run_sweep(cfg, seeds, got["pool"].append, jobs=2)
    a, b = ({r["seed"]: r for r in got[k]} for k in ("serial", "pool"))
    assert sorted(a) == sorted(b) == seeds
    for s in seeds:
        for k in ("status", "sequences", "milestones", "test_wrong", "test_mse", "test_abs", "curve", "config_key"):
            assert a[s][k] == b[s][k], k
        assert np.array_equal(a[s]["weights"], b[s]["weights"])

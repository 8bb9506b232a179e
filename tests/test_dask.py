"""Trials on a Dask cluster: a worker killed in the middle of a trial costs that trial's progress, nothing else.

The scheduler gives the lost worker's trial to another worker (the nanny restarts the dead one); the trial,
a pure function of its configuration and seed, gives the same record there, and the parent stores it once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import Executor, Future
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import lstm97
from lstm97 import api
from lstm97.cli import main
from lstm97.errors import UserError
from lstm97.runners.trial import TrialConfig, run_trial

distributed = pytest.importorskip("distributed")

#: Long enough (a few seconds) to be killed in the middle of.
ARGS = ["run", "adding", "-p", "T=100", "--model", "lstm", "--trials", "2", "--max-sequences", "60000"]


def _kill_a_busy_worker(client, killed: list, after: float = 1.0, timeout: float = 120.0) -> None:
    """SIGKILL the process of the first worker seen running a trial, ``after`` seconds into it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            time.sleep(after)
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.05)


def test_a_worker_killed_during_a_trial_loses_nothing_and_stores_nothing_twice(tmp_path):
    store = tmp_path / "s.sqlite"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        killed: list[int] = []
        killer = threading.Thread(target=_kill_a_busy_worker, args=(client, killed))
        killer.start()
        res = CliRunner().invoke(main, [*ARGS, "--store", str(store), "--dask", cluster.scheduler_address])
        killer.join()
        assert res.exit_code == 0, res.output
        assert "the Dask cluster at" in res.output and "2 worker(s)" in res.output  # the header names it
    assert killed  # a worker did die during a trial
    df = lstm97.load(store)
    assert sorted(df["seed"].tolist()) == sorted(set(df["seed"].tolist())) and len(df) == 2
    row = df.sort_values("seed").iloc[0]
    cfg = TrialConfig.resolve("adding", {"T": 100}, "lstm", {}, 60_000)
    again = run_trial(cfg, int(row["seed"]))  # the same record as a trial that nobody killed
    assert (again["sequences"], again["status"], again["test_mse"]) == (
        row["sequences"],
        row["status"],
        row["test_mse"],
    )
    res = CliRunner().invoke(main, [*ARGS, "--store", str(store)])  # resumes: nothing left to run
    assert res.exit_code == 0 and "0 trials to run" in res.output, res.output


class _DyingCluster(Executor):
    """Stands in for a Dask client's executor whose scheduler gave up on a trial: its workers died on it as
    often as ``allowed-failures`` permits (distributed raises KilledWorker then)."""

    def __init__(self, fail_seed: int):
        self.fail_seed = fail_seed

    def submit(self, fn, *args, **kwargs):
        fut = Future()
        if args[2] == self.fail_seed:  # _trial(index, cfg, seed, ...)
            fut.set_exception(
                distributed.KilledWorker("_trial-abc", SimpleNamespace(address="tcp://127.0.0.1:1234"), 3)
            )
        else:
            fut.set_result(fn(*args, **kwargs))
        return fut


def test_a_trial_that_kills_every_worker_is_named_and_the_others_are_stored(tmp_path):
    store = tmp_path / "s.sqlite"
    cfg = api.configure("adding", {"T": 20}, "lstm", {}, 200)
    jobs = api.plan([(cfg, [5, 6, 7])], store)
    with pytest.raises(
        UserError, match=r"the 4 Dask workers that ran the trial of adding with lstm, seed 6, all died.*run the same"
    ):
        api.execute(jobs, store, executor=_DyingCluster(fail_seed=6), lanes=1)  # one trial per task
    assert sorted(lstm97.load(store)["seed"]) == [5, 7]  # the other trials ran on and are stored

"""Running into a store: the Python API, progress in training sequences, and parallel runs that stop at once
on Ctrl-C or SIGTERM with nothing left running and nothing stored lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import lstm97
from lstm97 import api
from lstm97.cli import main
from lstm97.results import Store
from lstm97.runners import TrialConfig, run_trial


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start_long_parallel_run(tmp_path: Path) -> tuple[subprocess.Popen, set[int]]:
    """A 2-worker run of long trials (T=1000 adding, minutes each); returns once both workers train."""
    store = tmp_path / "s.sqlite"
    cmd = [
        sys.executable,
        "-m",
        "lstm97.cli",
        "run",
        "adding",
        "-p",
        "T=1000",
        "--trials",
        "6",
        "--jobs",
        "2",
        "--store",
        str(store),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, start_new_session=True)
    deadline = time.time() + 120
    workers: set[int] = set()
    while time.time() < deadline and proc.poll() is None:
        workers = {c for c in _children(proc.pid) if _cpu_seconds(c) > 1.0}
        if len(workers) >= 2:
            break
        time.sleep(0.3)
    assert proc.poll() is None and len(workers) >= 2, "the workers did not start training"
    return proc, _children(proc.pid)


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@pytest.mark.parametrize("how, code", [("ctrl-c", 130), ("sigterm", 143)])
def test_parallel_run_stops_within_seconds_leaving_nothing_running(tmp_path, how, code):
    proc, children = _start_long_parallel_run(tmp_path)
    t0 = time.monotonic()
    if how == "ctrl-c":  # the terminal sends SIGINT to the whole foreground process group
        os.killpg(proc.pid, signal.SIGINT)
    else:  # SIGTERM to the main process only
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - t0
    assert proc.returncode == code, err.decode()
    assert took < 10, f"took {took:.1f} s to stop"
    assert b"Traceback" not in err and err.count(b"interrupted:") == 1, err.decode()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(c) for c in children):
        time.sleep(0.1)
    assert not [c for c in children if _alive(c)], "worker processes were left running"
    with Store(tmp_path / "s.sqlite") as db:  # the store is intact and holds no half-finished trial
        assert len(db.trials()) == 0


def test_progress_reports_sequences_while_trials_run(tmp_path):
    snapshots: list[api.Progress] = []
    df = lstm97.run(
        "adding",
        {"T": 50},
        trials=2,
        max_sequences=60_000,
        store=tmp_path / "s.sqlite",
        jobs=2,
        progress=snapshots.append,
    )
    assert len(df) == 2
    during = [p for p in snapshots if p.finished == 0 and p.sequences > 0]
    assert during, "no progress was reported before the first trial finished"
    assert all(b.sequences >= a.sequences for a, b in zip(snapshots, snapshots[1:], strict=False))
    last = snapshots[-1]
    assert (last.finished, last.trials) == (2, 2)
    assert last.sequences == int(df["sequences"].sum()) and last.retired == last.budget == 120_000
    assert last.rate > 0


def test_progress_in_process(tmp_path):
    snapshots: list[api.Progress] = []
    lstm97.run(
        "adding",
        {"T": 50},
        trials=1,
        max_sequences=30_000,
        store=tmp_path / "s.sqlite",
        jobs=1,
        progress=snapshots.append,
    )
    assert any(0 < p.sequences < 30_000 for p in snapshots)


def test_python_api_resumes_and_returns_a_dataframe(tmp_path):
    store = tmp_path / "s.sqlite"
    first = lstm97.run("adding", {"T": 20}, trials=2, max_sequences=500, store=store, jobs=1)
    assert list(first["seed"]) == [0, 1] and set(first["status"]) == {"budget"}
    calls = []
    again = lstm97.run("adding", {"T": 20}, trials=3, max_sequences=500, store=store, jobs=1, progress=calls.append)
    assert list(again["seed"]) == [0, 1, 2]
    assert calls[-1].trials == 1  # only the missing seed ran
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, 500)
    assert again.iloc[2]["sequences"] == run_trial(cfg, 2)["sequences"]
    assert len(lstm97.load(store)) == 3


def test_python_api_reproduce_presets(tmp_path):
    store = tmp_path / "s.sqlite"
    df = lstm97.reproduce(["guess-latch"], quick=True, trials=2, store=store, jobs=1)
    assert list(df["seed"]) == [0, 1] and set(df["model"]) == {"guess"}
    assert len(lstm97.reproduce(["guess-latch"], quick=True, trials=2, store=store, jobs=1)) == 2


def test_no_progress_output_when_stderr_is_not_a_terminal(tmp_path):
    res = CliRunner().invoke(
        main,
        [
            "run",
            "adding",
            "-p",
            "T=20",
            "--max-sequences",
            "2000",
            "--trials",
            "2",
            "--jobs",
            "1",
            "--store",
            str(tmp_path / "s.sqlite"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "sequences/s" not in res.output and "/s (ETA" not in res.output


def test_reproduce_and_ablate_on_a_dask_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as c:
        store = str(tmp_path / "s.sqlite")
        res = CliRunner().invoke(
            main,
            ["reproduce", "guess-latch", "--quick", "--trials", "2", "--store", store, "--dask", c.scheduler_address],
        )
        assert res.exit_code == 0, res.output
        res = CliRunner().invoke(
            main,
            [
                "ablate",
                "guess-latch",
                "--quick",
                "--vary",
                "range=100,50",
                "--trials",
                "2",
                "--store",
                store,
                "--dask",
                c.scheduler_address,
            ],
        )
        assert res.exit_code == 0, res.output
    assert len(lstm97.load(store)) == 4  # the baseline's 2 trials ran once, the variant's 2 on the cluster

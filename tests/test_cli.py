"""The command line through click's CliRunner, and a real interrupted run resumed in a subprocess."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from lstm97.cli import main
from lstm97.results import Store
from lstm97.seeding import streams
from lstm97.tasks import make


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_tasks_lists_parameters_and_paper():
    res = invoke("tasks")
    assert res.exit_code == 0
    assert "adding" in res.output and "§3.6" in res.output and "T = 100" in res.output


def test_sample_writes_npz(tmp_path):
    out = tmp_path / "a.npz"
    res = invoke("sample", "adding", "-p", "T=50", "--n", "4", "--seed", "3", "--out", str(out))
    assert res.exit_code == 0, res.output
    data = np.load(out)
    assert set(data.files) == {"inputs", "targets", "mask", "lengths"}
    expect = make("adding", T=50).sample(streams(3).train, 4)
    np.testing.assert_array_equal(data["inputs"], expect.inputs)
    assert data["mask"].dtype == bool and data["lengths"].dtype == np.int64


def test_run_resume_and_results(tmp_path):
    store = str(tmp_path / "s.sqlite")
    base = ["run", "adding", "-p", "T=20", "--max-sequences", "300", "--jobs", "1", "--store", store]
    res = invoke(*base, "--trials", "2")
    assert res.exit_code == 0, res.output
    assert "adding T=20 · lstm · budget 300" in res.output and "success" in res.output
    res = invoke(*base, "--trials", "3")
    assert res.exit_code == 0, res.output
    assert "1 trials to run (2 already stored" in res.output
    with Store(store) as s:
        df = s.trials()
    assert sorted(df["seed"]) == [0, 1, 2]
    res = invoke("results", "--store", store, "--format", "csv")
    assert res.exit_code == 0 and len(res.output.strip().splitlines()) == 4
    res = invoke("results", "--store", store)
    assert "adding" in res.output and "T=20" in res.output


@pytest.mark.parametrize(
    "args, words",
    [
        (["run", "addng"], ["unknown task 'addng'", "Did you mean 'adding'"]),
        (["run", "adding", "--model", "lstn"], ["unknown model 'lstn'", "Did you mean 'lstm'"]),
        (["run", "adding", "-p", "t=100"], ["unknown parameter", "'t'", "Did you mean 'T'"]),
        (["run", "adding", "-p", "T=5"], ["out of range", "int in [20"]),
        (["run", "adding", "-p", "T=abc"], ["not valid", "expected int"]),
        (["run", "adding", "-p", "T"], ["NAME=VALUE"]),
        (["run", "adding", "--hp", "bias=some"], ["unknown value for parameter bias", "Allowed"]),
        (["run", "adding", "--hp", "in_gate_bias=1,2,3"], ["one per block"]),
        (["sample", "nope", "--out", "x.npz"], ["unknown task 'nope'"]),
        (["results", "--store", "/nonexistent/dir/s.sqlite"], ["does not exist"]),
    ],
)
def test_user_mistakes_get_one_line_and_exit_2(args, words):
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    for w in words:
        assert w in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_corrupt_store_message(tmp_path):
    path = tmp_path / "bad.sqlite"
    path.write_text("garbage" * 200)
    res = invoke("results", "--store", str(path))
    assert res.exit_code == 2 and "not a readable lstm97 store" in res.output
    assert path.read_text() == "garbage" * 200


def _sigint(disposition):
    """Start the child with SIGINT as given (a CI step in the background inherits it ignored)."""
    return lambda: signal.signal(signal.SIGINT, disposition)


@pytest.mark.parametrize(
    "inherited,lanes,n",
    [(signal.SIG_DFL, 1, 4), (signal.SIG_IGN, 1, 4), (signal.SIG_DFL, 4, 12)],
    ids=["sigint-default", "sigint-ignored", "lanes"],
)
def test_interrupted_run_resumes_without_loss_or_duplicates(tmp_path, inherited, lanes, n):
    """Ctrl-C a real run after its first trial is stored; re-running completes it, no duplicates. The run
    reacts to Ctrl-C whatever SIGINT disposition it inherited, one trial at a time or with lanes (n trials,
    so that some are left to run when the first is stored: lanes trials side by side finish close together)."""
    store = tmp_path / "s.sqlite"
    cmd = [
        sys.executable,
        "-m",
        "lstm97.cli",
        "run",
        "adding",
        "-p",
        "T=50",
        "--trials",
        str(n),
        "--jobs",
        "1",
        "--lanes",
        str(lanes),
        "--max-sequences",
        "20000",
        "--store",
        str(store),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        start_new_session=True,
        preexec_fn=_sigint(inherited),
    )
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        if store.exists():
            with Store(store) as s:
                stored = len(s.done_seeds(s.trials()["config_key"].iloc[0])) if len(s.trials()) else 0
            if stored >= 1:
                break
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"run the same command again" in err and b"Traceback" not in err
    with Store(store) as s:
        kept = sorted(s.trials()["seed"])
    assert 1 <= len(kept) < n
    done = subprocess.run(cmd, capture_output=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert f"{n - len(kept)} trials to run ({len(kept)} already stored".encode() in done.stderr
    with Store(store) as s:
        assert sorted(s.trials()["seed"]) == list(range(n))


def test_run_header_shows_the_values_in_effect_and_a_cost(tmp_path):
    res = invoke(
        "run",
        "long-lag",
        "-p",
        "p=4",
        "--model",
        "rtrl",
        "--hp",
        "lr=2",
        "--trials",
        "1",
        "--jobs",
        "1",
        "--max-sequences",
        "300",
        "--store",
        str(tmp_path / "s.sqlite"),
    )
    assert res.exit_code == 0, res.output
    header = res.output.split("\n")
    hp = next(line for line in header if line.startswith("hyperparameters: "))
    assert "hidden=1 " in hp and "lr=2.0*" in hp  # the task's paper default (not the model's 3), the override
    cost = next(line for line in header if line.startswith("cost: "))
    assert "ms of training per sequence here (measured)" in cost
    assert "long-lag p=4 · rtrl lr=2.0 ·" in res.output  # the summary names the override

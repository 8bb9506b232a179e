"""Output files: written whole or not at all, under exactly the name asked for, never over a user's files."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lstm97.cli import main
from lstm97.errors import UserError
from lstm97.files import write_atomic

FIXTURE = Path(__file__).parent / "data" / "store_v1.sqlite"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _error_line(res) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    (line,) = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    return line


def test_sample_writes_exactly_the_name_given(tmp_path):
    out = tmp_path / "a.txt"
    res = invoke("sample", "adding", "-p", "T=20", "--n", "3", "--out", out)
    assert res.exit_code == 0, res.output
    assert str(out) in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    assert np.load(out)["inputs"].shape[0] == 3


def test_sample_into_a_missing_directory(tmp_path):
    assert "does not exist" in _error_line(invoke("sample", "adding", "--out", tmp_path / "no" / "a.npz"))


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "a.npz"
    target.write_bytes(b"the user's old file")

    def half_then_full(f):
        f.write(b"x" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(UserError, match="No space left on device"):
        write_atomic(target, half_then_full)
    assert target.read_bytes() == b"the user's old file"  # not truncated, not replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]  # no temporary file left


def test_results_out_into_a_missing_directory(tmp_path):
    store = tmp_path / "s.sqlite"
    shutil.copy(FIXTURE, store)
    assert "does not exist" in _error_line(invoke("results", "--store", store, "--out", tmp_path / "no" / "x.csv"))
    res = invoke("results", "--store", store, "--format", "csv", "--out", tmp_path / "x.csv")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "x.csv").read_text().count("\n") == 51  # header and 50 trials


def test_results_on_an_empty_file_leaves_it_empty(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    assert "empty" in _error_line(invoke("results", "--store", empty))
    assert empty.stat().st_size == 0


def test_report_never_overwrites_files_it_did_not_write(tmp_path):
    store = tmp_path / "s.sqlite"
    shutil.copy(FIXTURE, store)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("my notes")
    assert "--force" in _error_line(invoke("report", "--store", store, "--out", mine, "--no-figures"))
    assert (mine / "README.md").read_text() == "my notes"
    res = invoke("report", "--store", store, "--out", mine, "--no-figures", "--force")
    assert res.exit_code == 0, res.output
    # a directory the report wrote can be written again without --force
    again = tmp_path / "report"
    for _ in range(2):
        res = invoke("report", "--store", store, "--out", again, "--no-figures")
        assert res.exit_code == 0, res.output
    assert (again / ".lstm97-report").read_text().splitlines()[1:] == sorted(
        p.relative_to(again).as_posix() for p in again.rglob("*") if p.is_file() and p.name != ".lstm97-report"
    )


def test_regenerate_script_finds_the_store_from_the_report_folder(tmp_path):
    store = tmp_path / "runs" / "s.sqlite"
    store.parent.mkdir()
    shutil.copy(FIXTURE, store)
    out = tmp_path / "reports" / "r1"
    assert invoke("report", "--store", store, "--out", out, "--no-figures").exit_code == 0
    script = (out / "regenerate.sh").read_text().splitlines()
    assert script[-1] == "lstm97 report --store ../../runs/s.sqlite --out ."
    assert all("--store ../../runs/s.sqlite" in line for line in script if line.startswith("lstm97 "))
    assert (out / script[-1].split()[3]).resolve() == store.resolve()


def test_results_of_one_task(tmp_path):
    store = tmp_path / "s.sqlite"
    shutil.copy(FIXTURE, store)
    res = invoke("results", "--store", store, "--task", "adding", "--format", "csv")
    assert res.exit_code == 0, res.output
    import io

    import pandas as pd

    assert set(pd.read_csv(io.StringIO(res.output))["task"]) == {"adding"}
    line = _error_line(invoke("results", "--store", store, "--task", "addng"))
    assert "Did you mean 'adding'" in line

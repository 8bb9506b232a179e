"""The example plugin (examples/lstm97-example-plugin), when installed: found through its entry points by the
CLI and by worker processes, and docs/plugins.md matches it (files shown as they are, code blocks that run).

Skipped unless the example is installed (CI installs it: ``pip install -e examples/lstm97-example-plugin``).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("lstm97_example")

from lstm97.cli import main  # noqa: E402
from lstm97.results import Store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "plugins.md"
EXAMPLE = "examples/lstm97-example-plugin"


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def blocks(kind: str) -> list[str]:
    """The fenced code blocks of docs/plugins.md in the language ``kind``, in order."""
    return re.findall(rf"^```{kind}\n(.*?)^```", DOC.read_text(), re.S | re.M)


def test_the_plugin_is_listed():
    res = invoke("tasks")
    assert res.exit_code == 0 and "delayed-recall  [from lstm97-example-plugin 0.1.0]: Delayed recall" in res.output
    res = invoke("models")
    assert res.exit_code == 0 and "reservoir  [from lstm97-example-plugin 0.1.0]: Random tanh reservoir" in res.output
    assert "units = 20" in res.output and "BROKEN" not in res.output


def test_the_plugin_runs_in_worker_processes(tmp_path):
    store = tmp_path / "runs.sqlite"
    script = Path(sys.executable).parent / "lstm97"  # the console script, as a user runs it
    cmd = [
        str(script),
        "run",
        "delayed-recall",
        "--model",
        "reservoir",
        "--trials",
        "2",
        "--max-sequences",
        "3000",
        "--jobs",
        "2",
        "--store",
        str(store),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Store(store) as db:
        df = db.trials()
    assert sorted(df["seed"]) == [0, 1] and set(df["task_source"]) == {"lstm97-example-plugin"}
    assert set(df["model_source_version"]) == {"0.1.0"} and df["state"].iloc[0]["updates"] >= 1


def test_the_docs_show_the_example_files_as_they_are():
    shown = 0
    for kind in ("python", "toml"):
        for block in blocks(kind):
            first, _, rest = block.partition("\n")
            if first.startswith(f"# {EXAMPLE}/"):
                path = ROOT / first[2:].split()[0]
                assert rest.strip() in path.read_text(), f"docs/plugins.md shows {path} other than it is"
                shown += 1
    assert shown >= 4


def test_the_docs_python_blocks_run(tmp_path):
    """Every Python block that is not a file of the example, in order, as one script in a fresh directory."""
    code = [b for b in blocks("python") if not b.startswith(f"# {EXAMPLE}/")]
    assert len(code) >= 3
    (tmp_path / "doc.py").write_text("\n".join(code))
    done = subprocess.run([sys.executable, "doc.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_the_docs_commands_run_and_show_their_output(tmp_path, monkeypatch):
    """Each ``lstm97 ...`` line of the bash blocks runs; a ``text`` block right after a command is its output."""
    monkeypatch.chdir(tmp_path)
    text = DOC.read_text()
    ran = 0
    for m in re.finditer(r"^```bash\n(.*?)^```\n(?:\n?```text\n(.*?)^```)?", text, re.S | re.M):
        commands = [line.split("  #")[0].split() for line in m.group(1).splitlines() if line.startswith("lstm97 ")]
        for args in commands:
            res = invoke(*args[1:])
            assert res.exit_code == 0, (args, res.output)
            ran += 1
        if m.group(2) is not None:
            assert len(commands) == 1
            assert res.output.strip() == m.group(2).strip(), f"the output of {' '.join(commands[0])} changed"
    assert ran >= 3

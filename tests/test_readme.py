"""The README shows the published reproduction's summary table and commands exactly as the report wrote them."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "reproduction"


def block(text: str, name: str) -> str:
    a = text.index(f"<!-- {name}:start -->") + len(f"<!-- {name}:start -->")
    return text[a : text.index(f"<!-- {name}:end -->")].strip()


def test_readme_summary_is_the_published_reports():
    readme = (ROOT / "README.md").read_text()
    summary = (REPORT / "summary.md").read_text().strip()
    assert block(readme, "summary") == summary
    assert summary in (REPORT / "README.md").read_text()


def test_readme_findings_are_the_published_reports():
    """The README's account of what reproduces is the report's own opening (verdict counts and findings), so it
    cannot go stale when the reproduction is rebuilt."""
    readme = (ROOT / "README.md").read_text()
    report = (REPORT / "README.md").read_text()
    opening = report[report.index("Verdicts:") : report.index("## Summary")].strip()
    assert block(readme, "findings") == opening


def test_readme_commands_are_the_published_reports():
    readme = (ROOT / "README.md").read_text()
    script = (REPORT / "regenerate.sh").read_text().splitlines()
    commands = [line for line in script if line.startswith("lstm97 ")]
    shown = block(readme, "regenerate").removeprefix("```bash").removesuffix("```").strip().splitlines()
    assert [line for line in shown if line.startswith("lstm97 ")] == commands
    assert any(c.startswith("lstm97 reproduce") for c in commands) and commands[-1].startswith("lstm97 report")


def test_readme_python_api_example_runs_as_written(tmp_path):
    """The first Python block of the README's "Python API" section, as a script in a fresh directory."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Python API") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "example.py").write_text(code)
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "temporal-order" in done.stdout and (tmp_path / "runs.sqlite").exists()

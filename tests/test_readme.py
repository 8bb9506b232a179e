"""The README shows the published reproduction's summary table and commands exactly as the report wrote them."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "reproduction"


def block(text: str, name: str) -> str:
    a = text.index(f"<!-- {name}:start -->") + len(f"<!-- {name}:start -->")
    return text[a:text.index(f"<!-- {name}:end -->")].strip()


def test_readme_summary_is_the_published_reports():
    readme = (ROOT / "README.md").read_text()
    summary = (REPORT / "summary.md").read_text().strip()
    assert block(readme, "summary") == summary
    assert summary in (REPORT / "README.md").read_text()


def test_readme_commands_are_the_published_reports():
    readme = (ROOT / "README.md").read_text()
    script = (REPORT / "regenerate.sh").read_text().splitlines()
    commands = [line for line in script if line.startswith("lstm97 ")]
    shown = block(readme, "regenerate").removeprefix("```bash").removesuffix("```").strip().splitlines()
    assert [line for line in shown if line.startswith("lstm97 ")] == commands
    assert any(c.startswith("lstm97 reproduce") for c in commands) and commands[-1].startswith("lstm97 report")

"""The layers' imports point one way (STYLE.md): the report never reaches the runners, and the paper's data
reaches neither the runners, the store nor the report. Checked on the source with ``ast``, so imports inside
functions (lazy ones) count as much as those at module level."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lstm97

PACKAGE = Path(lstm97.__file__).parent


def imported_modules(path: Path, root: Path = PACKAGE.parent) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the module at ``path`` (a file under ``root``, the
    directory holding the ``lstm97`` package), wherever in the module it is. For ``from X import name`` both
    ``X`` and ``X.name`` are listed (the name may be a module)."""
    parts = path.relative_to(root).with_suffix("").parts
    package = parts[:-1]  # the package a relative import starts from (for __init__.py, its own)
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            out += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return out


def modules(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


def reaches(name: str, layers: tuple[str, ...]) -> bool:
    return any(name == f"lstm97.{layer}" or name.startswith(f"lstm97.{layer}.") for layer in layers)


def test_relative_imports_are_resolved():
    report_build = PACKAGE / "report" / "build.py"
    names = {n for _, n in imported_modules(report_build)}
    assert "lstm97.results" in names and "lstm97.report.accounts" in names and "lstm97.seeding" in names


@pytest.mark.parametrize("path", modules("report"), ids=lambda p: p.name)
def test_report_never_imports_the_runners(path):
    bad = [(line, n) for line, n in imported_modules(path) if reaches(n, ("runners",))]
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports the runners at {bad}"


@pytest.mark.parametrize("path", modules("paper"), ids=lambda p: p.name)
def test_paper_is_pure_data(path):
    bad = [
        (line, n)
        for line, n in imported_modules(path)
        if reaches(n, ("runners", "results", "report", "tasks", "models"))
    ]
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {bad}"


def test_the_checks_see_lazy_and_relative_imports(tmp_path):
    """Function-level and relative imports of the runners are found (the forms the report used to have)."""
    module = tmp_path / "lstm97" / "report" / "x.py"
    module.parent.mkdir(parents=True)
    for source in (
        "def f():\n    from ..runners import TrialConfig\n",
        "from .. import runners\n",
        "def f():\n    import lstm97.runners.trial\n",
        "from lstm97.runners.seeding import streams\n",
    ):
        module.write_text(source)
        assert any(reaches(n, ("runners",)) for _, n in imported_modules(module, tmp_path)), source
    module.write_text("from ..seeding import streams\nfrom ..results import Store\n")
    assert not any(reaches(n, ("runners",)) for _, n in imported_modules(module, tmp_path))

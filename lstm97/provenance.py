"""Which code produced a trial: the package version, and the git commit when lstm97 runs from a checkout.

A stored trial's ``package_version`` is :func:`code_version`: ``0.3.0`` for an installed release, or
``0.3.0+g1a2b3c4`` (PEP 440 local version: the commit) when the package is imported from a git working tree,
with ``.dirty`` appended when that tree has uncommitted changes to tracked files. The report prints it per row.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from . import __version__


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.cache
def code_version() -> str:
    """The package version, with the commit it was imported from if that is a git checkout (computed once per
    process)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():  # an installed package, or a tree without git metadata
        return __version__
    commit = _git(root, "rev-parse", "--short=7", "HEAD")
    if not commit:
        return __version__
    dirty = _git(root, "status", "--porcelain", "--untracked-files=no", "--", "lstm97")
    return f"{__version__}+g{commit}{'.dirty' if dirty else ''}"

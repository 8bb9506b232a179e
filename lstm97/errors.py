"""The one exception type for a user's mistake.

Anything raised as :class:`UserError` is shown by the CLI as a single line (``Error: ...``) with exit code 2
and no traceback. The message names the problem and, where possible, the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(ValueError):
    """A mistake in what the user asked for (unknown name, bad value, unusable file)."""


class Incompatible(UserError):
    """A model that cannot run a task at all (it lacks something the task requires, :attr:`Task.requires`): the
    contract checks skip such a pair instead of failing."""


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or an empty string."""
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.5)
    return f" Did you mean {by_lower[close[0]]!r}?" if close else ""


def unknown(kind: str, word: str, choices: Iterable[str]) -> UserError:
    """A :class:`UserError` for an unknown name, listing what is allowed and the closest match."""
    choices = sorted(choices)
    return UserError(f"unknown {kind} {word!r}.{suggest(word, choices)} Allowed: {', '.join(choices) or '(none)'}.")

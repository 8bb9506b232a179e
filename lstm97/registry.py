"""A lazy registry of named plugins (tasks or models), in the manner of Gymnasium and pluggy.

Built-in entries are ``"module:attribute"`` strings imported on first use. Third-party entries come from an
entry-point group (``lstm97.tasks`` or ``lstm97.models``), discovered on the first lookup, never at import.
A plugin that clashes with an existing name, or fails to load, is reported (``errors()``), not fatal.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from .errors import UserError, unknown


@dataclass
class Entry:
    name: str
    target: str  # "module:attribute"
    source: str = "lstm97"  # distribution that provides it
    error: str | None = None
    _obj: Any = field(default=None, repr=False)


class Registry:
    """Names to classes, with lazy entry-point discovery and "did you mean" errors."""

    def __init__(self, kind: str, group: str, builtins: dict[str, str]) -> None:
        self.kind = kind
        self.group = group
        self._entries = {name: Entry(name, target) for name, target in builtins.items()}
        self._discovered = False

    def register(self, name: str, target: str | type, source: str = "user") -> None:
        """Register ``target`` (a class or ``"module:attr"``) under ``name``; a taken name is an error."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered by {self._entries[name].source}")
        entry = Entry(name, target if isinstance(target, str) else f"{target.__module__}:{target.__name__}",
                      source)
        if not isinstance(target, str):
            entry._obj = target
        self._entries[name] = entry

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for ep in metadata.entry_points(group=self.group):
            dist = ep.dist.name if ep.dist is not None else "?"
            if ep.name in self._entries:
                old = self._entries[ep.name]
                if old.target == ep.value:  # the same plugin seen twice (e.g. editable installs)
                    continue
                self._entries[f"{ep.name}@{dist}"] = Entry(
                    ep.name, ep.value, dist,
                    error=f"name clash: {self.kind} {ep.name!r} is already provided by {old.source}",
                )
                continue
            self._entries[ep.name] = Entry(ep.name, ep.value, dist)

    def _load(self, entry: Entry) -> Any:
        if entry._obj is None and entry.error is None:
            module, _, attr = entry.target.partition(":")
            try:
                obj = importlib.import_module(module)
                for part in attr.split("."):
                    obj = getattr(obj, part)
                entry._obj = obj
            except Exception as exc:  # a broken plugin is reported, never fatal
                entry.error = f"{type(exc).__name__}: {exc}"
        return entry._obj

    def names(self) -> list[str]:
        """Names of every loadable entry, sorted."""
        self._discover()
        return sorted(n for n, e in self._entries.items() if e.error is None and "@" not in n)

    def entries(self) -> list[Entry]:
        """Every entry, loaded, including broken ones (their ``error`` is set)."""
        self._discover()
        for entry in self._entries.values():
            self._load(entry)
        return sorted(self._entries.values(), key=lambda e: e.name)

    def provenance(self, name: str) -> tuple[str, str]:
        """(distribution, its version) that provides ``name``: ``("lstm97", __version__)`` for built-ins,
        the installed plugin distribution's name and version, or ("user", "") for an in-process registration."""
        self._discover()
        entry = self._entries.get(name)
        source = "?" if entry is None else entry.source
        if source == "lstm97":
            from . import __version__

            return source, __version__
        try:
            return source, metadata.version(source)
        except metadata.PackageNotFoundError:
            return source, ""

    def get(self, name: str) -> Any:
        """The class registered under ``name``; unknown or broken names raise :class:`UserError`."""
        self._discover()
        entry = self._entries.get(name)
        if entry is None:
            raise unknown(self.kind, name, self.names())
        obj = self._load(entry)
        if obj is None:
            raise UserError(
                f"{self.kind} {name!r} from {entry.source} failed to load ({entry.error}). "
                f"Fix or uninstall the plugin providing it."
            )
        return obj

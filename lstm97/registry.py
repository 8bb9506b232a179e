"""A lazy registry of named plugins (tasks or models), in the manner of Gymnasium and pluggy.

Built-in entries are ``"module:attribute"`` strings imported on first use. Third-party entries come from an
entry-point group (``lstm97.tasks`` or ``lstm97.models``), discovered on the first lookup, never at import.

A broken entry is reported, never fatal: every exception raised while importing an entry, and every way in
which the imported object breaks the contract checked on loading (:meth:`Registry.problem`: a class, a
subclass of the group's base class, a ``spec`` of the group's spec type with a name and a tuple of
:class:`~lstm97.params.Param`), is caught per entry and kept as its ``error``. ``entries()`` lists it with that
error beside the good ones; ``get(name)`` raises one :class:`~lstm97.errors.UserError` naming the distribution
that provides it and the fix. A name provided twice (a plugin and a built-in, or two plugins) is an error of
both entries, naming both distributions: neither wins.

In-process registrations (:meth:`Registry.register`) record the class's ``"module:Class"`` reference, so that
worker processes can import it: :func:`registrations` lists them in the parent and :func:`restore` registers
them again in a worker (the sweep's pool initializer calls it). A class that cannot be imported by its
reference (defined in ``__main__``, a notebook or a function) still works in-process; in a worker its name
gives a clear error instead.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from .errors import UserError, unknown

#: What an entry of each group must be: (module, base class, spec class), all public names of that module.
CONTRACTS = {
    "lstm97.tasks": ("lstm97.tasks", "Task", "TaskSpec"),
    "lstm97.models": ("lstm97.models", "Model", "ModelSpec"),
}
#: The module whose ``registry`` attribute is the registry of each group (for :func:`restore`).
OWNERS = {"lstm97.tasks": "lstm97.tasks", "lstm97.models": "lstm97.models"}

_EXTRAS = re.compile(r"\s*\[.*\]\s*$")  # "module:Class [extra1, extra2]" in an entry point's value


@dataclass
class Entry:
    """One name of a registry. ``name`` is the name users type (it may differ from the class's
    ``spec.name``); ``source`` the distribution that provides it (``lstm97`` for built-ins, ``user`` for an
    in-process registration unless it said otherwise); ``error`` why it cannot be used (None: not known)."""

    name: str
    target: str  # "module:attribute"
    source: str = "lstm97"  # distribution that provides it
    error: str | None = None
    _obj: Any = field(default=None, repr=False)
    #: Registered in this process (``register`` or ``restore``), not by an entry point or as a built-in.
    registered: bool = False
    #: Why a worker process cannot import the registered class by ``target`` (None: it can).
    unportable: str | None = None
    #: Every entry that provides this name, when more than one does (this one included).
    clash: list[Entry] = field(default_factory=list, repr=False)
    _checked: bool = field(default=False, repr=False)
    _unimportable_here: bool = field(default=False, repr=False)  # restored in a worker that cannot import it


@dataclass(frozen=True)
class Registration:
    """An in-process registration, as handed to worker processes (plain data: it pickles)."""

    group: str
    name: str
    target: str
    source: str = "user"
    unportable: str | None = None


class Registry:
    """Names to classes, with lazy entry-point discovery, per-entry errors and "did you mean" errors."""

    def __init__(self, kind: str, group: str, builtins: dict[str, str]) -> None:
        self.kind = kind
        self.group = group
        self._entries = {name: Entry(name, target) for name, target in builtins.items()}
        self._discovered = False

    # -- registering ------------------------------------------------------------------------------------------
    def register(self, name: str, target: str | type, source: str = "user") -> None:
        """Register ``target`` (a class, or ``"module:Class"``) under ``name`` in this process.

        A name that is taken by another target is an error (:class:`UserError`). Registering the same
        reference again replaces an earlier in-process registration (re-running a notebook cell) and is a no-op
        for an entry point that provides it. The class is checked when it is first used, like every entry.
        Worker processes of a sweep get the registration through :func:`registrations` and :func:`restore`;
        for that the class must be importable by its reference (defined at the top level of a module that is
        not ``__main__``).
        """
        if not isinstance(name, str) or not name.strip():
            raise UserError(f"a {self.kind} name must be a non-empty string, got {name!r}.")
        self._discover()
        if isinstance(target, str):
            entry = Entry(name, target, source, registered=True)
        else:
            ref, unportable = reference(target)
            entry = Entry(name, ref, source, _obj=target, registered=True, unportable=unportable)
        old = self._entries.get(name)
        if old is not None:
            if old.target != entry.target:
                raise UserError(
                    f"{self.kind} {name!r} is already registered: {old.target} from "
                    f"{describe_source(old)}; register {entry.target} under another name."
                )
            if not old.registered:
                return  # an entry point or a built-in already provides this very class
        self._entries[name] = entry

    def registrations(self) -> list[Registration]:
        """This registry's in-process registrations, for :meth:`restore` in another process."""
        return [
            Registration(self.group, e.name, e.target, e.source, e.unportable)
            for e in self._entries.values()
            if e.registered
        ]

    def restore(self, items: Iterable[Registration]) -> None:
        """Register ``items`` (from :meth:`registrations` of another process) here. Never raises: a name that
        is taken by another target here becomes a clash of both, and a registration whose class cannot be
        imported by reference an entry whose error says so. Items already registered here are skipped."""
        self._discover()
        for r in items:
            if r.group != self.group:
                continue
            old = self._entries.get(r.name)
            if old is not None and old.target == r.target:
                continue
            entry = Entry(r.name, r.target, r.source, registered=True, unportable=r.unportable)
            if r.unportable is not None:
                entry.error = (
                    f"it was registered in the parent process from {r.target}, which a worker process "
                    f"cannot import ({r.unportable}); define the class at the top level of an "
                    "importable module (not in a script run as __main__, a notebook or a function), "
                    "or run with jobs=1"
                )
                entry._checked = entry._unimportable_here = True
            self._add(entry)

    # -- discovery --------------------------------------------------------------------------------------------
    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        try:
            found = list(metadata.entry_points(group=self.group))
        except Exception as exc:  # unreadable metadata: reported like a broken plugin
            self._entries[f"({self.group})"] = Entry(
                f"({self.group})",
                "",
                "?",
                error=f"cannot read the installed entry points: {type(exc).__name__}: {exc}",
                _checked=True,
            )
            return
        for ep in found:
            try:
                name, target, dist = str(ep.name), _EXTRAS.sub("", str(ep.value)), _dist_name(ep)
            except Exception as exc:
                self._add(
                    Entry(
                        f"({self.group} #{len(self._entries)})",
                        "",
                        "?",
                        error=f"unreadable entry point: {type(exc).__name__}: {exc}",
                        _checked=True,
                    )
                )
                continue
            self._add(Entry(name, target, dist))

    def _add(self, entry: Entry) -> None:
        """Add ``entry``; a name that another target already has becomes a clash of every provider."""
        old = self._entries.get(entry.name)
        if old is None:
            self._entries[entry.name] = entry
            return
        if old.target == entry.target:  # the same plugin seen twice (e.g. editable installs)
            return
        group = old.clash or [old]
        group.append(entry)
        message = self._clash_message(entry.name, group)
        for e in group:
            e.clash = group
            e.error = message
            e._obj = None
            e._checked = True

    def _clash_message(self, name: str, group: list[Entry]) -> str:
        providers = " and by ".join(f"{e.target} from {describe_source(e)}" for e in group)
        plugins = sorted({e.source for e in group if not e.registered and e.source not in ("lstm97", "?")})
        if plugins:
            fix = " or ".join(f"'pip uninstall {d}'" for d in plugins)
            fix = f"uninstall one of them ({fix}), or have the plugin register another name"
        else:
            fix = "register one of them under another name"
        return f"name clash: {self.kind} {name!r} is provided by {providers}; neither is used: {fix}"

    # -- loading and checking ---------------------------------------------------------------------------------
    def _load(self, entry: Entry) -> Any:
        """The entry's class, imported and checked once; None (and ``entry.error`` set) when it is broken."""
        if entry._checked:
            return entry._obj if entry.error is None else None
        entry._checked = True
        if entry.error is not None:
            return None
        try:
            obj = entry._obj if entry._obj is not None else _import(entry.target)
            problem = self.problem(obj, entry.target)
        except (Exception, SystemExit) as exc:  # a broken plugin is reported, never fatal
            entry.error = f"{type(exc).__name__}: {exc}"
            entry._obj = None
            return None
        if problem is not None:
            entry.error = problem
            entry._obj = None
            return None
        entry._obj = obj
        return obj

    def problem(self, obj: Any, target: str = "") -> str | None:
        """What makes ``obj`` unusable as an entry of this group (a sentence), or None when it is usable:
        not a class, not a subclass of the group's base class, no ``spec`` or one of the wrong type, a spec
        without a name, or ``spec.params`` that is not a tuple of valid :class:`~lstm97.params.Param`."""
        from .params import Param

        what = target or getattr(obj, "__name__", repr(obj))
        module, base_name, spec_name = CONTRACTS.get(self.group, (None, None, None))
        if module is None:
            return None if isinstance(obj, type) else f"{what} is not a class"
        owner = importlib.import_module(module)
        base, spec_cls = getattr(owner, base_name), getattr(owner, spec_name)
        base_ref, spec_ref = f"{module}.{base_name}", f"{module}.{spec_name}"
        if inspect.ismodule(obj):
            return f"{what} is a module, not a class: point the entry point at the class, as 'module:Class'"
        if not isinstance(obj, type):
            kind = "a function" if inspect.isroutine(obj) else f"an instance of {type(obj).__name__}"
            return f"{what} is {kind}, not a class: point the entry point at a subclass of {base_ref}"
        cls = obj.__qualname__
        if not issubclass(obj, base):
            return f"class {cls} is not a subclass of {base_ref}: derive it from {base_ref}"
        spec = getattr(obj, "spec", None)
        if spec is None:
            return f"class {cls} has no spec: declare the class attribute spec = {spec_name}(name, title, paper, ...)"
        if not isinstance(spec, spec_cls):
            return f"{cls}.spec is a {type(spec).__name__}, not a {spec_ref}"
        if not isinstance(spec.name, str) or not spec.name.strip():
            return f"{cls}.spec.name must be a non-empty string (the name results are stored under), got {spec.name!r}"
        for attr in ("title", "paper"):
            if not isinstance(getattr(spec, attr), str):
                return f"{cls}.spec.{attr} must be a string, got {getattr(spec, attr)!r}"
        if not isinstance(spec.version, int) or isinstance(spec.version, bool) or spec.version < 1:
            return f"{cls}.spec.version must be a positive int, got {spec.version!r}"
        params = spec.params
        if not isinstance(params, tuple):
            return (
                f"{cls}.spec.params must be a tuple of lstm97.params.Param, got a {type(params).__name__}: "
                "write params=(Param('T', 'int', 100, 'what T is', low=1), ...)"
            )
        seen: set[str] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Param):
                return (
                    f"{cls}.spec.params[{i}] is a {type(p).__name__} ({p!r}), not a lstm97.params.Param: "
                    "write Param(name, kind, default, doc, ...)"
                )
            if not isinstance(p.name, str) or not p.name.isidentifier():
                return f"{cls}.spec.params[{i}]: the name {p.name!r} is not an identifier"
            if p.name in seen:
                return f"{cls}.spec.params declares {p.name!r} twice"
            seen.add(p.name)
            try:
                p.describe()
                p.parse(p.default)
            except Exception as exc:
                return f"{cls}.spec.params[{i}] ({p.name}): its default or bounds are invalid ({exc})"
        defaults = getattr(obj, "paper_defaults", {})
        if not isinstance(defaults, Mapping) or not all(isinstance(v, Mapping) for v in defaults.values()):
            return f"{cls}.paper_defaults must map model names to dicts of hyperparameters"
        return None

    # -- looking up -------------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Names of every entry not known to be broken, sorted (entries are imported and checked only by
        :meth:`get` and :meth:`entries`)."""
        self._discover()
        return sorted(n for n, e in self._entries.items() if e.error is None)

    def entries(self) -> list[Entry]:
        """Every entry, loaded and checked, including broken ones (their ``error`` is set), sorted by name;
        every provider of a clashing name is listed."""
        self._discover()
        out: list[Entry] = []
        for entry in self._entries.values():
            for e in entry.clash or [entry]:
                if all(e is not o for o in out):
                    self._load(e)
                    out.append(e)
        return sorted(out, key=lambda e: (e.name, e.source))

    def entry(self, name: str) -> Entry:
        """The entry ``name``, loaded and checked (it may be broken); unknown names raise :class:`UserError`."""
        self._discover()
        entry = self._entries.get(name)
        if entry is None:
            raise unknown(self.kind, name, self.names())
        self._load(entry)
        return entry

    def broken_message(self, entry: Entry) -> str:
        """One sentence: which entry, from where, what is wrong and how to fix it."""
        if entry.clash:
            return f"{self.kind} {entry.name!r} cannot be used: {entry.error}."
        if entry._unimportable_here:
            return f"{self.kind} {entry.name!r} cannot be used in this worker process: {entry.error}."
        if entry.registered:
            where, fix = f"registered in-process as {entry.target}", "fix the class passed to register()"
        elif entry.source == "lstm97":
            where, fix = f"built into lstm97 ({entry.target})", "reinstall lstm97"
        else:
            where = (
                f"from the distribution {entry.source} (entry point '{entry.name} = {entry.target}' in group "
                f"{self.group})"
            )
            fix = f"fix the plugin, or uninstall it: pip uninstall {entry.source}"
        return f"{self.kind} {entry.name!r} {where} is broken: {entry.error}. To fix: {fix}."

    def get(self, name: str) -> Any:
        """The class registered under ``name``; unknown or broken names raise :class:`UserError`."""
        entry = self.entry(name)
        if entry.error is not None:
            raise UserError(self.broken_message(entry))
        return entry._obj

    def provenance(self, name: str) -> tuple[str, str]:
        """(distribution, its version) that provides ``name``: ``("lstm97", __version__)`` for built-ins,
        the installed plugin distribution's name and version, or ("user", "") for an in-process registration."""
        self._discover()
        entry = self._entries.get(name)
        source = "?" if entry is None else entry.source
        if source == "lstm97":
            from . import __version__

            return source, __version__
        if entry is None or entry.registered:
            return source, ""
        try:
            return source, metadata.version(source)
        except (metadata.PackageNotFoundError, ValueError):
            return source, ""


def describe_source(entry: Entry) -> str:
    """``lstm97 (built in)``, ``the distribution my-plugin`` or ``an in-process registration``."""
    if entry.registered:
        return "an in-process registration" + ("" if entry.source == "user" else f" ({entry.source})")
    if entry.source == "lstm97":
        return "lstm97 (built in)"
    return f"the distribution {entry.source}"


def reference(cls: Any) -> tuple[str, str | None]:
    """(``"module:qualname"``, why a fresh process cannot import ``cls`` by it, or None when it can)."""
    module = getattr(cls, "__module__", None) or "?"
    qualname = getattr(cls, "__qualname__", None) or type(cls).__qualname__
    ref = f"{module}:{qualname}"
    if module in ("__main__", "__mp_main__"):
        return ref, "it is defined in __main__, a script or a notebook"
    if "<locals>" in qualname:
        return ref, "it is defined inside a function"
    try:
        found = sys.modules[module] if module in sys.modules else importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except Exception:
        found = None
    if found is not cls:
        return ref, f"{ref} does not name it (was it made dynamically?)"
    return ref, None


def _import(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module.strip())
    if attr.strip():
        for part in attr.strip().split("."):
            obj = getattr(obj, part)
    return obj


def _dist_name(ep: metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "?"
    try:
        return str(dist.name or dist.metadata["Name"])
    except Exception:
        return "?"


def registrations() -> list[Registration]:
    """Every in-process registration of the task and model registries of this process (none for a registry
    whose package is not imported yet), for :func:`restore` in a worker process."""
    out: list[Registration] = []
    for group, module in OWNERS.items():
        owner = sys.modules.get(module)
        reg = getattr(owner, "registry", None)
        if isinstance(reg, Registry):
            out += [r for r in reg.registrations() if r.group == group]
    return out


def restore(items: Iterable[Registration]) -> None:
    """Register ``items`` (from :func:`registrations` in the parent process) in this process's task and model
    registries; call it once in each worker before it runs a trial. Never raises (see
    :meth:`Registry.restore`)."""
    items = list(items)
    for group, module in OWNERS.items():
        mine = [r for r in items if r.group == group]
        if mine:
            importlib.import_module(module).registry.restore(mine)

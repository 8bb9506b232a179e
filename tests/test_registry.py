"""The registry: lazy entry-point discovery, entries checked on loading, broken entries and name clashes
reported per entry (never fatal, never a silent win), in-process registration."""

import dataclasses
import sys
import types
from importlib.metadata import EntryPoint

import pytest

from lstm97 import registry as registry_module
from lstm97.errors import UserError
from lstm97.models import ModelSpec
from lstm97.models.lstm import LSTM
from lstm97.params import Param
from lstm97.registry import Registry
from lstm97.tasks import Task
from lstm97.tasks.adding import Adding

ADDING = "lstm97.tasks.adding:Adding"


def fake_entry_points(monkeypatch, items):
    """Replace the installed entry points by ``items``: (name, value) or (name, value, distribution)."""
    calls = []

    def entry_points(group):
        calls.append(group)
        out = []
        for name, value, *dist in items:
            if dist:
                out.append(types.SimpleNamespace(name=name, value=value, dist=types.SimpleNamespace(name=dist[0])))
            else:
                out.append(EntryPoint(name, value, group))
        return out

    monkeypatch.setattr(registry_module.metadata, "entry_points", entry_points)
    return calls


def fake_module(monkeypatch, name, **attrs):
    """An importable module ``name`` holding ``attrs``."""
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)
    return module


def task_registry():
    return Registry("task", "lstm97.tasks", {"adding": ADDING})


def spec(**changes):
    return dataclasses.replace(Adding.spec, **{"name": "plugin-task", **changes})


# -- discovery ------------------------------------------------------------------------------------------------
def test_plugins_are_discovered_lazily(monkeypatch):
    calls = fake_entry_points(monkeypatch, [("adding2", ADDING)])
    reg = task_registry()
    assert calls == []  # nothing happens at construction (import) time
    assert reg.names() == ["adding", "adding2"]
    assert calls == ["lstm97.tasks"]
    assert reg.get("adding2").spec.name == "adding"


def test_the_same_plugin_seen_twice_is_one_entry(monkeypatch):
    fake_entry_points(monkeypatch, [("adding2", ADDING, "p"), ("adding2", ADDING, "p"), ("adding", ADDING, "p")])
    reg = task_registry()
    assert reg.names() == ["adding", "adding2"] and [e.name for e in reg.entries()] == ["adding", "adding2"]


def test_entry_point_extras_are_ignored(monkeypatch):
    fake_entry_points(monkeypatch, [("adding2", f"{ADDING} [fast]", "p")])
    assert task_registry().get("adding2") is Adding


def test_unreadable_entry_points_are_reported(monkeypatch):
    def entry_points(group):
        raise OSError("corrupt metadata")

    monkeypatch.setattr(registry_module.metadata, "entry_points", entry_points)
    reg = task_registry()
    assert reg.get("adding") is Adding
    (bad,) = [e for e in reg.entries() if e.error]
    assert "cannot read the installed entry points" in bad.error and "corrupt metadata" in bad.error


# -- broken entries ---------------------------------------------------------------------------------------------
def make_task():
    return Adding()


class NotATask:
    spec = Adding.spec


class NoSpec(Task):
    pass


def broken_classes():
    """(attribute, object, words of its error): every way an imported entry can break the contract."""

    def sub(name, **attrs):
        return type(name, (Adding,), attrs)

    return [
        ("a function", make_task, "is a function, not a class"),
        ("an instance", Adding(), "is an instance of Adding, not a class"),
        ("not a task", NotATask, "is not a subclass of lstm97.tasks.Task"),
        ("a model", LSTM, "is not a subclass of lstm97.tasks.Task"),
        ("no spec", NoSpec, "has no spec: declare the class attribute spec = TaskSpec("),
        (
            "spec of a model",
            sub("M", spec=ModelSpec("m", "t", "p", ())),
            "spec is a ModelSpec, not a lstm97.tasks.TaskSpec",
        ),
        ("spec a dict", sub("D", spec={"name": "x"}), "spec is a dict"),
        ("no name", sub("N", spec=spec(name="")), "spec.name must be a non-empty string"),
        ("name None", sub("N2", spec=spec(name=None)), "spec.name must be a non-empty string"),
        (
            "params a dict",
            sub("P", spec=spec(params={"T": 100})),
            "spec.params must be a tuple of lstm97.params.Param, got a dict",
        ),
        (
            "params strings",
            sub("S", spec=spec(params=("T", "first_pair_value"))),
            "spec.params[0] is a str ('T'), not a lstm97.params.Param",
        ),
        ("params twice", sub("T2", spec=spec(params=(Adding.spec.params[0],) * 2)), "declares 'T' twice"),
        ("bad default", sub("B", spec=spec(params=(Param("T", "int", 5, "d", low=20),))), "(T): its default or bounds"),
        (
            "bad bounds",
            sub("B2", spec=spec(params=(Param("T", "int", 5, "d", low="x"),))),
            "(T): its default or bounds",
        ),
        ("bad version", sub("V", spec=spec(version="2")), "spec.version must be a positive int"),
        ("bad defaults", sub("PD", paper_defaults={"lstm": 3}), "paper_defaults must map model names to dicts"),
    ]


@pytest.mark.parametrize("what, obj, words", broken_classes(), ids=[b[0] for b in broken_classes()])
def test_a_malformed_plugin_is_broken_with_a_clear_error(monkeypatch, what, obj, words):
    fake_module(monkeypatch, "bad_plugin", Thing=obj)
    fake_entry_points(monkeypatch, [("bad", "bad_plugin:Thing", "bad-dist"), ("zz-good", ADDING, "good-dist")])
    reg = task_registry()
    errors = {e.name: e.error for e in reg.entries()}
    assert words in errors["bad"], errors["bad"]
    assert errors["adding"] is None and errors["zz-good"] is None  # the others still load
    with pytest.raises(UserError) as info:
        reg.get("bad")
    message = str(info.value)
    assert words in message and "from the distribution bad-dist" in message
    assert "entry point 'bad = bad_plugin:Thing'" in message and "pip uninstall bad-dist" in message
    assert "bad" not in reg.names() and "zz-good" in reg.names()


def test_import_failures_of_every_kind_are_caught(monkeypatch, tmp_path):
    (tmp_path / "exits_on_import.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "fails_on_import.py").write_text("raise RuntimeError('no GPU here')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fake_module(monkeypatch, "bad_plugin")
    fake_entry_points(
        monkeypatch,
        [
            ("a", "exits_on_import:Task"),
            ("b", "fails_on_import:Task"),
            ("c", "no_such_module:Task"),
            ("d", "bad_plugin:Missing"),
            ("e", "bad_plugin"),
            ("f", "lstm97.tasks.adding:Adding.nope"),
        ],
    )
    errors = {e.name: e.error for e in task_registry().entries()}
    assert errors["a"] == "SystemExit: 3"
    assert errors["b"] == "RuntimeError: no GPU here"
    assert errors["c"].startswith("ModuleNotFoundError")
    assert errors["d"].startswith("AttributeError")
    assert "is a module, not a class" in errors["e"]
    assert errors["f"].startswith("AttributeError") and errors["adding"] is None


def test_a_model_group_checks_for_models(monkeypatch):
    fake_module(monkeypatch, "bad_plugin", Thing=Adding)
    fake_entry_points(monkeypatch, [("bad", "bad_plugin:Thing", "bad-dist")])
    reg = Registry("model", "lstm97.models", {"lstm": "lstm97.models.lstm:LSTM"})
    with pytest.raises(UserError, match="class Adding is not a subclass of lstm97.models.Model"):
        reg.get("bad")
    assert reg.get("lstm") is LSTM


def test_every_built_in_passes_the_checks_on_loading():
    from lstm97 import models, tasks

    for reg in (tasks.registry, models.registry):
        for entry in reg.entries():
            if entry.source == "lstm97":
                assert entry.error is None, (entry.name, entry.error)


# -- name clashes ---------------------------------------------------------------------------------------------
def test_a_clash_with_a_built_in_is_an_error_of_both(monkeypatch):
    fake_module(monkeypatch, "other_module", Adding=type("Adding", (Adding,), {}))
    fake_entry_points(monkeypatch, [("adding", "other_module:Adding", "my-plugin")])
    reg = task_registry()
    both = [e for e in reg.entries() if e.name == "adding"]
    assert sorted(e.source for e in both) == ["lstm97", "my-plugin"]
    for e in both:
        assert e.error.startswith(
            "name clash: task 'adding' is provided by lstm97.tasks.adding:Adding from lstm97 "
            "(built in) and by other_module:Adding from the distribution my-plugin"
        )
        assert "'pip uninstall my-plugin'" in e.error
    assert "adding" not in reg.names()
    with pytest.raises(UserError, match="task 'adding' cannot be used: name clash.*neither is used: uninstall one"):
        reg.get("adding")


def test_a_clash_between_two_plugins_names_both(monkeypatch):
    fake_module(monkeypatch, "one", T=Adding)
    fake_module(monkeypatch, "two", T=type("T", (Adding,), {}))
    fake_entry_points(monkeypatch, [("mine", "one:T", "plugin-one"), ("mine", "two:T", "plugin-two")])
    reg = task_registry()
    with pytest.raises(UserError) as info:
        reg.get("mine")
    message = str(info.value)
    assert "one:T from the distribution plugin-one and by two:T from the distribution plugin-two" in message
    assert "'pip uninstall plugin-one' or 'pip uninstall plugin-two'" in message
    assert len([e for e in reg.entries() if e.name == "mine"]) == 2 and reg.get("adding") is Adding


# -- in-process registration ------------------------------------------------------------------------------------
class Registered(Adding):
    spec = dataclasses.replace(Adding.spec, name="registered")


def test_register_rejects_a_taken_name():
    reg = task_registry()
    with pytest.raises(ValueError, match="already registered: lstm97.tasks.adding:Adding from lstm97"):
        reg.register("adding", "x:y")
    with pytest.raises(UserError, match="non-empty string"):
        reg.register("", Registered)


def test_register_records_the_reference_and_is_repeatable():
    reg = task_registry()
    reg.register("registered", Registered)
    reg.register("registered", Registered)  # again (a notebook cell run twice): no error
    reg.register("adding", Adding)  # the class the built-in already provides: a no-op
    entry = reg.entry("registered")
    assert entry.target == "test_registry:Registered" or entry.target.endswith(".test_registry:Registered")
    assert entry.registered and entry.unportable is None and reg.get("registered") is Registered
    assert reg.provenance("registered") == ("user", "")
    assert [r.name for r in reg.registrations()] == ["registered"]


def test_register_checks_the_class_when_it_is_used():
    reg = task_registry()
    reg.register("no-spec", NoSpec)
    assert "no-spec" in reg.names()  # not loaded yet
    with pytest.raises(UserError, match="registered in-process as .*NoSpec is broken: class NoSpec has no spec"):
        reg.get("no-spec")
    assert "no-spec" not in reg.names()


def test_register_finds_a_clash_with_a_plugin(monkeypatch):
    fake_entry_points(monkeypatch, [("registered", ADDING, "a-plugin")])
    reg = task_registry()
    with pytest.raises(
        UserError, match="already registered: lstm97.tasks.adding:Adding from the distribution a-plugin"
    ):
        reg.register("registered", Registered)

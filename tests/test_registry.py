"""Plugin discovery through entry points: lazy, clashes reported, broken plugins listed but not fatal."""

from importlib.metadata import EntryPoint

import pytest
from click.testing import CliRunner

from lstm97 import registry as registry_module
from lstm97 import tasks
from lstm97.cli import main
from lstm97.errors import UserError
from lstm97.registry import Registry


def fake_entry_points(monkeypatch, items):
    calls = []

    def entry_points(group):
        calls.append(group)
        return [EntryPoint(name, value, group) for name, value in items]

    monkeypatch.setattr(registry_module.metadata, "entry_points", entry_points)
    return calls


def test_plugins_are_discovered_lazily(monkeypatch):
    calls = fake_entry_points(monkeypatch, [("adding2", "lstm97.tasks.adding:Adding")])
    reg = Registry("task", "lstm97.tasks", {"adding": "lstm97.tasks.adding:Adding"})
    assert calls == []  # nothing happens at construction (import) time
    assert reg.names() == ["adding", "adding2"]
    assert calls == ["lstm97.tasks"]
    assert reg.get("adding2").spec.name == "adding"


def test_broken_and_clashing_plugins_are_reported(monkeypatch):
    fake_entry_points(monkeypatch, [("broken", "no_such_module:Task"), ("adding", "other.module:Adding")])
    reg = Registry("task", "lstm97.tasks", {"adding": "lstm97.tasks.adding:Adding"})
    errors = {e.name: e.error for e in reg.entries() if e.error}
    assert "ModuleNotFoundError" in errors["broken"]
    assert "name clash" in errors["adding"]
    assert reg.get("adding").__module__ == "lstm97.tasks.adding"  # the built-in wins
    with pytest.raises(UserError, match="failed to load"):
        reg.get("broken")


def test_register_rejects_duplicates():
    reg = Registry("task", "lstm97.tasks", {"adding": "lstm97.tasks.adding:Adding"})
    with pytest.raises(ValueError, match="already registered"):
        reg.register("adding", "x:y")


def test_cli_lists_broken_plugin(monkeypatch):
    fake_entry_points(monkeypatch, [("broken", "no_such_module:Task")])
    monkeypatch.setattr(tasks, "registry", Registry("task", "lstm97.tasks",
                                                    {"adding": "lstm97.tasks.adding:Adding"}))
    res = CliRunner().invoke(main, ["tasks"])
    assert res.exit_code == 0
    assert "broken" in res.output and "BROKEN" in res.output and "adding" in res.output

"""``lstm97 tasks`` / ``lstm97 models`` with broken, clashing and in-process plugins, and the detail views
``lstm97 tasks NAME`` / ``lstm97 models NAME [--task TASK]``, through click's CliRunner."""

import dataclasses
import sys
import types

import pytest
from click.testing import CliRunner

from lstm97 import registry as registry_module
from lstm97 import tasks
from lstm97.cli import main
from lstm97.params import Param
from lstm97.tasks import Task
from lstm97.tasks.adding import Adding


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def fake_entry_points(monkeypatch, items):
    """Replace the installed entry points of lstm97's groups by ``items``: (name, value, distribution); other
    groups (numba's extensions) are left as they are."""
    real = registry_module.metadata.entry_points

    def entry_points(group=None, **kwargs):
        if group not in ("lstm97.tasks", "lstm97.models"):
            return real(**kwargs) if group is None else real(group=group, **kwargs)
        return [types.SimpleNamespace(name=n, value=v, dist=types.SimpleNamespace(name=d)) for n, v, d in items]

    monkeypatch.setattr(registry_module.metadata, "entry_points", entry_points)


def fake_module(monkeypatch, name, **attrs):
    """An importable module ``name`` holding ``attrs``."""
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)


def make_task():
    return Adding()


class NoSpec(Task):
    pass


class BadParams(Adding):
    spec = dataclasses.replace(Adding.spec, name="bad-params", params=("T", "first_pair_value"))


def test_broken_plugins_are_listed_and_never_hide_the_others(fresh, monkeypatch):
    fake_module(
        monkeypatch,
        "broken_plugin",
        make_task=make_task,
        NoSpec=NoSpec,
        BadParams=BadParams,
        Other=type("Other", (Adding,), {}),
    )
    fake_entry_points(
        monkeypatch,
        [
            ("a-function", "broken_plugin:make_task", "plugin-a"),
            ("a-missing-module", "no_such_module:Task", "plugin-b"),
            ("adding", "broken_plugin:Other", "plugin-c"),
            ("b-no-spec", "broken_plugin:NoSpec", "plugin-d"),
            ("b-params", "broken_plugin:BadParams", "plugin-e"),
            ("zz-fine", "lstm97.tasks.adding:Adding", "plugin-f"),
        ],
    )
    res = invoke("tasks")
    assert res.exit_code == 0, res.output
    out = res.output
    for words in (
        "a-function  [from plugin-a]  BROKEN: task 'a-function' from the distribution plugin-a",
        "is a function, not a class",
        "a-missing-module  [from plugin-b]  BROKEN:",
        "ModuleNotFoundError",
        "adding  BROKEN: task 'adding' cannot be used: name clash",
        "adding  [from plugin-c]  BROKEN:",
        "b-no-spec  [from plugin-d]  BROKEN:",
        "has no spec",
        "b-params  [from plugin-e]  BROKEN:",
        "spec.params[0] is a str ('T')",
        "pip uninstall plugin-e",
        "zz-fine (spec name 'adding')  [from plugin-f]: Adding problem",
        "temporal-order: Temporal order",
        "6 broken task entries",
    ):
        assert words in out, (words, out)
    assert "Traceback" not in out
    assert out.index("zz-fine") > out.index("b-params")  # entries after the broken ones are still listed


def test_a_plugin_that_cannot_be_described_is_listed_as_broken(fresh, monkeypatch):
    class Odd(Adding):
        spec = dataclasses.replace(Adding.spec, name="odd", params=(Param("T", "int", 100, "d", low=20),))

    def explode(self):
        raise RuntimeError("cannot describe")

    monkeypatch.setattr(Param, "describe", explode)
    tasks.registry.register("odd", Odd)
    res = invoke("tasks")
    assert res.exit_code == 0, res.output
    assert "odd  [registered in-process]  BROKEN:" in res.output


def test_broken_models_are_listed(fresh, monkeypatch):
    fake_module(monkeypatch, "broken_plugin", Adding=Adding)
    fake_entry_points(monkeypatch, [("a-task-as-model", "broken_plugin:Adding", "plugin-m")])
    res = invoke("models")
    assert res.exit_code == 0, res.output
    assert "a-task-as-model  [from plugin-m]  BROKEN:" in res.output
    assert "is not a subclass of lstm97.models.Model" in res.output and "lstm: LSTM (1997)" in res.output


def test_a_broken_entry_named_on_the_command_line_is_one_line_and_exit_2(fresh, monkeypatch):
    fake_module(monkeypatch, "broken_plugin", BadParams=BadParams)
    fake_entry_points(monkeypatch, [("b-params", "broken_plugin:BadParams", "plugin-e")])
    for args in (["tasks", "b-params"], ["run", "b-params", "--trials", "1"], ["sample", "b-params", "--out", "x"]):
        res = invoke(*args)
        assert res.exit_code == 2, res.output
        assert res.output.startswith(
            "Error: task 'b-params' from the distribution plugin-e (entry point "
            "'b-params = broken_plugin:BadParams' in group lstm97.tasks) is broken: "
        )
        assert "To fix: fix the plugin, or uninstall it: pip uninstall plugin-e." in res.output
        assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output


def test_an_in_process_registration_is_listed_under_its_registry_name(fresh):
    tasks.registry.register("my-adding", Adding)
    res = invoke("tasks")
    assert res.exit_code == 0
    assert "my-adding (spec name 'adding')  [registered in-process]: Adding problem" in res.output


# -- one entry in detail --------------------------------------------------------------------------------------
def test_task_detail():
    res = invoke("tasks", "adding", "-p", "T=200")
    assert res.exit_code == 0, res.output
    out = res.output
    for words in (
        "adding: Adding problem (Exp 4)",
        "class lstm97.tasks.adding:Adding, version 1; 2 inputs, 1 output",
        "targets in [",
        "correct: |target - output| < 0.04 at every target step and output",
        "T = 200",
        "(default 100)",
        "first_pair_value = 'zero'",
        "stop: ST3(0.01): holds after the training sequence at which all of the 2,000 most recent training "
        "sequences were correct and their mean error is below 0.01",
        "budget: 5,000,000 training sequences",
        "final test: 2,560 fresh sequences",
        "paper defaults per model:",
        "lstm: blocks=2, block_size=2",
    ):
        assert words in out, (words, out)
    lo, hi = (float(v) for v in out.split("targets in [")[1].split("]")[0].split(","))
    assert 0.0 <= lo < hi <= 1.0


def test_task_detail_with_eval_rules_and_milestones():
    out = invoke("tasks", "two-sequence").output
    assert "milestone: ST1: checked every 1,000 training sequences on the fixed eval set: at most 0 wrong" in out
    assert "stop: ST2:" in out and "mean absolute error below" in out
    assert "evaluation set: 256 sequences drawn once per trial" in out and "correct: TwoSequence.correct" in out
    out = invoke("tasks", "long-lag").output
    assert "on 10,000 fresh sequences" in out and "rtrl: " in out and "lstm: " in out
    out = invoke("tasks", "reber").output
    assert "training: exemplars drawn at random from a fixed set of" in out


def test_model_detail_with_a_tasks_paper_defaults():
    res = invoke("models", "rtrl", "--task", "long-lag")
    assert res.exit_code == 0, res.output
    out = res.output
    header = "hyperparameters on long-lag(p=100, variant=a, check_every=100, success=frozen) (its paper defaults over"
    assert header in out
    assert "hidden = 1 " in out and "[long-lag's paper default; declared 3]" in out
    assert "update = 'step'" in out and "10,404 weights for long-lag(p=100" in out
    out = invoke("models", "rtrl", "--task", "long-lag", "-p", "p=4").output
    assert "36 weights for long-lag(p=4" in out
    out = invoke("models", "rtrl").output
    assert "hidden = 3 " in out and "paper default" not in out and "weights for" not in out


def test_model_detail_reports_a_model_too_large_to_build(monkeypatch):
    monkeypatch.setenv("LSTM97_MAX_MEMORY", "1000")
    res = invoke("models", "lstm", "--task", "adding")
    assert res.exit_code == 0 and "cannot be built for adding" in res.output


@pytest.mark.parametrize(
    "args, words",
    [
        (["tasks", "addng"], "unknown task 'addng'. Did you mean 'adding'?"),
        (["models", "lstn"], "unknown model 'lstn'. Did you mean 'lstm'?"),
        (["models", "lstm", "--task", "addng"], "unknown task 'addng'. Did you mean 'adding'?"),
        (["tasks", "adding", "-p", "X=1"], "unknown parameter of task 'adding' 'X'"),
        (["tasks", "-p", "T=1"], "-p/--param needs a task"),
        (["models", "--task", "adding"], "--task and -p/--param need a model"),
        (["models", "lstm", "-p", "T=1"], "give the task with --task TASK"),
    ],
)
def test_detail_mistakes_are_one_line_and_exit_2(args, words):
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    assert words in res.output and len(res.output.strip().splitlines()) == 1


def test_every_other_command_works_beside_broken_plugins(fresh, monkeypatch, tmp_path):
    """With broken task and model plugins installed, running, listing, checking and reporting still work."""
    fake_module(monkeypatch, "broken_plugin2", make_task=make_task, NoSpec=NoSpec, BadParams=BadParams)
    fake_entry_points(
        monkeypatch,
        [
            ("a-function", "broken_plugin2:make_task", "plugin-a"),
            ("b-params", "broken_plugin2:BadParams", "plugin-e"),
            ("a-missing-module", "no_such_module:Task", "plugin-b"),
        ],
    )
    store = str(tmp_path / "s.sqlite")
    for args in (
        ["tasks"],
        ["models"],
        ["run", "temporal-order", "--trials", "1", "--jobs", "1", "--max-sequences", "500", "--store", store],
        ["results", "--store", store],
        ["check", "latch"],
        ["report", "--store", store, "--out", str(tmp_path / "r"), "--no-figures"],
        ["reproduce", "--list"],
    ):
        res = invoke(*args)
        assert res.exit_code == 0, (args, res.output)
        assert "Traceback" not in res.output

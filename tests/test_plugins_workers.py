"""In-process registrations reach worker processes (``registry.registrations`` in the parent, ``registry.restore``
in each spawned worker), and a class that cannot be imported by reference gives a clear error there."""

import dataclasses
import inspect
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from lstm97 import models, registry, tasks
from lstm97.errors import UserError
from lstm97.registry import Registration
from lstm97.tasks.adding import Adding


class WorkerTask(Adding):
    """A task registered in-process by the tests (importable by reference: test_plugins_workers:WorkerTask)."""

    spec = dataclasses.replace(Adding.spec, name="worker-task")


def in_worker(name: str) -> str:
    """Run in a spawned worker: the class registered under ``name`` there, or the UserError it gives."""
    try:
        cls = tasks.get(name)
    except UserError as exc:
        return f"UserError: {exc}"
    batch = tasks.make(name).sample(np.random.default_rng(0), 2)
    return f"{cls.__module__}:{cls.__qualname__} {len(batch)}"


def spawned(items, *names):
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=registry.restore, initargs=(items,)) as pool:
        return [pool.submit(in_worker, n).result() for n in names]


def test_registrations_record_module_and_class(fresh):
    tasks.registry.register("worker-task", WorkerTask)
    (r,) = registry.registrations()
    assert r == Registration("lstm97.tasks", "worker-task", f"{WorkerTask.__module__}:WorkerTask", "user", None)


def test_a_registered_class_reaches_a_spawned_worker(fresh):
    tasks.registry.register("worker-task", WorkerTask)

    def local_task():  # a class defined inside a function
        class Local(Adding):
            spec = dataclasses.replace(Adding.spec, name="local")

        return Local

    tasks.registry.register("local", local_task())
    main = type("Scripted", (Adding,), {"spec": dataclasses.replace(Adding.spec, name="scripted")})
    main.__module__ = "__main__"
    tasks.registry.register("scripted", main)
    tasks.registry.register("dynamic", type("Dynamic", (Adding,), {}))  # bound to no module attribute
    items = registry.registrations()
    assert [r.name for r in items] == ["worker-task", "local", "scripted", "dynamic"]
    assert [r.unportable is None for r in items] == [True, False, False, False]
    good, local, scripted, dynamic, adding = spawned(items, "worker-task", "local", "scripted", "dynamic", "adding")
    assert good == f"{WorkerTask.__module__}:WorkerTask 2" and adding == "lstm97.tasks.adding:Adding 2"
    for text, why in (
        (local, "it is defined inside a function"),
        (scripted, "it is defined in __main__"),
        (dynamic, "does not name it"),
    ):
        assert text.startswith("UserError: task ") and "cannot be used in this worker process" in text
        assert why in text and "or run with jobs=1" in text
    assert tasks.registry.get("local").spec.name == "local"  # in the parent process every one still works


def test_restore_is_idempotent_and_never_raises(fresh):
    tasks.registry.register("worker-task", WorkerTask)
    items = registry.registrations()
    registry.restore(items)  # in the process that registered them: nothing changes
    registry.restore(items)
    assert tasks.registry.get("worker-task") is WorkerTask
    clash = [
        Registration("lstm97.tasks", "worker-task", "elsewhere:Other"),
        Registration("lstm97.models", "my-model", "lstm97.models.lstm:LSTM"),
    ]
    registry.restore(clash)  # another target under a taken name: a clash of both, not an exception
    with pytest.raises(UserError, match="name clash: task 'worker-task'"):
        tasks.registry.get("worker-task")
    assert models.registry.get("my-model").spec.name == "lstm"


def test_registrations_skip_registries_not_imported(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "lstm97.models")
    assert all(r.group != "lstm97.models" for r in registry.registrations())


@pytest.mark.skipif(
    "registrations" not in inspect.getsource(__import__("lstm97.runners.sweep").runners.sweep),
    reason="lstm97.runners.sweep does not pass registry.registrations() to its workers yet",
)
def test_a_registered_task_runs_in_a_worker_pool(fresh, tmp_path):
    import lstm97

    tasks.registry.register("worker-task", WorkerTask)
    df = lstm97.run("worker-task", {"T": 20}, trials=2, jobs=2, max_sequences=50, store=tmp_path / "s.sqlite")
    assert list(df["seed"]) == [0, 1] and set(df["task"]) == {"worker-task"}

"""The lstm97 contract as pytest tests, one test per check, for a plugin's own test suite.

Copy this file into your plugin's tests (e.g. ``tests/test_lstm97_contract.py``), with your names::

    from lstm97.testing import contract_test

    # every check of the task "my-task", and of the models its paper_defaults name, on it
    test_my_task = contract_test(tasks=["my-task"])
    # every check of the model "my-model" on every registered task (or on=["adding", ("long-lag", {"p": 4})])
    test_my_model = contract_test(models=["my-model"])

``pytest`` then collects one test per check, with ids such as ``my-task/chunk-invariance`` or
``my-model@adding/no-learning-into-self``; a failure is a :class:`~lstm97.checks.ContractError` whose message
says what is wrong and what to fix, and a check that does not apply is skipped with the reason. The names are
those your plugin registers (entry points ``lstm97.tasks`` / ``lstm97.models`` in its ``pyproject.toml``, or
``lstm97.tasks.registry.register("my-task", MyTask)`` in a ``conftest.py``). Give parameters as
``(name, params)``: ``contract_test(tasks=[("my-task", {"T": 20})], models=[("my-model", {"units": 3})])``.

To parametrise a test of your own instead (the same checks, not yet run)::

    import pytest
    from lstm97.testing import cases, run

    @pytest.mark.parametrize("check", cases(tasks=["my-task"], models=["my-model"]), ids=str)
    def test_contract(check):
        run(check)

and to check everything in one call (raises one ContractError listing every failure)::

    from lstm97.testing import check_all
    check_all(tasks=["my-task"], models=["my-model"])

The same checks run from the command line: ``lstm97 check my-task`` (see ``lstm97 check --help``). For a task
or model you have not registered, call :func:`lstm97.checks.check_task` / :func:`lstm97.checks.check_model` on
instances (their end-to-end trial is then skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .checks import Check, ContractError, Item, Skipped, named_checks, run_checks

__all__ = ["cases", "check_all", "contract_test", "run"]


def cases(
    tasks: Iterable[Item] = (), models: Iterable[Item] | None = None, on: Iterable[Item] | None = None
) -> list[Check]:
    """The checks of the named tasks and models (see :func:`lstm97.checks.named_checks` for the arguments),
    not yet run; ``str(check)`` is its id, e.g. ``my-task/batch``."""
    return named_checks(tasks=tasks, models=models, on=on)


def run(check: Check) -> None:
    """Run one check in a pytest test: a failure raises ContractError, a check that does not apply skips."""
    __tracebackhide__ = True
    try:
        check()
    except Skipped as exc:
        import pytest

        pytest.skip(str(exc))


def contract_test(
    tasks: Iterable[Item] = (), models: Iterable[Item] | None = None, on: Iterable[Item] | None = None
) -> Callable[[Check], None]:
    """A pytest test function parametrised over every check of the named tasks and models: assign it to a
    module-level name starting with ``test`` (``test_my_task = contract_test(tasks=["my-task"])``)."""
    import pytest

    checks = cases(tasks=tasks, models=models, on=on)

    @pytest.mark.parametrize("check", checks, ids=[c.id for c in checks])
    def test_contract(check: Check) -> None:
        run(check)

    return test_contract


def check_all(
    tasks: Iterable[Item] = (), models: Iterable[Item] | None = None, on: Iterable[Item] | None = None
) -> None:
    """Run every check of the named tasks and models; raise one ContractError listing every failure."""
    failures = [o.line for o in run_checks(cases(tasks=tasks, models=models, on=on)) if o.status == "FAIL"]
    if failures:
        raise ContractError(f"{len(failures)} contract check(s) failed:\n" + "\n".join(failures))

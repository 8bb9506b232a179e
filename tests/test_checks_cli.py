"""The contract from the command line (``lstm97 check``) and as pytest tests (lstm97.testing), including the
copy-paste examples of lstm97.testing's docstring, run as a plugin author's test file."""

from __future__ import annotations

import re
import textwrap

import pytest
from click.testing import CliRunner
from test_checks_models import Linear, WeightsOnSelf
from test_checks_tasks import TimeMajor, Tiny

import lstm97.testing
from lstm97 import models, tasks
from lstm97.checks import Check, ContractError, Skipped
from lstm97.cli import main
from lstm97.errors import UserError
from lstm97.testing import cases, check_all, contract_test, run

pytest_plugins = ["pytester"]


@pytest.fixture
def register(monkeypatch):
    """``register(registry, name, cls)`` for this test only: the registry's entries are restored afterwards."""

    def add(registry, name, cls):
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
        registry.register(name, cls)

    return add


class OneOutputOnly(Linear):
    """Refuses tasks with more than one output, as a model may (a UserError from its constructor)."""

    def validate(self):
        if self.n_out != 1:
            raise UserError("this model has one output unit; use a task with one output.")


def check(*args):
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.output.splitlines()


# -- lstm97 check ---------------------------------------------------------------------------------------------
def test_check_a_task():
    code, lines = check("adding")
    assert code == 0, lines
    assert "ok adding/spec" in lines and "ok adding/chunk-invariance" in lines and "ok lstm@adding/trial" in lines
    assert all(re.fullmatch(r"ok \S+", line) for line in lines[:-1]), lines
    assert re.fullmatch(r"\d+ checks: \d+ ok, 0 failed, 0 skipped", lines[-1])


def test_check_a_model_on_every_task():
    code, lines = check("rtrl")
    assert code == 0
    for task in tasks.names():
        if tasks.get(task).requires:  # rtrl lacks what the task requires (e.g. softmax outputs): it refuses it
            assert any(line.startswith(f"skip rtrl@{task}/build") for line in lines), task
            continue
        assert f"ok rtrl@{task}/chunk-invariance" in lines and f"ok rtrl@{task}/trial" in lines
    assert not any(line.startswith("ok adding/") for line in lines)  # the tasks' own checks are not repeated


def test_check_a_model_on_a_task_with_parameters():
    code, lines = check("--task", "long-lag", "-p", "p=4", "--model", "rnn-bptt", "--hp", "truncate=2")
    assert code == 0
    assert "ok long-lag/batch" in lines and "ok rnn-bptt@long-lag/trial" in lines
    assert not any("@" in line and "rnn-bptt@" not in line for line in lines[:-1])


@pytest.mark.parametrize(
    "args,message",
    [
        (["addng"], "unknown task or model 'addng'. Did you mean 'adding'?"),
        (["--task", "adding", "--model", "lsmt"], "unknown model 'lsmt'. Did you mean 'lstm'?"),
        (["adding", "--model", "lstm"], "give a NAME, or --task and/or --model, not both"),
        ([], "name a task or model to check"),
        (["lstm", "-p", "T=20"], "-p/--param sets task parameters"),
        (["adding", "--hp", "lr=1"], "--hp sets model hyperparameters"),
        (["adding", "-p", "T=1"], "parameter T='1' is out of range"),
    ],
)
def test_mistakes_exit_2(args, message):
    result = CliRunner().invoke(main, ["check", *args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_a_broken_task_fails_with_exit_1(register):
    register(tasks.registry, "tiny-time-major", TimeMajor)
    code, lines = check("tiny-time-major")
    assert code == 1
    fails = [line for line in lines if line.startswith("FAIL")]
    assert fails[0].startswith("FAIL tiny-time-major/batch: task TimeMajor.sample(rng, 7) built a SequenceBatch")
    assert "time-major" in fails[0]
    assert "ok tiny-time-major/spec" in lines and "ok tiny-time-major/protocol" in lines
    assert "skip tiny-time-major/chunk-invariance: not run: tiny-time-major/determinism did not pass" in lines
    assert all(re.fullmatch(r"(ok \S+|(FAIL|skip) \S+: .+)", line) for line in lines[:-1])


def test_a_broken_model_fails_with_exit_1(register):
    register(models.registry, "self-test", WeightsOnSelf)
    code, lines = check("--task", "adding", "-p", "T=20", "--model", "self-test")
    assert code == 1
    assert [line.split(":")[0] for line in lines if line.startswith("FAIL")] == [
        "FAIL self-test@adding/no-learning-into-self"
    ]


def test_a_model_that_refuses_some_tasks_is_skipped_there(register):
    register(models.registry, "one-output", OneOutputOnly)
    code, lines = check("one-output")
    assert code == 0
    assert "skip one-output@reber/build: the model refuses this task: this model has one output unit" in " ".join(lines)
    assert "ok one-output@adding/trial" in lines


def test_a_registered_plugin_task_with_its_paper_models(register):
    register(tasks.registry, "tiny", Tiny)
    code, lines = check("tiny")
    assert code == 0 and "ok lstm@tiny/trial" in lines  # Tiny's paper_defaults name the LSTM


# -- lstm97.testing -------------------------------------------------------------------------------------------
def test_cases_are_checks_named_by_id():
    found = cases(tasks=[("adding", {"T": 20})], models=["lstm"])
    assert all(isinstance(c, Check) for c in found)
    ids = [str(c) for c in found]
    assert ids[0] == "adding/spec" and "lstm@adding/no-learning-into-self" in ids and ids[-1] == "lstm@adding/trial"
    assert not any("@" in c.id for c in cases(tasks=["adding"], models=[]))
    with pytest.raises(UserError, match="Did you mean 'adding'"):
        cases(tasks=["addng"])


def test_contract_test_is_a_parametrised_test_function():
    test = contract_test(tasks=[("adding", {"T": 20})], models=[])
    (mark,) = [m for m in test.pytestmark if m.name == "parametrize"]
    assert mark.args[0] == "check" and "adding/batch" in mark.kwargs["ids"]
    for c in mark.args[1]:
        test(c)


def test_run_skips_a_check_that_does_not_apply():
    def skip():
        raise Skipped("not registered")

    with pytest.raises(pytest.skip.Exception, match="not registered"):
        run(Check("x", "trial", skip))


def test_check_all_lists_every_failure(register):
    check_all(tasks=[("adding", {"T": 20})], models=[])
    register(models.registry, "self-test", WeightsOnSelf)
    with pytest.raises(ContractError) as info:
        check_all(tasks=[("adding", {"T": 20})], models=["self-test"])
    lines = str(info.value).splitlines()
    assert lines[0] == "1 contract check(s) failed:"
    assert lines[1].startswith("FAIL self-test@adding/no-learning-into-self: model WeightsOnSelf learns into self")


def _examples() -> list[str]:
    """The code blocks (after ``::``) of lstm97.testing's docstring."""
    blocks = re.findall(r"::\n\n((?:    .*\n|\n)+)", lstm97.testing.__doc__)
    return [textwrap.dedent(b) for b in blocks]


def test_the_docstring_examples_run_as_a_plugin_authors_tests(pytester, register):
    register(tasks.registry, "my-task", Tiny)
    register(models.registry, "my-model", Linear)
    first, second, third = _examples()
    assert "contract_test" in first and "parametrize" in second and "check_all" in third
    check_everything = f"def test_all():\n{textwrap.indent(third, '    ')}"
    pytester.makepyfile(test_contract=first, test_parametrised=second, test_all=check_everything)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    n_first = len(cases(tasks=["my-task"])) + len(cases(models=["my-model"]))
    n_second = len(cases(tasks=["my-task"], models=["my-model"]))
    refused = sum(1 for t in tasks.names() if tasks.get(t).requires)  # my-model has none of their requirements
    result.assert_outcomes(passed=n_first + n_second + 1 - refused, skipped=refused)


def test_in_pytest_a_failure_skips_the_checks_that_need_it(pytester, register):
    register(tasks.registry, "my-task", TimeMajor)
    pytester.makepyfile(
        'from lstm97.testing import contract_test\n\ntest_my_task = contract_test(tasks=["my-task"], models=[])\n'
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "-rfs")
    result.assert_outcomes(passed=4, failed=1, skipped=5)
    result.stdout.fnmatch_lines(
        [
            "*ContractError: task TimeMajor.sample(rng, 7) built a SequenceBatch that is wrong: inputs has shape "
            "(5, 7, 2), time-major*",
            "*not run: my-task/batch did not pass*",
        ]
    )

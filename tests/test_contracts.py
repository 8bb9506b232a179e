"""Every registered task and model passes the public contract (lstm97.checks), one test per check, through the
same helper plugin authors use (lstm97.testing): every task with its default parameters, every model on every
task with its paper defaults, each model-task pair with a tiny trial through the runner."""

import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.checks import ContractError, check_model, check_task
from lstm97.tasks.adding import Adding
from lstm97.testing import cases, contract_test

test_builtin_contract = contract_test(tasks=tasks.names(), models=models.names())


def test_every_registered_task_and_model_is_checked():
    ids = {c.id for c in cases(tasks=tasks.names(), models=models.names())}
    for task in tasks.names():
        assert f"{task}/chunk-invariance" in ids and f"{task}/paper-defaults" in ids
        needs = tasks.get(task).requires
        for model in models.names():
            # a model that lacks something the task requires (Task.requires) refuses it: a skipped "build" check
            assert f"{model}@{task}/trial" in ids or (needs and f"{model}@{task}/build" in ids)


def test_the_public_functions_pass_the_builtins():
    task = tasks.make("long-lag", p=4)
    check_task(task)
    check_model(models.make("lstm", task), task)


def test_contract_catches_a_chunk_variant_task():
    class Bad(Adding):
        def sample(self, rng, n):
            rng.random()  # randomness drawn per call, not per sequence
            return super().sample(rng, n)

    with pytest.raises(ContractError, match="chunk-invariant"):
        check_task(Bad())


def test_contract_catches_global_rng_use():
    class Global(Adding):
        def sample(self, rng, n):
            np.random.random()
            return super().sample(rng, n)

    with pytest.raises(ContractError, match="global"):
        check_task(Global())

"""Every registered task and model passes the public contract (lstm97.checks)."""

import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.checks import ContractError, check_model, check_task
from lstm97.tasks.adding import Adding


@pytest.mark.parametrize("name", tasks.names())
def test_task_contract(name):
    check_task(tasks.make(name))


@pytest.mark.parametrize("task_name", tasks.names())
@pytest.mark.parametrize("model_name", models.names())
def test_model_contract(task_name, model_name):
    task = tasks.make(task_name)
    check_model(models.make(model_name, task), task)


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

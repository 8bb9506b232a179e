"""Contract checks for plugin authors: run ``check_task`` and ``check_model`` in your own tests.

>>> from lstm97.checks import check_task, check_model
>>> check_task(MyTask())
>>> check_model(lstm97.models.make("lstm", MyTask()), MyTask())
"""

from .models.checks import check_model
from .tasks.checks import ContractError, check_batch, check_task

__all__ = ["ContractError", "check_batch", "check_model", "check_task"]

"""Models: interchangeable learners (PAPER.md §1, §2).

``make(name, task, **hyperparameters)`` builds a model with the task's paper defaults; ``names()`` lists the
registered models. Third-party models register through the entry-point group ``lstm97.models``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..registry import Registry
from .base import ChunkResult, Footprint, Layout, Model, ModelSpec, TrainState

if TYPE_CHECKING:
    from ..tasks import Task

registry = Registry(
    "model",
    "lstm97.models",
    {
        "guess": "lstm97.models.guessing:Guess",
        "elman": "lstm97.models.rnn_bptt:Elman",
        "gru": "lstm97.models.gru:GRU",
        "chunker": "lstm97.models.chunker:Chunker",
        "lstm": "lstm97.models.lstm:LSTM",
        "rcc": "lstm97.models.rcc:RCC",
        "rnn-bptt": "lstm97.models.rnn_bptt:RNNBPTT",
        "rtrl": "lstm97.models.rtrl:RTRL",
    },
)


def get(name: str) -> type[Model]:
    return registry.get(name)


def make(name: str, task: Task, **hp: Any) -> Model:
    """Build model ``name`` for ``task``: the task's paper defaults for it, overridden by ``hp``."""
    return get(name).for_task(task, **hp)


def names() -> list[str]:
    return registry.names()


__all__ = ["ChunkResult", "Footprint", "Layout", "Model", "ModelSpec", "TrainState", "get", "make", "names", "registry"]

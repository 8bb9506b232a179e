"""The model API: :class:`Model` (hyperparameters only), :class:`TrainState` (learned state), flat weights.

Following scikit-learn, a model's constructor only validates and stores hyperparameters; everything learned
lives in a :class:`TrainState` whose weights are one flat float64 vector with named views (:class:`Layout`).
Random guessing refills it, a gradient check perturbs it, the weight count is its size.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..params import Param, resolve

if TYPE_CHECKING:
    from ..tasks import SequenceBatch, Task

#: Status codes returned by kernels (never exceptions inside numba code).
OK = 0
NONFINITE = 1


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    paper: str
    params: tuple[Param, ...]
    version: int = 1


class Layout:
    """Named blocks of a flat weight vector: ``Layout({"W": (3, 4), "b": (3,)})``."""

    def __init__(self, shapes: Mapping[str, tuple[int, ...]]) -> None:
        self.shapes = dict(shapes)
        self.offsets: dict[str, tuple[int, int]] = {}
        pos = 0
        for name, shape in self.shapes.items():
            size = int(np.prod(shape, dtype=np.int64))
            self.offsets[name] = (pos, pos + size)
            pos += size
        self.size = pos

    def views(self, w: np.ndarray) -> dict[str, np.ndarray]:
        """Views (not copies) of ``w`` under each name."""
        if w.shape != (self.size,):
            raise ValueError(f"weight vector has shape {w.shape}, expected ({self.size},)")
        return {n: w[a:b].reshape(self.shapes[n]) for n, (a, b) in self.offsets.items()}


@dataclass
class TrainState:
    """Everything a model learns. ``w`` is the flat weight vector; ``extra`` holds model-specific state."""

    w: np.ndarray
    extra: dict[str, Any] | None = None

    def copy(self) -> TrainState:
        return TrainState(self.w.copy(), copy.deepcopy(self.extra))


@dataclass
class ChunkResult:
    """What one kernel call over a chunk reports.

    ``status`` is OK or NONFINITE; ``n_done`` is the number of sequences completed with finite values (all
    of them when OK); ``outputs`` [n, L, n_out] are the outputs computed while each sequence was processed.
    """

    status: int
    n_done: int
    outputs: np.ndarray


class Model:
    """Base class of every learner. Subclasses set ``spec`` and implement the methods below."""

    spec: ClassVar[ModelSpec]

    def __init__(self, n_in: int, n_out: int, **hp: Any) -> None:
        self.n_in = int(n_in)
        self.n_out = int(n_out)
        self.hp: dict[str, Any] = resolve(self.spec.params, hp, owner=f"model {self.spec.name!r}")
        self.validate()

    @classmethod
    def for_dims(cls, n_in: int, n_out: int, **hp: Any) -> Model:
        return cls(n_in, n_out, **hp)

    @classmethod
    def for_task(cls, task: Task, **overrides: Any) -> Model:
        """The model with the task's paper defaults, then ``overrides`` (validated)."""
        hp = task.model_defaults(cls.spec.name)
        hp.update(overrides)
        return cls(task.n_in, task.n_out, **hp)

    def validate(self) -> None:
        """Check relations between hyperparameters and dimensions (raise UserError)."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def layout(self) -> Layout:
        raise NotImplementedError

    @property
    def n_weights(self) -> int:
        return int(self.free().sum())

    def free(self) -> np.ndarray:
        """Which entries of the flat vector are weights (the rest are structural zeros of absent connections)."""
        return np.ones(self.layout.size, dtype=bool)

    def views(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return self.layout.views(w)

    def check_batch(self, batch: SequenceBatch) -> None:
        """ValueError unless ``batch`` has this model's numbers of inputs and outputs."""
        if batch.n_in != self.n_in or batch.n_out != self.n_out:
            raise ValueError(
                f"batch has {batch.n_in} inputs/{batch.n_out} outputs, model {self.n_in}/{self.n_out}"
            )

    def init_state(self, rng: np.random.Generator) -> TrainState:
        raise NotImplementedError

    def train_chunk(self, state: TrainState, batch: SequenceBatch) -> ChunkResult:
        raise NotImplementedError

    def predict(self, state: TrainState, batch: SequenceBatch) -> np.ndarray:
        raise NotImplementedError

    #: If > 0, the runner cuts chunks at multiples of this many sequences and calls ``observe`` there, so
    #: that decisions the model takes from its training errors (e.g. growing) are chunk-invariant.
    period: int = 0

    def observe(self, state: TrainState, errors: np.ndarray) -> None:
        """See the per-sequence training errors of the chunk just trained (default: ignore them)."""

"""The model API: :class:`Model` (hyperparameters only), :class:`TrainState` (learned state), flat weights.

Following scikit-learn, a model's constructor only validates and stores hyperparameters; everything learned
lives in a :class:`TrainState` whose weights are one flat float64 vector with named views (:class:`Layout`).
Random guessing refills it, a gradient check perturbs it, the weight count is its size.

Before any heavy set-up, the constructor estimates what the model will need (:meth:`Model.footprint`: memory,
arithmetic per time step) and refuses, with a :class:`~lstm97.errors.UserError`, a configuration out of this
machine's reach (:func:`check_footprint`), so that it fails at once instead of hanging or exhausting memory.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import Incompatible, UserError
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
    When the kernel stopped early, the outputs of sequence ``n_done`` (the one that went non-finite) and of
    every later one (not computed) are set to NaN here, so that a task counts them wrong and their errors
    are NaN instead of zero padding.
    """

    status: int
    n_done: int
    outputs: np.ndarray
    #: Steps each sequence ran, for a model that halts sequences (Task.requires "halt"); None otherwise.
    stops: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.status != OK:
            self.outputs[self.n_done :] = np.nan


@dataclass(frozen=True)
class Footprint:
    """What training a model needs, estimated from its dimensions and hyperparameters alone.

    ``bytes``: memory of the weights, their copies and the model's working arrays (not the task's batches,
    which the runner caps per chunk); ``flops_per_step``: arithmetic operations per time step of training
    (forward pass and learning, with a target at the step, dense inputs: an upper bound for one-hot inputs).
    """

    bytes: int
    flops_per_step: int


#: Environment variables that override the resource limits: bytes of memory; operations per time step.
MAX_MEMORY_ENV = "LSTM97_MAX_MEMORY"
MAX_FLOPS_ENV = "LSTM97_MAX_FLOPS_PER_STEP"
#: Default share of the machine's physical memory one model may plan to use.
MEMORY_SHARE = 0.25
#: Default limit of operations per time step: about one second of the kernels' scalar float64 code (about
#: 1e9 operations per second and core). Trials train up to millions of sequences of up to ~1000 steps, so a
#: step of a second means a trial of years: only hopeless configurations are refused.
MAX_FLOPS_PER_STEP = 10**9


def _env_limit(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise UserError(f"environment variable {name}={raw!r} must be a positive number.")
    return int(value)


def memory_limit() -> tuple[int | None, str]:
    """(bytes, where the limit comes from): LSTM97_MAX_MEMORY, else 25 % of the physical memory (None, no
    limit, where the system does not say how much it has)."""
    env = _env_limit(MAX_MEMORY_ENV)
    if env is not None:
        return env, f"set by {MAX_MEMORY_ENV}"
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None, "unknown memory size"
    if total <= 0:
        return None, "unknown memory size"
    return int(total * MEMORY_SHARE), f"{MEMORY_SHARE:.0%} of this machine's memory; set {MAX_MEMORY_ENV} to change"


def flops_limit() -> tuple[int, str]:
    """(operations per time step, where the limit comes from): LSTM97_MAX_FLOPS_PER_STEP, else 1e9."""
    env = _env_limit(MAX_FLOPS_ENV)
    if env is not None:
        return env, f"set by {MAX_FLOPS_ENV}"
    return MAX_FLOPS_PER_STEP, f"about a second per step; set {MAX_FLOPS_ENV} to change"


def format_bytes(n: float) -> str:
    """``3.2 TiB``, ``6.0 GiB``, ``512 MiB``: binary units."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    i = 0
    while abs(n) >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    if i == 0:
        return f"{int(n)} B"
    return f"{n:.1f} {units[i]}" if abs(n) < 10 else f"{n:.0f} {units[i]}"


def _describe(task: Task | None, n_in: int, n_out: int) -> str:
    """``long-lag(p=10000)``: the task with its non-default parameters (or the dimensions without a task)."""
    if task is None:
        return f"{n_in} inputs and {n_out} outputs"
    given = [f"{p.name}={task.params[p.name]}" for p in task.spec.params if task.params[p.name] != p.default]
    return f"{task.spec.name}({', '.join(given)})" if given else task.spec.name


def check_footprint(model: Model, task: Task | None = None) -> Footprint | None:
    """Raise :class:`~lstm97.errors.UserError` if ``model.footprint()`` exceeds the memory or time limit."""
    fp = model.footprint()
    if fp is None:
        return None
    who = f"model {model.spec.name!r} on {_describe(task, model.n_in, model.n_out)}"
    fix = f"use a smaller net ({model.size_hint}) or a task with fewer inputs and outputs"
    mem, mem_why = memory_limit()
    if mem is not None and fp.bytes > mem:
        raise UserError(
            f"{who} needs about {format_bytes(fp.bytes)} of memory (limit {format_bytes(mem)}, {mem_why}): {fix}."
        )
    ops, ops_why = flops_limit()
    if fp.flops_per_step > ops:
        raise UserError(
            f"{who} needs about {fp.flops_per_step:.2g} operations per time step (limit {ops:.2g}, {ops_why}): {fix}."
        )
    return fp


#: What a task can require of a model (:attr:`Task.requires`) and how messages name it.
REQUIREMENTS = {
    "distribution": "outputs that form a probability distribution (softmax output units trained on the cross-entropy)",
    "halt": "halting each sequence at its first wrong step (batch.info['halt'])",
    "resets": "resetting its state where the batch says (batch.info['reset'])",
}


def check_requirements(model: Model, task: Task) -> None:
    """Raise :class:`~lstm97.errors.Incompatible` (one message, with the fix where there is one) unless ``model``
    has every capability ``task`` requires (:attr:`Task.requires`); called by the constructor when it is given the
    task (``models.make``, so ``lstm97 run`` refuses such a pair before any training)."""
    need = sorted(set(getattr(task, "requires", ())) - set(model.capabilities()))
    if not need:
        return
    what = "; ".join(REQUIREMENTS.get(n, n) for n in need)
    hints = [h for h in (model.capability_hint(n) for n in need) if h]
    fix = f"{'; '.join(hints)}." if hints else "Use a model that can (e.g. --model lstm)."
    raise Incompatible(
        f"task {task.spec.name!r} needs {what}, which model {model.spec.name!r} with these hyperparameters does not "
        f"give. {fix[0].upper()}{fix[1:]}"
    )


class Model:
    """Base class of every learner. Subclasses set ``spec`` and implement the methods below.

    The constructor resolves the hyperparameters, calls :meth:`validate` (cheap checks and set-up), refuses
    a configuration whose :meth:`footprint` is out of reach, then calls :meth:`build` (the heavy set-up).
    """

    spec: ClassVar[ModelSpec]
    #: How to make this model smaller, for the message of a refused configuration.
    size_hint: ClassVar[str] = "fewer units"

    def __init__(self, n_in: int, n_out: int, *, task: Task | None = None, **hp: Any) -> None:
        """``task`` (optional) is the task the model is built for; it is only named in messages."""
        self.n_in = int(n_in)
        self.n_out = int(n_out)
        self.hp: dict[str, Any] = resolve(self.spec.params, hp, owner=f"model {self.spec.name!r}")
        self.validate()
        if task is not None:
            check_requirements(self, task)
        check_footprint(self, task)
        self.build()

    @classmethod
    def for_dims(cls, n_in: int, n_out: int, **hp: Any) -> Model:
        return cls(n_in, n_out, **hp)

    @classmethod
    def for_task(cls, task: Task, **overrides: Any) -> Model:
        """The model with the task's paper defaults, then ``overrides`` (validated)."""
        hp = task.model_defaults(cls.spec.name)
        hp.update(overrides)
        return cls(task.n_in, task.n_out, task=task, **hp)

    def validate(self) -> None:
        """Check relations between hyperparameters and dimensions (raise UserError). Cheap: whatever needs
        memory or time that grows with the net's size belongs in :meth:`build`."""

    def footprint(self) -> Footprint | None:
        """The resources training will need, from dimensions and hyperparameters only (cheap: called before
        :meth:`build`). The default counts three copies of the weight vector and four operations per weight
        and step; None (no check) if the layout is not known before :meth:`build`."""
        try:
            size = self.layout.size
        except (NotImplementedError, AttributeError):
            return None
        return Footprint(bytes=3 * 8 * size, flops_per_step=4 * size)

    def build(self) -> None:
        """Heavy set-up (masks, plans, large arrays), after the resource check (default: nothing)."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def layout(self) -> Layout:
        raise NotImplementedError

    @property
    def n_weights(self) -> int:
        return int(self.free().sum())

    def weights_of(self, state: TrainState | None) -> int:
        """The weights of the net ``state`` holds, stored with a trial: :attr:`n_weights` (a model whose structure
        is learned state, e.g. ``rcc``, counts the net ``state`` has grown)."""
        return self.n_weights

    def free(self) -> np.ndarray:
        """Which entries of the flat vector are weights (the rest are structural zeros of absent connections)."""
        return np.ones(self.layout.size, dtype=bool)

    def views(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return self.layout.views(w)

    def capabilities(self) -> frozenset[str]:
        """What this configuration can do beyond the plain contract, for tasks that require it
        (:attr:`Task.requires`, :data:`REQUIREMENTS`): ``distribution`` (outputs that form a probability distribution,
        trained on the cross-entropy), ``halt`` (stops each sequence after its first step with an output off by
        ``batch.info["halt"]`` or more; later outputs stay 0), ``resets`` (honours ``batch.info["reset"]``). Default:
        none."""
        return frozenset()

    def capability_hint(self, need: str) -> str:
        """How to get the capability ``need`` from this model (e.g. a hyperparameter), or "" if it cannot."""
        return ""

    def output_range(self) -> tuple[float, float]:
        """(lowest, highest) value the model's outputs can take: (0, 1) for logistic output units (the default),
        (-inf, inf) for unbounded (linear) ones. The runner refuses a task whose :meth:`Task.target_range` does
        not lie inside it (:func:`lstm97.runners.trial.check_ranges`)."""
        return (0.0, 1.0)

    def check_batch(self, batch: SequenceBatch) -> None:
        """ValueError unless ``batch`` has this model's numbers of inputs and outputs."""
        if batch.n_in != self.n_in or batch.n_out != self.n_out:
            raise ValueError(f"batch has {batch.n_in} inputs/{batch.n_out} outputs, model {self.n_in}/{self.n_out}")

    def init_state(self, rng: np.random.Generator) -> TrainState:
        raise NotImplementedError

    def train_chunk(self, state: TrainState, batch: SequenceBatch) -> ChunkResult:
        raise NotImplementedError

    def train_lanes(self, states: Sequence[TrainState], batches: Sequence[SequenceBatch]) -> list[ChunkResult]:
        """Train ``states[i]`` on ``batches[i]`` for every lane i (independent trials of this one configuration,
        ``lstm97 run --lanes``), in place; return each lane's :class:`ChunkResult`. Each lane must end exactly
        as ``train_chunk(states[i], batches[i])`` would leave it, bit for bit: lanes may differ in their numbers
        and lengths of sequences. The default trains the lanes one after another; a model may override it with
        a kernel that trains them side by side (the LSTM: :mod:`._lstm_lane_kernels`)."""
        return [self.train_chunk(state, batch) for state, batch in zip(states, batches, strict=True)]

    def predict(self, state: TrainState, batch: SequenceBatch) -> np.ndarray:
        """Outputs [n, L, n_out] at every step, weights unchanged. A sequence that goes non-finite, and every
        later one of the batch, gets NaN outputs (build them through :class:`ChunkResult`)."""
        raise NotImplementedError

    #: If > 0, the runner cuts chunks at multiples of this many sequences and calls ``observe`` there, so
    #: that decisions the model takes from its training errors (e.g. growing) are chunk-invariant.
    period: int = 0

    def observe(self, state: TrainState, errors: np.ndarray) -> None:
        """See the per-sequence training errors of the chunk just trained (default: ignore them)."""

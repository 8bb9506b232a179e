"""The task API: :class:`SequenceBatch` (plain arrays), :class:`TaskSpec` (frozen metadata) and :class:`Task`.

A task generates sequences, declares its parameters and the paper's defaults for each model, and owns its
success test (:meth:`Task.correct`) and training protocol (:meth:`Task.protocol`). See PAPER.md §3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..params import Param, resolve
from .criteria import StopRule


@dataclass(frozen=True, init=False)
class SequenceBatch:
    """A chunk of ``n`` sequences, padded to a common length ``L``.

    ``inputs`` float64 [n, L, n_in]; ``targets`` float64 [n, L, n_out]; ``mask`` bool [n, L] (a target exists
    at that step); ``lengths`` int64 [n]. Steps at or beyond a sequence's length are zero and unmasked, and
    targets are zero wherever the mask is False (``lstm97 check`` enforces both).
    ``info`` holds optional per-sequence task arrays (leading dimension n), e.g. noise-free targets.

    One-hot inputs may come as ``info["active"]`` (int64 [n, L], the hot input unit per step, -1 where none)
    alone: :meth:`one_hot` builds such a *sparse* batch, which holds no dense inputs (at p = 1000 in Exp 2 they
    take 8 MB per sequence). Its ``inputs`` are built from ``active`` on first access and kept; kernels with a
    one-hot path take :attr:`kernel_inputs` instead, and :meth:`take` and :meth:`concat` keep a sparse batch
    sparse without building them.
    """

    targets: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray
    info: Mapping[str, np.ndarray]
    _inputs: np.ndarray | None = field(repr=False, compare=False)  # None: not built (yet) from info["active"]
    _width: int | None = field(repr=False)  # n_in of a sparse batch; None: the inputs were given densely

    def __init__(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray,
        lengths: np.ndarray,
        info: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self._set(inputs, targets, mask, lengths, {} if info is None else info, None)

    @classmethod
    def one_hot(
        cls,
        active: np.ndarray,
        n_in: int,
        targets: np.ndarray,
        mask: np.ndarray,
        lengths: np.ndarray,
        info: Mapping[str, np.ndarray] | None = None,
    ) -> SequenceBatch:
        """A batch of one-hot inputs given only by ``active`` (int64 [n, L]: the hot unit of ``n_in`` per step,
        -1 where none), which it keeps as ``info["active"]`` (then the other ``info`` arrays)."""
        return SequenceBatch._sparse(int(n_in), targets, mask, lengths, {"active": active, **(info or {})})

    def _set(self, inputs, targets, mask, lengths, info, width) -> None:
        for name, value in (
            ("_inputs", inputs),
            ("targets", targets),
            ("mask", mask),
            ("lengths", lengths),
            ("info", info),
            ("_width", width),
        ):
            object.__setattr__(self, name, value)  # frozen from outside
        self.__post_init__()

    def __post_init__(self) -> None:
        n, length = self.mask.shape
        if self._width is None:
            shape = self._inputs.shape[:2]
        else:
            active = self.info["active"]
            shape = active.shape if active.ndim == 2 else None
        if shape != (n, length) or self.targets.shape[:2] != (n, length):
            raise ValueError("inputs, targets and mask disagree on [n, L]")
        if self.lengths.shape != (n,):
            raise ValueError("lengths must have shape [n]")

    @property
    def sparse(self) -> bool:
        """Whether the inputs are given only by ``info["active"]`` (:meth:`one_hot`)."""
        return self._width is not None

    @property
    def inputs(self) -> np.ndarray:
        """float64 [n, L, n_in]; for a sparse batch the one-hot code of ``info["active"]``, built on first use."""
        if self._inputs is None:
            object.__setattr__(self, "_inputs", one_hot_inputs(self.info["active"], self._width))
        return self._inputs

    @property
    def kernel_inputs(self) -> np.ndarray:
        """The inputs for a kernel with a one-hot path (one that reads only ``inputs.shape[2]`` when given
        ``info["active"]``): the dense inputs if they exist, else zeros [1, 1, n_in] (the same numba type, so
        nothing is compiled anew)."""
        return self._inputs if self._inputs is not None else np.zeros((1, 1, self._width))

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays this batch holds (a sparse batch's inputs only once built)."""
        return sum(int(a.nbytes) for a in self.stored().values())

    def stored(self) -> dict[str, np.ndarray]:
        """The arrays this batch holds, by name (as :meth:`arrays`, but ``inputs`` only if they exist)."""
        out = {} if self._inputs is None else {"inputs": self._inputs}
        out.update({"targets": self.targets, "mask": self.mask, "lengths": self.lengths})
        out.update(self.info)
        return out

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def n_in(self) -> int:
        return int(self._inputs.shape[2]) if self._width is None else self._width

    @property
    def n_out(self) -> int:
        return int(self.targets.shape[2])

    def sequence(self, i: int) -> dict[str, np.ndarray]:
        """Sequence ``i`` without padding."""
        n = int(self.lengths[i])
        if self._inputs is None:
            inputs = one_hot_inputs(self.info["active"][i : i + 1, :n], self._width)[0]
        else:
            inputs = self._inputs[i, :n]
        out = {"inputs": inputs, "targets": self.targets[i, :n], "mask": self.mask[i, :n]}
        out.update({k: v[i, :n] if _timed(v, self.mask) else v[i] for k, v in self.info.items()})
        return out

    def take(self, index: slice | np.ndarray) -> SequenceBatch:
        """A sub-batch (rows selected by ``index``), trimmed to its own maximal length (sparse if this is)."""
        lengths = self.lengths[index]
        length = int(lengths.max()) if lengths.size else 0
        arrays = (
            np.ascontiguousarray(self.targets[index, :length]),
            np.ascontiguousarray(self.mask[index, :length]),
            np.ascontiguousarray(lengths),
            {
                k: np.ascontiguousarray(v[index, :length] if _timed(v, self.mask) else v[index])
                for k, v in self.info.items()
            },
        )
        if self.sparse:
            return SequenceBatch._sparse(self._width, *arrays)
        return SequenceBatch(np.ascontiguousarray(self.inputs[index, :length]), *arrays)

    @staticmethod
    def _sparse(width: int, targets, mask, lengths, info) -> SequenceBatch:
        """A sparse batch whose ``info`` already holds ``active``, keeping the order of its keys."""
        batch = SequenceBatch.__new__(SequenceBatch)
        batch._set(None, targets, mask, lengths, info, width)
        return batch

    @staticmethod
    def concat(batches: Sequence[SequenceBatch]) -> SequenceBatch:
        """Stack batches, padding to the longest sequence (sparse if all are sparse, with the same n_in)."""
        length = max(b.mask.shape[1] for b in batches)

        def pad(a: np.ndarray, fill: float = 0) -> np.ndarray:
            width = [(0, 0)] * a.ndim
            width[1] = (0, length - a.shape[1])
            return np.pad(a, width, constant_values=fill)

        def pad_info(b: SequenceBatch, k: str) -> np.ndarray:
            v = b.info[k]
            if not _timed(v, b.mask):
                return v
            return pad(v, -1 if np.issubdtype(v.dtype, np.signedinteger) else 0)  # -1: "no input" index

        keys = batches[0].info.keys()
        arrays = (
            np.concatenate([pad(b.targets) for b in batches]),
            np.concatenate([pad(b.mask) for b in batches]),
            np.concatenate([b.lengths for b in batches]),
            {k: np.concatenate([pad_info(b, k) for b in batches]) for k in keys},
        )
        widths = {b._width for b in batches}
        if len(widths) == 1 and None not in widths:
            return SequenceBatch._sparse(widths.pop(), *arrays)
        return SequenceBatch(np.concatenate([pad(b.inputs) for b in batches]), *arrays)

    def arrays(self) -> dict[str, np.ndarray]:
        """The four arrays (and info arrays) by name, e.g. for ``np.savez`` (a sparse batch's inputs built)."""
        out = {"inputs": self.inputs, "targets": self.targets, "mask": self.mask, "lengths": self.lengths}
        out.update(self.info)
        return out


def one_hot_inputs(active: np.ndarray, width: int) -> np.ndarray:
    """float64 [n, L, width] with a 1 at ``active`` (int64 [n, L]) wherever it is not -1, else 0."""
    out = np.zeros((*active.shape, width))
    rows, steps = np.nonzero(active >= 0)
    out[rows, steps, active[rows, steps]] = 1.0
    return out


@dataclass(frozen=True)
class TaskSpec:
    """What a task is: its registry name, title, paper reference, declared parameters and version.

    ``version`` changes whenever the generator's output for a given seed changes; it is stored with results.
    """

    name: str
    title: str
    paper: str
    params: tuple[Param, ...]
    version: int = 1


#: How exemplars are taken from a fixed training set (:attr:`Protocol.order`).
ORDERS = ("random", "file")


@dataclass(frozen=True)
class Protocol:
    """How a trial of this task is run (PAPER.md Table 11).

    ``stop`` is the final stopping rule; ``milestones`` are earlier rules whose first sequence count is
    recorded too (e.g. ST1 before ST2). ``max_sequences`` is the budget, ``n_test`` the size of the final
    test on fresh sequences. ``n_eval`` is the size of a fixed evaluation set drawn once per trial (used by
    EvalRule); with ``test_on_eval`` the final test is that set instead of fresh sequences. With
    ``n_train`` > 0, training exemplars come from a fixed training set of that size ("t1"): with ``order``
    "random" (the paper's "t1", Table 11) each is drawn at random, with replacement; with "file" (the JKU
    simulator, PAPER.md §10.1) the set is presented in its order, epoch after epoch (training sequence s,
    counting from 0, is exemplar s mod n_train).
    """

    stop: StopRule
    max_sequences: int
    n_test: int
    description: str
    milestones: tuple[StopRule, ...] = ()
    n_eval: int = 0
    n_train: int = 0
    test_on_eval: bool = False
    order: str = "random"

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"Protocol.order must be one of {ORDERS}, got {self.order!r}")


class Task:
    """Base class of every task. Subclasses set ``spec`` and implement ``n_in``, ``n_out`` and ``sample``.

    The constructor only validates and stores parameters (``self.params``); it draws no random numbers.
    """

    spec: ClassVar[TaskSpec]
    #: Paper defaults per model name: hyperparameters that ``models.make`` uses unless overridden.
    paper_defaults: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = resolve(self.spec.params, params, owner=f"task {self.spec.name!r}")
        self.validate()

    def validate(self) -> None:
        """Check relations between parameters (raise :class:`~lstm97.errors.UserError`)."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def n_in(self) -> int:
        raise NotImplementedError

    @property
    def n_out(self) -> int:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        """``n`` fresh sequences drawn only from ``rng``; chunk-invariant (see tasks.checks)."""
        raise NotImplementedError

    #: Prefix lengths (ascending) at which the runner may first try a batch of this task's sequences
    #: (:meth:`sample_prefix`), for tasks whose sequences usually end long before their length (a stream that
    #: halts at its first wrong step): a batch whose every sequence is :meth:`settled` within the prefix needs
    #: no more; otherwise the next prefix, and at last :meth:`sample`, is tried from the same draws. Empty (the
    #: default): every batch is drawn whole.
    prefixes: ClassVar[tuple[int, ...]] = ()

    def sample_prefix(self, rng: np.random.Generator, n: int, steps: int) -> SequenceBatch:
        """The first ``steps`` steps of the ``n`` sequences ``sample(rng, n)`` would draw, leaving ``rng`` where
        ``sample`` leaves it (needed only by a task with :attr:`prefixes`)."""
        raise NotImplementedError

    def settled(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per sequence of a :meth:`sample_prefix` batch: whether ``error`` and ``correct`` of the prefix under
        ``outputs`` are those of the whole sequence (needed only by a task with :attr:`prefixes`)."""
        raise NotImplementedError

    def model_defaults(self, model: str) -> dict[str, Any]:
        """The paper's hyperparameters of ``model`` for this task (empty if the paper gives none)."""
        return dict(self.paper_defaults.get(model, {}))

    def protocol(self) -> Protocol:
        """The paper's stopping rule, budget and test-set size."""
        raise NotImplementedError

    # -- the success test -------------------------------------------------------------------------------
    def error(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per-sequence training error: the paper's E(t) = sum_k (t_k - y_k)^2, averaged over target steps."""
        sq = ((batch.targets - outputs) ** 2).sum(axis=2)
        steps = np.maximum(batch.mask.sum(axis=1), 1)
        return np.where(batch.mask, sq, 0.0).sum(axis=1) / steps

    def abs_error(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per-sequence mean absolute error over target steps and outputs (used by ST2-like rules)."""
        ab = np.abs(batch.targets - outputs).mean(axis=2)
        steps = np.maximum(batch.mask.sum(axis=1), 1)
        return np.where(batch.mask, ab, 0.0).sum(axis=1) / steps

    def fixed_sets(
        self, train_rng: np.random.Generator, eval_rng: np.random.Generator
    ) -> tuple[SequenceBatch | None, SequenceBatch | None]:
        """The trial's fixed training set (if ``protocol().n_train``) and evaluation set (if ``n_eval``).

        The default draws them with ``sample``; a task whose test set must exclude the training set
        (Exp 1) overrides this.
        """
        proto = self.protocol()
        train = self.sample(train_rng, proto.n_train) if proto.n_train else None
        evaluation = self.sample(eval_rng, proto.n_eval) if proto.n_eval else None
        return train, evaluation

    def target_range(self) -> tuple[float, float]:
        """(lowest, highest) value the targets must reach, noise-free targets where targets are noisy (those a
        perfect net outputs, :meth:`ideal_outputs`); default (0, 1), the range of the paper's logistic output
        units. The runner refuses a model whose :meth:`Model.output_range` does not contain it."""
        return (0.0, 1.0)

    def ideal_outputs(self, batch: SequenceBatch) -> np.ndarray:
        """Outputs a perfect net would give (the targets; the noise-free targets where targets are noisy)."""
        return batch.targets

    #: Training and test set sizes for searching models (random weight guessing, PAPER.md §5: 100 and 100).
    search_set_sizes: tuple[int, int] = (100, 100)

    def search_sets(
        self, train_rng: np.random.Generator, eval_rng: np.random.Generator
    ) -> tuple[SequenceBatch, SequenceBatch]:
        """Training and test sets for random weight guessing (§5: 100 sequences each, half per class).

        A task whose protocol already has fixed training and evaluation sets uses them; otherwise the sets
        are drawn with ``sample`` and, where batches carry ``info["label"]``, balanced over the classes by
        keeping the first sequences of each class in drawing order.
        """
        proto = self.protocol()
        if proto.n_train and proto.n_eval:
            train, evaluation = self.fixed_sets(train_rng, eval_rng)
            return train, evaluation
        n_train, n_test = self.search_set_sizes
        return self._balanced(train_rng, n_train), self._balanced(eval_rng, n_test)

    def _balanced(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        first = self.sample(rng, n)
        if "label" not in first.info:
            return first
        classes = np.unique(first.info["label"])
        per_class = n // len(classes)
        pool = [first]
        while True:
            batch = SequenceBatch.concat(pool)
            labels = batch.info["label"]
            if all((labels == c).sum() >= per_class for c in classes):
                keep = np.sort(np.concatenate([np.nonzero(labels == c)[0][:per_class] for c in classes]))
                return batch.take(keep)
            pool.append(self.sample(rng, n))

    def correct(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per-sequence correctness; the default is ABS(tolerance) over every target step and output."""
        return max_abs_error(batch, outputs) < self.tolerance

    #: Threshold of the default ABS criterion ("absolute error of all outputs below beta").
    tolerance: float = 0.0

    #: Capabilities a model must have to run this task (:data:`lstm97.models.base.REQUIREMENTS`): e.g.
    #: ``distribution`` (the error is a cross-entropy) or ``halt`` (sequences end at their first wrong step); a
    #: model without one refuses the task when it is built for it (``models.make``), with one message.
    requires: ClassVar[frozenset[str]] = frozenset()

    #: The stored test statistics the run summary shows for this task: any of "test_wrong" (wrong test
    #: sequences of the test set), "test_mse" (mean per-sequence error) and "test_abs" (mean absolute error).
    summary_metrics: ClassVar[tuple[str, ...]] = ("test_wrong",)

    def describe(self) -> str:
        return f"{self.spec.name}({', '.join(f'{k}={v}' for k, v in self.params.items())})"


def _timed(v: np.ndarray, mask: np.ndarray) -> bool:
    """Whether an info array has a time axis (shape [n, L, ...]) to trim or pad with the batch."""
    return v.ndim >= 2 and v.shape[:2] == mask.shape


def max_abs_error(batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
    """Per-sequence maximum over target steps and output units of |target - output|."""
    err = np.abs(batch.targets - outputs).max(axis=2)
    return np.where(batch.mask, err, 0.0).max(axis=1)

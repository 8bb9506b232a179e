"""Random weight guessing (PAPER.md §5; [G01], [NIPS]): draw every weight uniformly from [-r, r] and test the
net on the task's training set, until every training sequence is correct; then test on a separate set.
The count of guesses is the result. Paper: r = 100.

``guess`` wraps a conventional net (``net=rnn``: the §5 architectures A1 = ``arch=wz``, A2 = ``arch=a2``, or
any ``rnn-bptt`` architecture) or the 1997 LSTM (``net=lstm``, with the task's paper configuration of the
LSTM), and reuses that model's forward kernel. It has no learning rule: the runner calls :meth:`search`
instead of training (``is_search``). Guesses come from the trial's model stream, so a seed fixes the search.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..params import Param
from .base import Footprint, ModelSpec, TrainState
from .rnn import ARCH_PARAMS, RecurrentNet

#: Sequences tested first for each guess; the rest only if these are all correct (speed only).
FIRST_LOOK = 4


class Guess(RecurrentNet):
    spec = ModelSpec(
        name="guess",
        title="Random weight guessing over a conventional net (A1, A2, ...) or the LSTM",
        paper="PAPER.md §5",
        params=ARCH_PARAMS
        + (
            Param("range", "float", 100.0, "every weight uniform in [-range, range] (paper: 100)", low=0.0, high=1e9),
            Param(
                "net",
                "str",
                "rnn",
                "rnn (the architecture parameters apply) | lstm (the task's paper LSTM)",
                choices=("rnn", "lstm"),
            ),
        ),
        version=1,
    )
    is_search = True

    def __init__(self, n_in: int, n_out: int, **hp: Any) -> None:
        self._lstm_hp = hp.pop("lstm_hp", {})
        self._task = hp.get("task")  # for the wrapped LSTM's messages, while constructing
        super().__init__(n_in, n_out, **hp)
        self._task = None

    @classmethod
    def for_task(cls, task, **overrides: Any):
        hp = task.model_defaults(cls.spec.name)
        hp.update(overrides)
        return cls(task.n_in, task.n_out, task=task, lstm_hp=task.model_defaults("lstm"), **hp)

    def validate(self) -> None:
        super().validate()
        self.inner = None
        if self.hp["net"] == "lstm":
            from .lstm import LSTM

            self.inner = LSTM(self.n_in, self.n_out, task=self._task, **self._lstm_hp)  # checks its own size

    def build(self) -> None:
        if self.inner is None:  # the conventional net's masks; the LSTM needs none
            super().build()

    def footprint(self) -> Footprint:
        """The wrapped net's (the LSTM's with net=lstm, which includes its training: an upper bound)."""
        return super().footprint() if self.inner is None else self.inner.footprint()

    @property
    def layout(self):
        return self._layout if self.inner is None else self.inner.layout

    def free(self) -> np.ndarray:
        return super().free() if self.inner is None else self.inner.free()

    def output_range(self) -> tuple[float, float]:
        """The wrapped net's (the conventional net's units, or the LSTM's output units with net=lstm)."""
        return super().output_range() if self.inner is None else self.inner.output_range()

    def guess(self, rng: np.random.Generator) -> TrainState:
        """One guess: every weight of the net uniform in [-range, range]."""
        r = self.hp["range"]
        if self.inner is None:
            return TrainState(self.random_weights(rng, r))
        return TrainState(rng.uniform(-r, r, self.inner.layout.size))

    def init_state(self, rng: np.random.Generator) -> TrainState:
        return self.guess(rng)

    def predict(self, state: TrainState, batch) -> np.ndarray:
        return super().predict(state, batch) if self.inner is None else self.inner.predict(state, batch)

    def search(self, task, train_set, rng: np.random.Generator, max_guesses: int) -> tuple[TrainState, int, bool]:
        """Guess until every sequence of ``train_set`` is correct; return (state, guesses, success)."""
        first = train_set.take(slice(0, min(FIRST_LOOK, len(train_set))))
        state = None
        for g in range(1, max_guesses + 1):
            state = self.guess(rng)
            if not task.correct(first, self.predict(state, first)).all():
                continue
            if task.correct(train_set, self.predict(state, train_set)).all():
                return state, g, True
        return state, max_guesses, False

    def train_chunk(self, state, batch):
        raise TypeError("the guess model does not train; the runner calls search()")

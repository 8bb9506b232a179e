"""The paper's stopping rules as data (PAPER.md §3 conventions, Table 11).

There are two kinds, and the runner (``runners.trial.run_trial``) handles each its own way; neither depends
on the chunk size:

* :class:`WindowRule` looks at the training sequences themselves: the runner hands it, chunk by chunk, each
  training sequence's error and correctness (computed with the weights the sequence was trained with, i.e.
  as the sequence was "processed"), and the rule, with a carried state, says at which sequence of the chunk
  it first holds; every decision is a function of the window's contents only. When the final stopping rule
  holds inside a chunk, the runner restores the weights of the chunk's start and trains again up to that
  sequence (milestones only record their count).
* :class:`EvalRule` tests the current weights on other sequences: the runner checks it whenever the count of
  training sequences reaches a multiple of ``every`` (it cuts its chunks there), on the trial's fixed sets
  (``Task.fixed_sets``, drawn once per trial) or on ``fresh`` new sequences; :meth:`EvalRule.scan` never
  holds.

The paper's rules:

* ``ST3(beta)`` — "average training error below beta and the 2000 most recent training sequences processed
  correctly": :class:`WindowRule` with ``window=2000, max_wrong=0, max_mean_error=beta``. The average is the
  arithmetic mean of the per-sequence training error (Task.error: the paper's E(t) = sum over outputs of the
  squared error, averaged over the sequence's target steps) over the same 2000 most recent sequences. The rule
  cannot hold before 2000 sequences have been seen (Exps 4, 6).
* Exp 5's "fewer than n_seq of the 2000 most recent sequences have absolute error > 0.04":
  ``WindowRule(2000, max_wrong=n_seq - 1)``.
* Exp 2's "10,000 successive randomly chosen sequences" correct: ``EvalRule(every, fresh=10_000)`` (a frozen
  net tested on fresh sequences); the other reading, the 10,000 most recent *training* sequences all processed
  correctly, is :func:`all_correct` ``(10_000)`` = ``WindowRule(10_000, max_wrong=0)`` (task option
  ``success=window``).
* Exp 3's ST1 and ST2 on a fixed 256-sequence test set: ``EvalRule(every, max_wrong, max_mean_abs)``.
* Exp 1's "training and test set correctly predicted": ``EvalRule(every, sets=("train", "eval"))``.

Not from the 1997 paper: :class:`FinalTestRule` (the modern adding problem, PAPER.md §11.4: train for the whole
budget, then the trial succeeds when the test MSE beats a baseline); it never stops training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


class StopRule:
    """Base class: ``start()`` makes a fresh state, ``scan(state, errors, correct)`` consumes one chunk."""

    name: str = "rule"

    def start(self) -> object:
        raise NotImplementedError

    def scan(self, state: object, errors: np.ndarray, correct: np.ndarray) -> int:
        """Index in this chunk of the first sequence after which the rule holds, or -1."""
        raise NotImplementedError


@dataclass
class _WindowState:
    errors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    correct: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


@dataclass(frozen=True)
class WindowRule(StopRule):
    """Holds after a sequence when, over the ``window`` most recent sequences (that one included), at most
    ``max_wrong`` were incorrect and the mean per-sequence error is below ``max_mean_error``."""

    window: int
    max_wrong: int = 0
    max_mean_error: float = math.inf
    name: str = "window"

    def start(self) -> _WindowState:
        return _WindowState()

    def scan(self, state: _WindowState, errors: np.ndarray, correct: np.ndarray) -> int:
        w = self.window
        errs = np.concatenate([state.errors, np.asarray(errors, dtype=np.float64)])
        good = np.concatenate([state.correct, np.asarray(correct, dtype=bool)])
        n_hist = state.errors.shape[0]
        # state keeps at most w entries, so position j has a full window iff j >= w - 1.
        start = max(n_hist, w - 1)
        wrong = np.concatenate([[0], np.cumsum(~good)])
        ends = np.arange(start, errs.shape[0])
        candidates = ends[wrong[ends + 1] - wrong[ends + 1 - w] <= self.max_wrong]
        for j in candidates:
            if math.isinf(self.max_mean_error) or errs[j + 1 - w : j + 1].mean() < self.max_mean_error:
                return int(j) - n_hist
        state.errors = errs[-w:].copy()
        state.correct = good[-w:].copy()
        return -1


def st3(beta: float, window: int = 2000) -> WindowRule:
    """ST3(beta): mean training error below beta and the ``window`` most recent sequences all correct."""
    return WindowRule(window=window, max_wrong=0, max_mean_error=beta, name=f"ST3({beta:g})")


def all_correct(window: int, name: str = "window") -> WindowRule:
    """The ``window`` most recent training sequences all processed correctly (no bound on the error)."""
    return WindowRule(window=window, max_wrong=0, name=name)


@dataclass(frozen=True)
class EvalRule(StopRule):
    """Holds when the net, evaluated with its current weights, gets at most ``max_wrong`` sequences wrong
    and a mean absolute error (Task.abs_error) below ``max_mean_abs`` on each set it is tested on; checked
    by the runner whenever the count of training sequences is a multiple of ``every`` (PAPER.md leaves the
    frequency open, §9), and the hit recorded is that count.

    ``sets`` names the fixed sets evaluated: ``eval`` (a test set drawn once per trial, e.g. the 256 test
    sequences of ST1/ST2 in Exp 3) and/or ``train`` (a fixed training set, Exp 1); the rule must hold on
    every one of them. With ``fresh`` > 0 the net is instead tested on that many new sequences (only
    ``max_wrong`` applies; the runner stops counting at the first excess).
    """

    every: int
    max_wrong: int = 0
    max_mean_abs: float = math.inf
    sets: tuple[str, ...] = ("eval",)
    name: str = "eval"
    #: If > 0, evaluate on this many *fresh* sequences at each check instead of fixed sets (Exp 2: "over
    #: 10,000 successive randomly chosen sequences"); drawn from a stream fixed by (seed, sequence count).
    fresh: int = 0

    def start(self) -> None:
        return None

    def scan(self, state: object, errors: np.ndarray, correct: np.ndarray) -> int:
        return -1  # decided by the runner at check points (see runners.trial), not by training outputs

    def holds(self, wrong: int, mean_abs: float) -> bool:
        return wrong <= self.max_wrong and (math.isinf(self.max_mean_abs) or mean_abs < self.max_mean_abs)


@dataclass(frozen=True)
class FinalTestRule(StopRule):
    """Never stops training: the trial runs its whole budget, and succeeds when the final test's mean
    per-sequence error (``Task.error``, the MSE for one output and one target step) is below ``max_mse``
    (PAPER.md §11.4: "beats the baseline"). The runner decides after the test; :meth:`scan` never holds."""

    max_mse: float
    name: str = "final test"

    def start(self) -> None:
        return None

    def scan(self, state: object, errors: np.ndarray, correct: np.ndarray) -> int:
        return -1  # decided by the runner after the final test (see runners.trial)

    def holds(self, test_mse: float) -> bool:
        return bool(test_mse < self.max_mse)

"""Experiment 6: temporal order (PAPER.md §3.8, Table 9, Table 10 rows 6a/6b, Table 11).

Eight one-hot input symbols, input unit k for ``SYMBOLS[k]``: E, B, a, b, c, d, X, Y. A sequence starts with E
and ends with B (the trigger); its length is uniform in 100-110. Every other element is drawn uniformly from
{a, b, c, d}, except ``marks`` positions, each drawn uniformly from its window, which hold X or Y:

* ``marks=2`` (6a): t1 in 10-20, t2 in 50-60; 4 classes XX -> Q, XY -> R, YX -> S, YY -> U.
* ``marks=3`` (6b): t1 in 10-20, t2 in 33-43, t3 in 66-76; 8 classes XXX -> Q, XXY -> R, XYX -> S, XYY -> U,
  YXX -> V, YXY -> A, YYX -> B, YYY -> C.

The class index is the X/Y string read as a binary number with X = 0, Y = 1, t1 the most significant digit (so
the paper's class order Q, R, S, U, ... is index 0, 1, 2, 3, ...). The target, at the last step only, is the
class one-hot over 4 (6a) or 8 (6b) output units. A sequence is correct when the absolute error of every output
at the end is below 0.3 (ABS(0.3)). Stopping: ST3(0.1).

Every batch carries ``info["label"]`` (int64 [n], the class index) and ``info["active"]`` (int64 [n, L], the
index of the hot input unit at each step, -1 beyond the sequence's end), which lets the LSTM kernel skip the
zero inputs.

Choices where PAPER.md is open (see docs/deviations.md):

* ``position_base`` (UNSPECIFIED in the paper: whether positions count from 0 or 1): the default 1 means the
  first element E is position 1, so t1 in 10-20 is the 10th-20th element (0-based index 9-19). With it the
  minimal distance from the last marked position to the final B (length 100: position 100) is 100 - 60 = 40
  for 6a and 100 - 76 = 24 for 6b, Table 10's minimal lags. ``position_base=0`` counts E as position 0 (t1 is
  then the 11th-21st element).
* X/Y probabilities (UNSPECIFIED): 0.5 each, independently for every marked position. The distractors a-d and
  the marked positions within their windows (both ends inclusive) are uniform and independent; the length is
  uniform over the 11 values 100, ..., 110.
* Random draws: each sequence consumes exactly ``1 + 2 * marks + 110`` uniform doubles: length, then for each
  mark its position and its symbol (u < 0.5 is X), then one distractor per padded step (those at E, B, the marks
  and beyond the end are overwritten or discarded); integers are ``floor(u * k)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..params import Param
from .base import Protocol, SequenceBatch, Task, TaskSpec
from .criteria import st3

#: Input symbols in unit order.
SYMBOLS = ("E", "B", "a", "b", "c", "d", "X", "Y")
E, B, X, Y = 0, 1, 6, 7
DISTRACTORS = (2, 3, 4, 5)
#: Marked-position windows (inclusive, in positions counted from ``position_base``) per number of marks.
WINDOWS = {2: ((10, 20), (50, 60)), 3: ((10, 20), (33, 43), (66, 76))}
#: Output class names in index order, per number of marks.
CLASSES = {2: ("Q", "R", "S", "U"), 3: ("Q", "R", "S", "U", "V", "A", "B", "C")}
MIN_LENGTH, MAX_LENGTH = 100, 110

_LSTM = dict(connectivity="F", output_gate=True, bias="all", out_gate_bias=None, init=0.1, g="g2", h="h1")


class TemporalOrder(Task):
    spec = TaskSpec(
        name="temporal-order",
        title="Temporal order (Exp 6a/6b)",
        paper="PAPER.md §3.8; Table 9; Table 10 rows 6a, 6b",
        params=(
            Param("marks", "int", 2, "number of X/Y positions: 2 (6a, 4 classes) | 3 (6b, 8 classes)", low=2, high=3),
            Param(
                "position_base",
                "int",
                1,
                "position of the first element E: 1 (t1 in 10-20 is the 10th-20th element) | 0",
                low=0,
                high=1,
            ),
        ),
        version=1,
    )
    paper_defaults = {
        "lstm": dict(blocks=2, block_size=2, in_gate_bias=(-2.0, -4.0), lr=0.5, **_LSTM),
    }
    #: Table 10 row 6b.
    paper_defaults_6b = {
        "lstm": dict(blocks=3, block_size=2, in_gate_bias=(-2.0, -4.0, -6.0), lr=0.1, **_LSTM),
    }
    tolerance = 0.3

    @property
    def n_in(self) -> int:
        return len(SYMBOLS)

    @property
    def n_out(self) -> int:
        return 2 ** self.params["marks"]

    @property
    def max_length(self) -> int:
        return MAX_LENGTH

    @property
    def classes(self) -> tuple[str, ...]:
        """The paper's class names in index order."""
        return CLASSES[self.params["marks"]]

    def model_defaults(self, model: str) -> dict[str, Any]:
        table = self.paper_defaults_6b if self.params["marks"] == 3 else self.paper_defaults
        return dict(table.get(model, {}))

    def protocol(self) -> Protocol:
        return Protocol(
            stop=st3(0.1),
            max_sequences=5_000_000,
            n_test=2560,
            description="ST3(0.1): mean error of the 2000 most recent sequences < 0.1 and all correct",
        )

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        marks = self.params["marks"]
        L = MAX_LENGTH
        u = rng.random((n, 1 + 2 * marks + L))
        lengths = MIN_LENGTH + np.floor(u[:, 0] * (MAX_LENGTH - MIN_LENGTH + 1)).astype(np.int64)
        rows = np.arange(n)
        active = np.asarray(DISTRACTORS, dtype=np.int64)[np.floor(u[:, 1 + 2 * marks :] * 4).astype(np.int64)]
        label = np.zeros(n, dtype=np.int64)
        for k, (lo, hi) in enumerate(WINDOWS[marks]):
            where = lo - self.params["position_base"] + np.floor(u[:, 1 + 2 * k] * (hi - lo + 1)).astype(np.int64)
            is_y = u[:, 2 + 2 * k] >= 0.5
            active[rows, where] = np.where(is_y, Y, X)
            label = 2 * label + is_y
        active[:, 0] = E
        active[rows, lengths - 1] = B
        active[np.arange(L)[None, :] >= lengths[:, None]] = -1
        inputs = np.zeros((n, L, len(SYMBOLS)))
        r, t = np.nonzero(active >= 0)
        inputs[r, t, active[r, t]] = 1.0
        targets = np.zeros((n, L, self.n_out))
        mask = np.zeros((n, L), dtype=bool)
        targets[rows, lengths - 1, label] = 1.0
        mask[rows, lengths - 1] = True
        return SequenceBatch(inputs, targets, mask, lengths, {"label": label, "active": active})

"""Experiment 5: the multiplication problem (PAPER.md §3.7, Table 8, Table 10 row 5, Table 11).

As the adding problem (:mod:`lstm97.tasks.adding`, same marking and lengths), except: values are uniform in
[0, 1]; if the first pair is the one marked in step 1, X1 = 1.0; the target at the last step is X1 * X2
(unscaled). A sequence is correct when |error| < 0.04 (ABS(0.04)).

Each element is a pair (value, marker). The length is uniform in [T, T + floor(T/10)]. One of the first 10
pairs is marked (marker 1.0, value X1), then one of the first floor(T/2) - 1 pairs that is still unmarked (X2).
All other markers are 0, except the first and the last pair, whose markers are -1.

Stopping: "fewer than n_seq of the 2000 most recent training sequences have absolute error > 0.04" (paper:
n_seq = 140 and 13), i.e. ``WindowRule(2000, max_wrong=n_seq - 1)``; it cannot hold before 2000 sequences.

Choices where PAPER.md is open (see docs/deviations.md):

* ``first_pair_value`` (UNSPECIFIED in the paper): when the first pair is the one marked in step 1, X1 = 1.0.
  Its marker is 1.0 (it is marked), and with the default ``one`` its value input is set to 1.0 as well, so the
  net sees the X1 it must multiply (mirroring the adding task's ``zero``). ``keep`` leaves the drawn value on
  the input while the target still uses X1 = 1.0. The rule applies to the mark of step 1 only: if step 2
  marks the first pair (as X2), its drawn value is used, as in the adding task.
* Odd T: "T/2 - 1" is read as floor(T/2) - 1; "T/10" as floor(T/10).
* A sequence counts as wrong for the stopping rule when it is not correct, i.e. |error| >= 0.04; the paper's
  "absolute error > 0.04" differs only when the error is exactly 0.04.
* Random draws: each sequence consumes exactly ``3 + T + floor(T/10)`` uniform doubles from the Generator
  (length, first mark, second mark, values), as in the adding task; integers are ``floor(u * k)``. With the
  same seed and T, lengths and marked positions equal the adding task's.
"""

from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..params import Param
from .base import Protocol, SequenceBatch, Task, TaskSpec
from .criteria import WindowRule


class Multiplication(Task):
    spec = TaskSpec(
        name="multiplication",
        title="Multiplication problem (Exp 5)",
        paper="PAPER.md §3.7; Table 8; Table 10 row 5",
        params=(
            Param("T", "int", 100, "minimal sequence length (paper: 100)", low=20, high=1_000_000),
            Param("n_seq", "int", 13,
                  "stop when fewer than n_seq of the 2000 most recent sequences are wrong (paper: 140, 13)",
                  low=1, high=2000),
            Param("first_pair_value", "str", "one",
                  "value input when the first pair is marked (X1 = 1): one | keep", choices=("one", "keep")),
        ),
        version=1,
    )
    paper_defaults = {
        "lstm": dict(
            blocks=2, block_size=2, connectivity="F", output_gate=True, bias="all",
            in_gate_bias=None, out_gate_bias=None, init=0.1, lr=0.1, g="g2", h="h1",
        ),
    }
    tolerance = 0.04

    @property
    def n_in(self) -> int:
        return 2

    @property
    def n_out(self) -> int:
        return 1

    @property
    def max_length(self) -> int:
        T = self.params["T"]
        return T + T // 10

    def protocol(self) -> Protocol:
        n_seq = self.params["n_seq"]
        return Protocol(
            stop=WindowRule(2000, max_wrong=n_seq - 1, name=f"fewer than {n_seq} of 2000 wrong"),
            max_sequences=5_000_000, n_test=2560,
            description=f"fewer than {n_seq} of the 2000 most recent training sequences have "
                        "absolute error >= 0.04",
        )

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        T = self.params["T"]
        L = self.max_length
        u = rng.random((n, 3 + L))
        lengths = T + np.floor(u[:, 0] * (T // 10 + 1)).astype(np.int64)
        first = np.floor(u[:, 1] * 10).astype(np.int64)
        # second mark: uniform over the still-unmarked pairs among the first floor(T/2) - 1
        window = T // 2 - 1
        free = window - (first < window)
        second = np.floor(u[:, 2] * free).astype(np.int64)
        second += (first < window) & (second >= first)
        values = u[:, 3:].copy()
        steps = np.arange(L)
        alive = steps[None, :] < lengths[:, None]
        rows = np.arange(n)
        x1 = values[rows, first].copy()
        x1[first == 0] = 1.0
        x2 = values[rows, second]
        markers = np.zeros((n, L))
        markers[:, 0] = -1.0
        markers[rows, lengths - 1] = -1.0
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        if self.params["first_pair_value"] == "one":
            values[first == 0, 0] = 1.0
        inputs = np.stack([np.where(alive, values, 0.0), markers], axis=2)
        targets = np.zeros((n, L, 1))
        mask = np.zeros((n, L), dtype=bool)
        targets[rows, lengths - 1, 0] = x1 * x2
        mask[rows, lengths - 1] = True
        return SequenceBatch(inputs, targets, mask, lengths)

    def validate(self) -> None:
        if self.params["T"] // 2 - 1 < 2:
            raise UserError("parameter T must be at least 20 for the multiplication problem.")

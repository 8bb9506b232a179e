"""Experiment 5: the multiplication problem (PAPER.md §3.7, Table 8, Table 10 row 5, Table 11).

As the adding problem (:class:`~lstm97.tasks.adding.Adding`, whose generator it reuses), except: values are uniform in
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

from ..params import Param
from .adding import Adding
from .base import Protocol, TaskSpec
from .criteria import WindowRule


class Multiplication(Adding):
    summary_metrics = ("test_wrong", "test_mse")  # Table 8 gives the test MSE beside the wrong predictions

    spec = TaskSpec(
        name="multiplication",
        title="Multiplication problem (Exp 5)",
        paper="PAPER.md §3.7; Table 8; Table 10 row 5",
        params=(
            Param("T", "int", 100, "minimal sequence length (paper: 100)", low=20, high=1_000_000),
            Param(
                "n_seq",
                "int",
                13,
                "stop when fewer than n_seq of the 2000 most recent sequences are wrong (paper: 140, 13)",
                low=1,
                high=2000,
            ),
            Param(
                "first_pair_value",
                "str",
                "one",
                "value input when the first pair is marked (X1 = 1): one | keep",
                choices=("one", "keep"),
            ),
        ),
        version=1,
    )
    paper_defaults = {
        "lstm": dict(
            blocks=2,
            block_size=2,
            connectivity="F",
            output_gate=True,
            bias="all",
            in_gate_bias=None,
            out_gate_bias=None,
            init=0.1,
            lr=0.1,
            g="g2",
            h="h1",
        ),
    }
    value_range = (0.0, 1.0)
    x1_if_first_marked = 1.0
    x1_on_input = "one"

    def target(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        return x1 * x2

    def protocol(self) -> Protocol:
        n_seq = self.params["n_seq"]
        return Protocol(
            stop=WindowRule(2000, max_wrong=n_seq - 1, name=f"fewer than {n_seq} of 2000 wrong"),
            max_sequences=5_000_000,
            n_test=2560,
            description=f"fewer than {n_seq} of the 2000 most recent training sequences have absolute error >= 0.04",
        )

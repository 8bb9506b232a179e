"""The copy task (Arjovsky, Shah & Bengio 2016, after Hochreiter & Schmidhuber 1997's long-lag tasks): PAPER.md
§11.4. Not in the 1997 paper; an lstm97 addition, see docs/deviations.md.

Alphabet a0 … a9, one-hot (10 input and 10 output units). A sequence has T + 20 steps: 10 symbols drawn
uniformly from a0 … a7, then T - 1 blanks a8, the delimiter a9, then 10 blanks a8. The target at every step is
the blank a8 for the first T + 10 steps, then the 10 symbols in their order: the net must reproduce them after
the delimiter, T steps after it saw the last of them.

* Error (:meth:`Copy.error`): the cross-entropy -sum_k t_k log y_k per step, averaged over the T + 20 steps (all
  of them are target steps). A memoryless predictor (blank for T + 10 steps, then each of a0 … a7 with probability
  1/8) scores 10 log 8 / (T + 20) (:meth:`Copy.baseline`); the published fact is "beats the baseline" or not
  (LSTM with 40 units only at T = 100, PAPER.md §11.4), so the success test is a
  :class:`~lstm97.tasks.criteria.FinalTestRule`: after the whole budget, the mean test cross-entropy is below the
  baseline.
* The outputs must be a probability distribution (``requires = {"distribution"}``): the LSTM and the GRU with
  ``output=softmax`` (their paper defaults here); any other model refuses the task when it is built for it.
* ``correct`` (reported as ``test_wrong``, not the success criterion): the most active output is the right symbol
  at all 10 recall steps (argmax; a tie counts wrong).
* Budget (an lstm97 choice; the papers train on batches of 20 for thousands of iterations and report curves):
  200,000 training sequences, each fresh; ``n_test`` 1,000. Paper defaults: the papers' "40 units" as the 1997
  LSTM with 40 memory cells (40 blocks of one cell, connectivity ``cells``, biases everywhere, no forget gates),
  softmax outputs, trained online with the truncated gradient (the papers used a modern LSTM, forget gates
  included, trained by RMSProp on the full gradient: a deviation); lr 0.2 is an lstm97 choice (at T = 10 and
  20,000 sequences it beat the baseline, 0.39 against 0.69, where forget gates with random biases or lr 0.05 did
  not). The GRU: 40 units, softmax outputs, Adam 1e-3.
* Random draws: each sequence consumes exactly 10 uniform doubles (``floor(8 u)``), so sampling is chunk-invariant
  and vectorised. ``info["active"]`` holds the input symbol's index (one-hot inputs, for the kernels' sparse path).
"""

from __future__ import annotations

import math

import numpy as np

from ..params import Param
from .base import Protocol, SequenceBatch, Task, TaskSpec
from .criteria import FinalTestRule

#: Symbols to copy, the blank and the delimiter.
N_COPY = 10
N_SYMBOLS = 8
BLANK = 8
DELIMITER = 9


class Copy(Task):
    spec = TaskSpec(
        name="copy",
        title="Copy task (Arjovsky et al. 2016): reproduce 10 symbols after T blanks",
        paper="PAPER.md §11.4 (not in the 1997 paper)",
        params=(
            Param(
                "T",
                "int",
                100,
                "delay: the delimiter comes T steps after the last symbol (papers: 100, 200, ...)",
                low=1,
                high=1_000_000,
            ),  # fmt: skip
        ),
        version=1,
    )
    requires = frozenset({"distribution"})
    summary_metrics = ("test_mse", "test_wrong")
    paper_defaults = {
        "lstm": dict(
            blocks=40,
            block_size=1,
            connectivity="cells",
            bias="all",
            output="softmax",
            lr=0.2,
        ),
        "gru": dict(hidden=40, output="softmax", optimizer="adam", lr=1e-3),
    }

    @property
    def n_in(self) -> int:
        return 10

    @property
    def n_out(self) -> int:
        return 10

    def baseline(self) -> float:
        """Cross-entropy per step of the memoryless predictor: 10 log 8 / (T + 20)."""
        return N_COPY * math.log(N_SYMBOLS) / (self.params["T"] + 2 * N_COPY)

    def protocol(self) -> Protocol:
        base = self.baseline()
        return Protocol(
            stop=FinalTestRule(base, name=f"test cross-entropy < {base:.6g}"),
            max_sequences=200_000,
            n_test=1_000,
            description=f"train for the whole budget, then succeed if the test cross-entropy per step beats the "
            f"memoryless baseline 10 log 8 / (T + 20) = {base:.6g}",
        )

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        T = self.params["T"]
        L = T + 2 * N_COPY
        symbols = np.floor(rng.random((n, N_COPY)) * N_SYMBOLS).astype(np.int64)
        active = np.full((n, L), BLANK, dtype=np.int64)
        active[:, :N_COPY] = symbols
        active[:, N_COPY + T - 1] = DELIMITER
        wanted = np.full((n, L), BLANK, dtype=np.int64)
        wanted[:, L - N_COPY :] = symbols
        eye = np.eye(10)
        inputs = np.ascontiguousarray(eye[active])
        targets = np.ascontiguousarray(eye[wanted])
        mask = np.ones((n, L), dtype=bool)
        return SequenceBatch(inputs, targets, mask, np.full(n, L, dtype=np.int64), {"active": active})

    def error(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per sequence: the cross-entropy -sum_k t_k log y_k, averaged over its target steps (an output of 0 at
        the right symbol gives +inf; a NaN output NaN)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(batch.targets > 0, np.log(np.where(batch.targets > 0, outputs, 1.0)), 0.0)
        ce = -(batch.targets * logs).sum(axis=2)
        steps = np.maximum(batch.mask.sum(axis=1), 1)
        return np.where(batch.mask, ce, 0.0).sum(axis=1) / steps

    def correct(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per sequence: at each of the last 10 steps the right symbol's output is strictly above every other
        (NaN outputs are wrong)."""
        n, L = batch.mask.shape
        ends = batch.lengths[:, None] - N_COPY + np.arange(N_COPY)[None, :]
        rows = np.arange(n)[:, None]
        out = outputs[rows, ends]  # [n, 10, n_out]
        want = batch.targets[rows, ends].argmax(axis=2)
        right = np.take_along_axis(out, want[:, :, None], axis=2)[:, :, 0]
        others = np.where(np.eye(10, dtype=bool)[want], -np.inf, out).max(axis=2)
        return (right > others).all(axis=1)

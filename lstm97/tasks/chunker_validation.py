"""Schmidhuber's 20-step, 22-symbol prediction task (Schmidhuber 1992, "Learning complex, extended sequences
using the principle of history compression", Neural Computation 4(2), section "An experiment"): the
validation run of the chunker (``--model chunker``, PAPER.md §2 "CH", §11.5), not an experiment of the 1997
paper.

The source, as published (people.idsia.ch/~juergen/chunker/node7.html): 22 possible input symbols a, x, b_1,
…, b_20, observed one at a time; only two input sequences, a b_1 … b_20 and x b_1 … b_20, presented in random
order, without episode boundaries (a continuous stream). One goal is to predict the next input (the first
symbol of each sequence is not predictable); the second is to make a "target unit" 1 whenever the last 21
processed symbols were a, b_1, …, b_20 and 0 whenever they were x, b_1, …, b_20. A conventional recurrent net
did not improve on the target unit within 1,000,000 training sequences; the chunker (truncated BPTT, error
propagated at most 3 steps into the past, no time representation) needed fewer than 5,000 training sequences
in 13 of 17 runs, fewer than 35,000 in all.

``history-compression``: symbols a (unit 0), x (1), b_1 … b_lag (2 … lag+1); lag+2 one-hot inputs; lag+3
outputs: the next symbol (units 0 … lag+1) and the target unit (lag+2). A sequence is ``blocks`` blocks (the
source's "input sequences", each a or x with probability 0.5, then b_1 … b_lag), streamed without any
boundary; the inputs are all its symbols. The target at every step: the one-hot code of the next symbol (after
the last block, the first symbol of a further random block, which is drawn for this and never input) and the
target unit: 1 (a-block) or 0 (x-block) at each block's last step, 0 at every other step. The mask is true
everywhere. ``info["active"]`` gives the hot input per step; ``info["label"]`` the class of the first block
(0: a, 1: x).

Success (:meth:`HistoryCompression.correct`): at every block end the target unit's absolute error is below 0.25
(the source: "performance ... concerning the target unit"; 0.25 as Exp 2's ABS(0.25)). Stopping: an
``EvalRule(every=check_every, fresh=1000)``: the current net (for the chunker, A alone) is tested on 1,000 fresh
sequences after every ``check_every`` training sequences; the trial stops at the first check that all are
correct. Budget 100,000 training sequences (every one of the source's runs needed fewer than 35,000).

Choices where the source is open (readings):

* *Episode boundaries.* The source streams blocks without boundaries; this suite resets a net's activations at
  each sequence start. ``blocks=1`` (default) makes one block one sequence, so that "training sequences" count
  the source's sequences, but the net then knows where a block starts; ``blocks=k`` streams k blocks without a
  reset (the count of training sequences then counts groups of k blocks).
* *The target unit between block ends.* The source gives it a target only when the last 21 symbols form a
  block; the suite's targets have one mask per step, not per unit, so the target unit's target is 0 at every
  other step (the unit must signal a completed a-block).
* *The first symbol after the sequence* is the next-symbol target of the last step: a random class symbol,
  drawn per sequence (never predictable, as in the stream).
* Random draws: blocks + 1 uniform doubles per sequence (each block's class, then the one after the sequence),
  class a when floor(2u) = 0.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from .base import Protocol, SequenceBatch, Task, TaskSpec
from .criteria import EvalRule

#: Budget (training sequences) and final test size.
BUDGET = 100_000
N_TEST = 1000
#: Fresh sequences tested at each check.
N_CHECK = 1000


class HistoryCompression(Task):
    spec = TaskSpec(
        name="history-compression",
        title="Schmidhuber's 20-step, 22-symbol chunker task (1992)",
        paper="Schmidhuber 1992, Neural Computation 4(2), 'An experiment'; PAPER.md §11.5",
        params=(
            Param(
                "lag",
                "int",
                20,
                "symbols b_1..b_lag after a/x in each block (source: 20, 22 symbols)",
                low=1,
                high=10_000,
            ),
            Param(
                "blocks",
                "int",
                1,
                "blocks per sequence, streamed without boundaries (activations reset only between sequences)",
                low=1,
                high=1000,
            ),
            Param(
                "check_every",
                "int",
                100,
                "test on 1,000 fresh sequences after every this many training sequences",
                low=1,
                high=10_000_000,
            ),
        ),
        version=1,
    )
    paper_defaults = {
        # Schmidhuber 1992: truncated BPTT, error propagated at most 3 steps into the past (truncate=4 counts
        # the current step too), no time representation; net sizes and learning rate not given
        "chunker": dict(train_a="bptt", train_c="bptt", truncate=4, time_code="none", lr=1.0),
    }
    tolerance = 0.25

    @property
    def n_in(self) -> int:
        return self.params["lag"] + 2

    @property
    def n_out(self) -> int:
        return self.params["lag"] + 3

    def protocol(self) -> Protocol:
        every = self.params["check_every"]
        rule = EvalRule(every=every, fresh=N_CHECK, name=f"target unit ABS(0.25) on {N_CHECK}")
        return Protocol(
            stop=rule,
            max_sequences=BUDGET,
            n_test=N_TEST,
            description=f"after every {every} training sequences, test {N_CHECK:,} fresh sequences: success when "
            "the target unit's absolute error is < 0.25 at every block end in all of them",
        )

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        lag, blocks = self.params["lag"], self.params["blocks"]
        size = lag + 1
        u = rng.random((n, blocks + 1))
        cls = np.floor(u * 2).astype(np.int64)  # 0: a, 1: x
        L = blocks * size
        seq = np.empty((n, L + 1), dtype=np.int64)
        for b in range(blocks):
            seq[:, b * size] = cls[:, b]
            seq[:, b * size + 1 : (b + 1) * size] = np.arange(2, lag + 2)
        seq[:, L] = cls[:, blocks]
        active = np.ascontiguousarray(seq[:, :L])
        rows = np.arange(n)[:, None]
        steps = np.arange(L)[None, :]
        inputs = np.zeros((n, L, lag + 2))
        inputs[rows, steps, active] = 1.0
        targets = np.zeros((n, L, lag + 3))
        targets[rows, steps, seq[:, 1:]] = 1.0
        ends = np.arange(blocks) * size + lag
        targets[:, ends, lag + 2] = (cls[:, :blocks] == 0).astype(np.float64)
        return SequenceBatch(
            inputs,
            targets,
            np.ones((n, L), dtype=bool),
            np.full(n, L, dtype=np.int64),
            {"active": active, "label": np.ascontiguousarray(cls[:, 0])},
        )

    def block_ends(self) -> np.ndarray:
        """The steps at which a block ends (where the target unit has its real target)."""
        size = self.params["lag"] + 1
        return np.arange(self.params["blocks"]) * size + self.params["lag"]

    def correct(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        unit = self.params["lag"] + 2
        ends = self.block_ends()
        err = np.abs(batch.targets[:, ends, unit] - outputs[:, ends, unit])
        return (err < self.tolerance).all(axis=1)  # NaN outputs count as wrong

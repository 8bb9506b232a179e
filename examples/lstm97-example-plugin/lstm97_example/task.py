"""The delayed-recall task: name, at a cue, the symbol shown a few steps earlier (not in the paper).

A sequence shows one of ``symbols`` symbols (one-hot) at step 0, then ``delay`` to ``delay + jitter`` steps
without a symbol (optionally with uniform noise on the symbol inputs), then a cue (the last input unit) at
its last step. The only target is at that last step: the one-hot code of the symbol shown at step 0. A
sequence is correct when every output is within ``tolerance`` of its target there.
"""

from __future__ import annotations

import numpy as np

from lstm97.params import Param
from lstm97.tasks import Protocol, SequenceBatch, Task, TaskSpec
from lstm97.tasks.criteria import EvalRule, WindowRule


class DelayedRecall(Task):
    spec = TaskSpec(
        name="delayed-recall",
        title="Delayed recall: name the first symbol at a cue, after a delay",
        paper="not in the paper (lstm97 example plugin)",
        params=(
            Param("delay", "int", 4, "shortest number of steps between the symbol and the cue", low=1, high=1000),
            Param("jitter", "int", 2, "the delay is uniform in [delay, delay + jitter]", low=0, high=1000),
            Param("symbols", "int", 2, "number of symbols (input and output units)", low=2, high=10),
            Param("noise", "float", 0.0, "half-width of uniform noise on the delay's inputs", low=0.0, high=1.0),
        ),
        version=1,
    )
    #: Hyperparameters that ``lstm97.models.make`` uses for each model (by its spec name) unless overridden.
    paper_defaults = {
        "lstm": {"blocks": 1, "block_size": 2, "lr": 0.5},
        "reservoir": {"units": 30, "lr": 0.5},
    }
    #: The default ``correct``: |target - output| < tolerance at every target step and output.
    tolerance = 0.3

    @property
    def n_in(self) -> int:
        return self.params["symbols"] + 1  # the symbols and the cue

    @property
    def n_out(self) -> int:
        return self.params["symbols"]

    def protocol(self) -> Protocol:
        return Protocol(
            stop=WindowRule(window=200, max_wrong=0, max_mean_error=0.05, name="recall-200"),
            milestones=(EvalRule(every=500, max_wrong=10, sets=("eval",), name="eval-95%"),),
            max_sequences=20_000,
            n_test=1000,
            n_eval=200,
            description="the 200 most recent training sequences all correct with mean error < 0.05 "
            "(milestone: at most 10 of 200 fixed evaluation sequences wrong, checked every 500)",
        )

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        delay, jitter, k, noise = (self.params[p] for p in ("delay", "jitter", "symbols", "noise"))
        L = delay + jitter + 2  # the longest sequence: symbol, delay steps, cue
        # A fixed amount of randomness per sequence, in sequence order: one call with n = k draws the same
        # numbers as k calls with n = 1 (chunk invariance).
        u = rng.random((n, 2 + L * k))
        symbol = np.floor(u[:, 0] * k).astype(np.int64)
        lengths = delay + 2 + np.floor(u[:, 1] * (jitter + 1)).astype(np.int64)
        rows, steps = np.arange(n), np.arange(L)
        inputs = np.zeros((n, L, k + 1))
        inputs[rows, 0, symbol] = 1.0
        during = (steps[None, :] >= 1) & (steps[None, :] < lengths[:, None] - 1)  # the delay steps
        inputs[:, :, :k] += np.where(during[:, :, None], noise * (2.0 * u[:, 2:].reshape(n, L, k) - 1.0), 0.0)
        inputs[rows, lengths - 1, k] = 1.0  # the cue
        targets = np.zeros((n, L, k))
        targets[rows, lengths - 1, symbol] = 1.0
        mask = np.zeros((n, L), dtype=bool)
        mask[rows, lengths - 1] = True
        return SequenceBatch(inputs, targets, mask, lengths)

"""The modern adding problem (Le, Jaitly & Hinton 2015; Arjovsky, Shah & Bengio 2016): PAPER.md §11.4. Not in
the 1997 paper (its adding problem is Exp 4, :mod:`.adding`); an lstm97 addition, see docs/deviations.md.

Each sequence has exactly T steps and two input rows: values uniform in [0, 1), and an indicator that is 1 at
exactly two steps, the first uniform in the first half (steps 0 .. floor(T/2) - 1), the second uniform in the
second half (steps floor(T/2) .. T - 1), and 0 elsewhere. The only target, at the last step, is the plain sum
of the two marked values, in [0, 2): the generator of the uRNN authors' source (``generate_data`` in
amarshah/complex_RNN's adding_problem.py, PAPER.md §11.4), one sequence per row. The papers use T = 100, 200,
400 and 750.

Protocol (the papers report learning curves, not a success criterion in the 1997 sense): train for the whole
budget on fresh sequences, then measure the test MSE on ``n_test`` fresh sequences; the trial succeeds when it
beats the do-nothing baseline, MSE = 0.167 (always answering the mean, 1: the variance 2/12 of the sum of two
U[0, 1] values), the published fact being "beats the baseline" or not (LSTM up to T = 400, not at 750), never
an MSE read off a figure (:class:`~lstm97.tasks.criteria.FinalTestRule`).

* Budget 400,000 training sequences: the 20,000 iterations of batches of 20 sequences that the uRNN authors'
  script declares as its defaults (the papers train on a fixed set of 100,000 sequences for several epochs; we
  draw every training sequence fresh, like the other tasks). A T = 100 trial takes about 25 s on one core here
  with the default LSTM (``output=linear``), about 50 s with ``gru`` (Adam). ``n_test`` = 10,000, the authors'
  test set size.
* Targets lie in [0, 2] (:meth:`AddingModern.target_range`): the logistic output units of the 1997 LSTM (and of
  every built-in model by default) cannot reach them; the runner refuses such a model, and
  ``--hp output=linear`` (lstm, gru) gives linear output units.
* ``correct`` (reported as ``test_wrong``, not the success criterion): |error| < 0.04 at the last step, the
  tolerance of 1997's Exp 4 taken in this task's units (an lstm97 choice; the papers define none).
* Random draws: each sequence consumes exactly T + 2 uniform doubles from the Generator (T values, then the two
  positions, ``floor(u * k)``), which makes sampling chunk-invariant and vectorised.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from .base import Protocol, SequenceBatch, Task, TaskSpec
from .criteria import FinalTestRule

#: MSE of the do-nothing answer 1 (the mean of the target): the variance of the sum of two U[0, 1] values, 2/12,
#: given as 0.167 in PAPER.md §11.4.
BASELINE_MSE = 0.167


class AddingModern(Task):
    spec = TaskSpec(
        name="adding-modern",
        title="Adding problem, modern form (Le et al. 2015; Arjovsky et al. 2016): the plain sum at the end",
        paper="PAPER.md §11.4 (not in the 1997 paper)",
        params=(Param("T", "int", 100, "sequence length (the papers: 100, 200, 400, 750)", low=2, high=1_000_000),),
        version=1,
    )
    tolerance = 0.04
    summary_metrics = ("test_mse", "test_wrong")

    @property
    def n_in(self) -> int:
        return 2

    @property
    def n_out(self) -> int:
        return 1

    def target_range(self) -> tuple[float, float]:
        """The sum of two values in [0, 1]: [0, 2]."""
        return (0.0, 2.0)

    def protocol(self) -> Protocol:
        return Protocol(
            stop=FinalTestRule(BASELINE_MSE, name=f"test MSE < {BASELINE_MSE:g}"),
            max_sequences=400_000,
            n_test=10_000,
            description=f"train for the whole budget, then succeed if the test MSE beats the do-nothing baseline "
            f"{BASELINE_MSE:g}",
        )

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        T = self.params["T"]
        half = T // 2
        u = rng.random((n, T + 2))
        values = u[:, :T]
        first = np.floor(u[:, T] * half).astype(np.int64)
        second = half + np.floor(u[:, T + 1] * (T - half)).astype(np.int64)
        rows = np.arange(n)
        marks = np.zeros((n, T))
        marks[rows, first] = 1.0
        marks[rows, second] = 1.0
        inputs = np.ascontiguousarray(np.stack([values, marks], axis=2))
        targets = np.zeros((n, T, 1))
        targets[:, T - 1, 0] = values[rows, first] + values[rows, second]
        mask = np.zeros((n, T), dtype=bool)
        mask[:, T - 1] = True
        return SequenceBatch(inputs, targets, mask, np.full(n, T, dtype=np.int64))

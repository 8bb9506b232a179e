"""The continual embedded Reber grammar (CERG; Gers, Schmidhuber & Cummins 2000, "Learning to Forget"): PAPER.md
§11.1, its Table 2. Not in the 1997 paper; an lstm97 addition, see docs/deviations.md.

Embedded Reber strings (the grammar of Exp 1, :mod:`.reber`, symbols B, T, P, S, X, V, E one-hot in that order)
are concatenated into one stream without any reset or marker: after a string's last E comes the next string's B.
The net predicts at every step the legal next symbols: the target is "two-hot", 1 for every legal next symbol and
0 for the others (after the last E: B alone). A symbol is predicted correctly when every output is within 0.49
of its target (``tolerance``).

One stream is one training "sequence": the net is trained on it online, symbol by symbol, until its first wrong
prediction (it is trained on that symbol too), and the stream ends there. The batch says so with
``info["halt"]`` (the tolerance, per stream): the model halts the stream at its first step with an output off by
0.49 or more and does not compute the later outputs (the task requires the capability ``halt``: only the LSTM
has it; every other model refuses the task when built for it). After every training stream the net, frozen, is
tested on 10 fresh streams (``EvalRule(every=1, fresh=10)``); the trial stops with success ("perfect") at the
first test where all 10 are predicted without any error, and has at most 30,000 training streams.

* Stream length (``stream``, default 100,000, the paper's test streams): training and test streams are the same
  length here (the runner draws both with :meth:`sample`); the paper's training streams end after 10^6 symbols at
  the latest (docs/deviations.md). Every symbol is a target step.
* Error (:meth:`ReberContinual.error`, stored as the trial's test_mse for the 10 final test streams): the
  symbols *not* predicted, ``stream`` minus the error-free prefix (0 for a perfect stream, as the task contract
  wants); the paper's "mean error-free length" of a net is ``stream - test_mse``. ``correct``: the whole stream
  error-free.
* ``info["reset"]`` (bool [n, L]) marks each string's first symbol (its outer B): the "external reset" of Gers et
  al.'s first Table 2 row (LSTM ``external_reset=true``) resets the net there; the other rows ignore it.
  ``info["active"]`` holds the input symbol's index: the batch is sparse (:meth:`SequenceBatch.one_hot`, no
  dense inputs are built unless a model without a one-hot path asks for them), and the legal-symbol targets are
  written by the walk itself; :meth:`ReberContinual.error_free` scans each stream only up to its first error.
* Random draws: stream position j consumes the j-th of ``stream`` uniform doubles u_j, whether or not the symbol
  emitted there is a choice (then the first listed edge is taken when floor(2 u_j) = 0, as in :mod:`.reber`):
  every stream takes exactly ``stream`` doubles, so sampling is chunk-invariant. The walk is a numba kernel.
  The runner first draws and runs each training and check stream's first 1,024 symbols, then 16,384, and the
  whole only when the stream is still error-free there (:attr:`ReberContinual.prefixes`; PCG64's ``advance``
  skips the rest of its doubles): records are those of whole streams, at a fraction of the cost.
* Paper defaults (PAPER.md §11.1): LSTM with 4 blocks of 2 cells, connectivity ``cells`` (gates and cells see the
  inputs and the previous cell outputs), ``bias=gates_outputs`` (gates and output units biased, cells not),
  ``outputs_see_inputs``, forget gates: 424 weights; init [-0.2, 0.2]; input and output gate biases -0.5, -1.0,
  -1.5, -2.0; forget gate biases +0.5, +1.0, +1.5, +2.0; lr 0.5. Without forget gates (Table 2's "standard LSTM"
  rows) the net has 360 weights.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit
from ..params import Param
from .base import Protocol, SequenceBatch, Task, TaskSpec
from .criteria import EvalRule
from .reber import _NEXT, EDGES, SYMBOLS, B, E, P, T

#: A symbol is correct when every output is within this of its target (PAPER.md §11.1 [secondary]).
TOLERANCE = 0.49
#: At most this many training streams (PAPER.md §11.1 [secondary]); test streams after each of them.
BUDGET = 30_000
N_TEST_STREAMS = 10
#: Prefix lengths at which streams are first tried (:attr:`ReberContinual.prefixes`); results do not depend on them.
PREFIXES = (1024, 16384)

# the Reber automaton as arrays for the walk: edge (node, branch) -> (symbol, next node); legal bits per node
_EDGE_SYM = np.zeros((6, 2), dtype=np.int64)
_EDGE_TO = np.zeros((6, 2), dtype=np.int64)
for _node, _edges in EDGES.items():
    for _b, (_sym, _to) in enumerate(_edges):
        _EDGE_SYM[_node, _b] = _sym
        _EDGE_TO[_node, _b] = _to
_LEGAL = np.array([_NEXT.get(node, 0) for node in range(6)], dtype=np.int64)


@njit
def _walk(u, edge_sym, edge_to, legal_of, active, targets, starts):
    """Fill one stream per row of ``u`` [n, L]: ``active`` (symbol index), ``targets`` (zeroed [n, L, 7]: 1 for
    each legal next symbol) and ``starts`` (True at each string's outer B). Phases of an embedded string: 0
    outer B, 1 outer T|P, 2 inner B, 3 the inner walk (node ``node``), 4 inner E, 5 outer T|P again, 6 outer
    E."""
    n, L = u.shape
    for i in range(n):
        phase = 0
        outer = T
        node = 0
        for j in range(L):
            if phase == 0:
                sym, nxt, phase = B, (1 << T) | (1 << P), 1
                starts[i, j] = True
            elif phase == 1:
                outer = T if int(u[i, j] * 2) == 0 else P
                sym, nxt, phase = outer, 1 << B, 2
            elif phase == 2:
                node = 0
                sym, nxt, phase = B, legal_of[0], 3
            elif phase == 3:
                branch = int(u[i, j] * 2)
                sym = edge_sym[node, branch]
                node = edge_to[node, branch]
                nxt = legal_of[node]
                if node == 3:
                    phase = 4
            elif phase == 4:
                sym, nxt, phase = E, 1 << outer, 5
            elif phase == 5:
                sym, nxt, phase = outer, 1 << E, 6
            else:
                sym, nxt, phase = E, 1 << B, 0
            active[i, j] = sym
            for b in range(7):
                if (nxt >> b) & 1:
                    targets[i, j, b] = 1.0


@njit
def _error_free(targets, outputs, mask, lengths, tol):
    """Per stream: the steps before its first wrong one (a masked-out step, or some output not within ``tol``
    of its target, NaN included), its length if none is; each stream is scanned only up to that step."""
    n, K = lengths.shape[0], targets.shape[2]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = lengths[i]
        for t in range(lengths[i]):
            bad = not mask[i, t]
            for k in range(K):
                if bad:
                    break
                bad = not (abs(targets[i, t, k] - outputs[i, t, k]) < tol)
            if bad:
                out[i] = t
                break
    return out


class ReberContinual(Task):
    spec = TaskSpec(
        name="reber-continual",
        title="Continual embedded Reber grammar (Gers et al. 2000): one stream of strings, no resets",
        paper="PAPER.md §11.1, Gers et al. 2000 Table 2 (not in the 1997 paper)",
        params=(
            Param(
                "stream",
                "int",
                100_000,
                "symbols per stream (training and test; the paper: test streams 100,000, training streams at most "
                "10^6)",
                low=10,
                high=10_000_000,
            ),
        ),
        version=1,
    )
    requires = frozenset({"halt"})
    tolerance = TOLERANCE
    summary_metrics = ("test_mse", "test_wrong")
    paper_defaults = {
        "lstm": dict(
            blocks=4,
            block_size=2,
            connectivity="cells",
            bias="gates_outputs",
            outputs_see_inputs=True,
            forget_gate=True,
            init=0.2,
            in_gate_bias=(-0.5, -1.0, -1.5, -2.0),
            out_gate_bias=(-0.5, -1.0, -1.5, -2.0),
            forget_gate_bias=(0.5, 1.0, 1.5, 2.0),
            lr=0.5,
        ),
    }

    @property
    def n_in(self) -> int:
        return 7

    @property
    def n_out(self) -> int:
        return 7

    def protocol(self) -> Protocol:
        L = self.params["stream"]
        return Protocol(
            stop=EvalRule(every=1, fresh=N_TEST_STREAMS, max_wrong=0, name=f"{N_TEST_STREAMS} test streams correct"),
            max_sequences=BUDGET,
            n_test=N_TEST_STREAMS,
            description=f"training streams of {L:,} symbols, each ended at its first wrong symbol (an output off by "
            f"{TOLERANCE:g} or more); after each, a test on {N_TEST_STREAMS} fresh streams; success ('perfect') "
            f"when all {N_TEST_STREAMS} are predicted without error",
        )

    @property
    def prefixes(self) -> tuple[int, ...]:
        """Streams are first drawn and run this far (:meth:`sample_prefix`): most end at their first wrong
        symbol long before (a net that has not learned, within tens of symbols), and drawing 100,000 symbols of
        each training and test stream took most of such a trial's time."""
        return tuple(k for k in PREFIXES if k < self.params["stream"])

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        return self._streams(rng.random((n, self.params["stream"])))

    def sample_prefix(self, rng: np.random.Generator, n: int, steps: int) -> SequenceBatch:
        """The first ``steps`` symbols of each of the ``n`` streams :meth:`sample` draws: stream i's first
        ``steps`` of its ``stream`` doubles, then ``rng`` advanced past the rest (PCG64 ``advance``; drawn and
        dropped for a generator without it), so that ``rng`` ends where :meth:`sample` leaves it."""
        L = self.params["stream"]
        u = np.empty((n, steps))
        for i in range(n):
            rng.random(out=u[i])
            if isinstance(rng.bit_generator, np.random.PCG64):
                rng.bit_generator.advance(L - steps)  # one 64-bit draw per double
            else:
                rng.random(L - steps)
        return self._streams(u)

    def settled(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per stream: whether it went wrong within the batch's symbols (then its error and correctness are the
        whole stream's)."""
        return self.error_free(batch, outputs) < batch.lengths

    def _streams(self, u: np.ndarray) -> SequenceBatch:
        n, L = u.shape
        active = np.zeros((n, L), dtype=np.int64)
        targets = np.zeros((n, L, 7))
        starts = np.zeros((n, L), dtype=np.bool_)
        _walk(u, _EDGE_SYM, _EDGE_TO, _LEGAL, active, targets, starts)
        return SequenceBatch.one_hot(
            active,
            7,
            targets,
            np.ones((n, L), dtype=bool),
            np.full(n, L, dtype=np.int64),
            {"reset": starts, "halt": np.full(n, TOLERANCE)},
        )

    def error_free(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per stream: the number of symbols predicted correctly before the first wrong one (its length if none
        is wrong; a NaN output is wrong)."""
        return _error_free(
            batch.targets, np.ascontiguousarray(outputs, dtype=np.float64), batch.mask, batch.lengths, self.tolerance
        )

    def error(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per stream: the symbols not predicted, the stream's length minus the error-free prefix (0 when
        perfect; of a :meth:`sample_prefix` batch, the whole stream's when :meth:`settled`)."""
        return (self.params["stream"] - self.error_free(batch, outputs)).astype(np.float64)

    def correct(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per stream: every symbol of the stream predicted within the tolerance."""
        return self.error_free(batch, outputs) == self.params["stream"]


def decode(batch: SequenceBatch, i: int = 0) -> str:
    """Stream ``i`` as a string of symbols, e.g. ``"BTBPVVETEBP..."``."""
    return "".join(SYMBOLS[s] for s in batch.info["active"][i, : int(batch.lengths[i])])

"""Experiment 1: the embedded Reber grammar (PAPER.md §3.1; Table 1; Table 10 rows 1-1..1-5; Table 11).

Symbols, one-hot in this order: B, T, P, S, X, V, E (7 input and 7 output units). The Reber automaton is the
edge list of §3.1 ("emit the symbol and move to"): start emits B and goes to node 0; node 0: T→1 | P→5;
node 1: S→1 | X→2; node 2: S→3 | X→5; node 5: T→5 | V→4; node 4: V→3 | P→2; node 3 emits E and ends. Each
branch is taken with probability 0.5. An embedded string is B, T|P (p = 0.5), a complete Reber string (with
its own B…E), the same T|P, E; the shortest has 9 symbols.

The net reads the string one symbol at a time and predicts the next one at every step: the inputs are every
symbol but the last, the target at step t is the one-hot code of symbol t+1 (the mask is true at every
step). ``info["legal"]`` (bool [n, L, 7]) holds the legal next symbols at every step; ``info["active"]``
(int64 [n, L]) the index of the symbol on the input (-1 in padding). A sequence is correct when at every step
the k most active outputs are exactly the k legal next symbols (k is 1 or 2).

Choices where PAPER.md is open (see docs/deviations.md):

* Target encoding (UNSPECIFIED, §9): the one-hot code of the actual next symbol (as PAPER.md assumes).
  Option ``targets=legal`` (the IDSIA generator, §10.2): every legal next symbol is 1 ("two-hot" where there
  are two), the others 0. It changes the targets, hence what the net is trained on and the error
  (``Task.error``, ``abs_error``), but not the success test, which reads ``info["legal"]`` in both cases; the
  ideal outputs are then the targets themselves.
* Success test option ``success=abs`` (with ``targets=legal`` only): ABS(``beta``), the misclassification rule
  of the JKU simulator (§10.1, "the largest absolute output error exceeds a threshold") and of the IDSIA code
  (§10.2, "every output's absolute error below a threshold"), neither of which has the "k most active" rule.
  ``beta`` is not in PAPER.md; its default 0.5 makes the rule "every legal output above 0.5 and every illegal
  one below", which implies the top-k rule. NaN outputs are wrong.
* Ties in the success test: "the k most active outputs" is ambiguous when a legal and an illegal output are
  exactly equal; a step is correct only when every legal output is strictly above every illegal one (ties
  count as wrong, so constant outputs, e.g. a net saturated at 1.0, are never correct; nor are NaN outputs).
  The one-hot targets themselves are therefore not correct at steps with two legal symbols;
  :meth:`Reber.ideal_outputs` (for the task contract) gives each legal symbol probability 1/k, the output of
  the best possible predictor.
* Random draws: every binary choice (the outer T|P, then every branch of the inner walk) consumes one uniform
  double u from the Generator, in string order; the first listed edge is taken when floor(2u) = 0. The amount
  of randomness per string varies with its length, but strings are drawn one after another, so sampling is
  chunk-invariant. Batches are padded to their longest string.
* Fixed sets (§3.1 "Data", Table 11 "t1"; :meth:`Reber.make_sets`): the 256 training strings are independent
  draws, so **duplicates inside the training set are allowed** (short strings are frequent: BTBPVVETE alone
  has probability 1/16). Test strings are drawn one after another and a draw equal to any training string is
  rejected; duplicates inside the test set are allowed too. In a trial (:meth:`Reber.fixed_sets`) the
  training set comes from the training stream and the test set from the test stream.
* Paper LSTM defaults: row 1-5 of Table 10 (3 blocks of size 2, lr 0.5, the best row of Table 1); rows 1-1..1-4
  are overrides (``blocks=4 block_size=1 out_gate_bias=-1,-2,-3,-4`` for the 4-1 nets, ``lr=0.1|0.2``).
  The random input-gate biases ("r") are drawn like every other weight (docs/deviations.md).
* Protocol (:meth:`Reber.protocol`, Table 11 "t1"): the training exemplars are drawn at random, with
  replacement, from the trial's fixed 256-string training set. Whenever the count of training strings
  reaches a multiple of ``check_every`` (how often the paper checked is UNSPECIFIED; default 256), the runner
  evaluates the current weights on both fixed sets (``EvalRule(sets=("train", "eval"))``) and stops at the
  first check at which every string of both is correct; "success after" is that count. The final test is
  the 256-string test set itself (``test_on_eval``). Option ``order=file`` (the JKU simulator, §10.1, which
  has no random exemplar selection): the training set is presented in its order, epoch after epoch
  (training string s, counting from 0, is set element s mod 256); it consumes no random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._jit import njit
from ..errors import UserError
from ..params import Param
from .base import Protocol, SequenceBatch, Task, TaskSpec
from .criteria import EvalRule

#: Training budget in string presentations (the paper gives none; about 25x its slowest LSTM mean, 39,740).
BUDGET = 1_000_000

#: The alphabet, in the order of the one-hot units.
SYMBOLS = "BTPSXVE"
B, T, P, S, X, V, E = range(7)

#: The Reber automaton of PAPER.md §3.1: node -> ((symbol, next node), (symbol, next node)); node 3 emits E.
EDGES: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {
    0: ((T, 1), (P, 5)),
    1: ((S, 1), (X, 2)),
    2: ((S, 3), (X, 5)),
    5: ((T, 5), (V, 4)),
    4: ((V, 3), (P, 2)),
}
_END = 3
#: Legal next symbols (bit k = symbol k) after reaching each node; node 3 can only emit E.
_NEXT = {node: (1 << a) | (1 << b) for node, ((a, _), (b, _)) in EDGES.items()} | {_END: 1 << E}


def _draw(rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """One embedded string: its symbols and, for every symbol but the last, the legal next symbols (bits)."""
    outer = (T, P)[int(rng.random() * 2)]
    syms = [B, outer, B]
    legal = [(1 << T) | (1 << P), 1 << B, _NEXT[0]]
    node = 0
    while node != _END:
        sym, node = EDGES[node][int(rng.random() * 2)]
        syms.append(sym)
        legal.append(_NEXT[node])
    syms += [E, outer, E]
    legal += [1 << outer, 1 << E]
    return tuple(syms), tuple(legal)


def decode(batch: SequenceBatch) -> list[str]:
    """The complete strings of a batch (input symbols plus the last target), e.g. ``"BTBPVVETE"``."""
    out = []
    for i in range(len(batch)):
        n = int(batch.lengths[i])
        syms = list(batch.inputs[i, :n].argmax(axis=1)) + [int(batch.targets[i, n - 1].argmax())]
        out.append("".join(SYMBOLS[s] for s in syms))
    return out


class Reber(Task):
    spec = TaskSpec(
        name="reber",
        title="Embedded Reber grammar (Exp 1)",
        paper="PAPER.md §3.1; Table 1; Table 10 rows 1-1..1-5",
        params=(
            Param(
                "check_every",
                "int",
                256,
                "check the criterion on both sets after every this many training strings",
                low=1,
                high=10_000_000,
            ),
            Param(
                "targets",
                "str",
                "next",
                "next: one-hot code of the actual next symbol (PAPER.md §3.1, §9) | legal: every legal next "
                "symbol set to 1, 'two-hot' (the IDSIA Reber generator, PAPER.md §10.2)",
                choices=("next", "legal"),
            ),
            Param(
                "order",
                "str",
                "random",
                "random: training strings drawn at random from the fixed set ('t1', PAPER.md §3.1, Table 11) | "
                "file: the fixed set presented in order, epoch after epoch (the JKU simulator, PAPER.md §10.1)",
                choices=("random", "file"),
            ),
            Param(
                "success",
                "str",
                "top-k",
                "top-k: at every step the k legal next symbols are the k most active outputs (PAPER.md §3.1) | "
                "abs: ABS(beta), every output within beta of its target at every step (the JKU and IDSIA "
                "programs' misclassification rule, PAPER.md §10.1, §10.2; needs targets=legal)",
                choices=("top-k", "abs"),
            ),
            Param(
                "beta",
                "float",
                0.5,
                "success=abs: the largest absolute output error allowed (not given in PAPER.md)",
                low=1e-6,
                high=1.0,
            ),
        ),
        version=1,
    )
    paper_defaults = {
        "lstm": dict(
            blocks=3,
            block_size=2,
            connectivity="F",
            output_gate=True,
            bias="gates",
            in_gate_bias=None,
            out_gate_bias=(-1.0, -2.0, -3.0),
            init=0.2,
            lr=0.5,
            g="g2",
            h="h1",
        ),
        # Table 1: RTRL with 3 hidden units (≈170 weights, lr 0.05; Smith & Zipser's fully recurrent net:
        # exactly 170 without biases)
        "rtrl": dict(arch="wz", hidden=3, bias=False, act="logistic", init=0.2, lr=0.05),
        # Table 1: Elman net with 15 hidden units; without biases it has exactly the paper's ≈435 weights.
        # Its learning rate is UNSPECIFIED (Cleeremans et al.'s results were quoted); 0.1 here.
        "elman": dict(arch="layered", recurrence="full", hidden=15, bias=False, act="logistic", init=0.2, lr=0.1),
    }
    #: Sizes of the fixed training and test sets (§3.1 "Data").
    train_size = 256
    test_size = 256

    @property
    def n_in(self) -> int:
        return 7

    @property
    def n_out(self) -> int:
        return 7

    def protocol(self) -> Protocol:
        every = self.params["check_every"]
        order = self.params["order"]
        drawn = "drawn at random from" if order == "random" else "presented in order (epoch after epoch) from"
        how = ""
        if self.params["success"] == "abs":
            how = f" (ABS({self.params['beta']:g}): every output within {self.params['beta']:g} of its target)"
        return Protocol(
            stop=EvalRule(every=every, sets=("train", "eval"), name="train+test correct"),
            max_sequences=BUDGET,
            n_test=self.test_size,
            n_train=self.train_size,
            n_eval=self.test_size,
            test_on_eval=True,
            order=order,
            description=f"every symbol of every training and test string predicted correctly{how}, checked after "
            f"every {every} training strings {drawn} the {self.train_size}-string set",
        )

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        return self._batch([_draw(rng) for _ in range(n)], self.params["targets"])

    def make_sets(
        self,
        rng: np.random.Generator,
        n_train: int = 256,
        n_test: int = 256,
        test_rng: np.random.Generator | None = None,
    ) -> tuple[SequenceBatch, SequenceBatch]:
        """A training set of ``n_train`` random strings (duplicates allowed) and a test set of ``n_test``
        random strings none of which occurs in the training set (duplicates among them allowed).

        The test strings come from ``test_rng`` (default: ``rng``, after the training strings).
        """
        train = [_draw(rng) for _ in range(n_train)]
        seen = {syms for syms, _ in train}
        test_rng = rng if test_rng is None else test_rng
        test: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        while len(test) < n_test:
            drawn = _draw(test_rng)
            if drawn[0] not in seen:
                test.append(drawn)
        mode = self.params["targets"]
        return self._batch(train, mode), self._batch(test, mode)

    def fixed_sets(
        self, train_rng: np.random.Generator, eval_rng: np.random.Generator
    ) -> tuple[SequenceBatch | None, SequenceBatch | None]:
        """The trial's 256 training strings (from ``train_rng``) and 256 test strings that exclude them."""
        return self.make_sets(train_rng, self.train_size, self.test_size, test_rng=eval_rng)

    def validate(self) -> None:
        if self.params["success"] == "abs" and self.params["targets"] != "legal":
            raise UserError(
                "parameter success=abs needs targets=legal: with one-hot next-symbol targets no prediction is "
                "within beta < 0.5 of the target at a step with two legal symbols (use success=top-k)"
            )

    def correct(self, batch: SequenceBatch, outputs: np.ndarray) -> np.ndarray:
        """Per string: at every step (the mask), top-k: every legal output strictly above every illegal one;
        abs: ABS(beta) (``max_abs_error < beta``). A NaN output makes its step wrong in both."""
        n, L = batch.mask.shape
        legal = batch.info["legal"]
        if outputs.ndim != 3 or outputs.shape[0] != n or outputs.shape[1] < L or outputs.shape[2] != legal.shape[2]:
            raise ValueError(f"outputs of shape {outputs.shape} do not fit a batch of shape {batch.targets.shape}")
        if self.params["success"] == "abs":
            return _abs_correct(batch.targets, outputs, batch.mask, float(self.params["beta"]))
        return _top_k_correct(legal, outputs, batch.mask)

    def ideal_outputs(self, batch: SequenceBatch) -> np.ndarray:
        """The best prediction: probability 1/k for each of the k legal next symbols (0 in padding); with
        ``targets="legal"`` the targets themselves (1 for every legal next symbol)."""
        if self.params["targets"] == "legal":
            return batch.targets
        legal = batch.info["legal"]
        return legal / np.maximum(legal.sum(axis=2), 1)[:, :, None]

    @staticmethod
    def _batch(strings: Sequence[tuple[tuple[int, ...], tuple[int, ...]]], targets: str = "next") -> SequenceBatch:
        n = len(strings)
        lengths = np.array([len(syms) - 1 for syms, _ in strings], dtype=np.int64)
        L = int(lengths.max()) if n else 0
        active = np.full((n, L), -1, dtype=np.int64)
        following = np.full((n, L), -1, dtype=np.int64)
        bits = np.zeros((n, L), dtype=np.int64)
        for i, (syms, legal) in enumerate(strings):
            m = len(syms) - 1
            active[i, :m] = syms[:-1]
            following[i, :m] = syms[1:]
            bits[i, :m] = legal
        mask = active >= 0
        rows, steps = np.nonzero(mask)
        inputs = np.zeros((n, L, 7))
        inputs[rows, steps, active[rows, steps]] = 1.0
        legal_sets = ((bits[:, :, None] >> np.arange(7)) & 1).astype(bool)
        if targets == "legal":  # "two-hot": every legal next symbol is 1 (0 in padding: no legal symbols there)
            target = legal_sets.astype(np.float64)
        else:
            target = np.zeros((n, L, 7))
            target[rows, steps, following[rows, steps]] = 1.0
        return SequenceBatch(inputs, target, mask, lengths, {"legal": legal_sets, "active": active})


@njit
def _top_k_correct(legal, outputs, mask):
    """bool [n]: at every masked step t < L of string i, the lowest output among the legal symbols
    (``legal[i, t]``) is strictly above the highest among the illegal ones (+inf and -inf where there are none);
    a NaN output makes the step wrong. Each string stops at its first wrong step."""
    n, L = mask.shape
    ok = np.ones(n, dtype=np.bool_)
    for i in range(n):
        for t in range(L):
            if not mask[i, t]:
                continue
            lowest, highest = np.inf, -np.inf
            for j in range(outputs.shape[2]):
                y = outputs[i, t, j]
                if math.isnan(y):
                    lowest = np.nan
                    break
                if legal[i, t, j]:
                    lowest = min(lowest, y)
                else:
                    highest = max(highest, y)
            if not lowest > highest:
                ok[i] = False
                break
    return ok


@njit
def _abs_correct(targets, outputs, mask, beta):
    """bool [n]: ``max_abs_error(batch, outputs) < beta``, i.e. the maximum over steps of |target - output|
    maximised over the outputs at masked steps and 0 at the others is below ``beta`` (NaN: not below). Each
    string stops once the maximum reached is no longer below ``beta``."""
    n, L = mask.shape
    ok = np.ones(n, dtype=np.bool_)
    for i in range(n):
        for t in range(L):
            err = 0.0
            if mask[i, t]:
                for j in range(targets.shape[2]):
                    e = abs(targets[i, t, j] - outputs[i, t, j])
                    if not e <= err:  # a larger error, or NaN (which np.max propagates)
                        err = e
                        if math.isnan(e):
                            break
            if not err < beta:
                ok[i] = False
                break
    return ok

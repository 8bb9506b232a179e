"""Schmidhuber's two-net neural sequence chunker (Schmidhuber 1992, "Learning complex, extended sequences
using the principle of history compression", Neural Computation 4(2); PAPER.md §2 "CH", §11.5; Table 2's CH
row). Kernel: :mod:`._chunker_kernels` (its docstring gives the equations step by step).

**The two nets.** Both are built like the RTRL net of Exp 2a (``rtrl`` with ``arch=layered``, recurrence
``self``, skip connections, no bias, logistic units in [0, 1], init [-init, init]): ``hidden`` (A) or
``c_hidden`` (C) self-recurrent hidden units seeing the inputs; output units seeing the inputs and the hidden
units (``outputs_see``: of the same step, or of the previous one as the ``rtrl`` 2a defaults). The automatizer
A has the task's K outputs plus one *extra output unit per hidden unit of C*, which predicts C's hidden state
("one of them with an extra output unit predicting the other's hidden unit", PAPER.md §2). The chunker C has
the K task outputs and, with ``time_code``, extra inputs coding the time step.

**How the system runs.** At every step A sees the input and predicts the task's target. C is consulted at the
first step of every sequence (its start is not predictable) and at every step where *A failed* (``fail_test``):
it processes that step's input (and time code) and is trained to predict the target A failed to emit; between
its steps C's state does not change. A is trained at every step towards the task's target (where the step has
one) and towards C's current hidden state on its extra outputs, which folds C's knowledge into A.
**The model's outputs are A's task outputs** ("A emits teacher targets"): C only teaches. :meth:`Chunker.predict`
runs A alone (C would need the targets to know when A fails); the outputs :meth:`Chunker.train_chunk` returns
are A's, computed before each step's weight change.

Where the 1992 paper's input stream differs from this suite's batches: A's input is the task's input only (the
paper also feeds the previous teacher target back into A; in Exps 2a/2b the target is the next input, so nothing
is lost), and C predicts the *targets* A failed on, not its next input (the two coincide when the target is the
next input, Schmidhuber's "target prediction as a special case of input prediction"): C has the K task outputs,
no input- or time-predicting ones. A predicts C's hidden units, not its outputs.

**Weights and the paper's count.** ``state.w`` holds A, whose size is :attr:`n_weights`:
H_A (n_in + 1) + (K + H_C)(n_in + H_A); for Exp 2a at p = 100 (n_in = K = 101, H_A = H_C = 1) that is
102 + 102 * 102 = **10,506**, the paper's CH count: the 10,404-weight RTRL net (101 * 102 output weights, 101 input
and 1 self weight of the hidden unit) plus the extra output unit's 101 input and 1 hidden weight. C is learned
state too but lives in ``state.extra["c"]`` (a flat vector, layout :attr:`Chunker.c_layout`): H_C (n_in + n_t
+ 1) + K (n_in + n_t + H_C), 10,404 at p = 100 without time code, so the whole system has
:attr:`Chunker.system_weights` = 20,910. Like the paper (whose count matches A alone), the stored weight count is
A's, the net that does the task at the end.

**Learning.** ``train_a`` / ``train_c``: ``rtrl`` (exact forward-mode sensitivities of the self-recurrent units;
the nets of the 1997 paper are RTRL nets) or ``bptt`` (truncated BPTT over the net's ``truncate`` most recent
steps, Schmidhuber's validation run used 3 steps into the past = ``truncate=4``; 0: untruncated). ``update``:
``step`` (every change applied at once, real-time) or ``sequence`` (summed and applied at the sequence end: the
exact gradient of each net's error for the sequence, given C's states and steps, which the tests check).

Open points of the sources, each an option (defaults and their sources: docs/deviations.md, section "The neural
sequence chunker"): ``fail_test``/``fail_threshold``, ``time_code``/``time_units``, ``train_a``/``train_c``,
``truncate``, ``outputs_see``, ``c_hidden``.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from ._chunker_kernels import TIME_BINARY, TIME_NONE, TIME_ONEHOT, chunker_chunk
from ._vexp import agrees_with_libm
from .base import ChunkResult, Footprint, Layout, Model, ModelSpec, TrainState
from .rnn import DENSE

_TIME = {"none": TIME_NONE, "binary": TIME_BINARY, "onehot": TIME_ONEHOT}
#: Names of each net's weight blocks, in the kernel's order.
_BLOCKS = ("Wh", "Wht", "ws", "Wo", "Wot", "Woh")

_PARAMS = (
    Param("hidden", "int", 1, "A's hidden units (self-recurrent; the Exp 2a RTRL net: 1)", low=1, high=10_000),
    Param(
        "c_hidden", "int", 1, "C's hidden units (self-recurrent; A gets one extra output for each)", low=1, high=10_000
    ),
    Param(
        "outputs_see",
        "str",
        "previous",
        "both nets: the outputs see the hidden units of the previous step (Williams & Zipser's synchronous "
        "timing, as the rtrl 2a defaults) | of the current step",
        choices=("previous", "current"),
    ),
    Param("init", "float", 0.2, "initial weights of both nets uniform in [-init, init]", low=0.0, high=1e6),
    Param("lr", "float", 1.0, "learning rate of both nets (PAPER.md §2: 1.0)", low=0.0, high=1e3),
    Param(
        "train_a",
        "str",
        "rtrl",
        "A's learning algorithm: rtrl (as the paper's RTRL-like nets) | bptt (truncated, depth truncate)",
        choices=("rtrl", "bptt"),
    ),
    Param(
        "train_c",
        "str",
        "rtrl",
        "C's learning algorithm over its own steps: rtrl | bptt (truncated, depth truncate)",
        choices=("rtrl", "bptt"),
    ),
    Param(
        "truncate",
        "int",
        4,
        "bptt: the error reaches the hidden values of this many most recent steps of the net (4 = 3 steps "
        "into the past, Schmidhuber 1992's run; 0: untruncated; as rnn-bptt's truncate)",
        low=0,
        high=100_000,
    ),
    Param(
        "update",
        "str",
        "step",
        "step (every change applied at once, real-time) | sequence (summed, applied at the sequence end: "
        "exact gradients)",
        choices=("step", "sequence"),
    ),
    Param(
        "fail_test",
        "str",
        "abs",
        "when A failed at a step with a target: abs (some output's absolute error >= fail_threshold, i.e. "
        "the step fails the ABS test) | winner (A's most active output is not the target's largest unit)",
        choices=("abs", "winner"),
    ),
    Param(
        "fail_threshold",
        "float",
        0.25,
        "fail_test=abs: the absolute error at which A failed (Exp 2's ABS(0.25))",
        low=1e-9,
        high=1.0,
    ),
    Param(
        "time_code",
        "str",
        "none",
        "C's extra inputs coding the time step: none (Schmidhuber 1992: not needed) | binary (bits of t) | "
        "onehot (unit t mod time_units)",
        choices=("none", "binary", "onehot"),
    ),
    Param("time_units", "int", 8, "time_code binary/onehot: number of time-code inputs of C", low=1, high=64),
)


def _net_layout(n_x: int, n_t: int, H: int, O: int) -> Layout:
    """One net: hidden from inputs and time code, self weights, outputs from inputs, time code, hidden units."""
    return Layout({"Wh": (H, n_x), "Wht": (H, n_t), "ws": (H,), "Wo": (O, n_x), "Wot": (O, n_t), "Woh": (O, H)})


class Chunker(Model):
    spec = ModelSpec(
        name="chunker",
        title="Schmidhuber's two-net neural sequence chunker (automatizer A + chunker C)",
        paper="PAPER.md §2 (CH), §11.5; Table 2; Schmidhuber 1992 (Neural Computation 4(2))",
        params=_PARAMS,
        version=1,
    )
    size_hint = "fewer hidden units"

    def validate(self) -> None:
        hp = self.hp
        self._n_t = 0 if hp["time_code"] == "none" else hp["time_units"]
        self._layout = _net_layout(self.n_in, 0, hp["hidden"], self.n_out + hp["c_hidden"])
        self.c_layout = _net_layout(self.n_in, self._n_t, hp["c_hidden"], self.n_out)

    @property
    def layout(self) -> Layout:
        """A's weights (``state.w``); rows n_out.. of Wo and Woh are the units predicting C's hidden state."""
        return self._layout

    @property
    def system_weights(self) -> int:
        """Weights of both nets (A in ``state.w``, C in ``state.extra["c"]``)."""
        return self.layout.size + self.c_layout.size

    def footprint(self) -> Footprint:
        """Both nets' weights three times (state, the runner's copy, the sums), the sensitivities or histories
        (a few copies of the hidden units' input weights); per step about six operations per weight of each
        net (dense inputs: the forward pass, the sensitivities and the changes)."""
        hp = self.hp
        sens = 4 * (hp["hidden"] + hp["c_hidden"]) * (self.n_in + self._n_t + 1)
        return Footprint(bytes=8 * (3 * self.system_weights + sens), flops_per_step=6 * self.system_weights)

    # -- state -------------------------------------------------------------------------------------------
    def init_state(self, rng: np.random.Generator) -> TrainState:
        """A's weights uniform in [-init, init] (drawn first), then C's (``extra["c"]``)."""
        r = self.hp["init"]
        w = rng.uniform(-r, r, self.layout.size)
        c = rng.uniform(-r, r, self.c_layout.size)
        return TrainState(w, {"c": c})

    def _c(self, state: TrainState) -> np.ndarray:
        """C's weights as a flat float64 vector (converted in place if they came back as a list)."""
        c = np.ascontiguousarray(state.extra["c"], dtype=np.float64).reshape(self.c_layout.size)
        state.extra["c"] = c
        return c

    def _nets(self, w: np.ndarray, c: np.ndarray) -> tuple[tuple, tuple]:
        a, cv = self.layout.views(w), self.c_layout.views(c)
        return tuple(a[k] for k in _BLOCKS), tuple(cv[k] for k in _BLOCKS)

    def _run(self, state: TrainState, batch, train: bool) -> ChunkResult:
        self.check_batch(batch)
        hp = self.hp
        c = self._c(state)
        w = state.w
        dw, dc = np.zeros_like(w), np.zeros_like(c)
        A, C = self._nets(w, c)
        dA, dC = self._nets(dw, dc)
        outputs = np.zeros(batch.targets.shape)
        status, n_done = chunker_chunk(
            w,
            A,
            dw,
            dA,
            c,
            C,
            dc,
            dC,
            batch.inputs,
            batch.info.get("active", DENSE),
            batch.targets,
            batch.mask,
            batch.lengths,
            hp["outputs_see"] == "previous",
            hp["train_a"] == "rtrl",
            hp["train_c"] == "rtrl",
            hp["truncate"],
            hp["update"] == "step",
            hp["fail_test"] == "abs",
            hp["fail_threshold"],
            _TIME[hp["time_code"]],
            hp["lr"],
            train,
            outputs,
            agrees_with_libm(),
        )
        return ChunkResult(int(status), int(n_done), outputs)

    def train_chunk(self, state: TrainState, batch) -> ChunkResult:
        """Train A and C online on every sequence of ``batch`` (weights change in place)."""
        return self._run(state, batch, True)

    def predict(self, state: TrainState, batch) -> np.ndarray:
        """A's outputs at every step (C is not run), weights unchanged."""
        return self._run(state, batch, False).outputs

    def describe_state(self, state: TrainState) -> str:
        return f"A: {self.layout.size} weights (stored count); C: {self.c_layout.size} weights in extra['c']"

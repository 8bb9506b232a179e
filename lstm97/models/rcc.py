"""Recurrent Cascade-Correlation (Fahlman 1991; PAPER.md §2 "RCC", §11.5; Table 1's RCC row). Kernels:
:mod:`._rcc_kernels`.

The net starts with the inputs (and a bias) connected to logistic output units and no hidden units. It
alternates two phases, each a series of epochs:

* ``output``: the output weights are trained by Quickprop (Fahlman 1988) on the summed squared error of the
  epoch, one step per epoch, until the error's relative change stays below ``out_change`` for
  ``out_patience`` epochs (or after ``out_epochs`` epochs);
* ``candidates``: a pool of ``candidates`` units, each seeing the bias, the inputs and every installed hidden
  unit and having one trainable self-recurrent weight, V(t) = f(sum_i w_i I_i(t) + w_s V(t-1)), V = 0 at
  every sequence start, is trained by Quickprop to maximise S = sum_o |sum_t (V(t) - Vbar)(E_o(t) - Ebar_o)|,
  the covariance with the residual output errors, using forward-mode slopes dV/dw (no truncation; exact
  for the epoch), until the best S stalls (``in_change``, ``in_patience``, ``in_epochs``). The best candidate
  is installed with its weights frozen, connected to the outputs, and the output phase starts again.

After ``max_units`` units the outputs are trained a last time; then nothing changes any more (phase
``done``). Stopping when the task is solved is the runner's job (the task's criterion, checked every 256
training strings on the Reber task).

**Sequences and epochs.** RCC is an epoch (batch) algorithm; the runner feeds training sequences chunk by
chunk. An epoch is ``epoch`` consecutive training sequences (default 256, the Reber training set's size; on
the Reber task these are drawn at random from the fixed set, "t1", so an epoch is a resample of it; with the
task option ``order=file`` it is exactly one pass over the set). Every sequence presented in an output or
candidate epoch counts as one training sequence, as the runner counts them, so "sequences until success"
counts both phases' presentations. In phase ``done`` sequences still count but change nothing.

**State.** The flat weight vector has the maximal layout: W_o [n_out, M] (columns: bias, inputs, hidden units
0..max_units-1; M = 1 + n_in + max_units), W_h [max_units, M] (unit k uses its first 1 + n_in + k entries),
w_self [max_units]; the entries of units not yet installed are 0. Everything else (phase, installed units,
the position in the epoch, the patience counters, Quickprop's previous slopes and steps, the pool, the
epoch's sums) lives in ``state.extra`` (:meth:`RCC.init_state`). The pool's initial weights come from a
Generator seeded by ``extra["seed"]`` (drawn from the weight stream), one table for every future pool, so
no random numbers are drawn inside a kernel.

**Weight count.** :meth:`RCC.installed_weights` is the size of the installed net: n_out (1 + n_in + h) +
sum_{k<h} (1 + n_in + k + 1). The runner stores :meth:`RCC.weights_of` the final state, that size. ``free``
and ``n_weights`` (the free entries) follow the last state this model trained or predicted with (a count only:
nothing learned is kept on the model).

Hyperparameter defaults and their sources: docs/deviations.md, section "RCC (Fahlman 1991)".
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from ._rcc_kernels import (
    BEST,
    CANDIDATES,
    DONE,
    EP,
    EPOCHS,
    LOGISTIC,
    N_HID,
    OUTPUT,
    PHASE,
    POS,
    QUIT,
    SYMMETRIC,
    rcc_chunk,
    rcc_predict,
)
from .base import ChunkResult, Footprint, Layout, Model, ModelSpec, TrainState

PHASES = {OUTPUT: "output", CANDIDATES: "candidates", DONE: "done"}
_CODES = {v: k for k, v in PHASES.items()}
#: Names of the int state entries stored in ``extra`` (their kernel indices in _rcc_kernels).
_INTS = (("phase", PHASE), ("hidden", N_HID), ("pos", POS), ("epoch_in_phase", EP), ("quit", QUIT))
_INTS += (("epochs", EPOCHS), ("best", BEST))
#: The float arrays of ``extra`` (shape by name, see :meth:`RCC._shapes`).
_ARRAYS = ("sums", "acc_o", "prev_o", "delta_o", "cand_w", "cand_prev", "cand_delta", "sv", "sve", "sdv", "sedv", "se")

_PARAMS = (
    Param("max_units", "int", 15, "unit limit: hidden units installed at most", low=0, high=200),
    Param("candidates", "int", 8, "candidate pool size K (Fahlman's cascor: 8)", low=1, high=256),
    Param("epoch", "int", 256, "training sequences per epoch (Reber: the training set's 256)", low=1, high=10**7),
    Param(
        "unit",
        "str",
        "logistic",
        "activation of hidden units and candidates: logistic [0, 1] (PAPER.md §11.5) | symmetric [-0.5, 0.5] "
        "(Fahlman's cascor default)",
        choices=("logistic", "symmetric"),
    ),
    Param("init", "float", 1.0, "initial weights uniform in [-init, init] (cascor's weight range 1.0)", low=0.0),
    Param(
        "offset",
        "float",
        0.1,
        "sigmoid-prime offset added to f'(y) in the output error (Fahlman 1988; cascor 0.1; 0: exact gradient)",
        low=0.0,
        high=1.0,
    ),
    Param("out_epsilon", "float", 1.0, "Quickprop epsilon of the output weights, divided by N (CMU CNNS 1.0)", low=0.0),
    Param("out_mu", "float", 1.75, "Quickprop maximum growth factor mu, output weights (Fahlman 1988)", low=0.0),
    Param("out_decay", "float", 1e-4, "weight decay of the output weights (cascor 0.0001)", low=0.0),
    Param("out_patience", "int", 12, "output phase: epochs without significant change before it ends", low=1),
    Param("out_change", "float", 0.01, "output phase: a significant change of the error (fraction)", low=0.0),
    Param("out_epochs", "int", 200, "output phase: at most this many epochs", low=1),
    Param(
        "in_epsilon",
        "float",
        100.0,
        "Quickprop epsilon of the candidates, divided by N x sources (CMU CNNS 100)",
        low=0.0,
    ),
    Param("in_mu", "float", 1.75, "Quickprop maximum growth factor mu, candidates (Fahlman 1988)", low=0.0),
    Param("in_decay", "float", 0.0, "weight decay of the candidates' weights (cascor 0)", low=0.0),
    Param("in_patience", "int", 12, "candidate phase: epochs without significant change before it ends", low=1),
    Param("in_change", "float", 0.03, "candidate phase: a significant change of the best score (fraction)", low=0.0),
    Param("in_epochs", "int", 200, "candidate phase: at most this many epochs", low=1),
    Param(
        "install_weight",
        "float",
        1.0,
        "a new unit's output weights start at -install_weight x its normalised covariance (cascor's weight "
        "multiplier 1; 0: start at 0)",
    ),
)


#: Each phase's hyperparameters (out_*, in_*), in the order the kernels take them.
_PHASE_HP = ("epsilon", "mu", "decay", "patience", "change", "epochs")


class RCC(Model):
    spec = ModelSpec(
        name="rcc",
        title="Recurrent Cascade-Correlation (Fahlman 1991): cascade of self-recurrent units, Quickprop",
        paper="PAPER.md §2 (RCC), §11.5; Table 1",
        params=_PARAMS,
        version=1,
    )
    size_hint = "a lower max_units or fewer candidates"

    def validate(self) -> None:
        H = self.hp["max_units"]
        self._M = 1 + self.n_in + H
        self._layout = Layout({"W_o": (self.n_out, self._M), "W_h": (H, self._M), "w_self": (H,)})
        self._kind = SYMMETRIC if self.hp["unit"] == "symmetric" else LOGISTIC
        self._hid = 0  # hidden units of the last state seen (for free() and n_weights only)
        self._tables: dict[int, np.ndarray] = {}

    @property
    def layout(self) -> Layout:
        return self._layout

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        K, M, C = self.n_out, self._M, self.hp["candidates"]
        return {
            "sums": (5,),
            "acc_o": (K, M),
            "prev_o": (K, M),
            "delta_o": (K, M),
            "cand_w": (C, M + 1),
            "cand_prev": (C, M + 1),
            "cand_delta": (C, M + 1),
            "sv": (C,),
            "sve": (C, K),
            "sdv": (C, M + 1),
            "sedv": (C, K, M + 1),
            "se": (K,),
        }

    def footprint(self) -> Footprint:
        """Three weight vectors, the state's arrays, the pool's table of initial weights and the work arrays;
        per step the cascade (two operations per weight), the outputs' slopes, and per candidate its net input,
        its slopes and their products with the K errors (about 2 K + 6 operations per candidate weight)."""
        H, C, K, M = self.hp["max_units"], self.hp["candidates"], self.n_out, self._M
        arrays = sum(int(np.prod(s)) for s in self._shapes().values())
        table = H * C * (M + 1)
        W = self.layout.size
        return Footprint(
            bytes=8 * (3 * W + arrays + table + 2 * C * (M + 1) + 1000 * M),
            flops_per_step=2 * W + 2 * K * M + C * (M + 1) * (2 * K + 6) + 20 * (H + K + C),
        )

    # -- structure ---------------------------------------------------------------------------------------
    @staticmethod
    def hidden(state: TrainState) -> int:
        """Installed hidden units of ``state``."""
        return int(state.extra["hidden"])

    def weights_of(self, state: TrainState | None) -> int:
        """The installed net's weights in ``state`` (the structure is learned: it grows unit by unit)."""
        if state is None or not state.extra:
            return self.n_weights
        return self.installed_weights(self.hidden(state))

    def installed_weights(self, h: int) -> int:
        """Weights of the net with h hidden units: outputs from bias, inputs and units; each unit k from the
        bias, the inputs, the k earlier units and itself."""
        n = 1 + self.n_in
        return self.n_out * (n + h) + sum(n + k + 1 for k in range(h))

    def free(self) -> np.ndarray:
        """The entries of the installed net (of the last state this model trained or predicted with)."""
        mask = {k: np.zeros(s, dtype=bool) for k, s in self.layout.shapes.items()}
        n, h = 1 + self.n_in, self._hid
        mask["W_o"][:, : n + h] = True
        for k in range(h):
            mask["W_h"][k, : n + k] = True
        mask["w_self"][:h] = True
        return np.concatenate([mask[k].ravel() for k in self.layout.shapes])

    def _seen(self, state: TrainState) -> None:
        self._hid = self.hidden(state)

    # -- state -------------------------------------------------------------------------------------------
    def init_state(self, rng: np.random.Generator) -> TrainState:
        """Output weights from the bias and the inputs uniform in [-init, init] (drawn first), then the seed of
        the pools' initial weights; every other weight 0. ``extra``: the phase (``output``), the installed
        units (0), the position in the epoch, the patience counters, the total epochs, the last best
        candidate, ``installed_at`` (the epoch count at which each unit was installed, -1: not yet) and the
        float arrays of :meth:`_shapes` (Quickprop's slopes and steps, the pool, the epoch's sums), zero."""
        r = self.hp["init"]
        w = np.zeros(self.layout.size)
        v = self.views(w)
        n = 1 + self.n_in
        v["W_o"][:, :n] = rng.uniform(-r, r, (self.n_out, n))
        seed = int(rng.integers(0, 2**63 - 1))
        extra: dict = {"seed": seed}
        extra.update({name: 0 for name, _ in _INTS})
        extra["phase"] = "output"
        extra["installed_at"] = np.full(self.hp["max_units"], -1, dtype=np.int64)
        extra.update({name: np.zeros(shape) for name, shape in self._shapes().items()})
        return TrainState(w, extra)

    def _table(self, seed: int) -> np.ndarray:
        """Initial weights of every future pool [max_units, K, M + 1]: a function of the seed (cached)."""
        table = self._tables.get(seed)
        if table is None:
            r, H, C = self.hp["init"], self.hp["max_units"], self.hp["candidates"]
            table = np.random.default_rng(seed).uniform(-r, r, (H, C, self._M + 1))
            self._tables = {seed: table}
        return table

    def _arrays(self, ex: dict) -> dict[str, np.ndarray]:
        """The state's arrays as the kernel needs them (converted in place if they came back as lists)."""
        shapes = self._shapes()
        for name in _ARRAYS:
            ex[name] = np.ascontiguousarray(ex[name], dtype=np.float64).reshape(shapes[name])
        ex["installed_at"] = np.ascontiguousarray(ex["installed_at"], dtype=np.int64)
        return {name: ex[name] for name in _ARRAYS}

    # -- training ----------------------------------------------------------------------------------------
    def train_chunk(self, state: TrainState, batch) -> ChunkResult:
        """Train on every sequence of ``batch`` (epochs end, and weights change, after every ``epoch``-th
        training sequence counted across chunks)."""
        self.check_batch(batch)
        ex = state.extra
        a = self._arrays(ex)
        ints = np.zeros(len(_INTS), dtype=np.int64)
        for name, idx in _INTS:
            ints[idx] = _CODES[ex[name]] if name == "phase" else int(ex[name])
        v = self.views(state.w)
        outputs = np.zeros(batch.targets.shape)
        hp = self.hp
        status, n_done = rcc_chunk(
            state.w,
            v["W_o"],
            v["W_h"],
            v["w_self"],
            ints,
            a["sums"],
            ex["installed_at"],
            a["acc_o"],
            a["prev_o"],
            a["delta_o"],
            a["cand_w"],
            a["cand_prev"],
            a["cand_delta"],
            (a["sv"], a["sve"], a["sdv"], a["sedv"], a["se"]),
            self._table(int(ex["seed"])),
            batch.inputs,
            batch.targets,
            batch.mask,
            batch.lengths,
            outputs,
            hp["epoch"],
            self._kind,
            hp["offset"],
            tuple(hp[f"out_{name}"] for name in _PHASE_HP),
            tuple(hp[f"in_{name}"] for name in _PHASE_HP),
            hp["install_weight"],
        )
        for name, idx in _INTS:
            ex[name] = PHASES[int(ints[idx])] if name == "phase" else int(ints[idx])
        self._seen(state)
        return ChunkResult(int(status), int(n_done), outputs)

    def predict(self, state: TrainState, batch) -> np.ndarray:
        """Outputs at every step, weights unchanged (NaN for a sequence that went non-finite and the rest)."""
        self.check_batch(batch)
        v = self.views(state.w)
        outputs = np.zeros(batch.targets.shape)
        status, n_done = rcc_predict(
            v["W_o"], v["W_h"], v["w_self"], self.hidden(state), self._kind, batch.inputs, batch.lengths, outputs
        )
        self._seen(state)
        return ChunkResult(int(status), int(n_done), outputs).outputs

    def describe_state(self, state: TrainState) -> str:
        """``3 hidden units (181 weights), phase candidates``: the structure in words."""
        h = self.hidden(state)
        return f"{h} hidden units ({self.installed_weights(h)} weights), phase {state.extra['phase']}"

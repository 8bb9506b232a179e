"""Conventional recurrent nets of logistic (or tanh) units: the architectures of the paper's baselines
(PAPER.md §2, §5). This module defines the nets (connectivity, weights, forward pass); the learning rules
live in their own models (``rnn-bptt``, ``rtrl``, ``elman``, ``guess``), which subclass :class:`RecurrentNet`.

Architectures (``arch``):

* ``layered``: a hidden layer of ``hidden`` units, then the output layer. Hidden units see the inputs and,
  through ``recurrence``, the hidden units of the previous step (``full``: all of them, as in an Elman net
  whose context units hold h(t-1); ``self``: each only itself; ``none``). Output units see the hidden units
  of the same step and, with ``skip``, the inputs ("every layer connected to all layers below"); they are not
  recurrent. With ``outputs_see=previous`` the outputs see the hidden units' values of the previous step
  instead (every unit updated synchronously from the previous step, Williams & Zipser's timing; the inputs
  still reach the outputs at once through ``skip``). The paper's RTRL/BPTT net for Exp 2a is ``layered``
  with hidden=1, recurrence=self, skip, no bias: 36 / 144 / 10404 weights for p = 4 / 10 / 100.
* ``wz``: Williams & Zipser's fully recurrent net (the RTRL nets of Exp 1, §5's A1): hidden and output units
  form one layer; every unit sees the inputs and every unit of the previous step.
* ``a2``: §5's A2: like ``wz`` but each hidden unit sees only the input, the output unit and itself (at the
  previous step); the output unit sees the input and all other units (not itself).

``order`` (``wz``, ``a2``): ``sync`` updates every unit from the previous step's values (Williams & Zipser);
``seq`` computes the units in turn (hidden units first, the output last), each seeing the current values of
the units before it and the previous values of itself and the units after it (the weight count is the same).

``bias`` gives every non-input unit a bias weight. All present weights start uniform in [-init, init];
absent connections are zero weights that never change. The weight count (``n_weights``) counts the present
ones only; the flat vector holds dense matrices B [U, n_in], A [U, U], R [U, U] and b [U] (U = hidden +
outputs), whose absent entries stay 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UserError
from ..params import Param
from ._rnn_kernels import LOGISTIC, TANH, levels, rnn_forward_chunk
from ._vexp import agrees_with_libm
from .base import ChunkResult, Footprint, Layout, Model, TrainState

DENSE = np.zeros((0, 0), dtype=np.int64)  # "no one-hot index": kernels sum over every input

#: Architecture parameters shared by every conventional-net model.
ARCH_PARAMS = (
    Param(
        "arch",
        "str",
        "layered",
        "layered | wz (fully recurrent) | a2 (§5's sparse A2)",
        choices=("layered", "wz", "a2"),
    ),
    Param("hidden", "int", 3, "number of hidden units", low=0, high=100_000),
    Param(
        "recurrence",
        "str",
        "full",
        "layered: hidden-to-hidden connections of the previous step (full | self | none)",
        choices=("full", "self", "none"),
    ),
    Param("skip", "bool", False, "layered: outputs also see the inputs"),
    Param(
        "outputs_see",
        "str",
        "current",
        "layered: the outputs see the hidden units' current values "
        "(current) or, with Williams & Zipser's synchronous update, their previous ones (previous)",
        choices=("current", "previous"),
    ),
    Param(
        "order",
        "str",
        "sync",
        "wz/a2: sync (every unit sees the others' previous values, Williams & "
        "Zipser) | seq (units computed in turn: each sees the current values of the units before it)",
        choices=("sync", "seq"),
    ),
    Param("bias", "bool", True, "every non-input unit has a bias weight"),
    Param("act", "str", "logistic", "unit activation: logistic in [0,1] | tanh", choices=("logistic", "tanh")),
    Param("init", "float", 0.2, "initial weights uniform in [-init, init]", low=0.0, high=1e6),
)


def _csr(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row pointers and column indices of the True entries of ``mask``."""
    counts = mask.sum(axis=1)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    idx = np.nonzero(mask)[1].astype(np.int64)
    return ptr, idx


class RecurrentNet(Model):
    """A conventional recurrent net (no learning rule): connectivity, weights, forward pass.

    Subclasses add a learning rule (``train_chunk``) and their own Params after ``ARCH_PARAMS``. The masks
    (O(U^2) booleans) are laid out in :meth:`build`, after the resource check, which counts the net from the
    hyperparameters alone (:meth:`counts`).
    """

    size_hint = "fewer hidden units"

    def validate(self) -> None:
        if self.hp["arch"] == "a2" and self.n_out != 1:
            raise UserError("arch=a2 needs a task with one output unit.")
        self.act = LOGISTIC if self.hp["act"] == "logistic" else TANH

    def output_range(self) -> tuple[float, float]:
        """The output units' range: (0, 1) for ``act=logistic``, (-1, 1) for ``act=tanh``."""
        return (0.0, 1.0) if self.hp["act"] == "logistic" else (-1.0, 1.0)

    def counts(self) -> dict[str, int]:
        """Sizes of the net from the hyperparameters alone (what :meth:`build` will lay out): units ``U``
        (hidden ``H``), present input weights ``B``, same-step and recurrent weights ``AR``, biases ``b``,
        all present weights ``present`` and the flat vector's length ``dense`` (U n_in + 2 U^2 + U)."""
        hp, H, K, n_in = self.hp, self.hp["hidden"], self.n_out, self.n_in
        U = H + K
        if hp["arch"] == "layered":
            B = H * n_in + (K * n_in if hp["skip"] else 0)
            AR = {"full": H * H, "self": H, "none": 0}[hp["recurrence"]] + K * H  # + outputs see hidden
        elif hp["arch"] == "wz":
            B, AR = U * n_in, U * U
        else:  # a2: each hidden unit sees itself and the output, the output sees every hidden unit
            B, AR = U * n_in, 3 * H
        b = U if hp["bias"] else 0
        return {"U": U, "H": H, "B": B, "AR": AR, "b": b, "present": B + AR + b, "dense": U * n_in + 2 * U * U + U}

    def footprint(self, vectors: int = 3, extra_bytes: int = 0, extra_flops: int = 0) -> Footprint:
        """The net's masks and CSR lists, ``vectors`` flat weight vectors (the state, the runner's copy at the
        start of a chunk, a temporary of the random initialisation) and the forward pass (two operations per
        present weight, a squashing per unit), plus a learning rule's ``extra_*``."""
        c = self.counts()
        setup = self.n_in * c["U"] + 2 * c["U"] ** 2 + c["dense"] + 24 * c["AR"] + 16 * (c["U"] + 1)
        return Footprint(
            bytes=setup + 8 * vectors * c["dense"] + extra_bytes,
            flops_per_step=2 * c["present"] + 20 * c["U"] + extra_flops,
        )

    def build(self) -> None:
        hp, H, K, n_in = self.hp, self.hp["hidden"], self.n_out, self.n_in
        U = H + K
        arch = hp["arch"]
        MB = np.ones((U, n_in), dtype=bool)
        MA = np.zeros((U, U), dtype=bool)
        MR = np.zeros((U, U), dtype=bool)
        if arch == "layered":
            MB[H:] = hp["skip"]
            if hp["outputs_see"] == "current":
                MA[H:, :H] = True  # outputs see the hidden units of the same step
            else:
                MR[H:, :H] = True  # ... or of the previous step (all units updated synchronously)
            if hp["recurrence"] == "full":
                MR[:H, :H] = True
            elif hp["recurrence"] == "self":
                MR[np.arange(H), np.arange(H)] = True
        elif arch == "wz":
            MR[:, :] = True
        else:  # a2: hidden sees input, output and itself; the output sees every unit
            MR[np.arange(H), np.arange(H)] = True
            MR[:H, U - 1] = True
            MR[U - 1, :H] = True  # "the output unit sees all other units"
        if arch != "layered" and hp["order"] == "seq":  # lower units' current values, not previous ones
            lower = np.tril(np.ones((U, U), dtype=bool), -1)
            MA, MR = MR & lower, MR & ~lower
        Mb = np.full(U, hp["bias"])
        self.masks = {"B": MB, "A": MA, "R": MR, "b": Mb}
        self.a_ptr, self.a_idx = _csr(MA)
        self.r_ptr, self.r_idx = _csr(MR)
        self.levels = levels(self.a_ptr, self.a_idx)
        self._layout = Layout({"B": (U, n_in), "A": (U, U), "R": (U, U), "b": (U,)})
        self._flat_mask = np.concatenate([self.masks[k].ravel() for k in ("B", "A", "R", "b")])

    @property
    def layout(self) -> Layout:
        return self._layout

    def free(self) -> np.ndarray:
        """The present connections (absent ones are zeros in the flat vector and not counted as weights)."""
        return self._flat_mask

    def random_weights(self, rng: np.random.Generator, r: float) -> np.ndarray:
        """A flat vector with every present weight uniform in [-r, r] and absent ones 0."""
        return rng.uniform(-r, r, self.layout.size) * self._flat_mask

    def init_state(self, rng: np.random.Generator) -> TrainState:
        return TrainState(self.random_weights(rng, self.hp["init"]))

    def kernel_args(self, state: TrainState) -> tuple[Any, ...]:
        v = self.views(state.w)
        return (
            *(v["B"], v["A"], v["R"], v["b"], self.a_ptr, self.a_idx, self.r_ptr, self.r_idx),
            *(self.levels, agrees_with_libm()),
        )

    def predict(self, state: TrainState, batch) -> np.ndarray:
        """Outputs at every step, weights unchanged (NaN for a sequence that went non-finite and the rest of
        the batch after it; see :class:`~.base.ChunkResult`)."""
        self.check_batch(batch)
        outputs = np.zeros(batch.targets.shape)
        status, n_done = rnn_forward_chunk(
            *self.kernel_args(state),
            batch.kernel_inputs,
            batch.info.get("active", DENSE),
            batch.lengths,
            self.act,
            outputs,
        )
        return ChunkResult(int(status), int(n_done), outputs).outputs

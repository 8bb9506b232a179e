"""Conventional recurrent nets trained by back-propagation through time: the BPTT baseline of Exp 2a and
Elman's net of Exp 1 (PAPER.md §2, §3.1, §3.2; Tables 1 and 2). Kernel: :mod:`._bptt_kernels`.

Nets: :class:`~.rnn.RecurrentNet` (``arch``, ``hidden``, ``recurrence``, ``skip``, ``bias``, ``act``,
``init``). Error and learning rate as the LSTM's (§1.5): E = sum over the steps with a target of
sum_k (t_k - y_k)^2, unit errors without the factor 2, so one weight change is lr * (-1/2 dE/dw).

* ``rnn-bptt`` with ``truncate=0`` (default): full BPTT. Forward over the whole sequence, storing the
  activations; backward through time from the last target step, with every target step's error; one update
  at the sequence end (on-line: after each sequence). Its gradient is offline RTRL's (§2).
* ``truncate=k > 0``: truncated BPTT of depth k. At every step t with a target, E(t) is backpropagated k
  steps (t itself is depth 1; the activations before step t-k+1 act as constant inputs) and the weights
  change at once, so the next step runs with the new weights. The earlier steps' stored activations are
  not recomputed with the new weights.
* ``elman``: Elman's simple recurrent net, whose context units hold the hidden layer of the previous step
  (``layered`` with ``recurrence=full``), trained with Elman's one-step gradient (``truncate=1``). Default
  15 hidden units as in Table 1 (Cleeremans et al. 1989); on the Reber task (7 in, 7 out) our net has
  7·15 + 15·15 + 15·7 + 22 biases = 457 weights against the paper's estimate "≈435" (the paper does not say
  how it counted; without output biases it would be 450, without any bias 435).

The paper does not say how deep its BPTT was truncated nor when it updated (§2 "BPTT" [UNSPECIFIED]); both
are options here. Outputs reported by ``train_chunk`` are those of the forward pass with the weights in use
at that step.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..params import Param
from ._bptt_kernels import bptt_chunk
from .base import ChunkResult, Footprint, ModelSpec, TrainState
from .rnn import ARCH_PARAMS, DENSE, RecurrentNet

_LEARNING = (
    Param("lr", "float", 1.0, "learning rate alpha (Delta w = lr * (-1/2 dE/dw))", low=0.0, high=1e6),
    Param(
        "truncate",
        "int",
        0,
        "0: full BPTT, one update per sequence | k > 0: truncated BPTT of depth k, "
        "update after every step with a target (k = 1: Elman's rule)",
        low=0,
        high=1_000_000_000,
    ),
)


def _with_defaults(params: tuple[Param, ...], **defaults) -> tuple[Param, ...]:
    """``params`` with some defaults changed (the allowed values stay the same)."""
    unknown = set(defaults) - {p.name for p in params}
    if unknown:
        raise ValueError(f"no such parameters: {sorted(unknown)}")
    return tuple(replace(p, default=defaults[p.name]) if p.name in defaults else p for p in params)


class RNNBPTT(RecurrentNet):
    spec = ModelSpec(
        name="rnn-bptt",
        title="Conventional recurrent net, back-propagation through time (full or truncated)",
        paper="PAPER.md §2 (BPTT), §3.2; Table 2",
        params=ARCH_PARAMS + _LEARNING,
        version=1,
    )

    def build(self) -> None:
        super().build()
        self._MB = np.ascontiguousarray(self.masks["B"])
        self._Mb = np.ascontiguousarray(self.masks["b"])

    #: Truncation depths above this are counted as this in the footprint (sequences are rarely longer).
    DEPTH_ESTIMATE = 1000

    def footprint(self) -> Footprint:
        """The net (:meth:`RecurrentNet.footprint`) plus the one-hot input sums and, per time step, the
        backward pass (two operations per same-step and recurrent weight and a few per unit) and the weight
        sums (two per present weight); truncated BPTT of depth k does both for k steps at every target step.
        Not counted: the activations and unit errors stored per step of the longest sequence (16 U bytes)."""
        c = self.counts()
        depth = min(self.hp["truncate"], self.DEPTH_ESTIMATE) if self.hp["truncate"] > 0 else 1
        return super().footprint(
            extra_bytes=8 * c["U"] * self.n_in, extra_flops=depth * (2 * c["AR"] + 6 * c["U"] + 2 * c["present"])
        )

    def train_chunk(self, state: TrainState, batch) -> ChunkResult:
        """Train online on every sequence of ``batch`` (weights change in place)."""
        self.check_batch(batch)
        outputs = np.zeros(batch.targets.shape)
        status, n_done = bptt_chunk(
            state.w,
            *self.kernel_args(state),
            self._MB,
            self._Mb,
            batch.inputs,
            batch.info.get("active", DENSE),
            batch.targets,
            batch.mask,
            batch.lengths,
            self.act,
            self.hp["lr"],
            self.hp["truncate"],
            outputs,
        )
        return ChunkResult(int(status), int(n_done), outputs)


class Elman(RNNBPTT):
    spec = ModelSpec(
        name="elman",
        title="Elman net (context = previous hidden layer), Elman's one-step truncated gradient",
        paper="PAPER.md §2 (ELM), §3.1; Table 1",
        params=_with_defaults(ARCH_PARAMS + _LEARNING, arch="layered", recurrence="full", hidden=15, truncate=1),
        version=1,
    )

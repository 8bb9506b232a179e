"""The gated recurrent unit (GRU; Cho et al. 2014), one of the LSTM's descendants, on the paper's bench: not
in the 1997 paper (an lstm97 addition, see docs/deviations.md). Trained by the same runner under the paper's
protocol: online, one weight update per sequence, the exact gradient by full back-propagation through time.
Kernels: :mod:`._gru_kernels`.

The net: one layer of ``hidden`` GRU units, then the output layer. Per step, with h = h(t-1) (0 at every
sequence start) and PyTorch's ``nn.GRU`` names:

    r = σ(W_ir x + b_ir + W_hr h + b_hr)            reset gate
    z = σ(W_iz x + b_iz + W_hz h + b_hz)            update gate
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))   candidate, ``reset_after=true`` (default)
    n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)   candidate, ``reset_after=false``
    h(t) = (1 - z) ⊙ n + z ⊙ h
    y(t) = σ(W_o h(t) + b_o)   (``output=logistic``, default; ``output=linear``: W_o h(t) + b_o;
                               ``output=softmax``: softmax(W_o h(t) + b_o), trained on the cross-entropy CE =
                               -sum_k t_k log y_k, so that SGD changes each weight by lr * (-dCE/dw))

``reset_after=true`` applies the reset gate after the recurrent product: the variant of PyTorch's ``nn.GRU``,
cuDNN and Keras' default (``reset_after=True``); ``reset_after=false`` is Cho et al.'s original (their eq. 8
for the candidate; Keras' ``reset_after=False``), where the gate resets h before it is multiplied by W_hn. Both keep
PyTorch's two bias vectors b_ih = (b_ir, b_iz, b_in) and b_hh = (b_hr, b_hz, b_hn), so the weights map one to
one onto ``nn.GRU``'s ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0`` (gate order r, z, n)
and both variants have the same count, 3H(n_in + H + 2) + K(H + 1). The pairs b_ir/b_hr and b_iz/b_hz (and,
with ``reset_after=false``, b_in/b_hn) act as one bias each, with that bias's gradient on both.

Error and learning rate as the 1997 LSTM and ``rnn-bptt`` (PAPER.md §1.5): E = sum over the target steps of
sum_k (t_k - y_k)^2, errors without the factor 2, so that SGD changes each weight by lr * (-1/2 dE/dw) once
per sequence (``update=sequence``, for now the only choice). ``optimizer`` replaces that step by Adam or
RMSProp applied to g = -1/2 dE/dw, once per sequence with a target (the forms in :mod:`._gru_kernels`):

* ``sgd`` (default): w += lr g, the paper's on-line gradient descent.
* ``adam``: Kingma & Ba's Adam with bias correction (``beta1`` 0.9, ``beta2`` 0.999, ``eps`` 1e-8):
  t += 1; m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²; w += lr (m/(1-β1^t)) / (sqrt(v/(1-β2^t)) + ε).
  This is ``torch.optim.Adam`` on the loss E/2 of the sequence.
* ``rmsprop``: v = ρ v + (1-ρ) g²; w += lr g / (sqrt(v) + ε) (``rho`` 0.9, ``eps`` 1e-8; no momentum, not
  centred); ``torch.optim.RMSprop(alpha=rho)`` on E/2.

The moments (``m``, ``v``: flat vectors shaped like the weights, starting at 0) and Adam's step count ``t``
live in ``TrainState.extra`` and carry over from chunk to chunk; with SGD ``extra`` is None. All weights start
uniform in [-init, init].
"""

from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..params import Param
from ._gru_kernels import ADAM, RMSPROP, SGD, SOFTMAX, gru_chunk, gru_forward_chunk
from .base import ChunkResult, Footprint, Layout, Model, ModelSpec, TrainState

_DENSE = np.zeros((0, 0), dtype=np.int64)  # "no one-hot index": the kernels sum over every input
_EMPTY = np.zeros(0)  # SGD keeps no moments

#: The weight arrays in the kernel's argument order (PyTorch's names; W_o, b_o: the output layer).
_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh", "W_o", "b_o")
_OPTIMIZERS = {"sgd": SGD, "adam": ADAM, "rmsprop": RMSPROP}

_PARAMS = (
    Param("hidden", "int", 8, "number of GRU units", low=1, high=100_000),
    Param(
        "lr",
        "float",
        0.1,
        "learning rate (sgd: Delta w = lr * (-1/2 dE/dw); adam, rmsprop: step size)",
        low=0.0,
        high=1e6,
    ),
    Param("init", "float", 0.1, "initial weights uniform in [-init, init]", low=0.0, high=1e6),
    Param(
        "reset_after",
        "bool",
        True,
        "true: n = tanh(W_in x + b_in + r*(W_hn h + b_hn)) (PyTorch, cuDNN) | false: n = tanh(W_in x + b_in + "
        "W_hn (r*h) + b_hn) (Cho et al. 2014's original)",
    ),
    Param(
        "output",
        "str",
        "logistic",
        "output units: logistic in [0,1] | linear | softmax (a distribution, trained on the cross-entropy)",
        choices=("logistic", "linear", "softmax"),
    ),
    Param(
        "optimizer",
        "str",
        "sgd",
        "sgd (plain on-line gradient descent) | adam | rmsprop, one step per sequence",
        choices=tuple(_OPTIMIZERS),
    ),
    Param("beta1", "float", 0.9, "adam: decay of the first moment", low=0.0, high=0.999999),
    Param("beta2", "float", 0.999, "adam: decay of the second moment", low=0.0, high=0.999999),
    Param("rho", "float", 0.9, "rmsprop: decay of the mean square", low=0.0, high=0.999999),
    Param("eps", "float", 1e-8, "adam, rmsprop: added to the root of the second moment", low=1e-300, high=1.0),
    Param(
        "update",
        "str",
        "sequence",
        "when weights change: sequence (once per sequence, after full BPTT; the only choice so far)",
        choices=("sequence",),
    ),
)


class GRU(Model):
    spec = ModelSpec(
        name="gru",
        title="GRU (Cho et al. 2014), full BPTT, one update per sequence; sgd, adam or rmsprop",
        paper="not in the paper (lstm97 addition: the LSTM's descendants on the same bench; docs/deviations.md)",
        params=_PARAMS,
        version=1,
    )
    size_hint = "fewer hidden units"

    def validate(self) -> None:
        self.H = int(self.hp["hidden"])
        self._layout = Layout(
            {
                "W_ih": (3 * self.H, self.n_in),
                "W_hh": (3 * self.H, self.H),
                "b_ih": (3 * self.H,),
                "b_hh": (3 * self.H,),
                "W_o": (self.n_out, self.H),
                "b_o": (self.n_out,),
            }
        )
        self.optimizer = _OPTIMIZERS[self.hp["optimizer"]]
        # the kernels' output kind: False logistic, True linear (so existing calls keep their types), 2 softmax
        self.linear = SOFTMAX if self.hp["output"] == "softmax" else self.hp["output"] == "linear"
        if self.hp["output"] == "softmax" and self.n_out < 2:
            raise UserError("output=softmax needs at least two output units (one softmax output is always 1).")

    @property
    def layout(self) -> Layout:
        return self._layout

    def output_range(self) -> tuple[float, float]:
        """(0, 1) with ``output=logistic`` or ``softmax``; unbounded with ``output=linear``."""
        return (-np.inf, np.inf) if self.hp["output"] == "linear" else (0.0, 1.0)

    def capabilities(self) -> frozenset[str]:
        """``distribution`` with output=softmax."""
        return frozenset({"distribution"}) if self.hp["output"] == "softmax" else frozenset()

    def capability_hint(self, need: str) -> str:
        return "use --hp output=softmax (Python: hp={'output': 'softmax'})" if need == "distribution" else ""

    def footprint(self) -> Footprint:
        """Five weight-sized vectors (the state, the runner's copy at the start of a chunk, the gradient sums,
        Adam's two moments or RMSProp's one: counted for every optimiser) and, per time step, two operations per
        weight forward, four for the backward pass and the gradient sums, and a few per unit. Not counted: the
        activations stored per step of the longest sequence (5 H floats per step)."""
        W, H, K = self.layout.size, self.H, self.n_out
        return Footprint(bytes=8 * (5 * W + 12 * H + 2 * K), flops_per_step=6 * W + 40 * H + 10 * K)

    def init_state(self, rng: np.random.Generator) -> TrainState:
        """Every weight uniform in [-init, init]; Adam's ``m``, ``v``, ``t`` or RMSProp's ``v`` at 0 in
        ``extra`` (None with SGD)."""
        r = self.hp["init"]
        w = rng.uniform(-r, r, self.layout.size)
        size = self.layout.size
        if self.optimizer == ADAM:
            return TrainState(w, {"m": np.zeros(size), "v": np.zeros(size), "t": 0})
        if self.optimizer == RMSPROP:
            return TrainState(w, {"v": np.zeros(size)})
        return TrainState(w)

    def _moments(self, state: TrainState) -> tuple[np.ndarray, np.ndarray, int]:
        """(m, v, t) of ``state.extra`` as the kernel's float64 arrays, written back into ``extra`` (a state
        read back from the store holds lists)."""
        if self.optimizer == SGD:
            return _EMPTY, _EMPTY, 0
        extra = state.extra
        if not isinstance(extra, dict) or "v" not in extra:
            raise ValueError(f"optimizer={self.hp['optimizer']} needs its moments in state.extra (init_state)")
        size = self.layout.size
        v = np.ascontiguousarray(extra["v"], dtype=np.float64)
        m = np.ascontiguousarray(extra["m"], dtype=np.float64) if self.optimizer == ADAM else _EMPTY
        if v.shape != (size,) or (self.optimizer == ADAM and m.shape != (size,)):
            raise ValueError(f"the optimiser's moments in state.extra must have {size} entries")
        extra["v"] = v
        if self.optimizer == ADAM:
            extra["m"] = m
        return m, v, int(extra.get("t", 0))

    def train_chunk(self, state: TrainState, batch) -> ChunkResult:
        """Train online on every sequence of ``batch`` (weights and moments change in place)."""
        self.check_batch(batch)
        m, v, t = self._moments(state)
        g = np.zeros(self.layout.size)
        views, gviews = self.views(state.w), self.views(g)
        outputs = np.zeros(batch.targets.shape)
        hp = self.hp
        status, n_done, t = gru_chunk(
            state.w,
            *(views[k] for k in _NAMES),
            g,
            *(gviews[k] for k in _NAMES),
            m,
            v,
            t,
            batch.inputs,
            batch.info.get("active", _DENSE),
            batch.targets,
            batch.mask,
            batch.lengths,
            hp["reset_after"],
            self.linear,
            self.optimizer,
            hp["lr"],
            hp["beta1"],
            hp["beta2"],
            hp["rho"],
            hp["eps"],
            outputs,
        )
        if self.optimizer == ADAM:
            state.extra["t"] = int(t)
        return ChunkResult(int(status), int(n_done), outputs)

    def predict(self, state: TrainState, batch) -> np.ndarray:
        """Outputs at every step, weights unchanged (NaN for a sequence that went non-finite and the rest of
        the batch after it; see :class:`~.base.ChunkResult`)."""
        self.check_batch(batch)
        views = self.views(state.w)
        outputs = np.zeros(batch.targets.shape)
        status, n_done = gru_forward_chunk(
            *(views[k] for k in _NAMES),
            batch.inputs,
            batch.info.get("active", _DENSE),
            batch.lengths,
            self.hp["reset_after"],
            self.linear,
            outputs,
        )
        return ChunkResult(int(status), int(n_done), outputs).outputs

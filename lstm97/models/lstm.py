"""The 1997 LSTM (PAPER.md §1): memory-cell blocks with input and output gates, no forget gate, trained
online with the truncated, forward-in-time gradient (§1.4–1.5); optionally with the forget gates of Gers,
Schmidhuber & Cummins 2000 (§11.1) and the peepholes of Gers, Schraudolph & Schmidhuber 2002 (§11.2).
Kernels: :mod:`._lstm_kernels`.

Hyperparameters (paper defaults per task come from the task, Table 10):

* ``blocks``, ``block_size``: C blocks of S cells sharing one input and one output gate.
* ``connectivity``: ``F`` (cells and gates see the inputs and all cells and gates of the previous step; the
  outputs see the cells), ``B`` (each layer sees all layers below, no recurrence but the CEC; Exp 2a/2b) or
  ``cells`` (cells and gates see the inputs and the previous step's cell outputs, no gate-to-gate recurrence;
  the outputs see the cells: the IDSIA code's default, PAPER.md §10.2; fewer weights than Table 10).
* ``output_gate``: whether blocks have output gates (not in Exp 2a/2b).
* ``bias``: ``none`` | ``gates`` (Table 10 "ga") | ``hidden`` ("b1": cells and gates) | ``all`` (every
  non-input unit).
* ``in_gate_bias``, ``out_gate_bias``: initial gate biases, one per block, or ``None`` (random, like every
  other weight).
* ``init``: all weights start uniform in [-init, init].
* ``bias_init``: ``exact`` (a configured gate bias replaces the random bias weight) or ``jitter`` (it is added
  to it, as in the JKU simulator, PAPER.md §10.1).
* ``r_bias``: interval of the random gate biases, ``init`` ([-init, init]) or ``0.1`` ([-0.1, 0.1], Table
  10's caption, §1.8 CONFLICT); a jittered bias adds to this random value.
* ``reset``: the previous-step activation of every cell and gate at sequence start (0; 0.5 in the JKU
  simulator, §10.1); states and traces always start at 0.
* ``error_factor``: e_k = error_factor f'(net_k)(t_k - y_k); 1 (eq. 19: the factor 2 of dE/dy is inside
  ``lr``, as in both authors' codes, §10) or 2.
* ``output``: ``logistic`` output units y_k = f(net_k) (§1.3; outputs in [0, 1]) or ``linear`` ones, y_k =
  net_k with e_k = error_factor (t_k - y_k) (f' = 1): unbounded outputs, for targets outside [0, 1] (e.g.
  ``adding-modern``'s sums in [0, 2]); not in the 1997 paper, see docs/deviations.md. ``softmax``: y = softmax(net)
  (a probability distribution over the outputs) trained on the cross-entropy CE = -sum_k t_k log y_k, e_k =
  error_factor (t_k - y_k) = -dCE/dnet_k: the same form as linear units with squared error, so ``lr`` steps on
  CE where it steps on E/2 = 1/2 sum_k (t_k - y_k)^2 for the other output kinds (e.g. ``copy``).
* ``bias=gates_outputs``: the gates and the output units carry biases, the cells none (Gers et al. 2000's CERG
  net, PAPER.md §11.1). ``outputs_see_inputs``: the output units see the inputs besides the cells (under F or
  cells; B always has it); the CERG net is connectivity=cells, bias=gates_outputs, outputs_see_inputs, forget
  gates: 4 x 2 cells, 7 in/out, 424 weights.
* ``external_reset``: states, traces and previous-step activations are reset, as at a sequence start, before every
  step the batch marks in ``info["reset"]`` (the string starts of ``reber-continual``: Gers et al. 2000's
  "standard LSTM with external reset"). ``state_decay``: s(t) = state_decay s(t-1) + y_in g (no forget gates;
  the traces decay alike; Gers et al.'s "state decay 0.9"). ``lr_decay``, ``lr_decay_every``: lr is multiplied by
  lr_decay after every lr_decay_every training sequences (Gers et al.'s "sequential alpha decay", 0.99; the
  current lr lives in ``state.extra``). A batch with ``info["halt"]`` (``reber-continual``) halts each sequence
  after its first target step with an output off by that much or more (trained on that step; later outputs are
  not computed and stay 0); ``ChunkResult.stops`` says where.
* ``g``: ``g2`` (4/(1+e^-x) - 2, range [-2, 2]) or ``g1`` (logistic); ``h``: ``h1`` (2/(1+e^-x) - 1) or
  ``id``.
* ``grow``: sequential network construction (§1.8 remedy 1, used in Exp 2a/2b; the rule is UNSPECIFIED in
  the paper): with ``plateau`` the net starts without memory blocks (their weights exist but neither act nor
  change) and adds one block each time the mean training error over a window of ``grow_window`` sequences
  is not below (1 - ``grow_tol``) times the previous window's. Decisions fall on multiples of
  ``grow_window``, so they do not depend on the chunk size.
* ``update``: ``step`` applies each step's weight change at once (online, RTRL style), ``sequence`` sums the
  changes over the sequence. PAPER.md §1.9 leaves this open; it matters only for tasks with targets at
  several steps (Exp 1, 2a, 2b). ``epoch`` sums them over ``epoch`` training sequences and applies them at the
  end of each such epoch (the JKU simulator, §10.1; without its quirk of applying them one step into the
  next sequence); the sums and the position in the epoch live in ``state.extra`` (``acc``, ``pos``), so the
  result does not depend on the chunk size. See docs/deviations.md.
* ``forget_gate``: each block gets a forget gate (Gers et al. 2000, PAPER.md §11.1) with weights from the
  input gate's sources (z, plus a bias when the input gate has one); its activation is not itself a source.
  s(t) = y_phi(t) s(t-1) + y_in(t) g(net_c(t)); the traces ds/dw_in, ds/dw_c are multiplied by y_phi(t) at
  every step, and ds/dw_phi(t) = y_phi(t) ds/dw_phi(t-1) + s(t-1) f'(net_phi(t)) z(t); the forget-gate
  weights change like the input gate's (eq. 26). ``forget_gate_bias``: initial forget-gate bias per block
  (``None``: random like the other gate biases; Gers et al. used +0.5, +1.0, ...), set as ``bias_init`` says.
* ``peepholes``: each gate gets one weight from each cell state of its block (Gers et al. 2002, PAPER.md
  §11.2): the input and forget gates see s(t-1), the output gate s(t) (its net input is completed after the
  state update). No error flows through them: s is one more source of the gate, and the weights are trained
  with the gate's traces (input and forget gates, eqs. 25-26 with source s(t-1)) or its error (output gate,
  eq. 22 with source s(t)).
* ``gradient``: ``truncated`` (the 1997 rule above) or ``full``: exact back-propagation through time of the
  summed squared error along every recurrent path, peepholes included (Graves & Schmidhuber 2005, PAPER.md
  §11.3; kernel :mod:`._lstm_bptt_kernels`); needs ``update=sequence`` or ``epoch``; the forward pass (and so
  ``predict`` and ``trace``) is the same. See docs/deviations.md.

Weight layout, one flat float64 vector: W_in [C, n_z], W_out [C, n_z], W_c [C*S, n_z], b_in, b_out, b_c,
W_k [n_out, n_src], b_k, W_phi [C, n_z], b_phi [C] (forget gates), P_in, P_phi, P_out [C*S] (peepholes:
the weight from cell c's state to block c // S's gate; P_phi only with forget gates, P_out only with output
gates), each of length 0 when absent, so that the default layout is the 1997 one; n_z = n_in + C*S + 2C under
F (n_in + C*S + C without output gates), n_in + C*S under cells and n_in under B; n_src = C*S under F and
cells and n_in + C*S under B. A bias vector has length 0 when absent.
"""

from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..params import Param
from ._gru_kernels import ADAM, RMSPROP, SGD
from ._lstm_bptt_kernels import lstm_bptt_chunk
from ._lstm_kernels import G1, G2, H1, HID, lstm_chunk
from .base import ChunkResult, Footprint, Layout, Model, ModelSpec, TrainState

_DENSE = np.zeros((0, 0), dtype=np.int64)  # "no one-hot index": the kernel sums over every input

#: The weight arrays in the kernel's argument order.
_NAMES = ("W_in", "W_out", "W_c", "b_in", "b_out", "b_c", "W_k", "b_k", "W_phi", "b_phi", "P_in", "P_phi", "P_out")

_BIASED = {  # which unit groups carry a bias weight under each scheme
    "none": (),
    "gates": ("in", "out"),
    "gates_outputs": ("in", "out", "k"),
    "hidden": ("in", "out", "c"),
    "all": ("in", "out", "c", "k"),
}


_OPTIMIZERS = {"sgd": SGD, "adam": ADAM, "rmsprop": RMSPROP}


class LSTM(Model):
    spec = ModelSpec(
        name="lstm",
        title="LSTM (1997): CEC, input and output gates, truncated RTRL-like gradient",
        paper="PAPER.md §1",
        params=(
            Param("blocks", "int", 2, "number of memory-cell blocks C", low=1, high=10_000),
            Param("block_size", "int", 2, "cells per block S", low=1, high=10_000),
            Param(
                "connectivity",
                "str",
                "F",
                "F (recurrent hidden layer: cells and gates see the previous cells and gates) | B (layered, no "
                "recurrence) | cells (cells and gates see the previous cell outputs only, no gate-to-gate "
                "recurrence; the IDSIA code, PAPER.md §10.2)",
                choices=("F", "B", "cells"),
            ),
            Param("output_gate", "bool", True, "blocks have output gates"),
            Param("bias", "str", "all", "units with bias weights", choices=tuple(_BIASED)),
            Param(
                "in_gate_bias",
                "floats",
                None,
                "initial input-gate bias per block (r = random)",
                optional=True,
                low=-1e3,
                high=1e3,
            ),
            Param(
                "out_gate_bias",
                "floats",
                None,
                "initial output-gate bias per block (r = random)",
                optional=True,
                low=-1e3,
                high=1e3,
            ),
            Param(
                "forget_gate",
                "bool",
                False,
                "blocks have forget gates (Gers, Schmidhuber & Cummins 2000, PAPER.md §11.1; not in the 1997 LSTM)",
            ),
            Param(
                "forget_gate_bias",
                "floats",
                None,
                "initial forget-gate bias per block (r = random; Gers et al. 2000 used +0.5, +1.0, ...)",
                optional=True,
                low=-1e3,
                high=1e3,
            ),
            Param(
                "peepholes",
                "bool",
                False,
                "gates see their block's cell states: input and forget gates s(t-1), the output gate s(t); one "
                "weight per cell and gate, no error through them (Gers, Schraudolph & Schmidhuber 2002, "
                "PAPER.md §11.2)",
            ),
            Param("init", "float", 0.1, "initial weights uniform in [-init, init]", low=0.0, high=1e3),
            Param(
                "bias_init",
                "str",
                "exact",
                "how a configured gate bias is set: exact (it replaces the random bias weight) | jitter (it is "
                "added to the random bias weight, as in the JKU simulator, PAPER.md §10.1)",
                choices=("exact", "jitter"),
            ),
            Param(
                "r_bias",
                "str",
                "init",
                "interval of the random ('r') gate biases: init ([-init, init] like every weight) | 0.1 "
                "([-0.1, 0.1], Table 10's caption; PAPER.md §1.8 CONFLICT)",
                choices=("init", "0.1"),
            ),
            Param(
                "reset",
                "float",
                0.0,
                "previous-step activation of every cell and gate at sequence start (states and traces are 0): "
                "0 (PAPER.md §1.3) or 0.5 (the JKU simulator, §10.1)",
                low=0.0,
                high=1.0,
            ),
            Param(
                "error_factor",
                "int",
                1,
                "factor of the output error e_k = factor f'(net_k)(t_k - y_k): 1 (the factor 2 of dE/dy is "
                "inside lr, PAPER.md §1.5; the JKU and IDSIA codes, §10) | 2 (the full derivative of the squared "
                "error)",
                low=1,
                high=2,
            ),
            Param("lr", "float", 0.5, "learning rate alpha", low=0.0, high=1e3),
            Param(
                "output",
                "str",
                "logistic",
                "output units: logistic (y_k = f(net_k) in [0,1], PAPER.md §1.3) | linear (y_k = net_k, unbounded; "
                "e_k = t_k - y_k: not in the 1997 paper) | softmax (a distribution, trained on the cross-entropy: "
                "e_k = t_k - y_k; not in the 1997 paper)",
                choices=("logistic", "linear", "softmax"),
            ),
            Param("g", "str", "g2", "cell-input squashing: g2 in [-2,2] | g1 logistic", choices=("g2", "g1")),
            Param("h", "str", "h1", "cell-output squashing: h1 in [-1,1] | id", choices=("h1", "id")),
            Param(
                "update",
                "str",
                "step",
                "when weights change: step | sequence | epoch (summed over `epoch` sequences, applied at the end "
                "of each; the JKU simulator, PAPER.md §10.1)",
                choices=("step", "sequence", "epoch"),
            ),
            Param(
                "epoch",
                "int",
                1000,
                "update=epoch: training sequences per epoch (for a fixed training set, set it to the set's size, "
                "e.g. reber's); ignored otherwise",
                low=1,
                high=1_000_000_000,
            ),
            Param(
                "grow",
                "str",
                "none",
                "sequential construction: none (all blocks from the start) | plateau (start with none, add "
                "one block whenever the training error stops decreasing)",
                choices=("none", "plateau"),
            ),
            Param(
                "grow_window",
                "int",
                100,
                "plateau test: compare mean training errors of consecutive windows of this many sequences",
                low=1,
                high=10_000_000,
            ),
            Param(
                "grow_tol",
                "float",
                0.0,
                "plateau test: the error 'stops decreasing' when a window's mean is "
                "not below (1 - grow_tol) x the previous window's",
                low=0.0,
                high=1.0,
            ),
            Param(
                "gradient",
                "str",
                "truncated",
                "truncated (the 1997 rule: error crosses time steps only inside the CECs, PAPER.md §1.4) | full "
                "(exact BPTT through every recurrent path, Graves & Schmidhuber 2005, §11.3; needs update=sequence "
                "or update=epoch)",
                choices=("truncated", "full"),
            ),
            Param(
                "optimizer",
                "str",
                "sgd",
                "sgd (plain on-line gradient descent, the paper's) | adam | rmsprop: one step per sequence on the "
                "full gradient (needs gradient=full, update=sequence; not in the paper; lr is the step size)",
                choices=("sgd", "adam", "rmsprop"),
            ),
            Param("beta1", "float", 0.9, "adam: decay of the first moment", low=0.0, high=0.999999),
            Param("beta2", "float", 0.999, "adam: decay of the second moment", low=0.0, high=0.999999),
            Param("rho", "float", 0.9, "rmsprop: decay of the mean square", low=0.0, high=0.999999),
            Param("eps", "float", 1e-8, "adam, rmsprop: added to the root of the second moment", low=1e-300, high=1.0),
            Param(
                "outputs_see_inputs",
                "bool",
                False,
                "the output units also see the inputs (under F or cells; B always has it): Gers et al. 2000's "
                "CERG net, PAPER.md §11.1",
            ),
            Param(
                "external_reset",
                "bool",
                False,
                "reset states, traces and activations at the steps the task marks (info['reset'], e.g. the string "
                "starts of reber-continual): 'standard LSTM with external reset', PAPER.md §11.1",
            ),
            Param(
                "state_decay",
                "float",
                1.0,
                "s(t) = state_decay s(t-1) + y_in g, traces alike (1: none; Gers et al. 2000 used 0.9; no forget "
                "gates)",
                low=0.0,
                high=1.0,
            ),
            Param(
                "state_decay_traces",
                "bool",
                True,
                "with state_decay: the traces decay with the state, the exact truncated gradient (false: the state "
                "decays but the traces grow as in the 1997 LSTM, the gradient of the net without decay; another "
                "reading of Gers et al. 2000, docs/deviations.md)",
            ),
            Param(
                "lr_decay",
                "float",
                1.0,
                "multiply lr by this after every lr_decay_every training sequences (1: none; Gers et al. 2000's "
                "'sequential alpha decay' 0.99, PAPER.md §11.1)",
                low=0.0,
                high=1.0,
            ),
            Param(
                "lr_decay_every",
                "int",
                1,
                "lr_decay: training sequences between two decays",
                low=1,
                high=1_000_000_000,
            ),
        ),
        version=1,
    )

    def validate(self) -> None:
        C = self.hp["blocks"]
        for key in ("in_gate_bias", "out_gate_bias", "forget_gate_bias"):
            value = self.hp[key]
            if value is None:
                continue
            if len(value) != C:
                raise UserError(f"parameter {key} has {len(value)} values; give one per block ({C}).")
            if key == "forget_gate_bias":
                if not self.hp["forget_gate"]:
                    raise UserError(f"parameter {key} is set but forget_gate=false; set forget_gate=true.")
                if "in" not in _BIASED[self.hp["bias"]]:
                    raise UserError(
                        f"parameter {key} is set but gates have no bias under bias={self.hp['bias']}; use {key}=r."
                    )
                continue
            gate = "in" if key == "in_gate_bias" else "out"
            if gate not in _BIASED[self.hp["bias"]] or (gate == "out" and not self.hp["output_gate"]):
                raise UserError(
                    f"parameter {key} is set but {gate}put gates have no bias under bias={self.hp['bias']}"
                    f"{'' if self.hp['output_gate'] else ' and output_gate=false'}; use {key}=r."
                )
        if self.hp["output"] == "softmax" and self.n_out < 2:
            raise UserError("output=softmax needs at least two output units (one softmax output is always 1).")
        if self.hp["state_decay"] != 1.0 and self.hp["forget_gate"]:
            raise UserError("state_decay is a constant forget gate: use it without forget_gate=true (or set it to 1).")
        if self.hp["outputs_see_inputs"] and self.hp["connectivity"] == "B":
            raise UserError("outputs_see_inputs is for connectivity F or cells: under B the outputs see the inputs.")
        if self.hp["gradient"] == "full":
            extras = [k for k, off in self._FULL_OFF.items() if self.hp[k] != off]
            if extras:
                raise UserError(
                    f"gradient=full does not support {', '.join(extras)}: use gradient=truncated or leave "
                    f"{'it' if len(extras) == 1 else 'them'} at the default."
                )
        if self.hp["optimizer"] != "sgd" and (self.hp["gradient"] != "full" or self.hp["update"] != "sequence"):
            raise UserError(
                f"optimizer={self.hp['optimizer']} takes one step per sequence on the full gradient: set "
                "gradient=full and update=sequence (or use optimizer=sgd)."
            )
        if self.hp["gradient"] == "full" and self.hp["update"] == "step":
            raise UserError(
                "gradient=full computes the gradient of a whole sequence by back-propagation through time and "
                "cannot change the weights at every step: set update=sequence (or update=epoch)."
            )
        self._layout = self._make_layout()

    #: Options the full-gradient kernel lacks, with their "off" values.
    _FULL_OFF = {"outputs_see_inputs": False, "external_reset": False, "state_decay": 1.0, "lr_decay": 1.0}

    def _make_layout(self) -> Layout:
        C, S = self.hp["blocks"], self.hp["block_size"]
        og, fg, pe = self.hp["output_gate"], self.hp["forget_gate"], self.hp["peepholes"]
        biased = _BIASED[self.hp["bias"]]
        if self.hp["connectivity"] == "F":
            n_z = self.n_in + C * S + C + (C if og else 0)
            n_src = C * S
        elif self.hp["connectivity"] == "cells":
            n_z = self.n_in + C * S
            n_src = C * S
        else:
            n_z = self.n_in
            n_src = self.n_in + C * S
        if self.hp["outputs_see_inputs"]:
            n_src = self.n_in + C * S
        return Layout(
            {
                "W_in": (C, n_z),
                "W_out": (C if og else 0, n_z),
                "W_c": (C * S, n_z),
                "b_in": (C if "in" in biased else 0,),
                "b_out": (C if og and "out" in biased else 0,),
                "b_c": (C * S if "c" in biased else 0,),
                "W_k": (self.n_out, n_src),
                "b_k": (self.n_out if "k" in biased else 0,),
                "W_phi": (C if fg else 0, n_z),  # a forget gate has the input gate's sources and bias
                "b_phi": (C if fg and "in" in biased else 0,),
                "P_in": (C * S if pe else 0,),
                "P_phi": (C * S if pe and fg else 0,),
                "P_out": (C * S if pe and og else 0,),
            }
        )

    @property
    def layout(self) -> Layout:
        return self._layout

    def output_range(self) -> tuple[float, float]:
        """(0, 1) with logistic output units (the default) and softmax ones; unbounded with ``output=linear``."""
        return (-np.inf, np.inf) if self.hp["output"] == "linear" else (0.0, 1.0)

    def capabilities(self) -> frozenset[str]:
        """``distribution`` with output=softmax; ``halt`` (sequences halted at their first wrong step) and
        ``resets`` (info["reset"]) with the truncated gradient."""
        have = {"distribution"} if self.hp["output"] == "softmax" else set()
        if self.hp["gradient"] == "truncated":
            have |= {"halt", "resets"}
        return frozenset(have)

    def capability_hint(self, need: str) -> str:
        return {
            "distribution": "use --hp output=softmax (Python: hp={'output': 'softmax'})",
            "halt": "use --hp gradient=truncated",
            "resets": "use --hp gradient=truncated",
        }.get(need, "")

    size_hint = "fewer blocks or cells per block"

    def footprint(self) -> Footprint:
        """Three weight vectors (the state, the runner's copy at the start of a chunk, the random
        initialisation), the sums of update=sequence and the kernel's traces ds_in, ds_c (and ds_phi with forget
        gates; C*S x (n_z + 1) each; with peepholes ds_pin and ds_pphi, C*S x S); per time step two operations
        per weight forward and two for its change, two per trace entry for each of eqs. 25 and 27 (and the
        forget gate's trace), one more per trace entry for the factor y_phi, the errors and the squashings."""
        sh = self.layout.shapes
        W, CS, C, S = self.layout.size, sh["W_c"][0], sh["W_in"][0], self.hp["block_size"]
        n_z, n_src, K = sh["W_c"][1], sh["W_k"][1], self.n_out
        fg, pe = self.hp["forget_gate"], self.hp["peepholes"]
        traces = (3 if fg else 2) * CS * (n_z + 1) + ((2 if fg else 1) * CS * S if pe else 0)
        work = n_z + n_src + (7 if pe else 6) * CS + (5 if fg else 4) * C + 2 * K
        sums = W if self.hp["update"] in ("sequence", "epoch") else 0
        if self.hp["gradient"] == "full":
            return self._full_footprint(W, CS, C, n_z, n_src, K)
        return Footprint(
            bytes=8 * (3 * W + sums + traces + work),
            flops_per_step=4 * W + (3 if fg else 2) * traces + 2 * K * CS + 30 * CS + 20 * ((2 if fg else 1) * C + K),
        )

    #: Sequence length assumed by the footprint of gradient=full, which stores every step's activations (it
    #: does not know the task's lengths; most tasks' sequences are shorter).
    LENGTH_ESTIMATE = 1000

    def _full_footprint(self, W: int, CS: int, C: int, n_z: int, n_src: int, K: int) -> Footprint:
        """gradient=full: three weight vectors and the sums, the activations stored per step (z, three gate
        activations, four per cell, the outputs and their errors) for LENGTH_ESTIMATE steps and the work arrays;
        per step two operations per weight forward, four backward (the changes and the recurrent errors), and
        the squashings."""
        per_step = n_z + 3 * C + 5 * CS + 2 * K
        work = n_z + n_src + 12 * CS + 8 * C + 2 * K
        return Footprint(
            bytes=8 * (4 * W + self.LENGTH_ESTIMATE * per_step + work),
            flops_per_step=6 * W + 40 * CS + 20 * (3 * C + K),
        )

    def init_state(self, rng: np.random.Generator) -> TrainState:
        """Every weight uniform in [-init, init]; with r_bias=0.1 the gate biases are then drawn again from
        [-0.1, 0.1]; a configured gate bias replaces its random value (bias_init=exact) or is added to it
        (jitter). The forget gates' and peepholes' weights (last in the flat vector) are drawn, and then treated
        the same way, after all that, so the other weights are those drawn without forget gates. With update=epoch,
        ``extra`` also holds the epoch's summed changes ``acc`` (shaped like the flat weight vector) and the
        number ``pos`` of sequences of the epoch done."""
        r = self.hp["init"]
        w = np.empty(self.layout.size)
        v = self.views(w)
        new = ("W_phi", "b_phi", "P_in", "P_phi", "P_out")
        n_old = w.size - sum(v[k].size for k in new)  # the 1997 weights come first
        w[:n_old] = rng.uniform(-r, r, n_old)
        for key, name in (("in_gate_bias", "b_in"), ("out_gate_bias", "b_out"), ("forget_gate_bias", "b_phi")):
            if name == "b_phi":
                w[n_old:] = rng.uniform(-r, r, w.size - n_old)  # nothing drawn without forget gates
            if self.hp["r_bias"] == "0.1" and v[name].size:
                v[name][:] = rng.uniform(-0.1, 0.1, v[name].size)
            if self.hp[key] is not None:
                if self.hp["bias_init"] == "jitter":
                    v[name][:] += self.hp[key]
                else:
                    v[name][:] = self.hp[key]
        growing = self.hp["grow"] == "plateau"
        extra = {"n_act": 0 if growing else self.hp["blocks"], "pending": [], "prev": None}
        if self.hp["update"] == "epoch":
            extra.update(acc=np.zeros(self.layout.size), pos=0)
        if self.hp["optimizer"] != "sgd":  # the optimiser's moments (and Adam's step count) carry over chunks
            extra.update(m=np.zeros(self.layout.size), v=np.zeros(self.layout.size), t=0)
        if self.hp["lr_decay"] != 1.0:  # the current (decayed) kernel lr and the sequences since its last decay
            extra.update(lr=self.hp["lr"] * self.hp["error_factor"], lr_pos=0)
        return TrainState(w, extra)

    @property
    def period(self) -> int:
        return self.hp["grow_window"] if self.hp["grow"] == "plateau" else 0

    def observe(self, state: TrainState, errors: np.ndarray) -> None:
        """Sequential construction: at each multiple of grow_window, add a block if the error stalled."""
        ex = state.extra
        if self.hp["grow"] != "plateau" or ex["n_act"] >= self.hp["blocks"]:
            return
        ex["pending"].extend(float(e) for e in errors)
        window = self.hp["grow_window"]
        while len(ex["pending"]) >= window:
            mean = float(np.mean(ex["pending"][:window]))
            del ex["pending"][:window]
            if ex["prev"] is not None and mean >= (1.0 - self.hp["grow_tol"]) * ex["prev"]:
                ex["n_act"] += 1
                ex["prev"] = None  # the next block waits for a plateau of its own
                if ex["n_act"] >= self.hp["blocks"]:
                    ex["pending"].clear()
                    return
            else:
                ex["prev"] = mean

    def _run(self, state: TrainState, batch, learn: bool) -> ChunkResult:
        if learn and self.hp["gradient"] == "full":
            return self._run_full(state, batch)
        self.check_batch(batch)
        v = self.views(state.w)
        outputs = np.zeros(batch.targets.shape)
        update, ex = self.hp["update"], state.extra
        epoch, pos = 1, 0
        if update == "step":  # the changes go straight into the weights
            d = v
        elif update == "sequence":  # ... or into their sums over a sequence
            d = self.views(np.zeros(self.layout.size))
        else:  # ... or over an epoch, carried over from chunk to chunk
            ex["acc"] = np.ascontiguousarray(ex["acc"], dtype=np.float64)
            d = self.views(ex["acc"])
            epoch, pos = self.hp["epoch"], int(ex["pos"])
        opts, lr = self._options(batch, learn), self.hp["lr"] * self.hp["error_factor"]  # exact: factor 1 or 2
        if ex is not None and "lr" in ex:
            lr = float(ex["lr"])
            opts["lr_decay"] = (self.hp["lr_decay"], self.hp["lr_decay_every"], int(ex["lr_pos"]))
        stops = np.zeros(len(batch), dtype=np.int64)
        status, n_done = lstm_chunk(
            state.w,
            tuple(v[name] for name in _NAMES),
            (batch.kernel_inputs, batch.info.get("active", _DENSE), batch.targets, batch.mask, batch.lengths),
            self.hp["block_size"],
            self.hp["blocks"] if ex is None else ex["n_act"],
            self.hp["connectivity"] != "B",
            G2 if self.hp["g"] == "g2" else G1,
            H1 if self.hp["h"] == "h1" else HID,
            lr,
            learn,
            update == "step",
            outputs,
            self.hp["reset"],
            self.hp["connectivity"] == "F",
            epoch,
            pos,
            tuple(d[name] for name in _NAMES),
            # only when linear: the 0.2.0 kernel of benchmarks/bench_lstm.py, swapped in here, has no such argument
            **({"linear": True} if self.hp["output"] == "linear" else {}),
            **opts,
            **({"stops": stops} if opts else {}),
        )
        if learn and update == "epoch":
            ex["pos"] = (pos + int(n_done)) % epoch
        if learn and ex is not None and "lr" in ex:  # the kernel's decays replayed: the same products, the same bits
            every = self.hp["lr_decay_every"]
            for _ in range(int(n_done)):
                ex["lr_pos"] += 1
                if ex["lr_pos"] == every:
                    ex["lr"] = ex["lr"] * self.hp["lr_decay"]
                    ex["lr_pos"] = 0
        return ChunkResult(int(status), int(n_done), outputs, stops if "halt" in opts else None)

    def _options(self, batch, learn: bool) -> dict:
        """The kernel's keyword options beyond the 1997 net (only those not at their default)."""
        opts: dict = {}
        if self.hp["output"] == "softmax":
            opts["softmax"] = True
        if self.hp["outputs_see_inputs"]:
            opts["out_in"] = True
        if self.hp["state_decay"] != 1.0:
            opts["decay"] = float(self.hp["state_decay"])
            if not self.hp["state_decay_traces"]:
                opts["decay_traces"] = False
        if self.hp["external_reset"]:
            if "reset" not in batch.info:
                raise UserError(
                    "external_reset=true needs a task that marks its string starts (info['reset'], e.g. "
                    "reber-continual); this batch has none."
                )
            opts["resets"] = np.ascontiguousarray(batch.info["reset"], dtype=np.bool_)
        if "halt" in batch.info and len(batch):
            tol = np.unique(batch.info["halt"])
            if tol.size != 1 or not tol[0] > 0:
                raise ValueError(f"info['halt'] must hold one positive tolerance for the batch, got {tol}")
            opts["halt"] = float(tol[0])
        return opts

    def _run_full(self, state: TrainState, batch) -> ChunkResult:
        """Train with gradient=full (:mod:`._lstm_bptt_kernels`): the changes of a sequence are summed in fresh
        arrays (update=sequence) or in the epoch's sums ``state.extra["acc"]`` (update=epoch), as in :meth:`_run`."""
        self.check_batch(batch)
        v = self.views(state.w)
        outputs = np.zeros(batch.targets.shape)
        ex = state.extra
        if self.hp["update"] == "epoch":
            ex["acc"] = np.ascontiguousarray(ex["acc"], dtype=np.float64)
            d = self.views(ex["acc"])
            epoch, pos = self.hp["epoch"], int(ex["pos"])
        else:
            flat = np.zeros(self.layout.size)
            d = self.views(flat)
            epoch, pos = 1, 0
        lr = self.hp["lr"] * self.hp["error_factor"]
        optimizer = None
        if self.hp["optimizer"] != "sgd":  # the gradient g = -1/2 dE/dw (times error_factor) steps the optimiser
            ex["m"] = np.ascontiguousarray(ex["m"], dtype=np.float64)
            ex["v"] = np.ascontiguousarray(ex["v"], dtype=np.float64)
            kind = float(_OPTIMIZERS[self.hp["optimizer"]])
            hp = self.hp
            opts = (kind, float(hp["lr"]), float(hp["beta1"]), float(hp["beta2"]), float(hp["rho"]), float(hp["eps"]))
            optimizer = (opts, flat, ex["m"], ex["v"], int(ex["t"]))
            lr = float(self.hp["error_factor"])
        status, n_done, t = lstm_bptt_chunk(
            state.w,
            tuple(v[name] for name in _NAMES),
            (batch.inputs, batch.targets, batch.mask, batch.lengths),
            self.hp["block_size"],
            self.hp["blocks"] if ex is None else ex["n_act"],
            self.hp["connectivity"] != "B",
            self.hp["connectivity"] == "F",
            G2 if self.hp["g"] == "g2" else G1,
            H1 if self.hp["h"] == "h1" else HID,
            lr,
            outputs,
            self.hp["reset"],
            epoch,
            pos,
            tuple(d[name] for name in _NAMES),
            linear=self.hp["output"] == "linear",
            softmax=self.hp["output"] == "softmax",
            optimizer=optimizer,
        )
        if optimizer is not None:
            ex["t"] = int(t)
        if self.hp["update"] == "epoch":
            ex["pos"] = (pos + int(n_done)) % epoch
        return ChunkResult(int(status), int(n_done), outputs)

    def train_chunk(self, state: TrainState, batch) -> ChunkResult:
        """Train online on every sequence of ``batch`` (weights change in place)."""
        return self._run(state, batch, True)

    def predict(self, state: TrainState, batch) -> np.ndarray:
        """Outputs at every step, weights unchanged (NaN for a sequence that went non-finite and the rest of
        the batch after it; see :class:`~.base.ChunkResult`)."""
        return self._run(state, batch, False).outputs

    def trace(self, state: TrainState, batch) -> dict[str, np.ndarray]:
        """Internal activations over the one sequence of ``batch`` (a forward pass in plain numpy from the
        weight views, PAPER.md §1.3; read-only, for plots).

        Returns arrays over the sequence's L steps: ``y_in`` and ``y_out`` [L, C] (gate activations; 1.0
        without output gates), with forget gates also ``y_phi`` [L, C], ``s_c`` and ``y_c`` [L, C*S] (cell
        states and cell outputs; cell c belongs to block c // S) and ``outputs`` [L, n_out] (equal to
        :meth:`predict`'s, except that a halting batch's later steps, which predict leaves 0, are computed here).
        Blocks not yet added by sequential construction keep their reset values (gates 0,
        or 1.0 without output gates; cells 0).
        """
        if len(batch) != 1:
            raise ValueError(f"trace needs a batch of one sequence, got {len(batch)}")
        v = self.views(state.w)
        C, S = self.hp["blocks"], self.hp["block_size"]
        n_act = C if state.extra is None else int(state.extra["n_act"])
        og, conn, fg = self.hp["output_gate"], self.hp["connectivity"], self.hp["forget_gate"]
        pe = self.hp["peepholes"]
        conn_f = conn != "B"  # the outputs see the cells only
        L = int(batch.lengths[0])
        x = batch.inputs[0, :L]

        def f(a: np.ndarray) -> np.ndarray:
            return 1.0 / (1.0 + np.exp(-a))

        def bias(name: str, n: int) -> np.ndarray:
            return v[name] if v[name].size else np.zeros(n)

        b_in, b_out, b_c, b_k = bias("b_in", C), bias("b_out", C), bias("b_c", C * S), bias("b_k", self.n_out)
        b_phi = bias("b_phi", C)
        linear = self.hp["output"] == "linear"
        softmax = self.hp["output"] == "softmax"
        decay = self.hp["state_decay"]

        def out_units(a: np.ndarray) -> np.ndarray:
            if softmax:
                e = np.exp(a - a.max())
                return e / e.sum()
            return a if linear else f(a)

        def peep(name: str, state: np.ndarray) -> np.ndarray:  # sum over the block's cells of P[c] s[c]
            return (v[name] * state).reshape(C, S).sum(axis=1) if pe else 0.0

        active = np.arange(C) < n_act
        cells = np.repeat(active, S)
        block = np.arange(C * S) // S
        y0 = self.hp["reset"]
        y_in, y_out = np.where(active, y0, 0.0), np.where(active, y0, 0.0) if og else np.ones(C)
        y_phi = np.zeros(C)
        s, y_c = np.zeros(C * S), np.where(cells, y0, 0.0)
        names = (("y_in", C), ("y_out", C)) + ((("y_phi", C),) if fg else ())
        out = {k: np.zeros((L, n)) for k, n in names + (("s_c", C * S), ("y_c", C * S), ("outputs", self.n_out))}
        marks = batch.info.get("reset") if self.hp["external_reset"] else None
        for t in range(L):
            if marks is not None and t > 0 and marks[0, t]:  # an external reset, as at the sequence start
                y_in, y_out = np.where(active, y0, 0.0), np.where(active, y0, 0.0) if og else np.ones(C)
                s, y_c = np.zeros(C * S), np.where(cells, y0, 0.0)
            if conn == "F":
                z = np.concatenate([x[t], y_c, y_in, y_out if og else []])
            else:
                z = np.concatenate([x[t], y_c]) if conn == "cells" else x[t]
            y_in = np.where(active, f(v["W_in"] @ z + b_in + peep("P_in", s)), y_in)
            if og and not pe:
                y_out = np.where(active, f(v["W_out"] @ z + b_out), y_out)
            if fg:
                y_phi = np.where(active, f(v["W_phi"] @ z + b_phi + peep("P_phi", s)), y_phi)
            q = f(v["W_c"] @ z + b_c)
            g = 4.0 * q - 2.0 if self.hp["g"] == "g2" else q
            s = np.where(cells, (y_phi[block] * s if fg else decay * s if decay != 1.0 else s) + y_in[block] * g, s)
            if og and pe:  # the output gate's peepholes see s(t)
                y_out = np.where(active, f(v["W_out"] @ z + b_out + peep("P_out", s)), y_out)
            h = 2.0 * f(s) - 1.0 if self.hp["h"] == "h1" else s
            y_c = np.where(cells, y_out[block] * h, y_c)
            src = y_c if conn_f and not self.hp["outputs_see_inputs"] else np.concatenate([x[t], y_c])
            for name, value in (
                ("y_in", y_in),
                ("y_out", y_out),
                ("y_phi", y_phi),
                ("s_c", s),
                ("y_c", y_c),
                ("outputs", out_units(v["W_k"] @ src + b_k)),
            ):
                if name in out:
                    out[name][t] = value
        return out

    def train_lanes(self, states, batches) -> list[ChunkResult]:
        """Train ``states[i]`` on ``batches[i]`` for every lane i (``lstm97 run --lanes``): side by side in the
        SIMD lane kernel (:mod:`._lstm_lane_kernels`) where the configuration allows, else one after another;
        either way bit-identical to :meth:`train_chunk` per lane."""
        from ._lstm_lane_kernels import train_lanes

        done = train_lanes(self, states, batches)
        return super().train_lanes(states, batches) if done is None else done

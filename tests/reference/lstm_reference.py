"""Plain-numpy reference of the 1997 LSTM and its truncated-gradient learning rule (the test oracle).

Implements, one time step at a time and one equation per line, PAPER.md:

* §1.2 the squashing functions f (logistic), g ("g2": 4/(1+e^-x)-2, "g1": logistic) and h ("h1":
  2/(1+e^-x)-1, "id": identity) and their derivatives (eqs. 3-5);
* §1.3 the forward pass of memory-cell blocks without forget gate (eqs. 6-9): input gate, optional output
  gate, cell input, constant error carrousel s_c(t) = s_c(t-1) + y_in g(net_c), cell output y_out h(s_c),
  logistic output units fed by the cell outputs of the same step (and the inputs under connectivity "B");
* §1.4-1.5 the truncated gradient: output-unit error e_k (eq. 19), output-gate error e_out (eq. 21), the
  updates of output-unit and output-gate weights (eq. 22), the internal-state error e_s (eq. 23), the
  forward derivative traces ds_dw_in, ds_dw_c (eqs. 25, 27, accumulated at every step, reset at sequence
  start) and the updates of input-gate and cell-input weights (eqs. 26, 28);
* §1.9 the two readings of "on-line": ``update="step"`` applies each step's deltas at once,
  ``update="sequence"`` sums them and applies them at the sequence end; and the JKU simulator's
  ``update="epoch"`` (§10.1), which sums them over ``epoch`` sequences (counted from the first sequence
  given) and applies them at the end of each epoch;
* the protocol options of the authors' codes (§10): ``reset`` (the previous-step activation of every cell
  and gate at sequence start: 0, or the JKU simulator's 0.5; states and traces stay 0), ``error_factor``
  (e_k = error_factor f'(net_k)(t_k - y_k): 1 as in the paper's eq. 19, 2 for the full derivative of the
  squared error) and connectivity ``"cells"`` (§10.2: cells and gates see the inputs and the previous cell
  outputs, not the gates);
* §11.1 (Gers, Schmidhuber & Cummins 2000) ``forget_gate``: a forget gate per block, y_phi = f(net_phi) with
  the input gate's sources (and bias), s_c(t) = y_phi(t) s_c(t-1) + y_in g(net_c); the traces ds_dw_in,
  ds_dw_c gain the factor y_phi(t), the new trace ds_dw_phi(t) = y_phi(t) ds_dw_phi(t-1) + s_c(t-1)
  f'(net_phi(t)) z(t), and Delta w_phi = lr sum_v e_s ds_dw_phi, like eq. 26. The forget gate's activation is
  not a source of any unit;
* §11.2 (Gers, Schraudolph & Schmidhuber 2002) ``peepholes``: gate j also sees its block's cell states, one
  weight per cell: net_in_j(t) += sum_v P_in[c] s_c(t-1), net_phi_j(t) += sum_v P_phi[c] s_c(t-1),
  net_out_j(t) += sum_v P_out[c] s_c(t) (the output gate after the state update). No error flows through
  them: s is one more source of the gate; ds_dp_in[c, v'] and ds_dp_phi[c, v'] are the traces of eqs. 25 and
  §11.1 with the source s_{c'}(t-1), c' = j S + v', and Delta P_out[c] = lr e_out_j s_c(t) (eq. 22);
* ``output="linear"`` (not in the paper): linear output units y_k = net_k, so f'_k = 1 in eq. 19 and
  e_k = error_factor (t_k - y_k); the default ``"logistic"`` is the paper's y_k = f(net_k). ``output="softmax"``
  (not in the paper): y = exp(net) / sum exp(net), trained on the cross-entropy CE = -sum_k t_k log y_k, whose
  -dCE/dnet_k is t_k - y_k (for targets summing to 1): e_k = error_factor (t_k - y_k), the linear units' form;
* Gers, Schmidhuber & Cummins 2000 (§11.1, the continual embedded Reber grammar): ``outputs_see_inputs`` (the
  output units see [x(t), y_c(t)] under F or "cells"), bias ``"gates_outputs"`` (gates and output units);
  ``state_decay`` d: s_c(t) = d s_c(t-1) + y_in g(net_c) with every trace multiplied by d first (a constant
  forget gate; with ``state_decay_traces`` false the traces are not multiplied: the state decays, the traces
  grow as in the 1997 net); ``lr_decay`` (factor, every): lr is multiplied by factor after every ``every`` sequences;
  :func:`reference_train`'s ``resets`` [n, L]: before a marked step t > 0 the activations, states and traces are
  reset as at a sequence start; ``halt`` > 0: a sequence ends right after (and training on) its first target step
  at which some |t_k - y_k| >= halt (its later outputs stay 0).

There are no conventional hidden units (eqs. 11, 20 are not needed). Deliberately slow and obvious: loops
over sequences, time steps, blocks and cells; no numba. ``lstm97.models.lstm`` is tested against it.

Layout (shared with the kernel, which gives the same arrays as named views of its flat weight vector):

* cells c = 0..C*S-1, cell c belongs to block j = c // S; block j has input gate in_j and, if
  ``output_gate``, output gate out_j;
* hidden source vector z(t): connectivity "F": [x(t), y_c(t-1), y_in(t-1), y_out(t-1) (if output gate)];
  "cells": [x(t), y_c(t-1)]; "B": x(t). All previous activations are ``reset`` (default 0) at t = 0;
* output source vector ysrc(t): "F" and "cells": y_c(t); "B": [x(t), y_c(t)];
* ``W_in`` [C, n_z], ``W_out`` [C, n_z] ([0, n_z] without output gate), ``W_c`` [C*S, n_z],
  ``W_k`` [n_out, n_ysrc]; biases ``b_in`` [C], ``b_out`` [C], ``b_c`` [C*S], ``b_k`` [n_out], each of
  length 0 when absent. bias "none": no biases; "gates": b_in, b_out; "hidden": b_in, b_out, b_c;
  "all": b_in, b_out, b_c, b_k. A bias is a weight from a constant source 1;
* ``W_phi`` [C, n_z], ``b_phi`` [C] (the forget gates: length 0 without them; b_phi exists when b_in does);
* ``P_in``, ``P_phi``, ``P_out`` [C*S] (peepholes: cell c's state to block c // S's gates; length 0 without
  peepholes, P_phi also without forget gates, P_out without output gates).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

#: Names of the weight arrays, in a fixed order (used for flattening).
PARAM_NAMES = ("W_in", "W_out", "W_c", "b_in", "b_out", "b_c", "W_k", "b_k", "W_phi", "b_phi", "P_in", "P_phi", "P_out")

_BIASED = {
    "none": frozenset(),
    "gates": frozenset({"in", "out"}),
    "gates_outputs": frozenset({"in", "out", "k"}),
    "hidden": frozenset({"in", "out", "c"}),
    "all": frozenset({"in", "out", "c", "k"}),
}


# --------------------------------------------------------------------------------------------------------
# Configuration and layout
# --------------------------------------------------------------------------------------------------------
def make_config(cfg: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """A complete, checked configuration dict.

    Keys: n_in, n_out, blocks (C), block_size (S), connectivity ("F"/"B"/"cells"), output_gate (bool),
    bias ("none"/"gates"/"hidden"/"all"), g ("g2"/"g1"), h ("h1"/"id"), lr, update
    ("step"/"sequence"/"epoch"), epoch (sequences per epoch, default 1), reset (previous-step activations at
    sequence start, default 0), error_factor (1 or 2, default 1), forget_gate (bool, default False),
    peepholes (bool, default False), output ("logistic"/"linear", default "logistic").
    ``C`` and ``S`` are accepted as aliases of ``blocks`` and ``block_size``.
    """
    merged = dict(cfg or {})
    merged.update(kwargs)
    if "C" in merged:
        merged["blocks"] = merged.pop("C")
    if "S" in merged:
        merged["block_size"] = merged.pop("S")
    out = {
        "n_in": int(merged["n_in"]),
        "n_out": int(merged["n_out"]),
        "blocks": int(merged.get("blocks", 1)),
        "block_size": int(merged.get("block_size", 1)),
        "connectivity": str(merged.get("connectivity", "F")),
        "output_gate": bool(merged.get("output_gate", True)),
        "bias": str(merged.get("bias", "none")),
        "g": str(merged.get("g", "g2")),
        "h": str(merged.get("h", "h1")),
        "lr": float(merged.get("lr", 0.1)),
        "update": str(merged.get("update", "step")),
        "epoch": int(merged.get("epoch", 1)),
        "reset": float(merged.get("reset", 0.0)),
        "error_factor": float(merged.get("error_factor", 1.0)),
        "forget_gate": bool(merged.get("forget_gate", False)),
        "peepholes": bool(merged.get("peepholes", False)),
        "output": str(merged.get("output", "logistic")),
        "outputs_see_inputs": bool(merged.get("outputs_see_inputs", False)),
        "state_decay": float(merged.get("state_decay", 1.0)),
        "state_decay_traces": bool(merged.get("state_decay_traces", True)),
        "lr_decay": float(merged.get("lr_decay", 1.0)),
        "lr_decay_every": int(merged.get("lr_decay_every", 1)),
    }
    assert out["connectivity"] in ("F", "B", "cells"), out["connectivity"]
    assert out["bias"] in _BIASED, out["bias"]
    assert out["g"] in ("g2", "g1"), out["g"]
    assert out["h"] in ("h1", "id"), out["h"]
    assert out["update"] in ("step", "sequence", "epoch"), out["update"]
    assert out["output"] in ("logistic", "linear", "softmax"), out["output"]
    assert out["epoch"] >= 1
    assert out["blocks"] >= 1 and out["block_size"] >= 1
    return out


def n_z(cfg: Mapping[str, Any]) -> int:
    """Length of the hidden source vector z(t) (inputs and, under "F", previous cell and gate outputs)."""
    C, S = cfg["blocks"], cfg["block_size"]
    if cfg["connectivity"] == "B":
        return cfg["n_in"]
    if cfg["connectivity"] == "cells":
        return cfg["n_in"] + C * S
    return cfg["n_in"] + C * S + C + (C if cfg["output_gate"] else 0)


def n_ysrc(cfg: Mapping[str, Any]) -> int:
    """Length of the output source vector ysrc(t)."""
    n_cells = cfg["blocks"] * cfg["block_size"]
    return cfg["n_in"] + n_cells if outputs_see_inputs(cfg) else n_cells


def outputs_see_inputs(cfg: Mapping[str, Any]) -> bool:
    """Whether ysrc(t) = [x(t), y_c(t)] (connectivity "B", or ``outputs_see_inputs``) rather than y_c(t)."""
    return cfg["connectivity"] == "B" or bool(cfg.get("outputs_see_inputs", False))


def cell_column(cfg: Mapping[str, Any], c: int) -> int:
    """col(c): the column of cell c's output y_c in ysrc (and so in W_k)."""
    return cfg["n_in"] + c if outputs_see_inputs(cfg) else c


def recurrent_columns(cfg: Mapping[str, Any]) -> slice:
    """The columns of W_in / W_out / W_c that carry y_c(t-1), y_in(t-1), y_out(t-1) (empty under "B")."""
    return slice(cfg["n_in"], n_z(cfg))


def param_shapes(cfg: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Shape of every named weight array (absent arrays have a zero-length dimension)."""
    C, S = cfg["blocks"], cfg["block_size"]
    biased = _BIASED[cfg["bias"]]
    og = cfg["output_gate"]
    nz = n_z(cfg)
    return {
        "W_in": (C, nz),
        "W_out": (C if og else 0, nz),
        "W_c": (C * S, nz),
        "b_in": (C if "in" in biased else 0,),
        "b_out": (C if ("out" in biased and og) else 0,),
        "b_c": (C * S if "c" in biased else 0,),
        "W_k": (cfg["n_out"], n_ysrc(cfg)),
        "b_k": (cfg["n_out"] if "k" in biased else 0,),
        "W_phi": (C if cfg["forget_gate"] else 0, nz),
        "b_phi": (C if (cfg["forget_gate"] and "in" in biased) else 0,),
        "P_in": (C * S if cfg["peepholes"] else 0,),
        "P_phi": (C * S if (cfg["peepholes"] and cfg["forget_gate"]) else 0,),
        "P_out": (C * S if (cfg["peepholes"] and og) else 0,),
    }


def n_weights(cfg: Mapping[str, Any]) -> int:
    """Total number of weights (including bias weights)."""
    return sum(int(np.prod(s)) for s in param_shapes(cfg).values())


def random_params(
    cfg: Mapping[str, Any], rng: np.random.Generator, low: float = -1.0, high: float = 1.0
) -> dict[str, np.ndarray]:
    """Every weight uniform in [low, high]."""
    return {k: rng.uniform(low, high, size=s) for k, s in param_shapes(cfg).items()}


def flatten(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """All weights in one vector, arrays in ``PARAM_NAMES`` order (row-major). Only for finite differences."""
    return np.concatenate([np.asarray(params[k], dtype=np.float64).ravel() for k in PARAM_NAMES])


def unflatten(vector: np.ndarray, cfg: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Inverse of :func:`flatten` (copies)."""
    out, pos = {}, 0
    for k in PARAM_NAMES:
        shape = param_shapes(cfg)[k]
        size = int(np.prod(shape))
        out[k] = np.array(vector[pos : pos + size], dtype=np.float64).reshape(shape)
        pos += size
    assert pos == vector.size
    return out


# --------------------------------------------------------------------------------------------------------
# Squashing functions (PAPER.md §1.2, eqs. 3-5) and their derivatives, written as functions of the net input
# --------------------------------------------------------------------------------------------------------
def f(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid in [0, 1] (gates, output units)."""
    return 1.0 / (1.0 + np.exp(-x))


def f_prime(x: np.ndarray) -> np.ndarray:
    """f'(x) = f(x) (1 - f(x))."""
    y = f(x)
    return y * (1.0 - y)


def g_fn(name: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """(g, g') for the cell-input squashing: "g2" = 4 f(x) - 2 in [-2, 2], "g1" = f(x) in [0, 1]."""
    if name == "g2":
        return (lambda x: 4.0 / (1.0 + np.exp(-x)) - 2.0), (lambda x: 4.0 * f_prime(x))
    if name == "g1":
        return f, f_prime
    raise ValueError(name)


def h_fn(name: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """(h, h') for the cell-output squashing: "h1" = 2 f(x) - 1 in [-1, 1], "id" = x."""
    if name == "h1":
        return (lambda x: 2.0 / (1.0 + np.exp(-x)) - 1.0), (lambda x: 2.0 * f_prime(x))
    if name == "id":
        return (lambda x: np.array(x, dtype=np.float64)), (lambda x: np.ones_like(x, dtype=np.float64))
    raise ValueError(name)


# --------------------------------------------------------------------------------------------------------
# Training (forward pass + truncated-gradient learning), one sequence after another
# --------------------------------------------------------------------------------------------------------
def reference_train(
    params: Mapping[str, np.ndarray],
    cfg: Mapping[str, Any],
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    lengths: np.ndarray,
    learn: bool = True,
    resets: np.ndarray | None = None,
    halt: float = 0.0,
    stops: list[int] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Run the sequences one after another (on-line), learning if ``learn``.

    Returns (new_params, outputs): copies of the weights after the last sequence, and y_k(t) of every step
    as computed in the forward pass (before that step's weight change), zeros in the padding (and after a halt).
    ``resets`` and ``halt``: see the module docstring; ``stops`` (a list) receives the steps each sequence ran.
    """
    cfg = make_config(cfg)
    shapes = param_shapes(cfg)
    p = {k: np.array(params[k], dtype=np.float64, copy=True) for k in PARAM_NAMES}
    for k in PARAM_NAMES:
        assert p[k].shape == shapes[k], (k, p[k].shape, shapes[k])

    C, S = cfg["blocks"], cfg["block_size"]
    n_cells = C * S
    n_in, n_out = cfg["n_in"], cfg["n_out"]
    has_out_gate = cfg["output_gate"]
    biased = _BIASED[cfg["bias"]]
    has_b_in = "in" in biased
    has_b_out = "out" in biased and has_out_gate
    has_b_c = "c" in biased
    has_b_k = "k" in biased
    has_fg = cfg["forget_gate"]
    has_b_phi = has_fg and has_b_in
    has_pe = cfg["peepholes"]
    linear = cfg["output"] == "linear"
    softmax = cfg["output"] == "softmax"
    decay = cfg["state_decay"]
    trace_decay = decay if cfg["state_decay_traces"] else 1.0  # the traces' factor (1: they grow as in 1997)
    lr = cfg["lr"]
    lr_seen = 0  # sequences since the last decay of lr
    g, g_prime = g_fn(cfg["g"])
    h, h_prime = h_fn(cfg["h"])
    block = np.arange(n_cells) // S  # block(c)

    inputs = np.asarray(inputs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    lengths = np.asarray(lengths)
    n, L = mask.shape
    assert inputs.shape == (n, L, n_in) and targets.shape == (n, L, n_out) and lengths.shape == (n,)
    outputs = np.zeros((n, L, n_out))

    summed = {k: np.zeros_like(p[k]) for k in PARAM_NAMES}  # for update == "sequence" or "epoch"

    def fresh() -> tuple[np.ndarray, ...]:
        # Activations, internal states and traces at sequence start (§1.3); the JKU simulator sets the
        # previous-step activations to 0.5 instead of 0 (§10.1).
        n_z_ = n_z(cfg)
        return (
            np.full(n_cells, cfg["reset"]),  # y_c_prev
            np.full(C, cfg["reset"]),  # y_in_prev
            np.full(C, cfg["reset"]),  # y_out_prev
            np.zeros(n_cells),  # s_c
            np.zeros((n_cells, n_z_)),  # ds_dw_in: d s_c / d W_in[block(c), m]   (eq. 25)
            np.zeros(n_cells),  # ds_db_in: d s_c / d b_in[block(c)]       (eq. 25, source 1)
            np.zeros((n_cells, n_z_)),  # ds_dw_c: d s_c / d W_c[c, m]            (eq. 27)
            np.zeros(n_cells),  # ds_db_c: d s_c / d b_c[c]               (eq. 27, source 1)
            np.zeros((n_cells, n_z_)),  # ds_dw_phi: d s_c / d W_phi[block(c), m]  (§11.1)
            np.zeros(n_cells),  # ds_db_phi: d s_c / d b_phi[block(c)]
            np.zeros((n_cells, S)),  # ds_dp_in: d s_c / d P_in[j S + v'] (§11.2, source s_{jS+v'}(t-1))
            np.zeros((n_cells, S)),  # ds_dp_phi: d s_c / d P_phi[j S + v']
        )

    for i in range(n):
        (y_c_prev, y_in_prev, y_out_prev, s_c, ds_dw_in, ds_db_in, ds_dw_c, ds_db_c, ds_dw_phi, ds_db_phi, ds_dp_in,
         ds_dp_phi) = fresh()  # fmt: skip
        ran = int(lengths[i])
        for t in range(int(lengths[i])):
            if resets is not None and t > 0 and resets[i, t]:  # external reset: as at a sequence start
                (y_c_prev, y_in_prev, y_out_prev, s_c, ds_dw_in, ds_db_in, ds_dw_c, ds_db_c, ds_dw_phi, ds_db_phi,
                 ds_dp_in, ds_dp_phi) = fresh()  # fmt: skip
            x = inputs[i, t]
            # Hidden source vector z(t).
            if cfg["connectivity"] == "F":
                parts = [x, y_c_prev, y_in_prev] + ([y_out_prev] if has_out_gate else [])
                z = np.concatenate(parts)
            elif cfg["connectivity"] == "cells":
                z = np.concatenate([x, y_c_prev])
            else:
                z = x.copy()

            # ---- forward pass (§1.3) ----
            net_in = p["W_in"] @ z + (p["b_in"] if has_b_in else 0.0)
            if has_pe:  # peepholes from s(t-1) (§11.2)
                net_in = net_in + np.array([p["P_in"][block == j] @ s_c[block == j] for j in range(C)])
            y_in = f(net_in)
            if has_out_gate:
                net_out = p["W_out"] @ z + (p["b_out"] if has_b_out else 0.0)
                y_out = f(net_out)
            else:
                net_out = np.zeros(C)
                y_out = np.ones(C)  # a cell without output gate: y_c = h(s_c)
            if has_fg:
                net_phi = p["W_phi"] @ z + (p["b_phi"] if has_b_phi else 0.0)
                if has_pe:
                    net_phi = net_phi + np.array([p["P_phi"][block == j] @ s_c[block == j] for j in range(C)])
                y_phi = f(net_phi)
            net_c = p["W_c"] @ z + (p["b_c"] if has_b_c else 0.0)
            s_c_new = np.empty(n_cells)
            y_c = np.empty(n_cells)
            for c in range(n_cells):
                j = block[c]
                if has_fg:
                    s_c_new[c] = y_phi[j] * s_c[c] + y_in[j] * g(net_c[c])  # §11.1
                elif decay != 1.0:
                    s_c_new[c] = decay * s_c[c] + y_in[j] * g(net_c[c])  # state decay (Gers et al. 2000)
                else:
                    s_c_new[c] = s_c[c] + y_in[j] * g(net_c[c])  # the CEC, eq. 8
                y_c[c] = y_out[j] * h(s_c_new[c])
            s_c_prev, s_c = s_c, s_c_new
            if has_out_gate and has_pe:  # the output gate's peepholes see s(t): completed after the update
                net_out = net_out + np.array([p["P_out"][block == j] @ s_c[block == j] for j in range(C)])
                y_out = f(net_out)
                y_c = np.array([y_out[block[c]] * h(s_c[c]) for c in range(n_cells)])
            ysrc = np.concatenate([x, y_c]) if outputs_see_inputs(cfg) else y_c.copy()
            net_k = p["W_k"] @ ysrc + (p["b_k"] if has_b_k else 0.0)
            if softmax:
                y_k = np.exp(net_k - net_k.max()) / np.exp(net_k - net_k.max()).sum()
            else:
                y_k = net_k if linear else f(net_k)  # linear output units: y_k = net_k
            outputs[i, t] = y_k
            off = halt > 0 and mask[i, t] and bool((np.abs(targets[i, t] - y_k) >= halt).any())

            # ---- forward derivative traces, at every step (eqs. 25, 27; with forget gates §11.1) ----
            for c in range(n_cells):
                j = block[c]
                if not has_fg and trace_decay != 1.0:  # state decay: every trace times d
                    ds_dw_in[c] *= decay
                    ds_db_in[c] *= decay
                    ds_dw_c[c] *= decay
                    ds_db_c[c] *= decay
                if has_fg:
                    ds_dw_in[c] *= y_phi[j]
                    ds_db_in[c] *= y_phi[j]
                    ds_dw_c[c] *= y_phi[j]
                    ds_db_c[c] *= y_phi[j]
                    ds_dw_phi[c] = y_phi[j] * ds_dw_phi[c] + s_c_prev[c] * f_prime(net_phi[j]) * z
                    ds_db_phi[c] = y_phi[j] * ds_db_phi[c] + s_c_prev[c] * f_prime(net_phi[j]) * 1.0
                if has_pe:
                    src = s_c_prev[block == j]  # the peephole sources of block j's input and forget gates
                    factor = y_phi[j] if has_fg else trace_decay
                    ds_dp_in[c] = factor * ds_dp_in[c] + g(net_c[c]) * f_prime(net_in[j]) * src
                    if has_fg:
                        ds_dp_phi[c] = y_phi[j] * ds_dp_phi[c] + s_c_prev[c] * f_prime(net_phi[j]) * src
                ds_dw_in[c] += g(net_c[c]) * f_prime(net_in[j]) * z
                ds_db_in[c] += g(net_c[c]) * f_prime(net_in[j]) * 1.0
                ds_dw_c[c] += g_prime(net_c[c]) * y_in[j] * z
                ds_db_c[c] += g_prime(net_c[c]) * y_in[j] * 1.0

            # ---- errors and weight changes, only where there is a target ----
            if learn and mask[i, t]:
                d = {k: np.zeros_like(p[k]) for k in PARAM_NAMES}
                fp_k = np.ones_like(net_k) if linear or softmax else f_prime(net_k)  # linear; softmax + CE: 1
                e_k = cfg["error_factor"] * fp_k * (targets[i, t] - y_k)  # eq. 19 (factor 1 there)
                # error arriving at each cell output: sum_k w_{k c} e_k
                back = np.array([np.sum(p["W_k"][:, cell_column(cfg, c)] * e_k) for c in range(n_cells)])
                e_out = np.zeros(C)
                if has_out_gate:
                    for j in range(C):
                        acc = 0.0
                        for c in range(j * S, (j + 1) * S):
                            acc += h(s_c[c]) * back[c]
                        e_out[j] = f_prime(net_out[j]) * acc  # eq. 21
                e_s = np.array([y_out[block[c]] * h_prime(s_c[c]) * back[c] for c in range(n_cells)])  # eq. 23
                d["W_k"] = lr * np.outer(e_k, ysrc)  # eq. 22, l = k
                if has_b_k:
                    d["b_k"] = lr * e_k
                if has_out_gate:
                    d["W_out"] = lr * np.outer(e_out, z)  # eq. 22, l = out_j
                    if has_b_out:
                        d["b_out"] = lr * e_out
                    if has_pe:
                        d["P_out"] = lr * e_out[block] * s_c  # eq. 22 with the source s_c(t)
                for j in range(C):
                    for c in range(j * S, (j + 1) * S):
                        d["W_in"][j] += lr * e_s[c] * ds_dw_in[c]  # eq. 26
                        if has_b_in:
                            d["b_in"][j] += lr * e_s[c] * ds_db_in[c]
                        if has_fg:
                            d["W_phi"][j] += lr * e_s[c] * ds_dw_phi[c]  # like eq. 26
                            if has_b_phi:
                                d["b_phi"][j] += lr * e_s[c] * ds_db_phi[c]
                        if has_pe:
                            d["P_in"][block == j] += lr * e_s[c] * ds_dp_in[c]
                            if has_fg:
                                d["P_phi"][block == j] += lr * e_s[c] * ds_dp_phi[c]
                for c in range(n_cells):
                    d["W_c"][c] = lr * e_s[c] * ds_dw_c[c]  # eq. 28
                    if has_b_c:
                        d["b_c"][c] = lr * e_s[c] * ds_db_c[c]
                for k in PARAM_NAMES:
                    if cfg["update"] == "step":
                        p[k] += d[k]  # the next step's forward pass uses the new weights
                    else:
                        summed[k] += d[k]

            y_c_prev, y_in_prev = y_c, y_in
            y_out_prev = y_out if has_out_gate else np.zeros(C)
            if off:  # halted: trained on this step, the rest of the sequence is not run
                ran = t + 1
                break

        if stops is not None:
            stops.append(ran)
        if cfg["update"] == "sequence" or (cfg["update"] == "epoch" and (i + 1) % cfg["epoch"] == 0):
            for k in PARAM_NAMES:
                p[k] += summed[k]
                summed[k][...] = 0.0
        if learn and cfg["lr_decay"] != 1.0:
            lr_seen += 1
            if lr_seen == cfg["lr_decay_every"]:
                lr = lr * cfg["lr_decay"]
                lr_seen = 0
    return p, outputs


def reference_predict(
    params: Mapping[str, np.ndarray],
    cfg: Mapping[str, Any],
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    lengths: np.ndarray,
) -> np.ndarray:
    """Forward pass only: y_k(t) for every step, zeros in the padding."""
    return reference_train(params, cfg, inputs, targets, mask, lengths, learn=False)[1]


def squared_error(outputs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> float:
    """E = sum over masked steps of sum_k (t_k - y_k)^2 (PAPER.md §1.5, summed over time)."""
    diff = (np.asarray(targets) - np.asarray(outputs)) * np.asarray(mask, dtype=bool)[..., None]
    return float(np.sum(diff * diff))


def reference_loss(
    params: Mapping[str, np.ndarray],
    cfg: Mapping[str, Any],
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    lengths: np.ndarray,
) -> float:
    """Total squared error of a forward pass with fixed weights (for finite differences)."""
    return squared_error(reference_predict(params, cfg, inputs, targets, mask, lengths), targets, mask)


def central_differences(loss: Callable[[np.ndarray], float], w: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dE/dw of ``loss`` at ``w`` by central differences, one weight at a time."""
    w = np.array(w, dtype=np.float64, copy=True)
    grad = np.empty_like(w)
    for idx in range(w.size):
        old = w[idx]
        w[idx] = old + eps
        up = loss(w)
        w[idx] = old - eps
        down = loss(w)
        w[idx] = old
        grad[idx] = (up - down) / (2.0 * eps)
    return grad


# --------------------------------------------------------------------------------------------------------
# Test data
# --------------------------------------------------------------------------------------------------------
def random_batch(
    rng: np.random.Generator, n: int, length: int, n_in: int, n_out: int, p_target: float = 0.5, min_length: int = 1
) -> tuple[np.ndarray, ...]:
    """Random padded sequences: (inputs, targets, mask, lengths).

    Lengths uniform in [min_length, length] (the first sequence has the full length); inputs uniform in
    [-1, 1]; targets uniform in [0, 1] at every step inside a sequence, also where there is no target
    (a learner must ignore them); each step has a target with probability ``p_target``. Padding is zero.
    """
    lengths = rng.integers(min_length, length + 1, size=n).astype(np.int64)
    lengths[0] = length
    inside = np.arange(length)[None, :] < lengths[:, None]
    inputs = rng.uniform(-1.0, 1.0, size=(n, length, n_in)) * inside[..., None]
    targets = rng.uniform(0.0, 1.0, size=(n, length, n_out)) * inside[..., None]
    mask = (rng.random((n, length)) < p_target) & inside
    return inputs, targets, mask, lengths

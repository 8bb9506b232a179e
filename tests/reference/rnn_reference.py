"""Plain-numpy reference of the conventional recurrent nets and their BPTT learning rules (the test oracle).

Implements, one time step at a time, with dense weight matrices whose absent entries are 0 (PAPER.md §2,
§3.2, and the architectures described in ``lstm97.models.rnn``):

* the nets: non-input units u = 0..U-1 (``hidden`` hidden units, then the ``n_out`` output units), each
  y_u(t) = f(net_u(t)) with net_u(t) = b_u + sum_i B[u, i] x_i(t) + sum_{v<u} A[u, v] y_v(t)
  + sum_v R[u, v] y_v(t-1), f logistic or tanh; all activations 0 before the first step. Connectivity
  (``arch``): ``layered`` (hidden units see the inputs and, by ``recurrence`` full/self/none, the hidden
  units of the previous step; outputs see the hidden units of the same step and, with ``skip``, the inputs),
  ``wz`` (every unit sees the inputs and every unit of the previous step), ``a2`` (hidden unit sees the
  input, itself and the output unit of the previous step; the output unit sees the inputs and every unit of
  the previous step). ``bias``: every unit has a bias weight;
* the error E = sum over steps with a target of sum_k (t_k - y_k)^2 (§1.5) and the weight change per unit
  learning rate, -1/2 dE/dw (the factor 2 of the square sits inside the learning rate, as in eq. 19);
* full BPTT: the exact gradient of a sequence's error, backpropagated through every step;
* truncated BPTT of depth k: E(t) of one target step backpropagated through steps t-k+1..t, earlier
  activations held constant;
* Elman's one-step rule written separately, as ordinary backprop in the feedforward net of one step whose
  extra inputs (the context units) are the previous step's activations;
* on-line training: full BPTT updates once per sequence; truncated BPTT after every step with a target.

Deliberately slow and obvious; no numba. ``lstm97.models.rnn_bptt`` is tested against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .lstm_reference import central_differences, random_batch, squared_error

#: Names of the weight arrays, in a fixed order (used for flattening).
PARAM_NAMES = ("B", "A", "R", "b")

__all__ = [
    "PARAM_NAMES",
    "central_differences",
    "delta_full",
    "delta_one_step",
    "delta_truncated",
    "delta_truncated_sum",
    "elman_train",
    "flatten",
    "forward",
    "make_config",
    "masks",
    "n_weights",
    "random_batch",
    "random_params",
    "reference_loss",
    "reference_train",
    "squared_error",
    "unflatten",
]


# --------------------------------------------------------------------------------------------------------
# Configuration, connectivity and weights
# --------------------------------------------------------------------------------------------------------
def make_config(cfg: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """A complete, checked configuration dict.

    Keys: n_in, n_out, arch ("layered"/"wz"/"a2"), hidden, recurrence ("full"/"self"/"none"), skip, bias,
    act ("logistic"/"tanh"), lr, truncate (0 = full BPTT).
    """
    merged = dict(cfg or {})
    merged.update(kwargs)
    out = {
        "n_in": int(merged["n_in"]),
        "n_out": int(merged["n_out"]),
        "arch": str(merged.get("arch", "layered")),
        "hidden": int(merged.get("hidden", 3)),
        "recurrence": str(merged.get("recurrence", "full")),
        "skip": bool(merged.get("skip", False)),
        "order": str(merged.get("order", "sync")),
        "outputs_see": str(merged.get("outputs_see", "current")),
        "bias": bool(merged.get("bias", True)),
        "act": str(merged.get("act", "logistic")),
        "lr": float(merged.get("lr", 0.5)),
        "truncate": int(merged.get("truncate", 0)),
    }
    assert out["arch"] in ("layered", "wz", "a2"), out["arch"]
    assert out["recurrence"] in ("full", "self", "none"), out["recurrence"]
    assert out["act"] in ("logistic", "tanh"), out["act"]
    assert out["arch"] != "a2" or out["n_out"] == 1
    assert out["truncate"] >= 0
    return out


def masks(cfg: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Which entries of B [U, n_in], A [U, U], R [U, U], b [U] are connections (bool arrays)."""
    H, K, n_in = cfg["hidden"], cfg["n_out"], cfg["n_in"]
    U = H + K
    hidden = np.arange(U) < H
    B = np.zeros((U, n_in), dtype=bool)
    A = np.zeros((U, U), dtype=bool)
    R = np.zeros((U, U), dtype=bool)
    for u in range(U):
        if cfg["arch"] == "layered":
            if hidden[u]:
                B[u, :] = True  # hidden <- inputs
                if cfg["recurrence"] == "full":
                    R[u, :] = hidden  # hidden <- all hidden (t-1): context units
                elif cfg["recurrence"] == "self":
                    R[u, u] = True  # hidden <- itself (t-1)
            elif cfg["outputs_see"] == "previous":
                R[u, :] = hidden  # output <- hidden (t-1)
                B[u, :] = cfg["skip"]
            else:
                A[u, :] = hidden  # output <- hidden (same step)
                B[u, :] = cfg["skip"]  # output <- inputs ("all layers below")
        elif cfg["arch"] == "wz":
            B[u, :] = True  # every unit <- inputs
            R[u, :] = True  # every unit <- every unit (t-1)
        else:  # a2
            B[u, :] = True
            if hidden[u]:
                R[u, u] = True  # itself
                R[u, U - 1] = True  # the output unit
            else:
                R[u, :] = True  # the output unit sees all other units
                R[u, u] = False
    if cfg["arch"] != "layered" and cfg.get("order", "sync") == "seq":
        for u in range(U):  # units in turn: the ones before u are already updated at step t
            for v in range(u):
                A[u, v], R[u, v] = R[u, v], False
    b = np.full(U, cfg["bias"])
    assert not np.any(np.triu(A)), "same-step connections must come from lower units"
    return {"B": B, "A": A, "R": R, "b": b}


def n_weights(cfg: Mapping[str, Any]) -> int:
    """The number of connections (present weights, biases included)."""
    return int(sum(m.sum() for m in masks(cfg).values()))


def random_params(
    cfg: Mapping[str, Any], rng: np.random.Generator, low: float = -1.0, high: float = 1.0
) -> dict[str, np.ndarray]:
    """Every present weight uniform in [low, high]; absent ones 0."""
    return {k: rng.uniform(low, high, size=m.shape) * m for k, m in masks(cfg).items()}


def flatten(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """All weights (absent ones included) in one vector, arrays in ``PARAM_NAMES`` order."""
    return np.concatenate([np.asarray(params[k], dtype=np.float64).ravel() for k in PARAM_NAMES])


def unflatten(vector: np.ndarray, cfg: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Inverse of :func:`flatten` (copies)."""
    out, pos = {}, 0
    for k, m in masks(cfg).items():
        out[k] = np.array(vector[pos : pos + m.size], dtype=np.float64).reshape(m.shape)
        pos += m.size
    assert pos == vector.size
    return out


# --------------------------------------------------------------------------------------------------------
# Forward pass
# --------------------------------------------------------------------------------------------------------
def squash(a: float, act: str) -> float:
    """f(net): logistic in [0, 1] or tanh."""
    return 1.0 / (1.0 + np.exp(-a)) if act == "logistic" else np.tanh(a)


def dsquash(y: np.ndarray, act: str) -> np.ndarray:
    """f'(net) written with the output y = f(net): y (1 - y) or 1 - y^2."""
    return y * (1.0 - y) if act == "logistic" else 1.0 - y * y


def step(p: Mapping[str, np.ndarray], cfg: Mapping[str, Any], x: np.ndarray, y_prev: np.ndarray) -> np.ndarray:
    """y(t) from x(t) and y(t-1), unit by unit in index order (same-step sources are lower units)."""
    U = cfg["hidden"] + cfg["n_out"]
    y = np.zeros(U)
    for u in range(U):
        net = p["b"][u] + p["B"][u] @ x + p["A"][u, :u] @ y[:u] + p["R"][u] @ y_prev
        y[u] = squash(net, cfg["act"])
    return y


def forward(p: Mapping[str, np.ndarray], cfg: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    """ys [T+1, U]: ys[0] = y(-1) = 0, ys[t+1] = y(t), for the inputs x [T, n_in] of one sequence."""
    T = x.shape[0]
    ys = np.zeros((T + 1, cfg["hidden"] + cfg["n_out"]))
    for t in range(T):
        ys[t + 1] = step(p, cfg, x[t], ys[t])
    return ys


# --------------------------------------------------------------------------------------------------------
# Backward pass: weight changes per unit learning rate, -1/2 dE/dw
# --------------------------------------------------------------------------------------------------------
def _backprop(p, cfg, ys, x, targets, inject, t0, t1):
    """-1/2 d/dw of sum_{s in inject} E(s), backpropagated through steps t1, t1-1, ..., t0 (the
    activations y(t0-1) are constants). ``ys`` are the stored activations, ``p`` the weights used."""
    K = cfg["n_out"]
    U = cfg["hidden"] + K
    grad = {k: np.zeros_like(p[k]) for k in PARAM_NAMES}
    delta_next = np.zeros(U)  # e_u(s+1) = -1/2 dE/dnet_u(s+1)
    for s in range(t1, t0 - 1, -1):
        e_y = np.zeros(U)  # -1/2 dE/dy_u(s)
        if s in inject:
            e_y[U - K :] += targets[s] - ys[s + 1, U - K :]
        if s < t1:
            e_y += p["R"].T @ delta_next  # through y(s) -> net(s+1)
        delta = np.zeros(U)
        for u in range(U - 1, -1, -1):  # through y_u(s) -> net_w(s) of the higher units w
            delta[u] = dsquash(ys[s + 1, u], cfg["act"]) * (e_y[u] + p["A"][u + 1 :, u] @ delta[u + 1 :])
        grad["B"] += np.outer(delta, x[s])
        grad["A"] += np.outer(delta, ys[s + 1])
        grad["R"] += np.outer(delta, ys[s])
        grad["b"] += delta
        delta_next = delta
    m = masks(cfg)
    return {k: grad[k] * m[k] for k in PARAM_NAMES}


def delta_full(p, cfg, x, targets, mask) -> dict[str, np.ndarray]:
    """Full BPTT over one sequence (x [T, n_in], targets [T, K], mask [T]): -1/2 dE/dw, E summed over the
    target steps, with the activations of a forward pass with the fixed weights ``p``."""
    ys = forward(p, cfg, x)
    steps = {int(s) for s in np.nonzero(mask)[0]}
    return _backprop(p, cfg, ys, x, targets, steps, 0, x.shape[0] - 1)


def delta_truncated(p, cfg, ys, x, targets, t, k) -> dict[str, np.ndarray]:
    """Truncated BPTT of depth k for the error E(t) of step t: -1/2 dE(t)/dw through steps t-k+1..t,
    with the stored activations ``ys`` (as from :func:`forward`)."""
    return _backprop(p, cfg, ys, x, targets, {t}, max(0, t - k + 1), t)


def delta_truncated_sum(p, cfg, x, targets, mask, k) -> dict[str, np.ndarray]:
    """The sum over a sequence's target steps of :func:`delta_truncated`, all with the fixed weights ``p``."""
    ys = forward(p, cfg, x)
    total = {name: np.zeros_like(p[name]) for name in PARAM_NAMES}
    for t in np.nonzero(mask)[0]:
        d = delta_truncated(p, cfg, ys, x, targets, int(t), k)
        for name in PARAM_NAMES:
            total[name] += d[name]
    return total


def delta_one_step(p, cfg, x_t, y_prev, target_t) -> dict[str, np.ndarray]:
    """Elman's rule: -1/2 dE(t)/dw in the feedforward net of one step whose inputs are x(t) and the context
    y(t-1) (a constant), by ordinary backprop from the output layer down."""
    K = cfg["n_out"]
    U = cfg["hidden"] + K
    y = step(p, cfg, x_t, y_prev)
    err = np.zeros(U)
    err[U - K :] = target_t - y[U - K :]
    e = np.zeros(U)
    for u in range(U - 1, -1, -1):  # eq. 19 for the output units, eq. 20 for the units feeding them
        e[u] = dsquash(y[u], cfg["act"]) * (err[u] + p["A"][:, u] @ e)
    m = masks(cfg)
    return {
        "B": np.outer(e, x_t) * m["B"],
        "A": np.outer(e, y) * m["A"],
        "R": np.outer(e, y_prev) * m["R"],
        "b": e * m["b"],
    }


# --------------------------------------------------------------------------------------------------------
# On-line training, one sequence after another
# --------------------------------------------------------------------------------------------------------
def reference_train(params, cfg, inputs, targets, mask, lengths, one_step=None):
    """Train on the sequences one after another. Returns (new_params, outputs): the weights after the last
    sequence, and y_k(t) of every step from the forward pass with the weights in use at that step (zeros
    in the padding).

    ``truncate == 0``: full BPTT, one update at each sequence end. ``truncate == k``: after each step t with
    a target, w += lr * :func:`delta_truncated` (depth k) with the activations stored so far. ``one_step``
    replaces the depth-1 rule by another function of (p, cfg, x_t, y_prev, target_t) (see
    :func:`elman_train`).
    """
    cfg = make_config(cfg)
    p = {k: np.array(params[k], dtype=np.float64, copy=True) for k in PARAM_NAMES}
    lr, k = cfg["lr"], cfg["truncate"]
    K = cfg["n_out"]
    n, L = np.asarray(mask).shape
    outputs = np.zeros((n, L, K))
    for i in range(n):
        T = int(lengths[i])
        x, tg, mk = inputs[i, :T], targets[i, :T], np.asarray(mask[i, :T], dtype=bool)
        if k == 0:
            ys = forward(p, cfg, x)
            outputs[i, :T] = ys[1:, -K:]
            if mk.any():
                d = delta_full(p, cfg, x, tg, mk)
                for name in PARAM_NAMES:
                    p[name] += lr * d[name]
            continue
        ys = np.zeros((T + 1, cfg["hidden"] + K))
        for t in range(T):
            ys[t + 1] = step(p, cfg, x[t], ys[t])  # with the weights changed at earlier steps
            outputs[i, t] = ys[t + 1, -K:]
            if mk[t]:
                if one_step is None:
                    d = delta_truncated(p, cfg, ys, x, tg, t, k)
                else:
                    d = one_step(p, cfg, x[t], ys[t], tg[t])
                for name in PARAM_NAMES:
                    p[name] += lr * d[name]
    return p, outputs


def elman_train(params, cfg, inputs, targets, mask, lengths):
    """On-line training with Elman's one-step rule (:func:`delta_one_step`) after every target step."""
    return reference_train(
        params, make_config(cfg, truncate=1), inputs, targets, mask, lengths, one_step=delta_one_step
    )


def reference_loss(p, cfg, inputs, targets, mask, lengths) -> float:
    """Total squared error of forward passes with the fixed weights ``p`` (for finite differences)."""
    total = 0.0
    for i in range(len(lengths)):
        T = int(lengths[i])
        ys = forward(p, cfg, inputs[i, :T])
        total += squared_error(ys[1:, -cfg["n_out"] :], targets[i, :T], mask[i, :T])
    return total


def state_of(model, params: Mapping[str, np.ndarray]):
    """A TrainState of the lstm97 ``model`` whose weights are the reference's ``params`` (B, A, R, b)."""
    state = model.init_state(np.random.default_rng(0))
    views = model.views(state.w)
    for name in PARAM_NAMES:
        views[name][...] = params[name]
    return state

"""Plain-numpy reference of the GRU model (``lstm97.models.gru``), written straight from the equations.

Per step, with h_p = h(t-1) (0 at a sequence start) and the gate blocks of PyTorch's stacked matrices:

    r = σ(W_ir x + b_ir + W_hr h_p + b_hr)
    z = σ(W_iz x + b_iz + W_hz h_p + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h_p + b_hn))      reset_after
    n = tanh(W_in x + b_in + W_hn (r * h_p) + b_hn)      not reset_after (Cho et al.'s original)
    h = (1 - z) * n + z * h_p
    y = σ(W_o h + b_o)  or  W_o h + b_o                  output logistic | linear

E = sum over the target steps of sum_k (t_k - y_k)^2. :func:`gradient` is -1/2 dE/dw by back-propagation
through time, written with whole vectors per step (the kernel loops over units); the tests also check it
against central differences of :func:`loss`. The optimisers take g = -1/2 dE/dw once per sequence with a
target:

    sgd:      w += lr g
    adam:     t += 1; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w += lr m_hat / (sqrt(v_hat) + eps),
              m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)          (Kingma & Ba 2015, Algorithm 1)
    rmsprop:  v = rho v + (1 - rho) g^2; w += lr g / (sqrt(v) + eps)

Deliberately slow and obvious; no numba.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .lstm_reference import central_differences, random_batch, squared_error

#: The weight arrays in the flat vector's order (PyTorch's names; W_o, b_o: the output layer).
PARAM_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh", "W_o", "b_o")

__all__ = [
    "PARAM_NAMES",
    "central_differences",
    "flatten",
    "forward",
    "gradient",
    "loss",
    "make_config",
    "n_weights",
    "optimizer_state",
    "random_batch",
    "random_params",
    "reference_train",
    "squared_error",
    "unflatten",
]


def make_config(cfg: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """A complete configuration: n_in, n_out, hidden, reset_after, output, optimizer, lr, beta1, beta2, rho,
    eps (the model's defaults where not given)."""
    merged = dict(cfg or {})
    merged.update(kwargs)
    out = {
        "n_in": int(merged["n_in"]),
        "n_out": int(merged["n_out"]),
        "hidden": int(merged.get("hidden", 3)),
        "reset_after": bool(merged.get("reset_after", True)),
        "output": str(merged.get("output", "logistic")),
        "optimizer": str(merged.get("optimizer", "sgd")),
        "lr": float(merged.get("lr", 0.1)),
        "beta1": float(merged.get("beta1", 0.9)),
        "beta2": float(merged.get("beta2", 0.999)),
        "rho": float(merged.get("rho", 0.9)),
        "eps": float(merged.get("eps", 1e-8)),
    }
    assert out["output"] in ("logistic", "linear", "softmax") and out["optimizer"] in ("sgd", "adam", "rmsprop")
    return out


def shapes(cfg: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    H, n_in, K = cfg["hidden"], cfg["n_in"], cfg["n_out"]
    return {"W_ih": (3 * H, n_in), "W_hh": (3 * H, H), "b_ih": (3 * H,), "b_hh": (3 * H,), "W_o": (K, H), "b_o": (K,)}


def n_weights(cfg: Mapping[str, Any]) -> int:
    """3H (n_in + H + 2) + K (H + 1): PyTorch's nn.GRU (two bias vectors) plus the output layer."""
    return int(sum(np.prod(s) for s in shapes(cfg).values()))


def random_params(cfg: Mapping[str, Any], rng: np.random.Generator, scale: float = 1.0) -> dict[str, np.ndarray]:
    return {k: rng.uniform(-scale, scale, size=s) for k, s in shapes(cfg).items()}


def flatten(p: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(p[k], dtype=np.float64).ravel() for k in PARAM_NAMES])


def unflatten(vector: np.ndarray, cfg: Mapping[str, Any]) -> dict[str, np.ndarray]:
    out, pos = {}, 0
    for k, s in shapes(cfg).items():
        size = int(np.prod(s))
        out[k] = np.array(vector[pos : pos + size], dtype=np.float64).reshape(s)
        pos += size
    assert pos == vector.size
    return out


def _gates(p: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The per-gate blocks of the stacked matrices: W_ir, W_iz, W_in, W_hr, ..., b_hn."""
    out = {}
    for name, stacked in (("W_i", p["W_ih"]), ("W_h", p["W_hh"]), ("b_i", p["b_ih"]), ("b_h", p["b_hh"])):
        for gate, block in zip("rzn", np.split(stacked, 3), strict=True):
            out[name + gate] = block
    return out


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def forward(p: Mapping[str, np.ndarray], cfg: Mapping[str, Any], x: np.ndarray) -> dict[str, np.ndarray]:
    """Activations of one sequence x [T, n_in]: h [T+1, H] (h[0] = 0), r, z, n [T, H], y [T, K]."""
    g = _gates(p)
    T, H = x.shape[0], cfg["hidden"]
    act = {k: np.zeros((T, H)) for k in "rzn"}
    h = np.zeros((T + 1, H))
    y = np.zeros((T, cfg["n_out"]))
    for t in range(T):
        h_p = h[t]
        r = sigmoid(g["W_ir"] @ x[t] + g["b_ir"] + g["W_hr"] @ h_p + g["b_hr"])
        z = sigmoid(g["W_iz"] @ x[t] + g["b_iz"] + g["W_hz"] @ h_p + g["b_hz"])
        if cfg["reset_after"]:
            n = np.tanh(g["W_in"] @ x[t] + g["b_in"] + r * (g["W_hn"] @ h_p + g["b_hn"]))
        else:
            n = np.tanh(g["W_in"] @ x[t] + g["b_in"] + g["W_hn"] @ (r * h_p) + g["b_hn"])
        h[t + 1] = (1.0 - z) * n + z * h_p
        a = p["W_o"] @ h[t + 1] + p["b_o"]
        if cfg["output"] == "softmax":  # a distribution, trained on the cross-entropy
            y[t] = np.exp(a - a.max()) / np.exp(a - a.max()).sum()
        else:
            y[t] = a if cfg["output"] == "linear" else sigmoid(a)
        act["r"][t], act["z"][t], act["n"][t] = r, z, n
    return {"h": h, "y": y, **act}


def loss(p, cfg, inputs, targets, mask, lengths) -> float:
    """E summed over the target steps of every sequence, with fixed weights ``p``."""
    total = 0.0
    for i in range(len(lengths)):
        T = int(lengths[i])
        total += squared_error(forward(p, cfg, inputs[i, :T])["y"], targets[i, :T], mask[i, :T])
    return total


def gradient(p, cfg, x, targets, mask) -> dict[str, np.ndarray]:
    """-1/2 dE/dw of one sequence (x [T, n_in], targets [T, K], mask [T]) by BPTT over every step."""
    g = _gates(p)
    f = forward(p, cfg, x)
    T = x.shape[0]
    grad = {k: np.zeros_like(v) for k, v in g.items()}
    gW_o, gb_o = np.zeros_like(p["W_o"]), np.zeros_like(p["b_o"])
    dh_next = np.zeros(cfg["hidden"])  # -1/2 dE/dh(t) arriving from step t + 1
    for t in range(T - 1, -1, -1):
        h, h_p, r, z, n = f["h"][t + 1], f["h"][t], f["r"][t], f["z"][t], f["n"][t]
        dh = dh_next.copy()
        if mask[t]:
            y = f["y"][t]
            d_o = (targets[t] - y) * (1.0 if cfg["output"] != "logistic" else y * (1.0 - y))  # softmax: -dCE/da
            gW_o += np.outer(d_o, h)
            gb_o += d_o
            dh += p["W_o"].T @ d_o
        # h = (1 - z) n + z h_p
        dn, dz, dh_p = dh * (1.0 - z), dh * (h_p - n), dh * z
        da_n = dn * (1.0 - n * n)
        da_z = dz * z * (1.0 - z)
        grad["W_in"] += np.outer(da_n, x[t])
        grad["b_in"] += da_n
        if cfg["reset_after"]:  # a_n = ... + r * c, c = W_hn h_p + b_hn
            c = g["W_hn"] @ h_p + g["b_hn"]
            dr = da_n * c
            dc = da_n * r
            grad["W_hn"] += np.outer(dc, h_p)
            grad["b_hn"] += dc
            dh_p += g["W_hn"].T @ dc
        else:  # a_n = ... + W_hn q + b_hn, q = r * h_p
            dq = g["W_hn"].T @ da_n
            dr = dq * h_p
            grad["W_hn"] += np.outer(da_n, r * h_p)
            grad["b_hn"] += da_n
            dh_p += dq * r
        da_r = dr * r * (1.0 - r)
        for gate, da in (("r", da_r), ("z", da_z)):
            grad["W_i" + gate] += np.outer(da, x[t])
            grad["b_i" + gate] += da
            grad["W_h" + gate] += np.outer(da, h_p)
            grad["b_h" + gate] += da
            dh_p += g["W_h" + gate].T @ da
        dh_next = dh_p
    stack = {
        name: np.concatenate([grad[name[:3] + gate] for gate in "rzn"]) for name in ("W_ih", "W_hh", "b_ih", "b_hh")
    }
    return {**stack, "W_o": gW_o, "b_o": gb_o}


def optimizer_state(cfg: Mapping[str, Any]) -> dict[str, Any]:
    size = n_weights(cfg)
    if cfg["optimizer"] == "adam":
        return {"m": np.zeros(size), "v": np.zeros(size), "t": 0}
    if cfg["optimizer"] == "rmsprop":
        return {"v": np.zeros(size)}
    return {}


def _step(w: np.ndarray, g: np.ndarray, cfg: Mapping[str, Any], st: dict[str, Any]) -> np.ndarray:
    """The new flat weights after one optimiser step with g = -1/2 dE/dw (``st`` changes in place)."""
    lr, eps = cfg["lr"], cfg["eps"]
    if cfg["optimizer"] == "sgd":
        return w + lr * g
    if cfg["optimizer"] == "adam":
        b1, b2 = cfg["beta1"], cfg["beta2"]
        st["t"] += 1
        st["m"] = b1 * st["m"] + (1.0 - b1) * g
        st["v"] = b2 * st["v"] + (1.0 - b2) * g**2
        m_hat = st["m"] / (1.0 - b1 ** st["t"])
        v_hat = st["v"] / (1.0 - b2 ** st["t"])
        return w + lr * m_hat / (np.sqrt(v_hat) + eps)
    rho = cfg["rho"]
    st["v"] = rho * st["v"] + (1.0 - rho) * g**2
    return w + lr * g / (np.sqrt(st["v"]) + eps)


def reference_train(params, cfg, inputs, targets, mask, lengths, st=None):
    """Train on the sequences one after another (one step per sequence with a target). Returns (params,
    outputs, optimizer state): outputs [n, L, K] from the forward pass with each sequence's weights."""
    cfg = make_config(cfg)
    st = optimizer_state(cfg) if st is None else {k: np.array(v) if k != "t" else v for k, v in st.items()}
    w = flatten(params)
    n, L = np.asarray(mask).shape
    outputs = np.zeros((n, L, cfg["n_out"]))
    for i in range(n):
        T = int(lengths[i])
        p = unflatten(w, cfg)
        outputs[i, :T] = forward(p, cfg, inputs[i, :T])["y"]
        mk = np.asarray(mask[i, :T], dtype=bool)
        if mk.any():
            w = _step(w, flatten(gradient(p, cfg, inputs[i, :T], targets[i, :T], mk)), cfg, st)
    return unflatten(w, cfg), outputs, st

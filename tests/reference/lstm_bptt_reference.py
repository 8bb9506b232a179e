"""Plain-numpy reference of the LSTM's full gradient (Graves & Schmidhuber 2005, PAPER.md §11.3): exact
back-propagation through time of E = sum over target steps of sum_k (t_k - y_k)^2, the test oracle of
``lstm97.models._lstm_bptt_kernels``.

Written from the equations, independently of the kernel, one time step at a time with whole vectors per step:

* forward (PAPER.md §1.3, §11.1, §11.2): z(t) = [x(t), y_c(t-1), y_in(t-1), y_out(t-1)] (F), [x(t), y_c(t-1)]
  ("cells") or x(t) (B); net_in = W_in z + b_in + sum_v P_in s(t-1); net_phi likewise with W_phi, b_phi, P_phi;
  net_out = W_out z + b_out + sum_v P_out s(t); s(t) = y_phi s(t-1) + y_in g(net_c) (y_phi = 1 without forget gates);
  y_c = y_out h(s) (y_out = 1 without output gates); y_k = f(W_k ysrc + b_k), ysrc = y_c (F, cells) or [x, y_c] (B);
  with ``output="linear"`` (not in the paper) y_k = W_k ysrc + b_k. The previous-step activations at t = 0 are
  ``reset`` for the active blocks, 0 for the others; only the first ``n_act`` blocks act (the others are constants:
  y_in = y_out = y_c = s = 0, y_out = 1 without output gates), as in sequential construction;
* backward, with every quantity an error -1/2 dE/d(.) times ``error_factor`` (the factor 2 of dE/dy is inside lr,
  PAPER.md §1.5): e_k = error_factor f'(net_k)(t_k - y_k) at a target (f' = 1 for linear outputs); dE/dysrc = W_k^T
  e_k; the error at y_c(t) adds the error reaching z(t+1)'s y_c columns; at y_out(t): sum_v h(s) dy_c plus z(t+1)'s
  y_out columns; at s(t): y_out h'(s) dy_c + P_out delta_out + [y_phi(t+1) ds(t+1) + P_in delta_in(t+1) + P_phi
  delta_phi(t+1)]; delta_c = y_in g'(net_c) ds; at y_in(t): sum_v g(net_c) ds plus z(t+1)'s y_in columns; at y_phi(t):
  sum_v s(t-1) ds; delta_u = f'(net_u) (error at y_u) for the gates; the error at z(t) is sum_u W_u^T delta_u;
* the change of every weight is lr times the sum over steps of delta_u(t) times its source (z, 1, s(t-1) for
  the input and forget gates' peepholes, s(t) for the output gate's, ysrc for the output units);
* ``update="sequence"`` applies each sequence's change at its end; ``update="epoch"`` sums ``epoch``
  sequences' changes (counted from the first sequence given) and applies them at the end of each epoch.

:func:`batched_loss` is the same forward pass for many weight vectors at once (a leading axis), for central
finite differences of all weights in one pass (:func:`central_differences`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .lstm_reference import _BIASED, PARAM_NAMES, f, g_fn, h_fn, make_config, n_weights, param_shapes


def _mv(W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """W v over the last axes, with any leading (batch) axes: [..., r, m] x [..., m] -> [..., r]."""
    return np.einsum("...rm,...m->...r", W, v)


def forward(
    params: Mapping[str, np.ndarray], cfg: Mapping[str, Any], x: np.ndarray, n_act: int | None = None
) -> list[dict[str, np.ndarray]]:
    """The forward pass over one sequence ``x`` [L, n_in]; one dict of activations per step. ``params`` may carry
    a leading batch axis (every array), then every activation has it too."""
    cfg = make_config(cfg)
    C, S = cfg["blocks"], cfg["block_size"]
    CS = C * S
    n_act = C if n_act is None else int(n_act)
    og, fg, pe, conn = cfg["output_gate"], cfg["forget_gate"], cfg["peepholes"], cfg["connectivity"]
    biased = _BIASED[cfg["bias"]]
    g, _ = g_fn(cfg["g"])
    h, _ = h_fn(cfg["h"])
    batch = params["W_in"].shape[:-2]
    block = np.arange(CS) // S
    act = np.arange(C) < n_act  # the blocks that act
    act_c = act[block]

    def bias(name: str, used: bool, n: int) -> np.ndarray:
        return params[name] if used else np.zeros(batch + (n,))

    def peep(name: str, s: np.ndarray) -> np.ndarray:  # sum over block j's cells of P[c] s[c]
        if not pe:
            return np.zeros(batch + (C,))
        return (params[name] * s).reshape(batch + (C, S)).sum(axis=-1)

    b_in, b_c = bias("b_in", "in" in biased, C), bias("b_c", "c" in biased, CS)
    b_k = bias("b_k", "k" in biased, cfg["n_out"])
    b_out = bias("b_out", og and "out" in biased, C)
    b_phi = bias("b_phi", fg and "in" in biased, C)
    y0 = cfg["reset"]
    y_c = np.broadcast_to(np.where(act_c, y0, 0.0), batch + (CS,))
    y_in = np.broadcast_to(np.where(act, y0, 0.0), batch + (C,))
    y_out = np.broadcast_to(np.where(act, y0, 0.0) if og else np.ones(C), batch + (C,))
    s = np.zeros(batch + (CS,))
    steps = []
    for t in range(x.shape[0]):
        xt = np.broadcast_to(x[t], batch + x[t].shape)
        if conn == "F":
            z = np.concatenate([xt, y_c, y_in] + ([y_out] if og else []), axis=-1)
        elif conn == "cells":
            z = np.concatenate([xt, y_c], axis=-1)
        else:
            z = xt
        s_prev = s
        net_in = _mv(params["W_in"], z) + b_in + peep("P_in", s_prev)
        y_in = np.where(act, f(net_in), 0.0)
        if fg:
            net_phi = _mv(params["W_phi"], z) + b_phi + peep("P_phi", s_prev)
            y_phi = np.where(act, f(net_phi), 1.0)
        else:
            net_phi, y_phi = np.zeros(batch + (C,)), np.ones(batch + (C,))
        net_c = _mv(params["W_c"], z) + b_c
        s = np.where(act_c, y_phi[..., block] * s_prev + y_in[..., block] * g(net_c), 0.0)
        if og:
            net_out = _mv(params["W_out"], z) + b_out + peep("P_out", s)
            y_out = np.where(act, f(net_out), 0.0)
        else:
            net_out, y_out = np.zeros(batch + (C,)), np.ones(batch + (C,))
        y_c = np.where(act_c, y_out[..., block] * h(s), 0.0)
        ysrc = np.concatenate([xt, y_c], axis=-1) if conn == "B" else y_c
        net_k = _mv(params["W_k"], ysrc) + b_k
        steps.append(
            dict(
                z=z,
                net_in=net_in,
                y_in=y_in,
                net_out=net_out,
                y_out=y_out,
                net_phi=net_phi,
                y_phi=y_phi,
                net_c=net_c,
                s_prev=s_prev,
                s=s,
                y_c=y_c,
                ysrc=ysrc,
                net_k=net_k,
                y_k=_out(cfg, net_k),
            )
        )
    return steps


def _out(cfg: Mapping[str, Any], net_k: np.ndarray) -> np.ndarray:
    """The output units: logistic, linear, or softmax over the last axis."""
    if cfg["output"] == "softmax":
        e = np.exp(net_k - net_k.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return net_k if cfg["output"] == "linear" else f(net_k)


def gradient(
    params: Mapping[str, np.ndarray],
    cfg: Mapping[str, Any],
    x: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    n_act: int | None = None,
) -> dict[str, np.ndarray]:
    """-1/2 dE/dw times error_factor for every weight array, E = sum_t mask(t) sum_k (t_k - y_k(t))^2 over the
    one sequence ``x`` [L, n_in] (targets [L, n_out], mask [L]): the change of one sequence divided by lr."""
    cfg = make_config(cfg)
    C, S = cfg["blocks"], cfg["block_size"]
    CS = C * S
    n_act = C if n_act is None else int(n_act)
    n_in = cfg["n_in"]
    og, fg, pe, conn = cfg["output_gate"], cfg["forget_gate"], cfg["peepholes"], cfg["connectivity"]
    biased = _BIASED[cfg["bias"]]
    g, g_prime = g_fn(cfg["g"])
    h, h_prime = h_fn(cfg["h"])
    block = np.arange(CS) // S
    act = (np.arange(C) < n_act).astype(float)
    act_c = act[block]
    shapes = param_shapes(cfg)
    steps = forward(params, cfg, x, n_act)
    grad = {k: np.zeros(shapes[k]) for k in PARAM_NAMES}
    col = slice(n_in, n_in + CS) if conn == "B" else slice(0, CS)  # the cells' columns of W_k

    def fp(net: np.ndarray) -> np.ndarray:
        return f(net) * (1.0 - f(net))

    dz_next = np.zeros(shapes["W_c"][1])  # error at z(t+1)
    ds_next = np.zeros(CS)  # error at s(t) carried from step t+1 (CEC and the input/forget peepholes)
    for t in range(len(steps) - 1, -1, -1):
        a = steps[t]
        fp_k = np.ones_like(a["net_k"]) if cfg["output"] != "logistic" else fp(a["net_k"])  # linear, softmax: 1
        e_k = cfg["error_factor"] * fp_k * (targets[t] - a["y_k"]) if mask[t] else np.zeros(cfg["n_out"])
        grad["W_k"] += np.outer(e_k, a["ysrc"])
        if "k" in biased:
            grad["b_k"] += e_k
        dy_c = params["W_k"][:, col].T @ e_k
        dy_in = np.zeros(C)
        dy_out = np.zeros(C)
        if conn != "B":
            dy_c = dy_c + dz_next[n_in : n_in + CS]
        if conn == "F":
            dy_in = dy_in + dz_next[n_in + CS : n_in + CS + C]
            if og:
                dy_out = dy_out + dz_next[n_in + CS + C :]
        dy_c = dy_c * act_c
        # y_c = y_out h(s)
        dy_out = dy_out + np.bincount(block, weights=dy_c * h(a["s"]), minlength=C)
        d_out = fp(a["net_out"]) * dy_out * act if og else np.zeros(C)
        ds = dy_c * a["y_out"][block] * h_prime(a["s"]) + ds_next
        if og and pe:
            ds = ds + params["P_out"] * d_out[block]
        ds = ds * act_c
        # s = y_phi s_prev + y_in g(net_c)
        d_c = ds * a["y_in"][block] * g_prime(a["net_c"])
        dy_in = dy_in + np.bincount(block, weights=ds * g(a["net_c"]), minlength=C)
        d_in = fp(a["net_in"]) * dy_in * act
        if fg:
            d_phi = fp(a["net_phi"]) * np.bincount(block, weights=ds * a["s_prev"], minlength=C) * act
        else:
            d_phi = np.zeros(C)
        ds_next = ds * a["y_phi"][block]
        if pe:
            ds_next = ds_next + params["P_in"] * d_in[block]
            if fg:
                ds_next = ds_next + params["P_phi"] * d_phi[block]
        # the weights' gradients: delta times source
        grad["W_in"] += np.outer(d_in, a["z"])
        grad["W_c"] += np.outer(d_c, a["z"])
        if og:
            grad["W_out"] += np.outer(d_out, a["z"])
        if fg:
            grad["W_phi"] += np.outer(d_phi, a["z"])
        if "in" in biased:
            grad["b_in"] += d_in
            if fg:
                grad["b_phi"] += d_phi
        if "c" in biased:
            grad["b_c"] += d_c
        if og and "out" in biased:
            grad["b_out"] += d_out
        if pe:
            grad["P_in"] += d_in[block] * a["s_prev"]
            if fg:
                grad["P_phi"] += d_phi[block] * a["s_prev"]
            if og:
                grad["P_out"] += d_out[block] * a["s"]
        dz_next = params["W_in"].T @ d_in + params["W_c"].T @ d_c
        if og:
            dz_next = dz_next + params["W_out"].T @ d_out
        if fg:
            dz_next = dz_next + params["W_phi"].T @ d_phi
    return grad


def reference_train_full(
    params: Mapping[str, np.ndarray],
    cfg: Mapping[str, Any],
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    lengths: np.ndarray,
    n_act: int | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Train on the sequences one after another with the full gradient (update "sequence" or "epoch").

    Returns (new_params, outputs): the weights after the last sequence and y_k(t) of every step (computed with
    the weights of that sequence's start), zeros in the padding."""
    cfg = make_config(cfg)
    assert cfg["update"] in ("sequence", "epoch"), cfg["update"]
    p = {k: np.array(params[k], dtype=np.float64, copy=True) for k in PARAM_NAMES}
    summed = {k: np.zeros_like(p[k]) for k in PARAM_NAMES}
    outputs = np.zeros(np.shape(targets))
    epoch = cfg["epoch"] if cfg["update"] == "epoch" else 1
    for i in range(len(lengths)):
        L = int(lengths[i])
        steps = forward(p, cfg, inputs[i, :L], n_act)
        for t in range(L):
            outputs[i, t] = steps[t]["y_k"]
        grad = gradient(p, cfg, inputs[i, :L], targets[i, :L], mask[i, :L], n_act)
        for k in PARAM_NAMES:
            summed[k] += cfg["lr"] * grad[k]
        if (i + 1) % epoch == 0:
            for k in PARAM_NAMES:
                p[k] += summed[k]
                summed[k][...] = 0.0
    return p, outputs


def batched_loss(
    ws: np.ndarray,
    cfg: Mapping[str, Any],
    x: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    n_act: int | None = None,
) -> np.ndarray:
    """E of the one sequence ``x`` for each of the flat weight vectors ``ws`` [B, n_weights] (lstm_reference's
    flatten order); with ``output="softmax"`` the cross-entropy CE = -sum t_k log y_k instead (whose -dCE/dw is
    :func:`gradient`, where -1/2 dE/dw is for the squared error)."""
    cfg = make_config(cfg)
    ws = np.atleast_2d(ws)
    assert ws.shape[1] == n_weights(cfg)
    params, pos = {}, 0
    for k in PARAM_NAMES:
        shape = param_shapes(cfg)[k]
        size = int(np.prod(shape))
        params[k] = ws[:, pos : pos + size].reshape((ws.shape[0],) + shape)
        pos += size
    E = np.zeros(ws.shape[0])
    for t, a in enumerate(forward(params, cfg, x, n_act)):
        if mask[t] and cfg["output"] == "softmax":
            E -= np.sum(targets[t] * np.log(a["y_k"]), axis=-1)
        elif mask[t]:
            E += np.sum((targets[t] - a["y_k"]) ** 2, axis=-1)
    return E


def central_differences(
    w: np.ndarray,
    cfg: Mapping[str, Any],
    x: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    n_act: int | None = None,
    eps: float = 1e-6,
) -> np.ndarray:
    """dE/dw at the flat weight vector ``w`` by central differences, every weight in one batched pass."""
    n = w.size
    step = eps * np.eye(n)
    E = batched_loss(np.concatenate([w + step, w - step]), cfg, x, targets, mask, n_act)
    return (E[:n] - E[n:]) / (2.0 * eps)

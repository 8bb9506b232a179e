"""Plain-numpy reference of RTRL on the conventional nets of ``lstm97.models.rnn`` (the test oracle).

Dense and deliberately slow: the full sensitivity matrix p[u, w] = dy_u(t)/dw over *all* units and *all*
weights (present or not), straight from Williams & Zipser's equations (PAPER.md §2, RTRL row):

* units u = 0..U-1, hidden units first, the K output units last; at step t, in index order,
      net_u(t) = sum_i B[u, i] x_i(t) + sum_v A[u, v] y_v(t) + sum_v R[u, v] y_v(t-1) + b[u],
      y_u(t) = f(net_u(t)),   f logistic or tanh;
  A connects lower units of the same step (v < u), R the previous step; y(-1) = 0 at every sequence start;
* p[u, w](t) = f'(net_u(t)) [ d net_u(t)/dw explicitly + sum_v A[u, v] p[v, w](t) + sum_v R[u, v] p[v, w](t-1) ],
  the explicit term being x_i(t) for w = B[u, i], y_v(t) for A[u, v], y_v(t-1) for R[u, v], 1 for b[u] (and 0
  for absent weights); p = 0 at every sequence start;
* at a step with a target: Delta w = lr sum_k (t_k - y_k(t)) p[k, w](t) for every present weight
  (= lr (-1/2) dE(t)/dw, PAPER.md §1.5); ``update="step"`` applies it at once (the carried p is kept),
  ``update="sequence"`` sums it over the sequence and applies it at the end.

The architecture masks are rebuilt here from the description in ``lstm97.models.rnn`` (not imported from it),
so the tests also check the model's connectivity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: Names of the weight arrays, in the order of the flat vector.
PARAM_NAMES = ("B", "A", "R", "b")


def make_masks(
    n_in: int,
    n_out: int,
    arch: str = "layered",
    hidden: int = 3,
    recurrence: str = "full",
    skip: bool = False,
    bias: bool = True,
    order: str = "sync",
    outputs_see: str = "current",
) -> dict[str, np.ndarray]:
    """Boolean masks of the present weights: B [U, n_in], A [U, U], R [U, U], b [U] (U = hidden + n_out).

    layered: hidden units see the inputs and (recurrence) all / their own / no hidden units of the previous
    step; outputs see the hidden units of the same step and, with skip, the inputs. wz: every unit sees the
    inputs and every unit of the previous step. a2 (one output): hidden units see the input, the output unit
    and themselves at the previous step; the output unit sees the input and every other unit. order "seq"
    (wz, a2): a connection from a lower unit carries its value of the same step instead (A, not R).
    bias: every unit.
    """
    H, K = hidden, n_out
    U = H + K
    B = np.zeros((U, n_in), dtype=bool)
    A = np.zeros((U, U), dtype=bool)
    R = np.zeros((U, U), dtype=bool)
    if arch == "layered":
        B[:H] = True
        B[H:] = skip
        if outputs_see == "current":
            A[H:, :H] = True
        else:
            R[H:, :H] = True
        if recurrence == "full":
            R[:H, :H] = True
        elif recurrence == "self":
            R[range(H), range(H)] = True
        else:
            assert recurrence == "none", recurrence
    elif arch == "wz":
        B[:] = True
        R[:] = True
    else:
        assert arch == "a2" and K == 1, (arch, K)
        B[:] = True
        for h in range(H):
            R[h, h] = True
            R[h, U - 1] = True
            R[U - 1, h] = True
    if arch != "layered" and order == "seq":
        for u in range(U):
            for v in range(u):
                A[u, v], R[u, v] = R[u, v], False
    b = np.full(U, bool(bias))
    return {"B": B, "A": A, "R": R, "b": b}


def flatten(params: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(params[k], dtype=np.float64).ravel() for k in PARAM_NAMES])


def unflatten(vector: np.ndarray, masks: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    out, pos = {}, 0
    for k in PARAM_NAMES:
        size = masks[k].size
        out[k] = np.array(vector[pos : pos + size], dtype=np.float64).reshape(masks[k].shape)
        pos += size
    assert pos == vector.size
    return out


def random_params(
    masks: Mapping[str, np.ndarray], rng: np.random.Generator, low: float = -1.0, high: float = 1.0
) -> dict[str, np.ndarray]:
    """Every present weight uniform in [low, high], absent weights 0."""
    return {k: rng.uniform(low, high, size=masks[k].shape) * masks[k] for k in PARAM_NAMES}


def _f(net: float, act: str) -> float:
    return 1.0 / (1.0 + np.exp(-net)) if act == "logistic" else float(np.tanh(net))


def _f_prime(net: float, act: str) -> float:
    y = _f(net, act)
    return y * (1.0 - y) if act == "logistic" else 1.0 - y * y


def reference_train(
    params: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    lengths: np.ndarray,
    act: str = "logistic",
    lr: float = 1.0,
    update: str = "step",
    learn: bool = True,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Run the sequences one after another (on-line), learning by RTRL if ``learn``.

    Returns (new_params, outputs): the weights after the last sequence and y_k(t) of every step as computed
    in the forward pass (before that step's weight change), zeros in the padding.
    """
    assert update in ("step", "sequence") and act in ("logistic", "tanh")
    U, n_in = masks["B"].shape
    K = targets.shape[2]
    H = U - K
    present = flatten(masks).astype(bool)
    w = flatten(params).copy()
    assert np.all(w[~present] == 0.0)
    n_w = w.size
    # index of weight (u, .) of each block in the flat vector
    off_B, off_A, off_R, off_b = 0, U * n_in, U * n_in + U * U, U * n_in + 2 * U * U
    n, L = mask.shape
    outputs = np.zeros((n, L, K))

    for i in range(n):
        y_prev = np.zeros(U)
        p_prev = np.zeros((U, n_w))  # p[u, w](t-1)
        summed = np.zeros(n_w)
        for t in range(int(lengths[i])):
            x = inputs[i, t]
            v = unflatten(w, masks)
            y = np.zeros(U)
            p = np.zeros((U, n_w))
            for u in range(U):
                net = v["B"][u] @ x + v["A"][u] @ y + v["R"][u] @ y_prev + v["b"][u]
                y[u] = _f(net, act)
                explicit = np.zeros(n_w)  # d net_u / dw with every y fixed
                explicit[off_B + u * n_in : off_B + (u + 1) * n_in] = x
                explicit[off_A + u * U : off_A + (u + 1) * U] = y * (np.arange(U) < u)  # lower units only
                explicit[off_R + u * U : off_R + (u + 1) * U] = y_prev
                explicit[off_b + u] = 1.0
                explicit *= present
                p[u] = _f_prime(net, act) * (explicit + v["A"][u] @ p + v["R"][u] @ p_prev)
            outputs[i, t] = y[H:]
            if learn and mask[i, t]:
                delta = lr * ((targets[i, t] - y[H:]) @ p[H:]) * present
                if update == "step":
                    w = w + delta
                else:
                    summed += delta
            y_prev, p_prev = y, p
        if learn and update == "sequence":
            w = w + summed
    return unflatten(w, masks), outputs


def reference_predict(
    params: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    lengths: np.ndarray,
    act: str = "logistic",
) -> np.ndarray:
    """Forward pass only: y_k(t) for every step, zeros in the padding."""
    return reference_train(params, masks, inputs, targets, mask, lengths, act=act, learn=False)[1]


def reference_loss(
    params: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    lengths: np.ndarray,
    act: str = "logistic",
) -> float:
    """E = sum over target steps of sum_k (t_k - y_k)^2, weights fixed (for finite differences)."""
    out = reference_predict(params, masks, inputs, targets, mask, lengths, act)
    diff = (targets - out) * np.asarray(mask, dtype=bool)[..., None]
    return float(np.sum(diff * diff))

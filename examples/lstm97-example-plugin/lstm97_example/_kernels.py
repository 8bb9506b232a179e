"""The numba kernel of the reservoir model: one call trains (or only runs) a whole chunk of sequences.

Glossary: ``x`` the reservoir state (reset to 0 at each sequence start), x(t) = tanh(W_in u(t) + W_res x(t-1));
``y`` the outputs, y(t) = f(W_out x(t) + b_out) with f logistic; at a target step (``mask``) the delta rule
changes the readout at once: Delta W_out[k, :] = lr (t_k - y_k) y_k (1 - y_k) x(t), the same for b_out[k] with
input 1. W_in and W_res never change. Plain arrays and scalars only; a status code instead of exceptions.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from lstm97.models.base import NONFINITE, OK  # the status codes a kernel returns instead of raising


@numba.njit(cache=True)
def reservoir_chunk(W_in, W_res, W_out, b_out, inputs, targets, mask, lengths, lr, learn, outputs):
    """Run the ``n`` sequences of a chunk in order, writing ``outputs`` [n, L, n_out] and, if ``learn``,
    training the readout in place. Returns (status, n_done): (OK, n), or (NONFINITE, i) when sequence i gave a
    non-finite output or weight (the weights are then left as they are)."""
    n, n_in = inputs.shape[0], inputs.shape[2]
    U, K = W_res.shape[0], W_out.shape[0]
    x = np.zeros(U)
    net = np.zeros(U)
    for i in range(n):
        x[:] = 0.0
        for t in range(lengths[i]):
            for u in range(U):
                a = 0.0
                for j in range(n_in):
                    a += W_in[u, j] * inputs[i, t, j]
                for v in range(U):
                    a += W_res[u, v] * x[v]
                net[u] = a
            for u in range(U):
                x[u] = math.tanh(net[u])
            for k in range(K):
                a = b_out[k]
                for u in range(U):
                    a += W_out[k, u] * x[u]
                y = 1.0 / (1.0 + math.exp(-a))
                outputs[i, t, k] = y
                if not math.isfinite(y):
                    return NONFINITE, i
                if learn and mask[i, t]:
                    d = lr * (targets[i, t, k] - y) * y * (1.0 - y)
                    finite = True
                    for u in range(U):
                        W_out[k, u] += d * x[u]
                        finite = finite and math.isfinite(W_out[k, u])
                    b_out[k] += d
                    if not (finite and math.isfinite(b_out[k])):
                        return NONFINITE, i
    return OK, n

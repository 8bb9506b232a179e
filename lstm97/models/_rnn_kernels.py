"""numba kernels shared by the conventional recurrent nets (PAPER.md §2, §5): the forward pass.

Glossary: units u = 0..U-1 are the non-input units, hidden units first, output units last (the last K).
Within a time step they are computed in index order (layer order). Sources of unit u at step t:

=====================  =================  ===============================================================
paper / usual symbol   here               meaning
=====================  =================  ===============================================================
x_i(t)                 x[i]               the step's inputs (one-hot inputs: only ``hot``, the index
                                          ``active[i, t]`` of the one input at 1; -1: none)
w_{ui} x_i(t)          B[u, i]            input weights (one-hot inputs: the column ``hot`` only)
w_{uv} y_v(t)          A[u, v]            same-step weights from lower units (v < u), e.g. hidden -> output
w_{uv} y_v(t-1)        R[u, v]            recurrent weights from every unit at the previous step
b_u                    b[u]               bias (a weight from a constant 1)
net_u(t)               a                  the net input, summed in :func:`step`
y_u(t) = f(net_u(t))   y[u]               f (``act``: LOGISTIC, range [0, 1], or TANH): :func:`squash`
y_u(t-1)               y_prev[u]          the outputs of the previous step
f'(net_u)              dsquash(y_u)       the derivative, written with the unit's output
=====================  =================  ===============================================================

Connections absent from the architecture are zero weights that never change (the models keep them so).
Sparse connectivity is walked through CSR lists: ``a_ptr[u]:a_ptr[u+1]`` indexes ``a_idx`` (the sources v
of unit u in A), likewise ``r_ptr``/``r_idx`` for R. All activations are 0 at the start of a sequence.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit
from ._vexp import exp_neg_row

LOGISTIC = 0
TANH = 1


@njit
def squash(a, act):
    if act == LOGISTIC:
        return 1.0 / (1.0 + math.exp(-a))
    return math.tanh(a)


@njit
def dsquash(y, act):
    """f'(net) written with the unit's output y = f(net)."""
    if act == LOGISTIC:
        return y * (1.0 - y)
    return 1.0 - y * y


@njit
def step(B, A, R, b, a_ptr, a_idx, r_ptr, r_idx, x, hot, sparse, y_prev, act, y, levels, a_buf, e_buf, vexp):
    """One time step: fill ``y`` (length U) from input ``x`` and the previous outputs ``y_prev``.

    The units go level by level (:func:`levels`: level l holds units ``levels[l]`` .. ``levels[l + 1] - 1``,
    none of which sees another unit of its level through A): their net inputs into ``a_buf`` [1, U], then, for
    logistic units, exp(-net) of the whole level into ``e_buf`` by :func:`._vexp.exp_neg` (with ``vexp`` its
    SIMD loops, which give ``math.exp``'s bits), so y = 1 / (1 + exp(-net)) is :func:`squash`'s, bit for bit."""
    n_in = B.shape[1]
    for lv in range(levels.shape[0] - 1):
        lo, hi = levels[lv], levels[lv + 1]
        for u in range(lo, hi):
            a = b[u]
            if sparse:
                if hot >= 0:
                    a += B[u, hot]
            else:
                for i in range(n_in):
                    a += B[u, i] * x[i]
            for e in range(a_ptr[u], a_ptr[u + 1]):
                a += A[u, a_idx[e]] * y[a_idx[e]]
            for e in range(r_ptr[u], r_ptr[u + 1]):
                a += R[u, r_idx[e]] * y_prev[r_idx[e]]
            a_buf[0, u - lo] = a
        if act == LOGISTIC:
            exp_neg_row(a_buf, e_buf, hi - lo, vexp)
            for u in range(lo, hi):
                y[u] = 1.0 / (1.0 + e_buf[0, u - lo])
        else:
            for u in range(lo, hi):
                y[u] = math.tanh(a_buf[0, u - lo])


def levels(a_ptr: np.ndarray, a_idx: np.ndarray) -> np.ndarray:
    """The starts of :func:`step`'s levels and U at the end: consecutive units, a new level wherever a unit sees
    (through A, from a lower unit) a unit of the current level. A layered net has one level per layer."""
    U = a_ptr.shape[0] - 1
    starts = [0]
    for u in range(U):
        sources = a_idx[a_ptr[u] : a_ptr[u + 1]]
        if sources.size and sources.max() >= u:
            raise ValueError(f"unit {u} sees a unit at or above it through A")
        if u > starts[-1] and sources.size and sources.max() >= starts[-1]:
            starts.append(u)
    return np.array([*starts, U] if U else [0], dtype=np.int64)


@njit
def rnn_forward_chunk(B, A, R, b, a_ptr, a_idx, r_ptr, r_idx, lv, vexp, inputs, active, lengths, act, outputs):
    """Outputs of the net over every sequence of the chunk (weights unchanged); return (status, n_done).

    A non-finite activation stops the chunk with status NONFINITE (1) at sequence ``n_done``: ``outputs``
    then holds that sequence's outputs up to the step that failed, and nothing of the later sequences. ``lv``:
    :func:`levels`; ``vexp``: :func:`step`'s vectorised exp (only where :func:`._vexp.agrees_with_libm`).
    """
    n = lengths.shape[0]
    U = b.shape[0]
    K = outputs.shape[2]
    sparse = active.shape[0] > 0
    y_prev = np.zeros(U)
    y = np.zeros(U)
    a_buf, e_buf = np.zeros((1, U)), np.zeros((1, U))
    for i in range(n):
        for u in range(U):
            y_prev[u] = 0.0
        for t in range(lengths[i]):
            hot = active[i, t] if sparse else -1
            x = inputs[0, 0] if sparse else inputs[i, t]  # one-hot: not read (may be a [1, 1, n_in] stand-in)
            step(B, A, R, b, a_ptr, a_idx, r_ptr, r_idx, x, hot, sparse, y_prev, act, y, lv, a_buf, e_buf, vexp)
            for k in range(K):
                outputs[i, t, k] = y[U - K + k]
            for u in range(U):
                y_prev[u] = y[u]
            for u in range(U):
                if not math.isfinite(y[u]):
                    return 1, i
    return 0, n

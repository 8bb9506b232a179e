"""numba kernel of back-propagation through time for the conventional nets (PAPER.md §2 "BPTT", "ELM"; §3.2).

One call trains a whole chunk of sequences online. The forward step is :func:`._rnn_kernels.step`, the same
code as the nets' ``predict``, so outputs agree bit for bit. Glossary (units u = 0..U-1, hidden first, the
last K are the output units; see :mod:`._rnn_kernels` for B, A, R, b and the CSR lists):

=======================  ==================  ==========================================================
paper / usual symbol     here                meaning
=======================  ==================  ==========================================================
y_u(s)                   ys[s + 1, u]        activations stored during the forward pass; ys[0] = 0 = y(-1)
E(t)                     (not stored)        sum_k (t_k(t) - y_k(t))^2 at a step with a target (§1.5)
-1/2 dE/dy_u(s)          e_y[u]              error arriving at unit u's output (no factor 2, as e_k, eq. 19)
e_u(s) = -1/2 dE/dnet_u  delta[u, s]         f'(net_u(s)) e_y[u] = dsquash(y_u(s)) e_y[u] (eqs. 19-20
                                             extended through time)
sum_u R[u, v] e_u(s)     carry[v]            the error sent to y_v(s - 1)
window of steps          t0..t1              the steps one backward pass covers (``only_last``: only E(t1)
                                             is injected); ``last``: the sequence's last target step
Delta w_uv               lr * g              g = sum_s delta[u, s] * source_v(s) (source x(s), y(s) or
                                             y(s - 1), or 1), summed in :func:`_apply`
g of B, one-hot inputs    dB[u, i], touched   per hot column i, g of B[u, i] summed over the window's
                                             steps where i is hot (``touched[i]``: column i was hot)
=======================  ==================  ==========================================================

Backward pass over a window of steps t0..t1 (:func:`_backward`): e_y of step s is the injected output error
(t_k - y_k) if s injects one, plus R-errors from step s + 1 (only inside the window: at s = t0 the previous
activations act as constant inputs); within a step, units are visited in reverse index order, each sending
A[u, v] delta_u to its same-step sources v < u. :func:`_apply` then adds lr times the summed products to
every present weight; absent connections (masks ``MB``, ``Mb``; A and R through their CSR lists) never
change.

* ``truncate == 0`` (full BPTT): at the sequence end, one window 0..(last target step) with the errors of
  every target step injected; one update per sequence.
* ``truncate == k > 0``: at every step t with a target, the window max(0, t-k+1)..t with only E(t) injected,
  applied at once (online), so the next step runs with the new weights. The stored activations of earlier
  steps are those computed with the weights of their own time (the usual on-line truncated BPTT).
  k = 1 is Elman's rule: standard backprop in the net of one step, y(t-1) a constant input.

One-hot inputs (``active`` [n, L], the hot index or -1; shape (0, 0) for dense): input-weight gradients
touch only the hot column; the sums equal the dense ones bit for bit, because the skipped terms are exact
zeros. A non-finite weight or activation at a sequence end stops the chunk with status NONFINITE.
"""

from __future__ import annotations

import numpy as np

from .._jit import finite, njit
from ._rnn_kernels import dsquash, step


@njit
def _finite_rows(a, n_rows):
    for s in range(n_rows):
        if not finite(a[s]):
            return False
    return True


@njit
def _backward(A, R, a_ptr, a_idx, r_ptr, r_idx, ys, targets, mask, i, t0, t1, only_last, act, e_y, carry, delta):
    """Fill delta[:, t0..t1] with e_u(s) = -1/2 dE/dnet_u(s), backpropagating from step t1 down to t0."""
    U = e_y.shape[0]
    K = targets.shape[2]
    for u in range(U):
        carry[u] = 0.0
    for s in range(t1, t0 - 1, -1):
        for u in range(U):
            e_y[u] = carry[u]
            carry[u] = 0.0
        if mask[i, s] and (s == t1 or not only_last):
            for k in range(K):
                e_y[U - K + k] += targets[i, s, k] - ys[s + 1, U - K + k]
        for u in range(U - 1, -1, -1):
            d = dsquash(ys[s + 1, u], act) * e_y[u]
            delta[u, s] = d
            for e in range(a_ptr[u], a_ptr[u + 1]):
                v = a_idx[e]
                e_y[v] += A[u, v] * d
            if s > t0:
                for e in range(r_ptr[u], r_ptr[u + 1]):
                    v = r_idx[e]
                    carry[v] += R[u, v] * d


@njit
def _apply(
    B, A, R, b, a_ptr, a_idx, r_ptr, r_idx, MB, Mb, inputs, active, sparse, i, ys, delta, t0, t1, lr, dB, touched
):
    """w += lr * sum_{s=t0..t1} delta[u, s] * source(s) for every present weight (one sum per weight)."""
    U = b.shape[0]
    n_in = B.shape[1]
    for u in range(U):
        if Mb[u]:
            g = 0.0
            for s in range(t0, t1 + 1):
                g += delta[u, s]
            b[u] += lr * g
        for e in range(a_ptr[u], a_ptr[u + 1]):
            v = a_idx[e]
            g = 0.0
            for s in range(t0, t1 + 1):
                g += delta[u, s] * ys[s + 1, v]
            A[u, v] += lr * g
        for e in range(r_ptr[u], r_ptr[u + 1]):
            v = r_idx[e]
            g = 0.0
            for s in range(t0, t1 + 1):
                g += delta[u, s] * ys[s, v]
            R[u, v] += lr * g
        if not sparse:
            for m in range(n_in):
                if MB[u, m]:
                    g = 0.0
                    for s in range(t0, t1 + 1):
                        g += delta[u, s] * inputs[i, s, m]
                    B[u, m] += lr * g
    if sparse:
        # per hot column, the sum over the steps where it is hot, in step order (as the dense sum)
        for s in range(t0, t1 + 1):
            hot = active[i, s]
            if hot >= 0:
                touched[hot] = True
                for u in range(U):
                    dB[u, hot] += delta[u, s]
        for s in range(t0, t1 + 1):
            hot = active[i, s]
            if hot >= 0 and touched[hot]:
                touched[hot] = False
                for u in range(U):
                    if MB[u, hot]:
                        B[u, hot] += lr * dB[u, hot]
                    dB[u, hot] = 0.0


@njit
def bptt_chunk(
    w,
    B,
    A,
    R,
    b,
    a_ptr,
    a_idx,
    r_ptr,
    r_idx,
    lv,
    vexp,
    MB,
    Mb,
    inputs,
    active,
    targets,
    mask,
    lengths,
    act,
    lr,
    truncate,
    outputs,
):
    """Train online on every sequence of the chunk by BPTT; return (status, n_done).

    ``w`` is the flat weight vector of which B, A, R, b are views (checked for finite values). ``outputs``
    [n, L, K] receives y_k(t) of every step, computed before that step's weight change. ``lv``, ``vexp``: the
    forward pass's levels and vectorised exp (:func:`._rnn_kernels.step`).
    """
    n = lengths.shape[0]
    L = inputs.shape[1]
    n_in = inputs.shape[2]
    U = b.shape[0]
    K = outputs.shape[2]
    sparse = active.shape[0] > 0
    ys = np.zeros((L + 1, U))
    delta = np.zeros((U, max(L, 1)))
    e_y = np.zeros(U)
    carry = np.zeros(U)
    a_buf, e_buf = np.zeros((1, U)), np.zeros((1, U))
    dB = np.zeros((U, n_in)) if sparse else np.zeros((0, 0))
    touched = np.zeros(n_in if sparse else 0, dtype=np.bool_)
    for i in range(n):
        T = lengths[i]
        last = -1
        for t in range(T):
            hot = active[i, t] if sparse else -1
            x = inputs[i, t]
            step(B, A, R, b, a_ptr, a_idx, r_ptr, r_idx, x, hot, sparse, ys[t], act, ys[t + 1], lv, a_buf, e_buf, vexp)
            for k in range(K):
                outputs[i, t, k] = ys[t + 1, U - K + k]
            if mask[i, t]:
                last = t
                if truncate > 0:
                    t0 = max(0, t - truncate + 1)
                    _backward(
                        A, R, a_ptr, a_idx, r_ptr, r_idx, ys, targets, mask, i, t0, t, True, act, e_y, carry, delta
                    )
                    _apply(
                        B,
                        A,
                        R,
                        b,
                        a_ptr,
                        a_idx,
                        r_ptr,
                        r_idx,
                        MB,
                        Mb,
                        inputs,
                        active,
                        sparse,
                        i,
                        ys,
                        delta,
                        t0,
                        t,
                        lr,
                        dB,
                        touched,
                    )
        if truncate == 0 and last >= 0:
            _backward(A, R, a_ptr, a_idx, r_ptr, r_idx, ys, targets, mask, i, 0, last, False, act, e_y, carry, delta)
            _apply(
                B,
                A,
                R,
                b,
                a_ptr,
                a_idx,
                r_ptr,
                r_idx,
                MB,
                Mb,
                inputs,
                active,
                sparse,
                i,
                ys,
                delta,
                0,
                last,
                lr,
                dB,
                touched,
            )
        # a diverging run is reported, never propagated silently
        if not _finite_rows(ys, T + 1) or not finite(w):
            return 1, i
    return 0, n

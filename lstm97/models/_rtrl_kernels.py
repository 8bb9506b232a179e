"""numba kernel of Real-Time Recurrent Learning (RTRL) for the conventional nets of :mod:`.rnn` (PAPER.md §2,
RTRL row; Williams & Zipser 1989). One call processes a whole chunk of sequences online.

Glossary (symbols of Williams & Zipser / PAPER.md -> names here; the net's own names are those of
:mod:`._rnn_kernels`: B, A, R, b, y, y_prev):

=========================  ====================  ================================================================
paper / usual symbol       here                  meaning
=========================  ====================  ================================================================
p^u_w(t) = dy_u(t)/dw      P[tpos[u], s]         forward sensitivity of a *tracked* unit u to the weight in
                                                 slot s, carried through time, 0 at every sequence start
p^u_w(t-1)                 P_prev                the same, one step earlier
f'(net_u(t))               fp                    dsquash(y_u) (logistic: y(1-y); tanh: 1-y^2)
e_k(t) = t_k - y_k         (inline)              output error at a target step (no f', no factor 2)
sum_v A[v, u] delta_v(t)   back[u]               the error reaching y_u(t) from the units after it in the step,
                                                 collected by the backward sweep; with e_u for an output unit it
                                                 is d(sum_k e_k y_k(t)) / d y_u(t)
delta_u(t)                 du                    f'(net_u(t)) (back[u] + e_u) = d(sum_k e_k y_k(t)) / d net_u(t)
c_v(t)                     c[v]                  sum_u delta_u R[u, v]: the error reaching y_v(t-1)
Delta w                    lr * (...)            lr * sum_k e_k p^k_w(t) = lr * (-1/2) dE(t)/dw (PAPER.md §1.5),
                                                 added to ``dst``: the weights ``w`` (``per_step``) or the
                                                 sequence's sums ``dw``
weight slots               in_slot[u, i],        slot of B[u, i] (-1: absent), of u's first A and first R
                           a_slot[u], r_slot[u]  weight (CSR order) and of b[u] (-1: no bias); slot s is the
                           b_slot[u]             weight ``slot_flat[s]`` of the flat vector
present input weights      in_ptr, in_idx        CSR lists of the present columns of B per unit (mask ``MB``)
=========================  ====================  ================================================================

Sensitivities (exact forward mode): for every weight w with target unit l(w) and source value s_w(t)
(x_i(t) for B[u, i], y_v(t) for A[u, v], y_v(t-1) for R[u, v], 1 for b[u]),

    p^u_w(t) = f'(net_u(t)) [ [u = l(w)] s_w(t) + sum_v A[u, v] p^v_w(t) + sum_v R[u, v] p^v_w(t-1) ].

Dense RTRL carries p for every unit and every weight: O(U^2 W) per step (about 10^8 for the 10404-weight net
of Exp 2a). This kernel computes the same numbers with three structural savings:

1. *Tracked units only.* p^v(t-1) is needed at step t only for the **state units** v, those with an outgoing
   recurrent connection (a column of R). p(t) is carried for the state units and their same-step ancestors
   (units with an A-path to a state unit, whose p(t) enters the state units' p(t)); these are the *tracked*
   units (``tracked``, row ``tpos[u]`` of P; the state units are ``states``). Nothing else is carried through
   time.
2. *Structural zeros.* p^u_w is identically 0 unless l(w) can reach u through A and R connections (over any
   number of steps). Each tracked unit keeps only the weights of its *ancestor* units (including itself):
   the weights of one unit l occupy a contiguous range of slots (its present B, A, R
   weights in CSR order, then its bias; ``slot_flat[s]`` is the slot's index in the flat weight vector), and
   tracked row ``r`` covers the merged slot ranges ``lo[e]:hi[e]``, e in ``g_ptr[r]:g_ptr[r+1]``. Slots
   outside its ranges stay exactly 0.
3. *Within-step reverse mode for the gradient.* Non-tracked units (e.g. the non-recurrent outputs of Exp 2a)
   get no sensitivities. At a step with a target, ``sum_k e_k p^k_w(t)`` is evaluated by one backward sweep
   through the same-step connections A (``back`` collects it), which splits it exactly into
       Delta w = lr [ delta_{l(w)} s_w(t)  +  sum_{v state} c_v p^v_w(t-1) ]:
   a direct term for every present weight (only the hot column of B with one-hot inputs) and one term per
   state unit over its slot ranges. This is the chain rule applied to the same numbers; it is what W&Z's
   update gives, not an approximation.

Per step this costs O(sum over tracked u of |ancestor slots(u)| x (1 + fan-in(u))) for the sensitivities plus
O(W) at target steps (O(U + |A| + |R|) with one-hot inputs): for Exp 2a, 1 tracked unit with 102 slots.
For a fully recurrent net (``wz``) every unit is tracked and sees every weight: plain O(U^2 W) RTRL.

``per_step`` (W&Z's real-time RTRL): each target step's change is applied at once; the carried p(t), computed
with the weights before the change, is kept (as in W&Z). Otherwise changes are summed in ``dw`` and applied at
the sequence end: the exact gradient of the sequence's squared error, the same as untruncated BPTT.
The forward pass is :func:`._rnn_kernels.step`, so outputs equal ``rnn_forward_chunk`` bit for bit. With
one-hot inputs (``active``) the skipped terms are exact zeros: results are bit-identical to the dense path.
A non-finite activation or weight stops the chunk with status NONFINITE.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit
from ._rnn_kernels import dsquash, step


@njit
def _sensitivities(
    A,
    R,
    a_ptr,
    a_idx,
    r_ptr,
    r_idx,
    tracked,
    tpos,
    g_ptr,
    lo,
    hi,
    in_ptr,
    in_idx,
    in_slot,
    a_slot,
    r_slot,
    b_slot,
    x,
    hot,
    sparse,
    y,
    y_prev,
    act,
    P,
    P_prev,
):
    """p(t) of every tracked unit (rows of P) from p(t-1) (P_prev) and the step's activations."""
    for r in range(tracked.shape[0]):
        u = tracked[r]
        for e in range(g_ptr[r], g_ptr[r + 1]):
            for s in range(lo[e], hi[e]):
                P[r, s] = 0.0
        # same-step sources (lower units, already done this step) and previous-step sources
        for ea in range(a_ptr[u], a_ptr[u + 1]):
            v = a_idx[ea]
            wv = A[u, v]
            rv = tpos[v]
            for e in range(g_ptr[r], g_ptr[r + 1]):
                for s in range(lo[e], hi[e]):
                    P[r, s] += wv * P[rv, s]
        for er in range(r_ptr[u], r_ptr[u + 1]):
            v = r_idx[er]
            wv = R[u, v]
            rv = tpos[v]
            for e in range(g_ptr[r], g_ptr[r + 1]):
                for s in range(lo[e], hi[e]):
                    P[r, s] += wv * P_prev[rv, s]
        # direct term: u's own weights, times their source values
        if sparse:
            if hot >= 0 and in_slot[u, hot] >= 0:
                P[r, in_slot[u, hot]] += 1.0
        else:
            for ei in range(in_ptr[u], in_ptr[u + 1]):
                P[r, in_slot[u, in_idx[ei]]] += x[in_idx[ei]]
        for ea in range(a_ptr[u], a_ptr[u + 1]):
            P[r, a_slot[u] + ea - a_ptr[u]] += y[a_idx[ea]]
        for er in range(r_ptr[u], r_ptr[u + 1]):
            P[r, r_slot[u] + er - r_ptr[u]] += y_prev[r_idx[er]]
        if b_slot[u] >= 0:
            P[r, b_slot[u]] += 1.0
        fp = dsquash(y[u], act)
        for e in range(g_ptr[r], g_ptr[r + 1]):
            for s in range(lo[e], hi[e]):
                P[r, s] *= fp


@njit
def _finite_at(w, idx):
    for j in idx:
        if not math.isfinite(w[j]):
            return False
    return True


@njit
def rtrl_chunk(
    w,
    B,
    A,
    R,
    b,
    MB,
    Mb,
    a_ptr,
    a_idx,
    r_ptr,
    r_idx,
    lv,
    vexp,
    in_ptr,
    in_idx,
    tracked,
    tpos,
    g_ptr,
    lo,
    hi,
    in_slot,
    a_slot,
    r_slot,
    b_slot,
    slot_flat,
    states,
    off_a,
    off_r,
    off_b,
    present,
    inputs,
    active,
    targets,
    mask,
    lengths,
    act,
    lr,
    per_step,
    outputs,
):
    """Train the net online on every sequence of the chunk; return (status, n_done).

    ``w`` is the flat weight vector and B, A, R, b its views; ``MB``/``Mb`` the masks of B and b; ``states``
    the state units (with outgoing recurrent connections); ``off_*`` the offsets of A, R, b in ``w`` (B is
    at 0); ``present`` the flat indices of the present weights. ``active`` [n, L] (or shape (0, 0) for dense
    inputs) is the index of the hot input unit at each step (-1: none). ``outputs`` [n, L, K] receives the
    outputs of the forward pass at every step (before that step's weight change). ``lv``, ``vexp``: the forward
    pass's levels and vectorised exp (:func:`._rnn_kernels.step`).
    """
    n = lengths.shape[0]
    U = b.shape[0]
    K = outputs.shape[2]
    n_in = B.shape[1]
    sparse = active.shape[0] > 0
    n_t = tracked.shape[0]
    n_s = slot_flat.shape[0]
    y = np.zeros(U)
    y_prev = np.zeros(U)
    back = np.zeros(U)
    c = np.zeros(U)
    P = np.zeros((n_t, n_s))
    P_prev = np.zeros((n_t, n_s))
    dw = np.zeros(w.shape[0] if not per_step else 0)
    x_dummy = np.zeros(n_in)
    a_buf, e_buf = np.zeros((1, U)), np.zeros((1, U))

    for i in range(n):
        for u in range(U):
            y_prev[u] = 0.0
        P[:, :] = 0.0
        P_prev[:, :] = 0.0
        dst = w if per_step else dw
        for t in range(lengths[i]):
            hot = active[i, t] if sparse else -1
            x = x_dummy if sparse else inputs[i, t]
            # forward pass with the current weights (the same code as rnn_forward_chunk)
            step(B, A, R, b, a_ptr, a_idx, r_ptr, r_idx, x, hot, sparse, y_prev, act, y, lv, a_buf, e_buf, vexp)
            for k in range(K):
                outputs[i, t, k] = y[U - K + k]
            # sensitivities p(t) of the tracked units, with the weights of this step
            _sensitivities(
                A,
                R,
                a_ptr,
                a_idx,
                r_ptr,
                r_idx,
                tracked,
                tpos,
                g_ptr,
                lo,
                hi,
                in_ptr,
                in_idx,
                in_slot,
                a_slot,
                r_slot,
                b_slot,
                x,
                hot,
                sparse,
                y,
                y_prev,
                act,
                P,
                P_prev,
            )
            if mask[i, t]:
                # backward sweep through the same-step connections (delta_u = d(sum_k e_k y_k)/d net_u), and
                # at once the direct term lr delta_u s_w(t) for every present weight w of unit u
                for u in range(U):
                    back[u] = 0.0
                    c[u] = 0.0
                for u in range(U - 1, -1, -1):
                    d = back[u]
                    if u >= U - K:
                        d += targets[i, t, u - (U - K)] - y[u]
                    du = dsquash(y[u], act) * d
                    for ea in range(a_ptr[u], a_ptr[u + 1]):
                        back[a_idx[ea]] += A[u, a_idx[ea]] * du
                    for er in range(r_ptr[u], r_ptr[u + 1]):
                        c[r_idx[er]] += R[u, r_idx[er]] * du
                    d = lr * du
                    if sparse:
                        if hot >= 0 and MB[u, hot]:
                            dst[u * n_in + hot] += d
                    else:
                        for ei in range(in_ptr[u], in_ptr[u + 1]):
                            dst[u * n_in + in_idx[ei]] += d * x[in_idx[ei]]
                    for ea in range(a_ptr[u], a_ptr[u + 1]):
                        dst[off_a + u * U + a_idx[ea]] += d * y[a_idx[ea]]
                    for er in range(r_ptr[u], r_ptr[u + 1]):
                        dst[off_r + u * U + r_idx[er]] += d * y_prev[r_idx[er]]
                    if Mb[u]:
                        dst[off_b + u] += d
                # through the previous step: lr c_v p^v_w(t-1) for every state unit v
                for v in states:
                    if c[v] == 0.0:
                        continue
                    d = lr * c[v]
                    r = tpos[v]
                    for e in range(g_ptr[r], g_ptr[r + 1]):
                        for s in range(lo[e], hi[e]):
                            dst[slot_flat[s]] += d * P_prev[r, s]
            for u in range(U):
                y_prev[u] = y[u]
            P, P_prev = P_prev, P
        if not per_step:
            for j in present:
                w[j] += dw[j]
                dw[j] = 0.0
        # a diverging run is reported, never propagated silently
        for u in range(U):
            if not math.isfinite(y_prev[u]):
                return 1, i
        if not _finite_at(w, present):
            return 1, i
    return 0, n

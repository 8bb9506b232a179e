"""numba kernels of the 1997 LSTM: forward pass and truncated, forward-in-time gradient (PAPER.md §1.3–1.5).

One call processes a whole chunk of sequences online. Glossary (paper symbol -> name here):

=====================  ======================  =====================================================
paper                  here                    equation / note
=====================  ======================  =====================================================
x(t), y^u(t-1)         z[m]                    hidden-unit sources; z[n_z] is the bias source 1.0
net_{in_j}, y^{in_j}   net_in[j], y_in[j]      eq. 6 (f logistic)
net_{out_j}, y^{out_j} y_out[j]                eq. 7
net_{c_j^v}            net_c                   eq. 8
g(net_c), g'           gc, gp                  g2 = 4/(1+e^-x) - 2 or g1 = logistic
s_{c_j^v}              s[c]                    s(t) = s(t-1) + y_in g(net_c)   (CEC, no forget gate)
h(s), h'(s)            hs[c], hp               h1 = 2/(1+e^-x) - 1 or identity
y^{c_j^v}              y_c[c]                  y_out h(s)                      eq. 9
y^k                    y_k[k]                  f(W_k ysrc + b_k)
e_k                    e_k[k]                  f'(net_k)(t_k - y_k)           eq. 19
e_{out_j}              e_out                   eq. 21
e_{s_c}                e_s[c]                  eq. 23
ds_c/dw_{in_j m}       ds_in[c, m]             eq. 25 (trace, reset per sequence)
ds_c/dw_{c m}          ds_c[c, m]              eq. 27
Delta w                lr * ...                eqs. 22, 26, 28 (factor 2 of dE/dy inside lr)
=====================  ======================  =====================================================

Cell c belongs to block c // S. Under connectivity F, z = [x, y_c(t-1), y_in(t-1), y_out(t-1)] and the
outputs see y_c(t); under B, z = [x] and the outputs see [x, y_c(t)]. Bias arrays of size 0 mean "no bias".
``per_step`` applies each step's update at once (online, RTRL style); otherwise updates are summed over
the sequence and applied at its end. A non-finite value stops the chunk with status NONFINITE.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import finite, njit

G2 = 0
G1 = 1
H1 = 0
HID = 1


@njit
def lstm_chunk(w, W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k,
               inputs, active, targets, mask, lengths,
               S, n_act, conn_f, g_kind, h_kind, lr, learn, per_step, outputs):
    """Run (and, if ``learn``, train) the net over every sequence of the chunk; return (status, n_done).

    ``active`` [n, L] (or shape (0, 0) for dense inputs) gives the index of the one hot input unit at each
    step (-1: none). With it, sums and traces skip the zero inputs; the results are bit-identical to the
    dense computation, because the skipped terms are exact zeros. Only the first ``n_act`` blocks exist
    (sequential construction, §1.8): the others output 0, and their weights neither act nor change.
    """
    n = lengths.shape[0]
    n_in = inputs.shape[2]
    sparse = active.shape[0] > 0
    r0 = n_in if sparse else 0  # first source index summed densely
    o0 = r0 if not conn_f else 0  # the same for the output units' sources
    n_out = W_k.shape[0]
    C = W_in.shape[0]
    CS = W_c.shape[0]
    CA = n_act
    CSA = n_act * S
    n_z = W_c.shape[1]
    has_og = W_out.shape[0] > 0
    has_bin = b_in.shape[0] > 0
    has_bout = b_out.shape[0] > 0
    has_bc = b_c.shape[0] > 0
    has_bk = b_k.shape[0] > 0
    col0 = 0 if conn_f else n_in  # column of cell 0 in the output units' sources
    n_src = W_k.shape[1]

    z = np.zeros(n_z + 1)
    z[n_z] = 1.0
    ysrc = np.zeros(n_src)
    y_in = np.zeros(C)
    y_out = np.ones(C)
    acc_out = np.zeros(C)
    s = np.zeros(CS)
    hs = np.zeros(CS)
    y_c = np.zeros(CS)
    e_s = np.zeros(CS)
    y_k = np.zeros(n_out)
    e_k = np.zeros(n_out)
    ds_in = np.zeros((CS, n_z + 1))
    ds_c = np.zeros((CS, n_z + 1))
    acc = not per_step
    if acc:
        d_in = np.zeros((C, n_z + 1))
        d_out = np.zeros((C, n_z + 1))
        d_c = np.zeros((CS, n_z + 1))
        d_k = np.zeros((n_out, n_src + 1))
    else:
        d_in = np.zeros((0, 0))
        d_out = np.zeros((0, 0))
        d_c = np.zeros((0, 0))
        d_k = np.zeros((0, 0))

    for i in range(n):
        # reset activations, states and traces at the start of every sequence (§1.3)
        for c in range(CS):
            s[c] = 0.0
            y_c[c] = 0.0
            for m in range(n_z + 1):
                ds_in[c, m] = 0.0
                ds_c[c, m] = 0.0
        for j in range(C):
            y_in[j] = 0.0
            y_out[j] = 1.0 if not has_og else 0.0
        hot = -1
        for t in range(lengths[i]):
            # 1. sources: current input, previous cell and gate activations
            if sparse:
                if hot >= 0:
                    z[hot] = 0.0
                hot = active[i, t]
                if hot >= 0:
                    z[hot] = 1.0
            else:
                for m in range(n_in):
                    z[m] = inputs[i, t, m]
            if conn_f:
                for c in range(CS):
                    z[n_in + c] = y_c[c]
                for j in range(C):
                    z[n_in + CS + j] = y_in[j]
                if has_og:
                    for j in range(C):
                        z[n_in + CS + C + j] = y_out[j]
            # 2. gates
            for j in range(CA):
                a = b_in[j] if has_bin else 0.0
                if sparse and hot >= 0:
                    a += W_in[j, hot]
                for m in range(r0, n_z):
                    a += W_in[j, m] * z[m]
                y_in[j] = 1.0 / (1.0 + math.exp(-a))
                if has_og:
                    a = b_out[j] if has_bout else 0.0
                    if sparse and hot >= 0:
                        a += W_out[j, hot]
                    for m in range(r0, n_z):
                        a += W_out[j, m] * z[m]
                    y_out[j] = 1.0 / (1.0 + math.exp(-a))
            # 3. cells: CEC update and traces (eqs. 25, 27)
            for c in range(CSA):
                j = c // S
                a = b_c[c] if has_bc else 0.0
                if sparse and hot >= 0:
                    a += W_c[c, hot]
                for m in range(r0, n_z):
                    a += W_c[c, m] * z[m]
                q = 1.0 / (1.0 + math.exp(-a))
                if g_kind == G2:
                    gc = 4.0 * q - 2.0
                    gp = 4.0 * q * (1.0 - q)
                else:
                    gc = q
                    gp = q * (1.0 - q)
                yi = y_in[j]
                s[c] += yi * gc
                if learn:
                    a1 = gc * yi * (1.0 - yi)
                    a2 = gp * yi
                    if sparse and hot >= 0:
                        ds_in[c, hot] += a1
                        ds_c[c, hot] += a2
                    for m in range(r0, n_z):
                        ds_in[c, m] += a1 * z[m]
                        ds_c[c, m] += a2 * z[m]
                    ds_in[c, n_z] += a1
                    ds_c[c, n_z] += a2
                if h_kind == H1:
                    hs[c] = 2.0 / (1.0 + math.exp(-s[c])) - 1.0
                else:
                    hs[c] = s[c]
                y_c[c] = y_out[j] * hs[c]
            # 4. output units
            if conn_f:
                for c in range(CS):
                    ysrc[c] = y_c[c]
            else:
                if not sparse:
                    for m in range(n_in):
                        ysrc[m] = z[m]
                for c in range(CS):
                    ysrc[n_in + c] = y_c[c]
            for k in range(n_out):
                a = b_k[k] if has_bk else 0.0
                if sparse and hot >= 0 and not conn_f:
                    a += W_k[k, hot]
                for m in range(o0, n_src):
                    a += W_k[k, m] * ysrc[m]
                y_k[k] = 1.0 / (1.0 + math.exp(-a))
                outputs[i, t, k] = y_k[k]
            if not (learn and mask[i, t]):
                continue
            # 5. errors (eqs. 19, 21, 23), all from the weights before this step's update
            for k in range(n_out):
                e_k[k] = y_k[k] * (1.0 - y_k[k]) * (targets[i, t, k] - y_k[k])
            for j in range(C):
                acc_out[j] = 0.0
            for c in range(CSA):
                j = c // S
                ec = 0.0
                for k in range(n_out):
                    ec += W_k[k, col0 + c] * e_k[k]
                if h_kind == H1:
                    hp = 0.5 * (1.0 - hs[c] * hs[c])
                else:
                    hp = 1.0
                e_s[c] = y_out[j] * hp * ec
                acc_out[j] += hs[c] * ec
            # 6. weight changes (eqs. 22, 26, 28)
            if per_step:
                for k in range(n_out):
                    d = lr * e_k[k]
                    if sparse and hot >= 0 and not conn_f:
                        W_k[k, hot] += d
                    for m in range(o0, n_src):
                        W_k[k, m] += d * ysrc[m]
                    if has_bk:
                        b_k[k] += d
                for j in range(CA):
                    if has_og:
                        d = lr * y_out[j] * (1.0 - y_out[j]) * acc_out[j]
                        if sparse and hot >= 0:
                            W_out[j, hot] += d
                        for m in range(r0, n_z):
                            W_out[j, m] += d * z[m]
                        if has_bout:
                            b_out[j] += d
                    for v in range(S):
                        c = j * S + v
                        d = lr * e_s[c]
                        for m in range(n_z):
                            W_in[j, m] += d * ds_in[c, m]
                            W_c[c, m] += d * ds_c[c, m]
                        if has_bin:
                            b_in[j] += d * ds_in[c, n_z]
                        if has_bc:
                            b_c[c] += d * ds_c[c, n_z]
            else:
                for k in range(n_out):
                    d = lr * e_k[k]
                    if sparse and hot >= 0 and not conn_f:
                        d_k[k, hot] += d
                    for m in range(o0, n_src):
                        d_k[k, m] += d * ysrc[m]
                    d_k[k, n_src] += d
                for j in range(CA):
                    if has_og:
                        d = lr * y_out[j] * (1.0 - y_out[j]) * acc_out[j]
                        if sparse and hot >= 0:
                            d_out[j, hot] += d
                        for m in range(r0, n_z + 1):
                            d_out[j, m] += d * z[m]
                    for v in range(S):
                        c = j * S + v
                        d = lr * e_s[c]
                        for m in range(n_z + 1):
                            d_in[j, m] += d * ds_in[c, m]
                            d_c[c, m] += d * ds_c[c, m]
        if sparse and hot >= 0:
            z[hot] = 0.0
        if acc and learn:
            for k in range(n_out):
                for m in range(n_src):
                    W_k[k, m] += d_k[k, m]
                    d_k[k, m] = 0.0
                if has_bk:
                    b_k[k] += d_k[k, n_src]
                d_k[k, n_src] = 0.0
            for j in range(C):
                for m in range(n_z):
                    W_in[j, m] += d_in[j, m]
                    d_in[j, m] = 0.0
                    if has_og:
                        W_out[j, m] += d_out[j, m]
                        d_out[j, m] = 0.0
                if has_bin:
                    b_in[j] += d_in[j, n_z]
                d_in[j, n_z] = 0.0
                if has_bout:
                    b_out[j] += d_out[j, n_z]
                d_out[j, n_z] = 0.0
            for c in range(CS):
                for m in range(n_z):
                    W_c[c, m] += d_c[c, m]
                    d_c[c, m] = 0.0
                if has_bc:
                    b_c[c] += d_c[c, n_z]
                d_c[c, n_z] = 0.0
        # a diverging run is reported, never propagated silently
        if not finite(s) or not finite(y_k) or (learn and not finite(w)):
            return 1, i
    return 0, n

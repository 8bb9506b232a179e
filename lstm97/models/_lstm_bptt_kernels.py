"""numba kernel of the LSTM's full gradient: exact back-propagation through time (Graves & Schmidhuber 2005,
PAPER.md §11.3) of the net of §1.3 with the optional forget gates (§11.1) and peepholes (§11.2).

Where the truncated kernel (:mod:`._lstm_kernels`, §1.4-1.5) keeps the error inside the cells, this one sends it
along every path: from the cell outputs y_c(t-1) and the gate activations y_in(t-1), y_out(t-1) into the next
step's gates and cell inputs (connectivity F; "cells": y_c(t-1) only; B: none), through the CEC s (factor
y_phi(t) with forget gates) and through the peepholes (s(t-1) into the input and forget gates, s(t) into the
output gate). One call of :func:`lstm_bptt_chunk` trains a whole chunk of sequences: per sequence, a forward pass
that stores every step's activations, then a backward pass from the last step to the first, then the update
(``update=sequence``: after every sequence; ``update=epoch``: summed over ``epoch`` sequences, as in the
truncated kernel). The forward pass is the truncated kernel's arithmetic (its helpers :func:`._lstm_kernels._gates`,
:func:`._lstm_kernels._peep_out`, :func:`._lstm_kernels._net`, and the same cell update written out here), so
the outputs of every step are bit for bit those of ``predict``. Glossary (block j, cell c = j*S + v, output k;
the names of :mod:`._lstm_kernels` otherwise):

=========================  ====================  ================================================
paper / usual symbol       here                  meaning
=========================  ====================  ================================================
z(t)                       Z[t, m]               the hidden units' sources at step t (stored)
y^{in_j}(t), y^{out_j}(t)  YI[t, j], YO[t, j]    gate activations (YO = 1 without output gates)
y^{phi_j}(t)               YF[t, j]              forget gate (1 without forget gates)
f(net_c(t))                Q[t, c]               g = 4Q - 2 (g2) or Q (g1); g' from Q
s_c(t)                     SS[t + 1, c]          SS[0] = 0: the state before the first step
h(s_c(t)), y^c(t)          HS[t, c], YC[t, c]
e_k(t)                     EK[t, k]              lr f'(net_k)(t_k - y_k) at a target, else 0 (eq. 19;
                                                 lr carries alpha and error_factor: the factor 2 of
                                                 dE/dy is inside lr, as in the truncated kernel);
                                                 linear output units (``fl.linear``): f' = 1
-1/2 dE/dy^c(t)            dyc[c]                from the outputs at t and from z(t+1) (``rc``)
-1/2 dE/ds_c(t)            ds[c]                 dyc y_out h'(s) + the CEC carry from t+1 + the
                                                 output gate's peephole P_out[c] d_out(t)
carry to s_c(t-1)          dsc[c]                y_phi(t) ds + P_in[c] d_in(t) + P_phi[c] d_phi(t)
-1/2 dE/dnet_u(t)          d_in[j], d_out[j],    u = in_j, out_j, phi_j, c (times lr): every
                           d_phi[j], d_c[c]      weight's change is d_u(t) times its source
-1/2 dE/dz_m(t)            rc[m]                 sum_u d_u(t) W_u[., m] for the recurrent columns
                                                 m >= n_in: the error reaching y_c(t-1), y_in(t-1),
                                                 y_out(t-1)
Delta w                    dW_*, db_*, dP_*      sum over the sequence's steps of d_u(t) source(t)
=========================  ====================  ================================================

Only the first ``n_act`` blocks act (sequential construction, §1.8): the others are constants (output 0), so
their weights and the columns from them get exact zeros and never change. The previous-step activations at
t = 0 (``y0``) are constants too: no error flows into them. Inputs are always read densely (the one-hot index
of the truncated kernel is not used: skipped terms there are exact zeros, so the forward pass is the same).
A non-finite value stops the chunk with status NONFINITE.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import finite, njit
from ._gru_kernels import SGD, _update
from ._lstm_kernels import G2, H1, Flags, _apply, _gates, _net, _peep_out, net_flags


@njit
def _forward(fl, W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k, W_phi, b_phi, P_in, P_phi, P_out, x, L, CA, y0, st):
    """One sequence's forward pass (inputs ``x`` [L, n_in]), storing every step in the arrays of ``st``
    (Z, YI, YO, YF, Q, SS, HS, YC, YK): the truncated kernel's arithmetic in the same order, so the same bits."""
    Z, YI, YO, YF, Q, SS, HS, YC, YK, z, y_in, y_out, y_phi, s, hs, y_c, ysrc = st
    S, C, n_in, n_z = fl.S, fl.C, fl.n_in, fl.n_z
    CS = C * S
    for c in range(CS):
        s[c] = 0.0
        SS[0, c] = 0.0
        y_c[c] = y0 if c < CA * S else 0.0
    for j in range(C):
        y_in[j] = y0 if j < CA else 0.0
        y_out[j] = 1.0 if not fl.has_og else (y0 if j < CA else 0.0)
        y_phi[j] = 1.0
    for t in range(L):
        for m in range(n_in):
            z[m] = x[t, m]
        if fl.conn_f:
            for c in range(CS):
                z[n_in + c] = y_c[c]
            if fl.gate_rec:
                for j in range(C):
                    z[n_in + CS + j] = y_in[j]
                if fl.has_og:
                    for j in range(C):
                        z[n_in + CS + C + j] = y_out[j]
        _gates(W_in, W_out, W_phi, b_in, b_out, b_phi, P_in, P_phi, s, S, z, -1, 0, CA, y_in, y_out, y_phi, fl)
        for j in range(CA):  # the cells: :func:`._lstm_kernels._cells` without the traces
            yi = y_in[j]
            yf = y_phi[j] if fl.has_fg else 1.0
            for v in range(S):
                c = j * S + v
                q = 1.0 / (1.0 + math.exp(-_net(W_c, c, b_c, fl.bias_c, -1, False, 0, n_z, z)))
                Q[t, c] = q
                gc = 4.0 * q - 2.0 if fl.g2 else q
                if fl.has_fg:
                    s[c] = yf * s[c] + yi * gc
                else:
                    s[c] += yi * gc
                if fl.h1:
                    hs[c] = 2.0 / (1.0 + math.exp(-s[c])) - 1.0
                else:
                    hs[c] = s[c]
                y_c[c] = y_out[j] * hs[c]
        if fl.has_pe and fl.has_og:
            _peep_out(W_out, b_out, P_out, z, -1, 0, S, CA, s, hs, y_out, y_c, fl)
        if fl.conn_f:
            for c in range(CS):
                ysrc[c] = y_c[c]
        else:
            for m in range(n_in):
                ysrc[m] = z[m]
            for c in range(CS):
                ysrc[n_in + c] = y_c[c]
        for k in range(fl.n_out):
            a = _net(W_k, k, b_k, fl.bias_k, -1, False, 0, fl.n_src, ysrc)
            if fl.linear or fl.softmax:
                YK[t, k] = a
            else:
                YK[t, k] = 1.0 / (1.0 + math.exp(-a))
        if fl.softmax:  # as in the truncated kernel: exp(net - max) / sum
            top = YK[t, 0]
            for k in range(1, fl.n_out):
                if YK[t, k] > top:
                    top = YK[t, k]
            total = 0.0
            for k in range(fl.n_out):
                YK[t, k] = math.exp(YK[t, k] - top)
                total += YK[t, k]
            for k in range(fl.n_out):
                YK[t, k] = YK[t, k] / total
        for m in range(n_z):
            Z[t, m] = z[m]
        for j in range(C):
            YI[t, j] = y_in[j]
            YO[t, j] = y_out[j]
            YF[t, j] = y_phi[j] if fl.has_fg else 1.0
        for c in range(CS):
            SS[t + 1, c] = s[c]
            HS[t, c] = hs[c]
            YC[t, c] = y_c[c]


@njit
def _backward(fl, W_in, W_out, W_c, W_k, W_phi, P_in, P_phi, P_out, x, L, CA, st, EK, bk, dW, dP):
    """One sequence's backward pass from step L-1 to 0: adds every weight's change (lr -1/2 dE/dw, EK holding
    lr e_k) to the sums dW = (dW_in, dW_out, dW_c, db_in, db_out, db_c, dW_k, db_k, dW_phi, db_phi) and
    dP = (dP_in, dP_phi, dP_out). ``bk`` holds the work arrays (dyc, ds, dsc, d_in, d_out, d_phi, d_c, rc)."""
    Z, YI, YO, YF, Q, SS, HS, YC = st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7]
    dW_in, dW_out, dW_c, db_in, db_out, db_c, dW_k, db_k, dW_phi, db_phi = dW
    dP_in, dP_phi, dP_out = dP
    dyc, ds, dsc, d_in, d_out, d_phi, d_c, rc = bk
    S, C, n_in, n_z, n_out = fl.S, fl.C, fl.n_in, fl.n_z, fl.n_out
    CS = C * S
    col0 = 0 if fl.conn_f else n_in
    for m in range(n_z):
        rc[m] = 0.0
    for c in range(CS):
        dsc[c] = 0.0
    for t in range(L - 1, -1, -1):
        # output units: eq. 22 (l = k), and the error reaching each cell output from them and from z(t+1)
        for k in range(n_out):
            e = EK[t, k]
            if e == 0.0:
                continue
            if fl.conn_f:
                for c in range(CS):
                    dW_k[k, c] += e * YC[t, c]
            else:
                for m in range(n_in):
                    dW_k[k, m] += e * x[t, m]
                for c in range(CS):
                    dW_k[k, n_in + c] += e * YC[t, c]
            if fl.bias_k:
                db_k[k] += e
        for c in range(CA * S):
            a = rc[n_in + c] if fl.conn_f else 0.0
            for k in range(n_out):
                a += W_k[k, col0 + c] * EK[t, k]
            dyc[c] = a
        for j in range(CA):
            yi, yo, yf = YI[t, j], YO[t, j], YF[t, j]
            # output gate: y_c = y_out h(s)
            dout = 0.0
            if fl.has_og:
                a = rc[n_in + CS + C + j] if fl.gate_rec else 0.0
                for v in range(S):
                    a += dyc[j * S + v] * HS[t, j * S + v]
                dout = a * yo * (1.0 - yo)
            d_out[j] = dout
            # the state: from y_c(t), from s(t+1) (the carry) and through the output gate's peepholes
            for v in range(S):
                c = j * S + v
                hp = 0.5 * (1.0 - HS[t, c] * HS[t, c]) if fl.h1 else 1.0
                a = dsc[c] + dyc[c] * yo * hp
                if fl.has_pe and fl.has_og:
                    a += dout * P_out[c]
                ds[c] = a
            # s(t) = y_phi s(t-1) + y_in g(net_c): cell inputs, input gate, forget gate
            a_in = rc[n_in + CS + j] if fl.gate_rec else 0.0
            a_phi = 0.0
            for v in range(S):
                c = j * S + v
                q = Q[t, c]
                if fl.g2:
                    gc = 4.0 * q - 2.0
                    gp = 4.0 * q * (1.0 - q)
                else:
                    gc = q
                    gp = q * (1.0 - q)
                a_in += ds[c] * gc
                d_c[c] = ds[c] * yi * gp
                if fl.has_fg:
                    a_phi += ds[c] * SS[t, c]
            din = a_in * yi * (1.0 - yi)
            dphi = a_phi * yf * (1.0 - yf) if fl.has_fg else 0.0
            d_in[j] = din
            d_phi[j] = dphi
            # the error carried to s(t-1): the CEC and the input and forget gates' peepholes
            for v in range(S):
                c = j * S + v
                a = yf * ds[c] if fl.has_fg else ds[c]
                if fl.has_pe:
                    a += din * P_in[c]
                    if fl.has_fg:
                        a += dphi * P_phi[c]
                dsc[c] = a
            # the changes of the block's weights: d_u(t) times each source of u
            for m in range(n_z):
                zm = Z[t, m]
                dW_in[j, m] += din * zm
                if fl.has_og:
                    dW_out[j, m] += dout * zm
                if fl.has_fg:
                    dW_phi[j, m] += dphi * zm
            if fl.bias_in:
                db_in[j] += din
            if fl.has_og and fl.bias_out:
                db_out[j] += dout
            if fl.has_fg and fl.bias_phi:
                db_phi[j] += dphi
            for v in range(S):
                c = j * S + v
                dc = d_c[c]
                for m in range(n_z):
                    dW_c[c, m] += dc * Z[t, m]
                if fl.bias_c:
                    db_c[c] += dc
                if fl.has_pe:
                    dP_in[c] += din * SS[t, c]
                    if fl.has_fg:
                        dP_phi[c] += dphi * SS[t, c]
                    if fl.has_og:
                        dP_out[c] += dout * SS[t + 1, c]
        # the error reaching the previous step's cell and gate outputs through z(t)
        if t > 0 and fl.conn_f:
            for m in range(n_in, n_z):
                a = 0.0
                for j in range(CA):
                    a += d_in[j] * W_in[j, m]
                    if fl.has_og:
                        a += d_out[j] * W_out[j, m]
                    if fl.has_fg:
                        a += d_phi[j] * W_phi[j, m]
                for c in range(CA * S):
                    a += d_c[c] * W_c[c, m]
                rc[m] = a


@njit
def _chunk(fl, w, weights, data, n_act, lr, outputs, y0, epoch, pos0, dW, dP, opt, dflat, m, v, n_steps):
    W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k, W_phi, b_phi, P_in, P_phi, P_out = weights
    inputs, targets, mask, lengths = data
    S, C, n_z, n_out = fl.S, fl.C, fl.n_z, fl.n_out
    CS = C * S
    Lmax = inputs.shape[1]
    st = (
        np.zeros((Lmax, n_z)),  # Z
        np.zeros((Lmax, C)),  # YI
        np.ones((Lmax, C)),  # YO
        np.ones((Lmax, C)),  # YF
        np.zeros((Lmax, CS)),  # Q
        np.zeros((Lmax + 1, CS)),  # SS
        np.zeros((Lmax, CS)),  # HS
        np.zeros((Lmax, CS)),  # YC
        np.zeros((Lmax, n_out)),  # YK
        np.zeros(n_z),  # z
        np.zeros(C),  # y_in
        np.ones(C),  # y_out
        np.ones(C),  # y_phi
        np.zeros(CS),  # s
        np.zeros(CS),  # hs
        np.zeros(CS),  # y_c
        np.zeros(fl.n_src),  # ysrc
    )
    bk = (
        np.zeros(CS),  # dyc
        np.zeros(CS),  # ds
        np.zeros(CS),  # dsc
        np.zeros(C),  # d_in
        np.zeros(C),  # d_out
        np.zeros(C),  # d_phi
        np.zeros(CS),  # d_c
        np.zeros(n_z),  # rc
    )
    EK = np.zeros((Lmax, n_out))
    YK = st[8]
    s = st[13]
    y_k = np.zeros(n_out)
    for i in range(lengths.shape[0]):
        L = lengths[i]
        x = inputs[i]
        _forward(
            fl, W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k, W_phi, b_phi, P_in, P_phi, P_out, x, L, n_act, y0, st
        )
        for t in range(L):
            for k in range(n_out):
                yk = YK[t, k]
                outputs[i, t, k] = yk
                if not mask[i, t]:
                    EK[t, k] = 0.0
                elif fl.linear or fl.softmax:  # softmax: -dCE/dnet_k (cross-entropy)
                    EK[t, k] = lr * (targets[i, t, k] - yk)
                else:
                    EK[t, k] = lr * (yk * (1.0 - yk) * (targets[i, t, k] - yk))
        for k in range(n_out):
            y_k[k] = YK[L - 1, k] if L > 0 else 0.0
        if not finite(s) or not finite(y_k):
            return 1, i, n_steps
        _backward(fl, W_in, W_out, W_c, W_k, W_phi, P_in, P_phi, P_out, x, L, n_act, st, EK, bk, dW, dP)
        if opt[0] != SGD:  # a modern optimiser: one step on the sequence's gradient g = dflat (lr 1 above)
            n_steps = _update(w, dflat, m, v, n_steps, int(opt[0]), opt[1], opt[2], opt[3], opt[4], opt[5])
            for q in range(dflat.shape[0]):
                dflat[q] = 0.0
        elif (pos0 + i + 1) % epoch == 0:
            _apply(W_in, dW[0])
            _apply(W_out, dW[1])
            _apply(W_c, dW[2])
            _apply(b_in, dW[3])
            _apply(b_out, dW[4])
            _apply(b_c, dW[5])
            _apply(W_k, dW[6])
            _apply(b_k, dW[7])
            _apply(W_phi, dW[8])
            _apply(b_phi, dW[9])
            _apply(P_in, dP[0])
            _apply(P_phi, dP[1])
            _apply(P_out, dP[2])
        if not finite(w):
            return 1, i, n_steps
    return 0, lengths.shape[0], n_steps


_EMPTY = np.zeros(0)


def lstm_bptt_chunk(
    w,
    weights,
    data,
    S,
    n_act,
    conn_f,
    gate_rec,
    g_kind,
    h_kind,
    lr,
    outputs,
    y0,
    epoch,
    pos0,
    deltas,
    linear=False,
    softmax=False,
    optimizer=None,
):
    """Train the net on every sequence of the chunk with the full gradient; return (status, n_done, t).

    ``weights`` are the named views of ``w`` in :func:`._lstm_kernels.lstm_chunk`'s order, ``data`` = (inputs,
    targets, mask, lengths); ``deltas`` (shaped like the weights, in their order) receive the summed changes,
    added to the weights at the end of every sequence i with (pos0 + i + 1) % epoch == 0 and then zeroed
    (epoch = 1: update=sequence). ``lr`` is alpha times error_factor; ``linear``: linear output units
    (y_k = net_k); ``softmax``: softmax output units trained on the cross-entropy (e_k = t_k - y_k, its gradient
    -dCE/dnet_k: lr steps on CE where it steps on E/2 for squared error). ``outputs`` [n, L, n_out] receives y_k
    of every step of the sequences done (and of the one that went non-finite); the rest is untouched."""
    W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k, W_phi, b_phi, P_in = weights[:11]
    inputs = data[0]
    fl = Flags(
        sparse=False,
        conn_f=bool(conn_f),
        gate_rec=bool(gate_rec),
        g2=g_kind == G2,
        h1=h_kind == H1,
        linear=bool(linear),
        softmax=bool(softmax),
        learn=False,  # the truncated helpers' traces are not needed
        per_step=False,
        out_in=not conn_f,
        decay=False,
        decay_traces=False,
        halt=False,
        ext_reset=False,
        **net_flags(weights, inputs, S),
    )
    if optimizer is None:  # plain gradient descent (the paper's): the summed changes are applied
        opt, dflat, m, v, t = (float(SGD), 0.0, 0.0, 0.0, 0.0, 0.0), _EMPTY, _EMPTY, _EMPTY, 0
    else:  # ((kind, step, beta1, beta2, rho, eps), flat deltas, m, v, t): with lr = error_factor above
        opt, dflat, m, v, t = optimizer
    return _chunk(
        fl, w, weights, data, n_act, lr, outputs, y0, epoch, pos0, deltas[:10], deltas[10:], opt, dflat, m, v, t
    )

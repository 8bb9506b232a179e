"""numba kernels of the 1997 LSTM: forward pass and truncated, forward-in-time gradient (PAPER.md §1.3–1.5), with
the optional forget gates (Gers et al. 2000) and peepholes (Gers et al. 2002) of PAPER.md §11.1-11.2.

One call of :func:`lstm_chunk` processes a whole chunk of sequences online; the small helpers (inlined by
numba) compute one stage of a time step each, and each update rule is written once, in :func:`_changes`.
The switches the helpers branch on (``fl``, a :class:`Flags`) are read at run time in the generic kernel and
are compile-time constants in the kernel specialised for one configuration (:func:`kernel`): the same source,
so the same bits; :func:`lstm_chunk` picks the specialised one once a configuration has run long enough in the
process to repay its compilation (``SPECIALISE_AFTER``).
Glossary (paper symbol -> name here; block j, cell c = j*S + v of block j = c // S, output unit k):

=======================  ========================  ==================================================
paper                    here                      equation / note
=======================  ========================  ==================================================
blocks, block size S     C, S; CS = C*S cells      only the first ``n_act`` blocks act (CA blocks,
                                                   CSA cells; sequential construction, §1.8)
x(t), y^u(t-1)           z[m]                      hidden-unit sources, m < n_z (a bias is a weight
                                                   from a constant 1); one-hot inputs (``sparse``):
                                                   z[hot] = 1, ``hot`` the index from ``active`` (-1:
                                                   no input), and sums run densely from ``r0`` = n_in on
w_{in_j m}, w_{out_j m}  W_in[j, m], W_out[j, m]   gate weights from source m; biases b_in[j], b_out[j]
w_{c_j^v m}              W_c[c, m], b_c[c]         cell-input weights and bias
w_{k m}                  W_k[k, m], b_k[k]         output-unit weights from ysrc[m] (dense from ``o0``)
net_{in_j}, net_{out_j}  a                         net inputs (eqs. 6-8; also net_{c_j^v} and net_k),
                                                   from :func:`_net`: bias + sum_m W[j, m] z[m]
y^{in_j}, y^{out_j}      y_in[j] (yi), y_out[j]    f(net), f logistic, eqs. 6, 7 (y_out = 1.0 without
                                                   output gates, ``has_og`` false)
f(net_{c_j^v})           q                         g1 = q; g2 = 4q - 2 (``fl.g2``)
g(net_c), g'(net_c)      gc, gp
s_{c_j^v}                s[c]                      s(t) = s(t-1) + y_in g(net_c) (CEC, no forget gate);
                                                   with forget gates y_phi s(t-1) + y_in g(net_c)
y^{phi_j}, w_{phi_j m}   y_phi[j], W_phi, b_phi    forget gate (``has_fg``: W_phi has rows), §11.1;
                                                   the input gate's sources; y_phi = 1.0 without
ds_c/dw_{phi_j m}        ds_phi[c, m]              y_phi ds_phi(t-1) + s(t-1) f'(net_phi) z[m]
peephole weights         P_in, P_phi, P_out [c]    ``has_pe``: cell c's state to block c // S's
                                                   gates, §11.2 (s(t-1) for in/phi, ``s_prev``;
                                                   s(t) for out, after the state update)
ds_c/dP_{in,phi}[j S+v]  ds_pin, ds_pphi [c, v]    traces of the peepholes (no error through them)
h(s), h'(s)              hs[c], hp                 h1 = 2/(1+e^-s) - 1 or identity (``fl.h1``)
y^{c_j^v}                y_c[c]                    y_out h(s), eq. 9
sources of net_k         ysrc[m]                   F (``conn_f``): y_c(t); B: [x(t), y_c(t)]; cell c is
                                                   column ``col0`` + c
y^k, t^k                 y_k[k], targets[i, t, k]  y_k = f(W_k ysrc + b_k); a target where ``mask``
                                                   (``fl.linear``: y_k = W_k ysrc + b_k, not in the paper)
e_k                      e_k[k]                    f'(net_k)(t_k - y_k), eq. 19 (linear: f' = 1)
sum_k w_{k c} e_k        ec                        the error reaching cell c's output
e_{out_j} / f'_{out_j}   acc_out[j]                sum_v h(s_c) sum_k w_{k c} e_k, eq. 21
e_{s_c}                  e_s[c]                    y_out h'(s) ec, eq. 23
g f'_{in}, g' y^{in}     a1, a2                    trace increments per unit source, eqs. 25, 27
ds_c/dw_{in_j m}         ds_in[c, m]               eq. 25 (reset per sequence; m = n_z: the bias)
ds_c/dw_{c m}            ds_c[c, m]                eq. 27
alpha                    lr                        (the factor 2 of dE/dy is inside lr; error_factor=2
                                                   reaches the kernel as lr doubled)
Delta w                  d * source                eqs. 22, 26, 28, added (if ``learn``) by
                                                   :func:`_changes` to dW_*, db_*: the weights W_*, b_*
                                                   themselves (``per_step``) or their sums over an
                                                   epoch of ``epoch`` sequences (1: a sequence)
=======================  ========================  ==================================================

Options beyond the 1997 net (each off by default, where the 1997 arithmetic runs unchanged): ``fl.softmax`` output units
(y = exp(net - max) / sum, e_k = t_k - y_k: the cross-entropy's -dCE/dnet_k); ``fl.out_in`` (the output units see [x,
y_c(t)], as under B, also under F or "cells"); ``fl.decay`` (s(t) = decay s(t-1) + y_in g, every trace times ``decay``
first: a constant forget gate; without ``fl.decay_traces`` the traces grow as in 1997); ``fl.ext_reset`` (``resets[i,
t]``: the state is reset before step t as at a sequence start); ``fl.halt`` (a sequence stops right after its first
target step with some |t_k - y_k| >= ``halt_tol``, trained on it; ``stops[i]`` = the steps it ran); the lr decay (lr x
``lr_decay`` after every ``lr_every`` training sequences; 1.0: none). Gers, Schmidhuber & Cummins 2000, PAPER.md §11.1.

Under connectivity F, z = [x, y_c(t-1), y_in(t-1), y_out(t-1)] and the outputs see y_c(t); under "cells"
(``conn_f`` and not ``gate_rec``), z = [x, y_c(t-1)]; under B, z = [x] and the outputs see [x, y_c(t)]. At
sequence start the previous-step activations of the active cells and gates are ``y0`` (0, or 0.5 as in the
JKU simulator). Bias arrays of size 0 mean "no bias". ``per_step`` applies each step's changes at once
(online, RTRL style; the caller passes the weights themselves as dW_*, db_*); otherwise they are summed in
the caller's arrays dW_*, db_* (shaped like the weights) and added at the end of every sequence i with
(pos0 + i + 1) % epoch == 0 (:func:`_apply`): epoch = 1 for update=sequence, and for update=epoch the sums
and the position pos0 in the epoch are carried from chunk to chunk by the caller. A non-finite value stops
the chunk with status NONFINITE.
"""

from __future__ import annotations

import functools
import math
import os
from typing import NamedTuple

import numpy as np

from .._jit import finite, njit
from ._vexp import agrees_with_libm, exp_neg_row

G2 = 0
G1 = 1
H1 = 0
HID = 1


class Flags(NamedTuple):
    """The configuration one specialised kernel is compiled for (:func:`kernel`): every switch that the inner
    loops branch on is a compile-time constant there, so the branches cost nothing at run time."""

    sparse: bool  # one-hot inputs given by index (``active``)
    conn_f: bool  # connectivity F or "cells": the outputs see the cells only; z holds y_c(t-1)
    gate_rec: bool  # z also holds y_in(t-1), y_out(t-1) (connectivity F)
    g2: bool  # g = 4 f - 2 (else g = f)
    h1: bool  # h = 2 f - 1 (else the identity)
    linear: bool  # linear output units y_k = net_k, e_k = t_k - y_k (else logistic, the 1997 net)
    softmax: bool  # softmax output units y = softmax(net), e_k = t_k - y_k (cross-entropy; not in the paper)
    learn: bool  # train (traces, errors, changes) or only run forward
    per_step: bool  # changes go straight into the weights
    has_og: bool  # output gates
    has_fg: bool  # forget gates (§11.1)
    has_pe: bool  # peepholes (§11.2)
    out_in: bool  # the output units also see the inputs (connectivity B, or outputs_see_inputs; Gers et al. 2000)
    decay: bool  # state decay s(t) = decay s(t-1) + y_in g (Gers et al. 2000's "state decay"; no forget gates)
    decay_traces: bool  # with decay: the traces decay too (the exact truncated gradient); else they grow as in 1997
    halt: bool  # a sequence stops after its first target step with an output off by >= halt_tol (CERG, §11.1)
    ext_reset: bool  # states, traces and activations are reset at the steps ``resets`` marks (external reset)
    bias_in: bool  # which layers carry a bias weight
    bias_out: bool
    bias_c: bool
    bias_k: bool
    bias_phi: bool
    S: int  # cells per block
    C: int  # blocks
    n_in: int  # input units
    n_out: int  # output units
    n_z: int  # sources of the hidden units (columns of W_in, W_c)
    n_src: int  # sources of the output units (columns of W_k)


@njit(inline="always")
def _reset(s, y_c, ds_in, ds_c, ds_phi, ds_pin, ds_pphi, y_in, y_out, has_og, S, CA, y0):
    """Activations, states and traces at the start of a sequence (§1.3): states and traces 0, the previous-step
    activations of the active blocks' cells and gates ``y0`` (0, or 0.5 as in the JKU simulator, §10.1); absent
    blocks output 0, and y_out is 1.0 without output gates."""
    for c in range(s.shape[0]):
        s[c] = 0.0
        y_c[c] = y0 if c < CA * S else 0.0
        for m in range(ds_in.shape[1]):
            ds_in[c, m] = 0.0
            ds_c[c, m] = 0.0
    for c in range(ds_phi.shape[0]):
        for m in range(ds_phi.shape[1]):
            ds_phi[c, m] = 0.0
    for c in range(ds_pin.shape[0]):
        for v in range(ds_pin.shape[1]):
            ds_pin[c, v] = 0.0
    for c in range(ds_pphi.shape[0]):
        for v in range(ds_pphi.shape[1]):
            ds_pphi[c, v] = 0.0
    for j in range(y_in.shape[0]):
        y_in[j] = y0 if j < CA else 0.0
        y_out[j] = 1.0 if not has_og else (y0 if j < CA else 0.0)


@njit(inline="always")
def _net(W, j, bias, has_b, hot, sparse, r0, n_cols, z):
    """Net input of row j of W: bias (if any), the hot column (one-hot inputs), then sources r0..n_z-1."""
    a = bias[j] if has_b else 0.0
    if sparse and hot >= 0:
        a += W[j, hot]
    for m in range(r0, n_cols):
        a += W[j, m] * z[m]
    return a


@njit(inline="always")
def _gates(W_in, W_out, W_phi, b_in, b_out, b_phi, P_in, P_phi, s, S, z, hot, r0, CA, y_in, y_out, y_phi, fl):
    """Input, output and (Gers et al. 2000) forget gates of the active blocks (eqs. 6, 7; §11.1), their dot
    products over the sources in one loop (each sum still bias, hot column, then sources in order). With
    peepholes (Gers et al. 2002, §11.2) the input and forget gates also see their block's states s(t-1), and
    the output gate is left to :func:`_peep_out`, after the state update."""
    out_here = fl.has_og and not fl.has_pe
    n_z = fl.n_z
    for j in range(CA):
        a_in = b_in[j] if fl.bias_in else 0.0
        a_out = b_out[j] if out_here and fl.bias_out else 0.0
        a_phi = b_phi[j] if fl.has_fg and fl.bias_phi else 0.0
        if fl.sparse and hot >= 0:
            a_in += W_in[j, hot]
            if out_here:
                a_out += W_out[j, hot]
            if fl.has_fg:
                a_phi += W_phi[j, hot]
        for m in range(r0, n_z):
            zm = z[m]
            a_in += W_in[j, m] * zm
            if out_here:
                a_out += W_out[j, m] * zm
            if fl.has_fg:
                a_phi += W_phi[j, m] * zm
        if fl.has_pe:
            for v in range(S):
                a_in += P_in[j * S + v] * s[j * S + v]
        y_in[j] = 1.0 / (1.0 + math.exp(-a_in))
        if out_here:
            y_out[j] = 1.0 / (1.0 + math.exp(-a_out))
        if fl.has_fg:
            if fl.has_pe:
                for v in range(S):
                    a_phi += P_phi[j * S + v] * s[j * S + v]
            y_phi[j] = 1.0 / (1.0 + math.exp(-a_phi))


@njit(inline="always")
def _peep_out(W_out, b_out, P_out, z, hot, r0, S, CA, s, hs, y_out, y_c, fl):
    """Peepholes: the output gates see their block's states s(t) (§11.2), then the cell outputs y_out h(s)."""
    for j in range(CA):
        a = _net(W_out, j, b_out, fl.bias_out, hot, fl.sparse, r0, fl.n_z, z)
        for v in range(S):
            a += P_out[j * S + v] * s[j * S + v]
        y_out[j] = 1.0 / (1.0 + math.exp(-a))
        for v in range(S):
            y_c[j * S + v] = y_out[j] * hs[j * S + v]


@njit(inline="always")
def _cells(
    W_c, b_c, z, hot, r0, S, CA, y_in, y_out, y_phi, s, hs, y_c, ds_in, ds_c, ds_phi, s_prev, ds_pin, ds_pphi, fl, decay
):
    """Cells of the active blocks: CEC update (eq. 8, 9) and, when learning, the traces (eqs. 25, 27). With
    forget gates (Gers et al. 2000, PAPER.md §11.1) s(t) = y_phi s(t-1) + y_in g, every trace is first
    multiplied by y_phi, and ds_phi gains s(t-1) f'(net_phi) per unit source. The 1997 path is a separate
    branch, so its arithmetic is untouched; with y_phi = 1 both give the same bits (1 * x = x). With peepholes
    the block's states s(t-1) (``s_prev``) are further gate sources: their traces ds_pin, ds_pphi [c, v] grow
    like the other columns of ds_in, ds_phi (no error flows through them). Without output-gate peepholes y_c
    is final here; with them :func:`_peep_out` recomputes it. With state decay (``fl.decay``, no forget gates)
    s(t) = decay s(t-1) + y_in g and every trace is first multiplied by ``decay``, a constant forget gate (unless
    not ``fl.decay_traces``: then the traces grow as in the 1997 net)."""
    n_z = fl.n_z
    for j in range(CA):
        yi = y_in[j]
        yf = y_phi[j] if fl.has_fg else 1.0
        for v in range(S):
            c = j * S + v
            q = 1.0 / (1.0 + math.exp(-_net(W_c, c, b_c, fl.bias_c, hot, fl.sparse, r0, fl.n_z, z)))
            if fl.g2:
                gc = 4.0 * q - 2.0
                gp = 4.0 * q * (1.0 - q)
            else:
                gc = q
                gp = q * (1.0 - q)
            a3 = 0.0
            if fl.has_fg:
                s_old = s[c]
                s[c] = yf * s_old + yi * gc
                if fl.learn:
                    a3 = s_old * yf * (1.0 - yf)
                    for m in range(n_z + 1):  # every column: the zero inputs' traces decay too
                        ds_in[c, m] *= yf
                        ds_c[c, m] *= yf
                        ds_phi[c, m] *= yf
                    if fl.sparse and hot >= 0:
                        ds_phi[c, hot] += a3
                    for m in range(r0, n_z):
                        ds_phi[c, m] += a3 * z[m]
                    ds_phi[c, n_z] += a3
            elif fl.decay:
                s[c] = decay * s[c] + yi * gc
                if fl.learn and fl.decay_traces:
                    for m in range(n_z + 1):
                        ds_in[c, m] *= decay
                        ds_c[c, m] *= decay
            else:
                s[c] += yi * gc
            if fl.learn:
                a1 = gc * yi * (1.0 - yi)
                a2 = gp * yi
                if fl.sparse and hot >= 0:
                    ds_in[c, hot] += a1
                    ds_c[c, hot] += a2
                for m in range(r0, n_z):
                    zm = z[m]
                    ds_in[c, m] += a1 * zm
                    ds_c[c, m] += a2 * zm
                ds_in[c, n_z] += a1
                ds_c[c, n_z] += a2
                if fl.has_pe:
                    for v2 in range(S):
                        sp = s_prev[j * S + v2]
                        if fl.has_fg:
                            ds_pin[c, v2] = yf * ds_pin[c, v2] + a1 * sp
                            ds_pphi[c, v2] = yf * ds_pphi[c, v2] + a3 * sp
                        elif fl.decay_traces:
                            ds_pin[c, v2] = decay * ds_pin[c, v2] + a1 * sp
                        else:
                            ds_pin[c, v2] += a1 * sp
            if fl.h1:
                hs[c] = 2.0 / (1.0 + math.exp(-s[c])) - 1.0
            else:
                hs[c] = s[c]
            y_c[c] = y_out[j] * hs[c]


@njit(inline="always")
def _errors(W_k, target, y_k, hs, y_out, S, CA, col0, e_k, e_s, acc_out, fl):
    """Output, output-gate and internal-state errors (eqs. 19, 21, 23), from the weights before the update."""
    for k in range(y_k.shape[0]):
        if fl.linear or fl.softmax:  # linear + squared error, softmax + cross-entropy: the same e_k
            e_k[k] = target[k] - y_k[k]
        else:
            e_k[k] = y_k[k] * (1.0 - y_k[k]) * (target[k] - y_k[k])
    for j in range(acc_out.shape[0]):
        acc_out[j] = 0.0
    for j in range(CA):
        for v in range(S):
            c = j * S + v
            ec = 0.0
            for k in range(y_k.shape[0]):
                ec += W_k[k, col0 + c] * e_k[k]
            hp = 0.5 * (1.0 - hs[c] * hs[c]) if fl.h1 else 1.0
            e_s[c] = y_out[j] * hp * ec
            acc_out[j] += hs[c] * ec


@njit(inline="always")
def _add_delta(dW, db, has_b, j, d, hot, sparse, r0, n_cols, z):
    """Eq. 22 for unit j of a layer: dW[j, m] += d z[m] for its sources (as in :func:`_net`), db[j] += d."""
    if sparse and hot >= 0:
        dW[j, hot] += d
    for m in range(r0, n_cols):
        dW[j, m] += d * z[m]
    if has_b:
        db[j] += d


@njit(inline="always")
def _changes(
    lr,
    e_k,
    ysrc,
    y_out,
    acc_out,
    z,
    e_s,
    ds_in,
    ds_c,
    ds_phi,
    hot,
    r0,
    o0,
    S,
    CA,
    dW_in,
    dW_out,
    dW_c,
    db_in,
    db_out,
    db_c,
    dW_k,
    db_k,
    dW_phi,
    db_phi,
    fl,
):
    """Add the step's weight changes (eqs. 22, 26, 28; forget gates like input gates, §11.1) to dW_*, db_*:
    the weights themselves (update at once) or their sums over the sequence. Arrays are shaped like the
    weights. (At most 30 arguments: CPython passes more as one tuple, which numba cannot inline.)"""
    n_z = fl.n_z
    for k in range(e_k.shape[0]):
        _add_delta(dW_k, db_k, fl.bias_k, k, lr * e_k[k], hot, fl.sparse and fl.out_in, o0, fl.n_src, ysrc)
    for j in range(CA):
        if fl.has_og:
            d_out = lr * y_out[j] * (1.0 - y_out[j]) * acc_out[j]
            _add_delta(dW_out, db_out, fl.bias_out, j, d_out, hot, fl.sparse, r0, n_z, z)
        for v in range(S):
            c = j * S + v
            d = lr * e_s[c]
            for m in range(n_z):
                dW_in[j, m] += d * ds_in[c, m]
                dW_c[c, m] += d * ds_c[c, m]
            if fl.bias_in:
                db_in[j] += d * ds_in[c, n_z]
            if fl.bias_c:
                db_c[c] += d * ds_c[c, n_z]
            if fl.has_fg:
                for m in range(n_z):
                    dW_phi[j, m] += d * ds_phi[c, m]
                if fl.bias_phi:
                    db_phi[j] += d * ds_phi[c, n_z]


@njit(inline="always")
def _peep_changes(lr, y_out, acc_out, e_s, s, ds_pin, ds_pphi, S, CA, dP_in, dP_phi, dP_out, fl):
    """The peepholes' weight changes (§11.2): like the gates' other weights, with the sources s(t-1) (input and
    forget gates: the traces ds_pin, ds_pphi, eq. 26) and s(t) (output gates, eq. 22)."""
    for j in range(CA):
        if fl.has_og:
            d_out = lr * y_out[j] * (1.0 - y_out[j]) * acc_out[j]
            for v in range(S):
                dP_out[j * S + v] += d_out * s[j * S + v]
        for v in range(S):
            c = j * S + v
            d = lr * e_s[c]
            for v2 in range(S):
                dP_in[j * S + v2] += d * ds_pin[c, v2]
                if fl.has_fg:
                    dP_phi[j * S + v2] += d * ds_pphi[c, v2]


@njit(inline="always")
def _apply(a, d):
    """a += d, then d = 0: a sequence's summed changes applied at its end (a and d C-contiguous)."""
    fa = a.reshape(a.size)
    fd = d.reshape(d.size)
    for m in range(fa.shape[0]):
        fa[m] += fd[m]
        fd[m] = 0.0


#: After how many time steps of one configuration in a process :func:`lstm_chunk` switches from the generic
#: kernel to the one specialised for it (compiled once per machine, ~3-5 s, then loaded from numba's cache in
#: ~0.1 s). Both give the same bits; the specialised one is faster. ``LSTM97_SPECIALISE_AFTER``: 0 = always
#: specialise, a negative value = never.
_NO_RESETS = np.zeros((0, 0), dtype=np.bool_)  # "no external resets"
SPECIALISE_AFTER = int(os.environ.get("LSTM97_SPECIALISE_AFTER", "2000000"))
_steps: dict[Flags, int] = {}


@functools.cache
def kernel(fl: Flags | None):
    """The chunk kernel for the configuration ``fl``: with ``fl`` None the generic one, which reads the flags
    from its first argument at run time (one compilation serves every configuration); else the one compiled
    for ``fl``, where every flag is a compile-time constant (numba folds the branches away). Both are the same
    source, so they compute the same bits. Each specialised kernel is compiled once per machine and then
    loaded from numba's on-disk cache: the flags are the closure's constants, part of the cache's key."""
    dynamic = fl is None
    n_bool = len(Flags._fields) - 6
    FL = (
        Flags(*([False] * n_bool), *([1] * 6))
        if dynamic
        else Flags(*(bool(f) for f in fl[:n_bool]), *map(int, fl[n_bool:]))
    )

    @njit
    def chunk(flags, w, weights, data, n_act, lr, outputs, y0, epoch, pos0, deltas, opts, stops):
        W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k, W_phi, b_phi, P_in, P_phi, P_out = weights
        inputs, active, targets, mask, lengths, resets = data
        halt_tol, decay, lr_decay, lr_every, lr_pos, vexp = opts
        dW_in, dW_out, dW_c, db_in, db_out, db_c, dW_k, db_k, dW_phi, db_phi, dP_in, dP_phi, dP_out = deltas
        fl = flags if dynamic else FL
        S = fl.S
        n = lengths.shape[0]
        n_in = fl.n_in
        r0 = n_in if fl.sparse else 0  # first source index summed densely
        o0 = r0 if fl.out_in else 0  # the same for the output units' sources
        n_out = fl.n_out
        C = fl.C
        CS = C * S
        CA = n_act
        n_z = fl.n_z
        col0 = n_in if fl.out_in else 0  # column of cell 0 in the output units' sources

        z = np.zeros(n_z)
        ysrc = np.zeros(fl.n_src)
        y_in = np.zeros(C)
        y_out = np.ones(C)
        acc_out = np.zeros(C)
        s = np.zeros(CS)
        hs = np.zeros(CS)
        y_c = np.zeros(CS)
        e_s = np.zeros(CS)
        y_k = np.zeros(n_out)
        e_k = np.zeros(n_out)
        a_k = np.zeros((1, n_out))  # the output units' exp arguments, taken in one pass (_vexp.exp_neg)
        ex_k = np.zeros((1, n_out))
        ds_in = np.zeros((CS, n_z + 1))
        ds_c = np.zeros((CS, n_z + 1))
        y_phi = np.ones(C)
        ds_phi = np.zeros((CS if fl.has_fg else 0, n_z + 1))  # no rows: no forget gates
        s_prev = np.zeros(CS if fl.has_pe else 0)  # no entries: no peepholes
        ds_pin = np.zeros((CS if fl.has_pe else 0, S))
        ds_pphi = np.zeros((CS if fl.has_pe and fl.has_fg else 0, S))
        for i in range(n):
            _reset(s, y_c, ds_in, ds_c, ds_phi, ds_pin, ds_pphi, y_in, y_out, fl.has_og, S, CA, y0)
            hot = -1
            stops[i] = lengths[i]
            for t in range(lengths[i]):
                if fl.ext_reset and t > 0 and resets[i, t]:  # an external reset: a new string begins here
                    _reset(s, y_c, ds_in, ds_c, ds_phi, ds_pin, ds_pphi, y_in, y_out, fl.has_og, S, CA, y0)
                # 1. sources: current input, previous cell and gate activations
                if fl.sparse:
                    if hot >= 0:
                        z[hot] = 0.0
                    hot = active[i, t]
                    if hot >= 0:
                        z[hot] = 1.0
                else:
                    for m in range(n_in):
                        z[m] = inputs[i, t, m]
                if fl.conn_f:
                    for c in range(CS):
                        z[n_in + c] = y_c[c]
                    if fl.gate_rec:
                        for j in range(C):
                            z[n_in + CS + j] = y_in[j]
                        if fl.has_og:
                            for j in range(C):
                                z[n_in + CS + C + j] = y_out[j]
                # 2.-3. gates, cells and their traces
                _gates(
                    W_in, W_out, W_phi, b_in, b_out, b_phi, P_in, P_phi, s, S, z, hot, r0, CA, y_in, y_out, y_phi, fl
                )
                if fl.has_pe:
                    for c in range(CS):
                        s_prev[c] = s[c]
                _cells(
                    W_c,
                    b_c,
                    z,
                    hot,
                    r0,
                    S,
                    CA,
                    y_in,
                    y_out,
                    y_phi,
                    s,
                    hs,
                    y_c,
                    ds_in,
                    ds_c,
                    ds_phi,
                    s_prev,
                    ds_pin,
                    ds_pphi,
                    fl,
                    decay,
                )
                if fl.has_pe and fl.has_og:
                    _peep_out(W_out, b_out, P_out, z, hot, r0, S, CA, s, hs, y_out, y_c, fl)
                # 4. output units
                if not fl.out_in:
                    for c in range(CS):
                        ysrc[c] = y_c[c]
                else:
                    if not fl.sparse:
                        for m in range(n_in):
                            ysrc[m] = z[m]
                    for c in range(CS):
                        ysrc[n_in + c] = y_c[c]
                for k in range(n_out):
                    a = _net(W_k, k, b_k, fl.bias_k, hot, fl.sparse and fl.out_in, o0, fl.n_src, ysrc)
                    if fl.linear or fl.softmax:
                        y_k[k] = a
                    else:
                        a_k[0, k] = a
                if not (fl.linear or fl.softmax):  # logistic: y = 1 / (1 + exp(-net)), every exp in one pass
                    exp_neg_row(a_k, ex_k, n_out, vexp)
                    for k in range(n_out):
                        y_k[k] = 1.0 / (1.0 + ex_k[0, k])
                if fl.softmax:  # y = exp(net - max) / sum exp(net - max); -(max - net) is net - max exactly
                    top = y_k[0]
                    for k in range(1, n_out):
                        if y_k[k] > top:
                            top = y_k[k]
                    for k in range(n_out):
                        a_k[0, k] = top - y_k[k]
                    exp_neg_row(a_k, ex_k, n_out, vexp)
                    total = 0.0
                    for k in range(n_out):
                        y_k[k] = ex_k[0, k]
                        total += y_k[k]
                    for k in range(n_out):
                        y_k[k] = y_k[k] / total
                for k in range(n_out):
                    outputs[i, t, k] = y_k[k]
                off = False  # halting: some output off its target by halt_tol or more
                if fl.halt and mask[i, t]:
                    for k in range(n_out):
                        if abs(targets[i, t, k] - y_k[k]) >= halt_tol:
                            off = True
                if not (fl.learn and mask[i, t]):
                    if off:
                        stops[i] = t + 1
                        break
                    continue
                # 5. errors, all from the weights before this step's update; 6. weight changes
                _errors(W_k, targets[i, t], y_k, hs, y_out, S, CA, col0, e_k, e_s, acc_out, fl)
                _changes(
                    lr,
                    e_k,
                    ysrc,
                    y_out,
                    acc_out,
                    z,
                    e_s,
                    ds_in,
                    ds_c,
                    ds_phi,
                    hot,
                    r0,
                    o0,
                    S,
                    CA,
                    dW_in,
                    dW_out,
                    dW_c,
                    db_in,
                    db_out,
                    db_c,
                    dW_k,
                    db_k,
                    dW_phi,
                    db_phi,
                    fl,
                )
                if fl.has_pe:
                    _peep_changes(lr, y_out, acc_out, e_s, s, ds_pin, ds_pphi, S, CA, dP_in, dP_phi, dP_out, fl)
                if off:  # trained on the wrong step, then the sequence stops (its later outputs are not computed)
                    stops[i] = t + 1
                    break
            if fl.sparse and hot >= 0:
                z[hot] = 0.0
            if fl.learn and not fl.per_step and (pos0 + i + 1) % epoch == 0:
                _apply(W_in, dW_in)
                _apply(W_out, dW_out)
                _apply(W_c, dW_c)
                _apply(b_in, db_in)
                _apply(b_out, db_out)
                _apply(b_c, db_c)
                _apply(W_k, dW_k)
                _apply(b_k, db_k)
                _apply(W_phi, dW_phi)
                _apply(b_phi, db_phi)
                _apply(P_in, dP_in)
                _apply(P_phi, dP_phi)
                _apply(P_out, dP_out)
            if fl.learn and lr_decay != 1.0:  # lr x lr_decay after every lr_every training sequences
                lr_pos += 1
                if lr_pos == lr_every:
                    lr = lr * lr_decay
                    lr_pos = 0
            # a diverging run is reported, never propagated silently
            if not finite(s) or not finite(y_k) or (fl.learn and not finite(w)):
                return 1, i
        return 0, n

    return chunk


def net_flags(weights, inputs, S) -> dict:
    """The :class:`Flags` that the net's weight arrays (in :func:`lstm_chunk`'s order) and inputs decide: which
    gates and biases exist and the sizes (shared by this module's and ``_lstm_bptt_kernels``' wrappers)."""
    W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k, W_phi, b_phi, P_in = weights[:11]
    has_fg = W_phi.shape[0] > 0
    return dict(
        has_og=W_out.shape[0] > 0,
        has_fg=has_fg,
        has_pe=P_in.shape[0] > 0,
        bias_in=b_in.shape[0] > 0,
        bias_out=b_out.shape[0] > 0,
        bias_c=b_c.shape[0] > 0,
        bias_k=b_k.shape[0] > 0,
        bias_phi=has_fg and b_phi.shape[0] > 0,
        S=int(S),
        C=int(W_in.shape[0]),
        n_in=int(inputs.shape[2]),
        n_out=int(W_k.shape[0]),
        n_z=int(W_c.shape[1]),
        n_src=int(W_k.shape[1]),
    )


def lstm_chunk(
    w,
    weights,
    data,
    S,
    n_act,
    conn_f,
    g_kind,
    h_kind,
    lr,
    learn,
    per_step,
    outputs,
    y0,
    gate_rec,
    epoch,
    pos0,
    deltas,
    linear=False,
    softmax=False,
    out_in=None,
    resets=None,
    halt=0.0,
    decay=1.0,
    decay_traces=True,
    lr_decay=(1.0, 1, 0),
    stops=None,
):
    """Run (and, if ``learn``, train) the net over every sequence of the chunk; return (status, n_done).

    ``weights`` = (W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k, W_phi, b_phi, P_in, P_phi, P_out), the named
    views of ``w``; ``deltas``, arrays shaped like them in the same order (the weights themselves when
    ``per_step``, else the summed changes); ``data`` = (inputs, active, targets, mask, lengths).

    The flags (``conn_f``, ``g_kind``, ``h_kind``, ``learn``, ``per_step``, ``gate_rec``, ``linear`` (linear output
    units instead of logistic ones), and what the arrays' sizes say: one-hot inputs, output and forget gates,
    peepholes, which layers have biases) pick the kernel compiled for them (:func:`kernel`); the rest is passed on.
    ``active`` [n, L] (or shape (0, 0) for dense inputs) gives the index of the one hot input unit at each step (-1:
    none). With it, sums and traces skip the zero inputs; the results are bit-identical to the dense computation,
    because the skipped terms are exact zeros. Only the first ``n_act`` blocks exist (sequential construction,
    §1.8): the others output 0, and their weights neither act nor change. ``outputs`` [n, L, n_out] receives y_k of
    every step of the sequences done (and of the one that went non-finite, up to that point); the rest is left
    untouched.

    Options beyond the 1997 net (keywords; each default leaves the 1997 computation and its bits alone):
    ``softmax`` output units (y = softmax(net), e_k = t_k - y_k: the gradient of the cross-entropy); ``out_in``
    (default: connectivity B) whether the output units also see the inputs; ``resets`` bool [n, L] (or None):
    before each marked step (t > 0) states, traces and previous activations are reset as at a sequence start;
    ``halt`` > 0: a sequence stops right after (and training on) its first target step where some output is
    off its target by ``halt`` or more, and its later outputs are not computed (left as given); ``decay`` != 1:
    state decay s(t) = decay s(t-1) + y_in g (traces times decay, unless not ``decay_traces``); ``lr_decay`` =
    (factor, every, pos): lr is multiplied by factor after every ``every`` training sequences, ``pos`` of them
    done before this chunk;
    ``stops`` int64 [n] (or None) receives the steps each sequence ran (its length unless it halted).
    """
    W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k, W_phi, b_phi, P_in, P_phi, P_out = weights
    inputs, active, lengths = data[0], data[1], data[4]
    if resets is None:
        resets = _NO_RESETS
    if stops is None:
        stops = np.zeros(lengths.shape[0], dtype=np.int64)
    fl = Flags(
        sparse=active.shape[0] > 0,
        conn_f=bool(conn_f),
        gate_rec=bool(gate_rec),
        g2=g_kind == G2,
        h1=h_kind == H1,
        linear=bool(linear),
        softmax=bool(softmax),
        learn=bool(learn),
        per_step=bool(per_step),
        out_in=(not conn_f) if out_in is None else bool(out_in),
        decay=decay != 1.0,
        decay_traces=decay != 1.0 and bool(decay_traces),
        halt=halt > 0.0,
        ext_reset=resets.shape[0] > 0,
        **net_flags(weights, inputs, S),
    )
    n_steps = int(lengths.sum())
    done = _steps.get(fl, 0)
    _steps[fl] = done + n_steps
    special = SPECIALISE_AFTER >= 0 and done + n_steps > SPECIALISE_AFTER
    data = (*data, resets)
    opts = (float(halt), float(decay), float(lr_decay[0]), int(lr_decay[1]), int(lr_decay[2]), agrees_with_libm())
    chunk = kernel(fl if special else None)
    return chunk(fl, w, weights, data, n_act, lr, outputs, y0, epoch, pos0, deltas, opts, stops)

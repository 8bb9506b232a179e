"""numba kernels of the GRU (Cho et al. 2014; see :mod:`.gru`): forward pass, full BPTT, optimiser step.

One call trains a whole chunk of sequences online: per sequence a forward pass storing the activations, a
backward pass through time over the whole sequence (from its last target step down to step 0) summing the
gradient, and one optimiser step. The forward step :func:`step` is the same code as ``predict``'s, so the
outputs agree bit for bit. Hidden units j = 0..H-1; gate blocks of the weight matrices in PyTorch's order
r, z, n (row g*H + j of ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh`` belongs to gate g in (r, z, n) of unit j).

======================  ==================  ===========================================================
symbol (PyTorch nn.GRU)  here                meaning
======================  ==================  ===========================================================
x(t)                    x[m]                the step's inputs (one-hot: only column ``hot``; -1: none)
h(t-1)                  h_prev[j]           the previous hidden state (0 at a sequence start)
W_ir, W_iz, W_in        W_ih[g*H + j, m]    input weights of gate g
W_hr, W_hz, W_hn        W_hh[g*H + j, k]    recurrent weights of gate g
b_ir, b_iz, b_in        b_ih[g*H + j]       input-side biases
b_hr, b_hz, b_hn        b_hh[g*H + j]       recurrent-side biases
r(t), z(t)              r[j], z[j]          reset and update gates, logistic
c(t)                    c[j]                n's recurrent term: W_hn h(t-1) + b_hn (``reset_after``) or
                                            W_hn (r ⊙ h(t-1)) + b_hn (Cho's original)
n(t)                    n[j]                candidate state, tanh(W_in x + b_in + r ⊙ c) or tanh(... + c)
h(t)                    h[j]                (1 - z) ⊙ n + z ⊙ h(t-1)
y_k(t)                  y[k]                output units: logistic (or linear) of W_o h(t) + b_o
e_k = t_k - y_k         (inline)            -1/2 dE/dy_k at a target step (no factor 2, as the LSTM's e_k)
-1/2 dE/dh_j(t)         e_h[j]              output errors of step t plus ``carry`` from step t + 1
-1/2 dE/dh_j(t-1)       carry[j]            what step t sends back through z, the gates and c
-1/2 dE/dnet            d_i[g*H + j]        error at the net input of gate g: multiplies x and b_ih
                        d_h[g*H + j]        ... the error that multiplies h(t-1) (W_hh) and b_hh: d_i's for
                                            r and z; for n, d_n ⊙ r (``reset_after``) or d_n
-1/2 dE/d(r ⊙ h)_j      e_q[j]              sum_m W_hn[m, j] d_h[2H + m]
g_w                     gW_ih ... gb_o      -1/2 dE/dw summed over the sequence (views of the flat ``g``)
======================  ==================  ===========================================================

Backward pass of one step s (h_p = h(s-1)): d_n = e_h (1 - z) (1 - n^2); d_z = e_h (h_p - n) z (1 - z);
e_q = W_hn^T d_h[n-block]; d_r = (c d_n if ``reset_after`` else e_q h_p) r (1 - r); carry = e_h z +
W_hr^T d_r + W_hz^T d_z + (e_q if ``reset_after`` else e_q r).

Optimiser step (:func:`_update`) on the flat vectors, with g = -1/2 dE/dw of the sequence:

* SGD: w += lr g.
* Adam (Kingma & Ba 2015, Algorithm 1): t += 1; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
  w += lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
* RMSProp (Tieleman & Hinton 2012): v = rho v + (1 - rho) g^2; w += lr g / (sqrt(v) + eps).

A sequence without a target step changes nothing (no step, t unchanged). A non-finite hidden state, output,
weight or optimiser moment at a sequence end stops the chunk with status NONFINITE (1).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import finite, njit

SGD = 0
ADAM = 1
RMSPROP = 2


#: ``linear`` = SOFTMAX: softmax output units trained on the cross-entropy (d_o = t - y, -dCE/dnet).
SOFTMAX = 2


@njit(inline="always")
def _sigmoid(a):
    return 1.0 / (1.0 + math.exp(-a))


@njit
def step(W_ih, W_hh, b_ih, b_hh, x, hot, sparse, h_prev, reset_after, r, z, n, c, h):
    """One time step: fill r, z, n, c and the new state ``h`` (length H) from ``x`` and ``h_prev``."""
    H = h.shape[0]
    n_in = W_ih.shape[1]
    for row in range(2 * H):  # r and z
        a = b_ih[row]
        if sparse:
            if hot >= 0:
                a += W_ih[row, hot]
        else:
            for m in range(n_in):
                a += W_ih[row, m] * x[m]
        a += b_hh[row]
        for k in range(H):
            a += W_hh[row, k] * h_prev[k]
        if row < H:
            r[row] = _sigmoid(a)
        else:
            z[row - H] = _sigmoid(a)
    for j in range(H):
        row = 2 * H + j
        a = b_ih[row]
        if sparse:
            if hot >= 0:
                a += W_ih[row, hot]
        else:
            for m in range(n_in):
                a += W_ih[row, m] * x[m]
        cj = b_hh[row]
        if reset_after:
            for k in range(H):
                cj += W_hh[row, k] * h_prev[k]
            a += r[j] * cj
        else:
            for k in range(H):
                cj += W_hh[row, k] * (r[k] * h_prev[k])
            a += cj
        c[j] = cj
        n[j] = math.tanh(a)
        h[j] = (1.0 - z[j]) * n[j] + z[j] * h_prev[j]


@njit
def output(W_o, b_o, h, linear, y):
    """The output units: y = W_o h + b_o, squashed by the logistic function (``linear`` 0, or False), left as it
    is (1, True) or a softmax over the units (``SOFTMAX``, 2: exp(a - max) / sum)."""
    K = b_o.shape[0]
    H = h.shape[0]
    for k in range(K):
        a = b_o[k]
        for j in range(H):
            a += W_o[k, j] * h[j]
        y[k] = a if linear else _sigmoid(a)
    if linear == SOFTMAX:
        top = y[0]
        for k in range(1, K):
            if y[k] > top:
                top = y[k]
        total = 0.0
        for k in range(K):
            y[k] = math.exp(y[k] - top)
            total += y[k]
        for k in range(K):
            y[k] = y[k] / total


@njit
def gru_forward_chunk(W_ih, W_hh, b_ih, b_hh, W_o, b_o, inputs, active, lengths, reset_after, linear, outputs):
    """Outputs of the net over every sequence of the chunk (weights unchanged); return (status, n_done).

    A non-finite hidden state stops the chunk with status NONFINITE (1) at sequence ``n_done``.
    """
    n = lengths.shape[0]
    H = b_ih.shape[0] // 3
    sparse = active.shape[0] > 0
    h_prev = np.zeros(H)
    h = np.zeros(H)
    r = np.zeros(H)
    z = np.zeros(H)
    nn = np.zeros(H)
    c = np.zeros(H)
    for i in range(n):
        for j in range(H):
            h_prev[j] = 0.0
        for t in range(lengths[i]):
            hot = active[i, t] if sparse else -1
            step(W_ih, W_hh, b_ih, b_hh, inputs[i, t], hot, sparse, h_prev, reset_after, r, z, nn, c, h)
            output(W_o, b_o, h, linear, outputs[i, t])
            if not finite(h):
                return 1, i
            for j in range(H):
                h_prev[j] = h[j]
    return 0, n


@njit
def _backward(
    W_ih, W_hh, W_o, gW_ih, gW_hh, gb_ih, gb_hh, gW_o, gb_o, inputs, active, sparse, targets, mask, outputs, i,
    last, hs, rs, zs, ns, cs, reset_after, linear, e_h, carry, e_q, d_i, d_h, d_o,
):  # fmt: skip
    """Add -1/2 dE/dw of sequence i (E summed over its target steps 0..last) to the g-views, by BPTT."""
    H = hs.shape[1]
    K = d_o.shape[0]
    n_in = W_ih.shape[1]
    for j in range(H):
        carry[j] = 0.0
    for s in range(last, -1, -1):
        h = hs[s + 1]
        h_p = hs[s]
        for j in range(H):
            e_h[j] = carry[j]
        if mask[i, s]:
            for k in range(K):
                y = outputs[i, s, k]
                e = targets[i, s, k] - y
                d_o[k] = e if linear else e * y * (1.0 - y)  # linear + E, softmax + CE: t - y
                gb_o[k] += d_o[k]
                for j in range(H):
                    gW_o[k, j] += d_o[k] * h[j]
                    e_h[j] += W_o[k, j] * d_o[k]
        for j in range(H):
            z = zs[s, j]
            nj = ns[s, j]
            d_n = e_h[j] * (1.0 - z) * (1.0 - nj * nj)
            d_i[H + j] = e_h[j] * (h_p[j] - nj) * z * (1.0 - z)
            d_h[H + j] = d_i[H + j]
            d_i[2 * H + j] = d_n
            d_h[2 * H + j] = d_n * rs[s, j] if reset_after else d_n
        for k in range(H):
            a = 0.0
            for m in range(H):
                a += W_hh[2 * H + m, k] * d_h[2 * H + m]
            e_q[k] = a
        for j in range(H):
            r = rs[s, j]
            d_r = (cs[s, j] * d_i[2 * H + j] if reset_after else e_q[j] * h_p[j]) * r * (1.0 - r)
            d_i[j] = d_r
            d_h[j] = d_r
        # the gradient of this step's weights
        for row in range(3 * H):
            gb_ih[row] += d_i[row]
            gb_hh[row] += d_h[row]
            if not sparse:
                for m in range(n_in):
                    gW_ih[row, m] += d_i[row] * inputs[i, s, m]
            if row < 2 * H or reset_after:
                for k in range(H):
                    gW_hh[row, k] += d_h[row] * h_p[k]
            else:
                for k in range(H):
                    gW_hh[row, k] += d_h[row] * (rs[s, k] * h_p[k])
        if sparse:
            hot = active[i, s]
            if hot >= 0:
                for row in range(3 * H):
                    gW_ih[row, hot] += d_i[row]
        # the error sent to h(s-1) (at s = 0, h(-1) = 0 is a constant)
        if s > 0:
            for k in range(H):
                a = e_h[k] * zs[s, k]
                for row in range(2 * H):
                    a += W_hh[row, k] * d_h[row]
                carry[k] = a + (e_q[k] if reset_after else e_q[k] * rs[s, k])


@njit
def _update(w, g, m, v, t, optimizer, lr, beta1, beta2, rho, eps):
    """One optimiser step with g = -1/2 dE/dw (see the module docstring); return the new step count t."""
    N = w.shape[0]
    if optimizer == SGD:
        for q in range(N):
            w[q] += lr * g[q]
        return t
    if optimizer == ADAM:
        t += 1
        c1 = 1.0 - beta1**t
        c2 = 1.0 - beta2**t
        for q in range(N):
            m[q] = beta1 * m[q] + (1.0 - beta1) * g[q]
            v[q] = beta2 * v[q] + (1.0 - beta2) * (g[q] * g[q])
            w[q] += lr * (m[q] / c1) / (math.sqrt(v[q] / c2) + eps)
        return t
    for q in range(N):  # RMSPROP
        v[q] = rho * v[q] + (1.0 - rho) * (g[q] * g[q])
        w[q] += lr * g[q] / (math.sqrt(v[q]) + eps)
    return t


@njit
def gru_chunk(
    w, W_ih, W_hh, b_ih, b_hh, W_o, b_o, g, gW_ih, gW_hh, gb_ih, gb_hh, gW_o, gb_o, m, v, t, inputs, active,
    targets, mask, lengths, reset_after, linear, optimizer, lr, beta1, beta2, rho, eps, outputs,
):  # fmt: skip
    """Train online on every sequence of the chunk: forward, full BPTT, one optimiser step per sequence.

    ``w`` is the flat weight vector of which W_ih .. b_o are views, ``g`` the gradient buffer of which gW_ih ..
    gb_o are views; ``m``, ``v`` the optimiser's moments (changed in place; unused by SGD), ``t`` its step
    count. Return (status, n_done, t). ``outputs`` [n, L, K] receives y(t) of every step.
    """
    n = lengths.shape[0]
    L = inputs.shape[1]
    H = b_ih.shape[0] // 3
    K = b_o.shape[0]
    sparse = active.shape[0] > 0
    hs = np.zeros((L + 1, H))
    rs = np.zeros((max(L, 1), H))
    zs = np.zeros((max(L, 1), H))
    ns = np.zeros((max(L, 1), H))
    cs = np.zeros((max(L, 1), H))
    e_h = np.zeros(H)
    carry = np.zeros(H)
    e_q = np.zeros(H)
    d_i = np.zeros(3 * H)
    d_h = np.zeros(3 * H)
    d_o = np.zeros(K)
    for i in range(n):
        T = lengths[i]
        last = -1
        for t_ in range(T):
            hot = active[i, t_] if sparse else -1
            step(
                W_ih, W_hh, b_ih, b_hh, inputs[i, t_], hot, sparse, hs[t_], reset_after, rs[t_], zs[t_], ns[t_],
                cs[t_], hs[t_ + 1],
            )  # fmt: skip
            output(W_o, b_o, hs[t_ + 1], linear, outputs[i, t_])
            if mask[i, t_]:
                last = t_
        if last >= 0:
            for q in range(g.shape[0]):
                g[q] = 0.0
            _backward(
                W_ih, W_hh, W_o, gW_ih, gW_hh, gb_ih, gb_hh, gW_o, gb_o, inputs, active, sparse, targets, mask,
                outputs, i, last, hs, rs, zs, ns, cs, reset_after, linear, e_h, carry, e_q, d_i, d_h, d_o,
            )  # fmt: skip
            t = _update(w, g, m, v, t, optimizer, lr, beta1, beta2, rho, eps)
        # a diverging run is reported, never propagated silently
        ok = finite(w) and finite(m) and finite(v)
        for s in range(T):
            ok = ok and finite(hs[s + 1]) and finite(outputs[i, s])
        if not ok:
            return 1, i, t
    return 0, n, t

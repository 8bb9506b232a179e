"""numba kernel of Schmidhuber's two-net neural sequence chunker (PAPER.md §2 "CH", §11.5; the model is
:mod:`.chunker`). One call trains (or runs) the automatizer A and the chunker C over a whole chunk of sequences.

Both nets have the layout of the Exp 2a RTRL net (``layered``, recurrence ``self``, skip connections, no bias,
logistic units): H hidden units, each seeing the inputs and its own previous value; O output units seeing the
inputs and the hidden units (of the same step, or with ``prev_timing`` of the previous one, Williams & Zipser's
synchronous timing). A has O = K + Q outputs: the K task outputs, then Q = H_C units predicting C's hidden
units. C has O = K outputs and, besides the inputs, n_t time-code inputs (``time_code``) that its hidden and
output units see. A net is the tuple of its weight views (Wh, Wht, ws, Wo, Wot, Woh) below.

Glossary (Schmidhuber 1992, "Learning complex, extended sequences using the principle of history compression",
§"Details of the 2-net chunking architecture"; PAPER.md §11.5):

========================  =================  ===============================================================
paper symbol              here               meaning
========================  =================  ===============================================================
x(t)                      x / hot            the step's input (one-hot: only ``hot``, -1: none)
time(t)                   tc                 C's time code of step t (binary or one-hot; n_t = 0: none)
h_A(t), h_C(s)            hA, hC             hidden activations (C's only change at its own steps s)
d_A(t)                    yA[:K]             A's outputs for the task's target d(t): the model's outputs
q_A(t)                    yA[K:]             A's prediction of C's hidden state h_C (its latest value)
d_C(s)                    yC                 C's prediction of the target A failed to emit
Wh[j, i], Wht[j, m]       Wh, Wht            hidden unit j from input i, from time-code unit m
ws[j]                     ws                 hidden unit j's self-recurrent weight
Wo, Wot, Woh              Wo, Wot, Woh       output unit k from the inputs, the time code, the hidden units
p_j(t) = dh_j(t)/dw       Px, Pt, Ps         RTRL sensitivities of hidden unit j to its own weights (a
                                             self-recurrent unit depends on no other unit's weights)
e_k                       err                target - output (0 for outputs without a target)
delta_k                   delta              f'(net_k) e_k = y_k (1 - y_k) e_k
c_j                       c                  sum_k delta_k Woh[k, j]: the error reaching the hidden value the
                                             outputs saw (h(t), or h(t-1) with ``prev_timing``)
========================  =================  ===============================================================

One step t of a sequence (``train``):

1. A's forward pass from x(t) and h_A(t-1): h_A(t), d_A(t), q_A(t).
2. *A failed* when the step has a target and ``fail_abs``: some |d_k(t) - d_A,k(t)| >= ``fail_threshold``
   (the complement of the ABS test); otherwise (winner test): argmax d_A(t) != argmax d(t).
3. C is consulted at t = 0 (the start of a sequence is not predictable and always goes to C) and whenever A
   failed: C's step s processes x(t) and time(t) from h_C(s-1) (h_C(s), d_C(s)); if A failed, C is trained
   to make d_C(s) equal d(t) (the target A failed to emit). Between its steps C's state stays as it is.
4. A is trained towards d(t) on its task outputs (if the step has a target) and towards C's current hidden
   state h_C on its Q extra outputs (at every step).

Learning (per net, ``rtrl_a`` / ``rtrl_c``): the output weights get their exact gradient; the error c_j
reaching a hidden unit is carried into its weights by RTRL, Delta w = lr c_j p_j,w (p of the hidden value the
outputs saw, p = f'(net_j(t)) [source(t) + ws[j] p(t-1)], 0 at every sequence start), or by truncated BPTT
over the ``truncate`` most recent steps *of that net* (0: all of them), the activations of the past steps as
they were computed. With ``per_step`` every change is applied at once (real-time, as Williams & Zipser's RTRL:
the carried p is kept; BPTT's backward pass uses ws as it was before the step's change); otherwise changes are
summed over the sequence (in ``dA``/``dC``) and applied at its end: then RTRL and untruncated BPTT both give
the exact gradient of A's error (given C's states) and of C's error (given its steps). Every change is
lr * (-1/2) d(sum of squared errors)/dw (PAPER.md §1.5).

Without ``train`` only step 1 runs (A alone: C only teaches, the task's outputs are A's). The outputs stored
are A's task outputs of step 1, before the step's changes. One-hot inputs skip exact zeros: the results are
bit-identical to dense inputs. A non-finite activation or weight stops the chunk with status NONFINITE.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import finite, njit
from ._rnn_kernels import LOGISTIC, squash
from ._vexp import exp_neg_row

#: time_code values
TIME_NONE = 0
TIME_BINARY = 1
TIME_ONEHOT = 2


@njit
def _forward(net, x, hot, sparse, tc, h_prev, prev_timing, h, y, a, ex, vexp):
    """One step of a net: h (H) and y (O) from the input, the time code and h_prev. The output units' net
    inputs go to ``a`` [1, O] and exp(-a) to ``ex`` (:func:`._vexp.exp_neg`: with ``vexp`` SIMD loops that give
    ``math.exp``'s bits), so y_k = 1 / (1 + exp(-a_k)) is :func:`squash`'s logistic, bit for bit."""
    Wh, Wht, ws, Wo, Wot, Woh = net
    H = ws.shape[0]
    O = Woh.shape[0]
    for j in range(H):
        h[j] = squash(_plus_inputs(ws[j] * h_prev[j], Wh, Wht, j, x, hot, sparse, tc), LOGISTIC)
    src = h_prev if prev_timing else h
    if sparse and tc.shape[0] == 0:  # the common case, without the branches of the others in its loop
        for k in range(O):
            v = 0.0
            if hot >= 0:
                v += Wo[k, hot]
            for j in range(H):
                v += Woh[k, j] * src[j]
            a[0, k] = v
    else:
        for k in range(O):
            v = _plus_inputs(0.0, Wo, Wot, k, x, hot, sparse, tc)
            for j in range(H):
                v += Woh[k, j] * src[j]
            a[0, k] = v
    exp_neg_row(a, ex, O, vexp)
    for k in range(O):
        y[k] = 1.0 / (1.0 + ex[0, k])


@njit(inline="always")
def _plus_inputs(a, W, Wt, r, x, hot, sparse, tc):
    """a + row r's input terms (W [., n_x]: the hot column with one-hot inputs) + its time-code terms (Wt)."""
    if sparse:
        if hot >= 0:
            a += W[r, hot]
    else:
        for i in range(W.shape[1]):
            a += W[r, i] * x[i]
    for m in range(tc.shape[0]):
        a += Wt[r, m] * tc[m]
    return a


@njit
def _sensitivities(ws, x, hot, sparse, tc, h_prev, h, P, P_prev):
    """RTRL: p(t) of every hidden unit from p(t-1). ``P`` = (Px [H, n_x], Pt [H, n_t], Ps [H])."""
    Px, Pt, Ps = P
    Qx, Qt, Qs = P_prev
    for j in range(ws.shape[0]):
        fp = h[j] * (1.0 - h[j])
        w = ws[j]
        if sparse:
            for i in range(Px.shape[1]):
                Px[j, i] = fp * (w * Qx[j, i])
            if hot >= 0:
                Px[j, hot] = fp * (1.0 + w * Qx[j, hot])
        else:
            for i in range(Px.shape[1]):
                Px[j, i] = fp * (x[i] + w * Qx[j, i])
        for m in range(Pt.shape[1]):
            Pt[j, m] = fp * (tc[m] + w * Qt[j, m])
        Ps[j] = fp * (h_prev[j] + w * Qs[j])


@njit
def _zero_sens(P):
    Px, Pt, Ps = P
    Px[:, :] = 0.0
    Pt[:, :] = 0.0
    Ps[:] = 0.0


@njit
def _output_grad(net, dst, y, err, x, hot, sparse, tc, src_h, lr, delta, c):
    """Deltas of the output units, c_j (with the weights before any change), then the output weights' change."""
    Wh, Wht, ws, Wo, Wot, Woh = net
    dWh, dWht, dws, dWo, dWot, dWoh = dst
    H = ws.shape[0]
    n_x = Wo.shape[1]
    for j in range(H):
        c[j] = 0.0
    for k in range(Woh.shape[0]):
        delta[k] = y[k] * (1.0 - y[k]) * err[k]
        for j in range(H):
            c[j] += delta[k] * Woh[k, j]
    for k in range(Woh.shape[0]):
        d = lr * delta[k]
        if sparse:
            if hot >= 0:
                dWo[k, hot] += d
        else:
            for i in range(n_x):
                dWo[k, i] += d * x[i]
        for m in range(tc.shape[0]):
            dWot[k, m] += d * tc[m]
        for j in range(H):
            dWoh[k, j] += d * src_h[j]


@njit
def _hidden_grad_rtrl(dst, c, lr, P):
    """Delta w = lr c_j p_j,w for every weight of every hidden unit j."""
    dWh, dWht, dws, dWo, dWot, dWoh = dst
    Px, Pt, Ps = P
    for j in range(c.shape[0]):
        if c[j] == 0.0:
            continue
        d = lr * c[j]
        for i in range(Px.shape[1]):
            dWh[j, i] += d * Px[j, i]
        for m in range(Pt.shape[1]):
            dWht[j, m] += d * Pt[j, m]
        dws[j] += d * Ps[j]


@njit
def _push(hist, s, x, hot, sparse, tc, h):
    """Store step s of a net (its input, time code and hidden values) in the ring buffers ``hist``."""
    h_hot, h_x, h_tc, h_h = hist
    r = s % h_h.shape[0]
    h_hot[r] = hot
    if not sparse:
        for i in range(x.shape[0]):
            h_x[r, i] = x[i]
    for m in range(tc.shape[0]):
        h_tc[r, m] = tc[m]
    for j in range(h.shape[0]):
        h_h[r, j] = h[j]


@njit
def _hidden_grad_bptt(ws, dst, c, lr, hist, s0, truncate, sparse):
    """Truncated BPTT into the hidden units' weights: c_j enters h_j(s0) and flows back through the self
    connection over the steps max(0, s0 - truncate + 1) .. s0 (all down to 0 if ``truncate`` is 0)."""
    dWh, dWht, dws, dWo, dWot, dWoh = dst
    h_hot, h_x, h_tc, h_h = hist
    R = h_h.shape[0]
    lo = max(0, s0 - truncate + 1) if truncate > 0 else 0
    for j in range(c.shape[0]):
        if c[j] == 0.0:
            continue
        w = ws[j]
        g = c[j]
        for s in range(s0, lo - 1, -1):
            r = s % R
            hj = h_h[r, j]
            g = g * (hj * (1.0 - hj))
            d = lr * g
            if sparse:
                if h_hot[r] >= 0:
                    dWh[j, h_hot[r]] += d
            else:
                for i in range(h_x.shape[1]):
                    dWh[j, i] += d * h_x[r, i]
            for m in range(h_tc.shape[1]):
                dWht[j, m] += d * h_tc[r, m]
            hp = h_h[(s - 1) % R, j] if s > 0 else 0.0
            dws[j] += d * hp
            g = g * w


@njit
def _time_code(t, kind, tc):
    for m in range(tc.shape[0]):
        tc[m] = 0.0
    if kind == TIME_BINARY:
        for m in range(tc.shape[0]):
            tc[m] = float((t >> m) & 1)
    elif kind == TIME_ONEHOT and tc.shape[0] > 0:
        tc[t % tc.shape[0]] = 1.0


@njit
def _failed(y, d, fail_abs, threshold):
    """Whether A failed on target d with outputs y[:K] (K = d's length)."""
    K = d.shape[0]
    if fail_abs:
        for k in range(K):
            if abs(d[k] - y[k]) >= threshold:
                return True
        return False
    best_y, best_d = 0, 0
    for k in range(1, K):
        if y[k] > y[best_y]:
            best_y = k
        if d[k] > d[best_d]:
            best_d = k
    return best_y != best_d


@njit
def _apply(w, dw):
    for j in range(w.shape[0]):
        w[j] += dw[j]
        dw[j] = 0.0


@njit
def chunker_chunk(
    wA,
    A,
    dwA,
    dA,
    wC,
    C,
    dwC,
    dC,
    inputs,
    active,
    targets,
    mask,
    lengths,
    prev_timing,
    rtrl_a,
    rtrl_c,
    truncate,
    per_step,
    fail_abs,
    fail_threshold,
    time_code,
    lr,
    train,
    outputs,
    vexp,
):
    """Train (``train``) or run A and C over every sequence of the chunk; return (status, n_done).

    ``wA``/``wC`` are the flat weight vectors and ``A``/``C`` the tuples of their views (Wh, Wht, ws, Wo, Wot,
    Woh); ``dwA``/``dA``, ``dwC``/``dC`` the same for the per-sequence sums (used unless ``per_step``).
    ``active`` [n, L] (shape (0, 0) for dense inputs) is the hot input's index per step. ``truncate``: BPTT
    depth (steps of the net's own; 0: untruncated) for a net not trained by RTRL. ``outputs`` [n, L, K]
    receives A's task outputs. ``vexp``: the output units' exp by :func:`._vexp.exp_neg`'s SIMD path (only where
    :func:`._vexp.agrees_with_libm`; the same bits either way).
    """
    n = lengths.shape[0]
    K = outputs.shape[2]
    L = inputs.shape[1]
    n_in = inputs.shape[2]
    sparse = active.shape[0] > 0
    HA = A[2].shape[0]
    OA = A[5].shape[0]
    HC = C[2].shape[0]
    n_t = C[1].shape[1]
    hA, hA_prev, yA = np.zeros(HA), np.zeros(HA), np.zeros(OA)
    hC, hC_prev, yC = np.zeros(HC), np.zeros(HC), np.zeros(K)
    aA, exA = np.zeros((1, OA)), np.zeros((1, OA))
    aC, exC = np.zeros((1, K)), np.zeros((1, K))
    errA, deltaA, cA = np.zeros(OA), np.zeros(OA), np.zeros(HA)
    errC, deltaC, cC = np.zeros(K), np.zeros(K), np.zeros(HC)
    no_tc = np.zeros(0)
    tc = np.zeros(n_t)
    x_dummy = np.zeros(n_in)
    # RTRL sensitivities (current, previous) and BPTT histories, for each net
    PA = (np.zeros((HA, n_in)), np.zeros((HA, 0)), np.zeros(HA))
    PA_prev = (np.zeros((HA, n_in)), np.zeros((HA, 0)), np.zeros(HA))
    PC = (np.zeros((HC, n_in)), np.zeros((HC, n_t)), np.zeros(HC))
    PC_prev = (np.zeros((HC, n_in)), np.zeros((HC, n_t)), np.zeros(HC))
    R = (truncate if truncate > 0 else L) + 2  # the window, the value before it, and the current step
    n_xh = 0 if sparse else n_in
    histA = (np.zeros(R, dtype=np.int64), np.zeros((R, n_xh)), np.zeros((R, 0)), np.zeros((R, HA)))
    histC = (np.zeros(R, dtype=np.int64), np.zeros((R, n_xh)), np.zeros((R, n_t)), np.zeros((R, HC)))
    dstA = A if per_step else dA
    dstC = C if per_step else dC

    for i in range(n):
        hA_prev[:] = 0.0
        hC_prev[:] = 0.0
        _zero_sens(PA)
        _zero_sens(PA_prev)
        _zero_sens(PC)
        _zero_sens(PC_prev)
        sC = 0  # C's steps in this sequence
        for t in range(lengths[i]):
            hot = active[i, t] if sparse else -1
            x = x_dummy if sparse else inputs[i, t]
            _forward(A, x, hot, sparse, no_tc, hA_prev, prev_timing, hA, yA, aA, exA, vexp)
            for k in range(K):
                outputs[i, t, k] = yA[k]
            if not train:
                hA_prev[:] = hA
                continue
            if rtrl_a:
                _sensitivities(A[2], x, hot, sparse, no_tc, hA_prev, hA, PA, PA_prev)
            else:
                _push(histA, t, x, hot, sparse, no_tc, hA)
            failed = mask[i, t] and _failed(yA, targets[i, t], fail_abs, fail_threshold)
            if t == 0 or failed:
                # C's step: it processes the unpredicted step, and learns the target A failed to emit
                _time_code(t, time_code, tc)
                _forward(C, x, hot, sparse, tc, hC_prev, prev_timing, hC, yC, aC, exC, vexp)
                if rtrl_c:
                    _sensitivities(C[2], x, hot, sparse, tc, hC_prev, hC, PC, PC_prev)
                else:
                    _push(histC, sC, x, hot, sparse, tc, hC)
                if failed:
                    for k in range(K):
                        errC[k] = targets[i, t, k] - yC[k]
                    _output_grad(C, dstC, yC, errC, x, hot, sparse, tc, hC_prev if prev_timing else hC, lr, deltaC, cC)
                    if rtrl_c:
                        _hidden_grad_rtrl(dstC, cC, lr, PC_prev if prev_timing else PC)
                    elif not prev_timing or sC > 0:
                        _hidden_grad_bptt(C[2], dstC, cC, lr, histC, sC - 1 if prev_timing else sC, truncate, sparse)
                hC_prev[:] = hC
                PC, PC_prev = PC_prev, PC
                sC += 1
            # A learns the task's target and C's current state
            for k in range(K):
                errA[k] = targets[i, t, k] - yA[k] if mask[i, t] else 0.0
            for j in range(OA - K):
                errA[K + j] = hC_prev[j] - yA[K + j]
            _output_grad(A, dstA, yA, errA, x, hot, sparse, no_tc, hA_prev if prev_timing else hA, lr, deltaA, cA)
            if rtrl_a:
                _hidden_grad_rtrl(dstA, cA, lr, PA_prev if prev_timing else PA)
            elif not prev_timing or t > 0:
                _hidden_grad_bptt(A[2], dstA, cA, lr, histA, t - 1 if prev_timing else t, truncate, sparse)
            hA_prev[:] = hA
            PA, PA_prev = PA_prev, PA
        if train and not per_step:
            _apply(wA, dwA)
            _apply(wC, dwC)
        # a diverging run is reported, never propagated silently
        for j in range(HA):
            if not math.isfinite(hA_prev[j]):
                return 1, i
        for j in range(HC):
            if not math.isfinite(hC_prev[j]):
                return 1, i
        if train and not (finite(wA) and finite(wC)):
            return 1, i
    return 0, n

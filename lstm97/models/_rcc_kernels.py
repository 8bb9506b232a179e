"""numba kernels of Recurrent Cascade-Correlation (Fahlman 1991; PAPER.md §2 "RCC", §11.5). API: :mod:`.rcc`.

One call of :func:`rcc_chunk` trains a whole chunk of sequences; epochs (``epoch`` consecutive training
sequences) may begin and end anywhere inside a chunk, because everything carried from one sequence to the
next lives in the arrays passed in (the model's ``TrainState``). Glossary:

=========================  ====================  ===========================================================
Fahlman / PAPER.md          here                  meaning
=========================  ====================  ===========================================================
bias, I_i(t)                z[t, 0], z[t, 1+i]    the bias unit (1) and the inputs x_i(t)
V_k(t)                      z[t, 1+n_in+k]        installed hidden unit k (frozen); sees z[t, :1+n_in+k] and
                                                  its own V_k(t-1) (0 at a sequence start)
w_kj, w_s                   W_h[k, j], w_self[k]  its frozen input and self-recurrent weights
y_o(t)                      y[t, o]               logistic output unit: sigma(sum_j W_o[o, j] z[t, j])
n_act                       na = 1+n_in+n_hid     the sources of the outputs (and of a candidate)
E_o(t)                      e[o]                  residual error (y_o - t_o)(f'(y_o) + offset), the output
                                                  error of Fahlman's Quickprop with his "sigmoid prime
                                                  offset"; offset 0 gives dE/dnet_o of E = 1/2 sum (y - t)^2
dE/dW_o (epoch sum)         acc_o[o, j]           sum_t E_o(t) z_j(t), Quickprop's "slope" of W_o
candidate c: w_j, w_s       cw[c, j], cw[c, M]    trainable input weights (j < na) and self weight (index M)
V(t), net                   v, s                  V(t) = f(sum_j w_j z_j(t) + w_s V(t-1)), V(-1) = 0
dV/dw_j(t), dV/dw_s(t)      dv[c, j], dv[c, M]    forward-mode slopes: f'(net)[z_j(t) + w_s dV/dw_j(t-1)],
                                                  f'(net)[V(t-1) + w_s dV/dw_s(t-1)]; 0 at a sequence start
sums over an epoch's steps  sv, sve, sdv, sedv,   sum V, sum V E_o, sum dV/dw_j, sum E_o dV/dw_j, sum E_o;
                            se, sums[2], sums[3]  sum_o E_o^2 and the number N of steps with a target
S (covariance score)        (cand_grad)           S = sum_o |sum_t (V(t) - Vbar)(E_o(t) - Ebar_o)|
                                                    = sum_o |sve[o] - sv se[o] / N|
dS/dw_j                     (cand_grad)           sum_o sign(cov_o) (sedv[o, j] - se[o] / N sdv[j]): exact
                                                  for the epoch (Vbar's own derivative drops out because
                                                  sum_t (E_o(t) - Ebar_o) = 0)
=========================  ====================  ===========================================================

Phases (``ints[PHASE]``): OUTPUT trains W_o by Quickprop, one step per epoch, on slope acc_o + decay w with
step size eps_o / N; CANDIDATES trains the pool by Quickprop on slope -dS/dw / sum E^2 (Fahlman's
normalisation), step size eps_c / (N na); DONE (unit limit reached and the outputs stalled) changes nothing.
A phase ends when its patience test (:func:`stalled`) says so or after its maximum of epochs; the end of a
candidate phase installs the candidate with the largest S of that epoch, with the weights it had in it,
and gives its output weights -cov_o / sum E^2 x ``install_w`` (Fahlman's cascor: minus the correlation).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import finite, njit
from .base import NONFINITE, OK

#: Phases (ints[PHASE]).
OUTPUT, CANDIDATES, DONE = 0, 1, 2
#: Unit activations of hidden units and candidates: logistic [0, 1] or Fahlman's symmetric [-0.5, 0.5].
LOGISTIC, SYMMETRIC = 0, 1
#: Entries of the int state: phase, installed units, sequences of the epoch done, epochs done in the phase,
#: the epoch at which the phase is stagnant unless its measure changes, epochs in all, the last best candidate.
PHASE, N_HID, POS, EP, QUIT, EPOCHS, BEST = range(7)
#: Entries of the float state: the patience test's reference value, sum (y - t)^2 over the epoch, sum E^2,
#: the number N of steps with a target, and the last candidate phase's best normalised score S / sum E^2.
LAST, ERR, SEE, NSTEPS, SCORE = range(5)


@njit
def act(s, kind):
    """f(net): logistic, minus 0.5 for the symmetric unit."""
    v = 1.0 / (1.0 + math.exp(-s))
    return v - 0.5 if kind == SYMMETRIC else v


@njit
def dact(v, kind):
    """f'(net) from f(net)."""
    return 0.25 - v * v if kind == SYMMETRIC else v * (1.0 - v)


@njit
def quickprop(w, d, s, p, eps, decay, mu):
    """One Quickprop step of one weight (Fahlman 1988, as in the CMU cascor codes): ``s`` is the epoch's
    slope dE/dw (to be minimised), ``p`` the previous slope, ``d`` the previous step. The decay term is added
    to the slope; after a step d != 0 the secant step d s / (p - s) is taken, or mu d where that would be more
    than mu times d or go the wrong way, plus the gradient term -eps s when -s has the sign of d; after d = 0
    only -eps s. Returns (new weight, step, slope as stored for the next call)."""
    s = s + decay * w
    shrink = mu / (1.0 + mu)
    step = 0.0
    if d < 0.0:
        if s > 0.0:
            step -= eps * s
        if s >= shrink * p:
            step += mu * d
        else:
            step += d * s / (p - s)
    elif d > 0.0:
        if s < 0.0:
            step -= eps * s
        if s <= shrink * p:
            step += mu * d
        else:
            step += d * s / (p - s)
    else:
        step -= eps * s
    return w + step, step, s


@njit
def stalled(value, ints, sums, patience, threshold):
    """The patience test of a phase after epoch ``ints[EP]`` (0 first) with measure ``value`` (the output
    phase's error, the candidates' best score): the phase is stagnant when the measure has not changed by more
    than ``threshold`` x its reference value for ``patience`` epochs (Fahlman's cascor)."""
    ep = ints[EP]
    if ep == 0:
        sums[LAST] = value
        ints[QUIT] = patience
        return False
    if abs(value - sums[LAST]) > sums[LAST] * threshold:
        sums[LAST] = value
        ints[QUIT] = ep + patience
        return False
    return ep >= ints[QUIT]


@njit
def forward(W_o, W_h, w_self, n_hid, kind, x, i, L, z, y):
    """The cascade over sequence i (L steps): z[t] = (1, x(t), V_1(t) .. V_h(t)), y[t] the outputs."""
    n_in = x.shape[2]
    K = W_o.shape[0]
    na = 1 + n_in + n_hid
    for t in range(L):
        z[t, 0] = 1.0
        for a in range(n_in):
            z[t, 1 + a] = x[i, t, a]
        for k in range(n_hid):
            c = 1 + n_in + k
            s = 0.0
            for j in range(c):
                s += W_h[k, j] * z[t, j]
            if t > 0:
                s += w_self[k] * z[t - 1, c]
            z[t, c] = act(s, kind)
        for o in range(K):
            s = 0.0
            for j in range(na):
                s += W_o[o, j] * z[t, j]
            y[t, o] = 1.0 / (1.0 + math.exp(-s))


@njit
def _errors(y, targets, i, t, offset, e):
    """E_o(t) into e; returns sum_o (y_o - t_o)^2."""
    sq = 0.0
    for o in range(e.shape[0]):
        v = y[t, o]
        dif = v - targets[i, t, o]
        e[o] = dif * (v * (1.0 - v) + offset)
        sq += dif * dif
    return sq


@njit
def candidates_sequence(z, y, targets, mask, i, L, na, cw, kind, offset, sv, sve, sdv, sedv, se, sums, dv, vp, e):
    """Run the pool over sequence i (the frozen net's z and y given) and add to the epoch's sums."""
    C, M1 = cw.shape
    M = M1 - 1
    K = e.shape[0]
    for c in range(C):
        vp[c] = 0.0
        for j in range(M1):
            dv[c, j] = 0.0
    for t in range(L):
        has = mask[i, t]
        if has:
            sums[ERR] += _errors(y, targets, i, t, offset, e)
            for o in range(K):
                se[o] += e[o]
                sums[SEE] += e[o] * e[o]
            sums[NSTEPS] += 1.0
        for c in range(C):
            ws = cw[c, M]
            s = ws * vp[c]
            for j in range(na):
                s += cw[c, j] * z[t, j]
            v = act(s, kind)
            fp = dact(v, kind)
            for j in range(na):
                dv[c, j] = fp * (z[t, j] + ws * dv[c, j])
            dv[c, M] = fp * (vp[c] + ws * dv[c, M])
            vp[c] = v
            if has:
                sv[c] += v
                for o in range(K):
                    sve[c, o] += v * e[o]
                for j in range(na):
                    sdv[c, j] += dv[c, j]
                    for o in range(K):
                        sedv[c, o, j] += e[o] * dv[c, j]
                sdv[c, M] += dv[c, M]
                for o in range(K):
                    sedv[c, o, M] += e[o] * dv[c, M]


@njit
def cand_score(sv, sve, se, n, c):
    """S of candidate c from the epoch's sums (n steps)."""
    S = 0.0
    for o in range(se.shape[0]):
        S += abs(sve[c, o] - sv[c] * se[o] / n)
    return S


@njit
def cand_grad(sv, sve, sdv, sedv, se, n, c, na, g):
    """dS/dw of candidate c into g (entries j < na and the self weight at g[M]; the rest 0)."""
    M = g.shape[0] - 1
    for j in range(M + 1):
        g[j] = 0.0
    for o in range(se.shape[0]):
        cov = sve[c, o] - sv[c] * se[o] / n
        sg = 1.0 if cov > 0.0 else (-1.0 if cov < 0.0 else 0.0)
        if sg == 0.0:
            continue
        m = se[o] / n
        for j in range(na):
            g[j] += sg * (sedv[c, o, j] - m * sdv[c, j])
        g[M] += sg * (sedv[c, o, M] - m * sdv[c, M])


@njit
def _clear_cand_sums(sv, sve, sdv, sedv, se):
    sv[:] = 0.0
    sve[:, :] = 0.0
    sdv[:, :] = 0.0
    sedv[:, :, :] = 0.0
    se[:] = 0.0


@njit
def end_epoch(
    n_in,
    W_o,
    W_h,
    w_self,
    ints,
    sums,
    installed_at,
    acc_o,
    prev_o,
    delta_o,
    cw,
    cprev,
    cdelta,
    sums_c,
    cand_init,
    g,
    hp_o,
    hp_c,
    install_w,
):
    """The end of an epoch: the phase's Quickprop step, its patience test and the change of phase. ``sums_c`` =
    (sv, sve, sdv, sedv, se), the candidates' epoch sums; ``hp_o``, ``hp_c`` = (epsilon, mu, decay, patience,
    change threshold, maximum epochs) of the output and the candidate phase."""
    sv, sve, sdv, sedv, se = sums_c
    eps_o, mu_o, decay_o, pat_o, thr_o, max_ep_o = hp_o
    eps_c, mu_c, decay_c, pat_c, thr_c, max_ep_c = hp_c
    K, M = W_o.shape
    H = W_h.shape[0]
    n_hid = ints[N_HID]
    na = 1 + n_in + n_hid
    n = sums[NSTEPS]
    ints[EPOCHS] += 1
    if ints[PHASE] == OUTPUT:
        eps = eps_o / n if n > 0 else 0.0
        for o in range(K):
            for j in range(na):
                W_o[o, j], delta_o[o, j], prev_o[o, j] = quickprop(
                    W_o[o, j], delta_o[o, j], acc_o[o, j], prev_o[o, j], eps, decay_o, mu_o
                )
                acc_o[o, j] = 0.0
        stop = stalled(sums[ERR], ints, sums, pat_o, thr_o)
        ints[EP] += 1
        if stop or ints[EP] >= max_ep_o:
            ints[EP] = 0
            if n_hid < H:  # a new pool, its Quickprop state and its sums from zero
                ints[PHASE] = CANDIDATES
                for c in range(cw.shape[0]):
                    for j in range(M + 1):
                        use = j < na or j == M
                        cw[c, j] = cand_init[n_hid, c, j] if use else 0.0
                        cprev[c, j] = 0.0
                        cdelta[c, j] = 0.0
                _clear_cand_sums(sv, sve, sdv, sedv, se)
            else:
                ints[PHASE] = DONE
    elif ints[PHASE] == CANDIDATES:
        norm = sums[SEE] if sums[SEE] > 0.0 else 1.0
        best, best_s = 0, -1.0
        for c in range(cw.shape[0]):
            S = cand_score(sv, sve, se, n, c) if n > 0 else 0.0
            if S > best_s:
                best, best_s = c, S
        ints[BEST] = best
        sums[SCORE] = best_s / norm
        stop = stalled(best_s / norm, ints, sums, pat_c, thr_c)
        ints[EP] += 1
        if stop or ints[EP] >= max_ep_c:  # install the best candidate as it was in this epoch
            for j in range(na):
                W_h[n_hid, j] = cw[best, j]
            w_self[n_hid] = cw[best, M]
            for o in range(K):
                cov = sve[best, o] - sv[best] * se[o] / n if n > 0 else 0.0
                W_o[o, na] = -cov / norm * install_w
            installed_at[n_hid] = ints[EPOCHS]
            ints[N_HID] = n_hid + 1
            ints[PHASE] = OUTPUT
            ints[EP] = 0
        else:
            eps = eps_c / (n * na) if n > 0 else 0.0
            for c in range(cw.shape[0]):
                if n > 0:
                    cand_grad(sv, sve, sdv, sedv, se, n, c, na, g)
                else:
                    g[:] = 0.0
                for j in range(M + 1):
                    if j < na or j == M:
                        cw[c, j], cdelta[c, j], cprev[c, j] = quickprop(
                            cw[c, j], cdelta[c, j], -g[j] / norm, cprev[c, j], eps, decay_c, mu_c
                        )
        _clear_cand_sums(sv, sve, sdv, sedv, se)
    sums[ERR] = 0.0
    sums[SEE] = 0.0
    sums[NSTEPS] = 0.0


@njit
def rcc_chunk(
    w,
    W_o,
    W_h,
    w_self,
    ints,
    sums,
    installed_at,
    acc_o,
    prev_o,
    delta_o,
    cw,
    cprev,
    cdelta,
    sums_c,
    cand_init,
    inputs,
    targets,
    mask,
    lengths,
    outputs,
    epoch,
    kind,
    offset,
    hp_o,
    hp_c,
    install_w,
):
    """Train on every sequence of the chunk; return (status, sequences done). Outputs are those of the
    forward pass of each sequence (the weights change only at epoch ends, between sequences). ``sums_c``,
    ``hp_o``, ``hp_c``: as :func:`end_epoch`'s."""
    sv, sve, sdv, sedv, se = sums_c
    n, Lmax, n_in = inputs.shape
    K, M = W_o.shape
    C = cw.shape[0]
    z = np.zeros((max(Lmax, 1), M))
    e = np.zeros(K)
    dv = np.zeros((C, M + 1))
    vp = np.zeros(C)
    g = np.zeros(M + 1)
    for i in range(n):
        L = lengths[i]
        y = outputs[i]
        forward(W_o, W_h, w_self, ints[N_HID], kind, inputs, i, L, z, y)
        if not finite(y[:L].ravel()):
            return NONFINITE, i
        na = 1 + n_in + ints[N_HID]
        if ints[PHASE] == OUTPUT:
            for t in range(L):
                if mask[i, t]:
                    sums[ERR] += _errors(y, targets, i, t, offset, e)
                    sums[NSTEPS] += 1.0
                    for o in range(K):
                        for j in range(na):
                            acc_o[o, j] += e[o] * z[t, j]
        elif ints[PHASE] == CANDIDATES:
            candidates_sequence(
                z, y, targets, mask, i, L, na, cw, kind, offset, sv, sve, sdv, sedv, se, sums, dv, vp, e
            )
        if ints[PHASE] == DONE:
            continue
        ints[POS] += 1
        if ints[POS] >= epoch:
            ints[POS] = 0
            end_epoch(
                n_in,
                W_o,
                W_h,
                w_self,
                ints,
                sums,
                installed_at,
                acc_o,
                prev_o,
                delta_o,
                cw,
                cprev,
                cdelta,
                sums_c,
                cand_init,
                g,
                hp_o,
                hp_c,
                install_w,
            )
            if not (finite(w) and finite(cw.ravel())):
                return NONFINITE, i
    return OK, n


@njit
def rcc_predict(W_o, W_h, w_self, n_hid, kind, inputs, lengths, outputs):
    """Outputs of every sequence, weights unchanged; (status, sequences done)."""
    n, Lmax, _ = inputs.shape
    z = np.zeros((max(Lmax, 1), W_o.shape[1]))
    for i in range(n):
        L = lengths[i]
        forward(W_o, W_h, w_self, n_hid, kind, inputs, i, L, z, outputs[i])
        if not finite(outputs[i, :L].ravel()):
            return NONFINITE, i
    return OK, n

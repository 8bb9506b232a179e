"""numba lane kernel of the 1997 LSTM: K independent nets (lanes) trained side by side, SIMD across lanes
(``lstm97 run --lanes K``; PAPER.md §1.3-1.5, the truncated, forward-in-time gradient of :mod:`._lstm_kernels`).

Every array holds the lane index innermost (contiguous), so the loops over lanes are the inner loops and LLVM
vectorises them. Per lane, every value is computed with exactly the floating-point operations of
:mod:`._lstm_kernels`' kernel, in the same order: no fastmath (so no reassociation and no fused multiply-add,
as there). The scalar kernel's ``math.exp`` is a call of the C library's exp; here the net inputs of a layer
(all gates, all cells, the cell states, the output units) are gathered and their exps taken in one loop across
lanes by :func:`._vexp.exp_neg`, a vectorisable transcription of the C library's exp that gives its bits
(measured on the machine at first use; where it does not, one ``math.exp`` call per value). So each lane's
weights and outputs are bit-identical to ``LSTM.train_chunk``'s, NaNs aside: which NaN
an operation on NaNs gives depends on the order of its operands in the machine code (a diverged trial's
record keeps only where its weights are NaN, ``runners.trial._weights``).

Each lane walks through its own sequences at its own pace: a lane whose sequence ends starts its next one at
the next step while the others go on; a lane whose chunk is done (or went non-finite) idles until every lane is
done. Weight changes are applied only in the lanes with a target at the step, by a select (never a
multiplication by 0), so an idle lane's values never reach its weights. Each lane's data are its batch's own
arrays, one lane's after another (no padding to a common number or length of sequences). The kernel is
compiled with ``noalias`` on its array arguments (:func:`_njit_noalias`): every array it touches is an
argument, none overlaps another, and LLVM then vectorises the lane loops without run-time overlap checks.
As for the scalar kernel, a generic kernel (sizes and switches read at run time, one compilation for every
configuration) serves until ``SPECIALISE_AFTER`` steps of a configuration, then one compiled for it.

Configurations (the others fall back to one ``train_chunk`` per lane, :func:`lane_kernel_reason`): connectivity
F with output gates, no forget gates or peepholes, update=step, gradient=truncated, no sequential
construction; any biases, g, h, output units, reset value, dense or one-hot (``active``) inputs. That covers
the nets of the paper's Exp 1 (Reber), 2c, 4 (adding), 5 and 6.

Glossary: as in :mod:`._lstm_kernels` (z, y_in, y_out, s, hs, y_c, y_k, e_k, e_s, acc_out, ds_in, ds_c, a1, a2,
lr), each with a last axis of K lanes; ``hot[l]`` the one-hot input of lane l (-1: none); ``tg[l]`` whether lane
l has a target at this step; ``i_l[l]``, ``t_l[l]`` the sequence and step lane l is at, ``p_l[l]`` that step's
row in the data (lane l's sequence i, step t is row ``first[l] + i * width[l] + t``); ``live[l]`` whether lane l
still has work.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numba
import numpy as np
from numba.core import cpu
from numba.core.registry import CPUDispatcher, CPUTarget, cpu_target

from .. import _jit
from .._jit import njit
from ._lstm_kernels import SPECIALISE_AFTER
from ._vexp import agrees_with_libm, exp_neg
from .base import OK, ChunkResult

#: Lanes are padded with idle ones to a multiple of this (whole SIMD vectors, no remainder loops).
LANE_MULTIPLE = 4
#: Up to this many lanes, the specialised kernel has the lane count as a compile-time constant too (LLVM then
#: unrolls the lane loops into straight SIMD code; measured faster for 4 lanes, no faster for 8, slower above).
CONSTANT_LANES = 4


class LaneKey(NamedTuple):
    """What one specialised lane kernel is compiled for."""

    K: int  # lanes (padded to LANE_MULTIPLE) up to CONSTANT_LANES; 0: read at run time
    C: int  # blocks
    S: int  # cells per block
    n_z: int  # sources of the hidden units
    n_out: int  # output units
    sparse: bool  # one-hot inputs (``active``)
    g2: bool
    h1: bool
    linear: bool


class _NoAliasOptions(cpu.CPUTargetOptions):
    """numba's CPU options, plus ``noalias`` on every pointer argument (numba's flag for parfors' gufuncs)."""

    def finalize(self, flags, options):
        super().finalize(flags, options)
        flags.noalias = True


class _NoAliasTarget(CPUTarget):
    options = _NoAliasOptions

    @property
    def target_context(self):
        return cpu_target.target_context

    @property
    def typing_context(self):
        return cpu_target.typing_context


class _NoAliasDispatcher(CPUDispatcher):
    targetdescr = _NoAliasTarget("cpu")


def _njit_noalias(func):
    """``njit`` (the project's options) telling LLVM that no two array arguments share memory, so that the loops
    over lanes vectorise without run-time overlap checks. Every array the kernel touches is an argument, and
    no two of them overlap (the caller's promise)."""
    if numba.config.DISABLE_JIT:  # NUMBA_DISABLE_JIT=1: plain Python, as every other kernel
        return func
    options = {k: v for k, v in _jit.OPTIONS.items() if k != "cache"}
    disp = _NoAliasDispatcher(py_func=func, locals={}, targetoptions={"nopython": True, **options})
    if _jit.OPTIONS.get("cache"):
        disp.enable_caching()
    return disp


@njit(inline="always")
def _reset_lane(l, s, y_c, ds_in, ds_c, y_in, y_out, y0):
    """Lane l at the start of a sequence (as ``_lstm_kernels._reset`` with every block active and output gates)."""
    for c in range(s.shape[0]):
        s[c, l] = 0.0
        y_c[c, l] = y0
        for m in range(ds_in.shape[1]):
            ds_in[c, m, l] = 0.0
            ds_c[c, m, l] = 0.0
    for j in range(y_in.shape[0]):
        y_in[j, l] = y0
        y_out[j, l] = y0


@njit(inline="always")
def _lane_finite(a, l):
    """Whether a[:, l] is finite (``_jit.finite`` on one lane), without a branch per value: x * 0.0 is 0 for a
    finite x and NaN otherwise."""
    acc = 0.0
    for r in range(a.shape[0]):
        acc += a[r, l] * 0.0
    return acc == 0.0


@njit(inline="always")
def _weights_finite(weights, l):
    """Whether every weight of lane l is finite (``_jit.finite(w)`` on one lane: the arrays are all of ``w``)."""
    W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k = weights
    return (
        _lane_finite(W_in.reshape((-1, W_in.shape[-1])), l)
        and _lane_finite(W_out.reshape((-1, W_out.shape[-1])), l)
        and _lane_finite(W_c.reshape((-1, W_c.shape[-1])), l)
        and _lane_finite(b_in, l)
        and _lane_finite(b_out, l)
        and _lane_finite(b_c, l)
        and _lane_finite(W_k.reshape((-1, W_k.shape[-1])), l)
        and _lane_finite(b_k, l)
    )


@functools.cache
def lane_kernel(key: LaneKey | None):
    """The lane kernel compiled for ``key`` (every size and switch a compile-time constant), or with ``key``
    None the generic one (sizes and switches read at run time from the arrays and ``switches``)."""
    dynamic = key is None
    KK, CC, SS, NZ, NOUT, SPARSE, G2_, H1_, LIN = (1, 1, 1, 1, 1, False, False, False, False) if dynamic else key

    @_njit_noalias
    def lstm_lanes(weights, data, work, lane, flags, switches, lr, y0, outputs, status, n_done):
        """Train lane l's net (``weights``: W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k, each [..., K], lane
        last) online on lane l's sequences, for every lane; ``data`` = (inputs [R, n_in] (dense; else shape (0, 0)),
        active [R] (one-hot; else shape (0,)), targets [R, n_out], mask [R], lengths [K, n], nseq [K], first [K],
        width [K]): lane l has nseq[l] sequences, its sequence i's step t is row first[l] + i * width[l] + t.
        ``work``, ``lane``, ``flags``: zeroed work arrays (:func:`_work`); ``switches`` (S, sparse, g2, h1, linear)
        are read by the generic kernel only. Writes outputs [R, n_out], status[l] (0, or 1: non-finite) and
        n_done[l] (sequences completed with finite values), as ``_lstm_kernels.lstm_chunk`` does per lane."""
        W_in, W_out, W_c, b_in, b_out, b_c, W_k, b_k = weights
        inputs, active, targets, mask, lengths, nseq, first, width = data
        K = nseq.shape[0] if dynamic or KK == 0 else KK
        if dynamic:
            S = switches[0]
            sparse = switches[1] != 0
            g2 = switches[2] != 0
            h1 = switches[3] != 0
            linear = switches[4] != 0
            C = W_in.shape[0]
            n_z = W_in.shape[1]
            n_out = W_k.shape[0]
        else:
            S = SS
            sparse = SPARSE
            g2 = G2_
            h1 = H1_
            linear = LIN
            C = CC
            n_z = NZ
            n_out = NOUT
        vexp = switches[5] != 0
        CS = C * S
        n_in = n_z - CS - 2 * C
        r0 = n_in if sparse else 0
        bias_in = b_in.shape[0] > 0
        bias_out = b_out.shape[0] > 0
        bias_c = b_c.shape[0] > 0
        bias_k = b_k.shape[0] > 0

        z, y_in, y_out, acc_out, s, hs, y_c, e_s, y_k, e_k, tgt, ds_in, ds_c = work[:13]
        net_g, ex_g, net_c, ex_c, net_k, ex_k = work[13:]
        a1, a2, d = lane
        hot, tg, live, i_l, t_l, p_l = flags
        for l in range(K):  # every lane starts its first sequence (of positive length; an empty one changes nothing)
            i = 0
            while i < nseq[l] and lengths[l, i] == 0:
                i += 1
            i_l[l] = i
            p_l[l] = first[l] + i * width[l]
            status[l] = 0
            n_done[l] = nseq[l]
            live[l] = i < nseq[l]
            _reset_lane(l, s, y_c, ds_in, ds_c, y_in, y_out, y0)

        while True:
            # 0. each lane's input and target at its own step
            n_live = 0
            any_tg = False
            for l in range(K):
                hot[l] = -1
                tg[l] = False
                if not live[l]:
                    continue
                n_live += 1
                p = p_l[l]
                if sparse:
                    hot[l] = active[p]
                else:
                    for m in range(n_in):
                        z[m, l] = inputs[p, m]
                if mask[p]:
                    tg[l] = True
                    any_tg = True
                    for k in range(n_out):
                        tgt[k, l] = targets[p, k]
            if n_live == 0:
                break
            # 1. sources: previous cell and gate activations
            for c in range(CS):
                for l in range(K):
                    z[n_in + c, l] = y_c[c, l]
            for j in range(C):
                for l in range(K):
                    z[n_in + CS + j, l] = y_in[j, l]
                    z[n_in + CS + C + j, l] = y_out[j, l]
            # 2. input and output gates (eqs. 6, 7): every gate's net input, then one exp loop for them all
            for j in range(C):
                for l in range(K):
                    net_g[j, l] = b_in[j, l] if bias_in else 0.0
                    net_g[C + j, l] = b_out[j, l] if bias_out else 0.0
                if sparse:
                    for l in range(K):
                        h = hot[l]
                        if h >= 0:
                            net_g[j, l] += W_in[j, h, l]
                            net_g[C + j, l] += W_out[j, h, l]
                for m in range(r0, n_z):
                    for l in range(K):
                        zm = z[m, l]
                        net_g[j, l] += W_in[j, m, l] * zm
                        net_g[C + j, l] += W_out[j, m, l] * zm
            exp_neg(net_g, ex_g, K, vexp)
            for j in range(C):
                for l in range(K):
                    y_in[j, l] = 1.0 / (1.0 + ex_g[j, l])
                    y_out[j, l] = 1.0 / (1.0 + ex_g[C + j, l])
            # 3. cells: net inputs, one exp loop, then CEC update and traces (eqs. 8, 9, 25, 27)
            for c in range(CS):
                for l in range(K):
                    net_c[c, l] = b_c[c, l] if bias_c else 0.0
                if sparse:
                    for l in range(K):
                        h = hot[l]
                        if h >= 0:
                            net_c[c, l] += W_c[c, h, l]
                for m in range(r0, n_z):
                    for l in range(K):
                        net_c[c, l] += W_c[c, m, l] * z[m, l]
            exp_neg(net_c, ex_c, K, vexp)
            for j in range(C):
                for v in range(S):
                    c = j * S + v
                    for l in range(K):
                        q = 1.0 / (1.0 + ex_c[c, l])
                        if g2:
                            gc = 4.0 * q - 2.0
                            gp = 4.0 * q * (1.0 - q)
                        else:
                            gc = q
                            gp = q * (1.0 - q)
                        yi = y_in[j, l]
                        s[c, l] += yi * gc
                        a1[l] = gc * yi * (1.0 - yi)
                        a2[l] = gp * yi
                    if sparse:
                        for l in range(K):
                            h = hot[l]
                            if h >= 0:
                                ds_in[c, h, l] += a1[l]
                                ds_c[c, h, l] += a2[l]
                    for m in range(r0, n_z):
                        for l in range(K):
                            zm = z[m, l]
                            ds_in[c, m, l] += a1[l] * zm
                            ds_c[c, m, l] += a2[l] * zm
                    for l in range(K):
                        ds_in[c, n_z, l] += a1[l]
                        ds_c[c, n_z, l] += a2[l]
            if h1:
                exp_neg(s, ex_c, K, vexp)
                for c in range(CS):
                    for l in range(K):
                        hs[c, l] = 2.0 / (1.0 + ex_c[c, l]) - 1.0
            else:
                for c in range(CS):
                    for l in range(K):
                        hs[c, l] = s[c, l]
            for j in range(C):
                for v in range(S):
                    c = j * S + v
                    for l in range(K):
                        y_c[c, l] = y_out[j, l] * hs[c, l]
            # 4. output units (they see the cells: connectivity F)
            for k in range(n_out):
                for l in range(K):
                    net_k[k, l] = b_k[k, l] if bias_k else 0.0
                for m in range(CS):
                    for l in range(K):
                        net_k[k, l] += W_k[k, m, l] * y_c[m, l]
            if linear:
                for k in range(n_out):
                    for l in range(K):
                        y_k[k, l] = net_k[k, l]
            else:
                exp_neg(net_k, ex_k, K, vexp)
                for k in range(n_out):
                    for l in range(K):
                        y_k[k, l] = 1.0 / (1.0 + ex_k[k, l])
            if any_tg:
                # 5. errors, from the weights before this step's update (eqs. 19, 21, 23)
                for k in range(n_out):
                    for l in range(K):
                        if linear:
                            e_k[k, l] = tgt[k, l] - y_k[k, l]
                        else:
                            e_k[k, l] = y_k[k, l] * (1.0 - y_k[k, l]) * (tgt[k, l] - y_k[k, l])
                for j in range(C):
                    for l in range(K):
                        acc_out[j, l] = 0.0
                for j in range(C):
                    for v in range(S):
                        c = j * S + v
                        for l in range(K):
                            ec = 0.0
                            for k in range(n_out):
                                ec += W_k[k, c, l] * e_k[k, l]
                            hp = 0.5 * (1.0 - hs[c, l] * hs[c, l]) if h1 else 1.0
                            e_s[c, l] = y_out[j, l] * hp * ec
                            acc_out[j, l] += hs[c, l] * ec
                # 6. weight changes (eqs. 22, 26, 28), only in the lanes with a target
                for k in range(n_out):
                    for l in range(K):
                        d[l] = lr * e_k[k, l]
                    for m in range(CS):
                        for l in range(K):
                            w = W_k[k, m, l]
                            W_k[k, m, l] = w + d[l] * y_c[m, l] if tg[l] else w
                    if bias_k:
                        for l in range(K):
                            w = b_k[k, l]
                            b_k[k, l] = w + d[l] if tg[l] else w
                for j in range(C):
                    for l in range(K):
                        d[l] = lr * y_out[j, l] * (1.0 - y_out[j, l]) * acc_out[j, l]
                    if sparse:
                        for l in range(K):
                            h = hot[l]
                            if tg[l] and h >= 0:
                                W_out[j, h, l] += d[l]
                    for m in range(r0, n_z):
                        for l in range(K):
                            w = W_out[j, m, l]
                            W_out[j, m, l] = w + d[l] * z[m, l] if tg[l] else w
                    if bias_out:
                        for l in range(K):
                            w = b_out[j, l]
                            b_out[j, l] = w + d[l] if tg[l] else w
                    for v in range(S):
                        c = j * S + v
                        for l in range(K):
                            d[l] = lr * e_s[c, l]
                        for m in range(n_z):
                            for l in range(K):
                                w = W_in[j, m, l]
                                W_in[j, m, l] = w + d[l] * ds_in[c, m, l] if tg[l] else w
                                w = W_c[c, m, l]
                                W_c[c, m, l] = w + d[l] * ds_c[c, m, l] if tg[l] else w
                        if bias_in:
                            for l in range(K):
                                w = b_in[j, l]
                                b_in[j, l] = w + d[l] * ds_in[c, n_z, l] if tg[l] else w
                        if bias_c:
                            for l in range(K):
                                w = b_c[c, l]
                                b_c[c, l] = w + d[l] * ds_c[c, n_z, l] if tg[l] else w
            # 7. outputs; the lanes whose sequence ended: divergence check, then their next sequence
            for l in range(K):
                if not live[l]:
                    continue
                i = i_l[l]
                t = t_l[l]
                p = p_l[l]
                for k in range(n_out):
                    outputs[p, k] = y_k[k, l]
                p_l[l] = p + 1
                t += 1
                if t == lengths[l, i]:
                    if not (_lane_finite(s, l) and _lane_finite(y_k, l) and _weights_finite(weights, l)):
                        status[l] = 1
                        n_done[l] = i
                        live[l] = False
                    else:
                        i += 1
                        while i < nseq[l] and lengths[l, i] == 0:
                            i += 1
                        live[l] = i < nseq[l]
                        p_l[l] = first[l] + i * width[l]
                    t = 0
                    _reset_lane(l, s, y_c, ds_in, ds_c, y_in, y_out, y0)
                    if not sparse:
                        for m in range(n_in):
                            z[m, l] = 0.0
                i_l[l] = i
                t_l[l] = t

    return lstm_lanes


#: Trained lane-steps per configuration in this process: as for :func:`._lstm_kernels.lstm_chunk`, the generic
#: lane kernel (one compilation for every configuration) serves until SPECIALISE_AFTER steps, then the one
#: specialised for the configuration. Both compute the same bits.
_steps: dict[LaneKey, int] = {}


#: The LSTM's hyperparameters the lane kernel implements, with the values it supports (None: any). Any other
#: hyperparameter (one added later) must have its declared default, else the lanes fall back to train_chunk.
SUPPORTED = {
    "blocks": None,
    "block_size": None,
    "connectivity": ("F",),
    "output_gate": (True,),
    "bias": None,
    "in_gate_bias": None,
    "out_gate_bias": None,
    "forget_gate": (False,),
    "forget_gate_bias": (None,),
    "peepholes": (False,),
    "init": None,
    "bias_init": None,
    "r_bias": None,
    "reset": None,
    "error_factor": None,
    "lr": None,
    "output": ("logistic", "linear"),
    "g": ("g2", "g1"),
    "h": ("h1", "id"),
    "update": ("step",),
    "epoch": None,
    "grow": ("none",),
    "grow_window": None,
    "grow_tol": None,
    "gradient": ("truncated",),
}
#: The weight blocks the lane kernel trains, in its argument order (every other block must be empty).
NAMES = ("W_in", "W_out", "W_c", "b_in", "b_out", "b_c", "W_k", "b_k")


def lane_kernel_reason(model) -> str | None:
    """Why ``model`` (an LSTM) trains its lanes one after another instead of in the lane kernel (a
    hyperparameter value the kernel does not implement, or weights it does not know); None if it can use it."""
    for p in model.spec.params:
        value = model.hp[p.name]
        if p.name in SUPPORTED:
            allowed = SUPPORTED[p.name]
            if allowed is not None and value not in allowed:
                return f"{p.name}={value}"
        elif value != (None if p.default is None else p.parse(p.default)):
            return f"{p.name}={value}"
    extra = [name for name, shape in model.layout.shapes.items() if name not in NAMES and int(np.prod(shape)) > 0]
    return f"weights {', '.join(extra)}" if extra else None


def _pack(model, states, batches, K: int):
    """The lanes' weights (lane last: the named views of one [P, K] array, ``wl``) and data: each lane's arrays
    as they are, one lane's after another (lane l's [n, L] steps from row ``first[l]`` on, ``width[l]`` = L per
    sequence), with ``K - len(states)`` idle lanes (no sequences)."""
    P = model.layout.size
    wl = np.zeros((P, K))
    for l, st in enumerate(states):
        wl[:, l] = st.w
    shapes = model.layout.shapes
    offsets = model.layout.offsets
    weights = tuple(wl[offsets[n][0] : offsets[n][1]].reshape((*shapes[n], K)) for n in NAMES)
    sparse = "active" in batches[0].info
    n = max(len(b) for b in batches)
    lengths = np.zeros((K, n), dtype=np.int64)
    nseq = np.zeros(K, dtype=np.int64)
    first = np.zeros(K, dtype=np.int64)
    width = np.zeros(K, dtype=np.int64)
    for l, b in enumerate(batches):
        bn, bL = b.mask.shape
        lengths[l, :bn] = b.lengths
        nseq[l] = bn
        width[l] = bL
        first[l + 1 :] += bn * bL
    n_in, n_out = batches[0].n_in, batches[0].n_out
    if sparse:
        inputs = np.zeros((0, 0))
        active = np.concatenate([np.asarray(b.info["active"], dtype=np.int64).ravel() for b in batches])
    else:
        inputs = np.concatenate([b.inputs.reshape(-1, n_in) for b in batches]).astype(np.float64, copy=False)
        active = np.zeros(0, dtype=np.int64)
    targets = np.concatenate([b.targets.reshape(-1, n_out) for b in batches]).astype(np.float64, copy=False)
    mask = np.concatenate([b.mask.ravel() for b in batches]).astype(np.bool_, copy=False)
    return wl, weights, (inputs, active, targets, mask, lengths, nseq, first, width)


def train_lanes(model, states, batches) -> list[ChunkResult] | None:
    """``model.train_chunk(states[l], batches[l])`` for every lane l, in one lane-kernel call; None when the
    configuration or the batches need the per-lane fallback (:func:`lane_kernel_reason`; fewer than two
    lanes; lanes mixing one-hot and dense inputs)."""
    if lane_kernel_reason(model) is not None or len(states) < 2:
        return None
    if len({"active" in b.info for b in batches}) != 1:
        return None
    for b in batches:
        model.check_batch(b)
    K = -(-len(states) // LANE_MULTIPLE) * LANE_MULTIPLE
    wl, weights, data = _pack(model, states, batches, K)
    hp = model.hp
    key = LaneKey(
        K if K <= CONSTANT_LANES else 0,
        model.layout.shapes["W_in"][0],
        int(hp["block_size"]),
        model.layout.shapes["W_in"][1],
        model.n_out,
        "active" in batches[0].info,
        hp["g"] == "g2",
        hp["h"] == "h1",
        hp["output"] == "linear",
    )
    work, lane, flags = _work(key, K)
    switches = np.array([key.S, key.sparse, key.g2, key.h1, key.linear, agrees_with_libm()], dtype=np.int64)
    outputs = np.zeros((data[2].shape[0], key.n_out))
    status = np.zeros(K, dtype=np.int64)
    n_done = np.zeros(K, dtype=np.int64)
    n_steps = int(data[4].sum())
    done = _steps.get(key, 0)
    _steps[key] = done + n_steps
    special = SPECIALISE_AFTER >= 0 and done + n_steps > SPECIALISE_AFTER
    lane_kernel(key if special else None)(
        weights,
        data,
        work,
        lane,
        flags,
        switches,
        hp["lr"] * hp["error_factor"],
        float(hp["reset"]),
        outputs,
        status,
        n_done,
    )
    first = data[6]
    results = []
    for l, (st, b) in enumerate(zip(states, batches, strict=True)):
        st.w[:] = wl[:, l]
        out = outputs[first[l] : first[l] + b.mask.size].reshape(b.targets.shape)
        results.append(ChunkResult(OK if status[l] == 0 else int(status[l]), int(n_done[l]), out))
    return results


def _work(key: LaneKey, K: int) -> tuple[tuple, tuple, tuple]:
    """The kernel's zeroed work arrays: (z, y_in, y_out, acc_out, s, hs, y_c, e_s, y_k, e_k, tgt, ds_in, ds_c,
    net_g, ex_g, net_c, ex_c, net_k, ex_k), (a1, a2, d) and (hot, tg, live, i_l, t_l, p_l), each with a last
    axis of K (net_*: net inputs of the gates, cells and output units; ex_*: exp of their negatives)."""
    C, CS, n_z, n_out = key.C, key.C * key.S, key.n_z, key.n_out
    shapes = [(n_z, K), (C, K), (C, K), (C, K)] + [(CS, K)] * 4 + [(n_out, K)] * 3 + [(CS, n_z + 1, K)] * 2
    shapes += [(2 * C, K)] * 2 + [(CS, K)] * 2 + [(n_out, K)] * 2
    work = tuple(np.zeros(shape) for shape in shapes)
    lane = tuple(np.zeros(K) for _ in range(3))
    flags = (
        np.full(K, -1, dtype=np.int64),
        np.zeros(K, dtype=np.bool_),
        np.zeros(K, dtype=np.bool_),
        np.zeros(K, dtype=np.int64),
        np.zeros(K, dtype=np.int64),
        np.zeros(K, dtype=np.int64),
    )
    return work, lane, flags

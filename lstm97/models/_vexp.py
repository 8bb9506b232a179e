"""A vectorisable ``exp`` that gives the C library's bits: the lane kernel's exp (``lstm97 run --lanes K``).

The lane kernel must give every lane the bits of the scalar kernel, whose ``math.exp`` is a call of the C
library's exp, one value at a time (numba has no vector exp without Intel's SVML, and SVML's bits differ).
The library here, glibc 2.28 and later (the exp of ARM's optimized-routines, also musl's), computes exp(x)
for 2^-54 <= |x| < 512 with a fixed sequence of floating-point operations: a reduction x = k ln2/128 + r with
k = round(128 x / ln2), a table of 2^(j/128) (j = k mod 128; each entry as a double and its rounding error),
a degree-5 polynomial in r and a scaling by 2^(k/128). On a CPU with FMA glibc runs its build with fused
multiply-adds. :func:`exp_fast` is that sequence, operation for operation (the FMA build's, read off its
machine code), over plain doubles and integers, so LLVM vectorises a loop of it across lanes; every other
argument (tiny, huge, infinite, NaN) goes to ``math.exp`` itself.

Whether the two agree on this machine (another C library, a CPU without FMA) is measured, not assumed:
:func:`agrees_with_libm` compares them bit for bit on 2^20 arguments spread over the whole range the fast
path takes (and on the edges around it) and the lane kernel takes :func:`exp_neg` only where they all agree;
elsewhere its lanes call ``math.exp``, one after another, and are merely slower. The table is computed here
from its definition (2^(j/128) rounded to a double, and the relative error of that rounding; it equals
glibc's bit for bit), the reduction and polynomial constants are glibc's (``__exp_data``; the polynomial is
a minimax fit, not derivable).
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal, localcontext

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .._jit import njit

#: 128 / ln 2 and the shift 1.5 * 2^52 that rounds to an integer in the low bits of a double.
INV_LN2_N = float.fromhex("0x1.71547652b82fep+7")
SHIFT = float.fromhex("0x1.8p52")
#: -ln 2 / 128 in two parts (the high part with trailing zero bits, so k * hi is exact).
NEG_LN2_HI_N = float.fromhex("-0x1.62e42fefa0000p-8")
NEG_LN2_LO_N = float.fromhex("-0x1.cf79abc9e3b3ap-47")
#: The polynomial's coefficients of r^2 ... r^5 (glibc's minimax fit).
C2 = float.fromhex("0x1.ffffffffffdbdp-2")
C3 = float.fromhex("0x1.555555555543cp-3")
C4 = float.fromhex("0x1.55555cf172b91p-5")
C5 = float.fromhex("0x1.1111167a4d017p-7")


def table() -> np.ndarray:
    """The 256 words of glibc's ``__exp_data.tab``: for j < 128, word 2j is the bits of (2^(j/128) - H) / H
    and word 2j + 1 the bits of H minus j << 45, where H is 2^(j/128) rounded to the nearest double."""
    out = np.empty(256, dtype=np.uint64)
    with localcontext() as ctx:
        ctx.prec = 60
        for j in range(128):
            exact = Decimal(2) ** (Decimal(j) / 128)
            high = float(exact)  # correctly rounded
            tail = float((exact - Decimal(high)) / Decimal(high))
            out[2 * j] = np.float64(tail).view(np.uint64)
            out[2 * j + 1] = (int(np.float64(high).view(np.uint64)) - (j << 45)) % 2**64
    return out


TAB = table()


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once (LLVM's llvm.fma: one vfmadd instruction on a CPU with FMA)."""

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return types.float64(types.float64, types.float64, types.float64), codegen


@intrinsic
def _bits(typingctx, x):
    """The bits of the double x as a uint64."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@intrinsic
def _double(typingctx, u):
    """The double whose bits are the uint64 u."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.uint64), codegen


@njit(inline="always")
def exp_fast(x):
    """glibc's exp(x) for 2^-54 <= |x| < 512, in the FMA build's order of operations (any other x: garbage)."""
    z = fma(x, INV_LN2_N, SHIFT)
    ki = _bits(z)
    kd = z - SHIFT
    r = fma(kd, NEG_LN2_HI_N, x)
    r = fma(kd, NEG_LN2_LO_N, r)
    idx = (ki & np.uint64(0x7F)) << np.uint64(1)
    top = ki << np.uint64(45)
    p23 = fma(r, C3, C2)
    tmp = r + _double(TAB[idx])
    sbits = TAB[idx + np.uint64(1)] + top
    r2 = r * r
    p45 = fma(r, C5, C4)
    tmp = fma(p23, r2, tmp)
    tmp = fma(r2 * r2, p45, tmp)
    scale = _double(sbits)
    return fma(scale, tmp, scale)


@njit(inline="always")
def fast_range(x):
    """Whether exp_fast(x) is glibc's exp(x): 2^-54 <= |x| < 512 (glibc's test on the exponent bits)."""
    top = (_bits(x) >> np.uint64(52)) & np.uint64(0x7FF)
    return top - np.uint64(0x3C9) <= np.uint64(0x3E)


@njit(inline="always")
def exp_neg(a, out, K, vector):
    """out[r, l] = math.exp(-a[r, l]) for every row r and lane l < K, bit for bit: with ``vector`` (only where
    :func:`agrees_with_libm`) as SIMD loops of :func:`exp_fast` across lanes, then ``math.exp`` for the values
    outside its range; else one ``math.exp`` call per value."""
    if vector:
        other = False
        for r in range(a.shape[0]):
            for l in range(K):
                x = -a[r, l]
                out[r, l] = exp_fast(x)
                other |= not fast_range(x)
        if other:
            for r in range(a.shape[0]):
                for l in range(K):
                    x = -a[r, l]
                    if not fast_range(x):
                        out[r, l] = math.exp(x)
    else:
        for r in range(a.shape[0]):
            for l in range(K):
                out[r, l] = math.exp(-a[r, l])


@njit
def exp_neg_row(a, out, K, vector):
    """:func:`exp_neg` as a function of its own (compiled once, not inlined): the scalar kernels call it once
    per step for their output units, which keeps its loops out of every specialised kernel's compilation."""
    exp_neg(a, out, K, vector)


@njit
def _compare(a):
    """How many of exp_neg(a, vector=True) differ, in their bits, from math.exp(-a)."""
    K = a.shape[0]
    got = np.empty((1, K))
    exp_neg(a.reshape((1, K)), got, K, True)
    wrong = 0
    for l in range(K):
        if _bits(got[0, l]) != _bits(math.exp(-a[l])):
            wrong += 1
    return wrong


def check_arguments() -> np.ndarray:
    """2^20 arguments (as the kernel's -a): every 128th-of-ln2 step of the range up to |x| = 720, each at
    random offsets, log-uniform magnitudes from 2^-60 to 2^10, and the edges of the fast range, of both signs."""
    rng = np.random.default_rng(19970101)
    n = 1 << 18
    grid = rng.uniform(-720.0, 720.0, n)
    logs = np.exp2(rng.uniform(-60.0, 10.0, n)) * rng.choice([-1.0, 1.0], n)
    small = rng.standard_normal(n) * 8.0
    edges = np.array([2.0**-54, 512.0, 708.39, 709.78, 745.13, 0.0, np.inf, np.nan, 1.0, math.log(2) / 256])
    near = np.concatenate([np.nextafter(edges[:5], 0.0), np.nextafter(edges[:5], np.inf), edges])
    near = np.concatenate([near, -near])
    rest = (1 << 20) - 3 * n - near.size
    bits = rng.integers(0x3C90000000000000, 0x4080000000000000, rest, dtype=np.int64)
    wide = bits.view(np.float64) * rng.choice([-1.0, 1.0], rest)
    return np.concatenate([grid, logs, small, near, wide])


@functools.cache
def agrees_with_libm() -> bool:
    """Whether :func:`exp_neg`'s vector path gives ``math.exp``'s bits on this machine (measured once per
    process on :func:`check_arguments`); False under NUMBA_DISABLE_JIT (plain Python has no FMA to call)."""
    if numba.config.DISABLE_JIT:
        return False
    return _compare(check_arguments()) == 0

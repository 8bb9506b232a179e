"""The lane kernel's vectorisable exp (lstm97.models._vexp) gives the C library's bits, and the lane kernel the
scalar kernel's bits with it and without it."""

from __future__ import annotations

import math
import platform

import numba
import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.models import _lstm_lane_kernels as lane_kernels
from lstm97.models import _vexp


def _glibc_with_fma() -> bool:
    """Where the transcription is of the very library in use: glibc 2.28 or later on an x86-64 CPU with FMA."""
    if numba.config.DISABLE_JIT:  # plain Python: no FMA to call, math.exp everywhere
        return False
    lib, version = platform.libc_ver()
    if lib != "glibc" or platform.machine() != "x86_64":
        return False
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
        flags = open("/proc/cpuinfo").read().split()
    except (OSError, ValueError):
        return False
    return (major, minor) >= (2, 28) and "fma" in flags


def _exp_or_inf(x: float) -> float:
    """The C library's exp(x) (Python raises where it gives inf)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def exp_neg(a: np.ndarray, vector: bool) -> np.ndarray:
    out = np.empty((1, a.size))
    _exp_neg(a.reshape((1, -1)), out, a.size, vector)
    return out[0]


_exp_neg = _vexp.njit(lambda a, out, K, vector: _vexp.exp_neg(a, out, K, vector))


def test_the_table_is_two_to_the_j_over_128():
    tab = _vexp.TAB
    for j in (0, 1, 64, 127):
        high = (int(tab[2 * j + 1]) + (j << 45)) % 2**64
        h = np.uint64(high).view(np.float64)
        tail = tab[2 * j].view(np.float64)
        assert h == pytest.approx(2.0 ** (j / 128), rel=1e-16)
        assert abs(tail) <= 2.0**-53  # a rounding error, relative to h
    assert tab[0] == 0 and tab[1] == np.float64(1.0).view(np.uint64)


@pytest.mark.skipif(not _glibc_with_fma(), reason="the transcription is of glibc's FMA build")
def test_vector_exp_has_the_c_librarys_bits_here():
    assert _vexp.agrees_with_libm()
    rng = np.random.default_rng(5)
    a = np.concatenate([rng.standard_normal(100_000) * 30, rng.uniform(-800, 800, 10_000)])
    got = exp_neg(a, True)
    want = exp_neg(a, False)  # math.exp in numba: a call of the C library's exp per value
    assert got.tobytes() == want.tobytes()
    small = a[np.abs(a) < 700][:2000]
    assert exp_neg(small, True).tobytes() == np.array([math.exp(-v) for v in small]).tobytes()


def test_values_outside_the_fast_range_are_the_c_librarys():
    a = np.array([0.0, -0.0, 1e-300, -1e-300, 2.0**-60, 600.0, -600.0, 746.0, -710.0, 1e308, np.inf, -np.inf, np.nan])
    for vector in (True, False) if _vexp.agrees_with_libm() else (False,):
        got = exp_neg(a, vector)
        want = np.array([_exp_or_inf(-v) for v in a])
        assert got[:-1].tobytes() == want[:-1].tobytes() and np.isnan(got[-1])


def test_agreement_is_measured_on_the_whole_fast_range():
    a = _vexp.check_arguments()
    x = -a[np.isfinite(a)]
    assert a.size == 1 << 20
    assert x.min() < -709 and x.max() > 745 and (np.abs(x) < 2.0**-54).any() and (np.abs(x) > 512).any()
    fast = (np.abs(x) >= 2.0**-54) & (np.abs(x) < 512)
    assert fast.mean() > 0.6
    assert len(np.unique(np.round(x[fast & (np.abs(x) < 720)] * 128 / math.log(2)) % 128)) == 128


@pytest.mark.parametrize("scale", [1.0, 400.0])
def test_lane_kernel_bits_are_the_same_with_and_without_the_vector_exp(monkeypatch, scale):
    """The lane kernel with the vector exp and with one C-library call per value, on random nets whose net
    inputs are ordinary (scale 1) or reach far outside exp's fast range (scale 400: saturated units)."""
    task = tasks.make("adding", T=20)
    model = models.make("lstm", task, g="g1", bias="gates")
    rng = np.random.default_rng(11)
    states = [model.init_state(rng) for _ in range(4)]
    for st in states:
        st.w[:] = rng.uniform(-1.0, 1.0, st.w.size) * scale
    batches = [task.sample(rng, n) for n in (2, 3, 1, 4)]
    results = {}
    for vector in (True, False):
        monkeypatch.setattr(lane_kernels, "agrees_with_libm", lambda vector=vector: vector)
        lanes = [st.copy() for st in states]
        out = model.train_lanes(lanes, batches)
        results[vector] = ([st.w.tobytes() for st in lanes], [r.outputs.tobytes() for r in out])
    ref_w, ref_out = [], []
    for st, b in zip(states, batches, strict=True):
        mine = st.copy()
        ref_out.append(model.train_chunk(mine, b).outputs.tobytes())
        ref_w.append(mine.w.tobytes())
    assert results[True] == results[False] == (ref_w, ref_out)

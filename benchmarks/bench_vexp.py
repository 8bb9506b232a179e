"""Output units' exp one at a time against one vectorised pass, in one run: the conventional nets' forward pass
(RTRL, BPTT, Elman: lstm97.models._rnn_kernels.step, level by level) and the LSTM's output units.

Each preset's net (Exp 2a at p = 100 for RTRL and BPTT: 1 hidden unit and 101 output units, 10,404 weights;
Exp 1's Elman net: 15 hidden units, 7 outputs; the LSTM of 2b, 101 output units under connectivity B, and of
1-5, 7 outputs) on one chunk of fresh sequences, trained and predicted through the model's own code from the
same weights, alternated, best of ``--repeats``: with ``math.exp`` called for one unit at a time ("scalar exp")
and with the exp of the units in one pass of the SIMD loops of :func:`lstm97.models._vexp.exp_neg` ("today",
taken only where they give ``math.exp``'s bits, as the script checks). Both must give the same outputs and
weights, bit for bit (the script exits 1 otherwise). Reported: microseconds per time step and the ratio.

    python benchmarks/bench_vexp.py [--repeats 5] [--sequences 64]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from lstm97.models import _lstm_kernels, _vexp, rnn, rtrl  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _presets import net_and_batch  # noqa: E402

PRESETS = ("rtrl-2a-p100", "bptt-2a-p100", "elman-1", "2b", "1-5")


def _run(model, state, batch, train: bool, vexp: bool):
    """``model.train_chunk`` or ``model.predict`` on a copy of ``state``, with or without the vectorised exp."""
    modules = (rnn, rtrl, _lstm_kernels)
    saved = [m.agrees_with_libm for m in modules]
    for m in modules:
        m.agrees_with_libm = lambda: vexp
    try:
        s = state.copy()
        t0 = time.perf_counter()
        out = model.train_chunk(s, batch).outputs if train else model.predict(s, batch)
        return time.perf_counter() - t0, out.tobytes() + s.w.tobytes()
    finally:
        for m, f in zip(modules, saved, strict=True):
            m.agrees_with_libm = f


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sequences", type=int, default=64)
    args = ap.parse_args()
    agrees = _vexp.agrees_with_libm()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 shared cores: rerun if well above 1)")
    print(f"vectorised exp gives math.exp's bits on this machine: {'yes' if agrees else 'no (nothing to compare)'}")
    if not agrees:
        return 0
    print(f"{'preset':14} {'':8} {'scalar exp us/step':>19} {'today us/step':>14} {'scalar/today':>13}  identical")
    ok = True
    for pid in PRESETS:
        _, model, state, batch = net_and_batch(pid, args.sequences)
        steps = int(batch.lengths.sum())
        for train in (True, False):
            best = {False: np.inf, True: np.inf}
            results = {}
            for vexp in best:
                _run(model, state, batch.take(slice(0, 2)), train, vexp)  # compile or load numba's cache
            for _ in range(args.repeats):
                for vexp in best:
                    dt, results[vexp] = _run(model, state, batch, train, vexp)
                    best[vexp] = min(best[vexp], dt)
            same = results[False] == results[True]
            ok &= same
            a, b = (best[v] / steps * 1e6 for v in (False, True))
            name = "train" if train else "predict"
            print(f"{pid:14} {name:8} {a:19.3f} {b:14.3f} {a / b:13.2f}  {'yes' if same else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

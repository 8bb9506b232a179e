"""The neural sequence chunker's kernel (``lstm97 reproduce ch-2a``) against the previous one, in one run.

Preset ch-2a's nets (PAPER.md §2 "CH": Exp 2a, p = 100; A with 10,506 weights, C with 10,404, both RTRL with
real-time updates): one chunk of 256 fresh sequences (100 steps each), trained (A and C) and predicted (A
alone), with the 0.3.0 kernel (benchmarks/baseline/chunker_kernels_0_3_0.py), with today's kernel calling
``math.exp`` one output unit at a time ("scalar exp") and with today's kernel as it runs (the output units'
exp by the SIMD loops of :func:`lstm97.models._vexp.exp_neg` where they give ``math.exp``'s bits, as on this
machine), called through the same model code from the same weights, alternated, best of ``--repeats``. All must
give the same outputs and weights, bit for bit (checked; the script exits 1 otherwise). Reported:
microseconds per time step and the ratio previous / today.

The previous kernel took its output units' one-hot input term through a helper that also holds the dense and
time-code loops, inside the loop over the 102 output units; today's forward pass has a loop of its own for
one-hot inputs without a time code (the same operations in the same order), writes the output units' net
inputs to an array and takes their exp in one vectorised pass.

    python benchmarks/bench_chunker.py [--repeats 5] [--sequences 256]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from lstm97.models import chunker  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _presets import net_and_batch  # noqa: E402
from baseline.chunker_kernels_0_3_0 import chunker_chunk as _previous  # noqa: E402


def previous(*args):
    """The 0.3.0 kernel, called like today's (which takes one more argument: whether to vectorise exp)."""
    return _previous(*args[:-1])


def _run(model, state, batch, train: bool, kernel, vexp: bool = True):
    """``model.train_chunk`` or ``model.predict`` on a copy of ``state`` with ``kernel`` in the model's module
    (and with the vectorised exp if ``vexp`` and this machine's C library allows it)."""
    today, agrees = chunker.chunker_chunk, chunker.agrees_with_libm
    chunker.chunker_chunk = kernel
    chunker.agrees_with_libm = lambda: vexp and agrees()
    try:
        s = state.copy()
        t0 = time.perf_counter()
        out = model.train_chunk(s, batch).outputs if train else model.predict(s, batch)
        return time.perf_counter() - t0, out, s
    finally:
        chunker.chunker_chunk, chunker.agrees_with_libm = today, agrees


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sequences", type=int, default=256)
    args = ap.parse_args()
    _, model, state, batch = net_and_batch("ch-2a", args.sequences)
    steps = int(batch.lengths.sum())
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 shared cores: rerun if well above 1)")
    sizes = f"A {model.layout.size:,} weights, C {model.c_layout.size:,}"
    print(f"preset ch-2a: {sizes}; {args.sequences} sequences, {steps:,} steps")
    print(f"vectorised exp gives math.exp's bits on this machine: {'yes' if chunker.agrees_with_libm() else 'no'}")
    print(
        f"{'':8} {'previous us/step':>17} {'scalar exp us/step':>19} {'today us/step':>14}",
        f"{'previous/today':>15}  identical",
    )
    ok = True
    kernels = {"previous": (previous, True), "scalar exp": (chunker.chunker_chunk, False)}
    kernels["today"] = (chunker.chunker_chunk, True)
    for train in (True, False):
        best = dict.fromkeys(kernels, np.inf)
        results = {}
        for kernel, vexp in kernels.values():
            _run(model, state, batch.take(slice(0, 2)), train, kernel, vexp)  # compile or load numba's cache
        for _ in range(args.repeats):
            for name, (kernel, vexp) in kernels.items():
                dt, out, s = _run(model, state, batch, train, kernel, vexp)
                best[name] = min(best[name], dt)
                results[name] = (out.tobytes(), s.w.tobytes(), np.asarray(s.extra["c"]).tobytes())
        same = len(set(results.values())) == 1
        ok &= same
        a, m, b = (best[k] / steps * 1e6 for k in kernels)
        name = "train" if train else "predict"
        print(f"{name:8} {a:17.2f} {m:19.2f} {b:14.2f} {a / b:15.2f}  {'yes' if same else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

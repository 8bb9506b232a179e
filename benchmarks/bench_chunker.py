"""The neural sequence chunker's kernel (``lstm97 reproduce ch-2a``) against the previous one, in one run.

Preset ch-2a's nets (PAPER.md §2 "CH": Exp 2a, p = 100; A with 10,506 weights, C with 10,404, both RTRL with
real-time updates): one chunk of 256 fresh sequences (100 steps each), trained (A and C) and predicted (A
alone), with today's kernel and with the 0.3.0 one (benchmarks/baseline/chunker_kernels_0_3_0.py), called
through the same model code from the same weights, alternated, best of ``--repeats``. Both must give the same
outputs and weights, bit for bit (checked; the script exits 1 otherwise). Reported: microseconds per time step
and the ratio previous / today.

The previous kernel took its output units' one-hot input term through a helper that also holds the dense and
time-code loops, inside the loop over the 102 output units; today's forward pass has a loop of its own for
one-hot inputs without a time code (the same operations in the same order).

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

from lstm97 import models, tasks  # noqa: E402
from lstm97.models import chunker  # noqa: E402
from lstm97.paper import presets  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline.chunker_kernels_0_3_0 import chunker_chunk as previous  # noqa: E402


def _run(model, state, batch, train: bool, kernel):
    """``model.train_chunk`` or ``model.predict`` on a copy of ``state`` with ``kernel`` in the model's module."""
    today = chunker.chunker_chunk
    chunker.chunker_chunk = kernel
    try:
        s = state.copy()
        t0 = time.perf_counter()
        out = model.train_chunk(s, batch).outputs if train else model.predict(s, batch)
        return time.perf_counter() - t0, out, s
    finally:
        chunker.chunker_chunk = today


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sequences", type=int, default=256)
    args = ap.parse_args()
    p = presets.get("ch-2a")
    task = tasks.make(p.task, **p.task_params)
    model = models.make(p.model, task, **p.model_params)
    rng = np.random.default_rng(0)
    state = model.init_state(rng)
    batch = task.sample(rng, args.sequences)
    steps = int(batch.lengths.sum())
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 shared cores: rerun if well above 1)")
    sizes = f"A {model.layout.size:,} weights, C {model.c_layout.size:,}"
    print(f"preset ch-2a: {sizes}; {args.sequences} sequences, {steps:,} steps")
    print(f"{'':8} {'previous us/step':>17} {'today us/step':>14} {'previous/today':>15}  identical")
    ok = True
    for train in (True, False):
        best = {"previous": np.inf, "today": np.inf}
        results = {}
        for kernel in (previous, chunker.chunker_chunk):
            _run(model, state, batch.take(slice(0, 2)), train, kernel)  # compile or load numba's cache
        for _ in range(args.repeats):
            for name, kernel in (("previous", previous), ("today", chunker.chunker_chunk)):
                dt, out, s = _run(model, state, batch, train, kernel)
                best[name] = min(best[name], dt)
                results[name] = (out, s)
        (o1, s1), (o2, s2) = results["previous"], results["today"]
        same = o1.tobytes() == o2.tobytes() and s1.w.tobytes() == s2.w.tobytes()
        same = same and np.asarray(s1.extra["c"]).tobytes() == np.asarray(s2.extra["c"]).tobytes()
        ok &= same
        a, b = (best[k] / steps * 1e6 for k in ("previous", "today"))
        print(f"{'train' if train else 'predict':8} {a:17.2f} {b:14.2f} {a / b:15.2f}  {'yes' if same else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

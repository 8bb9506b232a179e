"""Lanes against one trial at a time on the presets' nets: ``model.train_lanes`` (K trials side by side in the
LSTM's lane kernel, what ``--lanes K`` runs) against ``model.train_chunk`` on the same K trials one after another
(``--lanes 1``), both specialised, alternated in one process, best of repeats of this thread's CPU time. Each
trial has its own initial weights and sequences (the preset's task and model at the paper's settings); the
final weights must be bit-identical (checked). Presets whose net the lane kernel does not implement are listed
with the reason.

    python benchmarks/bench_lanes.py [--presets 1-5 2c-1 ...] [--lanes 4 8 16] [--sequences 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lstm97 import api  # noqa: E402
from lstm97.models import _lstm_kernels, _lstm_lane_kernels, _vexp  # noqa: E402
from lstm97.paper import presets  # noqa: E402
from lstm97.runners.trial import _build  # noqa: E402

PRESETS = ["1-5", "2a", "2c-1", "2c-3", "3a-1", "4-1", "4-3", "5-13", "6a", "6b"]


def bench(name: str, lanes: list[int], n_seq: int, repeats: int) -> list[dict]:
    cfg = api.preset_config(presets.get(name))
    task, model = _build(cfg)
    reason = _lstm_lane_kernels.lane_kernel_reason(model) if cfg.model == "lstm" else f"model {cfg.model}"
    if reason is not None:
        return [{"preset": name, "weights": None, "K": None, "note": f"one trial at a time: {reason}"}]
    rows = []
    for K in lanes:
        rng = np.random.default_rng(K)
        states0 = [model.init_state(rng) for _ in range(K)]
        batches = [task.sample(rng, n_seq) for _ in range(K)]
        steps = sum(int(b.lengths.sum()) for b in batches)
        model.train_lanes([s.copy() for s in states0], [b.take(slice(0, 1)) for b in batches])  # compile / load
        for st, b in zip(states0, batches, strict=True):
            model.train_chunk(st.copy(), b.take(slice(0, 1)))
        t_lanes = t_one = float("inf")
        for _ in range(repeats):
            side = [s.copy() for s in states0]
            t0 = time.thread_time()
            model.train_lanes(side, batches)
            t1 = time.thread_time()
            one = [s.copy() for s in states0]
            for st, b in zip(one, batches, strict=True):
                model.train_chunk(st, b)
            t2 = time.thread_time()
            t_lanes, t_one = min(t_lanes, t1 - t0), min(t_one, t2 - t1)
        same = all(a.w.tobytes() == b.w.tobytes() for a, b in zip(side, one, strict=True))
        rows.append(
            {
                "preset": name,
                "weights": model.layout.size,
                "K": K,
                "lanes ns/trial-step": round(t_lanes / steps * 1e9),
                "one at a time ns/trial-step": round(t_one / steps * 1e9),
                "lanes / one at a time": round(t_lanes / t_one, 2),
                "note": "bit-identical" if same else "DISAGREE",
            }
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=PRESETS)
    ap.add_argument("--lanes", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--sequences", type=int, default=16, help="sequences per trial")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    _lstm_kernels.SPECIALISE_AFTER = _lstm_lane_kernels.SPECIALISE_AFTER = 0  # the specialised kernels
    print(f"load average at start: {os.getloadavg()[0]:.2f}; vector exp in use: {_vexp.agrees_with_libm()}")
    rows = [row for name in args.presets for row in bench(name, args.lanes, args.sequences, args.repeats)]
    table = pd.DataFrame(rows).astype({"weights": "Int64", "K": "Int64"})
    print(table.to_string(index=False, na_rep=""))
    return 1 if any(r["note"] == "DISAGREE" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())

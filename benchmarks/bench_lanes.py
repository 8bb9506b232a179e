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


def lanes_vs_one(task, model, K: int, n_seq: int, repeats: int, rng) -> tuple[float, float, int, bool]:
    """(lanes seconds, one-at-a-time seconds, trial-steps, bit-identical): K trials of ``model`` on ``task``
    (their own initial weights and ``n_seq`` sequences each, from ``rng``) trained by ``model.train_lanes`` and by
    ``model.train_chunk`` one after another, alternated, best of ``repeats`` of this thread's CPU time (a shared
    machine's load counts less than in wall-clock time), after an untimed call of each (compiling or loading
    numba's cache); and whether both end with the same weights, bit for bit."""
    states0 = [model.init_state(rng) for _ in range(K)]
    batches = [task.sample(rng, n_seq) for _ in range(K)]
    steps = int(sum(int(b.lengths.sum()) for b in batches))
    warm = [b.take(slice(0, 1)) for b in batches]
    model.train_lanes([st.copy() for st in states0], warm)
    for st, b in zip(states0, warm, strict=True):
        model.train_chunk(st.copy(), b)
    t_lanes = t_one = float("inf")
    for _ in range(repeats):
        one = [st.copy() for st in states0]
        t0 = time.thread_time()
        for st, b in zip(one, batches, strict=True):
            model.train_chunk(st, b)
        t1 = time.thread_time()
        side = [st.copy() for st in states0]
        model.train_lanes(side, batches)
        t_one, t_lanes = min(t_one, t1 - t0), min(t_lanes, time.thread_time() - t1)
    same = [st.w.tobytes() for st in one] == [st.w.tobytes() for st in side]
    return t_lanes, t_one, steps, same


def bench(name: str, lanes: list[int], n_seq: int, repeats: int) -> list[dict]:
    cfg = api.preset_config(presets.get(name))
    task, model = _build(cfg)
    reason = _lstm_lane_kernels.lane_kernel_reason(model) if cfg.model == "lstm" else f"model {cfg.model}"
    if reason is not None:
        return [{"preset": name, "weights": None, "K": None, "note": f"one trial at a time: {reason}"}]
    rows = []
    for K in lanes:
        t_lanes, t_one, steps, same = lanes_vs_one(task, model, K, n_seq, repeats, np.random.default_rng(K))
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

"""Cost of the stopping checks on fixed sets: early-exit checks against evaluating every set whole.

Exp 1 (embedded Reber) checks after every 256 training strings whether every one of the 256 training and 256
test strings is predicted correctly; a net that is still learning fails at the first wrong string. The runner
predicts a fixed set in growing chunks and stops at the first excess of wrong sequences
(``lstm97.runners.trial._fixed_check``); only a check whose count passes is evaluated whole, as before. This
script runs the same trials with both strategies in one process, checks that the records are identical (status,
sequences, milestones, test figures, curves, weights) and prints the wall time of each and their ratio.

    python benchmarks/bench_checks.py [--preset 1-5] [--trials 3] [--max-sequences 30000]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from lstm97 import api  # noqa: E402
from lstm97.paper import presets  # noqa: E402
from lstm97.runners import trial  # noqa: E402


def _whole(model, state, task, rule, batch, rows) -> bool:
    """The check as the runner made it before: every set evaluated whole."""
    w, _, mean_abs = trial._evaluate(model, state, task, batch)
    return rule.holds(w, mean_abs)


def run(cfg, seeds, check) -> tuple[float, list[dict]]:
    saved = trial._fixed_check
    trial._fixed_check = check
    try:
        t0 = time.perf_counter()
        records = [trial.run_trial(cfg, s) for s in seeds]
        return time.perf_counter() - t0, records
    finally:
        trial._fixed_check = saved


def same(a: dict, b: dict) -> bool:
    keys = ("status", "sequences", "milestones", "test_wrong", "test_mse", "test_abs", "curve")
    return all(a[k] == b[k] for k in keys) and np.array_equal(a["weights"], b["weights"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="1-5")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--max-sequences", type=int, default=30_000)
    args = ap.parse_args()
    cfg = api.preset_config(presets.get(args.preset), max_sequences=args.max_sequences)
    seeds = list(range(args.trials))
    run(cfg, seeds[:1], trial._fixed_check)  # compile or load numba's cache before timing
    t_whole, whole = run(cfg, seeds, _whole)
    t_early, early = run(cfg, seeds, trial._fixed_check)
    assert all(same(a, b) for a, b in zip(whole, early, strict=True)), "the two strategies gave different trials"
    print(f"preset {args.preset}, {args.trials} trials, budget {args.max_sequences:,}: identical records")
    print(f"every set evaluated whole: {t_whole:7.2f} s")
    print(f"early-exit checks:         {t_early:7.2f} s")
    print(f"ratio (whole / early):     {t_whole / t_early:7.2f}x")


if __name__ == "__main__":
    main()

"""Task-side hot paths before and after their numba versions: Exp 2c sampling, Reber scoring, whole trials.

The "old" implementations are the ones the tests keep as references (``_reference_sample`` in
tests/test_task_sampling_speed.py, ``_reference_correct`` in tests/test_task_reber_kernel.py), loaded from
those files. Every timing first checks that old and new give identical results (batches and Generator states;
correctness per string; whole trial records), then prints the best of several repeats and the ratio
old / new.

1. ``long-lag-distractors`` (Exp 2c) ``sample``, per sequence, at q = p = 50 and q = p = 100 (Table 3 rows
   2c-1, 2c-2), in chunks of 16 (the first chunk of a fresh-sequence check) and 256 (a training chunk).
2. ``Reber.correct`` on 256 strings, for outputs that are mostly wrong (a net still learning: the kernel
   stops at a string's first wrong step) and all correct (the ideal outputs: every step is looked at).
3. Whole trials with the old and the new code: a Reber preset (default 1-5), a 2c preset (default 2c-1) and a
   continual Reber preset (default cerg-forget: the old code builds the streams' dense inputs at sampling,
   scans whole arrays for the first error and draws every stream whole), with small budgets; and a continual
   Reber preset (default cerg-standard, 1,000 streams) with whole streams against prefixes first
   (``Task.prefixes``: only that change).

    python benchmarks/bench_tasks.py [--preset 1-5] [--trials 3] [--max-sequences 30000]
                                     [--preset-2c 2c-1] [--max-sequences-2c 20000]
                                     [--preset-cerg cerg-forget] [--max-sequences-cerg 300]
                                     [--preset-prefix cerg-standard] [--max-sequences-prefix 1000]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from lstm97 import api  # noqa: E402
from lstm97.paper import presets  # noqa: E402
from lstm97.runners import trial  # noqa: E402
from lstm97.tasks.long_lag import LongLag, LongLagDistractors  # noqa: E402
from lstm97.tasks.reber import Reber  # noqa: E402
from lstm97.tasks.reber_continual import ReberContinual  # noqa: E402

TESTS = Path(__file__).resolve().parents[1] / "tests"


def _load(name: str, attr: str):
    """``attr`` of the test module tests/``name``.py (the old implementation kept there as the reference)."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))  # the test modules import tests/reference
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attr)


_reference_sample = _load("test_task_sampling_speed", "_reference_sample")
_reference_correct = _load("test_task_reber_kernel", "_reference_correct")
_reference_cerg = {
    "prefixes": (),  # whole streams drawn and run (before Task.prefixes)
    "sample": _load("test_task_reber_continual", "_reference_sample"),
    "error_free": _load("test_task_reber_continual", "_reference_error_free"),
}


def best(f, args: tuple, calls: int, repeats: int) -> float:
    """Seconds per call of ``f(*args)``: the smallest wall time of ``repeats`` runs of ``calls`` calls, / calls."""
    out = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            f(*args)
        out = min(out, time.perf_counter() - t0)
    return out / calls


def _same_batches(a, b) -> bool:
    x, y = a.arrays(), b.arrays()
    return x.keys() == y.keys() and all(x[k].dtype == y[k].dtype and np.array_equal(x[k], y[k]) for k in x)


def bench_2c(repeats: int) -> None:
    print("Exp 2c sample (long-lag-distractors), microseconds per sequence, best of", repeats)
    print(f"{'q':>5} {'p':>5} {'n':>5} {'old':>8} {'new':>8} {'old/new':>8}")
    for q, p in ((50, 50), (100, 100)):
        task = LongLagDistractors(q=q, p=p)
        for n in (16, 256):
            old_rng, new_rng = np.random.default_rng(1), np.random.default_rng(1)
            for _ in range(3):  # identical batches and Generator states, chunk after chunk
                assert _same_batches(task.sample(new_rng, n), _reference_sample(task, old_rng, n))
                assert new_rng.bit_generator.state == old_rng.bit_generator.state
            chunks = max(1, 2048 // n)  # about 2,048 sequences per timing
            rng = np.random.default_rng(2)
            t_old = best(_reference_sample, (task, rng, n), chunks, repeats)
            t_new = best(LongLagDistractors.sample, (task, rng, n), chunks, repeats)
            per = 1e6 / n
            print(f"{q:5d} {p:5d} {n:5d} {t_old * per:8.2f} {t_new * per:8.2f} {t_old / t_new:8.2f}")


def bench_sparse(repeats: int) -> None:
    """Exp 2a and 2c at p = 1000: a batch of 16 sequences sampled sparse (inputs as indices, what the samplers
    return) and with its dense inputs built (what they returned before), same run."""
    print(f"\nSparse one-hot batches at p = 1000, 16 sequences: sample ms (best of {repeats}) and MB held")
    print(f"{'task':>22} {'sparse ms':>10} {'+dense ms':>10} {'sparse MB':>10} {'dense MB':>10}")
    for task in (LongLag(p=1000, variant="a"), LongLagDistractors(q=1000, p=1000)):
        rng = np.random.default_rng(3)
        sparse = best(task.sample, (rng, 16), 1, repeats)
        dense = best(_sample_dense, (task, rng, 16), 1, repeats)
        batch = task.sample(rng, 16)
        held = batch.nbytes
        batch.inputs  # noqa: B018 - build them
        mb = (held / 2**20, batch.nbytes / 2**20)
        print(f"{task.spec.name:>22} {sparse * 1e3:10.2f} {dense * 1e3:10.2f} {mb[0]:10.2f} {mb[1]:10.2f}")


def _sample_dense(task, rng: np.random.Generator, n: int):
    return task.sample(rng, n).inputs


def bench_reber_correct(repeats: int) -> None:
    print("\nReber.correct on 256 strings, microseconds per call, best of", repeats)
    print(f"{'targets':>8} {'success':>8} {'outputs':>13} {'old':>8} {'new':>8} {'old/new':>8}")
    for targets, success in (("next", "top-k"), ("legal", "top-k"), ("legal", "abs")):
        task = Reber(targets=targets, success=success)
        rng = np.random.default_rng(0)
        batch = task.sample(rng, 256)
        ideal = task.ideal_outputs(batch)
        learning = ideal + rng.normal(0, 0.3, ideal.shape)
        for label, out in (("mostly wrong", learning), ("all correct", ideal)):
            want = _reference_correct(task, batch, out)
            assert np.array_equal(task.correct(batch, out), want)
            t_old = best(_reference_correct, (task, batch, out), 50, repeats)
            t_new = best(Reber.correct, (task, batch, out), 50, repeats)
            print(
                f"{targets:>8} {success:>8} {label:>13} {t_old * 1e6:8.1f} {t_new * 1e6:8.1f} {t_old / t_new:8.2f}"
                f"   ({int(want.sum())} of 256 correct)"
            )


def _same_records(a: dict, b: dict) -> bool:
    keys = ("status", "sequences", "milestones", "test_wrong", "test_mse", "test_abs", "curve")
    return all(a[k] == b[k] for k in keys) and np.array_equal(a["weights"], b["weights"])


def _trials(cfg, seeds, cls, old: dict) -> tuple[float, float]:
    """Wall times of the trials ``seeds`` with the methods of ``cls`` named in ``old`` replaced by its values and
    with the new code."""
    new = {attr: getattr(cls, attr) for attr in old}
    trial.run_trial(cfg, seeds[0])  # compile or load numba's cache before timing
    for attr, f in old.items():
        setattr(cls, attr, f)
    try:
        t0 = time.perf_counter()
        before = [trial.run_trial(cfg, s) for s in seeds]
        t_old = time.perf_counter() - t0
    finally:
        for attr, f in new.items():
            setattr(cls, attr, f)
    t0 = time.perf_counter()
    after = [trial.run_trial(cfg, s) for s in seeds]
    t_new = time.perf_counter() - t0
    assert all(_same_records(a, b) for a, b in zip(before, after, strict=True)), "old and new trials differ"
    return t_old, t_new


def bench_trials(args) -> None:
    print("\nWhole trials, old vs new task code (identical records), seconds")
    seeds = list(range(args.trials))
    cfg = api.preset_config(presets.get(args.preset), max_sequences=args.max_sequences)
    t_old, t_new = _trials(cfg, seeds, Reber, {"correct": _reference_correct})
    print(
        f"preset {args.preset}, {args.trials} trials, budget {args.max_sequences:,}: "
        f"old {t_old:.2f}  new {t_new:.2f}  old/new {t_old / t_new:.2f}"
    )
    cfg = api.preset_config(presets.get(args.preset_2c), max_sequences=args.max_sequences_2c)
    t_old, t_new = _trials(cfg, seeds, LongLagDistractors, {"sample": _reference_sample})
    print(
        f"preset {args.preset_2c}, {args.trials} trials, budget {args.max_sequences_2c:,}: "
        f"old {t_old:.2f}  new {t_new:.2f}  old/new {t_old / t_new:.2f}"
    )
    cfg = api.preset_config(presets.get(args.preset_cerg), max_sequences=args.max_sequences_cerg)
    t_old, t_new = _trials(cfg, seeds, ReberContinual, _reference_cerg)
    print(
        f"preset {args.preset_cerg}, {args.trials} trials, budget {args.max_sequences_cerg:,} streams: "
        f"old {t_old:.2f}  new {t_new:.2f}  old/new {t_old / t_new:.2f}"
    )
    cfg = api.preset_config(presets.get(args.preset_prefix), max_sequences=args.max_sequences_prefix)
    t_old, t_new = _trials(cfg, seeds, ReberContinual, {"prefixes": ()})
    print(
        f"preset {args.preset_prefix}, {args.trials} trials, budget {args.max_sequences_prefix:,} streams, whole "
        f"streams (old) vs prefixes first (new): old {t_old:.2f}  new {t_new:.2f}  old/new {t_old / t_new:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--preset", default="1-5")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--max-sequences", type=int, default=30_000)
    ap.add_argument("--preset-2c", default="2c-1")
    ap.add_argument("--max-sequences-2c", type=int, default=20_000)
    ap.add_argument("--preset-cerg", default="cerg-forget")
    ap.add_argument("--max-sequences-cerg", type=int, default=300)
    ap.add_argument("--preset-prefix", default="cerg-standard")
    ap.add_argument("--max-sequences-prefix", type=int, default=1000)
    ap.add_argument("--no-trials", action="store_true", help="only the micro-benchmarks")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 shared cores: rerun if well above 1)\n")
    bench_2c(args.repeats)
    bench_sparse(args.repeats)
    bench_reber_correct(args.repeats)
    if not args.no_trials:
        bench_trials(args)


if __name__ == "__main__":
    main()

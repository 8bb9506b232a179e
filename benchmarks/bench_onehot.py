"""Cost of one-hot inputs: LSTM training throughput on Exp 2c with p = 50 and p = 1000 distractor symbols.

Tasks with local input coding (Exps 1, 2, 6) put ``info["active"]`` (the index of the hot input unit) on
their batches, and the kernel then skips the zero inputs. This script measures trained time steps per second
on one core for the paper's 2c nets (364 weights at p = 50, 6064 at p = 1000; q = 100 in both, so the
sequences have the same length distribution), with the sparse path and, for contrast, with the same inputs
given densely (``info["active"]`` removed). The figure of merit is the ratio of steps/s p=50 / p=1000 on the
sparse path: close to 1 means a time step costs little more with 1000 input units than with 50.

    python benchmarks/bench_onehot.py [--sequences N]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lstm97 import models, tasks  # noqa: E402
from lstm97.tasks import SequenceBatch  # noqa: E402


def steps_per_second(model, batch, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        state = model.init_state(np.random.default_rng(1))
        t0 = time.perf_counter()
        model.train_chunk(state, batch)
        best = min(best, time.perf_counter() - t0)
    return float(batch.lengths.sum()) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=200)
    args = parser.parse_args()
    rows = []
    for p in (50, 1000):
        task = tasks.make("long-lag-distractors", q=100, p=p)
        model = models.make("lstm", task)
        sparse = task.sample(np.random.default_rng(0), args.sequences)
        dense = SequenceBatch(sparse.inputs, sparse.targets, sparse.mask, sparse.lengths)
        model.train_chunk(model.init_state(np.random.default_rng(1)), sparse.take(slice(0, 2)))  # compile
        for name, batch in (("sparse (info['active'])", sparse), ("dense inputs", dense)):
            rows.append({"p": p, "weights": model.n_weights, "inputs": name, "steps/s": steps_per_second(model, batch)})
    df = pd.DataFrame(rows)
    sp = df[df["inputs"].str.startswith("sparse")].set_index("p")["steps/s"]
    de = df[df["inputs"].str.startswith("dense")].set_index("p")["steps/s"]
    print(df.to_markdown(index=False, floatfmt=",.0f"))
    print(
        f"\nsparse: steps/s at p=50 / p=1000 = {sp[50] / sp[1000]:.2f}   "
        f"(dense: {de[50] / de[1000]:.2f}); sparse / dense at p=1000 = {sp[1000] / de[1000]:.1f}x"
    )


if __name__ == "__main__":
    main()

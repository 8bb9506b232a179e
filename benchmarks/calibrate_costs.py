"""Fit every preset's cost rates to a store's trials and check the estimates against the measured times.

    python benchmarks/calibrate_costs.py --store docs/reproduction/lstm97.sqlite [--write]

For each preset, at the paper's and at the quick settings, the trials the report would use
(:func:`lstm97.report.match.trials_of`) give ``fixed + per_1000 * sequences / 1000`` by least squares
(:func:`lstm97.paper.costs.fit`). The table printed compares each row's estimate (what ``lstm97 reproduce
--list`` shows) with the mean wall-clock time of its trials; ``--write`` stores the rates in
lstm97/paper/costs.csv, the file the estimates read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from lstm97 import api
from lstm97.paper import costs
from lstm97.paper.presets import PRESETS
from lstm97.report.match import trials_of
from lstm97.results import Store


def rates(df: pd.DataFrame) -> tuple[list[costs.Rate], list[tuple]]:
    out, rows = [], []
    for p in PRESETS:
        if api.preset_unavailable(p):
            continue
        for quick in (False, True):
            if quick and p.quick is None:
                continue
            tp, mp, budget, _ = p.settings(quick)
            g = trials_of(df, p.task, tp, p.model, mp, budget)
            if not len(g):
                continue
            mode = "quick" if quick else "paper"
            code = str(g["package_version"].iloc[-1])
            r = costs.fit(p.id, mode, g["sequences"], g["wall_time"], api.preset_steps(p, quick), code)
            if r is None:
                continue
            out.append(r)
            rows.append((p.id, mode, r.trials, r.fixed_s, r.per_1000_s, g["wall_time"].mean()))
    return out, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--write", action="store_true", help="store the fitted rates in lstm97/paper/costs.csv")
    args = ap.parse_args()
    with Store(args.store, create=False) as db:
        df = db.trials()
    fitted, rows = rates(df)
    if args.write:
        costs.write(fitted)
        costs.table.cache_clear()
    table = pd.DataFrame(rows, columns=["id", "mode", "trials", "fixed s", "s/1000 seq", "measured s/trial"])
    by = {p.id: p for p in PRESETS}
    table["estimate s/trial"] = [
        api.preset_estimate(by[i], m == "quick").seconds for i, m in zip(table["id"], table["mode"], strict=True)
    ]
    table["ratio"] = table["estimate s/trial"] / table["measured s/trial"]
    # Leave one out: each measured row estimated as if it had no trials (scaled from a sibling, or rough),
    # with the mean sequences of its trials: how far the estimates of rows not yet run can be trusted.
    own = {(r.id, r.mode): r for r in fitted}
    loo, basis = [], []
    for i, m in zip(table["id"], table["mode"], strict=True):
        others = {k: r for k, r in own.items() if k != (i, m)}
        e = costs.estimate(
            by[i], m == "quick", api.preset_steps, api.preset_kernel_time, int(own[(i, m)].mean_sequences), others
        )
        loo.append(e.seconds)
        basis.append(e.basis.replace("scaled per step from ", "from "))
    table["left out: estimate"] = loo
    table["ratio (left out)"] = table["left out: estimate"] / table["measured s/trial"]
    table["left out: basis"] = basis
    print(table.to_markdown(index=False, floatfmt=".3g"))
    print(f"\nworst ratio: {table['ratio'].max():.2f} (over), {table['ratio'].min():.2f} (under)")
    lo = table["ratio (left out)"]
    print(f"left out: {((lo <= 2) & (lo >= 0.5)).sum()} of {len(lo)} rows within 2x")


if __name__ == "__main__":
    main()

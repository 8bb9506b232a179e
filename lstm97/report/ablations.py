"""Ablations (``lstm97 ablate``) from the store alone: per ablation, one line per variant beside the preset's
own trials, with paired comparisons (every variant ran with the same seeds, so with the same data streams).

For each variant: success k/n with its Wilson interval; mean and median sequences to success over the
successful trials, with the bootstrap interval of the mean; and, paired with the baseline by seed, how many
seeds only the variant or only the baseline solved, and the mean paired difference of sequences to success
(variant − baseline) over the seeds both solved, with its bootstrap interval. Nothing is trained here; which
configurations form an ablation is read from the store's ``ablations`` table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..paper import presets
from . import plots, stats

#: Bootstrap intervals from fewer values than this are not shown ("–"): two values say too little.
MIN_CI = 3

NOTE = """\
Each ablation runs a preset and variants of it that change one option (or, marked grid, every combination),
with the same seeds, so every variant sees the same data streams as the baseline (the preset's own settings).
"success" is k/n with the 95 % Wilson interval; mean (median) and the 95 % bootstrap interval of the mean are
over the successful trials (no interval from fewer than 3 values); "paired" compares each seed with the
baseline's same seed: seeds only the variant (+) or only the baseline (−) solved, and the mean difference of
sequences to success (variant − baseline) over the seeds both solved, with its 95 % bootstrap interval."""


def _count(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:,.0f}"


def _signed(x: float) -> str:
    return "–" if np.isnan(x) else f"{x:+,.0f}"


def variant_row(label: str, g: pd.DataFrame, base: pd.DataFrame) -> dict[str, str]:
    """One variant's line: its own figures and the paired comparison with the baseline's trials ``base``."""
    n, ok = len(g), g[g["success"]]
    k = len(ok)
    lo, hi = stats.wilson(k, n)
    seq = ok["sequences"].to_numpy(dtype=np.float64)
    ci = stats.bootstrap_mean_ci(seq)
    row = {
        "variant": label,
        "success": "–" if not n else f"{k}/{n} ({100 * lo:.0f}–{100 * hi:.0f} %)",
        "mean (median)": "–" if not k else f"{_count(seq.mean())} ({_count(float(np.median(seq)))})",
        "95 % CI of mean": "–" if k < MIN_CI else f"{_count(ci[0])}–{_count(ci[1])}",
    }
    if label == "baseline":
        row["paired: only this / only baseline"] = row["paired: Δ sequences (95 % CI)"] = ""
        return row
    a = g.set_index("seed")
    b = base.set_index("seed")
    common = a.index.intersection(b.index)
    sa, sb = a.loc[common, "success"].astype(bool), b.loc[common, "success"].astype(bool)
    both = common[(sa & sb).to_numpy()]
    diff = (a.loc[both, "sequences"] - b.loc[both, "sequences"]).to_numpy(dtype=np.float64)
    dci = stats.bootstrap_mean_ci(diff)
    row["paired: only this / only baseline"] = f"+{int((sa & ~sb).sum())} / −{int((~sa & sb).sum())}"
    row["paired: Δ sequences (95 % CI)"] = (
        "–"
        if not diff.size
        else f"{_signed(diff.mean())} ({_signed(dci[0])} to {_signed(dci[1])})"
        if diff.size >= 2
        else f"{_signed(diff.mean())}"
    )
    return row


def tables(df: pd.DataFrame, ablations: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame, list]]:
    """(ablation, preset id, table, [(variant, trials)]) for every recorded ablation, in recorded order."""
    out = []
    for name, group in ablations.groupby("ablation", sort=False):
        preset = group["preset"].iloc[0]
        trials = {key: df[df["config_key"] == key] for key in group["config_key"]}
        base_key = group.loc[group["variant"] == "baseline", "config_key"]
        base = trials[base_key.iloc[0]] if len(base_key) else df.iloc[0:0]
        items = [(v, trials[k]) for v, k in zip(group["variant"], group["config_key"], strict=True)]
        table = pd.DataFrame([variant_row(v, g, base) for v, g in items])
        out.append((name, preset, table, items))
    return out


def section(df: pd.DataFrame, ablations: pd.DataFrame, fig_dir: Path | None) -> tuple[list[str], list[Path]]:
    """Markdown lines of the report's "Ablations" section and the figures written (none without ablations)."""
    found = tables(df, ablations)
    if not found:
        return [], []
    md, written = ["## Ablations\n", NOTE + "\n"], []
    for i, (name, preset, table, items) in enumerate(found):
        try:
            ref = presets.get(preset).paper
            paper = f" The paper's mean for {preset}: {ref.bound}{_count(ref.sequences)}." if ref.sequences else ""
        except Exception:  # a preset this version does not know
            ref, paper = None, ""
        md += [
            f"### {name}\n",
            f"Variants of preset `{preset}`.{paper}\n",
            table.to_markdown(index=False, disable_numparse=True) + "\n",
        ]
        if fig_dir is not None and any(len(g) for _, g in items):
            path = plots.dots_figure(
                f"Ablation {name}", [(v, g, ref) for v, g in items], fig_dir / f"ablation_{i + 1}.png"
            )
            written.append(path)
            md.append(f"![ablation {name}](figures/{path.name})\n")
    return md, written

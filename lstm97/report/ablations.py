"""Ablations (``lstm97 ablate``) from the store alone: per ablation, one line per variant beside the preset's
own trials, with paired comparisons (every variant ran with the same seeds, so with the same data streams).

For each variant: success k/n with its Wilson interval; mean and median sequences to success over the
successful trials, with the bootstrap interval of the mean; and, paired with the baseline by seed, how many
seeds only the variant or only the baseline solved, and the mean paired difference of sequences to success
(variant − baseline) over the seeds both solved, with its bootstrap interval. Nothing is trained here; which
configurations form an ablation is read from the store's ``ablations`` table. Every statistic is computed from
the trials in the order of their seeds, so the tables do not depend on the order of the store.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..paper import presets
from . import plots, stats
from .reproduction import _int

#: Bootstrap intervals from fewer values than this are not shown ("–"): two values say too little.
MIN_CI = stats.MIN_CI

NOTE = """\
Each ablation runs a preset and variants of it that change one option (or, marked grid, every combination),
with the same seeds, so every variant sees the same data streams as the baseline (the preset's own settings).
"success" is k/n with the 95 % Wilson interval; mean (median) and the 95 % bootstrap interval of the mean are
over the successful trials (no interval from fewer than 3 values); "paired" compares each seed with the
baseline's same seed: seeds only the variant (+) or only the baseline (−) solved, and the mean difference of
sequences to success (variant − baseline) over the seeds both solved, with its 95 % bootstrap interval."""


def _signed(x: float) -> str:
    return "–" if np.isnan(x) else f"{x:+,.0f}"


def _by_seed(g: pd.DataFrame) -> pd.DataFrame:
    """Trials in the order of their seeds (then their store ids), whatever the order they came in."""
    keys = [c for c in ("seed", "id") if c in g.columns]
    return g.sort_values(keys, kind="mergesort") if keys and len(g) else g


def variant_row(label: str, g: pd.DataFrame, base: pd.DataFrame) -> dict[str, str]:
    """One variant's line: its own figures and the paired comparison with the baseline's trials ``base``."""
    g, base = _by_seed(g), _by_seed(base)
    n, ok = len(g), g[g["success"]]
    k = len(ok)
    lo, hi = stats.wilson(k, n)
    seq = ok["sequences"].to_numpy(dtype=np.float64)
    ci = stats.bootstrap_mean_ci(seq)
    row = {
        "variant": label,
        "success": "–" if not n else f"{k}/{n} ({100 * lo:.0f}–{100 * hi:.0f} %)",
        "mean (median)": "–" if not k else f"{_int(seq.mean())} ({_int(float(np.median(seq)))})",
        "95 % CI of mean": "–" if k < MIN_CI else f"{_int(ci[0])}–{_int(ci[1])}",
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
    if not diff.size:
        delta = "–"
    elif diff.size < MIN_CI:
        delta = _signed(diff.mean())
    else:
        delta = f"{_signed(diff.mean())} ({_signed(dci[0])} to {_signed(dci[1])})"
    row["paired: Δ sequences (95 % CI)"] = delta
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


EXTENDED_NOTE = """\
Each extended table runs one LSTM row of the paper beside the LSTM's descendants and a GRU on the same task,
with the same budget, stopping rule and seeds (paired, as in an ablation; lstm97.paper.extended says what each
variant is and which choices are ours, docs/deviations.md why). A budget named with the table is its own, cut
from the paper's 5,000,000 but above every success of the row's own trials, so its baseline is the row's
trials again. The columns are those of the ablations."""


def is_extended(name: str) -> bool:
    """Whether a recorded ablation is an extended table (``lstm97 extend``)."""
    from ..paper.extended import PREFIX

    return name.startswith(PREFIX + " ")


def section(df: pd.DataFrame, ablations: pd.DataFrame, fig_dir: Path | None) -> tuple[list[str], list[Path]]:
    """Markdown lines of the report's "Extended tables" and "Ablations" sections and the figures written (none
    without recorded ablations)."""
    found = tables(df, ablations)
    md, written = [], []
    for title, note, chosen in (
        ("Extended tables: the LSTM's descendants on the paper's tasks", EXTENDED_NOTE, True),
        ("Ablations", NOTE, False),
    ):
        part = [(i, f) for i, f in enumerate(found) if is_extended(f[0]) == chosen]
        if chosen:
            part = [(i, (name, preset, _with_ratio(table, items), items)) for i, (name, preset, table, items) in part]
        if part:
            lines, figs = _tables_md(title, note, part, fig_dir)
            md += lines
            written += figs
    return md, written


def _with_ratio(table: pd.DataFrame, items: list) -> pd.DataFrame:
    """``table`` with each variant's mean sequences to success over the baseline's (the later papers state their
    results relative to the standard LSTM's: "as quickly", "three times longer")."""

    def mean(g: pd.DataFrame) -> float:
        ok = g[g["success"]]["sequences"].to_numpy(dtype=np.float64) if len(g) else np.array([])
        return float(ok.mean()) if ok.size else math.nan

    base = mean(dict(items).get("baseline", pd.DataFrame()))
    out = table.copy()
    out["mean / baseline's"] = [
        "" if v == "baseline" else ("–" if math.isnan(mean(g) / base) else f"{mean(g) / base:.2f}") for v, g in items
    ]
    return out


def _tables_md(title: str, note: str, found: list, fig_dir: Path | None) -> tuple[list[str], list[Path]]:
    md, written = [f"## {title}\n", note + "\n"], []
    for i, (name, preset, table, items) in found:
        try:
            ref = presets.get(preset).paper
            paper = f" The paper's mean for {preset}: {ref.bound}{_int(ref.sequences)}." if ref.sequences else ""
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


def _ids(rows, verdict: str) -> list[str]:
    return [r.preset.id for r in rows if r.stats.get("verdict") == verdict]


def commands(df: pd.DataFrame, recorded: pd.DataFrame, store_name: str) -> list[str]:
    """The ``lstm97 ablate`` / ``lstm97 extend`` command of every recorded ablation with stored trials, derived
    from its record: the varied values from the variants' labels (``NAME=VALUE``, several for a grid), the
    budget and quick settings from its name, the trials from the variants' stored seeds (0..n-1). An ablation
    whose labels are not of that form is named in a comment instead."""
    import re

    out = []
    for name, group in recorded.groupby("ablation", sort=False):
        preset = group["preset"].iloc[0]
        counts = df["config_key"].value_counts()
        keys = group.loc[group["variant"] != "baseline", "config_key"]
        n = max((int(counts.get(k, 0)) for k in keys), default=0)  # the variants' own (the preset may have more)
        if not n:
            continue
        budget = re.search(r", budget ([\d,]+)$", name)
        tail = (" --quick" if " quick" in name else "") + f" --trials {n}"
        tail += f" --max-sequences {budget.group(1).replace(',', '')}" if budget else ""
        if is_extended(name):
            out.append(f"lstm97 extend {preset}{tail} --store {store_name}")
            continue
        values: dict[str, list[str]] = {}
        simple = True
        for label in group["variant"]:
            if label == "baseline":
                continue
            for part in label.split(" "):
                key, eq, value = part.partition("=")
                simple &= bool(eq and key and value) and "," not in value
                values.setdefault(key, [])
                if value not in values[key]:
                    values[key].append(value)
        if not simple or not values:
            out.append(f"# ablation '{name}': its variants are not NAME=VALUE options; see lstm97 ablate --help")
            continue
        vary = " ".join(f"--vary {k}={','.join(v)}" for k, v in values.items())
        grid = " --grid" if "(grid)" in name else ""
        out.append(f"lstm97 ablate {preset} {vary}{grid}{tail} --store {store_name}")
    return out


def paired_rate_p(only_variant: int, only_baseline: int) -> float:
    """Two-sided exact (McNemar) p-value of the seeds only one side solved: under "the option does not change
    the success rate", each such seed is the variant's with probability 1/2."""
    m = only_variant + only_baseline
    if not m:
        return 1.0
    tail = sum(math.comb(m, i) for i in range(min(only_variant, only_baseline) + 1)) / 2.0**m
    return min(1.0, 2.0 * tail)


#: A paired change of the success rate is reported when its exact p-value is below this.
RATE_ALPHA = 0.05


def _effects(row, df: pd.DataFrame, recorded: pd.DataFrame) -> list[tuple[str, str]]:
    """(kind, sentence) for what each recorded variant of ``row``'s preset measurably changed: kind "closes"
    (the variant agrees with the paper where the preset's own trials do not), "toward" or "away" (a paired
    change of the success rate or of the sequences to success that moves the row toward the paper's figure or
    away from it), or "changes" (a paired change where the row has no gap in that respect)."""
    from .match import has_budget

    out = []
    ref = row.preset.paper
    for name, preset, _, items in tables(df, recorded[recorded["preset"] == row.preset.id]):
        if is_extended(name):  # other models, not options of the row's: reported in their own tables
            continue
        base = dict(items).get("baseline")
        if base is None or not len(base):
            continue
        base_ok = base[base["success"]]["sequences"].to_numpy(dtype=np.float64)
        base_rate = float(base["success"].mean())
        for label, g in items:
            if label == "baseline" or not len(g):
                continue
            k, n = int(g["success"].sum()), len(g)
            ok = g[g["success"]]["sequences"].to_numpy(dtype=np.float64)
            at_budget = has_budget(g.iloc[0], row.preset.max_sequences)
            judged = stats.judge(ref, n, ok, required=row.preset.trials)
            if at_budget and row.stats.get("verdict") in (stats.BETTER, stats.WORSE) and judged.parts_agree:
                short = stats.trials_label(n, ref.trials, row.preset.trials)
                mean = f", mean {_int(ok.mean())} against the paper's {_int(ref.sequences)}" if k else ""
                out.append(
                    (
                        "closes",
                        f"{label} closes the gap of {preset} ({k}/{n} succeed{mean}"
                        f"{f'; {short}, so the verdict would be inconclusive' if short else ''}; ablation '{name}')",
                    )
                )
                continue
            paired = variant_row(label, g, base)
            gained, lost = (int(x.strip("+−")) for x in paired["paired: only this / only baseline"].split(" / "))
            p = paired_rate_p(gained, lost)
            if p < RATE_ALPHA:
                p0 = ref.implied_rate
                kind = "changes" if p0 is None else ("toward" if (gained > lost) == (base_rate < p0) else "away")
                out.append(
                    (
                        kind,
                        f"{label} on {preset}: {k}/{n} succeed against the baseline's {int(base['success'].sum())}/"
                        f"{len(base)} ({gained} seed{'s' * (gained != 1)} gained, {lost} lost, paired p = {p:.2g}; "
                        f"ablation '{name}')",
                    )
                )
            delta = paired["paired: Δ sequences (95 % CI)"]
            if "(" in delta:
                lo, hi = (float(x.replace(",", "")) for x in delta[delta.index("(") + 1 : -1].split(" to "))
                if lo > 0 or hi < 0:
                    m = ref.sequences if ref.sequences is not None and not ref.bound else None
                    slower = m is not None and base_ok.size and base_ok.mean() > m
                    kind = "changes" if m is None else ("toward" if (hi < 0) == bool(slower) else "away")
                    out.append(
                        (
                            kind,
                            f"{label} on {preset}: {delta} sequences to success over the seeds both solved "
                            f"(ablation '{name}')",
                        )
                    )
    return out


def findings(rows: list, df: pd.DataFrame, recorded: pd.DataFrame) -> str:
    """The report's first paragraph, generated from its own figures: which rows agree with the paper at its
    settings, which are better or worse than the paper, which are inconclusive, have no comparable reference or
    ran at reduced settings only, and what the recorded ablations measured. An option "closes a gap" when the
    preset's own trials are better or worse than the paper and its variant, at the preset's budget, agrees
    with the paper in every part of the verdict rule, success rate and speed (with fewer trials than the
    paper's that is said, as the verdict would then be inconclusive). Otherwise a paired change is reported
    where it is significant, as moving the row toward the paper's figure or away from it: of the success rate
    when the exact paired test of the seeds only one side solved gives p < :data:`RATE_ALPHA`; of the
    sequences to success when the paired bootstrap interval over the seeds both solved excludes zero. Rows with
    an ablation and a gap that nothing closes are named, and last the later models of the extended tables whose
    trials agree with the paper where the row's own do not (:func:`_descendants`)."""
    parts = []
    for verdict, words in (
        (stats.AGREES, "Agrees with the paper at its settings"),
        (stats.BETTER, "better than the paper"),
        (stats.WORSE, "worse than the paper"),
        (stats.INCONCLUSIVE, "inconclusive"),
        (stats.NO_REFERENCE, "no comparable reference"),
    ):
        ids = _ids(rows, verdict)
        if ids:
            parts.append(f"{words}: {len(ids)} row{'s' * (len(ids) != 1)} ({', '.join(ids)})")
    reduced = _ids(rows, stats.REDUCED)
    if reduced:
        parts.append(f"only at reduced settings (no verdict): {len(reduced)}")
    text = "; ".join(parts) + "." if parts else "No row has stored trials yet."
    text = text[0].upper() + text[1:]
    if not len(recorded):
        return text + " No ablation is stored yet, so no option is measured to explain a gap (`lstm97 ablate`)."
    descendants = _descendants(rows, df, recorded)
    tail = (
        " Descendants whose trials agree with the paper where the 1997 LSTM's do not (extended tables): "
        + "; ".join(descendants)
        + "."
        if descendants
        else ""
    )
    effects = {r.preset.id: _effects(r, df, recorded) for r in rows}
    found = [e for es in effects.values() for e in es]
    if not found:
        if all(is_extended(a) for a in recorded["ablation"]):
            return text + tail
        return text + " No recorded ablation changes a row measurably (see Ablations)." + tail
    closes = [t for kind, t in found if kind == "closes"]
    if closes:
        text += " Options that close a gap: " + "; ".join(closes) + "."
    else:
        ablated = sorted(
            {
                p
                for p in recorded["preset"]
                if not all(is_extended(a) for a in recorded[recorded["preset"] == p]["ablation"])
            }
        )
        gaps = [
            r.preset.id
            for r in rows
            if r.preset.id in ablated and r.stats.get("verdict") in (stats.BETTER, stats.WORSE)
        ]
        if gaps:
            text += f" No measured option closes the gap of {', '.join(gaps)}."
    for kind, words in (
        ("toward", "Measured changes toward the paper"),
        ("away", "Measured changes away from the paper"),
        ("changes", "Other measured changes"),
    ):
        part = [t for k, t in found if k == kind]
        if part:
            text += f" {words}: " + "; ".join(part) + "."
    return text + tail


def _descendants(rows: list, df: pd.DataFrame, recorded: pd.DataFrame) -> list[str]:
    """Per extended table of a row that is better or worse than the paper: each later model whose trials agree
    with the paper's row in every part of the verdict rule (at the table's budget: a success within it counts)."""
    out = []
    by_id = {r.preset.id: r for r in rows}
    for name, preset, _, items in tables(df, recorded):
        row = by_id.get(preset)
        if not is_extended(name) or row is None or row.stats.get("verdict") not in (stats.BETTER, stats.WORSE):
            continue
        ref = row.preset.paper
        for label, g in items:
            if label == "baseline" or not len(g):
                continue
            ok = g[g["success"]]["sequences"].to_numpy(dtype=np.float64)
            if stats.judge(ref, len(g), ok, required=row.preset.trials).parts_agree:
                mean = f", mean {_int(ok.mean())} against the paper's {_int(ref.sequences)}" if len(ok) else ""
                short = stats.trials_label(len(g), ref.trials, row.preset.trials)
                out.append(
                    f"{label} on {preset} ({len(ok)}/{len(g)} succeed{mean}{f'; {short}' if short else ''}; '{name}')"
                )
    return out

"""The paper's result tables rebuilt from stored trials (PAPER.md §4 Tables 1–9, §5), beside the paper's figures.

:func:`match` finds each preset's trials in the store: the trials of the paper's configuration when there are
any, else those of the preset's quick configuration or of the same settings with another budget (shown as
"reduced settings", never judged). :func:`table` turns the rows of one paper table into the paper's own
columns as its specification says (:mod:`lstm97.paper.tables`), with our mean, median, min–max and bootstrap
interval beside the paper's figure, the restricted mean and Kaplan–Meier median that count the failed trials,
the success rate with its Wilson interval, the paper's trial count and budget beside ours, and a verdict
(:mod:`.stats`). Test errors are over the successful trials, as the paper's are (it tests a net once its
stopping criterion holds, and in Tables 4–9 every one of its trials met it), with the figure over every tested
trial beside it. Every statistic is computed from the row's trials in a fixed order (:func:`ordered`), so the
tables do not depend on the order in which the store returns its trials. Nothing here trains, samples or
resolves a configuration: stored configurations are compared with the presets' settings as the store records
them (:mod:`.match`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..identity import canonical
from ..paper.presets import PRESETS, Preset
from ..paper.tables import METHODS, SPECS, TABLES, Descriptor, Stat, TableSpec
from . import stats
from .match import ANY_BUDGET, Stored, select, stored

__all__ = [
    "METHODS",
    "TABLES",
    "Row",
    "command",
    "display_row",
    "finish",
    "match",
    "ordered",
    "raw_row",
    "reproduce_options",
    "summary",
    "table",
    "tables",
]

#: The order of trials before any statistic: by configuration and seed, then by what else tells two apart
#: (the store's trial id last, for full determinism).
ORDER = ("config_key", "seed", "sequences", "success", "id")


def ordered(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (trial records) sorted by :data:`ORDER` (the columns it has), stably."""
    keys = [c for c in ORDER if c in df.columns]
    return df.sort_values(keys, kind="mergesort") if keys and len(df) else df


@dataclass
class Row:
    """One preset and the stored trials that stand for it."""

    preset: Preset
    trials: pd.DataFrame
    mode: str  # "paper" | "reduced" | "none"
    settings: str = ""  # "paper", or what differs from the paper's settings
    why: str = ""  # why the preset cannot run here
    stats: dict[str, Any] = field(default_factory=dict)
    #: which settings the trials have: "paper", "quick" (the preset's quick configuration), "budget" (the
    #: paper's settings with another budget), "quick budget" (the quick settings with another budget) or ""
    match: str = ""


def _exact_pair(configs: list[Stored], p: Preset) -> tuple[list[Stored], list[Stored]]:
    """The stored configurations that are exactly the preset's paper and its quick configuration, best first."""

    def exact(quick: bool) -> list[Stored]:
        tp, mp, budget, _ = p.settings(quick)
        return select(configs, p.task, tp, p.model, mp, budget)

    return exact(False), exact(True) if p.quick is not None else []


def _difference(c: Stored, p: Preset, exact_quick: bool) -> str:
    """What differs from the preset's paper settings: task parameters (in the preset's order), then the budget."""
    stored_tp, args = c.first["task_params"], c.first.get("task_args") or {}
    quick_tp = p.quick.task_params if p.quick is not None else {}
    order = list(dict.fromkeys([*p.task_params, *quick_tp, *sorted(args)]))
    parts = [
        f"{k}={stored_tp.get(k)}"
        for k in order
        if (canonical(stored_tp.get(k)) != canonical(p.task_params[k]) if k in p.task_params else k in args)
    ]
    paper_budget = p.max_sequences if p.max_sequences is not None else c.first.get("default_budget")
    if paper_budget is None or pd.isna(paper_budget) or c.budget != int(paper_budget):
        parts.append(f"budget {c.budget:,}")
    text = ", ".join(parts) or "paper"
    return f"quick: {text}" if exact_quick else text


def match(df: pd.DataFrame, selected: list[Preset] | tuple[Preset, ...] = PRESETS) -> list[Row]:
    """Each selected preset with its stored trials: those of its paper configuration if any, else those of a
    stored configuration with the paper's task and model settings but another budget, else those of its quick
    configuration, else those of one with the quick settings but another budget (among several of a kind, the
    one with the newest task and model versions, then the most trials). A configuration that is exactly some
    preset's paper or quick configuration belongs to that preset only. A preset that is not implemented, or
    has no stored trials, has none ("not run"). The trials are taken in the order of :func:`ordered`, so the rows
    do not depend on the order of ``df``."""
    df = ordered(df)
    configs = stored(df)
    empty = df.iloc[0:0]
    exact = {p.id: _exact_pair(configs, p) for p in PRESETS if p.implemented}
    owned = {c.key for pair in exact.values() for found in pair for c in found}
    rows = []
    for p in selected:
        if not p.implemented:
            rows.append(finish(Row(p, empty, "none")))
            continue
        full, quick = exact[p.id] if p.id in exact else _exact_pair(configs, p)
        if full:
            rows.append(finish(Row(p, full[0].trials, "paper", "paper", match="paper")))
            continue
        # ranked by (kind, newness, trials, budget, key); kinds: 2 the paper's settings at another budget,
        # 1 the exact quick configuration, 0 the quick settings at another budget
        found = {c.key: ((1, c.newness, len(c.trials), 0, c.key), "quick", c) for c in quick[:1]}
        other = [c for c in configs if c.key not in owned]
        for rank, kind, quick_settings in ((2, "budget", False), (0, "quick budget", True)):
            if quick_settings and p.quick is None:
                continue
            tp, mp, _, _ = p.settings(quick_settings)
            for c in select(other, p.task, tp, p.model, mp, ANY_BUDGET):
                found.setdefault(c.key, ((rank, c.newness, len(c.trials), c.budget, c.key), kind, c))
        if not found:
            rows.append(finish(Row(p, empty, "none")))
            continue
        _, kind, c = max(found.values(), key=lambda f: f[0])
        rows.append(finish(Row(p, c.trials, "reduced", _difference(c, p, kind == "quick"), match=kind)))
    return rows


def _test_stats(t: pd.DataFrame, prefix: str = "") -> dict[str, Any]:
    """Test errors of the tested trials ``t``: mean and max # wrong, fraction wrong, MSE, mean abs error."""
    m = len(t)
    return {
        f"{prefix}wrong_mean": float(t["test_wrong"].mean()) if m else math.nan,
        f"{prefix}wrong_max": float(t["test_wrong"].max()) if m else math.nan,
        f"{prefix}frac_wrong": float((t["test_wrong"] / t["n_test"]).mean()) if m else math.nan,
        f"{prefix}mse": float(t["test_mse"].mean()) if m else math.nan,
        f"{prefix}abs_mean": _mean_known(t, "test_abs"),
    }


def finish(row: Row) -> Row:
    """Fill ``row.stats``: counts, rates, sequence statistics (over the successes, and over every trial with
    the failures at the budget), test errors (over the successful trials, and over every tested one) and the
    verdict. The trials are put in the order of :func:`ordered` first."""
    row.trials = g = ordered(row.trials)
    p = row.preset
    ref = p.paper
    n = len(g)
    success = g["success"].astype(bool).to_numpy() if n else np.zeros(0, dtype=bool)
    ok = g[success] if n else g
    k = len(ok)
    seq = ok["sequences"].to_numpy(dtype=np.float64) if k else np.zeros(0)
    budget = int(g["max_sequences"].iloc[0]) if n else None
    # every trial's time: its sequences to success, or the budget for one that did not succeed (censored there)
    times = np.where(success, g["sequences"].to_numpy(dtype=np.float64), budget or 0) if n else np.zeros(0)
    lo, hi = stats.wilson(k, n)
    ci = stats.mean_ci(seq)
    tested = g[g["test_wrong"] >= 0] if n else g
    tested_ok = tested[tested["success"].astype(bool)] if n else g
    s: dict[str, Any] = {
        "n": n,
        "k": k,
        "rate": k / n if n else math.nan,
        "wilson_lo": lo,
        "wilson_hi": hi,
        "mean": float(seq.mean()) if k else math.nan,
        "median": float(np.median(seq)) if k else math.nan,
        "min": float(seq.min()) if k else math.nan,
        "max": float(seq.max()) if k else math.nan,
        "ci_lo": ci[0],
        "ci_hi": ci[1],
        "restricted_mean": stats.restricted_mean(times),
        "km_median": stats.km_median(times, success) if n else math.nan,
        "tested_ok": len(tested_ok),  # test errors over the successful trials (the paper's)
        **_test_stats(tested_ok),
        "tested": len(tested),  # and over every tested trial
        **_test_stats(tested, "all_"),
        "n_test": int(g["n_test"].iloc[0]) if n else None,
        "weights": int(g["n_weights"].iloc[0]) if n else None,
        "budget": budget,
        "unit": str(g["unit"].iloc[0]) if n and isinstance(g["unit"].iloc[0], str) else ref.unit,
        # provenance: the compute the trials took (their wall-clock seconds, one core each) and the code
        "compute": float(g["wall_time"].sum()) if n else math.nan,
        "code": ", ".join(sorted({str(v) for v in g["package_version"].dropna()})) if n else "",
        "short": stats.trials_label(n, ref.trials, p.trials) if n else "",
    }
    if n:
        final = g["stop_rule"].iloc[0]
        for name in sorted({m for ms in g["milestones"] for m in ms} - {final}):
            reached = [ms[name] for ms in g["milestones"] if name in ms]
            s[f"milestone {name}"] = float(np.mean(reached))
            s[f"milestone {name} n"] = len(reached)
    if not p.implemented:
        judged = stats.Judgement(stats.NOT_IMPLEMENTED, "")
    elif row.mode == "none":
        judged = stats.Judgement(stats.NOT_RUN, row.why)
    elif row.mode == "reduced":
        judged = stats.Judgement(stats.REDUCED, "")
    else:
        judged = stats.judge(ref, n, seq, required=p.trials)
    s["verdict"], s["reason"] = judged.verdict, judged.reason
    s["rate part"], s["speed part"] = judged.rate, judged.speed
    row.stats = s
    return row


def reproduce_options(row: Row) -> str | None:
    """The options of ``lstm97 reproduce ID`` (after the id, before ``--store``) that store the row's trials:
    "" at the paper's settings and trial count, " --trials N" for another count, " --quick" (and its count where
    it is not the quick one) for the quick settings, and " [--quick] --trials N --max-sequences B" for another
    budget; None for a row without trials."""
    n, p = row.stats.get("n") or 0, row.preset
    if not n:
        return None
    if row.mode == "paper":
        return "" if n == p.trials else f" --trials {n}"
    if row.match == "quick":
        return " --quick" + ("" if p.quick is not None and n == p.quick.trials else f" --trials {n}")
    quick = "" if row.match == "budget" else " --quick"  # the paper's or the quick settings with another budget
    return f"{quick} --trials {n} --max-sequences {int(row.trials['max_sequences'].iloc[0])}"


def command(row: Row) -> str:
    """The ``lstm97 reproduce`` command that stored the row's trials (:func:`reproduce_options`; add ``--store``
    for a store other than the default); for a row without trials, the one that runs it at the paper's settings;
    "" for a method lstm97 does not implement."""
    if not row.preset.implemented:
        return ""
    return f"lstm97 reproduce {row.preset.id}{reproduce_options(row) or ''}"


# -- formatting --------------------------------------------------------------------------------------------
def _num(x: Any, fmt: str) -> str:
    """``x`` formatted with ``fmt``; "–" for none; a text (the paper's words) as it is."""
    if isinstance(x, str):
        return x
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _int(x: Any) -> str:
    return _num(x, ",.0f")


def _paper_seq(p: Preset) -> str:
    ref = p.paper
    if ref.sequences is None:
        return "–"
    return f"{ref.bound}{'≈' if ref.uncertain and not ref.bound else ''}{ref.sequences:,.0f}"


def _paper_rate(p: Preset) -> str:
    ref = p.paper
    if ref.rate_text:
        return ref.rate_text
    if ref.success_rate is None:
        return "(100)" if ref.implied_rate is not None else "–"
    return f"{100 * ref.success_rate:.0f}"


def _lr(row: Row) -> str:
    """The paper's text where it gives a range or none, else the preset's learning rate (as stored)."""
    p = row.preset
    ref = p.paper
    if "learning rate" in ref.extra:
        return str(ref.extra["learning rate"])
    lr = p.model_params.get("lr")
    if lr is None and len(row.trials):  # a task's paper default: the stored trials resolved it
        lr = row.trials["model_params"].iloc[0].get("lr")
    return "–" if lr is None else str(float(lr))


def _weights(row: Row) -> str:
    ref = row.preset.paper
    ours = row.stats.get("weights") if row.mode == "paper" or ref.weights is None else None  # reduced: other net
    if ref.weights is None and "weights" not in ref.extra:
        return "–" if ours is None else f"{ours:,}"
    if ref.weights is None:
        paper = str(ref.extra["weights"])
    else:
        paper = f"{'≈' if ref.uncertain else ''}{ref.weights:,}"
    if ours is not None and ours != ref.weights:
        return f"{paper} (ours {ours:,})"
    return paper


def _hidden(p: Preset) -> str:
    hp = p.model_params
    if p.model == "lstm":
        b, s = hp.get("blocks"), hp.get("block_size")
        return f"{b} blocks, size {s}"
    return str(p.paper.extra.get("hidden units", hp.get("hidden", "–")))


def _arch(p: Preset) -> str:
    hp = p.model_params
    if hp.get("arch") == "a2":
        return f"A2 ({hp.get('hidden')} hidden)"
    if hp.get("arch") == "wz":
        return f"A1 ({hp.get('hidden')} hidden)" if hp.get("hidden") else f"one {hp.get('act', 'logistic')} unit"
    return str(hp.get("arch", "–"))


def _descriptor(d: Descriptor, row: Row) -> str:
    p = row.preset
    tp = p.task_params
    if d.kind == "method":
        return METHODS.get(p.model, p.model)
    if d.kind == "hidden":
        return _hidden(p)
    if d.kind == "weights":
        return _weights(row)
    if d.kind == "lr":
        return _lr(row)
    if d.kind == "param":
        return format(tp[d.arg], d.fmt)
    if d.kind == "half":
        return format(tp[d.arg] // 2, d.fmt)
    if d.kind == "ratio":
        a, b = d.arg.split("/")
        return f"{tp[a] / tp[b]:g}"
    if d.kind == "row":
        return p.row
    if d.kind == "setting":
        return f"{p.task} " + " ".join(f"{k}={v}" for k, v in tp.items())
    if d.kind == "arch":
        return _arch(p)
    raise ValueError(f"unknown descriptor kind {d.kind!r} of column {d.label!r}")


def _descriptors(spec: TableSpec, row: Row) -> dict[str, str]:
    return {d.label: _descriptor(d, row) for d in spec.descriptors}


def _mean_known(g: pd.DataFrame, column: str) -> float:
    """Mean of ``column`` over the trials that have it (older stores hold NULL), NaN when none has."""
    values = g[column].dropna() if column in g else ()
    return float(values.mean()) if len(values) else math.nan


def _success(s: dict) -> str:
    if not s["n"]:
        return "–"
    text = f"{s['k']}/{s['n']} = {100 * s['rate']:.0f} % ({100 * s['wilson_lo']:.0f}–{100 * s['wilson_hi']:.0f})"
    return f"{text}; {s['short']}" if s["short"] else text


def _wrong(s: dict, prefix: str = "") -> str:
    if not s["tested" if prefix else "tested_ok"]:
        return "–"
    return f"{s[prefix + 'wrong_mean']:,.1f} (max {s[prefix + 'wrong_max']:,.0f})"


#: Statistics of ``Row.stats`` that are test errors: shown over the successful trials, with the figure over
#: every tested trial after "; all:" where some tested trial did not succeed.
TEST_ERRORS = ("wrong", "frac_wrong", "mse", "abs_mean")


def _test_error(s: dict, name: str, fmt: str) -> str:
    """Test error ``name`` (of TEST_ERRORS) over the successful trials ("[m]": only m of the k were tested),
    then "; all: …" over every tested trial where that is another set."""

    def one(prefix: str) -> str:
        return _wrong(s, prefix) if name == "wrong" else _num(s.get(prefix + name), fmt)

    text = one("")
    if s["tested_ok"] != s["k"]:
        text += f" [{s['tested_ok']}]"
    if s["tested"] != s["tested_ok"]:
        text = f"{text}; all: {one('all_')}" + (f" [{s['tested']}]" if s["tested"] != s["n"] else "")
    return text


def _spread(s: dict) -> str:
    """The restricted mean and the Kaplan–Meier median over every trial ("> budget": never reached)."""
    if not s["n"]:
        return "–"
    km = _int(s["km_median"]) if not math.isnan(s["km_median"]) else f"> {_int(s['budget'])}"
    return f"{_int(s['restricted_mean'])} ({km})"


def _ci(s: dict) -> str:
    return "–" if math.isnan(s["ci_lo"]) else f"{_int(s['ci_lo'])}–{_int(s['ci_hi'])}"


def _paper_n(p: Preset) -> str:
    return _int(p.paper.trials)


def _budget(row: Row) -> str:
    """The row's budget per trial (its stored trials', else the preset's; None: the paper's), "(ours)" where
    the paper gives none or another."""
    p, ref = row.preset, row.preset.paper
    b = row.stats.get("budget")
    if b is None:
        b = p.max_sequences if p.max_sequences is not None else ref.budget
    if b is None:
        return "–"
    return f"{b:,}" if b == ref.budget else f"{b:,} (ours)"


def ratio(row: Row) -> tuple[float, float, float]:
    """Our mean over the paper's, with the interval of the ratio (NaN where there is no ratio to show: no
    success, a bound, or trials at reduced settings)."""
    s, ref = row.stats, row.preset.paper
    if not (row.mode == "paper" and s.get("k") and ref.sequences and not ref.bound):
        return math.nan, math.nan, math.nan
    return s["mean"] / ref.sequences, s["ci_lo"] / ref.sequences, s["ci_hi"] / ref.sequences


def _ratio_text(row: Row) -> str:
    r, lo, hi = ratio(row)
    if math.isnan(r):
        return "–"
    return stats.ratio_text(r) + ("" if math.isnan(lo) else f" ({stats.ratio_interval_text(lo, hi)})")


def _paper_stat(name: str, row: Row) -> Any:
    ref = row.preset.paper
    if name == "wrong":
        return ref.wrong
    if name == "fraction wrong":
        return None if ref.wrong is None or not ref.n_test else ref.wrong / ref.n_test
    return ref.extra.get(name)


#: Gers et al. 2000's classes of the nets that are not perfect (PAPER.md §11.1, Table 2): "good" when the mean
#: error-free length of their test streams exceeds this many symbols, else "rest".
GOOD_LENGTH = 1000
#: Statistics a table's Stat may name as ``ours`` that are computed from the row's trials: the class's fraction
#: of the trials and the mean error-free test stream length of its nets.
STREAM_CLASSES = ("good", "rest")


def stream_class(row: Row, name: str) -> tuple[float, float]:
    """(fraction of the row's trials, mean error-free length of their test streams) of class ``name`` (``good``
    or ``rest``) among the nets that are not perfect (did not succeed). A net's mean error-free length is its
    test streams' length minus its stored test_mse (the mean count of symbols after each stream's first error);
    a net never tested (it diverged) counts as rest, without a length. (NaN, NaN) for a row without trials."""
    g = row.trials
    if not len(g):
        return math.nan, math.nan
    stream = np.array([float(tp["stream"]) for tp in g["task_params"]])
    length = np.where(g["test_wrong"].to_numpy() >= 0, stream - g["test_mse"].to_numpy(dtype=np.float64), np.nan)
    failed = ~g["success"].astype(bool).to_numpy()
    good = failed & (length > GOOD_LENGTH)  # NaN compares False: an untested net is rest
    members = good if name == "good" else failed & ~good
    lengths = length[members & ~np.isnan(length)]
    return float(members.mean()), float(lengths.mean()) if len(lengths) else math.nan


def _stream_class_text(row: Row, name: str) -> str:
    frac, length = stream_class(row, name)
    if math.isnan(frac):
        return "–"
    return f"{100 * frac:.0f} %" + ("" if math.isnan(length) else f" ⟨{length:,.0f}⟩")


def _stat_columns(stat: Stat, row: Row) -> dict[str, str]:
    ref, s = row.preset.paper, row.stats
    paper_label = stat.label.format(n_test=ref.n_test)
    ours_label = (stat.ours_label or stat.label).format(n_test=s["n_test"] or ref.n_test)
    if stat.ours in STREAM_CLASSES:
        ours = _stream_class_text(row, stat.ours)
    elif stat.ours in TEST_ERRORS:
        ours = _test_error(s, stat.ours, stat.fmt) if s["n"] else "–"
    else:
        ours = _num(s.get(stat.ours), stat.fmt)
    return {f"paper: {paper_label}": _num(_paper_stat(stat.paper, row), stat.fmt), f"ours: {ours_label}": ours}


def _stats_columns(stat_list: tuple[Stat, ...], row: Row) -> dict[str, str]:
    out: dict[str, str] = {}
    for stat in stat_list:
        out.update(_stat_columns(stat, row))
    return out


def display_row(key: str, row: Row) -> dict[str, str]:
    """One row of paper table ``key`` as formatted text in the paper's columns (its TableSpec's)."""
    spec, s = SPECS[key], row.stats
    out = {
        "id": row.preset.id,
        **_descriptors(spec, row),
        "paper n": _paper_n(row.preset),
        "paper: % success": _paper_rate(row.preset),
        "ours: success k/n (95 % CI)": _success(s),
        **_stats_columns(spec.before, row),
        f"paper: {spec.main}": _paper_seq(row.preset),
        "ours: mean (median)": "–" if not s["k"] else f"{_int(s['mean'])} ({_int(s['median'])})",
        "ours: min–max": "–" if not s["k"] else f"{_int(s['min'])}–{_int(s['max'])}",
        "ours: 95 % CI of mean": _ci(s),
        "ours: restricted mean (KM median)": _spread(s),
        **_stats_columns(spec.after, row),
        "budget": _budget(row),
        "settings": row.settings or "–",
        "verdict": s["verdict"],
    }
    return out


def raw_row(key: str, row: Row) -> dict[str, Any]:
    """One row of paper table ``key`` as numbers (for CSV): descriptors, our statistics, the paper's."""
    s, ref = row.stats, row.preset.paper
    out: dict[str, Any] = {
        "id": row.preset.id,
        "paper row": ref.row,
        **_descriptors(SPECS[key], row),
        "settings": row.settings,
        "trials": s["n"],
        "successes": s["k"],
        "success rate": s["rate"],
        "wilson lo": s["wilson_lo"],
        "wilson hi": s["wilson_hi"],
        "paper success rate": ref.implied_rate if not ref.rate_text else ref.rate_text,
        "mean": s["mean"],
        "median": s["median"],
        "min": s["min"],
        "max": s["max"],
        "ci lo": s["ci_lo"],
        "ci hi": s["ci_hi"],
        "paper mean": ref.sequences,
        "paper bound": ref.bound,
        "paper uncertain": ref.uncertain,
        "unit": s["unit"],
        "tested": s["tested"],
        "wrong mean": s["all_wrong_mean"],
        "wrong max": s["all_wrong_max"],
        "paper wrong": ref.wrong,
        "fraction wrong": s["all_frac_wrong"],
        "test mse": s["all_mse"],
        "test mean abs error": s["all_abs_mean"],
        "n_test": s["n_test"],
        "weights": s["weights"],
        "paper weights": ref.weights,
        "budget": s["budget"],
        "compute seconds": s["compute"],
        "code": s["code"],
    }
    out.update({k: v for k, v in s.items() if k.startswith("milestone ")})
    out.update({f"paper {k}": v for k, v in ref.extra.items()})
    for stat in (*SPECS[key].before, *SPECS[key].after):
        if stat.ours in STREAM_CLASSES:
            out[f"{stat.ours} fraction"], out[f"{stat.ours} mean length"] = stream_class(row, stat.ours)
    mid, ratio_lo, ratio_hi = ratio(row)
    out.update(
        {
            # the test errors above are over every tested trial; these over the successful ones (the paper's)
            "tested (successful)": s["tested_ok"],
            "wrong mean (successful)": s["wrong_mean"],
            "wrong max (successful)": s["wrong_max"],
            "fraction wrong (successful)": s["frac_wrong"],
            "test mse (successful)": s["mse"],
            "test mean abs error (successful)": s["abs_mean"],
            "restricted mean": s["restricted_mean"],
            "km median": s["km_median"],
            "ratio": mid,
            "ratio ci lo": ratio_lo,
            "ratio ci hi": ratio_hi,
            "paper trials": ref.trials,
            "paper trials from": ref.trials_from,
            "paper budget": ref.budget,
            "paper comparable": ref.comparable,
            "rate part": s["rate part"],
            "speed part": s["speed part"],
        }
    )
    out["verdict"], out["reason"] = s["verdict"], s["reason"]
    out["command"] = command(row)
    return out


def table(key: str, rows: list[Row], raw: bool = False) -> pd.DataFrame:
    """Paper table ``key`` (a key of TABLES) from its rows: formatted text, or numbers with ``raw``."""
    mine = [r for r in rows if r.preset.table == key]
    fn = raw_row if raw else display_row
    return pd.DataFrame([fn(key, r) for r in mine])


def tables(rows: list[Row], raw: bool = False) -> dict[str, pd.DataFrame]:
    """Every paper table that has a row among ``rows``, in the paper's order."""
    keys = [k for k in TABLES if any(r.preset.table == k for r in rows)]
    return {k: table(k, rows, raw) for k in keys}


def summary(rows: list[Row]) -> pd.DataFrame:
    """One line per preset over all tables: what ran (with the paper's trial count and the budget), our figures
    beside the paper's, and the verdict."""
    out = []
    for r in rows:
        s, ref = r.stats, r.preset.paper
        ours = f"{s['k']}/{s['n']}" + (f" ({s['short']})" if s["short"] else "") if s.get("n") else "–"
        out.append(
            {
                "id": r.preset.id,
                "table": r.preset.table,
                "method": METHODS.get(r.preset.model, r.preset.model),
                "settings": r.settings or "–",
                "paper n": _paper_n(r.preset),
                "budget": _budget(r),
                "paper: % success": _paper_rate(r.preset),
                "ours: success": ours,
                "paper: mean": _paper_seq(r.preset) + (" guesses" if ref.unit == "guesses" else ""),
                "ours: mean (median)": f"{_int(s['mean'])} ({_int(s['median'])})" if s.get("k") else "–",
                "ours: restricted mean (KM median)": _spread(s),
                "ours / paper (95 % CI)": _ratio_text(r),
                "verdict": s["verdict"],
                "compute": _compute(s["compute"]),
                "code": s["code"] or "–",
            }
        )
    return pd.DataFrame(out)


def duration(seconds: float) -> str:
    """A time as text: seconds, minutes or hours (the report's compute column, the CLI's estimates)."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _compute(seconds: float) -> str:
    return "–" if math.isnan(seconds) else duration(seconds)

"""The paper's result tables rebuilt from stored trials (PAPER.md §4 Tables 1–9, §5), beside the paper's figures.

:func:`match` finds each preset's trials in the store: the trials of the paper's configuration when there are
any, else those of the preset's quick configuration or of the same settings with another budget (shown as
"reduced settings", never judged). :func:`table` turns the rows of one paper table into the paper's own
columns, with our mean, median, min–max and bootstrap interval beside the paper's figure, the success rate
with its Wilson interval and a verdict (:mod:`.stats`). Nothing here trains or samples: configurations are
only resolved to compare them with the store.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import stats
from .presets import PRESETS, TABLES, Preset

METHODS = {"lstm": "LSTM", "rtrl": "RTRL", "rnn-bptt": "BPTT", "elman": "ELM", "rcc": "RCC", "chunker": "CH",
           "guess": "RS"}


@dataclass
class Row:
    """One preset and the stored trials that stand for it."""

    preset: Preset
    trials: pd.DataFrame
    mode: str  # "paper" | "reduced" | "none"
    settings: str = ""  # "paper", or what differs from the paper's settings
    why: str = ""  # why the preset cannot run here
    stats: dict[str, Any] = field(default_factory=dict)


def stored_net(trial: pd.Series, weights) -> tuple[Any, Any, Any] | None:
    """(task, model, state) of a stored trial's final net, from its record and ``weights(trial_id)``; None when
    the trial has no weights or they do not fit the model its record names."""
    from .. import models, tasks
    from ..models.base import TrainState

    w = weights(int(trial["id"])) if trial["has_weights"] else None
    if w is None:
        return None
    task = tasks.make(trial["task"], **trial["task_params"])
    model = models.make(trial["model"], task, **trial["model_params"])
    if w.shape != (model.layout.size,):
        return None
    return task, model, TrainState(w, None)


def _norm(d: Any) -> Any:
    return json.loads(json.dumps(d, sort_keys=True, default=list))


def _difference(stored: tuple, paper_cfg, quick_key: str | None, key: str) -> str:
    _, task_params, _, _, budget = stored
    paper = _norm(paper_cfg.task_params)
    order = [*paper_cfg.task_params, *(k for k in task_params if k not in paper)]  # the task's order
    parts = [f"{k}={task_params.get(k)}" for k in order if paper.get(k) != task_params.get(k)]
    if budget != paper_cfg.max_sequences:
        parts.append(f"budget {budget:,}")
    text = ", ".join(parts) or "paper"
    return f"quick: {text}" if key == quick_key else text


def match(df: pd.DataFrame, selected: list[Preset] | tuple[Preset, ...] = PRESETS) -> list[Row]:
    """Each selected preset with its stored trials: those of its paper configuration if any, else those of a
    stored configuration with the paper's task and model settings but another budget, else those of its quick
    configuration, else those of one with the quick settings but another budget (among several of a kind, the
    one with most trials). A configuration that is exactly some preset's paper or quick configuration belongs
    to that preset only."""
    groups = {k: g for k, g in df.groupby("config_key", sort=False)} if len(df) else {}
    stored = {k: (g.iloc[0]["task"], _norm(g.iloc[0]["task_params"]), g.iloc[0]["model"],
                  _norm(g.iloc[0]["model_params"]), int(g.iloc[0]["max_sequences"])) for k, g in groups.items()}
    empty = df.iloc[0:0]
    configs = {p.id: (p.config(), p.config(quick=True) if p.quick is not None else None)
               for p in PRESETS if p.unavailable() is None}
    owned = {cfg.key() for pair in configs.values() for cfg in pair if cfg is not None} & set(groups)
    rows = []
    for p in selected:
        why = p.unavailable()
        if why is not None:
            rows.append(finish(Row(p, empty, "none", why=why)))
            continue
        full, quick = configs[p.id]
        quick_key = None if quick is None else quick.key()
        if full.key() in groups:
            rows.append(finish(Row(p, groups[full.key()], "paper", "paper")))
            continue
        found = [(1, len(groups[quick_key]), 0, quick_key)] if quick_key in groups else []
        for key, (task, tp, model, mp, budget) in stored.items():
            if key in owned:
                continue
            for rank, cfg in ((2, full), (0, quick)):
                if (cfg is not None and (task, model) == (cfg.task, cfg.model)
                        and tp == _norm(cfg.task_params) and mp == _norm(cfg.model_params)):
                    found.append((rank, len(groups[key]), budget, key))
                    break
        if not found:
            rows.append(finish(Row(p, empty, "none")))
            continue
        *_, key = max(found)
        text = _difference(stored[key], full, quick_key, key)
        rows.append(finish(Row(p, groups[key], "reduced", text)))
    return rows


def finish(row: Row) -> Row:
    """Fill ``row.stats``: counts, rates, sequence statistics, test errors and the verdict."""
    g, p = row.trials, row.preset
    n = len(g)
    ok = g[g["success"]] if n else g
    k = len(ok)
    seq = ok["sequences"].to_numpy(dtype=np.float64) if k else np.zeros(0)
    lo, hi = stats.wilson(k, n)
    ci = stats.bootstrap_mean_ci(seq)
    tested = g[g["test_wrong"] >= 0] if n else g
    s: dict[str, Any] = {
        "n": n, "k": k, "rate": k / n if n else math.nan, "wilson_lo": lo, "wilson_hi": hi,
        "mean": float(seq.mean()) if k else math.nan, "median": float(np.median(seq)) if k else math.nan,
        "min": float(seq.min()) if k else math.nan, "max": float(seq.max()) if k else math.nan,
        "ci_lo": ci[0], "ci_hi": ci[1],
        "tested": len(tested),
        "wrong_mean": float(tested["test_wrong"].mean()) if len(tested) else math.nan,
        "wrong_max": float(tested["test_wrong"].max()) if len(tested) else math.nan,
        "frac_wrong": float((tested["test_wrong"] / tested["n_test"]).mean()) if len(tested) else math.nan,
        "mse": float(tested["test_mse"].mean()) if len(tested) else math.nan,
        "abs_mean": _mean_known(tested, "test_abs"),
        "n_test": int(g["n_test"].iloc[0]) if n else None,
        "weights": int(g["n_weights"].iloc[0]) if n else None,
        "budget": int(g["max_sequences"].iloc[0]) if n else None,
        "unit": str(g["unit"].iloc[0]) if n and isinstance(g["unit"].iloc[0], str) else p.paper.unit,
    }
    if n:
        final = g["stop_rule"].iloc[0]
        for name in sorted({m for ms in g["milestones"] for m in ms} - {final}):
            reached = [ms[name] for ms in g["milestones"] if name in ms]
            s[f"milestone {name}"] = float(np.mean(reached))
            s[f"milestone {name} n"] = len(reached)
    if not p.implemented:
        s["verdict"], s["reason"] = stats.NOT_IMPLEMENTED, ""
    elif row.mode == "none":
        s["verdict"], s["reason"] = stats.NOT_RUN, row.why
    elif row.mode == "reduced":
        s["verdict"], s["reason"] = stats.REDUCED, ""
    else:
        s["verdict"], s["reason"] = stats.verdict(p.paper, p.model != "lstm", n, k, s["mean"])
    row.stats = s
    return row


# -- formatting --------------------------------------------------------------------------------------------
def _num(x: Any, fmt: str) -> str:
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


def _lr(p: Preset) -> str:
    ref = p.paper
    if "learning rate" in ref.extra:
        return str(ref.extra["learning rate"])
    lr = p.model_params.get("lr")
    if lr is None:
        try:
            from .. import tasks

            lr = tasks.make(p.task, **p.task_params).model_defaults(p.model).get("lr")
        except Exception:  # a task that is not registered here: the paper's figure is still shown
            lr = None
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


def _descriptors(key: str, row: Row) -> dict[str, str]:
    p = row.preset
    tp = p.task_params
    method = METHODS.get(p.model, p.model)
    if key == "1":
        return {"method": method, "hidden units": _hidden(p), "# weights": _weights(row), "learning rate": _lr(p)}
    if key == "2":
        return {"method": method, "delay p": str(tp["p"]), "learning rate": _lr(p), "# weights": _weights(row)}
    if key == "2b":
        return {"method": method, "p": str(tp["p"]), "# weights": _weights(row)}
    if key == "3":
        q, pp = tp["q"], tp["p"]
        return {"q (time lag − 1)": f"{q:,}", "p (# distractor symbols)": f"{pp:,}", "q/p": f"{q / pp:g}",
                "# weights": _weights(row)}
    if key in ("4", "5", "6"):
        return {"T": str(tp["T"]), "N": str(tp["N"]), "# weights": _weights(row)}
    if key in ("7", "8"):
        out = {"T": f"{tp['T']:,}", "minimal lag": f"{tp['T'] // 2:,}", "# weights": _weights(row)}
        if key == "8":
            out["n_seq"] = str(tp["n_seq"])
        return out
    if key == "9":
        return {"task": p.row, "# weights": _weights(row)}
    return {"task": f"{p.task} " + " ".join(f"{k}={v}" for k, v in tp.items()), "architecture": _arch(p),
            "# weights": _weights(row)}


def _main_label(key: str) -> str:
    return {"4": "stop: ST2", "5": "stop: ST2", "6": "stop", "RS": "guesses"}.get(key, "success after")


def _mean_known(g: pd.DataFrame, column: str) -> float:
    """Mean of ``column`` over the trials that have it (older stores hold NULL), NaN when none has."""
    values = g[column].dropna() if column in g else ()
    return float(values.mean()) if len(values) else math.nan


def _success(s: dict) -> str:
    if not s["n"]:
        return "–"
    return f"{s['k']}/{s['n']} = {100 * s['rate']:.0f} % ({100 * s['wilson_lo']:.0f}–{100 * s['wilson_hi']:.0f})"


def _wrong(s: dict) -> str:
    if not s["tested"]:
        return "–"
    extra = f" [{s['tested']}]" if s["tested"] != s["n"] else ""
    return f"{s['wrong_mean']:,.1f} (max {s['wrong_max']:,.0f}){extra}"


def _before_main(key: str, row: Row) -> dict[str, str]:
    ref, s = row.preset.paper, row.stats
    if key in ("4", "5"):
        return {"paper: ST1": _int(ref.extra.get("ST1")), "ours: ST1 (mean)": _int(s.get("milestone ST1"))}
    return {}


def _after_main(key: str, row: Row) -> dict[str, str]:
    ref, s = row.preset.paper, row.stats
    frac_paper = None if ref.wrong is None or not ref.n_test else ref.wrong / ref.n_test
    if key in ("4", "5", "6"):
        label = "ST2: fraction misclassified" if key != "6" else "fraction misclassified"
        out = {f"paper: {label}": _num(frac_paper, ".6f"), f"ours: {label}": _num(s["frac_wrong"], ".6f")}
        if key == "6":
            out["paper: av. difference to mean"] = _num(ref.extra.get("av. difference to mean"), ".3f")
            out["ours: av. difference to mean"] = _num(s["abs_mean"], ".3f")
        return out
    if key in ("7", "8", "9"):
        n_test = s["n_test"] or ref.n_test
        out = {f"paper: # wrong (of {ref.n_test:,})": _int(ref.wrong) if ref.wrong is not None else "–",
               f"ours: # wrong (of {n_test:,})": _wrong(s)}
        if key == "8":
            out["paper: MSE (test)"] = _num(ref.extra.get("MSE"), ".4f")
            out["ours: MSE (test)"] = _num(s["mse"], ".4f")
        return out
    return {}


def display_row(key: str, row: Row) -> dict[str, str]:
    """One row of paper table ``key`` as formatted text in the paper's columns."""
    s, label = row.stats, _main_label(key)
    out = {"id": row.preset.id, **_descriptors(key, row), "paper: % success": _paper_rate(row.preset),
           "ours: success k/n (95 % CI)": _success(s), **_before_main(key, row),
           f"paper: {label}": _paper_seq(row.preset),
           "ours: mean (median)": "–" if not s["k"] else f"{_int(s['mean'])} ({_int(s['median'])})",
           "ours: min–max": "–" if not s["k"] else f"{_int(s['min'])}–{_int(s['max'])}",
           "ours: 95 % CI of mean": "–" if not s["k"] else f"{_int(s['ci_lo'])}–{_int(s['ci_hi'])}",
           **_after_main(key, row),
           "settings": row.settings or "–", "verdict": s["verdict"]}
    return out


def raw_row(key: str, row: Row) -> dict[str, Any]:
    """One row of paper table ``key`` as numbers (for CSV): descriptors, our statistics, the paper's."""
    s, ref = row.stats, row.preset.paper
    out: dict[str, Any] = {"id": row.preset.id, "paper row": ref.row, **_descriptors(key, row),
                           "settings": row.settings, "trials": s["n"], "successes": s["k"],
                           "success rate": s["rate"], "wilson lo": s["wilson_lo"], "wilson hi": s["wilson_hi"],
                           "paper success rate": ref.implied_rate if not ref.rate_text else ref.rate_text,
                           "mean": s["mean"], "median": s["median"], "min": s["min"], "max": s["max"],
                           "ci lo": s["ci_lo"], "ci hi": s["ci_hi"], "paper mean": ref.sequences,
                           "paper bound": ref.bound, "paper uncertain": ref.uncertain, "unit": s["unit"],
                           "tested": s["tested"], "wrong mean": s["wrong_mean"], "wrong max": s["wrong_max"],
                           "paper wrong": ref.wrong, "fraction wrong": s["frac_wrong"], "test mse": s["mse"],
                           "test mean abs error": s["abs_mean"], "n_test": s["n_test"], "weights": s["weights"],
                           "paper weights": ref.weights,
                           "budget": s["budget"]}
    out.update({k: v for k, v in s.items() if k.startswith("milestone ")})
    out.update({f"paper {k}": v for k, v in ref.extra.items()})
    out["verdict"], out["reason"] = s["verdict"], s["reason"]
    out["command"] = row.preset.command() if row.preset.implemented else ""
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
    """One line per preset over all tables: what ran, our figures beside the paper's, and the verdict."""
    out = []
    for r in rows:
        s, ref = r.stats, r.preset.paper
        judged = r.mode == "paper" and s.get("k") and ref.sequences and not ref.bound  # reduced runs: no ratio
        ratio = s["mean"] / ref.sequences if judged else math.nan
        out.append({
            "id": r.preset.id, "table": r.preset.table, "method": METHODS.get(r.preset.model, r.preset.model),
            "settings": r.settings or "–", "paper: % success": _paper_rate(r.preset),
            "ours: success": f"{s['k']}/{s['n']}" if s.get("n") else "–",
            "paper: mean": _paper_seq(r.preset) + (" guesses" if ref.unit == "guesses" else ""),
            "ours: mean (median)": f"{_int(s['mean'])} ({_int(s['median'])})" if s.get("k") else "–",
            "ours / paper": "–" if math.isnan(ratio) else stats.ratio_text(ratio),
            "verdict": s["verdict"],
        })
    return pd.DataFrame(out)

"""The run summary: one line per stored configuration, narrow enough for a terminal (``lstm97 run``,
``lstm97 results``).

A configuration is shown by its task and model with the parameters that differ from the paper's defaults
(the stored arguments) and its budget, so configurations that differ only in a hyperparameter are told apart.
The test columns are the ones the task chooses (``Task.summary_metrics``: wrong test sequences, test MSE, mean
absolute error). The paper's figure is shown only beside a configuration that *is* one of the paper's rows
(a preset at its settings and budget, :mod:`lstm97.report.match`), and the column is left out when no row has
one (a plugin's tasks). Every cell is text: thousands separators, "–" where there is nothing to show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..paper.presets import PRESETS, Preset
from .match import has_budget, has_settings
from .reproduction import _int

#: What the summary shows when a task names no metrics of its own.
DEFAULT_METRICS = ("test_wrong",)
#: The stored test statistics a task may choose, and their column labels.
METRIC_LABELS = {"test_wrong": "test: wrong", "test_mse": "test: MSE", "test_abs": "test: mean |error|"}


def args_text(args: Any) -> str:
    """``name=value`` pairs of stored (canonical) arguments; lists as ``a,b``."""
    if not isinstance(args, Mapping):
        return ""
    return " ".join(f"{k}={','.join(f'{x:g}' for x in v) if isinstance(v, list) else v}" for k, v in args.items())


def configuration(first: pd.Series) -> str:
    """``task ARGS · model ARGS[ · budget N]`` of a stored trial's configuration: its non-default parameters,
    and its budget where that is not the task's."""
    task = " ".join(t for t in (first["task"], args_text(first.get("task_args"))) if t)
    model = " ".join(t for t in (first["model"], args_text(first.get("model_args"))) if t)
    default = first.get("default_budget")
    own = default is None or pd.isna(default) or int(default) != int(first["max_sequences"])
    return f"{task} · {model}" + (f" · budget {_int(first['max_sequences'])}" if own else "")


def paper_preset(first: pd.Series) -> Preset | None:
    """The preset whose paper settings and budget this stored configuration has, if any."""
    for p in PRESETS:
        if p.implemented and has_settings(first, p.task, p.task_params, p.model, p.model_params):
            if has_budget(first, p.max_sequences):
                return p
    return None


def _metric(g: pd.DataFrame, name: str) -> str:
    tested = g[g["test_wrong"] >= 0]
    if not len(tested):
        return "–"
    if name == "test_wrong":
        n_test = int(tested["n_test"].iloc[0])
        mean = f"{tested['test_wrong'].mean():,.1f}".removesuffix(".0")
        return f"{mean} of {n_test:,} (max {int(tested['test_wrong'].max()):,})"
    values = tested[name].dropna() if name in tested else ()
    return f"{values.mean():.4g}" if len(values) else "–"


def _paper_text(p: Preset) -> str:
    ref = p.paper
    if ref.sequences is None:
        return p.id
    rate = "" if ref.success_rate is None else f", {100 * ref.success_rate:.0f} %"
    return f"{p.id}: {ref.bound}{ref.sequences:,.0f}{rate}"


def summary(df: pd.DataFrame, metrics: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """One row per configuration, as text: the configuration (with its budget where it is not the task's),
    successes, sequences to success (mean and median over the successful trials), earlier milestones, the
    task's test metrics
    (``metrics``: task name -> stored columns; default :data:`DEFAULT_METRICS`) and the paper's figure where
    the configuration is a paper row."""
    metrics = metrics or {}
    rows = []
    for _, g in df.groupby("config_key", sort=False):
        first = g.iloc[0]
        ok = g[g["success"]]
        unit = first.get("unit") if isinstance(first.get("unit"), str) else "sequences"
        seq = "–" if not len(ok) else f"{_int(ok['sequences'].mean())} ({_int(ok['sequences'].median())})"
        if unit != "sequences" and len(ok):
            seq += f" {unit}"
        row: dict[str, str] = {
            "configuration": configuration(first),
            "success": f"{len(ok)}/{len(g)}",
            "sequences: mean (median)": seq,
        }
        final = first.get("stop_rule")
        for name in sorted({m for ms in g["milestones"] for m in ms} - {final}):
            reached = [ms[name] for ms in g["milestones"] if name in ms]
            row[f"{name}: mean"] = _int(sum(reached) / len(reached))
        for name in metrics.get(first["task"], DEFAULT_METRICS):
            row[METRIC_LABELS.get(name, name)] = _metric(g, name)
        preset = paper_preset(first)
        row["paper"] = _paper_text(preset) if preset is not None else ""
        rows.append(row)
    out = pd.DataFrame(rows)
    if not len(out):
        return out
    out = out[[c for c in out.columns if c != "paper"] + ["paper"]]  # the paper's figure last
    if not out["paper"].astype(bool).any():
        out = out.drop(columns="paper")  # none of these is a paper row: no empty paper column
    return out.fillna("–")


#: Widest text of a summary column before it wraps (the configuration can be long).
WRAP = {"configuration": 32, "paper": 20}


def summary_text(df: pd.DataFrame, metrics: Mapping[str, Sequence[str]] | None = None) -> str:
    """:func:`summary` as a plain text table for a terminal (long configurations wrap)."""
    table = summary(df, metrics)
    widths = [WRAP.get(c) for c in table.columns]
    return table.to_markdown(index=False, tablefmt="simple", disable_numparse=True, maxcolwidths=widths)

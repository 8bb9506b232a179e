"""Summaries of stored trials in the paper's columns, beside the paper's own numbers."""

from __future__ import annotations

import pandas as pd

from ..paper import results as paper


def _params_text(params: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def _milestone_columns(g: pd.DataFrame, final: str) -> dict[str, float]:
    """Mean sequences until each earlier milestone (e.g. ST1 before ST2), over the trials that reached it."""
    names = sorted({name for m in g["milestones"] for name in m} - {final})
    return {f"mean seq. to {name}": pd.Series([m[name] for m in g["milestones"] if name in m]).mean() for name in names}


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: trials, % success, sequences to success, wrong test predictions, weights,
    and the paper's figures where it reports this configuration."""
    rows = []
    for _, g in df.groupby("config_key", sort=False):
        first = g.iloc[0]
        ok = g[g["success"]]
        tested = g[g["test_wrong"] >= 0]
        ref = paper.find(first["task"], first["task_params"], first["model"], first.get("model_params"))
        rows.append(
            {
                "task": first["task"],
                "params": _params_text(first["task_params"]),
                "model": first["model"],
                "trials": len(g),
                "unit": first["unit"] if "unit" in first and isinstance(first["unit"], str) else "sequences",
                "% success": 100.0 * len(ok) / len(g),
                "mean seq.": ok["sequences"].mean() if len(ok) else float("nan"),
                "median seq.": ok["sequences"].median() if len(ok) else float("nan"),
                **_milestone_columns(g, first["stop_rule"]),
                "budget": int(first["max_sequences"]),
                f"wrong of {int(first['n_test'])} (mean/max)": (
                    f"{tested['test_wrong'].mean():.1f}/{tested['test_wrong'].max()}" if len(tested) else "-"
                ),
                "weights": int(first["n_weights"]),
                "paper: % success": None if ref is None or ref.success_rate is None else 100 * ref.success_rate,
                "paper: mean seq.": None if ref is None else ref.sequences,
                "paper: wrong": None if ref is None else ref.wrong,
                "paper: other": ""
                if ref is None
                else ", ".join(
                    f"{k} {v:,}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in ref.extra.items()
                ),
                "paper ref": "" if ref is None else f"Table {ref.table} row {ref.row}",
            }
        )
    return pd.DataFrame(rows)


def summary_markdown(df: pd.DataFrame) -> str:
    return summary(df).to_markdown(index=False, floatfmt=",.0f")

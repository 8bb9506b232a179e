"""Exports of the store: a flat trial table (task and model parameters as columns) to CSV or Markdown."""

from __future__ import annotations

import pandas as pd


def flat_trials(df: pd.DataFrame) -> pd.DataFrame:
    """Trials with task parameters as ``task.NAME`` and model parameters as ``model.NAME`` columns."""
    task_cols = pd.json_normalize(df["task_params"].tolist()).add_prefix("task.")
    model_cols = pd.json_normalize(df["model_params"].tolist()).add_prefix("model.")
    for frame in (task_cols, model_cols):
        frame.index = df.index
        for col in frame.columns:  # tuples and lists (gate biases) as "a,b"
            frame[col] = frame[col].map(lambda v: ",".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    reached = pd.json_normalize(df["milestones"].tolist()).add_prefix("reached.")
    reached.index = df.index
    task_cols = pd.concat([task_cols, reached], axis=1)
    base = df.drop(columns=["task_params", "model_params", "milestones"])
    front = ["id", "task", "model", "seed", "status", "success", "sequences", "test_wrong", "test_mse"]
    rest = [c for c in base.columns if c not in front]
    return pd.concat([base[front], task_cols, model_cols, base[rest]], axis=1)


def to_csv(df: pd.DataFrame) -> str:
    return flat_trials(df).to_csv(index=False)


def to_markdown(df: pd.DataFrame) -> str:
    return flat_trials(df).to_markdown(index=False)

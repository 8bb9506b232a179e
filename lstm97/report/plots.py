"""Figures of the reproduction report (matplotlib, object API on the Agg canvas; PNG files).

* :func:`sequences_figure`: per row of a paper table, every trial's sequences to success (failures at the
  count where they stopped) against the paper's mean;
* :func:`lag_figure`: Exp 2c learning time against the time lag and against q/p (Table 3's trend);
* :func:`curves_figure`: learning curves from the store's curves table;
* :func:`overview_figure`: one page over all rows: our mean over the paper's, with its interval, coloured by
  the verdict;
* :func:`trace_figure`: a trained LSTM's gate activations, cell states and outputs over one sequence
  (:meth:`lstm97.models.lstm.LSTM.trace`), e.g. a temporal-order net (PAPER.md §3.8, Table 9's discussion).

Every function draws from data it is given and writes one file; none trains.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from . import stats
from .reproduction import Row, ratio

PAPER_COLOR = "tab:red"


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def _label(row: Row) -> str:
    return row.preset.id + ("" if row.mode == "paper" else " *")


def _thousands(x: float, _pos: int) -> str:
    return f"{x / 1e6:g}M" if abs(x) >= 1e6 else f"{x / 1e3:g}k" if abs(x) >= 1e3 else f"{x:g}"


def sequences_figure(title: str, rows: list[Row], path: Path) -> Path | None:
    """Each row's trials (dots: successes, crosses: failures) and the paper's mean (red diamond; a red
    triangle for "more than"), on a log scale. Rows marked * ran at reduced settings."""
    rows = [r for r in rows if len(r.trials)]
    if not rows:
        return None
    reduced = any(r.mode != "paper" for r in rows)
    items = [(_label(r), r.trials, r.preset.paper) for r in rows]
    unit = rows[0].stats.get("unit") or "sequences"
    return dots_figure(title + ("  (* reduced settings)" if reduced else ""), items, path, unit)


def dots_figure(title: str, items: list[tuple[str, pd.DataFrame, Any]], path: Path, unit: str = "sequences") -> Path:
    """One line per (label, trials, paper row or None): the trials' sequences until the stopping rule held (dots:
    successes, crosses: failures, bar: the mean of the successes) and the paper's mean, on a log scale."""
    fig = _figure(8, 1.2 + 0.45 * len(items))
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)  # vertical jitter only
    for i, (_, g, ref) in enumerate(items):
        y = len(items) - 1 - i
        ok = g[g["success"]]["sequences"].to_numpy(dtype=float)
        bad = g[~g["success"]]["sequences"].to_numpy(dtype=float)
        ax.scatter(
            ok,
            y + rng.uniform(-0.15, 0.15, ok.size),
            s=14,
            color="tab:blue",
            alpha=0.7,
            label="ours: success" if i == 0 else None,
        )
        ax.scatter(
            bad,
            y + rng.uniform(-0.15, 0.15, bad.size),
            s=18,
            marker="x",
            color="gray",
            label="ours: stopped without success" if i == 0 else None,
        )
        if ok.size:
            ax.plot([ok.mean()] * 2, [y - 0.3, y + 0.3], color="tab:blue", lw=2)
        if ref is not None and ref.sequences:
            ax.scatter(
                [ref.sequences],
                [y],
                marker=">" if ref.bound else "D",
                s=40,
                color=PAPER_COLOR,
                zorder=3,
                label="paper: mean" if i == 0 else None,
            )
    ax.set_yticks(range(len(items)), [label for label, _, _ in reversed(items)])
    ax.set_xscale("log")
    ax.set_xlabel(f"{unit} until the stopping rule held (bar: our mean)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(axis="x", which="both", alpha=0.3)
    return _save(fig, path)


def lag_figure(rows: list[Row], path: Path) -> Path | None:
    """Exp 2c (Table 3): mean sequences to success against q when q = p, and against q/p at the longest q
    (of the rows whose presets set both the lag q and the number of distractors p). Ours only where a row's
    trials are at the paper's settings: a line never joins trials of other lags, budgets or trial counts."""
    rows = [r for r in rows if {"q", "p"} <= set(r.preset.task_params)]
    if not any(len(r.trials) and r.mode == "paper" for r in rows):
        return None
    fig = _figure(10, 4)
    panels = [fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)]
    series = {0: [], 1: []}  # (x paper, paper mean, x ours, ours mean, lo, hi, reduced)
    q_max = max(r.preset.task_params["q"] for r in rows)
    for r in rows:
        q, p = r.preset.task_params["q"], r.preset.task_params["p"]
        which = [0] if q == p else []
        if q == q_max:
            which.append(1)
        s = r.stats
        mean = s["mean"] if r.mode == "paper" else math.nan
        for w in which:
            x = q if w == 0 else q / p
            series[w].append((x, r.preset.paper.sequences, x, mean, s["ci_lo"], s["ci_hi"]))
    for w, ax in enumerate(panels):
        pts = sorted(series[w])
        if not pts:
            continue
        ax.plot([t[0] for t in pts], [t[1] for t in pts], "D-", color=PAPER_COLOR, label="paper (mean of 20)")
        ours = sorted((t for t in pts if not math.isnan(t[3])), key=lambda t: t[2])
        if ours:
            x = np.array([t[2] for t in ours])
            m = np.array([t[3] for t in ours])
            err = np.nan_to_num(np.array([[t[3] - t[4] for t in ours], [t[5] - t[3] for t in ours]]))
            ax.errorbar(x, m, yerr=err, fmt="o-", color="tab:blue", capsize=3, label="ours: mean, 95 % bootstrap CI")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylabel("training sequences until success")
        ax.grid(which="both", alpha=0.3)
        ax.legend(fontsize=8)
    panels[0].set_xlabel("q (minimal time lag − 1), with p = q distractor symbols")
    panels[1].set_xlabel(f"q/p at the longest lag (paper q = {q_max:,})")
    fig.suptitle("Exp 2c (Table 3): learning time against time lag", fontsize=10)
    return _save(fig, path)


VERDICT_COLORS = {
    stats.AGREES: "tab:green",
    stats.BETTER: "tab:blue",
    stats.WORSE: "tab:red",
    stats.INCONCLUSIVE: "tab:gray",
    stats.NO_REFERENCE: "tab:olive",
}


def overview_figure(rows: list[Row], path: Path) -> Path | None:
    """Every row with a ratio to show (trials at the paper's settings, a success, a paper mean that is no
    bound): our mean sequences to success over the paper's mean, with the 95 % interval of that ratio (none
    from fewer than 3 successes), on a log scale, coloured by the row's verdict; the band of the verdict
    rule's tolerance shaded. Rows without a ratio are listed in the caption of the report, not here."""
    points = [(r, *ratio(r)) for r in rows]
    points = [p for p in points if not math.isnan(p[1])]
    if not points:
        return None
    fig = _figure(8, 0.28 * len(points) + 1.4)
    ax = fig.add_subplot(1, 1, 1)
    ax.axvspan(1 / stats.FACTOR, stats.FACTOR, color="0.92", zorder=0, label="tolerance of the verdict rule")
    ax.axvline(1.0, color="0.6", lw=0.8, zorder=1)
    seen = set()
    for y, (r, mid, lo, hi) in enumerate(reversed(points)):
        verdict = r.stats["verdict"]
        color = VERDICT_COLORS.get(verdict, "black")
        if not math.isnan(lo):
            ax.plot([lo, hi], [y, y], color=color, lw=2, solid_capstyle="butt", zorder=2)
        ax.plot([mid], [y], "o", color=color, zorder=3, label=None if verdict in seen else verdict)
        seen.add(verdict)
    ax.set_yticks(range(len(points)), [f"{r.preset.id} ({r.stats['k']}/{r.stats['n']})" for r, *_ in reversed(points)])
    ax.set_xscale("log")
    ax.set_xlabel("our mean sequences to success / the paper's mean (95 % bootstrap interval)")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title("All rows at the paper's settings: how far our mean is from the paper's", fontsize=10)
    return _save(fig, path)


def curves_figure(title: str, rows: list[Row], curves: pd.DataFrame, path: Path, max_rows: int = 12) -> Path | None:
    """Fraction of training sequences correct per block of 1000 sequences (the last point: the trial's last,
    shorter block, where the store has it), one line per trial ending in a dot where the trial stopped (filled:
    success), on a log axis of sequences, for each row with stored curves; the paper's mean as a dashed red
    line."""
    panels = []
    for r in rows:
        if not len(r.trials):
            continue
        c = curves[curves["trial_id"].isin(r.trials["id"])]
        if len(c):
            panels.append((r, c))
    panels = panels[:max_rows]
    if not panels:
        return None
    cols = min(3, len(panels))
    nrows = math.ceil(len(panels) / cols)
    fig = _figure(4 * cols, 2.6 * nrows)
    for i, (r, c) in enumerate(panels):
        ax = fig.add_subplot(nrows, cols, i + 1)
        success = dict(zip(r.trials["id"], r.trials["success"], strict=True))
        for trial_id, tc in c.groupby("trial_id"):
            tc = tc.sort_values("sequences")
            (line,) = ax.plot(tc["sequences"], tc["frac_correct"], lw=0.8, alpha=0.7)
            end = tc.iloc[-1]
            ax.plot(
                [end["sequences"]],
                [end["frac_correct"]],
                "o",
                ms=3,
                color=line.get_color(),
                mfc=line.get_color() if success.get(trial_id) else "none",
            )
        ref = r.preset.paper
        if ref.sequences and not ref.bound:
            ax.axvline(ref.sequences, color=PAPER_COLOR, ls="--", lw=1, label="paper: mean")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.xaxis.set_minor_formatter(NullFormatter())  # short curves would label minor ticks in another size
        ax.set_title(_label(r) + f" ({len(r.trials)} trials)", fontsize=9)
        ax.set_xlabel("training sequences", fontsize=8)
        ax.set_ylabel("fraction correct", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(title + ": learning curves", fontsize=10)
    return _save(fig, path)


def trace_figure(
    trace: dict[str, np.ndarray],
    inputs: np.ndarray,
    target: np.ndarray,
    path: Path,
    title: str,
    input_names: list[str] | None = None,
    block_size: int = 1,
) -> Path:
    """Inputs, gate activations, cell states and outputs of one sequence (from ``LSTM.trace``)."""
    L = inputs.shape[0]
    t = np.arange(L)
    fig = _figure(10, 10)
    axes = [fig.add_subplot(5, 1, i + 1) for i in range(5)]
    axes[0].imshow(
        inputs.T,
        aspect="auto",
        interpolation="nearest",
        cmap="Greys",
        extent=(-0.5, L - 0.5, inputs.shape[1] - 0.5, -0.5),
    )
    if input_names:
        axes[0].set_yticks(range(len(input_names)), input_names, fontsize=7)
    axes[0].set_ylabel("input")
    for j in range(trace["y_in"].shape[1]):
        axes[1].plot(t, trace["y_in"][:, j], label=f"block {j + 1}")
        axes[2].plot(t, trace["y_out"][:, j], label=f"block {j + 1}")
    axes[1].set_ylabel("input gate y_in")
    axes[2].set_ylabel("output gate y_out")
    for c in range(trace["s_c"].shape[1]):
        axes[3].plot(t, trace["s_c"][:, c], label=f"cell {c // block_size + 1}.{c % block_size + 1}")
    axes[3].set_ylabel("cell state s_c")
    for k in range(trace["outputs"].shape[1]):
        (line,) = axes[4].plot(t, trace["outputs"][:, k], label=f"output {k + 1}")
        axes[4].scatter([L - 1], [target[k]], color=line.get_color(), marker="o", s=25)
    axes[4].set_ylabel("outputs (dots: target)")
    axes[4].set_xlabel("time step")
    for ax in axes[1:]:
        ax.set_xlim(-0.5, L - 0.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", ncol=4)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)

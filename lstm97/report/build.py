"""``lstm97 report``: the reproduction report as files, built from a results store alone (never by training).

Writes to the output directory:

* ``README.md``: every paper table (PAPER.md §4 Tables 1–9, the Task 2b text, §5 guessing) in the paper's
  columns beside our figures, the verdict rule, notes and the figures, then an account of each LSTM gap
  (lstm97.report.accounts);
* ``<table>.csv`` (numbers) and ``<table>.tex`` (the Markdown table as LaTeX) per paper table;
* ``report.tex`` (a document of every ``<table>.tex``) and ``report.pdf`` from it when pdflatex is on PATH
  (lstm97.report.latex);
* ``trials.csv``: every stored trial (lstm97.results.export);
* ``figures/*.png``: distributions of sequences to success, Exp 2c learning time against lag, learning curves,
  and the internal activations of a trained temporal-order net (when a trial with stored weights exists).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

import pandas as pd

from ..errors import UserError
from ..paper.tables import SPECS, TABLES, Figure, TableSpec
from ..results import Store
from ..results.export import to_csv
from ..results.nets import stored_net
from . import accounts, plots, stats
from .ablations import findings
from .ablations import section as ablation_section
from .latex import latex, write_document
from .reproduction import Row, command, match, ratio, reproduce_options, summary, tables


def file_stem(key: str) -> str:
    """File name of paper table ``key`` (its TableSpec's stem): table1 … table9, table2b, guessing."""
    return SPECS[key].stem


def _notes(key: str, rows: list[Row]) -> list[str]:
    """The notes under paper table ``key``: the stopping rules of its stored trials (as the store records
    them), the table's own notes (its TableSpec), then each row's."""
    mine = [r for r in rows if r.preset.table == key]
    notes = []
    rules = []
    for r in mine:
        if r.mode == "none" or not r.preset.implemented or "protocol" not in r.trials:
            continue
        rule = r.trials["protocol"].iloc[0]
        if isinstance(rule, str) and rule and rule not in rules:
            rules.append(rule)
    if rules:
        notes.append("Stopping rule: " + "; ".join(rules) + ".")
    notes += SPECS[key].notes
    for r in mine:
        ref = r.preset.paper
        bits = [b for b in (r.preset.note, ref.note if ref.uncertain else "") if b]
        if r.why and r.preset.implemented:
            bits.append(f"not run here: {r.why}")
        if r.stats.get("verdict") in stats.JUDGED and r.stats.get("reason"):
            bits.append(f"{r.stats['verdict']}: {r.stats['reason']}")
        if bits:
            notes.append(f"`{r.preset.id}`: " + "; ".join(bits) + ".")
    return notes


GENERAL_NOTES = """\
How to read the tables: "paper" columns are the paper's figures (PAPER.md §4; ≈ marks an estimate or an
uncertain value, ">" a bound where no trial succeeded, "(100)" a rate the paper implies by giving a mean over
all its trials); "paper n" is its number of trials ("–": PAPER.md does not say). "ours: success k/n" counts our
successful trials out of all n stored, with the 95 % Wilson interval in percent, and "n=2 of 10" where n is
below the paper's count (or, where it gives none, the preset's). Mean (median), min–max and the 95 %
percentile-bootstrap interval of the mean (10,000 resamples, seed 1997; "–" from fewer than 3 successes) are
over the k successful trials; the restricted mean (KM median) is over all n trials, a failed trial counted
(censored) at the budget ("> budget": fewer than half succeeded). Test errors ("# wrong", fractions
misclassified, MSE) are means over the successful trials that were tested, as the paper's are (it tests a net
once its stopping criterion holds, and in Tables 4–9 all its trials met it; [m]: only m were tested), then,
after "all:", over every tested trial where some did not succeed ([m] when fewer than n, i.e. some diverged);
the CSV files have both. "budget" is the budget per trial, "(ours)" where the paper gives none or another.
"settings" is "paper" for the preset's settings, otherwise what differs from them ("quick:" for
`lstm97 reproduce --quick`). Every statistic is computed from the trials in the order of their seeds, so the
tables do not depend on the order of the store."""


SUMMARY_NOTE = """\
Every preset (row of the paper's tables) in one table: the paper's number of trials and the budget per trial
("(ours)" where the paper gives none or another), our successful trials out of those stored ("n=2 of 10" when
fewer than the paper's), our mean (median) sequences to success over the successful trials beside the paper's
mean, the restricted mean (KM median) over every trial (failures counted at the budget), the ratio of our mean
to the paper's with its 95 % interval, and the verdict (rule below). "settings" says what differs from the
paper's (a reduced `--quick` run, or a cut budget). Also written alone to `summary.md`. Regenerate a row with
`lstm97 reproduce ID --store STORE` (`--trials N` for fewer trials than the paper's; stored trials are skipped;
the CSV files' "command" column names each row's) and the report with `lstm97 report --store STORE --out DIR`."""


def regenerate_commands(
    rows: list[Row], df: pd.DataFrame, store_name: str, recorded: pd.DataFrame | None = None
) -> list[str]:
    """The commands that rebuild the store's trials behind the report, derived from what is stored: presets
    at the paper's settings with their trial counts, reduced runs (--quick, cut budgets), the accounts'
    evidence runs and the recorded ablations and extended tables (``recorded``), then the report itself.
    Trials stored with other seeds than 0..n-1 are named in a comment."""
    full: dict[str, list[str]] = {}  # options (reproduce_options) -> the ids at the paper's settings
    other: list[str] = []
    odd: list[str] = []
    quick = False
    for r in rows:
        n = r.stats.get("n") or 0
        if not n:
            continue
        seeds = sorted(int(x) for x in r.trials["seed"])
        if seeds != list(range(n)):
            odd.append(f"{r.preset.id} (seeds {', '.join(map(str, seeds))})")
        options = reproduce_options(r)
        if r.mode == "paper":
            full.setdefault(options, []).append(r.preset.id)
        elif r.match == "quick":
            quick = True
        else:  # the paper's ("budget") or the quick ("quick budget") task settings with another budget
            other.append(f"{command(r)} --store {store_name}")
    cmds = [
        f"lstm97 reproduce {' '.join(ids)}{options} --store {store_name}"
        for options, ids in sorted(full.items(), key=lambda kv: (kv[0] != "", int(kv[0].split()[-1]) if kv[0] else 0))
    ]
    cmds += other
    if quick:
        cmds.append(f"lstm97 reproduce --all --quick --store {store_name}")
    seen: set[str] = set()
    for acc in accounts.ACCOUNTS.values():
        for e in acc.evidence:
            stored = accounts.evidence_trials(e, df)
            cmd = e.command(store_name, trials=len(stored))
            if len(stored) and cmd not in seen:
                seen.add(cmd)
                cmds.append(cmd)
    if recorded is not None and len(recorded):
        from .ablations import commands as ablation_commands

        cmds += ablation_commands(df, recorded, store_name)
    if odd:
        cmds.insert(0, "# stored with other seeds than 0..n-1 (pass --seed): " + "; ".join(odd))
    return cmds


def regenerate(commands: list[str], store_name: str) -> list[str]:
    """Markdown lines: ``commands`` (from :func:`regenerate_commands`), then the report's own."""
    return [
        "## Regenerating this store\n",
        "The trials behind this report, as commands (derived from the store itself; trials already stored "
        "are skipped, and a trial is the same bit for bit on any machine and with any `--jobs`). The same "
        "commands are in `regenerate.sh`:\n",
        "```bash",
        *commands,
        f"lstm97 report --store {store_name} --out DIR",
        "```",
        "",
    ]


def _trace(db: Store, rows: list[Row], out: Path, figure: Figure) -> tuple[Path, str] | None:
    """The activations of one trained net of ``figure.presets`` over one of its test sequences, if weights exist
    (the first preset, then the first successful trial with the lowest seed, that has a stored net): the file
    written and the stored net's note ("" when the installed task and model versions trained it)."""
    from ..seeding import streams

    by_id = {r.preset.id: r for r in rows}
    for pid in figure.presets:
        r = by_id.get(pid)
        if r is None or not len(r.trials):
            continue
        g = r.trials[r.trials["has_weights"]]
        if not len(g):
            continue
        g = g.sort_values(["success", "seed"], ascending=[False, True])
        trial = g.iloc[0]
        net = stored_net(trial, db)
        if net is None or not hasattr(net.model, "trace"):
            continue
        task, model, state = net.task, net.model, net.state
        batch = task.sample(streams(int(trial["seed"])).test, 1)
        tr = model.trace(state, batch)
        L = int(batch.lengths[0])
        names = list(figure.inputs) if len(figure.inputs) == batch.inputs.shape[2] else None
        status = (
            f"success after {int(trial['sequences']):,} sequences"
            if trial["success"]
            else f"no success within {int(trial['sequences']):,} sequences"
        )
        ok = bool(task.correct(batch, model.predict(state, batch))[0])
        title = (
            f"{r.preset.id}: trained net (seed {int(trial['seed'])}, {status}), one test sequence, "
            f"{'correct' if ok else 'wrong'} at the end" + (f"\n({net.note})" if net.note else "")
        )
        path = plots.trace_figure(
            tr,
            batch.inputs[0, :L],
            batch.targets[0, L - 1],
            out / f"trace_{r.preset.id}.png",
            title,
            names,
            int(model.hp["block_size"]),
        )
        return path, net.note
    return None


def _figures(
    spec: TableSpec,
    rows: list[Row],
    curves: pd.DataFrame,
    fig_dir: Path,
    traces: dict[tuple[str, int], tuple[Path, str] | None],
) -> list[str | Path]:
    """The Markdown lines of paper table ``spec``'s figures (its TableSpec's), each preceded by the file written."""
    mine = [r for r in rows if r.preset.table == spec.key]
    title = spec.title
    out: list[str | Path] = []
    for i, fig in enumerate(spec.figures):
        name = fig.file or f"{fig.kind}_{spec.stem}.png"
        note = ""
        if fig.kind == "sequences":
            path = plots.sequences_figure(title, mine, fig_dir / name)
        elif fig.kind == "curves":
            path = plots.curves_figure(title, mine, curves, fig_dir / name)
        elif fig.kind == "lag":
            path = plots.lag_figure(mine, fig_dir / name)
        elif fig.kind == "trace":
            path, note = traces.get((spec.key, i)) or (None, "")
        else:
            raise ValueError(f"unknown figure kind {fig.kind!r} of {spec.title}")
        if path is not None:
            out += [path, f"![{fig.caption}](figures/{path.name})\n"]
            if note:
                out.append(f"_{path.name}: {note}._\n")
        elif fig.missing:
            out.append(fig.missing + "\n")
    return out


#: The file that marks a directory as written by ``lstm97 report`` (it lists the files written there).
MARKER = ".lstm97-report"


def check_out_dir(out: Path, force: bool = False) -> None:
    """UserError unless ``out`` is missing, empty, or a report directory written before (:data:`MARKER`):
    a report never overwrites files it did not write, unless ``force``."""
    if force or not out.exists():
        return
    if not out.is_dir():
        raise UserError(f"--out {str(out)!r} is a file; give a directory for the report.")
    if any(out.iterdir()) and not (out / MARKER).exists():
        raise UserError(
            f"--out {str(out)!r} holds files that lstm97 report did not write; give a new or empty directory, "
            "or --force to write into it anyway (files of the same names are replaced)."
        )


OTHERS_NOTE = """\
Stored configurations that are no row of the paper's tables and no evidence run of the accounts: runs with
other settings, and the tasks and models of plugins. One line per configuration, with its arguments (the
parameters that differ from the defaults) and its budget where it is not the task's; no paper column."""


def others(rows: list[Row], df: pd.DataFrame, ablations: pd.DataFrame | None = None) -> list[str]:
    """Markdown lines: the summary of every stored configuration that neither a row, an evidence run of the
    accounts nor a recorded ablation stands for (nothing when there is none)."""
    from ..paper.evidence import RUNS
    from ..paper.presets import PRESETS
    from . import match as matching
    from .tables import summary as run_summary

    used = {k for r in rows for k in r.trials["config_key"]} if len(df) else set()
    configs = matching.stored(df)
    for p in PRESETS:  # a preset's configurations at its paper or quick settings, with any budget
        for quick in (False, True):
            if quick and p.quick is None:
                continue
            task_params, model_params, _, _ = p.settings(quick)
            found = matching.select(configs, p.task, task_params, p.model, model_params, matching.ANY_BUDGET)
            used |= {c.key for c in found}
    for e in RUNS:
        used |= set(accounts.evidence_trials(e, df)["config_key"])
    if ablations is not None:
        used |= set(ablations["config_key"])
    rest = df[~df["config_key"].isin(used)] if len(df) else df
    if not len(rest):
        return []
    metrics = {task: ("test_wrong", "test_mse") for task in set(rest["task"])}
    table = run_summary(rest, metrics)
    return [
        "## Other stored configurations\n",
        OTHERS_NOTE + "\n",
        table.to_markdown(index=False, disable_numparse=True) + "\n",
    ]


def _overview(rows: list[Row], fig_dir: Path, written: list[Path], figures: bool) -> list[str]:
    """The one-page overview figure (our mean over the paper's per row, by verdict) and its caption."""
    path = plots.overview_figure(rows, fig_dir / "overview.png") if figures else None
    if path is None:
        return []
    written.append(path)
    shown = {r.preset.id for r in rows if not math.isnan(ratio(r)[0])}
    judged = [r.preset.id for r in rows if r.mode == "paper" and r.preset.id not in shown]
    left = f" Not shown (no ratio: no success, a bound, or no paper mean): {', '.join(judged)}." if judged else ""
    return [
        "![Our mean over the paper's per row, by verdict](figures/overview.png)\n",
        "Each row at the paper's settings with a success and a paper mean: our mean sequences to success over "
        "the paper's, with the 95 % bootstrap interval of that ratio (none from fewer than 3 successes); the "
        f"shaded band is the verdict rule's tolerance.{left}\n",
    ]


def build(store_path: str | Path, out_dir: str | Path, figures: bool = True, force: bool = False) -> list[Path]:
    """Write the report for every preset from the store at ``store_path``; return the files written. The
    directory must be new, empty or an earlier report's (:func:`check_out_dir`) unless ``force``."""
    out = Path(out_dir)
    fig_dir = out / "figures"
    written: list[Path] = []
    check_out_dir(out, force)
    with Store(store_path, create=False) as db:
        out.mkdir(parents=True, exist_ok=True)
        df = db.trials()
        curves = db.curves()
        recorded = db.ablations()
        rows = match(df)
        traces = (
            {
                (spec.key, i): _trace(db, rows, fig_dir, fig)
                for spec in SPECS.values()
                for i, fig in enumerate(spec.figures)
                if fig.kind == "trace"
            }
            if figures
            else {}
        )
        gaps = accounts.section(rows, df, curves, db)
    shown = tables(rows)
    raw = tables(rows, raw=True)
    tally = Counter(r.stats["verdict"] for r in rows)
    summary_md = summary(rows).to_markdown(index=False, disable_numparse=True)
    (out / "summary.md").write_text(summary_md + "\n")
    written.append(out / "summary.md")
    md = [
        "# Reproduction of Hochreiter & Schmidhuber (1997), Tables 1–9\n",
        f"Built by `lstm97 report` from `{Path(store_path).name}` ({len(df)} stored trials); it reads the "
        "store only and never trains. Each row is a preset of `lstm97 reproduce --list`.\n",
        "Verdicts: " + ", ".join(f"{n} {v}" for v, n in tally.most_common()) + ".\n",
        findings(rows, df, recorded) + "\n",
        "## Summary\n",
        SUMMARY_NOTE + "\n",
        summary_md + "\n",
        *_overview(rows, fig_dir, written, figures),
        "## Verdict rule\n",
        stats.VERDICT_RULE,
        GENERAL_NOTES + "\n",
    ]
    for key, frame in shown.items():
        stem = file_stem(key)
        (out / f"{stem}.csv").write_text(raw[key].to_csv(index=False))
        (out / f"{stem}.tex").write_text(latex(frame, TABLES[key]))
        written += [out / f"{stem}.csv", out / f"{stem}.tex"]
        md += [f"## {TABLES[key]}\n", frame.to_markdown(index=False, disable_numparse=True) + "\n"]
        md += [f"* {n}" for n in _notes(key, rows)]
        md.append("")
        if figures:
            for item in _figures(SPECS[key], rows, curves, fig_dir, traces):
                if isinstance(item, Path):
                    written.append(item)
                else:
                    md.append(item)
    name = Path(store_path).name
    commands = regenerate_commands(rows, df, name, recorded)
    md += regenerate(commands, name)
    here = Path(os.path.relpath(Path(store_path).resolve(), out.resolve())).as_posix()  # the store, from out
    script = [
        "#!/bin/sh",
        "# The runs behind this report (written by lstm97 report). Run from this folder.",
        "set -e",
        *(regenerate_commands(rows, df, here, recorded) if here != name else commands),
        f"lstm97 report --store {here} --out .",
    ]
    (out / "regenerate.sh").write_text("\n".join(script) + "\n")
    written.append(out / "regenerate.sh")
    md += gaps
    ablated, figs = ablation_section(df, recorded, fig_dir if figures else None)
    md += ablated
    written += figs
    md += others(rows, df, recorded)
    (out / "trials.csv").write_text(to_csv(df) if len(df) else "")
    (out / "README.md").write_text("\n".join(md).rstrip() + "\n")
    written += [out / "trials.csv", out / "README.md"]
    title = "Reproduction of Hochreiter & Schmidhuber (1997), Tables 1–9"
    written += write_document(out, [file_stem(key) for key in shown], title)  # report.tex, report.pdf (pdflatex)
    listing = sorted(p.relative_to(out).as_posix() for p in written)
    note = "Written by lstm97 report; lstm97 report may write here again."
    (out / MARKER).write_text("\n".join([note, *listing]) + "\n")
    return written

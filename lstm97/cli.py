"""The ``lstm97`` command line: parse, validate, delegate (no experiment logic lives here)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np

from . import __version__
from .errors import UserError
from .params import parse_assignments
from .results import DEFAULT_STORE


class _Group(click.Group):
    """Turns a user's mistake (UserError) into one line on stderr and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lstm97")
def main() -> None:
    """lstm97: the experiments of Hochreiter & Schmidhuber, "Long Short-Term Memory" (1997)."""


_params_option = click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
    help="Task parameter (repeatable), e.g. -p T=1000. See 'lstm97 tasks'.",
)
_store_option = click.option(
    "--store", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_STORE, show_default=True,
    help="SQLite results store.",
)


@main.command("tasks")
def tasks_cmd() -> None:
    """List the tasks, their parameters (type, default, allowed values) and paper references."""
    from . import tasks

    _list_registry(tasks.registry)


@main.command("models")
def models_cmd() -> None:
    """List the models and their hyperparameters."""
    from . import models

    _list_registry(models.registry)


def _list_registry(registry) -> None:
    """Each entry with its source, title, paper reference and parameters; broken plugins with their error."""
    for entry in registry.entries():
        if entry.error is not None:
            click.echo(f"{entry.name}  [from {entry.source}]  BROKEN: {entry.error}\n")
            continue
        spec = entry._obj.spec
        source = "" if entry.source == "lstm97" else f"  [from {entry.source}]"
        click.echo(f"{spec.name}{source}: {spec.title} — {spec.paper}")
        for p in spec.params:
            click.echo(f"    {p.name} = {p.default!r:<10} {p.describe():<28} {p.doc}")
        click.echo()


@main.command("sample")
@click.argument("task")
@_params_option
@click.option("--n", "n", type=click.IntRange(1), default=10, show_default=True, help="Number of sequences.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Trial seed: the sequences come from that trial's training-data stream (for most tasks its "
                   "first training sequences; not for tasks that train on a fixed set drawn from that stream, "
                   "such as reber, latch and parity).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output .npz file (arrays inputs, targets, mask, lengths).")
def sample_cmd(task: str, params: tuple[str, ...], n: int, seed: int, out: Path) -> None:
    """Write N sequences of TASK to an .npz file."""
    from . import tasks
    from .seeding import streams

    t = tasks.make(task, **parse_assignments(params))
    batch = t.sample(streams(seed).train, n)
    try:
        np.savez(out, **batch.arrays())
    except OSError as exc:
        raise UserError(f"cannot write {str(out)!r}: {exc.strerror}.") from None
    click.echo(f"wrote {n} sequences of {t.describe()} to {out}")


_SEED = click.IntRange(0, 2**63 - 1)


@main.command("run")
@click.argument("task")
@_params_option
@click.option("--model", default="lstm", show_default=True, help="Model name (see 'lstm97 models').")
@click.option("--hp", "hps", multiple=True, metavar="NAME=VALUE",
              help="Model hyperparameter overriding the paper default (repeatable), e.g. --hp lr=0.1.")
@click.option("--trials", type=click.IntRange(1), default=10, show_default=True, help="Number of trials.")
@click.option("--seed", type=_SEED, default=0, show_default=True,
              help="Seed of the first trial; trial i uses seed+i.")
@click.option("--jobs", type=click.IntRange(1), default=None, help="Worker processes [default: all cores].")
@_store_option
@click.option("--max-sequences", type=click.IntRange(1, 2**63 - 1), default=None,
              help="Training-sequence budget per trial [default: the task's paper budget].")
@click.option("--chunk", type=click.IntRange(1), default=256, show_default=True,
              help="Sequences per kernel call (speed only; never changes results).")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Run trials on a Dask distributed cluster (scheduler address) instead of local processes.")
def run_cmd(task: str, params: tuple[str, ...], model: str, hps: tuple[str, ...], trials: int, seed: int,
            jobs: int | None, store: Path, max_sequences: int | None, chunk: int,
            dask_address: str | None) -> None:
    """Run TRIALS independent trials of MODEL on TASK, store them, and print a paper-style summary.

    Trials already in the store are skipped, so re-running an interrupted command resumes it.
    """
    from . import api
    from .report.tables import summary_markdown

    cfg = api.configure(task, parse_assignments(params), model, parse_assignments(hps), max_sequences)
    (job,) = api.plan([(cfg, api.seeds_for(seed, trials))], store)
    executor = None if dask_address is None else _dask_executor(dask_address)
    jobs = api.default_jobs() if jobs is None else jobs
    click.echo(f"{task} {' '.join(params)} with {model}: {len(job.todo)} trials to run "
               f"({len(job.seeds) - len(job.todo)} already stored in {store}), "
               f"{min(jobs, max(len(job.todo), 1))} worker(s), budget {cfg.max_sequences:,} sequences", err=True)
    _execute([job], store, jobs, chunk, executor)
    df = api.trials_of([job], store)
    _warn_diverged(df)
    click.echo(summary_markdown(df))


def _warn_diverged(df) -> None:
    for _, row in df[df["status"] == "diverged"].iterrows():
        click.echo(f"warning: trial seed {row['seed']} of {row['task']} with {row['model']} diverged: "
                   f"{row['message']}; try a smaller lr.", err=True)


def _execute(jobs, store: Path, workers: int, chunk: int, executor=None) -> int:
    """``api.execute`` with a progress bar in training sequences on a terminal; an interrupt keeps what is
    stored and exits with 130 (Ctrl-C) or 143 (SIGTERM)."""
    import signal

    from . import api

    bar = _Bar() if sys.stderr.isatty() else None
    try:
        stored = api.execute(jobs, store, workers=workers, chunk=chunk, executor=executor,
                             progress=None if bar is None else bar.update)
    except api.Interrupted as exc:
        if bar is not None:
            bar.close()
        click.echo(f"\ninterrupted: {exc.stored} new trial(s) stored in {store}; run the same command again "
                   "to resume.", err=True)
        sys.exit(143 if exc.signum == signal.SIGTERM else 130)
    if bar is not None:
        bar.close()
    return stored


class _Bar:
    """A click progress bar over the trials' summed budgets: it advances with every training sequence of the
    running trials (reported by the workers) and jumps to a trial's whole budget when it finishes, so its ETA
    is the time left if every remaining trial used its whole budget (an upper bound)."""

    def __init__(self) -> None:
        self.bar = None
        self.pos = 0

    def update(self, p) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(p.budget, 1), file=sys.stderr, show_eta=True,
                                         label="sequences", item_show_func=lambda text: text)
            self.bar.__enter__()
        text = (f"{p.finished}/{p.trials} trials, {_si(p.sequences)} sequences, {_si(p.rate)}/s "
                f"(ETA: if every trial used its budget)")
        self.bar.update(max(0, p.retired - self.pos), text)
        self.pos = max(self.pos, p.retired)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"


def _dask_executor(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise UserError("--dask needs the dask extra: pip install 'lstm97[dask]'.") from None
    try:
        return Client(address, timeout=30).get_executor()
    except OSError as exc:
        raise UserError(f"cannot reach the Dask scheduler at {address!r} ({exc}).") from None


@main.command("results")
@_store_option
@click.option("--format", "fmt", type=click.Choice(["summary", "markdown", "csv"]), default="summary",
              show_default=True, help="summary: one row per configuration; markdown/csv: one row per trial.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def results_cmd(store: Path, fmt: str, out: Path | None) -> None:
    """Show or export the trials in the store."""
    from .report.tables import summary_markdown
    from .results import Store
    from .results.export import to_csv, to_markdown

    with Store(store, create=False) as db:
        df = db.trials()
    if df.empty:
        text = "(no trials stored)"
    else:
        text = {"summary": summary_markdown, "markdown": to_markdown, "csv": to_csv}[fmt](df)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text if text.endswith("\n") else text + "\n")
        click.echo(f"wrote {len(df)} trials to {out}", err=True)


_QUICK_HELP = (
    "Reduced settings for a fast check of the whole pipeline, not a reproduction: 2 trials per preset, shorter "
    "lags (e.g. adding T=100 instead of 1000, 2c q and p divided by 10, 2a p=20, 3a/3b T=200 instead of 1000) "
    "and budgets of 1,000-200,000 sequences. Stored apart from the paper's settings; the report shows them as "
    "reduced settings without a verdict. '--all --quick' takes a few minutes on 2 cores."
)


@main.command("reproduce")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--list", "show_list", is_flag=True, help="List the presets (id, table, description, trials, "
              "estimated cost) and exit; with IDs or --table only those.")
@click.option("--table", "tables", multiple=True, metavar="N",
              help="Every preset of paper table N: 1-9, 2b (the Task 2b text) or RS (§5 guessing); repeatable.")
@click.option("--all", "run_all", is_flag=True, help="Every preset (methods lstm97 does not implement are listed, "
              "never run).")
@click.option("--quick", is_flag=True, help=_QUICK_HELP)
@click.option("--trials", type=click.IntRange(1), default=None,
              help="Trials per preset (seeds 0..N-1) [default: the paper's, e.g. 30 for Table 1; 2 with --quick].")
@click.option("--jobs", type=click.IntRange(1), default=None, help="Worker processes [default: all cores].")
@_store_option
@click.option("--max-sequences", type=click.IntRange(1, 2**63 - 1), default=None,
              help="Budget per trial for every selected preset [default: the preset's]. A different budget is a "
                   "different configuration, stored apart and reported as reduced settings.")
@click.option("--chunk", type=click.IntRange(1), default=256, show_default=True,
              help="Sequences per kernel call (speed only; never changes results).")
def reproduce_cmd(ids: tuple[str, ...], show_list: bool, tables: tuple[str, ...], run_all: bool, quick: bool,
                  trials: int | None, jobs: int | None, store: Path, max_sequences: int | None, chunk: int) -> None:
    """Run the paper's experiments: the presets ID... (see --list), a whole paper table, or all of them.

    Each preset is one row of the paper's Tables 1-9 (ids follow Table 10: 1-1 ... 1-5, 2a, 2b, 2c-1 ... 2c-9,
    3a-1 ... 3c-2, 4-1 ... 4-3, 5-140, 5-13, 6a, 6b), a baseline row (rtrl-..., elman-1, bptt-2a-p100) or a
    random-guessing row (guess-...), with the paper's task, model, hyperparameters, number of trials and
    stopping rule. Trials already in the store are skipped, so re-running resumes. Build the tables and
    figures afterwards with 'lstm97 report'.
    """
    from . import api
    from .report.reproduction import match, summary

    if show_list:
        chosen = api.select_presets(ids, tables, everything=not (ids or tables))
        click.echo(_preset_list(chosen, quick))
        return
    if not (ids or tables or run_all):
        raise UserError("name the presets to run (lstm97 reproduce 6a 4-1), a paper table (--table 7) or --all; "
                        "'lstm97 reproduce --list' lists them.")
    chosen = api.select_presets(ids, tables, everything=run_all)
    explicit = set(ids)
    runnable = []
    for p in chosen:
        why = api.preset_unavailable(p)
        if why is None:
            runnable.append(p)
        elif p.id in explicit:
            raise UserError(f"preset {p.id}: {why}.")
        else:
            click.echo(f"skipped {p.id}: {why}", err=True)
    jobs = api.default_jobs() if jobs is None else jobs
    if quick:
        click.echo("quick mode: REDUCED settings (fewer trials, shorter lags, smaller budgets), not the paper's; "
                   "the report shows them without a verdict.", err=True)
    if max_sequences is not None:
        click.echo(f"budget override: {max_sequences:,} sequences per trial instead of the preset's; stored as a "
                   "different configuration and reported as reduced settings.", err=True)
    planned = api.plan_presets(runnable, store, quick=quick, trials=trials, max_sequences=max_sequences)
    seconds = 0.0
    for p, job in zip(runnable, planned, strict=True):
        per_trial = p.quick_cost if quick and p.quick else p.cost
        seconds += per_trial * len(job.todo)
        reduced = f"; quick: {p.reduced(api.paper_budget(p))}" if quick else ""
        click.echo(f"{p.id:<16} Table {p.table:<3} {len(job.todo):>3} to run ({len(job.seeds) - len(job.todo)} "
                   f"stored), budget {job.config.max_sequences:,}{reduced}", err=True)
    n_todo = sum(len(job.todo) for job in planned)
    click.echo(f"{n_todo} trials on {min(jobs, max(n_todo, 1))} worker(s) into {store}; estimated "
               f"{_duration(seconds / max(1, min(jobs, n_todo)))}", err=True)
    _execute(planned, store, jobs, chunk)
    df = api.trials_of(planned, store)
    _warn_diverged(df)
    rows = match(df, runnable)
    click.echo(summary(rows).to_markdown(index=False, disable_numparse=True))
    click.echo(f"\nTables, verdicts and figures: lstm97 report --store {store} --out DIR", err=True)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _preset_list(chosen, quick: bool) -> str:
    import pandas as pd

    from . import api

    rows = []
    total = 0.0
    for p in chosen:
        if not p.implemented:
            rows.append((p.id, p.table, "-", "-", "-", f"{p.description} (not implemented)"))
            continue
        n = p.quick.trials if quick and p.quick else p.trials
        cost = p.quick_cost if quick and p.quick else p.cost
        total += n * cost
        why = api.preset_unavailable(p)
        extra = f" [unavailable: {why}]" if why else ""
        if quick:
            extra += f" [quick: {p.reduced(api.paper_budget(p))}]"
        rows.append((p.id, p.table, n, _duration(cost), _duration(n * cost), p.description + extra))
    table = pd.DataFrame(rows, columns=["id", "table", "trials", "cost/trial", "total", "description"])
    mode = "quick settings (reduced)" if quick else "the paper's settings"
    return (table.to_markdown(index=False, tablefmt="plain", colalign=("left",) * 6) +
            f"\n\nestimated total at {mode}: {_duration(total)} of one core "
            "(2-core development machine; divide by --jobs)")


@main.command("report")
@_store_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for README.md, the tables (.csv, .tex), trials.csv and figures/.")
@click.option("--no-figures", is_flag=True, help="Tables only.")
def report_cmd(store: Path, out_dir: Path, no_figures: bool) -> None:
    """Build the reproduction report from the store alone (never trains): every paper table beside ours,
    with intervals and a verdict per row, as Markdown, LaTeX and CSV, plus figures."""
    from .report.build import build

    try:
        written = build(store, out_dir, figures=not no_figures)
    except OSError as exc:
        raise UserError(f"cannot write the report to {str(out_dir)!r}: {exc.strerror}.") from None
    click.echo(f"wrote {len(written)} files to {out_dir} (start with {out_dir / 'README.md'})", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()

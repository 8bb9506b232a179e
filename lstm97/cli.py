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

    for entry in tasks.registry.entries():
        if entry.error is not None:
            click.echo(f"{entry.name}  [from {entry.source}]  BROKEN: {entry.error}\n")
            continue
        spec = entry._obj.spec
        source = "" if entry.source == "lstm97" else f"  [from {entry.source}]"
        click.echo(f"{spec.name}{source}: {spec.title} — {spec.paper}")
        for p in spec.params:
            click.echo(f"    {p.name} = {p.default!r:<10} {p.describe():<28} {p.doc}")
        click.echo()


@main.command("models")
def models_cmd() -> None:
    """List the models and their hyperparameters."""
    from . import models

    for entry in models.registry.entries():
        if entry.error is not None:
            click.echo(f"{entry.name}  [from {entry.source}]  BROKEN: {entry.error}\n")
            continue
        spec = entry._obj.spec
        click.echo(f"{spec.name}: {spec.title} — {spec.paper}")
        for p in spec.params:
            click.echo(f"    {p.name} = {p.default!r:<10} {p.describe():<28} {p.doc}")
        click.echo()


@main.command("sample")
@click.argument("task")
@_params_option
@click.option("--n", "n", type=click.IntRange(1), default=10, show_default=True, help="Number of sequences.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Trial seed: the sequences are that trial's first training sequences.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output .npz file (arrays inputs, targets, mask, lengths).")
def sample_cmd(task: str, params: tuple[str, ...], n: int, seed: int, out: Path) -> None:
    """Write N sequences of TASK to an .npz file."""
    from . import tasks
    from .runners.seeding import streams

    t = tasks.make(task, **parse_assignments(params))
    batch = t.sample(streams(seed).train, n)
    try:
        np.savez(out, **batch.arrays())
    except OSError as exc:
        raise UserError(f"cannot write {str(out)!r}: {exc.strerror}.") from None
    click.echo(f"wrote {n} sequences of {t.describe()} to {out}")


@main.command("run")
@click.argument("task")
@_params_option
@click.option("--model", default="lstm", show_default=True, help="Model name (see 'lstm97 models').")
@click.option("--hp", "hps", multiple=True, metavar="NAME=VALUE",
              help="Model hyperparameter overriding the paper default (repeatable), e.g. --hp lr=0.1.")
@click.option("--trials", type=click.IntRange(1), default=10, show_default=True, help="Number of trials.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Seed of the first trial; trial i uses seed+i.")
@click.option("--jobs", type=click.IntRange(1), default=None, help="Worker processes [default: all cores].")
@_store_option
@click.option("--max-sequences", type=click.IntRange(1), default=None,
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
    from .report.tables import summary_markdown
    from .results import Store
    from .runners import TrialConfig, run_sweep
    from .runners.sweep import default_jobs

    cfg = TrialConfig.resolve(task, parse_assignments(params), model, parse_assignments(hps), max_sequences)
    seeds = list(range(seed, seed + trials))
    executor = None if dask_address is None else _dask_executor(dask_address)
    with Store(store) as db:
        done = db.done_seeds(cfg.key())
        todo = [s for s in seeds if s not in done]
        jobs = default_jobs() if jobs is None else jobs
        click.echo(f"{task} {' '.join(params)} with {model}: {len(todo)} trials to run "
                   f"({len(seeds) - len(todo)} already stored in {store}), {min(jobs, max(len(todo), 1))} "
                   f"worker(s), budget {cfg.max_sequences:,} sequences", err=True)
        stored = 0
        try:
            with click.progressbar(length=len(todo), label="trials", file=sys.stderr,
                                   show_eta=True, show_pos=True) as bar:
                def on_result(record: dict) -> None:
                    nonlocal stored
                    db.add_trial(record)
                    stored += 1
                    bar.update(1)

                run_sweep(cfg, todo, on_result, jobs=jobs, chunk=chunk, executor=executor)
        except KeyboardInterrupt:
            click.echo(f"\ninterrupted: {stored} new trial(s) stored in {store}; run the same command again "
                       "to resume.", err=True)
            sys.exit(130)
        df = db.trials(cfg.key())
    df = df[df["seed"].isin(seeds)]
    diverged = df[df["status"] == "diverged"]
    for _, row in diverged.iterrows():
        click.echo(f"warning: trial seed {row['seed']} diverged: {row['message']}; try a smaller lr.", err=True)
    click.echo(summary_markdown(df))


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


if __name__ == "__main__":  # pragma: no cover
    main()

"""The ``lstm97`` command line: parse, validate, delegate (no experiment logic lives here)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from . import __version__
from .errors import UserError
from .params import parse_assignments
from .results import DEFAULT_STORE
from .runners.lanes import DEFAULT_LANES


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
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Task parameter (repeatable), e.g. -p T=1000. See 'lstm97 tasks'.",
)
_store_option = click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_STORE,
    show_default=True,
    help="SQLite results store.",
)
_chunk_option = click.option(
    "--chunk",
    type=click.IntRange(1),
    default=256,
    show_default=True,
    help="Sequences per kernel call (speed only; never changes results).",
)
_dask_option = click.option(
    "--dask",
    "dask_address",
    default=None,
    metavar="ADDRESS",
    help="Run trials on a Dask distributed cluster (scheduler address) instead of local processes.",
)
_jobs_option = click.option(
    "--jobs", type=click.IntRange(1), default=None, help="Worker processes [default: all cores]."
)
_lanes_option = click.option(
    "--lanes",
    default=str(DEFAULT_LANES),
    show_default=True,
    metavar="K",
    help="Trials of a configuration each worker trains side by side, K per kernel call (1 to 1024; the LSTM's "
    "SIMD lane kernel, other models one after another; 1: one trial at a time). Speed only: every stored "
    "trial is the same whatever K.",
)


@main.command("tasks")
@click.argument("name", required=False)
@_params_option
def tasks_cmd(name: str | None, params: tuple[str, ...]) -> None:
    """List the tasks, their parameters (type, default, allowed values) and paper references.

    With NAME, one task in detail: its parameters (set them with -p), protocol (stopping rule, budget, test),
    paper defaults per model and the range of its targets.
    """
    from . import tasks

    if name is None:
        if params:
            raise UserError("-p/--param needs a task: lstm97 tasks NAME -p NAME=VALUE.")
        _list_registry(tasks.registry)
        return
    _show_task(tasks.registry, name, parse_assignments(params))


@main.command("models")
@click.argument("name", required=False)
@click.option(
    "--task",
    "task_name",
    default=None,
    metavar="TASK",
    help="With NAME: show the hyperparameters in effect on TASK (its paper defaults over the declared ones).",
)
@_params_option
def models_cmd(name: str | None, task_name: str | None, params: tuple[str, ...]) -> None:
    """List the models and their hyperparameters.

    With NAME, one model in detail; with --task TASK (and its -p parameters) the values in effect there.
    """
    from . import models

    if name is None:
        if task_name is not None or params:
            raise UserError("--task and -p/--param need a model: lstm97 models NAME --task TASK.")
        _list_registry(models.registry)
        return
    if params and task_name is None:
        raise UserError("-p/--param sets task parameters: give the task with --task TASK.")
    _show_model(models.registry, name, task_name, parse_assignments(params))


def _list_registry(registry) -> None:
    """Each entry under the name to type, with its source, title, paper reference and parameters; broken
    entries with their error and the fix. Each entry is described on its own: a broken one never hides the
    others, and the listing succeeds whatever the plugins do."""
    import dataclasses

    broken = 0
    for entry in registry.entries():
        text = None
        if entry.error is None:
            try:
                text = _describe_entry(registry, entry)
            except Exception as exc:  # a plugin that passed the checks on loading but still cannot be described
                entry = dataclasses.replace(entry, error=f"cannot describe it: {type(exc).__name__}: {exc}")
        if text is None:
            broken += 1
            click.echo(f"{entry.name}{_source_label(registry, entry)}  BROKEN: {registry.broken_message(entry)}\n")
            continue
        click.echo(text)
    if broken:
        click.echo(
            f"{broken} broken {registry.kind} entr{'y' if broken == 1 else 'ies'} (BROKEN above); "
            "every other one works.",
            err=True,
        )


def _source_label(registry, entry) -> str:
    """``  [from my-plugin 1.0]`` for a plugin, ``  [registered in-process]``, nothing for a built-in."""
    if entry.registered:
        return "  [registered in-process]"
    if entry.source == "lstm97":
        return ""
    version = registry.provenance(entry.name)[1] if not entry.clash else ""
    return f"  [from {entry.source}{' ' + version if version else ''}]"


def _heading(registry, entry) -> str:
    """``name (spec name 'x')  [from dist]: title — paper``."""
    spec = entry._obj.spec
    alias = "" if spec.name == entry.name else f" (spec name {spec.name!r})"
    return f"{entry.name}{alias}{_source_label(registry, entry)}: {spec.title} — {spec.paper}"


def _param_line(p, value=None, note: str = "") -> str:
    value = p.default if value is None and note == "" else value
    return f"    {p.name} = {value!r:<10} {p.describe():<28} {p.doc}{note}"


def _describe_entry(registry, entry) -> str:
    lines = [_heading(registry, entry)]
    lines += [_param_line(p) for p in entry._obj.spec.params]
    return "\n".join(lines) + "\n"


def _loaded(registry, name: str):
    """The entry ``name``, or the UserError of an unknown (with "did you mean") or broken one."""
    entry = registry.entry(name)
    if entry.error is not None:
        raise UserError(registry.broken_message(entry))
    return entry


def _rule_text(rule) -> str:
    """A stopping rule of :mod:`lstm97.tasks.criteria` in words."""
    import math

    from .tasks.criteria import EvalRule, WindowRule

    if isinstance(rule, WindowRule):
        wrong = "all" if rule.max_wrong == 0 else f"all but at most {rule.max_wrong}"
        text = (
            f"{rule.name}: holds after the training sequence at which {wrong} of the {rule.window:,} most recent "
            "training sequences were correct"
        )
        if not math.isinf(rule.max_mean_error):
            text += f" and their mean error is below {rule.max_mean_error:g}"
        return text
    if isinstance(rule, EvalRule):
        on = f"{rule.fresh:,} fresh sequences" if rule.fresh else " and ".join(f"the fixed {s} set" for s in rule.sets)
        text = f"{rule.name}: checked every {rule.every:,} training sequences on {on}: at most {rule.max_wrong} wrong"
        if not math.isinf(rule.max_mean_abs) and not rule.fresh:
            text += f" and mean absolute error below {rule.max_mean_abs:g}"
        return text
    return f"{rule.name} ({type(rule).__name__})"


#: Sequences sampled (stream seed 0) by ``lstm97 tasks NAME`` to show the range of the targets.
_RANGE_SAMPLE = 32


def _show_task(registry, name: str, params: dict[str, str]) -> None:
    """``lstm97 tasks NAME``: parameters, protocol, correctness, paper defaults per model, target range."""
    from . import models
    from .tasks.base import Task

    entry = _loaded(registry, name)
    cls = entry._obj
    task = cls(**params)
    proto = task.protocol()
    batch = task.sample(np.random.default_rng(0), _RANGE_SAMPLE)
    targets = batch.targets[batch.mask]
    click.echo(_heading(registry, entry))
    click.echo(f"  class {entry.target}, version {cls.spec.version}; {_units(task.n_in, task.n_out)}")
    lo, hi = task.target_range()
    click.echo(
        f"  targets in [{lo:g}, {hi:g}] (declared; a model's outputs must reach them), "
        f"[{targets.min():g}, {targets.max():g}] at the target steps of {_RANGE_SAMPLE} sampled sequences"
    )
    if type(task).correct is Task.correct:
        click.echo(f"  correct: |target - output| < {task.tolerance:g} at every target step and output")
    else:
        doc = (type(task).correct.__doc__ or "").strip().splitlines()
        click.echo(f"  correct: {type(task).__qualname__}.correct{': ' + doc[0] if doc else ''}")
    click.echo("parameters:")
    for p in cls.spec.params:
        value = task.params[p.name]
        click.echo(_param_line(p, value, "" if value == p.parse(p.default) else f"  (default {p.default!r})"))
    click.echo("protocol:")
    click.echo(f"    {proto.description}")
    for rule in (*proto.milestones, proto.stop):
        kind = "stop" if rule is proto.stop else "milestone"
        click.echo(f"    {kind}: {_rule_text(rule)}")
    click.echo(f"    budget: {proto.max_sequences:,} training sequences")
    if proto.n_train:
        how = "in the set's order, epoch after epoch," if proto.order == "file" else "at random"
        click.echo(f"    training: exemplars drawn {how} from a fixed set of {proto.n_train:,} sequences")
    if proto.n_eval:
        click.echo(f"    evaluation set: {proto.n_eval:,} sequences drawn once per trial")
    test = (
        f"the evaluation set ({proto.n_eval:,} sequences)"
        if proto.test_on_eval
        else f"{proto.n_test:,} fresh sequences"
    )
    click.echo(f"    final test: {test}")
    click.echo("paper defaults per model:")
    shown = 0
    for model in sorted(set(models.names()) | set(cls.paper_defaults)):
        hp = task.model_defaults(model)
        if hp:
            shown += 1
            click.echo(f"    {model}: " + ", ".join(f"{k}={v!r}" for k, v in hp.items()))
    if not shown:
        click.echo("    (none: every model uses its declared defaults)")


def _show_model(registry, name: str, task_name: str | None, params: dict[str, str]) -> None:
    """``lstm97 models NAME [--task TASK]``: hyperparameters, with the values in effect on TASK."""
    from . import tasks

    entry = _loaded(registry, name)
    cls = entry._obj
    spec = cls.spec
    task = None if task_name is None else tasks.make(task_name, **params)  # mistakes before any output
    click.echo(_heading(registry, entry))
    click.echo(f"  class {entry.target}, version {spec.version}")
    defaults = {} if task is None else task.model_defaults(spec.name)
    where = "" if task is None else f" on {task.describe()} (its paper defaults over the declared ones)"
    click.echo(f"hyperparameters{where}:")
    for p in spec.params:
        if p.name not in defaults:
            click.echo(_param_line(p))
            continue
        try:
            value = p.parse(defaults[p.name])
        except UserError as exc:
            click.echo(_param_line(p, defaults[p.name], f"  [{task_name}'s paper default is invalid: {exc}]"))
            continue
        declared = "" if value == p.parse(p.default) else f"; declared {p.default!r}"
        click.echo(_param_line(p, value, f"  [{task_name}'s paper default{declared}]"))
    if task is None:
        return
    declared = {p.name for p in spec.params}
    extra = sorted(set(defaults) - declared)
    if extra:
        click.echo(
            f"  warning: {task_name}'s paper defaults for {spec.name!r} name unknown hyperparameters: "
            f"{', '.join(extra)}"
        )
    try:
        model = cls.for_task(task)
    except UserError as exc:
        click.echo(f"  cannot be built for {task.describe()}: {exc}")
        return
    click.echo(f"  {model.n_weights:,} weights for {task.describe()} ({_units(task.n_in, task.n_out)})")


def _units(n_in: int, n_out: int) -> str:
    return f"{n_in} input{'s' * (n_in != 1)}, {n_out} output{'s' * (n_out != 1)}"


@main.command("check")
@click.argument("name", required=False)
@click.option("--task", "task_name", default=None, metavar="TASK", help="Check this task (and MODEL on it).")
@click.option("--model", "model_name", default=None, metavar="MODEL", help="Check this model (on TASK, or every task).")
@_params_option
@click.option("--hp", "hps", multiple=True, metavar="NAME=VALUE", help="Model hyperparameter (repeatable).")
def check_cmd(
    name: str | None, task_name: str | None, model_name: str | None, params: tuple[str, ...], hps: tuple[str, ...]
) -> None:
    """Run the plugin contract (lstm97.checks) on a registered task or model: one line per check.

    NAME is a task (checked, then the models its paper defaults name are checked on it) or a model (checked on
    every registered task); or give --task and/or --model. Prints "ok CHECK" or "FAIL CHECK: what to fix" for
    every check ("skip CHECK: why" where one does not apply). Exit code 0 when all pass, 1 when any fails, 2
    for an unknown name or parameter.
    """
    from . import checks

    selected = checks.select(name, task_name, model_name, parse_assignments(params), parse_assignments(hps))
    outcomes = checks.run_checks(selected)
    for outcome in outcomes:
        click.echo(outcome.line)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "FAIL", "skip")}
    summary = f"{len(outcomes)} checks: {counts['ok']} ok, {counts['FAIL']} failed, {counts['skip']} skipped"
    click.echo(summary, err=True)
    if counts["FAIL"]:
        sys.exit(1)


@main.command("sample")
@click.argument("task")
@_params_option
@click.option("--n", "n", type=click.IntRange(1), default=10, show_default=True, help="Number of sequences.")
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=0,
    show_default=True,
    help="Trial seed: the sequences come from that trial's training-data stream (for most tasks its "
    "first training sequences; not for tasks that train on a fixed set drawn from that stream, "
    "such as reber, latch and parity).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output .npz file (arrays inputs, targets, mask, lengths).",
)
def sample_cmd(task: str, params: tuple[str, ...], n: int, seed: int, out: Path) -> None:
    """Write N sequences of TASK to an .npz file."""
    from . import tasks
    from .files import write_atomic
    from .seeding import streams

    t = tasks.make(task, **parse_assignments(params))
    batch = t.sample(streams(seed).train, n)
    write_atomic(out, lambda f: np.savez(f, **batch.arrays()))  # exactly OUT, whole or not at all
    click.echo(f"wrote {n} sequences of {t.describe()} to {out}")


_SEED = click.IntRange(0, 2**63 - 1)


@main.command("run")
@click.argument("task")
@_params_option
@click.option("--model", default="lstm", show_default=True, help="Model name (see 'lstm97 models').")
@click.option(
    "--hp",
    "hps",
    multiple=True,
    metavar="NAME=VALUE",
    help="Model hyperparameter overriding the paper default (repeatable), e.g. --hp lr=0.1.",
)
@click.option("--trials", type=click.IntRange(1), default=10, show_default=True, help="Number of trials.")
@click.option("--seed", type=_SEED, default=0, show_default=True, help="Seed of the first trial; trial i uses seed+i.")
@_jobs_option
@_store_option
@click.option(
    "--max-sequences",
    type=click.IntRange(1, 2**63 - 1),
    default=None,
    help="Training-sequence budget per trial [default: the task's paper budget].",
)
@_chunk_option
@_lanes_option
@_dask_option
def run_cmd(
    task: str,
    params: tuple[str, ...],
    model: str,
    hps: tuple[str, ...],
    trials: int,
    seed: int,
    jobs: int | None,
    store: Path,
    max_sequences: int | None,
    chunk: int,
    lanes: str,
    dask_address: str | None,
) -> None:
    """Run TRIALS independent trials of MODEL on TASK, store them, and print a paper-style summary.

    Trials already in the store are skipped, so re-running an interrupted command resumes it.
    """
    from . import api

    n_lanes = api.check_lanes(lanes)
    cfg = api.configure(task, parse_assignments(params), model, parse_assignments(hps), max_sequences)
    (job,) = api.plan([(cfg, api.seeds_for(seed, trials))], store)
    pool = _Pool.of(api, jobs, dask_address, len(job.todo)).with_lanes(n_lanes, [job])
    workers = pool.slots
    click.echo(
        f"{task} {' '.join(params)} with {model}: {len(job.todo)} trials to run "
        f"({len(job.seeds) - len(job.todo)} already stored in {store}), {pool.text}, "
        f"budget {cfg.max_sequences:,} sequences",
        err=True,
    )
    click.echo("task parameters: " + _values(cfg.task_params, cfg.task_args), err=True)
    hps_text = _values(cfg.model_params, cfg.model_args)
    click.echo(f"hyperparameters: {hps_text} ({task}'s defaults for {model} unless marked *)", err=True)
    if job.todo:
        _estimate(api, cfg, len(job.todo), workers)
    _execute([job], store, pool.jobs, chunk, pool.executor, n_lanes)
    df = api.trials_of([job], store)
    _warn_diverged(df)
    click.echo(_summary(df))


def _values(values: dict, args: dict) -> str:
    """``name=value`` for every value in effect, those that are not the defaults marked with *."""
    from .identity import canonical
    from .report.tables import args_text

    return " ".join(args_text(canonical({k: v})) + ("*" if k in args else "") for k, v in values.items()) or "(none)"


def _estimate(api, cfg, trials: int, workers: int) -> None:
    """Print the measured training time per sequence and what a trial costs if it uses its whole budget."""
    per = api.seconds_per_sequence(cfg)
    if per is None:
        return
    worst = per * cfg.max_sequences
    total = worst * trials / max(1, min(workers, trials))
    early = "trials that succeed stop earlier" if api.stops_early(cfg) else "every trial runs its whole budget"
    click.echo(
        f"cost: {per * 1e3:.3g} ms of training per sequence here (measured); a trial that uses its whole "
        f"budget takes at least {_duration(worst)}, all {trials} at least {_duration(total)} on {workers} "
        f"worker(s); {early}",
        err=True,
    )


def _summary(df) -> str:
    """The run summary of ``df``, with each registered task's own test metrics."""
    from . import tasks
    from .report.tables import summary_text

    metrics = {}
    for name in set(df["task"]):
        try:
            metrics[name] = tuple(tasks.get(name).summary_metrics)
        except (UserError, AttributeError, TypeError):  # not installed here, or a broken plugin: the default
            pass
    return summary_text(df, metrics)


def _warn_diverged(df) -> None:
    for _, row in df[df["status"] == "diverged"].iterrows():
        click.echo(
            f"warning: trial seed {row['seed']} of {row['task']} with {row['model']} diverged: "
            f"{row['message']}; try a smaller lr.",
            err=True,
        )


def _execute(jobs, store: Path, workers: int, chunk: int, executor=None, lanes: int = 1) -> int:
    """``api.execute`` with a progress bar in training sequences on a terminal; an interrupt keeps what is
    stored and exits with 130 (Ctrl-C) or 143 (SIGTERM)."""
    import signal

    from . import api

    bar = _Bar() if sys.stderr.isatty() else None
    try:
        stored = api.execute(
            jobs,
            store,
            workers=workers,
            chunk=chunk,
            executor=executor,
            progress=None if bar is None else bar.update,
            lanes=lanes,
        )
    except api.Interrupted as exc:
        if bar is not None:
            bar.close()
        click.echo(
            f"\ninterrupted: {exc.stored} new trial(s) stored in {store}; run the same command again to resume.",
            err=True,
        )
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
            self.bar = click.progressbar(
                length=max(p.budget, 1),
                file=sys.stderr,
                show_eta=True,
                label="sequences",
                item_show_func=lambda text: text,
            )
            self.bar.__enter__()
        text = (
            f"{p.finished}/{p.trials} trials, {_si(p.sequences)} sequences, {_si(p.rate)}/s "
            f"(ETA: if every trial used its budget)"
        )
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


@dataclass
class _Pool:
    """Where the trials run: ``jobs`` local worker processes, or a Dask cluster's ``executor``; ``slots`` trials
    at a time, described by ``text`` for the header."""

    jobs: int
    executor: Any
    slots: int
    text: str

    def with_lanes(self, lanes: int, work) -> _Pool:
        """The same pool, its text saying how many trials each worker trains side by side (``--lanes``) on
        ``work`` (jobs with ``config`` and ``todo``): as many as the runner will use, never more than a worker's
        queue holds (and fewer where one trial's memory limit says so)."""
        from .runners.sweep import lanes_in_use

        used = lanes_in_use([(j.config, j.todo) for j in work], self.jobs, lanes, local=self.executor is None)
        if used > 1:
            self.text += f", up to {used} trials side by side per worker (--lanes)"
        return self

    @staticmethod
    def of(api, jobs: int | None, dask_address: str | None, todo: int) -> _Pool:
        if dask_address is None:
            jobs = api.default_jobs() if jobs is None else jobs
            slots = min(jobs, max(todo, 1))
            return _Pool(jobs, None, slots, f"{slots} worker(s)")
        try:
            from distributed import Client
        except ImportError:
            raise UserError("--dask needs the dask extra: pip install 'lstm97[dask]'.") from None
        try:
            client = Client(dask_address, timeout=30)
        except OSError as exc:
            raise UserError(f"cannot reach the Dask scheduler at {dask_address!r} ({exc}).") from None
        click.get_current_context().call_on_close(client.close)  # when the command ends, however it ends
        workers = client.scheduler_info().get("workers", {})
        threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
        text = f"the Dask cluster at {dask_address} ({len(workers)} worker(s), {threads} thread(s))"
        return _Pool(jobs or 1, client.get_executor(), max(1, min(threads, todo)), text)


@main.command("results")
@_store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["summary", "markdown", "csv"]),
    default="summary",
    show_default=True,
    help="summary: one row per configuration; markdown/csv: one row per trial.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@click.option("--task", "task_names", multiple=True, metavar="TASK", help="Only trials of this task (repeatable).")
@click.option("--model", "model_names", multiple=True, metavar="MODEL", help="Only trials of this model (repeatable).")
def results_cmd(
    store: Path, fmt: str, out: Path | None, task_names: tuple[str, ...], model_names: tuple[str, ...]
) -> None:
    """Show or export the trials in the store."""
    from .errors import unknown
    from .results import Store
    from .results.export import to_csv, to_markdown

    with Store(store, create=False) as db:
        df = db.trials()
    for column, names in (("task", task_names), ("model", model_names)):
        for name in names:
            if name not in set(df[column]):
                raise unknown(f"{column} in {str(store)!r}", name, set(df[column]))
        if names:
            df = df[df[column].isin(names)]
    if df.empty:
        text = "(no trials stored)"
    else:
        text = {"summary": _summary, "markdown": to_markdown, "csv": to_csv}[fmt](df)
    if out is None:
        click.echo(text)
    else:
        from .files import write_text

        write_text(out, text)
        click.echo(f"wrote {len(df)} trials to {out}", err=True)


_QUICK_HELP = (
    "Reduced settings for a fast check of the whole pipeline, not a reproduction: 2 trials per preset, shorter "
    "lags (e.g. adding T=100 instead of 1000, 2c q and p divided by 10, 2a p=20, 3a/3b T=200 instead of 1000) "
    "and budgets of 1,000-200,000 sequences. Stored apart from the paper's settings; the report shows them as "
    "reduced settings without a verdict. '--all --quick' takes a few minutes on 2 cores."
)


@main.command("reproduce")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option(
    "--list",
    "show_list",
    is_flag=True,
    help="List the presets (id, table, description, trials, estimated cost) and exit; with IDs or --table only those.",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    metavar="N",
    help="Every preset of paper table N: 1-9, 2b (the Task 2b text) or RS (§5 guessing); repeatable.",
)
@click.option(
    "--all", "run_all", is_flag=True, help="Every preset (methods lstm97 does not implement are listed, never run)."
)
@click.option("--quick", is_flag=True, help=_QUICK_HELP)
@click.option(
    "--trials",
    type=click.IntRange(1),
    default=None,
    help="Trials per preset (seeds 0..N-1) [default: the paper's, e.g. 30 for Table 1; 2 with --quick].",
)
@_jobs_option
@_store_option
@click.option(
    "--max-sequences",
    type=click.IntRange(1, 2**63 - 1),
    default=None,
    help="Budget per trial for every selected preset [default: the preset's]. A different budget is a "
    "different configuration, stored apart and reported as reduced settings.",
)
@_chunk_option
@_lanes_option
@_dask_option
def reproduce_cmd(
    ids: tuple[str, ...],
    show_list: bool,
    tables: tuple[str, ...],
    run_all: bool,
    quick: bool,
    trials: int | None,
    jobs: int | None,
    store: Path,
    max_sequences: int | None,
    chunk: int,
    lanes: str,
    dask_address: str | None,
) -> None:
    """Run the paper's experiments: the presets ID... (see --list), a whole paper table, or all of them.

    Each preset is one row of the paper's Tables 1-9 (ids follow Table 10: 1-1 ... 1-5, 2a, 2b, 2c-1 ... 2c-9,
    3a-1 ... 3c-2, 4-1 ... 4-3, 5-140, 5-13, 6a, 6b), a baseline row (rtrl-..., elman-1, bptt-2a-p100) or a
    random-guessing row (guess-...), with the paper's task, model, hyperparameters, number of trials and
    stopping rule. Trials already in the store are skipped, so re-running resumes. Build the tables and
    figures afterwards with 'lstm97 report'.
    """
    from . import api
    from .report.reproduction import match, summary

    n_lanes = api.check_lanes(lanes)
    if show_list:
        chosen = api.select_presets(ids, tables, everything=not (ids or tables))
        click.echo(_preset_list(chosen, quick))
        return
    if not (ids or tables or run_all):
        raise UserError(
            "name the presets to run (lstm97 reproduce 6a 4-1), a paper table (--table 7) or --all; "
            "'lstm97 reproduce --list' lists them."
        )
    runnable = api.runnable_presets(
        api.select_presets(ids, tables, everything=run_all),
        named=ids,
        on_skip=lambda p, why: click.echo(f"skipped {p.id}: {why}", err=True),
    )
    if quick:
        click.echo(
            "quick mode: REDUCED settings (fewer trials, shorter lags, smaller budgets), not the paper's; "
            "the report shows them without a verdict.",
            err=True,
        )
    if max_sequences is not None:
        click.echo(
            f"budget override: {max_sequences:,} sequences per trial instead of the preset's; stored as a "
            "different configuration and reported as reduced settings.",
            err=True,
        )
    planned = api.plan_presets(runnable, store, quick=quick, trials=trials, max_sequences=max_sequences)
    seconds = 0.0
    for p, job in zip(runnable, planned, strict=True):
        seconds += api.preset_estimate(p, quick, max_sequences).seconds * len(job.todo)
        reduced = f"; quick: {p.reduced(api.paper_budget(p))}" if quick else ""
        click.echo(
            f"{p.id:<16} Table {p.table:<3} {len(job.todo):>3} to run ({len(job.seeds) - len(job.todo)} "
            f"stored), budget {job.config.max_sequences:,}{reduced}",
            err=True,
        )
    n_todo = sum(len(job.todo) for job in planned)
    pool = _Pool.of(api, jobs, dask_address, n_todo).with_lanes(n_lanes, planned)
    click.echo(
        f"{n_todo} trials on {pool.text} into {store}; estimated {_duration(seconds / max(1, pool.slots))}",
        err=True,
    )
    _execute(planned, store, pool.jobs, chunk, pool.executor, n_lanes)
    df = api.trials_of(planned, store)
    _warn_diverged(df)
    rows = match(df, runnable)
    click.echo(summary(rows).to_markdown(index=False, disable_numparse=True))
    click.echo(f"\nTables, verdicts and figures: lstm97 report --store {store} --out DIR", err=True)


def _duration(seconds: float) -> str:
    from .report.reproduction import duration

    return duration(seconds)


def _preset_list(chosen, quick: bool) -> str:
    import pandas as pd

    from . import api

    rows = []
    total = 0.0
    for p in chosen:
        if not p.implemented:
            rows.append((p.id, p.table, "-", "-", "-", "-", f"{p.description} (not implemented)"))
            continue
        n = p.quick.trials if quick and p.quick else p.trials
        why = api.preset_unavailable(p)
        cost = api.preset_estimate(p, quick) if why is None else None
        total += n * cost.seconds if cost else 0.0
        extra = f" [unavailable: {why}]" if why else ""
        if quick:
            extra += f" [quick: {p.reduced(api.paper_budget(p))}]"
        rows.append(
            (
                p.id,
                p.table,
                n,
                _duration(cost.seconds) if cost else "-",
                _duration(n * cost.seconds) if cost else "-",
                cost.basis if cost else "-",
                p.description + extra,
            )
        )
    table = pd.DataFrame(rows, columns=["id", "table", "trials", "cost/trial", "total", "cost from", "description"])
    mode = "quick settings (reduced)" if quick else "the paper's settings"
    return (
        table.to_markdown(index=False, tablefmt="plain", colalign=("left",) * 7)
        + f"\n\nestimated total at {mode}: {_duration(total)} of one core "
        "(2-core development machine; divide by --jobs)"
    )


def _variant_options(default_trials: str):
    """The options ``ablate`` and ``extend`` share: trials per variant, quick settings, the budget, and how to run
    them (jobs, store, chunk, lanes, Dask)."""
    options = (
        click.option(
            "--trials",
            type=click.IntRange(1),
            default=None,
            help=f"Trials per variant (seeds 0..N-1) [default: {default_trials}].",
        ),
        click.option("--quick", is_flag=True, help="Use the preset's quick (reduced) settings instead of the paper's."),
        click.option(
            "--max-sequences",
            type=click.IntRange(1, 2**63 - 1),
            default=None,
            help="Budget per trial for every variant [default: the preset's].",
        ),
        _jobs_option,
        _store_option,
        _chunk_option,
        _lanes_option,
        _dask_option,
    )

    def apply(f):
        for option in reversed(options):
            f = option(f)
        return f

    return apply


@main.command("ablate")
@click.argument("preset")
@click.option(
    "--vary",
    "varies",
    multiple=True,
    required=True,
    metavar="NAME=V1,V2",
    help="A task parameter or model hyperparameter and its values (repeatable; ';' separates values "
    "that hold commas, e.g. in_gate_bias=-1,-2;-3,-6).",
)
@click.option("--grid", is_flag=True, help="Every combination of the varied values, not one option at a time.")
@_variant_options("the preset's")
def ablate_cmd(
    preset: str,
    varies: tuple[str, ...],
    grid: bool,
    trials: int | None,
    quick: bool,
    max_sequences: int | None,
    jobs: int | None,
    store: Path,
    chunk: int,
    lanes: str,
    dask_address: str | None,
) -> None:
    """Run PRESET and its variants with paired seeds (every variant sees the same data streams), store them, and
    print the ablation table; 'lstm97 report' shows it too. Resumes like 'run'.

    Example: lstm97 ablate 6a --vary reset=0,0.5 --trials 2
    """
    from . import api
    from .report.ablations import tables
    from .results import Store

    n_lanes = api.check_lanes(lanes)
    ab = api.plan_ablation(
        preset, api.parse_vary(varies), grid=grid, trials=trials, quick=quick, max_sequences=max_sequences, store=store
    )
    api.record_ablation(ab, store)
    todo = sum(len(j.todo) for j in ab.jobs)
    pool = _Pool.of(api, jobs, dask_address, todo).with_lanes(n_lanes, ab.jobs)
    click.echo(
        f"ablation {ab.name}: {len(ab.variants)} variants in {len(ab.jobs)} configurations, "
        f"{len(ab.jobs[0].seeds)} paired seeds each; {todo} trials to run on {pool.text} into {store}",
        err=True,
    )
    _execute(ab.jobs, store, pool.jobs, chunk, pool.executor, n_lanes)
    with Store(store, create=False) as db:  # the ablation as recorded, read back as the report reads it
        df, recorded = db.trials(), db.ablations()
    ((_, _, table, _),) = tables(df, recorded[recorded["ablation"] == ab.name])
    click.echo(table.to_markdown(index=False, tablefmt="simple", disable_numparse=True))


@main.command("extend")
@click.argument("presets", nargs=-1)
@click.option("--list", "show", is_flag=True, help="List the extended tables and their variants, and exit.")
@_variant_options("the preset's, at least 10")
def extend_cmd(
    presets: tuple[str, ...],
    show: bool,
    trials: int | None,
    quick: bool,
    max_sequences: int | None,
    jobs: int | None,
    store: Path,
    chunk: int,
    dask_address: str | None,
    lanes: str,
) -> None:
    """Run the extended table of each PRESET: the paper's LSTM row beside its descendants (forget gates,
    peepholes, the full gradient, GRU with SGD and Adam) on the same task, budget and seeds; store them and
    print each table; 'lstm97 report' shows them under "Extended tables". Resumes like 'run'.

    Example: lstm97 extend 4-1 --trials 10
    """
    from . import api
    from .paper import extended
    from .report.ablations import tables
    from .results import Store

    if show or not presets:
        if not show:
            raise UserError("name the presets to extend (e.g. lstm97 extend 4-1), or list them with --list.")
        for e in extended.EXTENSIONS:
            click.echo(f"{e.preset:<6} {e.experiment}: " + "; ".join(v.label for v in e.variants))
        return
    planned = [
        api.plan_extended(p, trials=trials, quick=quick, max_sequences=max_sequences, store=store) for p in presets
    ]
    for ab in planned:
        api.record_ablation(ab, store)
    jobs_all = [j for ab in planned for j in ab.jobs]
    todo = sum(len(j.todo) for j in jobs_all)
    n_lanes = api.check_lanes(lanes)
    pool = _Pool.of(api, jobs, dask_address, todo).with_lanes(n_lanes, jobs_all)
    for ab in planned:
        click.echo(
            f"{ab.name}: {len(ab.variants)} models, {len(ab.jobs[0].seeds)} paired seeds each, "
            f"{sum(len(j.todo) for j in ab.jobs)} trials to run",
            err=True,
        )
    click.echo(f"{todo} trials on {pool.text} into {store}", err=True)
    _execute(jobs_all, store, pool.jobs, chunk, pool.executor, n_lanes)
    with Store(store, create=False) as db:
        df, recorded = db.trials(), db.ablations()
    for ab in planned:
        ((_, _, table, _),) = tables(df, recorded[recorded["ablation"] == ab.name])
        click.echo(f"\n{ab.name}\n" + table.to_markdown(index=False, tablefmt="simple", disable_numparse=True))


@main.command("report")
@_store_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for README.md, the tables (.csv, .tex), trials.csv and figures/.",
)
@click.option("--no-figures", is_flag=True, help="Tables only.")
@click.option("--force", is_flag=True, help="Write into a directory that holds files lstm97 report did not write.")
def report_cmd(store: Path, out_dir: Path, no_figures: bool, force: bool) -> None:
    """Build the reproduction report from the store alone (never trains): every paper table beside ours,
    with intervals and a verdict per row, as Markdown, LaTeX and CSV, plus figures. OUT must be new, empty or
    an earlier report's directory (unless --force)."""
    from .report.build import build

    try:
        written = build(store, out_dir, figures=not no_figures, force=force)
    except OSError as exc:
        raise UserError(f"cannot write the report to {str(out_dir)!r}: {exc.strerror}.") from None
    click.echo(f"wrote {len(written)} files to {out_dir} (start with {out_dir / 'README.md'})", err=True)


@main.command("import")
@click.argument("csv_path", metavar="CSV", type=click.Path(path_type=Path))
@_store_option
def import_cmd(csv_path: Path, store: Path) -> None:
    """Rebuild trials from a trials CSV (a report's trials.csv, e.g. docs/reproduction/trials.csv) into the
    store, without training, so that 'lstm97 report' rebuilds that report's tables. The CSV has no learning
    curves or weights: imported trials have none (their message says so), and the figures that need them are
    missing from a report. Every row must reproduce its configuration key; all rows are written in one
    transaction, or none; trials already stored are kept, so importing twice adds nothing."""
    from .results.importer import import_csv

    done = import_csv(csv_path, store)
    skipped = [
        f"{done.already} already stored" if done.already else "",
        f"{done.repeated} repeating another row's trial" if done.repeated else "",
    ]
    extra = "; ".join(s for s in skipped if s)
    click.echo(
        f"imported {done.added} of {done.rows} rows of {csv_path} into {store}{f' ({extra})' if extra else ''}; "
        "without learning curves or weights, a report from them lacks the figures that need those.",
        err=True,
    )


if __name__ == "__main__":  # pragma: no cover
    main()

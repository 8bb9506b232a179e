"""Contract checks for plugin authors, in the manner of scikit-learn's ``check_estimator``: run ``check_task``
and ``check_model`` in your own tests (or :mod:`lstm97.testing`, or ``lstm97 check NAME`` on the command line).

>>> from lstm97.checks import check_task, check_model
>>> check_task(MyTask())
>>> check_model(lstm97.models.make("lstm", MyTask()), MyTask())

Each failure raises :class:`ContractError` (an ``AssertionError``) whose message names the check, what is
wrong and what to fix; an exception raised by the plugin's own code is reported as such, with the method that
raised it, never as a bare traceback from inside the checker. The checks, one line each:

Task (``task_checks``; subject ``NAME``):

* ``spec``: a TaskSpec with a name, title, paper text, int version >= 1 and a tuple of Params with distinct
  names and valid defaults; ``task.params`` holds every declared parameter.
* ``dimensions``: ``n_in`` and ``n_out`` are positive ints.
* ``protocol``: a Protocol whose ``stop`` and ``milestones`` are rules of :mod:`lstm97.tasks.criteria` (with
  the fixed sets they evaluate), positive ``max_sequences`` and ``n_test``, non-negative ``n_eval`` and
  ``n_train``, a description, and ``n_eval`` > 0 under ``test_on_eval``.
* ``paper-defaults``: every model named in ``paper_defaults`` is registered ("did you mean"), declares every
  hyperparameter given for it, accepts its value, builds for the task (``lstm97.models.make``), and gives
  outputs that reach the task's targets (its ``output_range`` contains the task's ``target_range``).
* ``batch``: ``sample(rng, n)`` gives a SequenceBatch of n batch-major sequences (time-major arrays and
  arrays without the feature axis are named as such), float64 / float64 / bool / int64, C-contiguous, with
  zero inputs and targets and a False mask beyond each length and zero targets wherever the mask is False,
  drawn from the given Generator only.
* ``determinism``: the same seed gives the same sequences.
* ``chunk-invariance``: one call with n = k gives the same sequences as k calls with n = 1; sub-batches
  (``take``) and joined batches (``concat``) are valid.
* ``success-test``: ``correct`` (bool [n]) accepts the ideal outputs and rejects far-off and NaN outputs;
  ``error`` and ``abs_error`` (float64 [n]) are finite, and ``error`` is 0 for outputs equal to the targets;
  ``target_range()`` is a pair lo < hi, and the ideal outputs at the target steps lie in it.
* ``fixed-sets``: ``fixed_sets`` gives valid training and evaluation sets of the protocol's sizes.
* ``prefixes``: a task with ``prefixes`` draws with ``sample_prefix`` the first steps of ``sample``'s
  sequences and leaves the Generator where ``sample`` does; ``settled`` gives one bool per sequence.

Model on a task (``model_checks``; subject ``MODEL@TASK``):

* ``spec``: as a task's, a ModelSpec; ``model.hp`` holds every declared hyperparameter.
* ``dimensions``: the model's ``n_in`` and ``n_out`` are the task's.
* ``layout``: ``layout.size`` > 0, ``n_weights`` = ``free().sum()`` <= it, ``footprint()`` sane.
* ``init-state``: a TrainState with a C-contiguous float64 ``w`` of ``layout.size`` entries, absent
  connections 0, from the given Generator only and the same for the same seed.
* ``predict``: float64 outputs [n, L, n_out], finite for a fresh net, deterministic, inside ``output_range()``
  (a pair lo < hi).
* ``predict-keeps-state``: ``predict`` changes neither ``state.w`` nor ``state.extra``.
* ``train-chunk``: a ChunkResult with status OK, ``n_done == n`` and float64 outputs [n, L, n_out] on a sane
  batch; finite weights, absent connections still 0.
* ``batch-unchanged``: neither ``predict`` nor ``train_chunk`` changes the batch's arrays.
* ``no-learning-into-self``: after training, a fresh copy of the untrained state predicts exactly as before,
  and training it again gives the same state (nothing learned or cached on ``self``).
* ``chunk-invariance``: training on n sequences in one call gives the same state and outputs, bit for bit,
  as two halves or n calls of one.
* ``search`` (search models such as random guessing, instead of the training checks): deterministic
  ``search`` results.
* ``ranges`` (``lstm97 check TASK`` for a task whose paper defaults name no model, checked with the LSTM;
  ``model_checks(..., ranges=True)``): the model's outputs can reach the task's targets
  (:func:`lstm97.runners.trial.range_mismatch`); skipped, with the message ``lstm97 run`` gives, when they
  cannot (the runner refuses such a pair; for the models a task's paper defaults name, ``paper-defaults``
  fails instead).
* ``trial``: :func:`lstm97.runners.run_trial` of a tiny budget (3 sequences, 4 test sequences), run with two
  chunk sizes, gives the same record (status, sequences, test results, weights, extra state, curve). It needs
  the task and the model registered (``check_model`` looks them up by their spec names, or takes
  ``task_name``/``model_name``); otherwise it is skipped. It runs even where the ranges do not fit (it checks
  the runner's mechanics).

By name (:func:`named_checks`, used by ``lstm97 check`` and :mod:`lstm97.testing`), a ``build`` check reports
a constructor that raises (and is skipped where a model refuses a task with a UserError).

``task_checks`` and ``model_checks`` return the checks without running them (for one test per check, as
:mod:`lstm97.testing` does); :func:`run_checks` runs a list and returns each :class:`Outcome` (a check whose
``needs`` did not pass is skipped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import Incompatible, UserError, suggest, unknown
from .models.base import Model
from .models.checks import N_CHECK as N_MODEL
from .models.checks import model_checks as _model_checks
from .models.checks import model_subject
from .tasks.base import Task
from .tasks.checks import N_CHECK as N_TASK
from .tasks.checks import (
    Check,
    ContractError,
    Outcome,
    Skipped,
    call,
    check_batch,
    equal,
    raise_first,
    run_checks,
    share,
)
from .tasks.checks import task_checks as _task_checks

#: Budget (training sequences or guesses) and test size of the end-to-end ``trial`` check, and its two chunks.
TRIAL_SEQUENCES = 3
TRIAL_TEST = 4
TRIAL_CHUNKS = (1, 2)
#: Fields of a trial's record that must not depend on the chunk size (everything but the wall time).
TRIAL_FIELDS = (
    "status",
    "sequences",
    "milestones",
    "test_wrong",
    "test_mse",
    "test_abs",
    "n_weights",
    "message",
    "curve",
    "weights",
    "state",
    "config_key",
)


def task_checks(task: Task, n: int = N_TASK, seed: int = 1234, subject: str | None = None) -> list[Check]:
    """Every check of ``task`` (see the module docstring), not yet run."""
    checks = _task_checks(task, n=n, seed=seed, subject=subject)
    at = next(i for i, c in enumerate(checks) if c.name == "protocol") + 1
    subject = checks[0].subject
    checks.insert(
        at,
        Check(subject, "paper-defaults", lambda: _check_paper_defaults(task), ("spec",), "named models build"),
    )
    return share(checks)


def model_checks(
    model: Model,
    task: Task,
    n: int = N_MODEL,
    seed: int = 99,
    *,
    trial: bool = True,
    task_name: str | None = None,
    model_name: str | None = None,
    subject: str | None = None,
    ranges: bool = False,
) -> list[Check]:
    """Every check of ``model`` on ``task`` (see the module docstring), not yet run. The ``trial`` check runs
    the registered ``task_name`` and ``model_name`` (default: their spec names, when those are registered to
    these very classes); ``trial=False`` leaves it out. ``ranges=True`` adds the ``ranges`` check (whether the
    model's outputs can reach the task's targets), as ``lstm97 check TASK`` does for the model it checks a task
    with when the task's paper defaults name none."""
    checks = _model_checks(model, task, n=n, seed=seed, subject=subject)
    if ranges:
        checks.append(
            Check(
                checks[0].subject,
                "ranges",
                lambda: _check_ranges(model, task),
                ("predict",),
                "the outputs can reach the targets (else skipped: lstm97 run refuses the pair)",
            )
        )
    if trial:
        needs = tuple(c.name for c in checks if c.name in ("train-chunk", "search", "predict"))
        checks.append(
            Check(
                checks[0].subject,
                "trial",
                lambda: _check_trial(model, task, task_name, model_name),
                needs,
                "run_trial: the same record for two chunk sizes",
            )
        )
    return share(checks)


def check_task(task: Task, n: int = N_TASK, seed: int = 1234) -> None:
    """Check ``task`` against the whole task contract; raise :class:`ContractError` at the first failure."""
    raise_first(task_checks(task, n=n, seed=seed))


def check_model(
    model: Model,
    task: Task,
    n: int = N_MODEL,
    seed: int = 99,
    *,
    trial: bool = True,
    task_name: str | None = None,
    model_name: str | None = None,
) -> None:
    """Check ``model`` on ``task`` against the whole model contract; raise :class:`ContractError` at the first
    failure. The end-to-end ``trial`` check is skipped when the task or model is not registered."""
    raise_first(model_checks(model, task, n=n, seed=seed, trial=trial, task_name=task_name, model_name=model_name))


# -- checks that need the model registry or the runner -------------------------------------------------------
def _check_paper_defaults(task: Task) -> None:
    from . import models

    cls = type(task)
    who = f"task {cls.__name__}"
    defaults = getattr(cls, "paper_defaults", {})
    if not isinstance(defaults, Mapping):
        raise ContractError(f"{who}.paper_defaults must map model names to dicts of hyperparameters")
    known = models.names()
    for name, given in defaults.items():
        where = f"{who}.paper_defaults[{name!r}]"
        if not isinstance(given, Mapping):
            raise ContractError(f"{where} must be a dict of hyperparameters, got {type(given).__name__}")
        if name not in known:
            raise ContractError(
                f"{who}.paper_defaults names the model {name!r}, which is not registered.{suggest(name, known)} "
                f"Registered models: {', '.join(known)}. Key paper_defaults by the model's name."
            )
        try:
            model_cls = models.get(name)
        except UserError as exc:
            raise ContractError(f"{where}: the model cannot be loaded: {exc}") from None
        spec_name = getattr(getattr(model_cls, "spec", None), "name", name)
        if spec_name != name:
            raise ContractError(
                f"{where}: the model registered as {name!r} looks up its defaults under its spec name "
                f"{spec_name!r}: key paper_defaults by {spec_name!r}"
            )
        hp = call(f"{who}.model_defaults({name!r})", task.model_defaults, name)
        if not isinstance(hp, Mapping):
            raise ContractError(f"{who}.model_defaults({name!r}) must return a dict, got {type(hp).__name__}")
        declared = {p.name: p for p in model_cls.spec.params}
        for key, value in hp.items():
            if key not in declared:
                raise ContractError(
                    f"{where} sets {key!r}, which model {name!r} does not declare.{suggest(key, declared)} "
                    f"Its hyperparameters: {', '.join(declared)}."
                )
            try:
                declared[key].parse(value)
            except UserError as exc:
                raise ContractError(f"{where}[{key!r}] = {value!r} is not valid for model {name!r}: {exc}") from None
        try:
            model = models.make(name, task)
        except UserError as exc:
            raise ContractError(f"{where}: model {name!r} refuses the task's paper defaults: {exc}") from None
        except Exception as exc:
            raise ContractError(
                f"{where}: lstm97.models.make({name!r}, task) raised {type(exc).__name__}: {exc}"
            ) from exc
        from .runners.trial import range_mismatch

        why = call(f"range_mismatch(task, {name!r} with {where})", range_mismatch, task, model)
        if why is not None:
            raise ContractError(f"{where}: {why} Set it in {where}.")


def _check_ranges(model: Model, task: Task) -> None:
    from .runners.trial import range_mismatch

    why = call("range_mismatch(task, model)", range_mismatch, task, model)
    if why is not None:
        raise Skipped(f"lstm97 run refuses this pair: {why}")


def registered_name(registry: Any, cls: type) -> str | None:
    """The name ``cls`` is registered under in ``registry`` (its spec name), or None."""
    name = getattr(getattr(cls, "spec", None), "name", None)
    if not isinstance(name, str):
        return None
    try:
        return name if registry.get(name) is cls else None
    except UserError:
        return None


def _check_trial(model: Model, task: Task, task_name: str | None, model_name: str | None) -> None:
    from . import models, tasks
    from .runners.trial import TrialConfig, run_trial

    task_name = task_name or registered_name(tasks.registry, type(task))
    model_name = model_name or registered_name(models.registry, type(model))
    for kind, name, obj in (("task", task_name, task), ("model", model_name, model)):
        if name is None:
            raise Skipped(
                f"the {kind} {type(obj).__name__} is not registered under its spec name: register it (entry point "
                f"group lstm97.{kind}s, or lstm97.{kind}s.registry.register) to run a trial through the runner"
            )
    budget = f"max_sequences={TRIAL_SEQUENCES}, n_test={TRIAL_TEST}"
    cfg = call(
        f"TrialConfig.resolve({task_name!r}, task.params, {model_name!r}, model.hp, {budget})",
        TrialConfig.resolve,
        task_name,
        dict(task.params),
        model_name,
        dict(model.hp),
        max_sequences=TRIAL_SEQUENCES,
        n_test=TRIAL_TEST,
        ranges=False,  # the runner's mechanics, on every pair (the ``ranges`` check reports a mismatch)
    )
    records = [
        call(f"run_trial(config, seed=0, chunk={c}) ({budget})", run_trial, cfg, 0, chunk=c) for c in TRIAL_CHUNKS
    ]
    a, b = records
    _require_trial(a, cfg)
    differ = [k for k in TRIAL_FIELDS if not equal(a.get(k), b.get(k))]
    if differ:
        shown = ", ".join(f"{k} {a.get(k)!r} vs {b.get(k)!r}" for k in differ if k not in ("weights", "curve"))
        raise ContractError(
            f"a trial of {model_name!r} on {task_name!r} gives a different record with chunk={TRIAL_CHUNKS[0]} "
            f"and chunk={TRIAL_CHUNKS[1]}: {', '.join(differ)} differ{f' ({shown})' if shown else ''}. The chunk "
            "size must never change a result: keep learned state in the TrainState and make sampling and "
            "train_chunk chunk-invariant"
        )


def _require_trial(record: Any, cfg: Any) -> None:
    if not isinstance(record, dict):
        raise ContractError(f"run_trial returned a {type(record).__name__}, not a record")
    if record.get("status") not in ("success", "budget", "diverged"):
        raise ContractError(f"the trial ended with status {record.get('status')!r}")
    if not 0 <= int(record.get("sequences", -1)) <= cfg.max_sequences + 1:
        raise ContractError(f"the trial counted {record.get('sequences')!r} sequences of {cfg.max_sequences}")


# -- checks by registered names (the CLI's ``lstm97 check`` and lstm97.testing) --------------------------------
def _failed(subject: str, what: str, exc: Exception) -> Check:
    def fail() -> None:
        raise ContractError(f"{what} raised {type(exc).__name__}: {exc}") from exc

    return Check(subject, "build", fail, doc="the constructor")


def _skipped(subject: str, why: str) -> Check:
    def skip() -> None:
        raise Skipped(why)

    return Check(subject, "build", skip, doc="the constructor")


Item = str | tuple[str, Mapping[str, Any]]


def _item(item: Item) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str):
        return item, {}
    name, params = item
    return name, dict(params)


def named_checks(
    tasks: Iterable[Item] = (), models: Iterable[Item] | None = None, on: Iterable[Item] | None = None
) -> list[Check]:
    """The checks of registered tasks and models, by name (an item is a name or ``(name, params)``), not yet run.

    Every task of ``tasks`` gets the task checks. Each model of ``models`` gets the model checks on every task
    of ``tasks`` or, when no task is given, on every task of ``on`` (default: every registered task). With
    ``models=None`` each task is checked with the models its ``paper_defaults`` name (``lstm`` when it names
    none, with the ``ranges`` check: a skip that says why ``lstm97 run`` would refuse the pair); ``models=[]``
    checks no model. A model that refuses a task of ``on`` with its default
    hyperparameters (a :class:`~lstm97.errors.UserError` from its constructor, e.g. too few outputs) is
    skipped there. Unknown names, and parameters a task or model refuses when they were given, raise
    :class:`~lstm97.errors.UserError`; any other exception of a constructor is a failing ``build`` check.
    """
    from . import models as model_registry
    from . import tasks as task_registry

    task_items = [_item(t) for t in tasks]
    model_items = None if models is None else [_item(m) for m in models]
    for name, _ in task_items:
        task_registry.get(name)  # unknown or broken: a UserError before any check
    for name, _ in model_items or []:
        model_registry.get(name)
    checks: list[Check] = []

    def build(name: str, params: dict[str, Any], strict: bool) -> Task | None:
        try:
            return task_registry.make(name, **params)
        except UserError as exc:
            if strict:
                raise
            checks.append(_skipped(name, f"the task cannot be built: {exc}"))
        except Exception as exc:
            checks.append(_failed(name, f"lstm97.tasks.make({name!r}, **{params!r})", exc))
        return None

    checked: list[tuple[str, Task]] = []
    for name, params in task_items:
        task = build(name, params, strict=True)
        if task is not None:
            checks += task_checks(task, subject=name)
            checked.append((name, task))
    if model_items is None:
        known = model_registry.names()
        pairs = []
        for name, task in checked:
            named = [m for m in getattr(type(task), "paper_defaults", {}) if m in known]
            pairs += [((m, {}), name, task, True, not named) for m in named or ["lstm"]]
    else:
        if not task_items:
            for name, params in (_item(t) for t in (task_registry.names() if on is None else on)):
                task = build(name, params, strict=on is not None)
                if task is not None:
                    checked.append((name, task))
        pairs = [(m, name, task, bool(task_items), False) for m in model_items for name, task in checked]
    for (model_name, hp), task_name, task, strict, fallback in pairs:
        subject = f"{model_name}@{task_name}"
        try:
            model = model_registry.make(model_name, task, **hp)
        except Incompatible as exc:  # the model cannot run this task at all (Task.requires)
            checks.append(_skipped(subject, f"the model refuses this task: {exc}"))
            continue
        except UserError as exc:
            if strict or hp:
                raise
            checks.append(_skipped(subject, f"the model refuses this task: {exc}"))
            continue
        except Exception as exc:
            checks.append(_failed(subject, f"lstm97.models.make({model_name!r}, task, **{hp!r})", exc))
            continue
        checks += model_checks(
            model, task, task_name=task_name, model_name=model_name, subject=subject, ranges=fallback
        )
    return checks


def select(
    name: str | None = None,
    task: str | None = None,
    model: str | None = None,
    task_params: Mapping[str, Any] | None = None,
    model_params: Mapping[str, Any] | None = None,
) -> list[Check]:
    """The checks ``lstm97 check`` runs: ``name`` (a registered task, checked with the models its paper
    defaults name; or a registered model, checked on every registered task; both if it is both), or ``task``
    and/or ``model`` (the model on that task; a model alone on every task). Mistakes raise UserError."""
    from . import models as model_registry
    from . import tasks as task_registry

    task_params, model_params = dict(task_params or {}), dict(model_params or {})
    if name is not None and (task is not None or model is not None):
        raise UserError(
            "give a NAME, or --task and/or --model, not both: lstm97 check adding, or lstm97 check "
            "--task adding --model lstm."
        )
    if name is None and task is None and model is None:
        raise UserError("name a task or model to check: lstm97 check NAME (or --task TASK and/or --model MODEL).")
    if name is not None:
        is_task, is_model = name in task_registry.names(), name in model_registry.names()
        if not (is_task or is_model):
            for registry in (task_registry.registry, model_registry.registry):
                try:
                    registry.get(name)
                except UserError as exc:  # a broken entry says so; an unknown name is reported below
                    if not str(exc).startswith("unknown"):
                        raise
            raise unknown("task or model", name, {*task_registry.names(), *model_registry.names()})
        task, model = (name if is_task else None), (name if is_model else None)
        if task is not None and model is not None:
            return select(task=name, task_params=task_params) + select(model=name, model_params=model_params)
    if task_params and task is None:
        raise UserError("-p/--param sets task parameters: give the task (lstm97 check TASK -p NAME=VALUE).")
    if model_params and model is None:
        raise UserError("--hp sets model hyperparameters: give the model (lstm97 check MODEL --hp NAME=VALUE).")
    tasks = [] if task is None else [(task, task_params)]
    models = None if model is None else [(model, model_params)]
    return named_checks(tasks=tasks, models=models)


__all__ = [
    "Check",
    "ContractError",
    "Outcome",
    "Skipped",
    "check_batch",
    "check_model",
    "check_task",
    "model_checks",
    "model_subject",
    "named_checks",
    "run_checks",
    "select",
    "task_checks",
]

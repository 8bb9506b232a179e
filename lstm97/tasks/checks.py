"""The public contract every task must pass (run it in a plugin's own tests: ``lstm97.checks.check_task``).

The contract is a list of named checks (:func:`task_checks`), each a :class:`Check` that raises
:class:`ContractError` with a message saying what is wrong and what to fix: never a raw exception from the
task (an exception raised by the task's own code is reported as such, with the method that raised it). The
checks of this module need the task alone; :mod:`lstm97.checks` adds those that need the model registry
(paper defaults) and the runner (one trial end to end), and is the entry point plugin authors use.

What a task must do (PAPER.md §3 conventions; STYLE.md patterns 1-3):

* ``spec``: a :class:`TaskSpec` with a non-empty name, title and paper reference, an int version >= 1, and
  a tuple of :class:`~lstm97.params.Param` with distinct names whose defaults are valid; ``task.params``
  holds every declared parameter (the base class's constructor does this).
* ``n_in``, ``n_out``: positive ints.
* ``protocol()``: a :class:`Protocol` whose stopping rule and milestones come from
  :mod:`lstm97.tasks.criteria`, with a positive budget and test size, non-negative fixed-set sizes, the fixed
  sets its evaluation rules test, and a description.
* ``sample(rng, n)``: a :class:`SequenceBatch` of ``n`` sequences, batch-major (inputs [n, L, n_in], targets
  [n, L, n_out], mask [n, L], lengths [n]), float64 / float64 / bool / int64 and C-contiguous; zero inputs
  and targets and a False mask beyond each length, zero targets wherever the mask is False; drawn from the
  given Generator only, the same for the same seed, and chunk-invariant (one call with n = k gives the same
  sequences as k calls with n = 1). One-hot inputs may be given as ``info["active"]`` alone
  (:meth:`SequenceBatch.one_hot`): C-contiguous int64 [n, L] in [-1, n_in), -1 beyond each length.
* ``correct``, ``error``, ``abs_error``: one value per sequence (bool, float64); the ideal outputs are
  correct with zero error, outputs far off the targets and NaN outputs are wrong; ``target_range()`` (see
  below) contains the ideal outputs.
* ``fixed_sets``: the training and evaluation sets of the protocol's sizes.
* ``target_range()``: (lo, hi), lo < hi (infinite ends allowed), the range the targets must reach (default
  (0, 1)); the ideal outputs (the noise-free targets) at the target steps lie inside it.
* ``prefixes`` (optional; default none): ascending ints; for each, ``sample_prefix(rng, n, steps)`` gives the
  first ``steps`` steps of the sequences ``sample(rng, n)`` gives (every array, info too) and leaves ``rng``
  where ``sample`` leaves it; ``settled(batch, outputs)`` is one bool per sequence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..params import Param
from .base import Protocol, SequenceBatch, Task, TaskSpec, _timed, one_hot_inputs
from .criteria import EvalRule, StopRule, WindowRule

#: Sequences per batch the task checks draw (other than 1 and L, so that transposed arrays show).
N_CHECK = 7


class ContractError(AssertionError):
    """A task or model breaks the lstm97 contract; the message says what is wrong and what to fix."""


def _require(cond: bool, msg: str) -> None:
    __tracebackhide__ = True  # pytest shows the failure, not this function
    if not cond:
        raise ContractError(msg)


# -- the machinery: named checks, run one by one -------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One named check of a task or model: calling it raises :class:`ContractError` on a failure.

    ``id`` is ``subject/name``, e.g. ``adding/chunk-invariance`` or ``lstm@adding/trial``; ``needs`` names
    checks of the same subject that must pass first: when one of them has failed (or was skipped), calling this
    one raises :class:`Skipped` instead. A check also raises :class:`Skipped` when it does not apply (e.g. a
    trial of an unregistered task). ``results`` holds the status of every check of the subject run so far.
    """

    subject: str
    name: str
    func: Callable[[], None] = field(repr=False, compare=False)
    needs: tuple[str, ...] = ()
    doc: str = ""
    results: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.subject}/{self.name}"

    def __str__(self) -> str:
        return self.id

    def __call__(self) -> None:
        __tracebackhide__ = True
        bad = [n for n in self.needs if self.results.get(n, "ok") != "ok"]
        self.results[self.name] = "skip" if bad else "FAIL"
        if bad:
            raise Skipped(f"not run: {self.subject}/{bad[0]} did not pass")
        try:
            self.func()
        except Skipped:
            self.results[self.name] = "skip"
            raise
        except ContractError:
            raise
        except Exception as exc:  # a bug the checks did not foresee: still a message, never a raw error
            raise ContractError(f"unexpected {type(exc).__name__} while checking: {exc}") from exc
        self.results[self.name] = "ok"


def share(checks: list[Check]) -> list[Check]:
    """``checks`` (of one subject), made to see each other's results (for ``needs``)."""
    results: dict[str, str] = {}
    for c in checks:
        object.__setattr__(c, "results", results)
    return checks


class Skipped(Exception):
    """A check that does not apply (its message says why); not a failure."""


@dataclass(frozen=True)
class Outcome:
    """The result of one check: ``status`` is ``ok``, ``FAIL`` or ``skip``; ``message`` says why."""

    check: Check
    status: str
    message: str = ""
    error: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def line(self) -> str:
        """``ok adding/spec``, ``FAIL adding/batch: ...`` or ``skip lstm@x/trial: ...``."""
        return f"{self.status} {self.check.id}" + (f": {self.message}" if self.message else "")


def run_checks(checks: Iterable[Check]) -> list[Outcome]:
    """Run every check in order and return their outcomes; a check whose ``needs`` failed or was skipped is
    skipped (its message names the check it needed)."""
    out: list[Outcome] = []
    for check in checks:
        try:
            check()
            out.append(Outcome(check, "ok"))
        except Skipped as exc:
            out.append(Outcome(check, "skip", str(exc), exc))
        except ContractError as exc:
            out.append(Outcome(check, "FAIL", str(exc), exc))
    return out


def raise_first(checks: Iterable[Check]) -> None:
    """Run ``checks`` in order and raise the first failure (the ``check_*`` functions' behaviour)."""
    for outcome in run_checks(checks):
        if outcome.status == "FAIL":
            raise ContractError(f"{outcome.check.id}: {outcome.message}") from outcome.error


def call(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; an exception it raises becomes a :class:`ContractError` naming ``what``."""
    __tracebackhide__ = True
    try:
        return fn(*args, **kwargs)
    except ContractError:
        raise
    except NotImplementedError as exc:
        raise ContractError(f"{what} is not implemented (it raised NotImplementedError): implement it") from exc
    except Exception as exc:
        detail = _batch_problem_in(exc)
        if detail is not None:
            raise ContractError(f"{what} built a SequenceBatch that is wrong: {detail}") from exc
        raise ContractError(f"{what} raised {type(exc).__name__}: {exc}") from exc


class Lazy:
    """A value computed once on first use; a failure is remembered and raised again (as the same message)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._done = False
        self._value: Any = None
        self._error: ContractError | None = None

    def get(self) -> Any:
        __tracebackhide__ = True
        if not self._done:
            self._done = True
            try:
                self._value = self._make()
            except ContractError as exc:
                self._error = exc
            except Exception as exc:
                self._error = ContractError(f"unexpected {type(exc).__name__}: {exc}")
                self._error.__cause__ = exc
        if self._error is not None:
            raise self._error
        return self._value


# -- shared pieces (also used by the model checks) -----------------------------------------------------------
def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def check_spec(cls: type, spec_type: type, who: str, kind: str) -> None:
    """The class attribute ``spec``: a ``spec_type`` with a name, title, paper text, version and Params."""
    spec = getattr(cls, "spec", None)
    example = f"spec = {spec_type.__name__}(name='my-{kind}', title='...', paper='...', params=(...), version=1)"
    _require(spec is not None, f"{who} has no class attribute spec: declare {example}")
    _require(
        isinstance(spec, spec_type),
        f"{who}.spec is a {type(spec).__name__}, not a lstm97.{kind}s.{spec_type.__name__}: declare {example}",
    )
    for attr, what in (("name", "the name results are stored under"), ("title", "a one-line title"), ("paper", "")):
        value = getattr(spec, attr)
        what = what or "the paper section it reproduces, or 'not in the paper'"
        _require(
            isinstance(value, str) and bool(value.strip()),
            f"{who}.spec.{attr} must be a non-empty string ({what}), got {value!r}",
        )
    _require(
        _is_int(spec.version) and spec.version >= 1,
        f"{who}.spec.version must be an int >= 1 (bump it whenever results for a seed change), got {spec.version!r}",
    )
    check_params(spec.params, f"{who}.spec.params")


def check_params(params: Any, where: str) -> None:
    """A tuple of :class:`Param` with distinct identifier names and valid defaults."""
    _require(
        isinstance(params, tuple),
        f"{where} must be a tuple of lstm97.params.Param, got a {type(params).__name__}: write "
        "params=(Param('T', 'int', 100, 'what T is', low=1),) (note the trailing comma of a 1-tuple)",
    )
    seen: set[str] = set()
    for i, p in enumerate(params):
        _require(
            isinstance(p, Param),
            f"{where}[{i}] is a {type(p).__name__} ({p!r}), not a lstm97.params.Param: write "
            "Param(name, kind, default, doc, low=..., high=..., choices=...)",
        )
        _require(
            isinstance(p.name, str) and p.name.isidentifier(),
            f"{where}[{i}]: the name {p.name!r} is not an identifier (it is written NAME=VALUE on the command line)",
        )
        _require(p.name not in seen, f"{where} declares {p.name!r} twice: give every parameter its own name")
        seen.add(p.name)
        _require(isinstance(p.doc, str) and bool(p.doc.strip()), f"{where}[{i}] ({p.name}) needs a doc string")
        try:
            p.describe()
            p.parse(p.default)
        except Exception as exc:
            raise ContractError(
                f"{where}[{i}] ({p.name}): the default {p.default!r} is not valid for its own declaration "
                f"({exc}): change the default or the bounds (low, high, choices, optional)"
            ) from None


def check_resolved(declared: tuple[Param, ...], values: Any, where: str, fix: str) -> None:
    """``values`` (``task.params`` / ``model.hp``) is a dict holding every declared name."""
    _require(isinstance(values, dict), f"{where} must be a dict of the resolved values ({fix})")
    names = [p.name for p in declared]
    missing = [n for n in names if n not in values]
    extra = [n for n in values if n not in names]
    _require(not missing, f"{where} lacks the declared {', '.join(missing)} ({fix})")
    _require(not extra, f"{where} holds {', '.join(extra)}, which the spec does not declare: declare them")


def equal(a: Any, b: Any) -> bool:
    """Exact equality of nested values (dicts, lists, tuples, arrays, floats; NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


def snapshot(batch: SequenceBatch) -> dict[str, np.ndarray]:
    """Copies of every array ``batch`` holds (info included; a sparse batch's inputs only if built), to find
    in-place changes."""
    return {k: np.array(v, copy=True) for k, v in batch.stored().items()}


def changed(batch: SequenceBatch, before: dict[str, np.ndarray]) -> list[str]:
    """Names of the arrays of ``batch`` that differ from ``before`` (a sparse batch's inputs, built since, also
    when they differ from the one-hot code of ``info["active"]``)."""
    now = batch.stored()
    bad = [k for k in before if k not in now or not equal(before[k], np.asarray(now[k]))]
    if "inputs" in now and "inputs" not in before and batch.sparse:
        if not equal(now["inputs"], one_hot_inputs(batch.info["active"], batch.n_in)):
            bad.append("inputs")
    return bad


def global_rng_state() -> tuple:
    return np.random.get_state()


def same_global_rng(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


# -- batch layout --------------------------------------------------------------------------------------------
_BATCH_ARRAYS = (("inputs", np.float64), ("targets", np.float64), ("mask", np.bool_), ("lengths", np.int64))
_DTYPE_FIX = {
    "inputs": "np.zeros((n, L, n_in)) is float64; convert with inputs.astype(np.float64)",
    "targets": "np.zeros((n, L, n_out)) is float64; convert with targets.astype(np.float64)",
    "mask": "build it with np.zeros((n, L), dtype=bool), or convert with mask.astype(bool)",
    "lengths": "convert with lengths.astype(np.int64)",
}


def _batch_problem_in(exc: BaseException) -> str | None:
    """What is wrong with the arrays of a SequenceBatch whose constructor raised ``exc`` (found in the frame of
    ``SequenceBatch.__post_init__`` in the traceback), or None when the exception did not come from there."""
    tb = exc.__traceback__
    code = SequenceBatch.__post_init__.__code__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            obj = tb.tb_frame.f_locals.get("self")
            sparse = getattr(obj, "sparse", False)  # SequenceBatch.one_hot: the inputs are info["active"]
            fields = {name: getattr(obj, name, None) for name, _ in _BATCH_ARRAYS if not (sparse and name == "inputs")}
            if sparse:
                shape = getattr(obj.info.get("active"), "shape", None)
                if shape != obj.mask.shape:
                    return (
                        f"info['active'] has shape {shape}, but the mask has {obj.mask.shape}: give the hot input "
                        "unit of every step, int64 [n, L] (-1 where none)"
                    )
                fields["inputs"] = np.broadcast_to(np.zeros(1), (*shape, obj.n_in))
            return layout_problem(fields, None, None, None) or f"{type(exc).__name__}: {exc}"
        tb = tb.tb_next
    return None


def layout_problem(arrays: Mapping[str, Any], n: int | None, n_in: int | None, n_out: int | None) -> str | None:
    """What is wrong with the shapes of a batch's four arrays, naming the usual mistakes (time-major arrays,
    arrays without the feature axis), or None. ``n``, ``n_in``, ``n_out`` (None: unknown) are the expected
    sizes."""
    for name, _ in _BATCH_ARRAYS:
        a = arrays.get(name)
        if not isinstance(a, np.ndarray):
            return (
                f"{name} is a {type(a).__name__}, not a numpy array: build the arrays with numpy (np.zeros, "
                "np.asarray(..., dtype=...))"
            )
    inputs, targets, mask, lengths = (arrays[name] for name, _ in _BATCH_ARRAYS)
    if lengths.ndim == 1:
        n = lengths.shape[0] if n is None else n
    elif n is None and mask.ndim == 2:
        n = mask.shape[0]
    for name, a, units, unit_name in (
        ("inputs", inputs, n_in, "n_in"),
        ("targets", targets, n_out, "n_out"),
        ("mask", mask, None, ""),
    ):
        want = "[n, L]" if name == "mask" else f"[n, L, {unit_name}]"
        feature_axes = 0 if name == "mask" else 1
        if a.ndim == 2 and feature_axes:
            order = "[L, n]" if (n is not None and a.shape[0] != n and a.shape[1] == n) else "[n, L]"
            return (
                f"{name} has shape {a.shape}, {order} without the feature axis (axis-less): give it shape {want} "
                f"({name}[:, :, None] for a single unit{'; it is also time-major' if order == '[L, n]' else ''})"
            )
        if a.ndim != 2 + feature_axes:
            return f"{name} has shape {a.shape}: it must have {2 + feature_axes} axes, {want}"
        if n is not None and a.shape[0] != n and a.shape[1] == n:
            return (
                f"{name} has shape {a.shape}, time-major ([L, n{', ...' if feature_axes else ''}]): SequenceBatch "
                f"arrays are batch-major, {want}, sequence i at {name}[i]; build them so or transpose them with "
                f"np.ascontiguousarray(np.swapaxes({name}, 0, 1))"
            )
        if feature_axes and units is not None and a.shape[2] != units and a.shape[1] == units:
            return (
                f"{name} has shape {a.shape}, [n, {unit_name}, L] (units before time): the unit axis comes last, "
                f"{want} = [{a.shape[0]}, {a.shape[2]}, {units}]"
            )
    if lengths.ndim != 1:
        return f"lengths has shape {lengths.shape}: it must be one length per sequence, shape [n]"
    if mask.shape[0] != lengths.shape[0] or inputs.shape[:2] != mask.shape or targets.shape[:2] != mask.shape:
        return (
            f"the arrays disagree on [n, L]: inputs {inputs.shape}, targets {targets.shape}, mask {mask.shape}, "
            f"lengths {lengths.shape}; they must be [n, L, n_in], [n, L, n_out], [n, L] and [n]"
        )
    return None


def check_batch(batch: SequenceBatch, n: int, n_in: int, n_out: int, who: str) -> None:
    """Type, shapes, dtypes, contiguity, padding and masking of one batch of ``n`` sequences."""
    _require(
        isinstance(batch, SequenceBatch),
        f"{who} returned a {type(batch).__name__}, not a SequenceBatch: return "
        "SequenceBatch(inputs, targets, mask, lengths) (lstm97.tasks.SequenceBatch)",
    )
    sparse = batch.sparse  # one-hot inputs given only by info["active"] (SequenceBatch.one_hot)
    arrays = {name: getattr(batch, name) for name, _ in _BATCH_ARRAYS if not (sparse and name == "inputs")}
    if sparse:  # the shape of the inputs without building them (a read-only view of one zero)
        arrays["inputs"] = np.broadcast_to(np.zeros(1), (*batch.mask.shape, batch.n_in))
    problem = layout_problem(arrays, n, n_in, n_out)
    _require(problem is None, f"{who}: {problem}")
    _require(len(batch) == n, f"{who} returned {len(batch)} sequences for n={n}: return exactly n")
    for name, dtype in _BATCH_ARRAYS:
        if sparse and name == "inputs":  # float64 and C-contiguous once built; active is checked below
            continue
        arr = arrays[name]
        _require(arr.dtype == dtype, f"{who}: {name} must be {np.dtype(dtype)}, got {arr.dtype} ({_DTYPE_FIX[name]})")
        _require(arr.flags.c_contiguous, f"{who}: {name} must be C-contiguous (use np.ascontiguousarray({name}))")
    _require(
        batch.n_in == n_in,
        f"{who}: inputs have {batch.n_in} units (shape {arrays['inputs'].shape}) but the task's n_in is {n_in}",
    )
    _require(
        batch.n_out == n_out,
        f"{who}: targets have {batch.n_out} units (shape {batch.targets.shape}) but the task's n_out is {n_out}",
    )
    L = batch.mask.shape[1]
    _require(L >= 1, f"{who}: the padded length L is 0: every sequence needs at least one step")
    _require(
        bool((batch.lengths >= 1).all() and (batch.lengths <= L).all()),
        f"{who}: lengths must lie in [1, padded length {L}], got {_span(batch.lengths)}",
    )
    beyond = np.arange(L)[None, :] >= batch.lengths[:, None]
    _require(
        not batch.mask[beyond].any(),
        f"{who}: mask must be False beyond each sequence's length (steps >= lengths[i] are padding)",
    )
    no_inputs = bool((batch.info["active"][beyond] == -1).all()) if sparse else not batch.inputs[beyond].any()
    _require(
        no_inputs and not batch.targets[beyond].any(),
        f"{who}: inputs and targets must be zero beyond each sequence's length (steps >= lengths[i] are padding"
        + ("; info['active'] -1 there)" if sparse else ")"),
    )
    _require(
        not batch.targets[~batch.mask].any(),
        f"{who}: non-zero targets at unmasked steps: a target exists only where mask is True; set targets to 0 "
        "wherever mask is False (targets[~mask] = 0), or set the mask where the target is meant",
    )
    _require(
        bool(batch.mask.any(axis=1).all()),
        f"{who}: every sequence needs at least one target step (a True in its row of mask)",
    )
    _require(
        bool((sparse or np.isfinite(batch.inputs).all()) and np.isfinite(batch.targets).all()),
        f"{who}: inputs and targets must be finite (no NaN or inf)",
    )
    _require(isinstance(batch.info, Mapping), f"{who}: info must be a dict of per-sequence arrays")
    for key, value in batch.info.items():
        _require(
            isinstance(key, str) and isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n,
            f"{who}: info[{key!r}] must be a numpy array with one entry per sequence (leading dimension n={n}), "
            f"got {type(value).__name__}{'' if not isinstance(value, np.ndarray) else f' of shape {value.shape}'}",
        )
    if "active" in batch.info:  # the one-hot index the kernels use to skip zero inputs
        active = batch.info["active"]
        _require(
            active.dtype == np.int64 and active.shape == batch.mask.shape and active.flags.c_contiguous,
            f"{who}: info['active'] must be C-contiguous int64 [n, L] (the hot input unit per step, -1 where none)",
        )
        _require(
            bool(((active >= -1) & (active < n_in)).all()),
            f"{who}: info['active'] must hold input unit indices in [0, {n_in}) or -1",
        )
        if not sparse:  # a sparse batch's inputs are that one-hot code by construction
            hot = np.zeros_like(batch.inputs)
            rows, steps = np.nonzero(active >= 0)
            hot[rows, steps, active[rows, steps]] = 1.0
            _require(
                np.array_equal(hot, batch.inputs),
                f"{who}: info['active'] must name the one hot input unit at every step (-1 where none), and the "
                "inputs must be exactly that one-hot code (drop info['active'] for other inputs)",
            )


def _span(a: np.ndarray) -> str:
    return f"[{a.min()}, {a.max()}]" if a.size else "none"


def _same(a: SequenceBatch, b: SequenceBatch, i: int, j: int) -> bool:
    sa, sb = a.sequence(i), b.sequence(j)
    return sa.keys() == sb.keys() and all(equal(sa[k], sb[k]) for k in sa)


# -- the task checks -----------------------------------------------------------------------------------------
def task_checks(task: Task, n: int = N_CHECK, seed: int = 1234, subject: str | None = None) -> list[Check]:
    """The checks of ``task`` that need the task alone, in order (see the module docstring)."""
    cls = type(task)
    who = f"task {cls.__name__}"
    subject = subject or _subject(task)
    spec = getattr(cls, "spec", None)
    proto = Lazy(lambda: call(f"{who}.protocol()", task.protocol))

    def dims() -> tuple[int, int]:
        return call(f"{who}.n_in", lambda: task.n_in), call(f"{who}.n_out", lambda: task.n_out)

    def draw(rng_seed: int, k: int, what: str = "") -> SequenceBatch:
        state = global_rng_state()
        batch = call(f"{who}.sample(rng, {k}){what}", task.sample, np.random.default_rng(rng_seed), k)
        _require(
            same_global_rng(state, global_rng_state()),
            f"{who}.sample must use only the Generator it is given, not np.random's global state "
            "(np.random.random, np.random.seed, ...): call rng.random(...), rng.integers(...) instead",
        )
        return batch

    whole = Lazy(lambda: draw(seed, n))

    def check_spec_() -> None:
        check_spec(cls, TaskSpec, who, "task")
        check_resolved(spec.params, getattr(task, "params", None), f"{who}.params", "call super().__init__(**params)")

    def check_dims() -> None:
        n_in, n_out = dims()
        for name, v in (("n_in", n_in), ("n_out", n_out)):
            _require(
                _is_int(v) and v >= 1,
                f"{who}.{name} must be a positive int (the number of {name[2:]}put units), got {v!r}",
            )

    def check_protocol() -> None:
        check_protocol_value(proto.get(), who)

    def check_sample() -> None:
        n_in, n_out = dims()
        check_batch(whole.get(), n, n_in, n_out, f"{who}.sample(rng, {n})")

    def check_determinism() -> None:
        again = draw(seed, n, " again")
        _require(
            all(_same(whole.get(), again, i, i) for i in range(n)),
            f"{who}.sample is not deterministic: two Generators with the same seed must give the same sequences "
            "(draw every random number from rng, never from a clock, a global or a cache)",
        )

    def check_chunks() -> None:
        rng = np.random.default_rng(seed)
        singles = [call(f"{who}.sample(rng, 1)", task.sample, rng, 1) for _ in range(n)]
        n_in, n_out = dims()
        for s in singles:
            check_batch(s, 1, n_in, n_out, f"{who}.sample(rng, 1)")
        _require(
            all(_same(whole.get(), s, i, 0) for i, s in enumerate(singles)),
            f"{who}.sample is not chunk-invariant: one call with n={n} must give the same sequences as "
            f"{n} calls with n=1 (draw a fixed amount of randomness per sequence, in sequence order)",
        )
        b = whole.get()
        part = b.take(np.arange(n)[::2])
        check_batch(part, len(part), n_in, n_out, f"{who}: a sub-batch from SequenceBatch.take")
        joined = SequenceBatch.concat([part, b.take(slice(0, 1))])
        check_batch(joined, len(joined), n_in, n_out, f"{who}: batches joined by SequenceBatch.concat")

    def check_success() -> None:
        check_success_test(task, whole.get(), who)
        check_target_range()

    def check_target_range() -> None:
        lo, hi = check_range_value(call(f"{who}.target_range()", task.target_range), f"{who}.target_range()")
        b = whole.get()
        ideal = np.asarray(call(f"{who}.ideal_outputs(batch)", task.ideal_outputs, b), dtype=np.float64)
        at = ideal[b.mask]
        if at.size:
            _require(
                bool(((at >= lo) & (at <= hi)).all()),
                f"{who}: the (noise-free) targets at the target steps lie in [{at.min():g}, {at.max():g}], outside "
                f"target_range() = [{lo:g}, {hi:g}]: declare the range the targets reach (the runner refuses "
                "models whose outputs cannot reach it)",
            )

    def check_sets() -> None:
        p = proto.get()
        train, evaluation = call(
            f"{who}.fixed_sets(train_rng, eval_rng)",
            task.fixed_sets,
            np.random.default_rng(seed + 1),
            np.random.default_rng(seed + 2),
        )
        n_in, n_out = dims()
        for name, size, got in (("n_train", p.n_train, train), ("n_eval", p.n_eval, evaluation)):
            if size:
                check_batch(got, size, n_in, n_out, f"{who}.fixed_sets (the {name}={size} set)")
            else:
                _require(got is None, f"{who}.fixed_sets must return None for a set of size {name}=0")

    def check_prefixes() -> None:
        steps_list = call(f"{who}.prefixes", lambda: tuple(task.prefixes))
        _require(
            all(_is_int(k) and k >= 1 for k in steps_list) and list(steps_list) == sorted(set(steps_list)),
            f"{who}.prefixes must be ascending positive ints, got {steps_list!r}",
        )
        b = whole.get()
        for steps in steps_list:
            rng = np.random.default_rng(seed)
            part = call(f"{who}.sample_prefix(rng, {n}, {steps})", task.sample_prefix, rng, n, steps)
            n_in, n_out = dims()
            check_batch(part, n, n_in, n_out, f"{who}.sample_prefix(rng, {n}, {steps})")
            cut = {
                k: np.minimum(v, steps) if k == "lengths" else v[:, :steps] if _timed(v, b.mask) else v
                for k, v in b.arrays().items()
            }
            got = part.arrays()
            _require(
                got.keys() == cut.keys() and all(equal(got[k], cut[k]) for k in cut),
                f"{who}.sample_prefix(rng, {n}, {steps}) must give the first {steps} steps of the sequences "
                f"sample(rng, {n}) gives (the same draws, cut after {steps} steps)",
            )
            again = np.random.default_rng(seed)
            call(f"{who}.sample(rng, {n})", task.sample, again, n)
            _require(
                rng.random() == again.random(),
                f"{who}.sample_prefix(rng, {n}, {steps}) must leave rng where sample(rng, {n}) leaves it (draw "
                "or skip the rest of each sequence's randomness)",
            )
            settled = np.asarray(call(f"{who}.settled(batch, outputs)", task.settled, part, part.targets))
            _require(
                settled.shape == (n,) and settled.dtype == np.bool_,
                f"{who}.settled(batch, outputs) must give one bool per sequence, got {settled.dtype} {settled.shape}",
            )

    checks = [
        Check(subject, "spec", check_spec_, doc="TaskSpec: name, title, paper, version, Params; task.params"),
        Check(subject, "dimensions", check_dims, doc="n_in, n_out are positive ints"),
        Check(subject, "protocol", check_protocol, doc="Protocol: rules, budget, test size, fixed sets"),
        Check(subject, "batch", check_sample, ("dimensions",), "sample(): layout, dtypes, padding, masking, RNG"),
        Check(subject, "determinism", check_determinism, ("batch",), "sample(): the same seed, the same batch"),
        Check(subject, "chunk-invariance", check_chunks, ("determinism",), "sample(): n=k equals k calls with n=1"),
        Check(subject, "success-test", check_success, ("batch",), "correct/error/abs_error; target_range()"),
        Check(subject, "fixed-sets", check_sets, ("batch", "protocol"), "fixed_sets() of the protocol's sizes"),
        Check(subject, "prefixes", check_prefixes, ("batch",), "sample_prefix(): sample()'s first steps, same rng"),
    ]
    return share(checks)


def check_range_value(value: Any, where: str) -> tuple[float, float]:
    """``value`` as (lo, hi): a pair of numbers, not NaN, lo < hi (a declared output or target range)."""
    ok = isinstance(value, tuple) and len(value) == 2
    try:
        lo, hi = (float(x) for x in value) if ok else (math.nan, math.nan)
    except (TypeError, ValueError):
        lo, hi = math.nan, math.nan
    _require(
        ok and lo < hi,
        f"{where} must return a tuple (lo, hi) of numbers with lo < hi (e.g. (0.0, 1.0); -math.inf and math.inf "
        f"for unbounded ends), got {value!r}",
    )
    return lo, hi


def _subject(task: Task) -> str:
    spec = getattr(type(task), "spec", None)
    name = getattr(spec, "name", None)
    return name if isinstance(name, str) and name.strip() else type(task).__name__


def check_protocol_value(proto: Any, who: str) -> None:
    """The fields of a :class:`Protocol` (PAPER.md Table 11), checked against what the runner needs."""
    _require(
        isinstance(proto, Protocol),
        f"{who}.protocol() returned a {type(proto).__name__}, not a lstm97.tasks.Protocol: return "
        "Protocol(stop=st3(0.01), max_sequences=..., n_test=..., description='...')",
    )
    for name in ("max_sequences", "n_test"):
        value = getattr(proto, name)
        _require(_is_int(value) and value >= 1, f"{who}.protocol().{name} must be a positive int, got {value!r}")
    for name in ("n_eval", "n_train"):
        value = getattr(proto, name)
        _require(_is_int(value) and value >= 0, f"{who}.protocol().{name} must be a non-negative int, got {value!r}")
    _require(
        isinstance(proto.description, str) and bool(proto.description.strip()),
        f"{who}.protocol().description must say in words when a trial stops (it is stored with every trial)",
    )
    _require(
        isinstance(proto.test_on_eval, (bool, np.bool_)),
        f"{who}.protocol().test_on_eval must be a bool, got {proto.test_on_eval!r}",
    )
    _require(
        not proto.test_on_eval or proto.n_eval > 0,
        f"{who}.protocol() has test_on_eval=True but n_eval=0: the final test is the evaluation set, so give it "
        "a size (n_eval > 0) or set test_on_eval=False (fresh test sequences)",
    )
    _require(
        isinstance(proto.milestones, tuple),
        f"{who}.protocol().milestones must be a tuple of rules, got a {type(proto.milestones).__name__}",
    )
    sizes = {"train": proto.n_train, "eval": proto.n_eval}
    for where, rule in [("stop", proto.stop)] + [(f"milestones[{i}]", r) for i, r in enumerate(proto.milestones)]:
        _check_rule(rule, f"{who}.protocol().{where}", sizes)
    names = [r.name for r in (*proto.milestones, proto.stop)]
    _require(
        len(set(names)) == len(names),
        f"{who}.protocol(): the rules' names {names} must be distinct (milestones are stored by name)",
    )


def _check_rule(rule: Any, where: str, sizes: Mapping[str, int]) -> None:
    _require(
        isinstance(rule, StopRule),
        f"{where} is a {type(rule).__name__}, not a stopping rule: use one from lstm97.tasks.criteria "
        "(st3(beta), WindowRule(window, ...), EvalRule(every, ...))",
    )
    _require(isinstance(rule.name, str) and bool(rule.name.strip()), f"{where} needs a name (a non-empty string)")
    if isinstance(rule, WindowRule):
        _require(_is_int(rule.window) and rule.window >= 1, f"{where}: WindowRule.window must be a positive int")
        _require(_is_int(rule.max_wrong) and rule.max_wrong >= 0, f"{where}: max_wrong must be a non-negative int")
    elif isinstance(rule, EvalRule):
        _require(_is_int(rule.every) and rule.every >= 1, f"{where}: EvalRule.every must be a positive int")
        _require(_is_int(rule.max_wrong) and rule.max_wrong >= 0, f"{where}: max_wrong must be a non-negative int")
        _require(_is_int(rule.fresh) and rule.fresh >= 0, f"{where}: EvalRule.fresh must be a non-negative int")
        if not rule.fresh:
            _require(
                isinstance(rule.sets, tuple) and bool(rule.sets) and all(s in sizes for s in rule.sets),
                f"{where}: EvalRule.sets must be a non-empty tuple of 'train' and/or 'eval', got {rule.sets!r}",
            )
            for s in rule.sets:
                size = "n_train" if s == "train" else "n_eval"
                _require(
                    sizes[s] > 0,
                    f"{where} evaluates the fixed {s!r} set but the protocol's {size} is 0: give the set a size "
                    f"({size}=...) or evaluate on fresh sequences (EvalRule(..., fresh=...))",
                )
    else:
        for method in ("start", "scan"):
            _require(
                getattr(type(rule), method) is not getattr(StopRule, method),
                f"{where}: {type(rule).__name__} must implement {method}() (or use WindowRule / EvalRule)",
            )


def check_success_test(task: Task, batch: SequenceBatch, who: str) -> None:
    """``correct``, ``error`` and ``abs_error`` of the ideal, far-off and NaN outputs of ``batch``."""
    n = len(batch)
    ideal = call(f"{who}.ideal_outputs(batch)", task.ideal_outputs, batch)
    _require(
        isinstance(ideal, np.ndarray) and ideal.shape == batch.targets.shape and ideal.dtype == np.float64,
        f"{who}.ideal_outputs must return float64 outputs shaped like the targets {batch.targets.shape}",
    )
    ok = call(f"{who}.correct(batch, outputs)", task.correct, batch, ideal)
    _require(
        isinstance(ok, np.ndarray) and ok.shape == (n,) and ok.dtype == np.bool_,
        f"{who}.correct must return a bool array of shape [n] = ({n},), one per sequence, got {_describe(ok)}",
    )
    _require(bool(ok.all()), f"{who}.correct must accept its ideal outputs (by default the targets)")
    for name in ("error", "abs_error"):
        err = call(f"{who}.{name}(batch, outputs)", getattr(task, name), batch, ideal)
        _require(
            isinstance(err, np.ndarray) and err.shape == (n,) and err.dtype == np.float64,
            f"{who}.{name} must return a float64 array of shape [n] = ({n},), one per sequence, got {_describe(err)}",
        )
        _require(bool(np.isfinite(err).all() and (err >= 0).all()), f"{who}.{name} must be finite and >= 0")
    err = task.error(batch, batch.targets)
    _require(bool((err == 0).all()), f"{who}.error of outputs equal to the targets must be 0")
    # far off at every target step, in value and in rank: -1000 where the ideal output is positive, else +1000
    far = np.where(batch.mask[:, :, None], np.where(ideal > 0, -1e3, 1e3), ideal)
    wrong = call(f"{who}.correct(batch, outputs)", task.correct, batch, far)
    _require(
        not bool(np.asarray(wrong).any()),
        f"{who}.correct accepts outputs 1000 away from the ideal ones at every target step (-1000 where the "
        "ideal output is positive, +1000 elsewhere): it must reject wrong outputs",
    )
    with np.errstate(invalid="ignore"):
        nan = call(f"{who}.correct(batch, NaN outputs)", task.correct, batch, np.full(batch.targets.shape, np.nan))
    _require(
        not bool(np.asarray(nan).any()),
        f"{who}.correct must count NaN outputs wrong (a net that diverged gets NaN outputs): compare so that NaN "
        "fails, e.g. np.abs(targets - outputs) < tol, not ~(np.abs(...) >= tol) or argmax",
    )


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"{x.dtype} of shape {x.shape}"
    return type(x).__name__


def check_task(task: Task, n: int = N_CHECK, seed: int = 1234) -> None:
    """Check ``task`` against the part of the contract that needs the task alone; raise the first failure.
    :func:`lstm97.checks.check_task` also checks its paper defaults against the model registry."""
    raise_first(task_checks(task, n=n, seed=seed))


__all__ = [
    "Check",
    "ContractError",
    "Outcome",
    "Skipped",
    "check_batch",
    "check_task",
    "run_checks",
    "task_checks",
]

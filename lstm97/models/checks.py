"""The public contract every model must pass (run it in a plugin's own tests: ``lstm97.checks.check_model``).

Like the task contract (:mod:`lstm97.tasks.checks`), a list of named checks (:func:`model_checks`) that raise
:class:`~lstm97.tasks.checks.ContractError` with a message saying what to fix. :mod:`lstm97.checks` adds one
trial through the runner.

What a model must do (STYLE.md, scikit-learn's split of hyperparameters and learned state; patterns 1-5):

* ``spec``: a :class:`ModelSpec` (as a task's spec); ``model.hp`` holds every declared hyperparameter.
* ``n_in``, ``n_out`` those of the task it was built for; ``layout.size`` > 0 weights in one flat vector, of
  which ``n_weights`` = ``free().sum()`` are free; ``footprint()`` a :class:`Footprint` or None.
* ``init_state(rng)``: a :class:`TrainState` whose ``w`` is a C-contiguous float64 vector of ``layout.size``
  (absent connections 0), drawn from the given Generator only (the same for the same seed).
* ``predict(state, batch)``: float64 outputs [n, L, n_out]; the state unchanged.
* ``train_chunk(state, batch)``: a :class:`ChunkResult` with status OK, ``n_done == n`` and float64 outputs
  [n, L, n_out] on a sane batch; everything learned goes into ``state`` (nothing into ``self``: a copy of the
  untrained state predicts as before, and training it again gives the same state); chunk-invariant (one call
  on n sequences gives the same state and outputs, bit for bit, as two halves or n calls of one).
* ``train_lanes(states, batches)`` (``--lanes``): one ChunkResult per lane, each lane's state and outputs the
  same, bit for bit, as ``train_chunk`` alone (lanes with different numbers of sequences).
* Neither changes the batch (the runner reuses batches: the fixed training set, the restore after a stop).
* ``output_range()``: (lo, hi), lo < hi (infinite ends allowed), the range of the outputs (default (0, 1),
  logistic output units); a fresh net's outputs lie inside it (checked with ``predict``).
* A search model (``is_search``, random guessing) has ``search(task, batch, rng, max_guesses)`` instead of
  training: (state, guesses, solved), the same for the same seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tasks.checks import (
    Check,
    ContractError,
    _is_int,
    _require,
    call,
    changed,
    check_range_value,
    check_resolved,
    check_spec,
    equal,
    global_rng_state,
    raise_first,
    same_global_rng,
    share,
    snapshot,
)
from .base import OK, ChunkResult, Footprint, Layout, Model, ModelSpec, TrainState

#: Sequences of the batch the model checks train on (at least 2, for two halves).
N_CHECK = 6


def model_subject(model: Model, task: Any) -> str:
    """``lstm@adding``: the model's and the task's spec names (class names when they have none)."""

    def name(obj: Any) -> str:
        n = getattr(getattr(type(obj), "spec", None), "name", None)
        return n if isinstance(n, str) and n.strip() else type(obj).__name__

    return f"{name(model)}@{name(task)}"


def model_checks(model: Model, task: Any, n: int = N_CHECK, seed: int = 99, subject: str | None = None) -> list[Check]:
    """The checks of ``model`` on ``task`` that need no runner, in order (see the module docstring)."""
    cls = type(model)
    who = f"model {cls.__name__}"
    subject = subject or model_subject(model, task)
    search = bool(getattr(model, "is_search", False))
    n = max(int(n), 2)

    def init(s: int = seed) -> TrainState:
        rng_state = global_rng_state()
        state = call(f"{who}.init_state(rng)", model.init_state, np.random.default_rng(s))
        _require(
            same_global_rng(rng_state, global_rng_state()),
            f"{who}.init_state must use only the Generator it is given, not np.random's global state",
        )
        _require(isinstance(state, TrainState), f"{who}.init_state must return a lstm97.models.TrainState")
        return state

    def fresh() -> Any:
        """The same batch, drawn anew for every use (a model that changes its batch spoils no other check)."""
        return call(f"task {type(task).__name__}.sample(rng, {n})", task.sample, np.random.default_rng(seed), n)

    def predict(state: TrainState, b: Any, what: str = "predict") -> np.ndarray:
        out = call(f"{who}.{what}(state, batch)", model.predict, state, b)
        _require(
            isinstance(out, np.ndarray) and out.shape == b.targets.shape and out.dtype == np.float64,
            f"{who}.predict must return float64 outputs [n, L, n_out] = {b.targets.shape} (one per step, like the "
            f"targets), got {_describe(out)}",
        )
        return out

    def train(state: TrainState, b: Any, what: str = "") -> ChunkResult:
        res = call(f"{who}.train_chunk(state, batch{what})", model.train_chunk, state, b)
        _require(
            isinstance(res, ChunkResult),
            f"{who}.train_chunk must return a lstm97.models.ChunkResult(status, n_done, outputs), got "
            f"{type(res).__name__}",
        )
        k = len(b)
        _require(
            res.status == OK and res.n_done == k,
            f"{who}.train_chunk on {k} sane sequences{what} from fresh weights returned status {res.status!r} and "
            f"n_done={res.n_done!r}: it must return status OK (lstm97.models.base.OK) with n_done={k} (the "
            "sequences completed) unless the net went non-finite",
        )
        _require(
            isinstance(res.outputs, np.ndarray)
            and res.outputs.shape == b.targets.shape
            and res.outputs.dtype == np.float64,
            f"{who}.train_chunk's outputs must be float64 [n, L, n_out] = {b.targets.shape} (the outputs computed "
            f"while each sequence was trained), got {_describe(res.outputs)}",
        )
        return res

    def check_spec_() -> None:
        check_spec(cls, ModelSpec, who, "model")
        check_resolved(
            cls.spec.params,
            getattr(model, "hp", None),
            f"{who}.hp",
            "call super().__init__(n_in, n_out, **hp) in the constructor",
        )

    def check_dims() -> None:
        for name in ("n_in", "n_out"):
            mine, theirs = getattr(model, name, None), call(f"task {type(task).__name__}.{name}", getattr, task, name)
            _require(
                _is_int(mine) and mine == theirs,
                f"{who}.{name} is {mine!r} but the task's is {theirs!r}: build the model for the task "
                "(lstm97.models.make(name, task) or Model.for_task(task))",
            )

    def check_layout() -> None:
        layout = call(f"{who}.layout", lambda: model.layout)
        _require(
            isinstance(layout, Layout),
            f"{who}.layout must be a lstm97.models.Layout (named blocks of the flat weight vector), got "
            f"{type(layout).__name__}",
        )
        size = layout.size
        _require(_is_int(size) and size >= 1, f"{who}.layout.size must be a positive int (the weights), got {size!r}")
        free = call(f"{who}.free()", model.free)
        _require(
            isinstance(free, np.ndarray) and free.dtype == np.bool_ and free.shape == (size,),
            f"{who}.free() must be a bool array of shape (layout.size,) = ({size},) marking the weights that exist, "
            f"got {_describe(free)}",
        )
        nw = call(f"{who}.n_weights", lambda: model.n_weights)
        _require(
            _is_int(nw) and 0 <= nw <= size,
            f"{who}.n_weights must be an int in [0, layout.size = {size}] (the weight count), got {nw!r}",
        )
        _require(
            nw == int(free.sum()),
            f"{who}: n_weights ({nw}) must count the free entries of the weight vector (Model.free(): {free.sum()})",
        )
        fp = call(f"{who}.footprint()", model.footprint)
        _require(
            fp is None
            or (isinstance(fp, Footprint) and _is_int(fp.bytes) and fp.bytes >= 0 and fp.flops_per_step >= 0),
            f"{who}.footprint must return a Footprint of non-negative estimates (or None: no estimate)",
        )

    def check_init() -> None:
        s1, s2 = init(), init()
        size = model.layout.size
        w = s1.w
        _require(
            isinstance(w, np.ndarray) and w.dtype == np.float64 and w.shape == (size,),
            f"{who}.init_state: the weights must be one flat float64 vector of layout.size = {size} entries "
            f"(TrainState(w)), got {_describe(w)}",
        )
        _require(w.flags.c_contiguous, f"{who}.init_state: the weight vector must be C-contiguous")
        _require(bool(np.isfinite(w).all()), f"{who}.init_state: the weights must be finite")
        _require(not w[~model.free()].any(), f"{who}: entries that are not weights (absent connections) must be 0")
        _require(
            s1.extra is None or isinstance(s1.extra, dict),
            f"{who}.init_state: TrainState.extra must be None or a dict, got {type(s1.extra).__name__}",
        )
        _require(
            equal(s1.w, s2.w) and equal(s1.extra, s2.extra),
            f"{who}.init_state must depend only on the Generator it is given: the same seed must give the same state",
        )

    def check_predict() -> None:
        b = fresh()
        state = init()
        rng_state = global_rng_state()
        out = predict(state.copy(), b)
        _require(
            same_global_rng(rng_state, global_rng_state()),
            f"{who}.predict must not use np.random's global state",
        )
        _require(
            bool(np.isfinite(out).all()), f"{who}.predict gives non-finite outputs for a fresh net on a sane batch"
        )
        _require(
            equal(out, predict(state.copy(), fresh())),
            f"{who}.predict is not deterministic: the same state and batch must give the same outputs",
        )
        check_output_range(out)

    def check_output_range(out: np.ndarray) -> None:
        lo, hi = check_range_value(call(f"{who}.output_range()", model.output_range), f"{who}.output_range()")
        _require(
            bool(((out >= lo) & (out <= hi)).all()),
            f"{who}: a fresh net's outputs lie in [{out.min():g}, {out.max():g}], outside output_range() = "
            f"[{lo:g}, {hi:g}]: declare the range the output units can take (the runner checks that it contains "
            "the task's target_range())",
        )

    def check_predict_keeps_state() -> None:
        b = fresh()
        state = init()
        before = state.copy()
        predict(state, b)
        _require(
            equal(state.w, before.w),
            f"{who}.predict changed the weights: it must leave the state as it is (learning is train_chunk's job)",
        )
        _require(equal(state.extra, before.extra), f"{who}.predict changed state.extra: it must leave the state alone")

    def check_train() -> None:
        b = fresh()
        state = init()
        w = state.w
        rng_state = global_rng_state()
        res = train(state, b)
        _require(
            same_global_rng(rng_state, global_rng_state()),
            f"{who}.train_chunk must not use np.random's global state (keep a Generator in the state if the rule "
            "needs randomness)",
        )
        _require(bool(np.isfinite(res.outputs).all()), f"{who}.train_chunk's outputs must be finite when status is OK")
        _require(
            isinstance(state.w, np.ndarray) and state.w.dtype == np.float64 and state.w.shape == w.shape,
            f"{who}.train_chunk must keep state.w a float64 vector of layout.size entries",
        )
        _require(bool(np.isfinite(state.w).all()), f"{who}.train_chunk left non-finite weights with status OK")
        _require(not state.w[~model.free()].any(), f"{who}.train_chunk must leave absent connections at 0")

    def check_batch_unchanged() -> None:
        b = fresh()
        before = snapshot(b)
        predict(init(), b)
        bad = changed(b, before)
        _require(not bad, f"{who}.predict changed the batch's {', '.join(bad)} in place: work on copies")
        if not search:
            train(init(), b)
            bad = changed(b, before)
            _require(
                not bad,
                f"{who}.train_chunk changed the batch's {', '.join(bad)} in place: work on copies (the runner "
                "reuses batches: fixed training sets, and the chunk it trains again after a stop)",
            )

    def check_self() -> None:
        b = fresh()
        untrained = init()
        before = predict(untrained.copy(), b)
        state = untrained.copy()
        train(state, b)
        after = predict(untrained.copy(), b)
        _require(
            equal(before, after),
            f"{who} learns into self: after train_chunk, a fresh copy of the untrained state predicts differently "
            "than before training. Keep everything learned in the TrainState (state.w, state.extra), never on the "
            "model (self), or results change with --chunk and between trials",
        )
        again = untrained.copy()
        train(again, b)
        _require(
            equal(state.w, again.w) and equal(state.extra, again.extra),
            f"{who}.train_chunk depends on more than the state and the batch: training the same untrained state on "
            "the same batch twice gave different states. Keep learned or cached values in the TrainState, "
            "not on self",
        )

    def check_chunks() -> None:
        b = fresh()
        one = init()
        res = train(one, b)
        half = n // 2
        for pieces, how in (
            ([slice(0, half), slice(half, n)], f"two chunks of {half} and {n - half}"),
            ([slice(i, i + 1) for i in range(n)], f"{n} chunks of 1"),
        ):
            state = init()
            outs = []
            for sl in pieces:
                part = b.take(sl)
                outs.append((sl, train(state, part, f" [{sl.start}:{sl.stop}]").outputs))
            _require(
                equal(one.w, state.w) and equal(one.extra, state.extra),
                f"{who}.train_chunk is not chunk-invariant: one chunk of {n} sequences must give the same state, "
                f"bit for bit, as {how} (carry nothing from one call to the next but the state; reset per-sequence "
                "values at every sequence start)",
            )
            for sl, out in outs:
                for j, i in enumerate(range(sl.start, sl.stop)):
                    k = int(b.lengths[i])
                    _require(
                        equal(res.outputs[i, :k], out[j, :k]),
                        f"{who}.train_chunk is not chunk-invariant: the outputs of sequence {i} differ between one "
                        f"chunk of {n} and {how}",
                    )

    def check_lanes() -> None:
        b = fresh()
        batches = [b, b.take(slice(0, max(1, n // 2)))]  # lanes differ in their numbers of sequences
        states = [init(), init(seed + 1)]
        alone = [s.copy() for s in states]
        results = call(f"{who}.train_lanes(states, batches)", model.train_lanes, states, batches)
        _require(
            isinstance(results, list) and len(results) == 2 and all(isinstance(r, ChunkResult) for r in results),
            f"{who}.train_lanes(states, batches) must return one ChunkResult per lane",
        )
        for i, (state, batch, res) in enumerate(zip(alone, batches, results, strict=True)):
            ref = train(state, batch, f" [lane {i} alone]")
            _require(
                equal(state.w, states[i].w) and equal(state.extra, states[i].extra) and equal(ref.outputs, res.outputs),
                f"{who}.train_lanes is not train_chunk per lane: lane {i} must end with the same state and outputs, "
                "bit for bit, as train_chunk(state, batch) alone (the default Model.train_lanes does that)",
            )

    def check_search() -> None:
        b = fresh()
        runs = [
            call(f"{who}.search(task, batch, rng, 3)", model.search, task, b, np.random.default_rng(seed), 3)
            for _ in range(2)
        ]
        for r in runs:
            _require(
                isinstance(r, tuple)
                and len(r) == 3
                and isinstance(r[0], TrainState)
                and _is_int(r[1])
                and 1 <= r[1] <= 3
                and isinstance(r[2], (bool, np.bool_)),
                f"{who}.search(task, batch, rng, max_guesses=3) must return (TrainState, guesses in [1, 3], solved)",
            )
        _require(
            runs[0][1:] == runs[1][1:] and equal(runs[0][0].w, runs[1][0].w),
            f"{who}.search must depend only on the Generator it is given",
        )

    checks = [
        Check(subject, "spec", check_spec_, doc="ModelSpec: name, title, paper, version, Params; model.hp"),
        Check(subject, "dimensions", check_dims, doc="n_in, n_out are the task's"),
        Check(subject, "layout", check_layout, doc="layout.size > 0, n_weights = free().sum() <= it, footprint"),
        Check(subject, "init-state", check_init, ("layout",), "TrainState: flat float64 w, deterministic"),
        Check(subject, "predict", check_predict, ("init-state",), "float64 [n, L, n_out], deterministic, in range"),
        Check(subject, "predict-keeps-state", check_predict_keeps_state, ("predict",), "predict leaves the state"),
    ]
    if search:
        checks += [
            Check(subject, "batch-unchanged", check_batch_unchanged, ("predict",), "predict leaves the batch"),
            Check(subject, "search", check_search, ("predict",), "search(): deterministic (state, guesses, solved)"),
        ]
    else:
        checks += [
            Check(subject, "train-chunk", check_train, ("init-state",), "ChunkResult OK, n_done == n, outputs"),
            Check(subject, "batch-unchanged", check_batch_unchanged, ("predict", "train-chunk"), "batch not mutated"),
            Check(subject, "no-learning-into-self", check_self, ("predict", "train-chunk"), "learned state in state"),
            Check(subject, "chunk-invariance", check_chunks, ("train-chunk",), "1 chunk = 2 halves = n singles"),
            Check(subject, "lanes", check_lanes, ("no-learning-into-self",), "train_lanes = train_chunk per lane"),
        ]
    return share(checks)


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"{x.dtype} of shape {x.shape}"
    return type(x).__name__


def check_model(model: Model, task: Any, n: int = N_CHECK, seed: int = 99) -> None:
    """Check ``model`` on ``task`` against the part of the contract that needs no runner; raise the first
    failure. :func:`lstm97.checks.check_model` also runs a trial end to end."""
    raise_first(model_checks(model, task, n=n, seed=seed))


__all__ = ["ContractError", "check_model", "model_checks"]

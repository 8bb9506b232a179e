"""The public contract every model must pass (``lstm97.checks.check_model``)."""

from __future__ import annotations

import numpy as np

from ..tasks.checks import ContractError, _require
from .base import OK, Footprint, Model, ModelSpec, TrainState


def check_model(model: Model, task, n: int = 6, seed: int = 99) -> None:
    """Check ``model`` on ``task``: footprint, weights, determinism, prediction purity, chunk invariance of
    training."""
    who = f"model {type(model).__name__}"
    _require(isinstance(getattr(type(model), "spec", None), ModelSpec), f"{who} needs a class attribute spec")
    fp = model.footprint()
    _require(
        fp is None or (isinstance(fp, Footprint) and fp.bytes >= 0 and fp.flops_per_step >= 0),
        f"{who}.footprint must return a Footprint of non-negative estimates (or None: no estimate)",
    )
    s1 = model.init_state(np.random.default_rng(seed))
    s2 = model.init_state(np.random.default_rng(seed))
    _require(isinstance(s1, TrainState), f"{who}.init_state must return a TrainState")
    _require(s1.w.dtype == np.float64 and s1.w.ndim == 1, f"{who}: weights must be one flat float64 vector")
    free = model.free()
    _require(
        free.shape == s1.w.shape and model.n_weights == int(free.sum()),
        f"{who}: n_weights must count the free entries of the weight vector (Model.free())",
    )
    _require(not s1.w[~free].any(), f"{who}: entries that are not weights (absent connections) must be 0")
    _require(np.array_equal(s1.w, s2.w), f"{who}.init_state must depend only on the Generator it is given")
    batch = task.sample(np.random.default_rng(seed), n)
    w0 = s1.w.copy()
    out = model.predict(s1, batch)
    _require(out.shape == batch.targets.shape, f"{who}.predict must return [n, L, n_out]")
    _require(np.array_equal(s1.w, w0), f"{who}.predict must not change the weights")
    if getattr(model, "is_search", False):  # a search model (random guessing) has no learning rule
        runs = [model.search(task, batch, np.random.default_rng(seed), 3) for _ in range(2)]
        _require(
            runs[0][1:] == runs[1][1:] and np.array_equal(runs[0][0].w, runs[1][0].w),
            f"{who}.search must depend only on the Generator it is given",
        )
        return
    res = model.train_chunk(s1, batch)
    _require(res.status == OK and res.n_done == n, f"{who}.train_chunk failed on a fresh net")
    _require(not s1.w[~free].any(), f"{who}.train_chunk must leave absent connections at 0")
    for i in range(n):
        r = model.train_chunk(s2, batch.take(slice(i, i + 1)))
        _require(r.status == OK, f"{who}.train_chunk failed on a single sequence")
    _require(
        np.array_equal(s1.w, s2.w),
        f"{who}.train_chunk is not chunk-invariant: one chunk of {n} sequences must give the same weights, "
        f"bit for bit, as {n} chunks of 1",
    )


__all__ = ["ContractError", "check_model"]

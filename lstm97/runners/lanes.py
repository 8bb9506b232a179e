"""Lock-step lanes: K independent trials of one configuration trained side by side (``lstm97 run --lanes K``).

Each trial is the generator :func:`~lstm97.runners.trial.trial_steps`, the one training loop: it asks for each
chunk to be trained and does everything else itself (stopping checks, restoring and retraining to the exact
stopping sequence, the final test, its record). :func:`run_lanes` keeps up to K of them going, gathers their
pending requests into one call of :meth:`~lstm97.models.Model.train_lanes` per round, and refills the lane of
a finished trial with the next seed of its queue. Every lane keeps its own weights, data streams, chunk sizes,
sequence lengths and stopping point, so each record is the one :func:`~lstm97.runners.trial.run_trial` gives
for the same seed, field for field (``wall_time`` aside), whatever K.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import UserError
from ..models.base import Model
from .trial import TrialConfig, _build, trial_steps

#: The most lanes one kernel call takes (a guard against typos; 8-32 is where the LSTM's lane kernel pays).
MAX_LANES = 1024
#: Trials of a configuration a worker trains side by side unless told otherwise (``--lanes``): on the adding
#: net the fewest ns per trial-step (``python benchmarks/bench_lstm.py``, rows "lanes K vs scalar": K = 16
#: before 32, 8 and 4), and on no preset's net slower than one trial at a time (README, Speed). Records are
#: the same whatever K.
DEFAULT_LANES = 16


def check_lanes(lanes: Any) -> int:
    """``lanes`` as an int from 1 to :data:`MAX_LANES` (an int, or the text of one); UserError otherwise."""
    value = None
    if isinstance(lanes, str):
        try:
            value = int(lanes.strip())
        except ValueError:
            pass
    elif isinstance(lanes, (int, np.integer)) and not isinstance(lanes, bool):
        value = int(lanes)
    if value is None or not 1 <= value <= MAX_LANES:
        shown = lanes.strip() if isinstance(lanes, str) else repr(lanes)
        raise UserError(
            f"lanes={shown} is not allowed: give a whole number of trials per kernel call from 1 (one trial at a "
            f"time, the default) to {MAX_LANES}, e.g. --lanes 8."
        )
    return value


class _Lane:
    """One running trial: its seed's position in the queue, its model and generator, and its pending request."""

    def __init__(self, pos: int, model, steps, request) -> None:
        self.pos, self.model, self.steps, self.request = pos, model, steps, request


def run_lanes(
    cfg: TrialConfig,
    seeds: Sequence[int],
    lanes: int,
    on_result: Callable[[int, dict[str, Any]], None],
    chunk: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Run one trial per seed of ``seeds``, up to ``lanes`` at a time in lock step, and call
    ``on_result(position, record)`` as each finishes (``position``: the seed's index in ``seeds``); return the
    count. ``progress(position, seen)`` is called as a trial's training sequences go by."""
    lanes = check_lanes(lanes)
    queue = list(enumerate(seeds))
    running: list[_Lane] = []
    done = 0

    def start() -> None:
        nonlocal done
        while len(running) < lanes and queue:
            pos, seed = queue.pop(0)
            t0 = time.perf_counter()
            task, model = _build(cfg)
            report = None if progress is None else (lambda seen, p=pos: progress(p, seen))
            steps = trial_steps(cfg, seed, task, model, chunk, report, t0)
            try:
                running.append(_Lane(pos, model, steps, next(steps)))
            except StopIteration as stop:  # nothing to train (random guessing): finished already
                on_result(pos, stop.value)
                done += 1

    start()
    while running:
        results = _train(running)
        still = []
        for lane, res in zip(running, results, strict=True):
            try:
                lane.request = lane.steps.send(res)
                still.append(lane)
            except StopIteration as stop:
                on_result(lane.pos, stop.value)
                done += 1
        running[:] = still
        start()
    return done


def _train(running: list[_Lane]) -> list:
    """Every lane's pending request trained: in one :meth:`~lstm97.models.Model.train_lanes` call when the model
    has its own (all lanes share the configuration, and a model holds hyperparameters only), else each lane
    with its own model's ``train_chunk``."""
    model = running[0].model
    if len(running) > 1 and type(model).train_lanes is not Model.train_lanes:
        states, batches = zip(*(lane.request for lane in running), strict=True)
        return model.train_lanes(list(states), list(batches))
    return [lane.model.train_chunk(*lane.request) for lane in running]

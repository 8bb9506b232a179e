"""Lock-step lanes: K independent trials of one configuration trained side by side (``lstm97 run --lanes K``).

Each trial is the generator :func:`~lstm97.runners.trial.trial_steps`, the one training loop: it asks for each
chunk to be trained and does everything else itself (stopping checks, restoring and retraining to the exact
stopping sequence, the final test, its record). :func:`run_lanes` keeps up to K of them going, gathers their
pending requests into one call of :meth:`~lstm97.models.Model.train_lanes` per round, and refills the lane of
a finished trial with the next seed of its queue. Every lane keeps its own weights, data streams, chunk sizes,
sequence lengths and stopping point, so each record is the one :func:`~lstm97.runners.trial.run_trial` gives
for the same seed, field for field (``wall_time`` aside), whatever K. A record's ``wall_time`` is the trial's
own share of the process's time (its own work, and an equal share of every lane-kernel call it was in), not the
wall time of the K trials together, so that it measures what the trial cost, as with ``--lanes 1``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import UserError
from ..models.base import Model, memory_limit
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


def fitting_lanes(model, lanes: int) -> int:
    """``lanes``, or fewer: as many of ``model``'s trials as fit together in the memory one trial may use
    (:func:`~lstm97.models.base.memory_limit`, what ``model.footprint()`` is checked against); at least 1."""
    fp = model.footprint()
    limit, _ = memory_limit()
    if fp is None or limit is None or fp.bytes <= 0:
        return lanes
    return max(1, min(lanes, int(limit // fp.bytes)))


class _Lane:
    """One running trial: its seed's position in the queue, its model and generator, its pending request, and
    the seconds of this process's time it has used so far (``spent``: its own work, and its share of the
    kernel calls it was in)."""

    def __init__(self, pos: int, model, steps, request, spent: float) -> None:
        self.pos, self.model, self.steps, self.request, self.spent = pos, model, steps, request, spent


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
    lanes = fitting_lanes(_build(cfg)[1], check_lanes(lanes))
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
                request = next(steps)
            except StopIteration as stop:  # nothing to train (random guessing): finished already
                on_result(pos, stop.value)
                done += 1
                continue
            running.append(_Lane(pos, model, steps, request, time.perf_counter() - t0))

    start()
    while running:
        results, shares = _train(running)
        still = []
        for lane, res, share in zip(running, results, shares, strict=True):
            t0 = time.perf_counter()
            try:
                lane.request = lane.steps.send(res)
                lane.spent += share + time.perf_counter() - t0
                still.append(lane)
            except StopIteration as stop:
                # the trial's own time, not the wall time of the lanes it shared the process with
                record = dict(stop.value, wall_time=lane.spent + share + time.perf_counter() - t0)
                on_result(lane.pos, record)
                done += 1
        running[:] = still
        start()
    return done


def _train(running: list[_Lane]) -> tuple[list, list[float]]:
    """Every lane's pending request trained, and the seconds each lane is charged for it: in one
    :meth:`~lstm97.models.Model.train_lanes` call when the model has its own (all lanes share the configuration,
    and a model holds hyperparameters only; each lane is charged an equal share of the call), else each lane
    with its own model's ``train_chunk`` (charged its own call)."""
    model = running[0].model
    if len(running) > 1 and type(model).train_lanes is not Model.train_lanes:
        states, batches = zip(*(lane.request for lane in running), strict=True)
        t0 = time.perf_counter()
        results = model.train_lanes(list(states), list(batches))
        return results, [(time.perf_counter() - t0) / len(running)] * len(running)
    results, times = [], []
    for lane in running:
        t0 = time.perf_counter()
        results.append(lane.model.train_chunk(*lane.request))
        times.append(time.perf_counter() - t0)
    return results, times

"""What a preset's trial costs, from measured rates (``lstm97 reproduce --list``, the estimate before a run).

A trial's wall-clock time is a fixed part (start-up, numba cache loading, the final test) plus the training
loop (kernel, sampling, stopping checks), which grows with the sequences trained:
``seconds = fixed + per_1000 * sequences / 1000``. Both rates are fitted, per preset and mode (paper or quick
settings), to the trials of a store by least squares over the trials' (sequences, wall_time): trials that
stop at different points separate the two; where every trial ran about as long (all at the budget), the
whole time is counted as loop. The fit of the published store lives in ``costs.csv`` beside this module,
written by ``python benchmarks/calibrate_costs.py --store docs/reproduction/lstm97.sqlite`` (which also
prints every row's estimate against the mean measured time of its trials).

A preset without measured trials is scaled from a measured preset of the same task and model (the same mode;
the nearest in time steps per sequence) by the ratio of the two configurations' kernel times per sequence,
both measured in the same process just before (:func:`lstm97.api.seconds_per_sequence`): both parts of a trial
grow with the kernel's cost of a sequence (the training loop trains sequences, the final test predicts them).
Without such a sibling the preset's own rough ``speed`` (seconds per 1,000 sequences, from a short capped
trial) is used and the estimate says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: The fitted rates of the published store.
COSTS_CSV = Path(__file__).with_name("costs.csv")
COLUMNS = ("id", "mode", "trials", "fixed_s", "per_1000_s", "mean_sequences", "steps", "code")
#: Trials whose sequence counts differ less than this ratio (max over min) give no fixed part.
SPREAD = 1.5


@dataclass(frozen=True)
class Rate:
    """The measured cost of one preset in one mode (``paper`` or ``quick``)."""

    id: str
    mode: str
    trials: int
    fixed_s: float
    per_1000_s: float
    mean_sequences: float
    steps: float  # mean time steps per sequence of the preset's task settings
    code: str = ""

    def seconds(self, sequences: float) -> float:
        """Estimated seconds of a trial that trains ``sequences`` sequences."""
        return self.fixed_s + self.per_1000_s * sequences / 1000.0


@dataclass(frozen=True)
class Estimate:
    """Seconds per trial and where the figure comes from (``measured (10 trials)``, ``scaled from 2c-2``,
    ``rough``)."""

    seconds: float
    basis: str


def fit(preset_id: str, mode: str, sequences, wall_times, steps: float, code: str = "") -> Rate | None:
    """The rates of one preset from its trials' sequence counts and wall-clock seconds (None without trials)."""
    pairs = [(float(s), float(w)) for s, w in zip(sequences, wall_times, strict=True) if w == w and s > 0]
    if not pairs:
        return None
    n = len(pairs)
    ms = sum(s for s, _ in pairs) / n
    mw = sum(w for _, w in pairs) / n
    lo, hi = min(s for s, _ in pairs), max(s for s, _ in pairs)
    fixed, per = 0.0, mw / ms * 1000.0
    if n >= 3 and hi >= SPREAD * lo:
        var = sum((s - ms) ** 2 for s, _ in pairs)
        slope = sum((s - ms) * (w - mw) for s, w in pairs) / var
        if slope > 0 and mw - slope * ms >= 0:
            fixed, per = mw - slope * ms, slope * 1000.0
    return Rate(preset_id, mode, n, fixed, per, ms, float(steps), code)


@cache
def table(path: Path = COSTS_CSV) -> dict[tuple[str, str], Rate]:
    """The fitted rates, by (preset id, mode); empty when the file is missing."""
    if not path.exists():
        return {}
    import pandas as pd

    df = pd.read_csv(path, dtype={"id": str, "mode": str, "code": str}, keep_default_na=False)
    return {
        (r.id, r.mode): Rate(
            r.id,
            r.mode,
            int(r.trials),
            float(r.fixed_s),
            float(r.per_1000_s),
            float(r.mean_sequences),
            float(r.steps),
            r.code,
        )
        for r in df.itertuples(index=False)
    }


def write(rates: list[Rate], path: Path = COSTS_CSV) -> None:
    import pandas as pd

    rows = [
        (
            r.id,
            r.mode,
            r.trials,
            round(r.fixed_s, 4),
            round(r.per_1000_s, 6),
            round(r.mean_sequences, 1),
            round(r.steps, 2),
            r.code,
        )
        for r in sorted(rates, key=lambda r: (r.mode, r.id))
    ]
    pd.DataFrame(rows, columns=list(COLUMNS)).to_csv(path, index=False)


def estimate(
    preset,
    quick: bool,
    steps_of,
    kernel_of,
    budget: int | None = None,
    rates: dict[tuple[str, str], Rate] | None = None,
) -> Estimate:
    """Seconds per trial of ``preset`` (its quick settings with ``quick``). A trial is expected to train the
    mean sequences of the measured trials (else the preset's ``expect`` at the paper's settings, the quick
    budget at quick settings), at most ``budget`` when given. ``steps_of(preset, quick)`` gives the mean time steps
    per sequence of a preset's settings, ``kernel_of(preset, quick)`` its kernel's measured seconds per
    sequence or None (both called only to scale from a sibling). ``rates`` replaces the
    published table (the calibration's leave-one-out check)."""
    mode = "quick" if quick else "paper"
    rates = table() if rates is None else rates
    own = rates.get((preset.id, mode))
    if own is not None:
        sequences = own.mean_sequences
    elif quick and preset.quick is not None:
        sequences = preset.quick.max_sequences
    else:
        sequences = preset.expect
    if budget is not None:
        sequences = min(sequences, budget)
    if own is not None:
        return Estimate(own.seconds(sequences), f"measured ({own.trials} trials)")
    from .presets import PRESETS

    by_id = {p.id: p for p in PRESETS}
    siblings = [
        r
        for (pid, m), r in rates.items()
        if m == mode and pid in by_id and by_id[pid].task == preset.task and by_id[pid].model == preset.model
    ]
    if siblings:
        steps = float(steps_of(preset, quick))
        near = min(siblings, key=lambda r: (abs(math.log(max(r.steps, 1e-9) / max(steps, 1e-9))), r.id))
        mine, theirs = kernel_of(preset, quick), kernel_of(by_id[near.id], quick)
        if mine and theirs:
            return Estimate(near.seconds(sequences) * mine / theirs, f"scaled from {near.id} by kernel time")
    speed = preset.quick.speed if quick and preset.quick is not None else preset.speed
    return Estimate(speed * sequences / 1000.0, "rough (short capped trial)")

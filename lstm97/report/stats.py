"""Statistics of the reproduction report: Wilson intervals for success rates, percentile-bootstrap intervals for
mean sequences to success, the Kaplan–Meier median and the restricted mean that count the trials that did not
succeed, and the verdict rule that compares a row with the paper's (PAPER.md §4).

Every statistic here is a function of the values it is given, not of their order: the bootstrap sorts its
input before resampling, so a report is the same whatever order the store returns its trials in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..paper.results import PaperResult

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054
#: The bootstrap is seeded, so a report is the same every time it is built from the same store.
BOOTSTRAP_SEED = 1997
BOOTSTRAP_RESAMPLES = 10_000
#: A mean within this factor of the paper's counts as agreeing: the tolerance band is [1/FACTOR, FACTOR].
FACTOR = 2.0
#: Bootstrap intervals from fewer values than this are not computed ("–"): two values say too little.
MIN_CI = 3

AGREES = "agrees"
BETTER = "better than the paper"
WORSE = "worse than the paper"
INCONCLUSIVE = "inconclusive"
NO_REFERENCE = "no comparable reference"
NOT_RUN = "not run"
NOT_IMPLEMENTED = "not implemented"
REDUCED = "reduced settings (no verdict)"
#: The outcomes of rows at the paper's settings (their reason is shown under the table).
JUDGED = (AGREES, BETTER, WORSE, INCONCLUSIVE, NO_REFERENCE)
#: The former name of :data:`AGREES` (lstm97.report.accounts shows an account for every row that does not agree).
REPRODUCED = AGREES

#: Outcomes of one part of the rule (success rate, speed): besides AGREES, BETTER and WORSE, "undecided" (too
#: few successes for an interval of the mean) and "" (not compared: the paper gives no rate, or no mean).
UNDECIDED = "undecided"

VERDICT_RULE = f"""\
A row's verdict compares our trials at the paper's settings (task, model, hyperparameters and budget of the
preset) with the paper's figures, using the intervals the tables print. It has two parts:

1. *Success rate*: our 95 % Wilson interval of k/n against the paper's rate p. Where the paper gives only a
   mean over all its trials (Tables 3–9, §5) every one of its trials succeeded: p = 100 %. Where it reports no
   success within a bound (">"), a trial of ours counts as a success only if it succeeded within that bound.
   The interval contains p: the part **agrees**; it lies entirely above p: **better**; entirely below it:
   **worse**. Not compared where the paper gives no rate (its words, e.g. "some fraction"). Where the source
   also counts its trials that succeeded within a smaller number of sequences (Schmidhuber 1992: 13 of 17
   under 5,000), our count within the same number is judged the same way, against k/n of the source; the
   first count that differs decides the part.
2. *Speed*, where the paper gives a mean m (not a bound): the 95 % bootstrap interval [lo, hi] of our mean
   sequences to success over the k successful trials, as a ratio to the paper's mean: [lo/m, hi/m]. It meets
   the tolerance band [{1 / FACTOR:g}, {FACTOR:g}] (as every interval that contains m does): **agrees**; it
   lies entirely below {1 / FACTOR:g}: **better** (faster); entirely above {FACTOR:g}: **worse** (slower). From
   fewer than {MIN_CI} successes no interval is computed (shown as "–") and the part is undecided.

"Better" and "worse" say how the method did against the paper's figures, the same way for LSTM and for the
baselines (a baseline that does better than the paper weakens the paper's comparison with it). The outcomes:

* **{BETTER}** / **{WORSE}**: a part is decisively better or worse. The success
  rate dominates: if it differs, it decides whatever the speed (a method that succeeds significantly more
  often is better, or less often worse, even if its successful trials are slower, or faster); otherwise the
  speed decides. A decisive part decides even from fewer trials than the paper's.
* **{AGREES}**: at least one part applies and every part that applies agrees (none is undecided), from at
  least as many trials as the paper's ("paper n"; where the paper does not say, as many as the preset runs).
* **{INCONCLUSIVE}**: no part differs, but the evidence is too thin to agree: fewer trials than that
  ("n=2 of 10"), or fewer than {MIN_CI} successes where the speed is compared. A single trial is always
  inconclusive.
* **{NO_REFERENCE}**: the paper's figure is no reference for our run (Table 1's RTRL rows:
  Smith & Zipser's successful trials on an easier string distribution; guess-2seq: ≈718 from a secondary
  source, on other sequence lengths). Shown, not judged.
* **{NOT_RUN}**: no stored trials for the preset. **{REDUCED}**: trials only at reduced
  settings (`--quick`, a budget override): shown, never judged. **{NOT_IMPLEMENTED}**: a method lstm97 does
  not provide.

Trials that did not succeed count through the success rate. The speed compares means over the successful
trials, as the paper's "success after" does; beside it the tables show the restricted mean (every trial, a
failure counted at the budget: a lower bound of our mean over all trials) and the Kaplan–Meier median
(failures censored at the budget; "> budget" where fewer than half the trials succeeded), which are not part
of the verdict. Test errors (# wrong, MSE) are shown beside the paper's but are not part of the verdict either.
"""


def ratio_text(ratio: float) -> str:
    """A ratio to the paper's figure as text: two significant digits, whole numbers from 100 up."""
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.2g}×"


def ratio_interval_text(lo: float, hi: float) -> str:
    """An interval of ratios to the paper's figure, e.g. ``0.51–0.88×``."""
    return f"{ratio_text(lo)[:-1]}–{ratio_text(hi)}"


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n (NaN, NaN for n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_mean_ci(
    x, level: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``x`` (seeded; NaN, NaN when ``x`` is empty). The values
    are sorted first, so the interval depends on the values only, not on their order."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    if x.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def mean_ci(x) -> tuple[float, float]:
    """:func:`bootstrap_mean_ci` of ``x`` from at least :data:`MIN_CI` values, else (NaN, NaN)."""
    return bootstrap_mean_ci(x) if len(x) >= MIN_CI else (math.nan, math.nan)


def kaplan_meier(times, events) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan–Meier estimate of the survival function S(t) = P(T > t) from ``times`` with ``events`` (True:
    the trial succeeded at that time; False: censored there, i.e. it stopped without success). Returns the
    distinct event times and S just after each. A trial censored at an event time is still at risk at it."""
    t = np.asarray(times, dtype=np.float64)
    e = np.asarray(events, dtype=bool)
    at = np.unique(t[e])
    at_risk = (t[None, :] >= at[:, None]).sum(axis=1)
    succeeded = ((t[None, :] == at[:, None]) & e[None, :]).sum(axis=1)
    return at, np.cumprod(1.0 - succeeded / at_risk)


def km_median(times, events) -> float:
    """The Kaplan–Meier median: the smallest event time at which S(t) <= 1/2 (with no censoring and an even
    count, the lower of the two middle values); NaN when S stays above 1/2 (fewer than half succeeded)."""
    at, s = kaplan_meier(times, events)
    below = np.flatnonzero(s <= 0.5 + 1e-12)
    return float(at[below[0]]) if below.size else math.nan


def restricted_mean(times) -> float:
    """The mean of ``times`` where a trial that did not succeed counts at the budget: a lower bound of the
    mean sequences to success over all trials (NaN for none)."""
    t = np.asarray(times, dtype=np.float64)
    return float(t.mean()) if t.size else math.nan


@dataclass(frozen=True)
class Judgement:
    """The verdict of a row (:data:`VERDICT_RULE`), its reason, and the outcome of each part."""

    verdict: str
    reason: str
    rate: str = ""  # AGREES, BETTER, WORSE, UNDECIDED or "" (not compared)
    speed: str = ""

    @property
    def parts_agree(self) -> bool:
        """Every part that applies agrees (the verdict is AGREES given enough trials)."""
        parts = [p for p in (self.rate, self.speed) if p]
        return bool(parts) and all(p == AGREES for p in parts)


def trials_label(n: int, paper_n: int | None, preset_n: int | None = None) -> str:
    """The label of a row with fewer trials than the paper's ``paper_n``, e.g. "n=2 of 10" (where the paper gives
    no count, than the preset's ``preset_n``: "n=2 of the preset's 10"); "" for a row with enough."""
    if paper_n is not None:
        return f"n={n} of {paper_n}" if n < paper_n else ""
    if preset_n is not None and n < preset_n:
        return f"n={n} of the preset's {preset_n}"
    return ""


def _pct(x: float) -> str:
    return f"{100 * x:.0f}"


def _compare_rate(p0: float, k: int, n: int, within: str) -> tuple[str, str]:
    lo, hi = wilson(k, n)
    text = f"success{within} {k}/{n} (95 % CI {_pct(lo)}–{_pct(hi)} %)"
    if lo > p0 + 1e-12:
        return BETTER, f"{text} above the paper's {_pct(p0)} %"
    if hi < p0 - 1e-12:
        return WORSE, f"{text} below the paper's {_pct(p0)} %"
    return AGREES, ""


def _rate_part(ref: PaperResult, n: int, k: int, successes: np.ndarray | None = None) -> tuple[str, str]:
    """The rate part: k/n against the paper's rate, then each of its counts within a threshold
    (``ref.within``) against ours within the same threshold; the first that differs decides."""
    parts = []
    p0 = ref.implied_rate
    if p0 is not None:
        parts.append(_compare_rate(p0, k, n, f" within {ref.sequences:,.0f}" if ref.bound else ""))
    for limit, k0, n0 in ref.within:
        k_in = int((successes <= limit).sum()) if successes is not None else 0
        parts.append(_compare_rate(k0 / n0, k_in, n, f" within {limit:,}"))
    if not parts:
        return "", ""
    return next((p for p in parts if p[0] in (BETTER, WORSE)), parts[0])


def _speed_part(ref: PaperResult, successes: np.ndarray) -> tuple[str, str]:
    if ref.sequences is None or ref.bound:
        return "", ""
    k = successes.size
    if k < MIN_CI:
        return UNDECIDED, f"{k} success{'es' * (k != 1)}: too few for an interval of the mean (at least {MIN_CI})"
    lo, hi = (v / ref.sequences for v in bootstrap_mean_ci(successes))
    text = f"mean {ratio_text(successes.mean() / ref.sequences)} the paper's (95 % CI {ratio_interval_text(lo, hi)})"
    if hi < 1 / FACTOR:
        return BETTER, f"{text}, below {1 / FACTOR:g}×"
    if lo > FACTOR:
        return WORSE, f"{text}, above {FACTOR:g}×"
    return AGREES, ""


def judge(ref: PaperResult, n: int, successes: Sequence[float], required: int | None = None) -> Judgement:
    """The verdict (:data:`VERDICT_RULE`) of ``n`` trials at the paper's settings whose successful ones took
    ``successes`` sequences, against the paper's row ``ref``. An agreement needs the paper's number of trials
    (``ref.trials``), or where it gives none, ``required`` (the preset's; None: no requirement)."""
    if n == 0:
        return Judgement(NOT_RUN, "")
    if not ref.comparable:
        return Judgement(NO_REFERENCE, ref.not_comparable)
    if n == 1:
        return Judgement(INCONCLUSIVE, "a single trial")
    seq = np.sort(np.asarray(successes, dtype=np.float64))
    k = int((seq <= ref.sequences).sum()) if ref.bound else seq.size
    rate, rate_why = _rate_part(ref, n, k, seq)
    speed, speed_why = _speed_part(ref, seq)
    why = "; ".join(w for w in (rate_why, speed_why) if w)
    for part in (rate, speed):  # the rate dominates
        if part in (BETTER, WORSE):
            return Judgement(part, why, rate, speed)
    if not (rate or speed):
        return Judgement(INCONCLUSIVE, "the paper gives no figure to compare with")
    short = trials_label(n, ref.trials, required)
    if short:
        return Judgement(INCONCLUSIVE, "; ".join(w for w in (short, why) if w), rate, speed)
    if UNDECIDED in (rate, speed):
        return Judgement(INCONCLUSIVE, why, rate, speed)
    return Judgement(AGREES, "", rate, speed)


def verdict(ref: PaperResult, n: int, successes: Sequence[float], required: int | None = None) -> tuple[str, str]:
    """(verdict, reason) of :func:`judge`."""
    j = judge(ref, n, successes, required)
    return j.verdict, j.reason

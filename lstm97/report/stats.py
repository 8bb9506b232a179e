"""Statistics of the reproduction report: Wilson intervals for success rates, percentile-bootstrap intervals for
mean sequences to success, and the verdict rule that compares a row with the paper's (PAPER.md §4).
"""

from __future__ import annotations

import math

import numpy as np

from ..paper.results import PaperResult

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054
#: The bootstrap is seeded, so a report is the same every time it is built from the same store.
BOOTSTRAP_SEED = 1997
BOOTSTRAP_RESAMPLES = 10_000
#: A mean within this factor of the paper's counts as agreeing.
FACTOR = 2.0

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_RUN = "not run"
INCONCLUSIVE = "inconclusive"
NOT_IMPLEMENTED = "not implemented"
REDUCED = "reduced settings (no verdict)"

VERDICT_RULE = f"""\
A row's verdict compares our trials at the paper's settings (task, model, hyperparameters and budget of the
preset) with the paper's figures:

* **{REPRODUCED}** when both hold:
  1. *success rate*: for LSTM rows, our rate is at least the paper's, or our 95 % Wilson interval contains it
     (doing better than the paper agrees with it); for the baselines (RTRL, BPTT, ELM, guessing), our Wilson
     interval contains the paper's rate (a baseline that succeeds far more often than the paper says
     contradicts it). Where the paper gives only a mean over all its trials (Tables 3-9, §5) every one of its
     trials succeeded, so its rate is 100 %; where it says "some fraction" (Table 1, RTRL) at least one of our
     trials must succeed.
  2. *sequences to success*: our mean over the successful trials is within a factor {FACTOR:g} of the paper's
     mean (from {1 / FACTOR:g}× to {FACTOR:g}×). Not applied where the paper reports no success (">5,000,000").
* **{NOT_REPRODUCED}** when either fails (the reason is given).
* **{INCONCLUSIVE}**: a single trial at the paper's settings, too little to judge.
* **{NOT_RUN}**: no stored trials for the preset. **{REDUCED}**: trials only at reduced settings (`--quick`,
  a budget override): shown, never judged. **{NOT_IMPLEMENTED}**: a method lstm97 does not provide.

Test errors (# wrong, MSE) are shown beside the paper's but are not part of the verdict. The verdict does not
weigh how many trials stand behind a row: read it together with the n of "k/n".
"""


def ratio_text(ratio: float) -> str:
    """A ratio to the paper's figure as text: two significant digits, whole numbers from 100 up."""
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.2g}×"


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
    """Percentile bootstrap interval of the mean of ``x`` (seeded; NaN, NaN when ``x`` is empty)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def verdict(ref: PaperResult, baseline: bool, n: int, k: int, mean_sequences: float) -> tuple[str, str]:
    """(verdict, reason) of ``n`` trials at the paper's settings, ``k`` of them successful with the given mean
    sequences to success, against the paper's row ``ref`` (see VERDICT_RULE)."""
    if n == 0:
        return NOT_RUN, ""
    if n == 1:
        return INCONCLUSIVE, "a single trial"
    reasons = []
    ok = True
    p0 = ref.implied_rate
    lo, hi = wilson(k, n)
    if ref.rate_text:
        if k < 1:
            ok = False
            reasons.append(f"no success, the paper: {ref.rate_text}")
    elif p0 is not None:
        inside = lo - 1e-12 <= p0 <= hi + 1e-12
        if not (inside or (not baseline and k / n >= p0)):
            ok = False
            reasons.append(f"success {k}/{n} (95 % CI {100 * lo:.0f}–{100 * hi:.0f} %) vs the paper's {100 * p0:.0f} %")
    if ref.sequences is not None and not ref.bound:
        if k == 0:
            ok = False
            reasons.append("no successful trial to compare with the paper's mean")
        else:
            ratio = mean_sequences / ref.sequences
            if not (1 / FACTOR <= ratio <= FACTOR):
                ok = False
                reasons.append(f"mean {ratio_text(ratio)} the paper's")
    return (REPRODUCED, "") if ok else (NOT_REPRODUCED, "; ".join(reasons))

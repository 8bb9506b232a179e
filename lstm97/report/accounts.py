"""Accounts of the gaps: for each LSTM row we do not reproduce (or cannot run at the paper's settings), what
the stored runs show and the likely cause.

The prose is ours (written from runs named here, not from the paper); every figure the report prints beside
it is computed from the store: the row's own trials, the sequences its learning curves took to reach a block
of 1,000 training sequences that were 99 % correct (:func:`learned_at`), and the *evidence* runs each account
names (lstm97.paper.evidence), which are ordinary ``lstm97 run`` configurations (the report shows their stored
trials, or "not run").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..paper import evidence
from ..paper.evidence import Evidence
from ..results.nets import stored_net
from ..results.schema import CURVE_BLOCK
from .match import trials_of
from .reproduction import Row, _int

#: A learning-curve block (1,000 training sequences) counts as learned at this fraction of correct sequences.
LEARNED = 0.99


#: A fact of an account: a sentence with figures computed from the row's trials (and curves, or the store's
#: nets), its wording chosen by those figures; None when the store lacks what it needs.
Fact = Callable[[Row, pd.DataFrame], "str | None"]


@dataclass(frozen=True)
class Account:
    cause: str  # what we believe explains the gap, and how sure we are; figures only through ``facts``
    evidence: tuple[Evidence, ...] = ()  # runs of lstm97.paper.evidence that test it
    probe_extremes: bool = False  # re-test the stored nets: are the errors at extreme targets?
    at_paper: str = ""  # the account instead of ``cause`` when the row's trials are at the paper's settings
    facts: tuple[Fact, ...] = ()  # what the stored trials show, computed when the report is built
    always: bool = False  # shown whatever the verdict (baselines: their sensitivity is the point)


def _seqs(values) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


def _span(lo: float, hi: float, fmt: str = ",.0f") -> str:
    """``lo–hi``, or one value when they are equal."""
    a, b = format(lo, fmt), format(hi, fmt)
    return a if a == b else f"{a}–{b}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _at_paper(row) -> bool:
    """Whether the row's trials are at the paper's settings (only then do figures compare with the paper's)."""
    return row.mode == "paper"


def slowest_milestones(first: str, last: str, most: int = 3) -> Fact:
    """Of the successful trials slower than the paper's mean (at most ``most``, slowest first): when they
    reached milestone ``first`` and the stopping milestone ``last``, and which of the two took the time."""

    def fact(row, curves: pd.DataFrame) -> str | None:
        ref = row.preset.paper
        ok = row.trials[row.trials["success"]]
        if ref.sequences is None or not len(ok) or not _at_paper(row):
            return None
        slow = ok[ok["sequences"] > ref.sequences].sort_values("sequences", ascending=False).head(most)
        if not len(slow):
            return f"Every successful trial stopped within the paper's mean ({ref.sequences:,.0f} sequences)."
        at_first = [ms.get(first) for ms in slow["milestones"]]
        at_last = [ms.get(last, int(n)) for ms, n in zip(slow["milestones"], slow["sequences"], strict=True)]
        if any(v is None for v in at_first):
            return None
        after = [b - a for a, b in zip(at_first, at_last, strict=True)]
        where = (
            f"the time goes into reaching {first}, not into {last} after it"
            if sum(after) < 0.25 * sum(at_last)
            else f"most of the time lies between {first} and {last}"
        )
        which = "The slowest trial" if len(slow) == 1 else f"The {len(slow)} slowest trials"
        return (
            f"{which} (of {len(ok)} successful, slower than the paper's mean of {ref.sequences:,.0f}) reached "
            f"{first} at {_seqs(at_first)} sequences and {last} {_seqs(after)} sequences after it: {where}."
        )

    return fact


def median_against_paper(row, curves: pd.DataFrame) -> str | None:
    """Our median and mean over the successful trials against the paper's mean: is the mean a tail's?"""
    ref, s = row.preset.paper, row.stats
    if ref.sequences is None or ref.bound or not s.get("k") or not _at_paper(row):
        return None
    side = "below" if s["median"] < ref.sequences else "above"
    tail = s["mean"] > 1.5 * s["median"]
    return (
        f"Our median ({s['median']:,.0f}) is {side} the paper's mean ({ref.sequences:,.0f}); our mean "
        f"({s['mean']:,.0f}) is {s['mean'] / s['median']:.1f}× our median"
        + (", pulled up by the slowest trials." if tail else ".")
    )


def test_errors_against_paper(row, curves: pd.DataFrame) -> str | None:
    """The stopped nets' test errors per 1,000 test sequences against the paper's mean."""
    ref = row.preset.paper
    ok = row.trials[row.trials["success"] & (row.trials["test_wrong"] >= 0)]
    if ref.wrong is None or not ref.n_test or not len(ok) or not _at_paper(row):
        return None
    ours = 1000 * ok["test_wrong"].to_numpy(dtype=np.float64) / ok["n_test"].to_numpy(dtype=np.float64)
    paper = 1000 * ref.wrong / ref.n_test
    text = (
        f"The {_count(len(ok), 'stopped net')} get {_span(ours.min(), ours.max(), '.1f')} of every 1,000 test "
        f"sequences wrong (mean {ours.mean():.1f}); the paper's nets {paper:.1f}"
    )
    if paper > 0:
        text += f": {_span(ours.min() / paper, ours.max() / paper, '.1f')}× the paper's"
    worse = int((ours > paper).sum())
    verdict = (
        "every stopped net is less accurate than the paper's mean, so the stopping rule lets through nets the "
        "paper's did not: the gap is not only the rule's wait"
        if worse == len(ours)
        else f"{worse} of the {len(ours)} stopped nets are less accurate than the paper's mean"
    )
    return f"{text}; {verdict}."


def learned_share(row, curves: pd.DataFrame) -> str | None:
    """When the learning curve first had a 99 % block, as a share of each trial's stopping point."""
    ok = row.trials[row.trials["success"]]
    firsts = _first_learned(ok, curves) if len(ok) and len(curves) else {}
    if not firsts:
        return None
    at = dict(zip(ok["id"], ok["sequences"], strict=True))
    shares = np.array([firsts[i] / at[i] for i in firsts])
    median = float(np.median(shares))
    where = (
        "most of the time comes after the net had learned, in the stopping rule's wait for its last errors"
        if median < 0.5
        else "most of the time goes into learning, before the first such block"
    )
    return (
        f"The first block of 1,000 training sequences at least {100 * LEARNED:.0f} % correct came at "
        f"{_span(100 * shares.min(), 100 * shares.max())} % (median {100 * median:.0f} %) of the stopping point "
        f"in {len(shares)} of {_count(len(ok), 'successful trial')}: {where}."
    )


def _first_learned(trials: pd.DataFrame, curves: pd.DataFrame, level: float = LEARNED) -> dict[int, int]:
    """Per trial id, the sequences seen at its first full block of the curve at least ``level`` correct."""
    full = curves["sequences"] % CURVE_BLOCK == 0  # not a trial's last, shorter block
    mine = curves[curves["trial_id"].isin(trials["id"]) & full & (curves["frac_correct"] >= level)]
    return {int(k): int(v) for k, v in mine.groupby("trial_id")["sequences"].min().items()}


def failed_trials(row, curves: pd.DataFrame) -> str | None:
    """The trials that did not succeed: how many, where their learning curves ended, their test errors."""
    failed = row.trials[~row.trials["success"]]
    if not len(failed):
        return "The trial succeeded." if len(row.trials) == 1 else f"All {len(row.trials)} trials succeeded."
    n = len(row.trials)
    text = (
        f"{'The trial' if n == 1 else f'{len(failed)} of {n} trials'} did not succeed within "
        f"{int(failed['max_sequences'].max()):,} sequences"
    )
    if len(curves):
        mine = curves[curves["trial_id"].isin(failed["id"])].sort_values("sequences")
        ends = mine.groupby("trial_id")["frac_correct"].last()
        if len(ends):
            text += (
                f"; {'its learning curve' if len(ends) == 1 else 'their learning curves'} ended at "
                f"{_span(100 * ends.min(), 100 * ends.max())} % correct training sequences"
            )
    tested = failed[failed["test_wrong"] >= 0]
    if len(tested):
        text += (
            f"; {'it gets' if len(tested) == 1 else 'they get'} "
            f"{_span(tested['test_wrong'].min(), tested['test_wrong'].max())} of "
            f"{int(tested['n_test'].iloc[0]):,} test sequences wrong"
        )
    return text + "."


def stream_lengths(row, curves: pd.DataFrame) -> str | None:
    """Continual streams (Gers et al. 2000): the nets that are not perfect, the mean error-free length of their
    final test streams (stream minus test_mse) and Gers et al.'s classes "good" (above GOOD_LENGTH) and "rest"."""
    from .reproduction import GOOD_LENGTH

    g = row.trials
    failed = g[~g["success"].astype(bool)]
    if not len(failed):
        return "Every net is perfect." if len(g) > 1 else "The net is perfect."
    text = (
        f"{len(failed)} of {len(g)} nets are not perfect within {int(failed['max_sequences'].max()):,} training streams"
    )
    tested = failed[failed["test_wrong"] >= 0]
    if len(tested):
        stream = np.array([float(tp["stream"]) for tp in tested["task_params"]])
        length = stream - tested["test_mse"].to_numpy(dtype=np.float64)
        good = int((length > GOOD_LENGTH).sum())
        text += (
            f"; the mean error-free length of their final test streams runs {_span(length.min(), length.max())} "
            f"symbols (of {stream.max():,.0f}): {good} 'good' (above {GOOD_LENGTH:,}, Gers et al.'s class), "
            f"{len(tested) - good} 'rest'"
        )
    return text + "."


def collapses(row, curves: pd.DataFrame, low: float = 0.9) -> str | None:
    """Trials whose learning curve fell back below ``low`` after a block at least LEARNED correct."""
    if not len(curves) or not len(row.trials):
        return None
    firsts = _first_learned(row.trials, curves)
    if not firsts:
        return None
    fell = {}
    for trial_id, at in firsts.items():
        later = curves[(curves["trial_id"] == trial_id) & (curves["sequences"] > at)]
        if len(later) and later["frac_correct"].min() < low:
            fell[trial_id] = float(later["frac_correct"].min())
    if not fell:
        return f"No trial's learning curve fell below {100 * low:.0f} % after its first {100 * LEARNED:.0f} % block."
    lowest = ", ".join(f"{100 * v:.0f} %" for v in sorted(fell.values()))
    return (
        f"{len(fell)} of the {len(firsts)} trials with a {100 * LEARNED:.0f} % block fell back below "
        f"{100 * low:.0f} % correct after it (lowest blocks: {lowest}): learning is not monotone here, and the "
        "success test can come long after the first good block."
    )


def per_guess_probability(row, curves: pd.DataFrame) -> str | None:
    """Random guessing draws independent nets, so the guesses to a solution are geometric: the per-guess success
    probability is estimated directly as successes / all guesses made (failed trials count their budget), with
    a 95 % interval from the Poisson count of successes (log scale: ``p exp(±1.96/sqrt(k))``), and compared
    with the paper's mean number of guesses (1/mean is the paper's implied probability)."""
    g = row.trials
    if not len(g):
        return None
    k, total = int(g["success"].sum()), float(g["sequences"].sum())
    if k == 0:
        return (
            f"No trial found a solution in {total:,.0f} guesses: the per-guess probability is below about "
            f"{3 / total:.2g} (95 %, the rule of three)."
        )
    p_hat = k / total
    text = (
        f"Per-guess success probability {p_hat:.3g} ({_count(k, 'solution')} in {total:,.0f} guesses, "
        f"1 in {1 / p_hat:,.0f})"
    )
    paper = row.preset.paper.sequences
    if k >= 3:
        lo, hi = p_hat * np.exp(-1.96 / np.sqrt(k)), p_hat * np.exp(1.96 / np.sqrt(k))
        text += f", 95 % interval {lo:.3g}–{hi:.3g}"
        if paper and _at_paper(row):
            implied = 1.0 / float(paper)
            where = "inside" if lo <= implied <= hi else ("above" if implied > hi else "below")
            text += (
                f"; the paper's mean of {float(paper):,.0f} guesses implies {implied:.3g}, {where} that interval "
                f"({p_hat / implied:.2g}× ours/paper's)"
            )
    return text + "."


_REBER = Account(
    "Not diagnosed. Trials either learn or never do within the budget (figures below). A plateau well below "
    "100 % correct strings looks like the 'abuse' of §1.8 (cells taken as bias units, which the unbiased cells "
    "and output units of Exp 1 invite) more than slow learning. Summing the updates over each string instead "
    "of applying them at every step (PAPER.md §1.9 leaves this open) is tested by the evidence run below. Other "
    "candidates we have not separated: the paper's 3 training/test set pairs (we draw a new pair per trial) and "
    "the interval of the random input-gate biases (§1.8 CONFLICT).",
    (evidence.REBER_SEQUENCE_UPDATE,),
    facts=(failed_trials, median_against_paper),
)

_2C_LONGER = (
    "Likely cause: cell-state drift (§1.8). With no bias weights anywhere (PAPER.md §3.4) the input gates "
    "start half open, so every one of the q distractors adds to the cell state and h saturates more the longer "
    "the lag; the paper's own remedy, a negative input-gate bias, is tested by the evidence runs below. We keep "
    "PAPER.md's bias-free net as the default."
)
_CERG = Account(
    "Not diagnosed. Two points of our protocol are readings, not Gers et al.'s text: training streams end after "
    "100,000 symbols, not 10^6 (docs/deviations.md; a net that has not learned ends its stream at its first "
    "error long before either, so the cap only shortens the streams of nets that are already nearly perfect), "
    "and PAPER.md has the 0.49 tolerance of a correct symbol and the 30,000-stream budget from a secondary "
    "source. We have not measured which of them, if any, moves the rate of perfect nets.",
    facts=(stream_lengths,),
)
ACCOUNTS: dict[str, Account] = {
    **{f"1-{i}": _REBER for i in range(1, 6)},
    "2a": Account(
        "With the paper's cell input g = logistic in [0, 1], h = identity and no biases, the cell input g·y_in is "
        "never negative: the cell state only grows while the input gate is open, so x and y can differ only in "
        "how much they add, and every one of the p-1 distractor symbols adds to it too until the net has shut "
        "the input gate on each of them. The evidence runs measure the cost against p at the paper's settings, "
        "and p=100 with a cell input that may be negative (g2). A detail of the paper's net may differ from "
        "PAPER.md's (g, biases or the moment the cell is added); we keep PAPER.md's g.",
        (*evidence.LAGS_2A, evidence.G2_2A),
        facts=(median_against_paper,),
    ),
    "2b": Account(
        "Not diagnosed. The 2a net on sequences whose middle part is random. The evidence run tests whether 2a's "
        "suspect (g >= 0, no biases) explains it, with the centred g2.",
        (evidence.G2_2B,),
        facts=(failed_trials,),
    ),
    "2c-1": Account(
        "Our success test is strict: after every 1,000 training sequences the frozen net must get 10,000 fresh "
        "sequences right (absolute error < 0.2 on both outputs at the end). PAPER.md gives that test size "
        "(§3.4) but not how often the paper tested, so a net that is right at one check and wrong at the next "
        "is counted at its first right check by the paper's test and ours alike only if both check as often.",
        facts=(median_against_paper, learned_share, collapses),
    ),
    "2c-2": Account(_2C_LONGER, evidence.DRIFT_2C, facts=(failed_trials, learned_share)),
    "3a-1": Account(
        "Ten trials cannot pin a mean with a long tail; the figures below say whether a tail sets ours and "
        "where the slow trials spend their time.",
        facts=(median_against_paper, slowest_milestones("ST1", "ST2")),
    ),
    "3a-2": Account(
        "As 3a-1.",
        facts=(median_against_paper, slowest_milestones("ST1", "ST2")),
    ),
    "3b-1": Account(
        "ST1 for 3b tolerates 5 of 256 misclassified test sequences (PAPER.md §3.5: fewer than 6) and we check it "
        "every 1,000 sequences; the paper's check schedule is not given.",
        facts=(median_against_paper, slowest_milestones("ST1", "ST2")),
    ),
    "3c-2": Account(
        "The stop (no misclassification among 256 test sequences and mean |output - noise-free target| < 0.015) "
        "is checked every 1,000 sequences; how often the paper checked is not given, and a noisy-target task "
        "rewards an early check that catches the net in a good moment.",
        facts=(median_against_paper, test_errors_against_paper),
    ),
    "4-1": Account(
        "ST3(0.01) waits for 2,000 consecutive training sequences all within 0.04 of the target. The figures "
        "below separate that wait (when the learning curve first reached 99 %) from the accuracy of the nets it "
        "stops, and the probe re-tests the stored final nets at targets near 0 or 1, where the logistic output "
        "unit saturates and learns slowly. Kernel, gradient and generator are checked against PAPER.md's "
        "equations (tests/test_lstm_reference.py, tests/test_adding.py); we did not tune anything to close the "
        "gap.",
        probe_extremes=True,
        facts=(median_against_paper, learned_share, test_errors_against_paper),
    ),
    "4-2": Account(
        "Not diagnosed; the same figures as for 4-1.",
        probe_extremes=True,
        facts=(median_against_paper, learned_share, test_errors_against_paper),
    ),
    "4-3": Account(
        "As 4-2 at T=1000 (a trial costs about a quarter of an hour of one core).",
        probe_extremes=True,
        facts=(median_against_paper, learned_share, test_errors_against_paper),
    ),
    "5-140": Account(
        "The stop needs 93 % correct sequences (fewer than 140 of the last 2,000 off by 0.04 or more), so it does "
        "not wait for a run without errors as 4-1's does.",
        facts=(failed_trials, median_against_paper),
    ),
    "5-13": Account(
        "The stop needs fewer than 13 of the last 2,000 training sequences off by 0.04 or more: a fine-tuning "
        "wait like 4-1's, on products x1*x2 that crowd near 0. The paper reports no failed trial.",
        probe_extremes=True,
        facts=(failed_trials, median_against_paper, learned_share, test_errors_against_paper),
    ),
    "6b": Account(
        "The trials that fail stay on a plateau of their learning curve until the budget runs out (figures "
        "below), while the paper reports no failure. Likely the 'abuse' of §1.8 (cells committed early to a "
        "partial solution); we did not find a setting of PAPER.md's that removes it and did not tune one.",
        facts=(failed_trials, median_against_paper),
    ),
    **{pid: _CERG for pid in ("cerg-reset", "cerg-standard", "cerg-forget")},
    "cerg-decay": Account(
        "PAPER.md gives Gers et al.'s 'state decay 0.9' without saying whether the decay enters the gradient. "
        "Our default decays the traces with the state (s(t) = 0.9 s(t-1) + y_in g is a forget gate held at "
        "0.9, and its exact truncated gradient decays the traces alike); the evidence run keeps the 1997 "
        "traces, the gradient of a net without decay, on the row's seeds (docs/deviations.md). Which one the "
        "paper used is not known; we keep ours as the default and do not choose by the result.",
        (evidence.CERG_DECAY_TRACES,),
        facts=(stream_lengths,),
    ),
    "cerg-forget-decay": Account(
        "PAPER.md's 'multiplied by 0.99 after each update' (secondary) does not say what an update is. We "
        "decay after every training stream, which leaves lr = 0.5 x 0.99^500, about 0.003, after 500 streams "
        "of the 30,000 allowed; after every weight change (every symbol) lr would vanish sooner still. The "
        "evidence runs decay after every 10, 100 and 1,000 streams, on the row's seeds. Which period the "
        "paper used is not known; we keep ours as the default and do not choose by the result.",
        evidence.CERG_LR_DECAY_EVERY,
        facts=(stream_lengths,),
    ),
}
_TOO_COSTLY = Account(
    "Not run at the paper's settings: one trial costs hours to days of one core here (see `lstm97 reproduce "
    "--list`); the row shows reduced settings only.",
    at_paper="At the paper's settings (a trial costs from a quarter of an hour to hours of one core here; the "
    "table's k/n says how many ran). Not diagnosed.",
    facts=(failed_trials, median_against_paper),
)
_2C_COSTLY = Account(
    _TOO_COSTLY.cause,
    at_paper="At the paper's settings (costs in `lstm97 reproduce --list`). As 2c-2: " + _2C_LONGER,
    facts=(failed_trials, median_against_paper, learned_share),
)
for _pid in ("2c-3", "2c-4", "2c-5", "2c-6", "2c-7", "2c-8", "2c-9"):
    ACCOUNTS.setdefault(_pid, _2C_COSTLY)
for _pid in ("3a-3", "3b-3"):
    ACCOUNTS.setdefault(_pid, _TOO_COSTLY)

# Baselines: shown whatever their verdict, with what their readings and learning rates change.
_RTRL_P4 = Account(
    "PAPER.md does not say when the 2a RTRL net's output units see the hidden unit (§2, UNSPECIFIED). We update "
    "every unit synchronously from the previous step, Williams & Zipser's timing (outputs_see=previous, "
    "docs/deviations.md); the evidence runs measure the other reading (outputs see the hidden unit's current "
    "value) at the three learning rates.",
    evidence.RTRL_P4_TIMING,
    facts=(median_against_paper,),
    always=True,
)
_GUESS = Account(
    "Random guessing draws each net independently, so its guesses to a solution are geometric and one figure, "
    "the per-guess success probability, says all (computed below from every guess of every trial); the "
    "interval says whether the paper's count is a chance result of the same probability.",
    facts=(per_guess_probability,),
    always=True,
)
ACCOUNTS.update(
    {
        **{f"rtrl-2a-p4-lr{lr}": _RTRL_P4 for lr in ("1", "4", "10")},
        "elman-1": Account(
            "The paper gives no learning rate for the Elman net (Cleeremans et al.'s results); the row uses 0.1 "
            "and the evidence runs try others.",
            evidence.ELMAN_LR,
            facts=(failed_trials,),
            always=True,
        ),
        "rtrl-2a-p10": Account(
            "The paper tried learning rates 1.0–10.0 at p=10 and reports failure; the row uses 1.0 and the "
            "evidence runs the others.",
            evidence.RTRL_P10_LR,
            facts=(failed_trials,),
            always=True,
        ),
        **{pid: _GUESS for pid in ("guess-parity-a1", "guess-parity-a2", "guess-latch", "guess-2seq")},
    }
)


def learned_at(trials: pd.DataFrame, curves: pd.DataFrame, level: float = LEARNED) -> list[int]:
    """Per trial, the sequences seen when a 1,000-sequence block of its learning curve first had at least
    ``level`` of its training sequences correct (trials that never got there are left out)."""
    if not len(trials) or not len(curves):
        return []
    return list(_first_learned(trials, curves, level).values())


def median_or_none(values: list[int]) -> float | None:
    return float(np.median(values)) if values else None


def _evidence_line(e: Evidence, df: pd.DataFrame) -> str:
    g = evidence_trials(e, df)
    if not len(g):
        return f"  * {e.label}: not run. `{e.command()}`"
    ok = g[g["success"]]["sequences"].to_numpy(dtype=np.float64)
    found = f"{len(ok)}/{len(g)} succeeded" + (
        f", sequences {', '.join(f'{v:,.0f}' for v in sorted(ok))}"
        if len(ok)
        else f" within {int(g['max_sequences'].iloc[0]):,}"
    )
    return f"  * {e.label}: {found}. `{e.command()}`"


def evidence_trials(e: Evidence, df: pd.DataFrame) -> pd.DataFrame:
    """The stored trials of evidence run ``e``: its settings and budget, as the store records them, and its own
    seeds (from ``e.seed``: trials of the same settings with a row's seeds are not evidence)."""
    task_params, model_params, budget, _ = e.settings()
    g = trials_of(df, e.task, task_params, e.model, model_params, budget)
    return g[g["seed"] >= e.seed] if len(g) else g


#: Targets this close to 0 or 1 count as extreme in :func:`probe_extremes` (saturated logistic output).
EXTREME = 0.05
PROBE_SEQUENCES = 2560


def probe_extremes(row, store) -> str:
    """Re-test each stored final net of ``row`` (rebuilt from ``store``: lstm97.results.nets) on 2,560 fresh
    sequences of a probe stream and say where its wrong answers fall: the share with targets within EXTREME of
    0 or 1, against the share of all targets there. Prediction only; nothing is trained."""
    wrong_total = wrong_extreme = seen = seen_extreme = nets = 0
    notes: list[str] = []
    per_net: list[tuple[int, int, bool, int]] = []  # (wrong, of them at extreme targets, succeeded, seed)
    for _, t in row.trials.iterrows():
        net = stored_net(t, store)
        if net is None:
            continue
        task, model, state = net.task, net.model, net.state
        if net.note and net.note not in notes:
            notes.append(net.note)
        batch = task.sample(np.random.default_rng([int(t["seed"]), 1997]), PROBE_SEQUENCES)
        out = model.predict(state, batch)
        ends = batch.lengths - 1
        target = batch.targets[np.arange(len(batch)), ends, 0]
        extreme = (target < EXTREME) | (target > 1 - EXTREME)
        wrong = ~task.correct(batch, out)
        nets += 1
        per_net.append((int(wrong.sum()), int((wrong & extreme).sum()), bool(t["success"]), int(t["seed"])))
        wrong_total += int(wrong.sum())
        wrong_extreme += int((wrong & extreme).sum())
        seen += len(batch)
        seen_extreme += int(extreme.sum())
    if not nets:
        return "  * Extreme-target probe: no stored net with weights."
    share = wrong_extreme / wrong_total if wrong_total else float("nan")
    note = f" Note: {'; '.join(notes)}." if notes else ""
    text = (
        f"  * Extreme-target probe ({nets} stored final nets, {PROBE_SEQUENCES:,} fresh sequences each, "
        f"prediction only): {wrong_total:,} wrong answers, {wrong_extreme:,} of them "
        f"({share:.0%}) at targets below {EXTREME} or above {1 - EXTREME}, where {seen_extreme / seen:.1%} "
        f"of all targets lie."
    )
    worst = max(per_net)
    if nets > 1 and wrong_total and worst[0] > wrong_total / 2:
        text += (
            f" One net makes {worst[0]:,} of them ({worst[0] / wrong_total:.0%}; seed {worst[3]}, which "
            f"{'succeeded' if worst[2] else 'did not succeed'}), so the share is that net's."
        )
    ok = [n for n in per_net if n[2]]
    ok_wrong = sum(n[0] for n in ok)
    if ok and len(ok) < len(per_net):
        text += f" The {len(ok)} successful nets alone: {ok_wrong:,} wrong answers" + (
            f", {sum(n[1] for n in ok) / ok_wrong:.0%} at extreme targets." if ok_wrong else "."
        )
    return text + f"{note} Regenerated by `lstm97 report`."


def gap_table(rows: list, curves: pd.DataFrame) -> pd.DataFrame:
    """One line per row (with trials): verdict, settings, the paper's figure, ours, and the 99 % block."""
    out = []
    for r in rows:
        s = r.stats
        got = learned_at(r.trials, curves)
        out.append(
            {
                "id": r.preset.id,
                "verdict": s["verdict"],
                "settings": r.settings or "–",
                "paper": _int(r.preset.paper.sequences),
                "ours: mean (median)": f"{_int(s['mean'])} ({_int(s['median'])})" if s.get("k") else "–",
                "ours: 99 % block (k/n)": f"{_int(median_or_none(got))} ({len(got)}/{s['n']})",
            }
        )
    return pd.DataFrame(out)


def section(rows: list, df: pd.DataFrame, curves: pd.DataFrame, store=None) -> list[str]:
    """Markdown lines: for every row with trials and an account whose verdict is not "agrees", its figures, the
    sequences to a 99 %-correct block of training sequences, the account and its evidence runs (and, with the
    ``store`` the rows came from, the extreme-target probe of its stored nets)."""
    from . import stats

    shown = [
        r
        for r in rows
        if r.preset.id in ACCOUNTS
        and r.stats.get("n")
        and (ACCOUNTS[r.preset.id].always or r.stats.get("verdict") != stats.REPRODUCED)
    ]
    if not shown:
        return []
    out = [
        "## Accounts of the gaps\n",
        'Each LSTM row above whose verdict is not "agrees" (or that ran at reduced settings only), and every '
        "baseline, with what its stored runs show, computed when this report is built, and the likely cause. "
        '"99 % block" is the median, over the row\'s trials that got there, '
        f"of the training sequences seen when a block of 1,000 consecutive training sequences of the learning "
        f"curve was first at least {LEARNED:.0%} correct (k of n trials got there): when that is near the "
        "paper's figure but the stop comes much later, the net has learned the task and the time goes into "
        "the stopping rule's last errors. The causes are our reading of these runs, not the paper's.\n",
        gap_table(shown, curves).to_markdown(index=False, disable_numparse=True),
        "",
    ]
    done: dict[tuple[int, str], str] = {}  # (account, its text) -> the first row that showed it
    for r in shown:
        acc = ACCOUNTS[r.preset.id]
        cause = acc.at_paper if acc.at_paper and r.mode == "paper" else acc.cause
        key = (id(acc), cause)
        if key in done:
            out.append(f"* `{r.preset.id}`: as `{done[key]}`.")
        else:
            done[key] = r.preset.id
            out.append(f"* `{r.preset.id}`: {cause}")
        facts = [text for fact in acc.facts if (text := fact(r, curves))]
        if facts:
            out.append("  What the stored trials show (computed when this report was built):")
            out += [f"  * {text}" for text in facts]
        if acc.evidence and done[key] == r.preset.id:
            out.append("  Evidence (stored runs; regenerate with the command shown):")
            out += [_evidence_line(e, df) for e in acc.evidence]
        if acc.probe_extremes and store is not None and len(r.trials):
            out.append(probe_extremes(r, store))
    out.append("")
    return out

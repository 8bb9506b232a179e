"""Accounts of the gaps: for each LSTM row we do not reproduce (or cannot run at the paper's settings), what
the stored runs show and the likely cause.

The prose is ours (written from runs named here, not from the paper); every figure the report prints beside
it is computed from the store: the row's own trials, the sequences its learning curves took to reach a block
of 1,000 training sequences that were 99 % correct (:func:`learned_at`), and the *evidence* runs each account
names (lstm97.paper.evidence), which are ordinary ``lstm97 run`` configurations (the report shows their stored
trials, or "not run").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..paper import evidence
from ..paper.evidence import Evidence
from ..results.nets import stored_net
from ..results.schema import CURVE_BLOCK
from .match import trials_of
from .reproduction import _int

#: A learning-curve block (1,000 training sequences) counts as learned at this fraction of correct sequences.
LEARNED = 0.99


@dataclass(frozen=True)
class Account:
    cause: str  # what we believe explains the gap, and how sure we are
    evidence: tuple[Evidence, ...] = ()  # runs of lstm97.paper.evidence that test it
    probe_extremes: bool = False  # re-test the stored nets: are the errors at extreme targets?
    at_paper: str = ""  # the account instead of ``cause`` when the row's trials are at the paper's settings


_REBER = Account(
    "Not diagnosed. Trials either learn (often within tens of thousands of presentations, see the medians) "
    "or never do within the budget: "
    "then the training curve stays on a plateau of 15-80 % fully correct strings, sometimes falling, and most of "
    "the 256 test strings stay wrong. That looks like the 'abuse' of §1.8 (cells taken as bias units, which "
    "the unbiased cells and output units of Exp 1 invite) more than slow learning. Summing the updates over "
    "each string instead of applying them at every step (PAPER.md §1.9 leaves this open) does not help "
    "(evidence below). Other candidates we have not separated: the paper's 3 training/test set pairs (we "
    "draw a new pair per trial) and the interval of the random input-gate biases (§1.8 CONFLICT).",
    (evidence.REBER_SEQUENCE_UPDATE,),
)

_2C_LONGER = (
    "In our runs learning slows sharply as the lag grows, while the paper's times barely grow (30,000 at "
    "q=50, 49,000 at q=1000): the 99 % block, which comes well before the success test at q=50 (2c-1), comes "
    "only after more than a hundred thousand sequences at q=100, and most trials do not pass the test within "
    "the 5,000,000 budget. Likely cause: cell-state drift (§1.8). With no bias weights anywhere (PAPER.md "
    "§3.4) the input gates start half open, so every one of the q distractors adds to the cell state and h "
    "saturates more the longer the lag; the paper's own remedy, a negative input-gate bias, makes q=100 "
    "learnable in every evidence trial (below), though still several times slower than the paper's figure. "
    "We keep PAPER.md's bias-free net as the default."
)
ACCOUNTS: dict[str, Account] = {
    **{f"1-{i}": _REBER for i in range(1, 6)},
    "2a": Account(
        "With the paper's cell input g = logistic in [0, 1], h = identity and no biases, the cell input g·y_in is "
        "never negative: the cell state only grows while the input gate is open, so x and y can differ only in "
        "how much they add, and every one of the p-1 distractor symbols adds to it too until the net has shut "
        "the input gate on each of them. The evidence runs show the cost rising steeply with p at the paper's "
        "settings, and p=100 learning fast once g may be negative (g2). The paper's 5,040 suggests a detail of "
        "its net differs from PAPER.md's (g, biases or the moment the cell is added); we keep PAPER.md's g.",
        (*evidence.LAGS_2A, evidence.G2_2A),
    ),
    "2b": Account(
        "Not diagnosed. The 2a net on sequences whose middle part is random. We expected 2a's cause (g >= 0, no "
        "biases), but the evidence run with the centred g2, which rescues 2a, does not rescue 2b within 300,000 "
        "sequences: something else, likely in how the cell is added or how the net must ignore a varying "
        "middle part, differs from the paper's setup.",
        (evidence.G2_2B,),
    ),
    "2c-1": Account(
        "Our success test is strict: after every 1,000 training sequences the frozen net must get 10,000 fresh "
        "sequences right (absolute error < 0.2 on both outputs at the end). The learning curves reach 99 % "
        "correct training sequences far sooner (column '99 % block'), close to the paper's figure; "
        "the rest is spent removing the last rare errors. The paper does not say on how many sequences, or how "
        "often, it tested."
    ),
    "2c-2": Account(_2C_LONGER, evidence.DRIFT_2C),
    "3a-1": Account(
        "The median is below the paper's mean; our mean is dominated by one or two slow trials in which ST2 "
        "(mean absolute error < 0.01 on 256 test sequences) follows ST1 only after hundreds of thousands of "
        "sequences. Ten trials cannot pin a mean with such a tail (see the bootstrap interval)."
    ),
    "3a-2": Account("As 3a-1: one trial took about a million sequences; the median is below the paper's mean."),
    "3b-1": Account(
        "Faster than the paper (below half its mean), which the factor-2 rule also counts as a miss. ST1 for 3b "
        "tolerates 5 of 256 misclassified test sequences (PAPER.md §3.5: fewer than 6) and we check it every "
        "1,000 sequences; the paper's check schedule is not given."
    ),
    "3c-2": Account(
        "Faster than the paper (below half its mean): all trials succeed and their test errors (fraction "
        "misclassified, av. difference to mean) are in the paper's range. The stop (no misclassification "
        "among 256 test sequences and mean |output - noise-free target| < 0.015) is checked every 1,000 "
        "sequences; how often the paper checked is not given, and a noisy-target task rewards an early check "
        "that catches the net in a good moment. We count this as a miss only by the factor-2 rule."
    ),
    "4-1": Account(
        "ST3(0.01) waits for 2,000 consecutive training sequences all within 0.04 of the target. The learning "
        "curves reach 99 % correct training sequences after about as many sequences as the paper's mean "
        "(column '99 % block'); most of the remaining ~90 % of the time waits for a run of 2,000 "
        "without a single error. Nets stopped by ST3 still get more test sequences wrong than the paper's "
        "(Table 7), and their errors gather at targets near 0 or 1, where the logistic output unit saturates and "
        "learns slowly (the extreme-target probe below, which re-tests the stored final nets). "
        "Kernel, gradient and generator are checked against PAPER.md's equations "
        "(tests/test_lstm_reference.py, tests/test_adding.py); we did not tune anything to close the gap.",
        probe_extremes=True,
    ),
    "4-2": Account(
        "Unlike 4-1, the wait for 2,000 error-free sequences is short here: the 99 % block comes shortly before "
        "the stop, so learning itself is several times slower than the paper's. Our ratio to the paper falls "
        "with T (4-1, 4-2, 4-3), i.e. our times grow more slowly with T than the paper's. The errors of the "
        "stored nets again gather at extreme targets (probe below). Not diagnosed further.",
        probe_extremes=True,
    ),
    "4-3": Account(
        "As 4-2 at T=1000 (fewer trials: each costs about a quarter of an hour of one core).", probe_extremes=True
    ),
    "5-140": Account(
        "Success rate and time are close to the paper's (within about 2x); a trial that misses hits the budget "
        "while still above 140 of 2,000 wrong. The stop needs 93 % correct sequences, so it does not suffer "
        "from 4-1's wait."
    ),
    "5-13": Account(
        "The stop needs fewer than 13 of the last 2,000 training sequences off by 0.04 or more: the fine-tuning "
        "wait of 4-1, here on products x1*x2 that crowd near 0. The successful trials take about as long as the "
        "paper's mean (within 2x); the others still have too many misses when the 5,000,000 budget ends, "
        "which the paper never reports.",
        probe_extremes=True,
    ),
    "6b": Account(
        "Bimodal. The trials that succeed need about as many sequences as the paper's mean or fewer; the others "
        "stall on a plateau of their learning curve (for example 62 % or 87 % of training sequences correct, "
        "about what a net that confuses some of the 8 classes gets) and stay there until the 5,000,000 budget "
        "runs out, while the paper reports no failure. Likely the 'abuse' of §1.8 (cells committed early to a "
        "partial solution); we did not find a setting of PAPER.md's that removes it and did not tune one."
    ),
}
_TOO_COSTLY = Account(
    "Not run at the paper's settings: one trial costs hours to days of one core here (see `lstm97 reproduce "
    "--list`); the row shows reduced settings only.",
    at_paper="Run at the paper's settings with fewer trials than the paper's (a trial costs from a quarter of "
    "an hour to hours of one core here); too few to say more than the table does. Not diagnosed.",
)
_2C_COSTLY = Account(
    _TOO_COSTLY.cause,
    at_paper="Run at the paper's settings with fewer trials than the "
    "paper's (costs in `lstm97 reproduce --list`). As 2c-2: " + _2C_LONGER,
)
for _pid in ("2c-3", "2c-4", "2c-5", "2c-6", "2c-7", "2c-8", "2c-9"):
    ACCOUNTS.setdefault(_pid, _2C_COSTLY)
for _pid in ("3a-3", "3b-3"):
    ACCOUNTS.setdefault(_pid, _TOO_COSTLY)


def learned_at(trials: pd.DataFrame, curves: pd.DataFrame, level: float = LEARNED) -> list[int]:
    """Per trial, the sequences seen when a 1,000-sequence block of its learning curve first had at least
    ``level`` of its training sequences correct (trials that never got there are left out)."""
    if not len(trials) or not len(curves):
        return []
    full = curves["sequences"] % CURVE_BLOCK == 0  # not a trial's last, shorter block
    mine = curves[curves["trial_id"].isin(trials["id"]) & full & (curves["frac_correct"] >= level)]
    return [int(v) for v in mine.groupby("trial_id")["sequences"].min().to_numpy()]


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
    """The stored trials of evidence run ``e`` (its settings and budget, as the store records them)."""
    task_params, model_params, budget, _ = e.settings()
    return trials_of(df, e.task, task_params, e.model, model_params, budget)


#: Targets this close to 0 or 1 count as extreme in :func:`probe_extremes` (saturated logistic output).
EXTREME = 0.05
PROBE_SEQUENCES = 2560


def probe_extremes(row, store) -> str:
    """Re-test each stored final net of ``row`` (rebuilt from ``store``: lstm97.results.nets) on 2,560 fresh
    sequences of a probe stream and say where its wrong answers fall: the share with targets within EXTREME of
    0 or 1, against the share of all targets there. Prediction only; nothing is trained."""
    wrong_total = wrong_extreme = seen = seen_extreme = nets = 0
    notes: list[str] = []
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
        wrong_total += int(wrong.sum())
        wrong_extreme += int((wrong & extreme).sum())
        seen += len(batch)
        seen_extreme += int(extreme.sum())
    if not nets:
        return "  * Extreme-target probe: no stored net with weights."
    share = wrong_extreme / wrong_total if wrong_total else float("nan")
    note = f" Note: {'; '.join(notes)}." if notes else ""
    return (
        f"  * Extreme-target probe ({nets} stored final nets, {PROBE_SEQUENCES:,} fresh sequences each, "
        f"prediction only): {wrong_total:,} wrong answers, {wrong_extreme:,} of them "
        f"({share:.0%}) at targets below {EXTREME} or above {1 - EXTREME}, where {seen_extreme / seen:.1%} "
        f"of all targets lie.{note} Regenerated by `lstm97 report`."
    )


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
    """Markdown lines: for every row with trials and an account whose verdict is not "reproduced", its figures, the
    sequences to a 99 %-correct block of training sequences, the account and its evidence runs (and, with the
    ``store`` the rows came from, the extreme-target probe of its stored nets)."""
    from . import stats

    shown = [
        r for r in rows if r.preset.id in ACCOUNTS and r.stats.get("n") and r.stats.get("verdict") != stats.REPRODUCED
    ]
    if not shown:
        return []
    out = [
        "## Accounts of the gaps\n",
        "Each LSTM row above that is not reproduced, or not run at the paper's settings, with what the stored "
        'runs show and the likely cause. "99 % block" is the median, over the row\'s trials that got there, '
        f"of the training sequences seen when a block of 1,000 consecutive training sequences of the learning "
        f"curve was first at least {LEARNED:.0%} correct (k of n trials got there): when that is near the "
        "paper's figure but the stop comes much later, the net has learned the task and the time goes into "
        "the stopping rule's last errors. The causes are our reading of these runs, not the paper's.\n",
        gap_table(shown, curves).to_markdown(index=False, disable_numparse=True),
        "",
    ]
    done: dict[str, str] = {}
    for r in shown:
        acc = ACCOUNTS[r.preset.id]
        cause = acc.at_paper if acc.at_paper and r.mode == "paper" else acc.cause
        if cause in done:
            out.append(f"* `{r.preset.id}`: as `{done[cause]}`.")
            continue
        done[cause] = r.preset.id
        out.append(f"* `{r.preset.id}`: {cause}")
        if acc.evidence:
            out.append("  Evidence (stored runs; regenerate with the command shown):")
            out += [_evidence_line(e, df) for e in acc.evidence]
        if acc.probe_extremes and store is not None and len(r.trials):
            out.append(probe_extremes(r, store))
    out.append("")
    return out

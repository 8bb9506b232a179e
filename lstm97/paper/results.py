"""The paper's reported numbers as data, with their table, row and a flag for uncertain values; per row also the
paper's number of trials (with where PAPER.md states it), its training budget where it gives one, and whether
its figures are a reference for our run at all (``not_comparable``).

Source: PAPER.md §4 (the 1997 paper's Tables 1–9, including the baselines of Tables 1 and 2 that the paper
copied from other papers or ran itself) and §5 (random weight guessing); beyond the 1997 paper, PAPER.md §11:
Schmidhuber 1992's chunker experiment (table "CH92", the validation of ``chunker``) and Gers et al. 2000's
Table 2 ("G2000-2"), Le et al. 2015's and Arjovsky et al. 2016's facts on the modern adding and copy tasks
("M16": whether an LSTM beats the baseline). ``get`` finds a row by table and row. Which stored configuration
is a row's is the presets' business (lstm97.paper.presets, lstm97.report.match). A row whose model is not
registered is listed in the reports and never run. Pure data: nothing here imports tasks, models, runners or the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PaperResult:
    table: str
    row: str
    task: str
    params: dict[str, Any]
    model: str
    trials: int | None  # trials behind the figures (None: PAPER.md does not say); ``trials_from`` cites it
    success_rate: float | None  # fraction of successful trials (None: not given)
    sequences: float | None  # mean sequences until success ("success after"); a bound when ``bound`` is set
    wrong: float | None = None  # mean wrong test predictions
    n_test: int | None = None
    weights: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    uncertain: bool = False
    note: str = ""
    model_params: dict[str, Any] = field(default_factory=dict)  # hyperparameters that select the row
    rate_text: str = ""  # the paper's words where it gives no rate, e.g. "some fraction"
    bound: str = ""  # ">" when ``sequences`` is a lower bound (no trial succeeded within it)
    unit: str = "sequences"  # what ``sequences`` counts: training sequences, or guesses (§5)
    trials_from: str = ""  # where PAPER.md states ``trials``
    budget: int | None = None  # the paper's training budget per trial (None: it gives none, the budget is ours)
    #: why the paper's figures are no reference for our run of the row ("": they are one); such a row is shown
    #: but never judged (lstm97.report.stats: "no comparable reference")
    not_comparable: str = ""
    #: success counts the source gives at thresholds below the budget: (sequences, k, n) = "k of its n trials
    #: succeeded within that many sequences" (Schmidhuber 1992: 13 of 17 under 5,000); each is judged like the
    #: rate (lstm97.report.stats.VERDICT_RULE)
    within: tuple[tuple[int, int, int], ...] = ()

    @property
    def comparable(self) -> bool:
        """Whether the paper's figures are a reference for our run of the row (see ``not_comparable``)."""
        return not self.not_comparable

    @property
    def implied_rate(self) -> float | None:
        """The success rate the row states, or 1.0 where it gives only a mean over all its trials (Tables 3-9:
        "success after ... (mean of N trials)" counts every trial); None where it says neither."""
        if self.success_rate is not None:
            return self.success_rate
        if self.rate_text or self.sequences is None or self.bound:
            return None
        return 1.0


def _frac(x: float) -> float:
    """Tables 4-6 give the fraction misclassified of 2560 test sequences; as a count of 2560."""
    return x * 2560


#: Why Table 1's RTRL figures are no reference for our RTRL runs (PAPER.md §2, §4 Table 1 notes).
_SMITH_ZIPSER = (
    "Smith & Zipser's figures cover only their successful trials (their number not given), on a string "
    "distribution they made easier (more short strings) than the paper's Exp 1 and ours"
)
#: Where PAPER.md states the trial counts of Tables 4-8 (the same for every row of a table).
_EXP3_TRIALS = "PAPER.md §3.5 (10 trials); §4 Tables 4-6 captions (means of 10 trials)"
_EXP4_TRIALS = "PAPER.md §3.6 Trials; §4 Table 7 caption (means of 10 trials)"
_EXP5_TRIALS = "PAPER.md §3.7 (10 trials); §4 Table 8 caption (means of 10 trials)"
#: Table 2 (PAPER.md §4): "means of 18 trials" for every row; Exp 2a's budget (§3.2) for every method.
_TABLE2_TRIALS = "PAPER.md §4 Table 2 caption (means of 18 trials)"
_2A_BUDGET = 5_000_000  # PAPER.md §3.2: "Training budget: 5 million sequence presentations"

_NO_FORGET = {"forget_gate": False, "forget_gate_bias": None}


def _g2000(row: str, rate: float, mean: int | None, model_params: dict[str, Any], good: str, rest: str) -> PaperResult:
    """A row of Gers et al. 2000's Table 2 (PAPER.md §11.1): 100 nets; the weights are the net's (424 with forget
    gates, 360 without); ``good`` and ``rest`` as the table gives them: % of the nets ⟨their mean error-free
    length⟩ ("good": not perfect, mean error-free length > 1000; "rest": the others)."""
    good_rest = f"{good} good; {rest} rest"
    return PaperResult(
        "G2000-2",
        row,
        "reber-continual",
        {},
        "lstm",
        100,
        rate,
        mean,
        n_test=10,
        weights=360 if model_params.get("forget_gate") is False else 424,
        model_params=model_params,
        note=f"PAPER.md §11.1 (Gers et al. 2000, Table 2): {good_rest}",
        trials_from="PAPER.md §11.1 (100 independently trained nets)",
        extra={"good": good, "rest": rest},
    )


def _modern(task: str, T: int, beats: bool, fact: str) -> PaperResult:
    """A fact of Le et al. 2015 / Arjovsky et al. 2016 (PAPER.md §11.4): whether their LSTM beat the task's
    memoryless baseline at length T, read off a learning curve (one run), as a success rate of 100 % or 0 %."""
    return PaperResult(
        "M16",
        f"{task} T={T}",
        task,
        {"T": T},
        "lstm",
        None,
        1.0 if beats else 0.0,
        None,
        uncertain=True,
        rate_text="beats the baseline (100)" if beats else "does not beat it (0)",
        extra={"test error": "curves only"},  # never a number read off a figure
        note=f"PAPER.md §11.4: {fact}",
    )


_ADDING_FACT = "LSTM (128 units, RMSProp 10⁻³) beats the baseline MSE 0.167 up to T = 400, at 750 not near 0"
_COPY_FACT = "LSTM (40 units) beats the memoryless baseline 10·log 8/(T+20) only at T = 100"
#: The later papers' facts on their own tasks: "beats the baseline or not", never a number read off a figure.
MODERN: tuple[PaperResult, ...] = (
    *(_modern("adding-modern", T, T <= 400, _ADDING_FACT) for T in (100, 200, 400, 750)),
    _modern("copy", 100, True, _COPY_FACT),
    _modern("copy", 200, False, _COPY_FACT + " (PAPER.md names no other length: 'only at 100' read as failing at 200)"),
)

RESULTS: tuple[PaperResult, ...] = (
    # Table 1: Exp 1, LSTM rows, each the mean of 30 trials (3 training/test set pairs x 10 initialisations)
    *(
        PaperResult(
            "1",
            row,
            "reber",
            {},
            "lstm",
            30,
            rate,
            seq,
            0,
            256,
            w,
            model_params={"blocks": b, "block_size": size, "lr": lr},
            note="PAPER.md §4 Table 1",
            extra=extra,
            trials_from="PAPER.md §3.1 Protocol; §4 Table 1 notes (each LSTM row the mean over 30 trials)",
        )
        for row, b, size, w, lr, rate, seq, extra in [
            ("1-1", 4, 1, 264, 0.1, 1.0, 39_740, {}),
            ("1-2", 3, 2, 276, 0.1, 1.0, 21_730, {}),
            ("1-3", 3, 2, 276, 0.2, 0.97, 14_060, {}),
            ("1-4", 4, 1, 264, 0.5, 0.97, 9_500, {}),
            ("1-5", 3, 2, 276, 0.5, 1.0, 8_440, {"min": 3_800, "max": 24_100}),
        ]
    ),
    # Table 3: Exp 2c, mean of 20 trials, LSTM only
    *(
        PaperResult(
            "3",
            f"2c-{i + 1}",
            "long-lag-distractors",
            {"q": q, "p": p},
            "lstm",
            20,
            None,
            seq,
            weights=6 * p + 64,
            note="PAPER.md §4 Table 3",
            trials_from="PAPER.md §3.4 Runs; §4 Table 3 caption (mean of 20 trials per row)",
            budget=5_000_000,  # PAPER.md §3.4: "Budget 5 million"
        )
        for i, (q, p, seq) in enumerate(
            [
                (50, 50, 30_000),
                (100, 100, 31_000),
                (200, 200, 33_000),
                (500, 500, 38_000),
                (1000, 1000, 49_000),
                (1000, 500, 49_000),
                (1000, 200, 75_000),
                (1000, 100, 135_000),
                (1000, 50, 203_000),
            ]
        )
    ),
    # Table 2 (LSTM row) and the 2b text
    PaperResult(
        "2",
        "LSTM",
        "long-lag",
        {"p": 100, "variant": "a"},
        "lstm",
        18,
        1.0,
        5_040,
        weights=10504,
        note="PAPER.md §4 Table 2",
        trials_from="PAPER.md §3.2; §4 Table 2 caption (means of 18 trials)",
        budget=5_000_000,  # PAPER.md §3.2: "Training budget: 5 million sequence presentations"
    ),
    PaperResult(
        "2b",
        "LSTM",
        "long-lag",
        {"p": 100, "variant": "b"},
        "lstm",
        18,
        1.0,
        5_680,
        weights=10504,
        note="PAPER.md §4, Task 2b text",
        trials_from="PAPER.md §3.3; §4 Task 2b (18 trials)",
        budget=5_000_000,  # PAPER.md §3.3: "budget 5 million"
    ),
    # Tables 4-6: Exp 3, means of 10 trials ("success after" = ST2; extra ST1)
    PaperResult(
        "4",
        "3a T=100 N=3",
        "two-sequence",
        {"T": 100, "N": 3, "noise": "none"},
        "lstm",
        10,
        None,
        39_850,
        _frac(0.000195),
        2560,
        102,
        extra={"ST1": 27_380},
        trials_from=_EXP3_TRIALS,
    ),
    PaperResult(
        "4",
        "3a T=100 N=1",
        "two-sequence",
        {"T": 100, "N": 1, "noise": "none"},
        "lstm",
        10,
        None,
        64_330,
        _frac(0.000117),
        2560,
        102,
        extra={"ST1": 58_370},
        trials_from=_EXP3_TRIALS,
    ),
    PaperResult(
        "4",
        "3a T=1000 N=3",
        "two-sequence",
        {"T": 1000, "N": 3, "noise": "none"},
        "lstm",
        10,
        None,
        452_460,
        _frac(0.000078),
        2560,
        102,
        extra={"ST1": 446_850},
        trials_from=_EXP3_TRIALS,
    ),
    PaperResult(
        "5",
        "3b T=100 N=3",
        "two-sequence",
        {"T": 100, "N": 3, "noise": "signal"},
        "lstm",
        10,
        None,
        43_250,
        _frac(0.00828),
        2560,
        102,
        extra={"ST1": 41_740},
        trials_from=_EXP3_TRIALS,
    ),
    PaperResult(
        "5",
        "3b T=100 N=1",
        "two-sequence",
        {"T": 100, "N": 1, "noise": "signal"},
        "lstm",
        10,
        None,
        78_430,
        _frac(0.01500),
        2560,
        102,
        extra={"ST1": 74_950},
        trials_from=_EXP3_TRIALS,
    ),
    PaperResult(
        "5",
        "3b T=1000 N=1",
        "two-sequence",
        {"T": 1000, "N": 1, "noise": "signal"},
        "lstm",
        10,
        None,
        485_080,
        _frac(0.01207),
        2560,
        102,
        extra={"ST1": 481_060},
        trials_from=_EXP3_TRIALS,
    ),
    PaperResult(
        "6",
        "3c T=100 N=3",
        "two-sequence",
        {"T": 100, "N": 3, "noise": "target"},
        "lstm",
        10,
        None,
        269_650,
        _frac(0.00558),
        2560,
        102,
        extra={"av. difference to mean": 0.014},
        trials_from=_EXP3_TRIALS,
    ),
    PaperResult(
        "6",
        "3c T=100 N=1",
        "two-sequence",
        {"T": 100, "N": 1, "noise": "target"},
        "lstm",
        10,
        None,
        565_640,
        _frac(0.00441),
        2560,
        102,
        extra={"av. difference to mean": 0.012},
        trials_from=_EXP3_TRIALS,
    ),
    # Table 8: Exp 5, T = 100, means of 10 trials
    PaperResult(
        "8",
        "n_seq=140",
        "multiplication",
        {"T": 100, "n_seq": 140},
        "lstm",
        10,
        None,
        482_000,
        139,
        2560,
        93,
        extra={"MSE": 0.0223},
        trials_from=_EXP5_TRIALS,
    ),
    PaperResult(
        "8",
        "n_seq=13",
        "multiplication",
        {"T": 100, "n_seq": 13},
        "lstm",
        10,
        None,
        1_273_000,
        14,
        2560,
        93,
        extra={"MSE": 0.0139},
        trials_from=_EXP5_TRIALS,
    ),
    # Table 9: Exp 6
    PaperResult(
        "9",
        "6a",
        "temporal-order",
        {"marks": 2},
        "lstm",
        20,
        None,
        31_390,
        1,
        2560,
        156,
        trials_from="PAPER.md §3.8 Training; §4 Table 9 (mean of 20 trials)",
    ),
    PaperResult(
        "9",
        "6b",
        "temporal-order",
        {"marks": 3},
        "lstm",
        10,
        None,
        571_100,
        2,
        2560,
        308,
        trials_from="PAPER.md §3.8 Training; §4 Table 9 (mean of 10 trials)",
    ),
    PaperResult(
        "7",
        "4-1",
        "adding",
        {"T": 100},
        "lstm",
        10,
        1.0,
        74_000,
        1,
        2560,
        93,
        note="PAPER.md §4 Table 7; restated in [PT]",
        trials_from=_EXP4_TRIALS,
    ),
    PaperResult(
        "7",
        "4-2",
        "adding",
        {"T": 500},
        "lstm",
        10,
        1.0,
        209_000,
        0,
        2560,
        93,
        note="PAPER.md §4 Table 7",
        trials_from=_EXP4_TRIALS,
    ),
    PaperResult(
        "7",
        "4-3",
        "adding",
        {"T": 1000},
        "lstm",
        10,
        1.0,
        853_000,
        1,
        2560,
        93,
        extra={"min": 370_000, "max": 2_020_000},
        note="PAPER.md §4 Table 7 and text",
        trials_from=_EXP4_TRIALS,
    ),
    # Table 1 baselines (PAPER.md §2, §4 Table 1): figures the paper copied from other papers. The weight counts
    # are the paper's estimates ("≈"); the RTRL rows cover only Smith & Zipser's successful trials, on a task
    # they made easier (more short-lag strings).
    PaperResult(
        "1",
        "RTRL 3",
        "reber",
        {},
        "rtrl",
        None,
        None,
        173_000,
        weights=170,
        uncertain=True,
        model_params={"hidden": 3, "lr": 0.05},
        rate_text="some fraction",
        note="Smith & Zipser 1989: successful trials only; ≈170 weights",
        not_comparable=_SMITH_ZIPSER,
    ),
    PaperResult(
        "1",
        "RTRL 12",
        "reber",
        {},
        "rtrl",
        None,
        None,
        25_000,
        weights=494,
        uncertain=True,
        model_params={"hidden": 12, "lr": 0.1},
        rate_text="some fraction",
        note="Smith & Zipser 1989: successful trials only; ≈494 weights",
        not_comparable=_SMITH_ZIPSER,
    ),
    PaperResult(
        "1",
        "ELM",
        "reber",
        {},
        "elman",
        None,
        0.0,
        200_000,
        weights=435,
        uncertain=True,
        bound=">",
        model_params={"hidden": 15},
        extra={"learning rate": "—"},
        note="Cleeremans et al. 1989; ≈435 weights",
    ),
    PaperResult(
        "1",
        "RCC",
        "reber",
        {},
        "rcc",
        None,
        0.5,
        182_000,
        weights=None,
        uncertain=True,
        extra={"hidden units": "7–9", "weights": "≈119–198", "learning rate": "—"},
        note="Fahlman 1991; ≈119–198 weights",
    ),
    # Table 2 baselines (PAPER.md §2, §4 Table 2), "means of 18 trials". The text gives the RTRL p=4, lr 1.0
    # rate as 7/9 (78 %); 56 % and 22 % are also multiples of 1/9.
    *(
        PaperResult(
            "2",
            f"RTRL p=4 lr={lr:g}",
            "long-lag",
            {"p": 4, "variant": "a"},
            "rtrl",
            18,
            rate,
            seq,
            weights=36,
            model_params={"lr": lr},
            note="PAPER.md §4 Table 2; text: 7/9 for lr 1.0",
            trials_from=_TABLE2_TRIALS,
            budget=_2A_BUDGET,
        )
        for lr, rate, seq in [(1.0, 0.78, 1_043_000), (4.0, 0.56, 892_000), (10.0, 0.22, 254_000)]
    ),
    PaperResult(
        "2",
        "RTRL p=10",
        "long-lag",
        {"p": 10, "variant": "a"},
        "rtrl",
        18,
        0.0,
        5_000_000,
        weights=144,
        bound=">",
        extra={"learning rate": "1.0–10.0"},
        note="PAPER.md §4 Table 2",
        trials_from=_TABLE2_TRIALS,
        budget=_2A_BUDGET,
    ),
    PaperResult(
        "2",
        "RTRL p=100",
        "long-lag",
        {"p": 100, "variant": "a"},
        "rtrl",
        18,
        0.0,
        5_000_000,
        weights=10404,
        bound=">",
        extra={"learning rate": "1.0–10.0"},
        note="PAPER.md §4 Table 2",
        trials_from=_TABLE2_TRIALS,
        budget=_2A_BUDGET,
    ),
    PaperResult(
        "2",
        "BPTT p=100",
        "long-lag",
        {"p": 100, "variant": "a"},
        "rnn-bptt",
        18,
        0.0,
        5_000_000,
        weights=10404,
        bound=">",
        extra={"learning rate": "1.0–10.0"},
        note="PAPER.md §4 Table 2",
        trials_from=_TABLE2_TRIALS,
        budget=_2A_BUDGET,
    ),
    PaperResult(
        "2",
        "CH p=100",
        "long-lag",
        {"p": 100, "variant": "a"},
        "chunker",
        18,
        0.33,
        32_400,
        weights=10506,
        note="PAPER.md §4 Table 2; the text: succeeded in 1/3 of the trials",
        trials_from=_TABLE2_TRIALS,
        budget=_2A_BUDGET,
    ),
    # Schmidhuber 1992 (PAPER.md §11.5): the chunker's own 20-step experiment, the validation of ``chunker``.
    PaperResult(
        "CH92",
        "CH 20-step",
        "history-compression",
        {"lag": 20},
        "chunker",
        17,
        1.0,
        None,
        weights=None,
        extra={"runs under 5,000 sequences": "13/17", "all runs under": "35,000"},
        uncertain=True,
        note="Schmidhuber 1992, Neural Computation 4(2), 'An experiment': 13 of 17 runs needed fewer than 5,000 "
        "training sequences, all fewer than 35,000 (no mean given); not a row of the 1997 paper",
        rate_text="17/17 under 35,000 (13/17 under 5,000)",
        within=((5_000, 13, 17), (35_000, 17, 17)),
        trials_from="PAPER.md §11.5 (Schmidhuber's own experiment: 13 of 17 runs under 5,000)",
        budget=None,
    ),
    # §5 random weight guessing (no table in the paper): counts of guesses. The trial counts are None: that "all
    # results are averages over 10 trials" is a sentence of the NIPS version PAPER.md §5 marks unconfirmed.
    PaperResult(
        "RS",
        "2-sequence A2",
        "two-sequence",
        {},
        "guess",
        None,
        None,
        718,
        n_test=100,
        model_params={"arch": "a2"},
        unit="guesses",
        uncertain=True,
        note="PAPER.md §5: ≈718 trials, from a secondary source only",
        not_comparable="≈718 comes from a secondary source only (PAPER.md §5, §9), for the §5 protocol's "
        "sequence lengths of 500-600; ours are 500-550",
    ),
    PaperResult(
        "RS",
        "parity A1",
        "parity",
        {"noise": 0.0},
        "guess",
        None,
        None,
        2906,
        n_test=100,
        model_params={"arch": "wz", "hidden": 1},
        unit="guesses",
        note="PAPER.md §5; [G01] node4",
    ),
    PaperResult(
        "RS",
        "parity A2",
        "parity",
        {"noise": 0.0},
        "guess",
        None,
        None,
        2797,
        n_test=100,
        model_params={"arch": "a2"},
        unit="guesses",
        note="PAPER.md §5; [G01] node4",
    ),
    PaperResult(
        "RS",
        "latch II",
        "latch",
        {"variant": "II"},
        "guess",
        None,
        None,
        22,
        n_test=100,
        model_params={"hidden": 0},
        unit="guesses",
        note="PAPER.md §5; [G01] node3, variant II",
    ),
    # Gers, Schmidhuber & Cummins 2000, Table 2 (PAPER.md §11.1, verified): continual embedded Reber grammar,
    # 100 nets per row; % perfect (mean training streams); good / rest in the note ("good": mean error-free length
    # > 1000). The weight counts are the net's (424 with forget gates, PAPER.md §11.1; 360 without).
    _g2000("LSTM with external reset", 0.74, 7441, {**_NO_FORGET, "external_reset": True}, "0 %", "26 % ⟨31⟩"),
    _g2000("standard LSTM", 0.0, None, dict(_NO_FORGET), "1 % ⟨1,166⟩", "99 % ⟨37⟩"),
    _g2000("LSTM with state decay 0.9", 0.0, None, {**_NO_FORGET, "state_decay": 0.9}, "0 %", "100 % ⟨56⟩"),
    _g2000("LSTM with forget gates", 0.18, 18889, {}, "29 % ⟨39,171⟩", "53 % ⟨145⟩"),
    _g2000(
        "LSTM with forget gates and sequential α decay", 0.62, 14087, {"lr_decay": 0.99}, "6 % ⟨68,464⟩", "32 % ⟨30⟩"
    ),
    *MODERN,
)


def get(table: str, row: str) -> PaperResult:
    """The paper's row ``row`` of table ``table`` (KeyError if there is none)."""
    for r in RESULTS:
        if r.table == table and r.row == row:
            return r
    raise KeyError(f"no paper row {row!r} in table {table!r}")

"""The paper's result tables as declarative specifications (PAPER.md §4 Tables 1–9, the Task 2b text, §5).

One :class:`TableSpec` per table says everything the report needs to rebuild it beside our figures: its title
and file name, its rows (the presets whose ``table`` is its key), the paper's descriptor columns
(:class:`Descriptor`: method, lag, weights …), the label of the main "sequences until success" column, the
paired paper/ours statistics shown before and after it (:class:`Stat`: ST1, fractions misclassified, # wrong,
MSE …), table-specific notes and the figures it gets (:class:`Figure`). The report (lstm97.report) interprets
these fields; nothing here reads the store or builds a task or model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .presets import Preset

#: The paper's method names (Tables 1 and 2) by our model name; §5's random search is "RS".
METHODS: dict[str, str] = {
    "lstm": "LSTM",
    "rtrl": "RTRL",
    "rnn-bptt": "BPTT",
    "elman": "ELM",
    "rcc": "RCC",
    "chunker": "CH",
    "guess": "RS",
}


@dataclass(frozen=True)
class Descriptor:
    """A column that describes a row, as the paper's tables have before their results.

    ``kind`` says what it shows (the report formats each kind):

    * ``method``: the paper's name of the model (:data:`METHODS`);
    * ``hidden``: the hidden layer ("4 blocks, size 1" for LSTM, else the paper's or our count of hidden units);
    * ``weights``: the paper's number of weights, with ours beside it where it differs;
    * ``lr``: the learning rate (the paper's text where it gives a range or none, else ours);
    * ``param``: the task parameter ``arg``, formatted with ``fmt`` (``","``: thousands separators);
    * ``half``: the task parameter ``arg`` divided by 2 (the adding and multiplication problems' minimal lag);
    * ``ratio``: ``arg`` = ``"a/b"``, the ratio of two task parameters;
    * ``row``: the paper's name of the row (Table 9: 6a, 6b);
    * ``setting``: the task and every task parameter the preset names (§5, several tasks in one table);
    * ``arch``: the searched architecture of §5 (A1, A2, one unit).
    """

    label: str
    kind: str
    arg: str = ""
    fmt: str = ""


@dataclass(frozen=True)
class Stat:
    """A pair of columns ``paper: LABEL`` and ``ours: LABEL`` (``ours_label`` where ours is named otherwise).

    ``paper`` names the paper's figure: ``wrong`` (mean wrong test sequences), ``fraction wrong`` (that over the
    paper's test-set size) or a name of the row's ``PaperResult.extra`` (e.g. ``ST1``, ``MSE``). ``ours`` names
    our statistic of the row (a key of ``lstm97.report.reproduction.Row.stats``: ``milestone ST1``,
    ``frac_wrong``, ``abs_mean``, ``mse``), or ``wrong`` for the mean and max wrong test sequences. Test errors
    (``wrong``, ``frac_wrong``, ``abs_mean``, ``mse``) are over our successful tested trials, as the paper's are
    (it tests a net once its stopping criterion holds, and in Tables 4–9 all its trials met it); the report adds
    the figure over every tested trial where that differs. Both are formatted with ``fmt``; ``{n_test}`` in a
    label stands for the test-set size (the paper's in the paper's label, ours in ours).
    """

    label: str
    paper: str
    ours: str
    fmt: str = ",.0f"
    ours_label: str = ""


@dataclass(frozen=True)
class Figure:
    """A figure of a table: ``kind`` is ``sequences`` (every trial's sequences to success), ``curves`` (learning
    curves), ``lag`` (Exp 2c's learning time against the lag) or ``trace`` (the activations of one stored net
    over one test sequence). ``file`` is its name under figures/ ("": ``<kind>_<table stem>.png``; a trace is
    ``trace_<preset id>.png``). A trace draws the first of ``presets`` with a stored net, labelling the input
    units with ``inputs``. ``missing`` is shown in the figure's place when there is nothing to draw ("": nothing).
    """

    kind: str
    caption: str
    file: str = ""
    presets: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    missing: str = ""


#: The figures every table gets.
STANDARD_FIGURES = (Figure("sequences", "sequences to success"), Figure("curves", "learning curves"))


def _trace(presets: tuple[str, ...], inputs: tuple[str, ...] = ()) -> Figure:
    """The cell states and gate activations of a stored net of the first of ``presets`` that has one."""
    return Figure(
        "trace",
        "cell states and gates",
        presets=presets,
        inputs=inputs,
        missing=f"_No {'/'.join(presets)} trial with stored weights yet: the figure of cell states and gate "
        "activations needs trials whose records carry their final weights._",
    )


@dataclass(frozen=True)
class TableSpec:
    """One paper table: what the report shows (see the module docstring)."""

    key: str  # the presets' ``table``
    title: str
    stem: str  # file name of its CSV and LaTeX files
    descriptors: tuple[Descriptor, ...]
    main: str = "success after"  # the paper's label of its sequences column
    before: tuple[Stat, ...] = ()  # between the success rates and the sequences columns
    after: tuple[Stat, ...] = ()  # after our sequence statistics
    notes: tuple[str, ...] = ()  # after the stopping rule, before the rows' own notes
    figures: tuple[Figure, ...] = STANDARD_FIGURES

    @property
    def rows(self) -> list[Preset]:
        """The presets of this table, in the order of ``lstm97.paper.presets.PRESETS``."""
        from .presets import PRESETS

        return [p for p in PRESETS if p.table == self.key]


_METHOD = Descriptor("method", "method")
_WEIGHTS = Descriptor("# weights", "weights")
_LR = Descriptor("learning rate", "lr")
_T_N = (Descriptor("T", "param", "T"), Descriptor("N", "param", "N"), _WEIGHTS)
_ADDING = (Descriptor("T", "param", "T", ","), Descriptor("minimal lag", "half", "T", ","), _WEIGHTS)
_ST1 = Stat("ST1", "ST1", "milestone ST1", ours_label="ST1 (mean)")
_WRONG = Stat("# wrong (of {n_test:,})", "wrong", "wrong")

SPECS: dict[str, TableSpec] = {
    s.key: s
    for s in (
        TableSpec(
            "1",
            "Table 1. Exp 1, embedded Reber grammar",
            "table1",
            (_METHOD, Descriptor("hidden units", "hidden"), _WEIGHTS, _LR),
            figures=(*STANDARD_FIGURES, _trace(("1-5", "1-4", "1-3", "1-2", "1-1"), tuple("BTPSXVE"))),
        ),
        TableSpec(
            "2",
            "Table 2. Task 2a, noise-free sequences with long time lags",
            "table2",
            (_METHOD, Descriptor("delay p", "param", "p"), _LR, _WEIGHTS),
        ),
        TableSpec(
            "2b",
            "Task 2b, no local regularities (text, no table)",
            "table2b",
            (_METHOD, Descriptor("p", "param", "p"), _WEIGHTS),
        ),
        TableSpec(
            "CH92",
            "Schmidhuber 1992: the chunker's 20-step, 22-symbol experiment (validation of CH; not in the 1997 paper)",
            "chunker1992",
            (Descriptor("method", "method"), Descriptor("lag", "param", "lag"), _WEIGHTS),
        ),
        TableSpec(
            "3",
            "Table 3. Task 2c, very long lags, many distractors",
            "table3",
            (
                Descriptor("q (time lag − 1)", "param", "q", ","),
                Descriptor("p (# distractor symbols)", "param", "p", ","),
                Descriptor("q/p", "ratio", "q/p"),
                _WEIGHTS,
            ),
            figures=(
                *STANDARD_FIGURES,
                Figure("lag", "learning time against lag", file="exp2c_lag.png"),
                _trace(("2c-1", "2c-2")),  # p + 4 input units: drawn without names
            ),
        ),
        TableSpec(
            "4",
            "Table 4. Task 3a, 2-sequence problem",
            "table4",
            _T_N,
            main="stop: ST2",
            before=(_ST1,),
            after=(Stat("ST2: fraction misclassified", "fraction wrong", "frac_wrong", ".6f"),),
        ),
        TableSpec(
            "5",
            "Table 5. Task 3b, noisy information-carrying elements",
            "table5",
            _T_N,
            main="stop: ST2",
            before=(_ST1,),
            after=(Stat("ST2: fraction misclassified", "fraction wrong", "frac_wrong", ".6f"),),
        ),
        TableSpec(
            "6",
            "Table 6. Task 3c, noisy real-valued targets",
            "table6",
            _T_N,
            main="stop",
            after=(
                Stat("fraction misclassified", "fraction wrong", "frac_wrong", ".6f"),
                Stat("av. difference to mean", "av. difference to mean", "abs_mean", ".3f"),
            ),
            notes=(
                "Av. difference to mean: the mean over the tested trials of |output - noise-free target| on "
                "the 2560 test sequences; – when no tested trial has it (trials stored before lstm97 kept "
                "it).",
            ),
        ),
        TableSpec(
            "7",
            "Table 7. Exp 4, adding problem",
            "table7",
            _ADDING,
            after=(_WRONG,),
            figures=(*STANDARD_FIGURES, _trace(("4-1", "4-2", "4-3"), ("value", "marker"))),
        ),
        TableSpec(
            "8",
            "Table 8. Exp 5, multiplication problem",
            "table8",
            (*_ADDING, Descriptor("n_seq", "param", "n_seq")),
            after=(_WRONG, Stat("MSE (test)", "MSE", "mse", ".4f")),
        ),
        TableSpec(
            "9",
            "Table 9. Exp 6, temporal order",
            "table9",
            (Descriptor("task", "row"), _WEIGHTS),
            after=(_WRONG,),
            figures=(
                *STANDARD_FIGURES,
                _trace(("6a", "6b"), ("E", "B", "a", "b", "c", "d", "X", "Y")),  # Exp 6's symbols in unit order (§3.8)
            ),
        ),
        TableSpec(
            "RS",
            "§5. Random weight guessing (no table in the paper)",
            "guessing",
            (Descriptor("task", "setting"), Descriptor("architecture", "arch"), _WEIGHTS),
            main="guesses",
        ),
        TableSpec(
            "G2000-2",
            "Gers et al. 2000, Table 2. Continual embedded Reber grammar (not in the 1997 paper)",
            "gers2000_table2",
            (Descriptor("algorithm", "row"), _WEIGHTS),
            main="perfect after (training streams)",
            after=(
                Stat("% good ⟨length⟩", "good", "good"),
                Stat("% rest ⟨length⟩", "rest", "rest"),
            ),
            notes=(
                "Paper: % perfect (10 test streams of 100,000 symbols predicted without error) with the mean "
                "training streams; of the nets that are not perfect, 'good' ones predict their test streams "
                "without error for more than 1,000 symbols on average, the 'rest' for fewer; ⟨length⟩ is the "
                "class's mean error-free length. Ours: success = perfect; a net's mean error-free length is its "
                "test streams' length minus its test_mse (the mean count of symbols after each stream's first "
                "error); a net never tested (diverged) counts as rest, without a length.",
            ),
        ),
        TableSpec(
            "M16",
            "Le et al. 2015, Arjovsky et al. 2016: modern adding and copy tasks (not in the 1997 paper)",
            "modern",
            (Descriptor("task", "row"), Descriptor("T", "param", "T", ","), _WEIGHTS),
            after=(Stat("test error", "test error", "mse", ".4g", ours_label="test error (MSE or cross-entropy)"),),
            notes=(
                "Paper: whether their LSTM beat the task's memoryless baseline (adding: MSE 0.167; copy: "
                "cross-entropy 10·log 8/(T+20)), read off one learning curve per length, as a rate of 100 % or "
                "0 %. Their net is a modern LSTM (forget gates, full gradient, batches of 20; adding: 128 units, "
                "RMSProp 10⁻³; copy: 40 units). Ours: the 1997 LSTM under its own protocol (online, the "
                "truncated gradient; the descendants in the extended tables); success = the test error after the "
                "whole budget beats the same baseline.",
            ),
        ),
    )
}

#: Paper tables in report order: key -> title. "2b" is the Task 2b text (no table); "RS" is §5 (no table).
TABLES: dict[str, str] = {k: s.title for k, s in SPECS.items()}


def spec(key: str) -> TableSpec:
    """The specification of paper table ``key`` (a key of TABLES; KeyError if there is none)."""
    return SPECS[key]

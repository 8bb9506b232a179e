"""The evidence runs: ordinary ``lstm97 run`` configurations that test the accounts of the gaps (the report's
"Accounts of the gaps", lstm97.report.accounts, names them by the constants below).

Each run is data (task, model, the parameters that differ from the paper's defaults, a budget and a planned
number of trials), like a preset; ``lstm97.api.evidence_config`` resolves one to run it, and the report finds
its stored trials by comparing these settings with what the store records. None of these runs is the paper's
protocol: each changes one thing to test an explanation (PAPER.md section of the row it explains).

Evidence runs use their own seeds (from :data:`SEED`, far above any row's 0 … n-1), so that none is a copy of
the trials of the row it explains cut at another budget; runs that vary one setting share those seeds, so
they compare pairwise (the same data streams and initial weights drawn). The exceptions run at their row's
own budget and change one setting of it (the Gers et al. 2000 ones): they take the row's seeds, so that each
pairs with the row's trial of the same seed, as an ablation's variants do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .presets import run_command

#: The first seed of every evidence run.
SEED = 1000


@dataclass(frozen=True)
class Evidence:
    """A run that tests an account's explanation: ``lstm97 run TASK -p ... --model MODEL --hp ...``."""

    label: str
    task: str
    task_params: dict[str, Any]
    model: str = "lstm"
    model_params: dict[str, Any] = field(default_factory=dict)
    max_sequences: int | None = None  # None: the task's paper budget
    trials: int = 2
    seed: int = SEED  # the first seed: independent of the rows' trials

    def settings(self) -> tuple[dict[str, Any], dict[str, Any], int | None, int]:
        """(task parameters, model hyperparameters, budget or None for the task's, trials), as
        :meth:`lstm97.paper.presets.Preset.settings`."""
        return dict(self.task_params), dict(self.model_params), self.max_sequences, self.trials

    def command(self, store: str = "lstm97.sqlite", trials: int | None = None) -> str:
        """The ``lstm97 run`` command of this run (``trials`` overrides the planned number)."""
        return run_command(
            self.task,
            self.task_params,
            self.model,
            self.model_params,
            self.trials if trials is None else trials,
            self.max_sequences,
            store,
            self.seed,
        )


#: Exp 1 (§3.1): 1-5 with the weight updates summed over each string instead of applied at every step (§1.9).
REBER_SEQUENCE_UPDATE = Evidence(
    "1-5 with updates summed over each string (update=sequence)",
    "reber",
    {},
    model_params={"blocks": 3, "block_size": 2, "out_gate_bias": (-1.0, -2.0, -3.0), "lr": 0.5, "update": "sequence"},
    trials=10,
)

#: Task 2a (§3.2) at shorter lags p, the paper's settings otherwise: how the cost grows with p.
LAGS_2A = tuple(
    Evidence(f"2a p={p} (paper settings otherwise), budget 300,000", "long-lag", {"p": p}, max_sequences=300_000)
    for p in (4, 10, 20, 50)
)

#: Task 2a and 2b with the centred cell input g2 in [-2, 2] (PAPER.md §1.2; the paper's 2a/2b net uses g1).
G2_2A = Evidence(
    "2a p=100 with g in [-2, 2] (g2; not the paper's g)",
    "long-lag",
    {"p": 100},
    model_params={"g": "g2"},
    max_sequences=300_000,
)
G2_2B = Evidence(
    "2b p=100 with g in [-2, 2] (g2; not the paper's g)",
    "long-lag",
    {"p": 100, "variant": "b"},
    model_params={"g": "g2"},
    max_sequences=300_000,
)

#: Task 2c (§3.4) at q = p = 100: the paper's bias-free net, and two negative input-gate biases (§1.8's remedy
#: for cell-state drift).
DRIFT_2C = (
    Evidence(
        "2c q=p=100 at the paper's settings, budget 500,000",
        "long-lag-distractors",
        {"q": 100, "p": 100},
        max_sequences=500_000,
        trials=4,
    ),
    Evidence(
        "2c q=p=100 with gate biases, input gates -1 and -2 (not the paper's)",
        "long-lag-distractors",
        {"q": 100, "p": 100},
        model_params={"bias": "gates", "in_gate_bias": (-1.0, -2.0)},
        max_sequences=500_000,
        trials=4,
    ),
    Evidence(
        "2c q=p=100 with gate biases, input gates -3 and -6 (not the paper's)",
        "long-lag-distractors",
        {"q": 100, "p": 100},
        model_params={"bias": "gates", "in_gate_bias": (-3.0, -6.0)},
        max_sequences=500_000,
        trials=4,
    ),
)

#: The Exp 2a RTRL net (§2, Table 2), as the presets give it.
_NET_2A = dict(arch="layered", hidden=1, recurrence="self", skip=True, bias=False, act="logistic", init=0.2)

#: Baselines (issue: their accounts). Exp 2a RTRL at p=4 with the other reading of the UNSPECIFIED timing: the
#: outputs see the hidden unit's current value instead of its previous one (all units updated synchronously).
RTRL_P4_TIMING = tuple(
    Evidence(
        f"RTRL p=4 lr {lr:g} with the outputs seeing the hidden unit's current value (outputs_see=current)",
        "long-lag",
        {"p": 4},
        model="rtrl",
        model_params={**_NET_2A, "lr": lr, "update": "step", "outputs_see": "current"},
        trials=10,
    )
    for lr in (1.0, 4.0, 10.0)
)

#: Exp 1's Elman net (§2: the paper gives no learning rate; the row uses 0.1): other learning rates.
ELMAN_LR = tuple(
    Evidence(
        f"Elman net, lr {lr:g} (the row: 0.1)",
        "reber",
        {},
        model="elman",
        model_params=dict(
            arch="layered", hidden=15, recurrence="full", bias=False, act="logistic", init=0.2, lr=lr, truncate=1
        ),
        trials=10,
    )
    for lr in (0.02, 0.5)
)

#: Exp 2a RTRL at p=10 (the paper tried lr 1.0-10.0 at p=10; the row uses 1.0).
RTRL_P10_LR = tuple(
    Evidence(
        f"RTRL p=10 lr {lr:g} (the row: 1.0)",
        "long-lag",
        {"p": 10},
        model="rtrl",
        model_params={**_NET_2A, "lr": lr, "update": "step"},
        trials=10,
    )
    for lr in (4.0, 10.0)
)

#: Gers et al. 2000's Table 2 (PAPER.md §11.1): the net of cerg-decay and cerg-forget-decay, changed in the one
#: point PAPER.md leaves open. These runs take the rows' own seeds 0 ... 19 at the rows' budget (the ablations
#: ``lstm97 ablate cerg-decay --vary state_decay_traces=false`` and ``lstm97 ablate cerg-forget-decay --vary
#: lr_decay_every=10,100,1000`` store the same trials): each trial pairs with the row's trial of its seed (same
#: streams, same initial weights) and differs from it only in that point, so it is no copy of the row's.
_CERG = dict(forget_gate=False, forget_gate_bias=None)
CERG_DECAY_TRACES = Evidence(
    "cerg-decay with the 1997 traces (state_decay_traces=false: the state decays, the traces do not)",
    "reber-continual",
    {"stream": 100_000},
    model_params={**_CERG, "state_decay": 0.9, "state_decay_traces": False},
    max_sequences=30_000,
    trials=20,
    seed=0,
)
CERG_LR_DECAY_EVERY = tuple(
    Evidence(
        f"cerg-forget-decay with lr x 0.99 after every {every:,} training streams (the row: every stream)",
        "reber-continual",
        {"stream": 100_000},
        model_params={"lr_decay": 0.99, "lr_decay_every": every},
        max_sequences=30_000,
        trials=20,
        seed=0,
    )
    for every in (10, 100, 1000)
)

#: Every evidence run, in the order the report's accounts cite them.
RUNS: tuple[Evidence, ...] = (
    REBER_SEQUENCE_UPDATE,
    *LAGS_2A,
    G2_2A,
    G2_2B,
    *DRIFT_2C,
    CERG_DECAY_TRACES,
    *CERG_LR_DECAY_EVERY,
    *RTRL_P4_TIMING,
    *ELMAN_LR,
    *RTRL_P10_LR,
)

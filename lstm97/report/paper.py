"""The paper's reported numbers as data, with their table, row and a flag for uncertain values.

Source: PAPER.md §4 (the 1997 paper's Tables 1–9). ``find`` matches a stored configuration to the rows whose
task, model and listed task parameters agree.
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
    trials: int
    success_rate: float | None  # fraction of successful trials
    sequences: float | None  # mean sequences until success ("success after")
    wrong: float | None = None  # mean wrong test predictions
    n_test: int | None = None
    weights: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    uncertain: bool = False
    note: str = ""


RESULTS: tuple[PaperResult, ...] = (
    PaperResult("7", "4-1", "adding", {"T": 100}, "lstm", 10, 1.0, 74_000, 1, 2560, 93,
                note="PAPER.md §4 Table 7; restated in [PT]"),
    PaperResult("7", "4-2", "adding", {"T": 500}, "lstm", 10, 1.0, 209_000, 0, 2560, 93,
                note="PAPER.md §4 Table 7"),
    PaperResult("7", "4-3", "adding", {"T": 1000}, "lstm", 10, 1.0, 853_000, 1, 2560, 93,
                extra={"min": 370_000, "max": 2_020_000}, note="PAPER.md §4 Table 7 and text"),
)


def find(task: str, params: dict[str, Any], model: str) -> PaperResult | None:
    """The paper's row for this configuration, if it reports one."""
    for r in RESULTS:
        if r.task == task and r.model == model and all(params.get(k) == v for k, v in r.params.items()):
            return r
    return None

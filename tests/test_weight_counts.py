"""Every weight count of PAPER.md §4 / Table 10, through the public path tasks.make + models.make."""

import pytest

from lstm97 import models, tasks

CASES = [
    ("reber", {}, {"blocks": 4, "block_size": 1, "out_gate_bias": (-1, -2, -3, -4)}, 264),  # 1-1, 1-4
    ("reber", {}, {}, 276),  # 1-2, 1-3, 1-5
    ("long-lag", {"p": 100, "variant": "a"}, {}, 10504),  # 2a
    ("long-lag", {"p": 100, "variant": "b"}, {}, 10504),  # 2b
    *[("long-lag-distractors", {"q": 1000, "p": p}, {}, 6 * p + 64) for p in (50, 100, 200, 500, 1000)],  # 2c
    ("long-lag-distractors", {"q": 50, "p": 50}, {}, 364),
    ("two-sequence", {"noise": "none"}, {}, 102),  # 3a
    ("two-sequence", {"noise": "signal"}, {}, 102),  # 3b
    ("two-sequence", {"noise": "target"}, {}, 102),  # 3c
    ("adding", {"T": 100}, {}, 93),  # 4-1..4-3
    ("adding", {"T": 1000}, {}, 93),
    ("multiplication", {}, {}, 93),  # 5
    ("temporal-order", {"marks": 2}, {}, 156),  # 6a
    ("temporal-order", {"marks": 3}, {}, 308),  # 6b
]


@pytest.mark.parametrize("task, params, hp, weights", CASES)
def test_paper_weight_count(task, params, hp, weights):
    assert models.make("lstm", tasks.make(task, **params), **hp).n_weights == weights

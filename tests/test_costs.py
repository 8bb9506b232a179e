"""Cost estimates from measured rates (lstm97.paper.costs): the fit, the scaling from a sibling, the table."""

from __future__ import annotations

import pytest

from lstm97 import api
from lstm97.paper import costs
from lstm97.paper.presets import PRESETS, get


def test_fit_separates_the_fixed_part_from_the_loop():
    seqs = [1_000, 5_000, 20_000, 80_000]
    walls = [2.0 + 0.5 * s / 1000 for s in seqs]
    r = costs.fit("x", "paper", seqs, walls, steps=10.0)
    assert r.fixed_s == pytest.approx(2.0)
    assert r.per_1000_s == pytest.approx(0.5)
    assert r.seconds(40_000) == pytest.approx(22.0)
    assert r.trials == 4 and r.mean_sequences == pytest.approx(26_500)


def test_trials_of_one_length_count_everything_as_loop():
    r = costs.fit("x", "paper", [5_000_000] * 3, [100.0, 110.0, 90.0], steps=1.0)
    assert r.fixed_s == 0.0
    assert r.seconds(5_000_000) == pytest.approx(100.0)
    assert costs.fit("x", "paper", [], [], steps=1.0) is None


def test_a_negative_intercept_falls_back_to_the_mean_rate():
    r = costs.fit("x", "paper", [1_000, 2_000, 10_000], [0.1, 5.0, 10.0], steps=1.0)
    assert r.fixed_s >= 0.0 and r.per_1000_s > 0.0


def _rates(*rows):
    return {(r.id, r.mode): r for r in rows}


def test_estimate_uses_the_rows_own_rates_and_its_trials_mean():
    p = get("4-1")
    own = costs.Rate("4-1", "paper", 10, 1.0, 2.0, 5_000.0, 100.0)
    e = costs.estimate(p, False, None, None, rates=_rates(own))
    assert e.seconds == pytest.approx(11.0) and e.basis == "measured (10 trials)"
    capped = costs.estimate(p, False, None, None, budget=1_000, rates=_rates(own))
    assert capped.seconds == pytest.approx(3.0)


def test_an_unmeasured_row_is_scaled_from_its_sibling_by_kernel_time():
    sib = costs.Rate("4-1", "paper", 10, 1.0, 2.0, 5_000.0, 100.0)
    other = costs.Rate("4-2", "paper", 10, 1.0, 2.0, 5_000.0, 500.0)
    p = get("4-3")  # adding T=1000: nearest in steps is 4-2
    kernel = {"4-3": 3.0, "4-2": 1.0, "4-1": 0.5}
    e = costs.estimate(p, False, lambda q, quick: 1000.0, lambda q, quick: kernel[q.id], rates=_rates(sib, other))
    assert e.basis == "scaled from 4-2 by kernel time"
    assert e.seconds == pytest.approx((1.0 + 2.0 * p.expect / 1000) * 3.0)


def test_without_sibling_the_rough_speed_is_said():
    p = get("6b")
    e = costs.estimate(p, False, None, None, rates={})
    assert e.basis.startswith("rough") and e.seconds == pytest.approx(p.speed * p.expect / 1000)


def test_published_rates_name_presets_and_are_positive():
    ids = {p.id for p in PRESETS}
    table = costs.table()
    assert table, "lstm97/paper/costs.csv is missing"
    for (pid, mode), r in table.items():
        assert pid in ids and mode in ("paper", "quick")
        assert r.per_1000_s > 0 and r.fixed_s >= 0 and r.trials > 0 and r.steps > 0


def test_preset_estimate_of_a_measured_row_needs_no_measuring():
    p = next(get(pid) for (pid, mode) in costs.table() if mode == "paper")
    e = api.preset_estimate(p)
    assert e.basis.startswith("measured") and e.seconds > 0


def test_a_kernel_compiled_during_the_measurement_does_not_count(monkeypatch):
    """The LSTM switches to its specialised kernel (compiled, or loaded from numba's cache) in the middle of a
    process: a one-off pause in one timed call must not become the kernel's time per sequence."""
    import time

    from lstm97.runners import trial

    warmed = trial.warm_up(api.preset_config(get("6a"), quick=True))
    task, model, state, rng = warmed
    calls = []
    real = model.train_chunk

    def pausing(s, batch):
        calls.append(len(batch))
        if len(calls) == 1:  # the first timed call (budget 0: also the last size)
            time.sleep(0.5)
        return real(s, batch)

    monkeypatch.setattr(model, "train_chunk", pausing)
    monkeypatch.setattr(trial, "warm_up", lambda cfg: (task, model, state, rng))
    per = api.seconds_per_sequence(api.preset_config(get("6a"), quick=True), budget_seconds=0.0)
    assert calls == [4, 4]
    assert per < 0.25 / 4  # not the pause (0.5 s over 4 sequences)

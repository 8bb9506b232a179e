"""Stopping rules on hand-made error/correctness streams, and their chunk invariance."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm97.tasks.criteria import WindowRule, all_correct, st3


def first_hold_bruteforce(rule, errors, correct):
    for j in range(rule.window - 1, len(errors)):
        win = slice(j + 1 - rule.window, j + 1)
        if (~correct[win]).sum() <= rule.max_wrong and (
            math.isinf(rule.max_mean_error) or errors[win].mean() < rule.max_mean_error
        ):
            return j
    return -1


def scan_in_chunks(rule, errors, correct, sizes):
    state, pos = rule.start(), 0
    for size in sizes:
        hit = rule.scan(state, errors[pos : pos + size], correct[pos : pos + size])
        if hit >= 0:
            return pos + hit
        pos += size
        if pos >= len(errors):
            break
    return -1


def test_st3_needs_full_window_all_correct_and_low_mean():
    rule = st3(0.01, window=5)
    correct = np.array([1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1], bool)
    errors = np.full(12, 0.001)
    errors[:5] = 0.02  # first full window is all correct but its mean error is too high
    assert scan_in_chunks(rule, errors, correct, [12]) == 10  # window 6..10 all correct, mean 0.001


def test_window_rule_counts_wrong():
    rule = WindowRule(window=4, max_wrong=1)
    correct = np.array([0, 0, 1, 0, 1, 1, 0], bool)
    assert scan_in_chunks(rule, np.zeros(7), correct, [7]) == 5  # window 2..5 has one wrong


def test_rule_never_holds_before_window():
    rule = WindowRule(window=10)
    assert scan_in_chunks(rule, np.zeros(9), np.ones(9, bool), [9]) == -1


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    window=st.integers(1, 30),
    max_wrong=st.integers(0, 3),
    beta=st.sampled_from([math.inf, 0.3, 0.5]),
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=30),
)
def test_chunked_scan_equals_bruteforce(seed, window, max_wrong, beta, sizes):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    correct = rng.random(n) < 0.9
    errors = rng.random(n)
    rule = WindowRule(window, max_wrong, beta)
    assert scan_in_chunks(rule, errors, correct, sizes) == first_hold_bruteforce(rule, errors, correct)


@pytest.mark.parametrize("beta", [0.01, 0.1])
def test_st3_name(beta):
    assert st3(beta).name == f"ST3({beta:g})" and st3(beta).window == 2000


@pytest.mark.parametrize("sizes", [[25_000], [1] * 50 + [24_950], [256] * 98, [9_999, 1, 1, 15_000], [4096] * 7])
def test_exp2_window_stops_at_the_first_10000_correct_in_a_row(sizes):
    """Exp 2 ``success=window``: all_correct(10_000) holds at the first sequence that completes 10,000
    correct training sequences in a row (hand-made: the last wrong one at index 7_321 -> stop at 17_321)."""
    rule = all_correct(10_000, name="w")
    assert (rule.window, rule.max_wrong, rule.max_mean_error, rule.name) == (10_000, 0, math.inf, "w")
    correct = np.ones(25_000, bool)
    correct[[0, 17, 5_000, 7_321]] = False
    errors = np.full(25_000, 9.9)  # the error is not looked at
    assert scan_in_chunks(rule, errors, correct, sizes) == 7_321 + 10_000
    correct[:] = True  # all correct from the start: the first full window, sequence 10,000 (index 9,999)
    assert scan_in_chunks(rule, errors, correct, sizes) == 9_999
    correct[[9_998, 19_998]] = False  # every full window (ending at 9_999..24_999) holds one of them
    assert scan_in_chunks(rule, errors, correct, sizes) == -1
    correct[19_998] = True  # the window 9_999..19_998 is the first without a wrong one
    assert scan_in_chunks(rule, errors, correct, sizes) == 9_998 + 10_000

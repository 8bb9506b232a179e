"""The continual embedded Reber grammar (PAPER.md §11.1): the stream is embedded Reber strings back to back, the
two-hot targets are exactly the grammar's legal next symbols, ``info["reset"]`` marks the string starts, the error
counts the symbols after the first wrong one, streams halt there in the LSTM (and only the LSTM takes the task), and
a short trial runs through the runner with the 10-stream test."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm97 import models, tasks
from lstm97.errors import Incompatible
from lstm97.runners import TrialConfig
from lstm97.runners.trial import run_trial
from lstm97.tasks.reber import EDGES, SYMBOLS
from lstm97.tasks.reber_continual import ReberContinual, decode


def _legal_after(stream: str) -> list[set[str]]:
    """The legal next symbols after every symbol of ``stream``, by running the grammar over it."""
    out: list[set[str]] = []
    phase, node, outer = 0, 0, ""
    for sym in stream:
        if phase == 0:
            assert sym == "B"
            out.append({"T", "P"})
            phase = 1
        elif phase == 1:
            assert sym in "TP"
            outer = sym
            out.append({"B"})
            phase = 2
        elif phase == 2:
            assert sym == "B"
            out.append({SYMBOLS[s] for s, _ in EDGES[0]})
            node, phase = 0, 3
        elif phase == 3:
            nxt = {SYMBOLS[s]: to for s, to in EDGES[node]}
            assert sym in nxt, (sym, node)
            node = nxt[sym]
            out.append({"E"} if node == 3 else {SYMBOLS[s] for s, _ in EDGES[node]})
            if node == 3:
                phase = 4
        elif phase == 4:
            assert sym == "E"
            out.append({outer})
            phase = 5
        elif phase == 5:
            assert sym == outer
            out.append({"E"})
            phase = 6
        else:
            assert sym == "E"
            out.append({"B"})
            phase = 0
    return out


def test_the_stream_is_embedded_reber_strings_with_two_hot_legal_targets():
    task = tasks.make("reber-continual", stream=3000)
    b = task.sample(np.random.default_rng(0), 3)
    assert b.inputs.shape == (3, 3000, 7) and b.mask.all() and (b.lengths == 3000).all()
    for i in range(3):
        stream = decode(b, i)
        assert np.array_equal(b.inputs[i].argmax(axis=1), b.info["active"][i])
        legal = _legal_after(stream)
        got = [{SYMBOLS[k] for k in np.nonzero(b.targets[i, t])[0]} for t in range(3000)]
        assert got == legal
        starts = [m.start() for m in re.finditer("(?:(?<=E)|^)B", stream)]
        assert np.nonzero(b.info["reset"][i])[0].tolist() == starts
    two = (b.targets.sum(axis=2) == 2).mean()
    assert 0.3 < two < 0.8  # the inner walk's branches and the outer T|P: many steps have two legal symbols


def test_chunk_invariant_sampling():
    task = tasks.make("reber-continual", stream=200)
    one = task.sample(np.random.default_rng(4), 5)
    rng = np.random.default_rng(4)
    many = [task.sample(rng, 1) for _ in range(5)]
    assert all(np.array_equal(one.inputs[i], m.inputs[0]) for i, m in enumerate(many))


def test_error_is_the_symbols_after_the_first_mistake():
    task = tasks.make("reber-continual", stream=100)
    b = task.sample(np.random.default_rng(1), 3)
    out = b.targets.copy()
    out[0, 40, 2] = 0.5  # off by 0.5 >= 0.49 (or 0.5) at step 40
    out[1, 10, 0] = np.nan
    out[2] = np.where(b.targets[2] > 0, 0.52, 0.48)  # every output within 0.49 of its target
    assert task.error_free(b, out).tolist() == [40, 10, 100]
    assert task.error(b, out).tolist() == [60.0, 90.0, 0.0]
    assert task.correct(b, out).tolist() == [False, False, True]


def _reference_error_free(self, batch, outputs):
    """ReberContinual.error_free before its scan (the definition over whole arrays; benchmarks/bench_tasks.py)."""
    ok = (np.abs(batch.targets - outputs) < self.tolerance).all(axis=2) & batch.mask
    inside = np.arange(batch.mask.shape[1])[None, :] < batch.lengths[:, None]
    bad = inside & ~ok
    return np.where(bad.any(axis=1), bad.argmax(axis=1), batch.lengths).astype(np.int64)


_SAMPLE = ReberContinual.sample  # the current sampler, even when a benchmark swaps in the reference


def _reference_sample(self, rng, n):
    """ReberContinual.sample with its dense inputs built at once, as before streams were sparse."""
    batch = _SAMPLE(self, rng, n)
    return tasks.SequenceBatch(batch.inputs, batch.targets, batch.mask, batch.lengths, batch.info)


def test_streams_are_sparse_and_the_error_scan_is_the_array_definition():
    """Streams hold no dense inputs (the one-hot path's indices only); error_free, a scan that stops at the
    first wrong step, equals its definition over whole arrays."""
    task = tasks.make("reber-continual", stream=500)
    b = task.sample(np.random.default_rng(2), 6)
    assert b.sparse and "inputs" not in b.stored()
    rng = np.random.default_rng(3)
    for trial in range(40):
        out = b.targets + rng.uniform(-0.6, 0.6, b.targets.shape) * (rng.random(b.targets.shape) < 0.002 * trial)
        if trial % 4 == 0:
            out[rng.integers(6), rng.integers(500), rng.integers(7)] = np.nan
        assert task.error_free(b, out).tolist() == _reference_error_free(task, b, out).tolist()
    assert np.array_equal(b.inputs.argmax(axis=2), b.info["active"]) and (b.inputs.sum(axis=2) == 1).all()
    dense = _reference_sample(task, np.random.default_rng(2), 6)
    assert not dense.sparse and np.array_equal(dense.inputs, b.inputs)


def test_only_a_model_that_halts_takes_the_task():
    task = tasks.make("reber-continual", stream=50)
    for name in ("gru", "rtrl", "rnn-bptt", "elman"):
        with pytest.raises(Incompatible, match="halting each sequence"):
            models.make(name, task)
    with pytest.raises(Incompatible, match="gradient=truncated"):
        models.make("lstm", task, gradient="full", update="sequence", outputs_see_inputs=False)


@pytest.mark.kernel
def test_the_lstm_halts_each_stream_at_its_first_wrong_symbol():
    task = tasks.make("reber-continual", stream=500)
    model = models.make("lstm", task)
    state = model.init_state(np.random.default_rng(0))
    b = task.sample(np.random.default_rng(2), 4)
    res = model.train_chunk(state, b)
    prefix = task.error_free(b, res.outputs)
    assert res.stops.tolist() == (prefix + 1).tolist()  # trained on the wrong symbol, then stopped
    for i, s in enumerate(res.stops):
        assert (res.outputs[i, s:] == 0).all()  # not computed
    assert (model.predict(state, b)[np.arange(4), 0] > 0).all()


@pytest.mark.kernel
@pytest.mark.parametrize(
    "hp", [{}, {"forget_gate": False, "forget_gate_bias": None, "external_reset": True}, {"lr_decay": 0.99}]
)
def test_a_short_trial_is_chunk_invariant(hp):
    cfg = TrialConfig.resolve("reber-continual", {"stream": 200}, "lstm", hp, max_sequences=60)
    a, b = run_trial(cfg, 1, chunk=1), run_trial(cfg, 1, chunk=50)
    assert a["weights"].tobytes() == b["weights"].tobytes() and a["sequences"] == b["sequences"]
    assert a["n_test"] == 10 and a["stop_rule"] == "10 test streams correct"
    assert 0 <= a["test_mse"] <= 200 and a["test_wrong"] <= 10


@pytest.mark.parametrize("gen", [np.random.PCG64, np.random.MT19937])
@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), steps=st.integers(1, 59), seed=st.integers(0, 2**32 - 1))
def test_a_prefix_is_the_streams_first_symbols_and_skips_the_rest(gen, n, steps, seed):
    task = ReberContinual(stream=60)
    whole_rng, part_rng = np.random.Generator(gen(seed)), np.random.Generator(gen(seed))
    whole, part = task.sample(whole_rng, n), task.sample_prefix(part_rng, n, steps)
    for k in ("active", "reset"):
        assert (part.info[k] == whole.info[k][:, :steps]).all()
    assert (part.targets == whole.targets[:, :steps]).all() and (part.lengths == steps).all()
    assert whole_rng.random() == part_rng.random()  # the generator stands where sample leaves it


def _counting(monkeypatch):
    """Count the streams drawn whole and by prefix length."""
    calls: dict = {}
    prefix, whole = ReberContinual.sample_prefix, ReberContinual.sample

    def sample_prefix(self, rng, n, steps):
        calls[steps] = calls.get(steps, 0) + n
        return prefix(self, rng, n, steps)

    def sample(self, rng, n):
        calls["whole"] = calls.get("whole", 0) + n
        return whole(self, rng, n)

    monkeypatch.setattr(ReberContinual, "sample_prefix", sample_prefix)
    monkeypatch.setattr(ReberContinual, "sample", sample)
    return calls


def test_trying_prefixes_first_gives_the_trial_of_whole_streams(monkeypatch):
    """Prefixes are an execution detail: with streams first run 4 symbols, then 16, then whole (training and
    checks), the record is the one of whole streams throughout, including streams that outlive both prefixes."""
    from lstm97.tasks import reber_continual

    cfg = TrialConfig.resolve("reber-continual", {"stream": 40}, "lstm", {}, max_sequences=3000)
    calls = _counting(monkeypatch)
    monkeypatch.setattr(reber_continual, "PREFIXES", (4, 16))
    tried = run_trial(cfg, 2)
    escalated = dict(calls)
    monkeypatch.setattr(reber_continual, "PREFIXES", ())
    whole = run_trial(cfg, 2)
    for k, v in whole.items():
        if k != "wall_time":
            assert np.array_equal(tried[k], v) if isinstance(v, np.ndarray) else tried[k] == v, k
    # 3,000 training streams and 10 test streams after each, 4 symbols first; some went on to 16 symbols and
    # some beyond (drawn whole: more than the final test's 10 and the runner's 4-stream size probe)
    assert escalated[4] == 3000 * 11 and escalated[16] > 1000 and escalated["whole"] > 14


def test_the_paper_streams_with_the_default_prefixes_give_the_same_trial(monkeypatch):
    from lstm97.tasks import reber_continual

    cfg = TrialConfig.resolve("reber-continual", {}, "lstm", {"forget_gate": False, "forget_gate_bias": None}, 40)
    tried = run_trial(cfg, 0)
    monkeypatch.setattr(reber_continual, "PREFIXES", ())
    whole = run_trial(cfg, 0)
    assert tried["weights"].tobytes() == whole["weights"].tobytes()
    same = ("sequences", "test_mse", "curve")
    assert [tried[k] for k in same] == [whole[k] for k in same]


def test_the_contract_catches_a_prefix_that_leaves_the_generator_elsewhere(monkeypatch):
    from lstm97.tasks import reber_continual
    from lstm97.tasks.checks import ContractError, task_checks

    def no_skip(self, rng, n, steps):  # the last stream's rest is not skipped
        u = np.empty((n, steps))
        for i in range(n):
            rng.random(out=u[i])
            if i < n - 1:
                rng.bit_generator.advance(self.params["stream"] - steps)
        return self._streams(u)

    monkeypatch.setattr(reber_continual, "PREFIXES", (10,))
    check = {c.name: c for c in task_checks(ReberContinual(stream=60))}["prefixes"]
    check()  # the task's own passes
    monkeypatch.setattr(ReberContinual, "sample_prefix", no_skip)
    check = {c.name: c for c in task_checks(ReberContinual(stream=60))}["prefixes"]
    with pytest.raises(ContractError, match="must leave rng where sample"):
        check()


def test_prefixes_in_lanes_give_the_trials_of_one_at_a_time(monkeypatch):
    from lstm97.runners.lanes import run_lanes
    from lstm97.tasks import reber_continual

    monkeypatch.setattr(reber_continual, "PREFIXES", (4, 16))
    cfg = TrialConfig.resolve("reber-continual", {"stream": 40}, "lstm", {}, max_sequences=1500)
    got: dict = {}
    run_lanes(cfg, [0, 1, 2], 2, lambda i, r: got.__setitem__(i, r))
    for i in range(3):
        alone = run_trial(cfg, i)
        assert got[i]["weights"].tobytes() == alone["weights"].tobytes()
        assert [got[i][k] for k in ("sequences", "test_mse", "curve")] == [
            alone[k] for k in ("sequences", "test_mse", "curve")
        ]

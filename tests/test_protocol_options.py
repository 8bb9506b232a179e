"""The authors' own protocol choices as options (PAPER.md §10), each off by default.

* Reber ``targets=next|legal`` (§3.1, §9; IDSIA generator §10.2): the target encoding.
* Reber ``order=random|file`` (Table 11 "t1"; JKU simulator §10.1): how exemplars come from the training set.
* Reber ``success=top-k|abs`` and ``beta`` (§3.1; JKU §10.1, IDSIA §10.2): the misclassification rule.
* long-lag / long-lag-distractors ``success=frozen|window`` (§3.2–§3.4): the reading of "10,000 successive
  randomly chosen sequences".

The defaults must give what the package gave before the options existed: the digests below were computed
with the tree before the change (same seeds, same calls).
"""

import hashlib

import numpy as np
import pytest
from reference.batches import assert_chunk_invariant

from lstm97 import tasks
from lstm97.checks import check_task
from lstm97.errors import UserError
from lstm97.models.rtrl import RTRL
from lstm97.runners import TrialConfig, run_trial
from lstm97.seeding import streams
from lstm97.tasks.base import Protocol
from lstm97.tasks.criteria import EvalRule, WindowRule, all_correct
from lstm97.tasks.reber import Reber, decode


def digest(batch) -> str:
    h = hashlib.sha256()
    for k, v in sorted(batch.arrays().items()):
        h.update(k.encode())
        h.update(np.ascontiguousarray(v).tobytes())
    return h.hexdigest()[:16]


# -- the defaults are what they were --------------------------------------------------------------------


def test_default_sequences_are_unchanged():
    reber = tasks.make("reber")
    assert digest(reber.sample(np.random.default_rng(7), 300)) == "8089d038edb79290"
    train, test = reber.fixed_sets(np.random.default_rng(1), np.random.default_rng(2))
    assert (digest(train), digest(test)) == ("8ac7524b01ff2019", "581f86abf39d0925")
    rng = np.random.default_rng
    assert digest(tasks.make("long-lag", p=10).sample(rng(7), 300)) == "fdc9437854385509"
    assert digest(tasks.make("long-lag", p=10, variant="b").sample(rng(7), 300)) == "60d843c901674eab"
    assert digest(tasks.make("long-lag-distractors", q=10, p=5).sample(rng(7), 300)) == "a290df30cec968f3"
    # the explicit defaults are the same task
    explicit = tasks.make("reber", targets="next", order="random")
    assert digest(explicit.sample(rng(7), 300)) == "8089d038edb79290"


@pytest.mark.parametrize(
    "task, params, defaults",
    [
        ("reber", {}, {"targets": "next", "order": "random", "success": "top-k", "beta": 0.5}),
        ("long-lag", {"p": 4}, {"success": "frozen"}),
        ("long-lag-distractors", {"q": 5, "p": 3}, {"success": "frozen"}),
    ],
)
def test_default_keys_are_unchanged(task, params, defaults):
    keys = {
        "reber": "359429f9c65d7fd6",
        "long-lag": "e3ee5ad1ec4d36f8",
        "long-lag-distractors": "1797bddaa18394e2",
    }
    cfg = TrialConfig.resolve(task, params, "lstm", {})
    explicit = TrialConfig.resolve(task, {**params, **defaults}, "lstm", {})
    assert cfg.key() == explicit.key() == keys[task]
    assert cfg.task_args == explicit.task_args == params


def test_default_protocols_are_unchanged():
    proto = tasks.make("long-lag").protocol()
    assert proto.stop == EvalRule(every=100, fresh=10_000, name="ABS(0.25) on 10000")
    assert proto.description == (
        "after every 100 training sequences, test 10,000 fresh sequences: success when the max absolute error "
        "is < 0.25 at every step in all of them"
    )
    proto = tasks.make("long-lag-distractors").protocol()
    assert proto.stop == EvalRule(every=1000, fresh=10_000, name="ABS(0.2) on 10000")
    assert proto.description == (
        "after every 1000 training sequences, test 10,000 fresh sequences: success when the absolute error at "
        "the end is < 0.2 on both outputs in all of them"
    )
    proto = tasks.make("reber").protocol()
    assert proto.order == "random"
    assert proto.description == (
        "every symbol of every training and test string predicted correctly, checked after every 256 training "
        "strings drawn at random from the 256-string set"
    )


class _Recorder:
    """Records the batches a model trains on (by monkeypatching its class's train_chunk)."""

    def __init__(self, monkeypatch, cls):
        self.batches = []
        train_chunk = cls.train_chunk

        def record(model, state, batch):
            self.batches.append(batch)
            return train_chunk(model, state, batch)

        monkeypatch.setattr(cls, "train_chunk", record)


def test_default_reber_exemplars_are_the_same_random_draws(monkeypatch):
    """order=random draws exemplar indices floor(256 u) from the training stream, after the fixed sets,
    exactly as before (digest of the trained symbols from the tree before the option)."""
    rec = _Recorder(monkeypatch, RTRL)
    cfg = TrialConfig.resolve("reber", {}, "rtrl", {}, max_sequences=700, n_test=10)
    out = run_trial(cfg, seed=5, chunk=100)
    assert out["status"] == "budget"
    h = hashlib.sha256()
    for b in rec.batches:
        h.update(np.ascontiguousarray(b.inputs.argmax(axis=2) * b.mask + 0).tobytes())
        h.update(np.ascontiguousarray(b.lengths).tobytes())
    assert h.hexdigest()[:16] == "d9ef05d192380ae7"
    rng = streams(5)
    task = tasks.make("reber")
    train, _ = task.fixed_sets(rng.train, rng.test)
    index = np.floor(rng.train.random(700) * 256).astype(np.int64)
    got = [s for b in rec.batches for s in decode(b)]
    assert got == [decode(train)[i] for i in index]


# -- 1. Reber targets -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair():
    """The same 3000 strings with next-symbol and with legal-symbols targets."""
    return (
        Reber().sample(np.random.default_rng(21), 3000),
        Reber(targets="legal").sample(np.random.default_rng(21), 3000),
    )


def test_legal_targets_are_the_legal_next_symbols(pair):
    nxt, legal = pair
    assert decode(nxt) == decode(legal)  # the same strings: the option consumes no other random numbers
    for name in ("inputs", "mask", "lengths"):
        np.testing.assert_array_equal(getattr(nxt, name), getattr(legal, name))
    for k in ("legal", "active"):
        np.testing.assert_array_equal(nxt.info[k], legal.info[k])
    allowed = legal.info["legal"]
    np.testing.assert_array_equal(legal.targets, allowed.astype(float))  # 1 exactly at the legal symbols
    assert not legal.targets[~legal.mask].any()  # zero in padding
    k = allowed.sum(axis=2)
    np.testing.assert_array_equal(legal.targets.sum(axis=2), k)
    assert set(np.unique(k[legal.mask])) == {1, 2}
    two = k == 2
    assert (legal.targets[two].sum(axis=1) == 2).all()  # "two-hot"
    assert legal.targets[:, 0, 1].all() and legal.targets[:, 0, 2].all()  # after B: T and P
    # where one symbol is legal, the two encodings agree; elsewhere legal targets contain the next symbol
    np.testing.assert_array_equal(legal.targets[k == 1], nxt.targets[k == 1])
    assert (legal.targets >= nxt.targets).all()


def test_legal_targets_keep_the_success_test_and_change_the_error(pair):
    nxt, legal = pair
    a, b = Reber(), Reber(targets="legal")
    rng = np.random.default_rng(4)
    for out in (
        nxt.targets,
        legal.targets,
        a.ideal_outputs(nxt),
        legal.info["legal"] * 0.5 + rng.random(legal.targets.shape) * 0.6,
        rng.random(legal.targets.shape),
    ):
        np.testing.assert_array_equal(a.correct(nxt, out), b.correct(legal, out))
    # the two-hot targets are a correct prediction (every legal output strictly above every illegal one) and
    # the ideal outputs of the legal task; the one-hot targets are not (a tie at the two-way steps)
    assert b.correct(legal, legal.targets).all()
    np.testing.assert_array_equal(b.ideal_outputs(legal), legal.targets)
    assert not b.correct(legal, nxt.targets).any()
    # the error is measured against the targets of the encoding in use
    assert (b.error(legal, legal.targets) == 0).all() and (b.abs_error(legal, legal.targets) == 0).all()
    half = a.ideal_outputs(nxt)  # 1/k per legal symbol
    steps = legal.mask.sum(axis=1)
    two = (legal.info["legal"].sum(axis=2) == 2) & legal.mask
    np.testing.assert_allclose(b.error(legal, half), 2 * 0.25 * two.sum(axis=1) / steps)
    np.testing.assert_allclose(b.error(legal, nxt.targets), two.sum(axis=1) / steps)
    np.testing.assert_allclose(a.error(nxt, legal.targets), two.sum(axis=1) / steps)


def test_legal_targets_sets_and_contract():
    a, b = Reber(), Reber(targets="legal")
    ta, ea = a.fixed_sets(np.random.default_rng(1), np.random.default_rng(2))
    tb, eb = b.fixed_sets(np.random.default_rng(1), np.random.default_rng(2))
    assert decode(ta) == decode(tb) and decode(ea) == decode(eb)
    np.testing.assert_array_equal(tb.targets, tb.info["legal"].astype(float))
    check_task(b)
    assert_chunk_invariant(b, 3, 9)
    with pytest.raises(UserError):
        Reber(targets="two-hot")


# -- 2. exemplar order ----------------------------------------------------------------------------------


def test_protocol_order_is_checked():
    with pytest.raises(ValueError, match="order"):
        Protocol(stop=all_correct(3), max_sequences=10, n_test=1, description="x", order="shuffled")
    assert Reber(order="file").protocol().order == "file"
    assert "in order" in Reber(order="file").protocol().description
    check_task(Reber(order="file"))
    with pytest.raises(UserError):
        Reber(order="sorted")


@pytest.mark.parametrize("chunk", [7, 100, 256, 1000])
def test_file_order_presents_the_training_set_epoch_after_epoch(monkeypatch, chunk):
    rec = _Recorder(monkeypatch, RTRL)
    cfg = TrialConfig.resolve("reber", {"order": "file", "check_every": 100}, "rtrl", {}, max_sequences=700)
    out = run_trial(cfg, seed=5, chunk=chunk)
    assert out["status"] == "budget" and out["sequences"] == 700
    rng = streams(5)
    train, _ = tasks.make("reber").fixed_sets(rng.train, rng.test)
    strings = decode(train)
    got = [s for b in rec.batches for s in decode(b)]
    assert got == [strings[s % 256] for s in range(700)]  # 2.7 epochs, in order


def test_file_order_is_chunk_invariant_through_run_trial():
    cfg = TrialConfig.resolve("reber", {"order": "file", "check_every": 50}, "rtrl", {}, max_sequences=2100, n_test=10)
    recs = [run_trial(cfg, seed=2, chunk=c) for c in (7, 64, 300)]
    for r in recs[1:]:
        for field in ("status", "sequences", "milestones", "test_wrong", "test_mse"):
            assert r[field] == recs[0][field]
        np.testing.assert_array_equal(r["weights"], recs[0]["weights"])
        # Task.error sums a string's steps over the chunk's padded length, and numpy's pairwise summation
        # rounds differently for different padding: the curve's means agree only to the last bits
        np.testing.assert_allclose(np.array(r["curve"]), np.array(recs[0]["curve"]), rtol=1e-13, atol=0)
    random = run_trial(TrialConfig.resolve("reber", {"check_every": 50}, "rtrl", {}, max_sequences=2100, n_test=10), 2)
    # two full blocks and the last 100 strings; the order matters
    assert [row[0] for row in recs[0]["curve"]] == [1000, 2000, 2100] and random["curve"] != recs[0]["curve"]
    assert "order" in recs[0]["task_args"] and recs[0]["config_key"] != random["config_key"]


# -- 3. Exp 2: "10,000 successive sequences" as a training window ----------------------------------------


@pytest.mark.parametrize("name", ["long-lag", "long-lag-distractors"])
def test_window_success_protocol(name):
    task = tasks.make(name, success="window", **({"q": 5, "p": 3} if name == "long-lag-distractors" else {}))
    proto = task.protocol()
    assert isinstance(proto.stop, WindowRule)
    assert (proto.stop.window, proto.stop.max_wrong, proto.stop.max_mean_error) == (10_000, 0, np.inf)
    assert "10,000 most recent training sequences" in proto.description
    check_task(task)
    with pytest.raises(UserError):
        tasks.make(name, success="fresh")


def test_window_success_stops_at_the_first_full_correct_window_through_run_trial(monkeypatch):
    """Exp 2a, p=4: the recorded count is the first training sequence after which the 10,000 most recent
    training sequences, as the runner handed them to the rule, were all correct; for any chunk size."""
    scanned = []
    scan = WindowRule.scan

    def record(rule, state, errors, correct):
        scanned.append(np.array(correct, dtype=bool))
        return scan(rule, state, errors, correct)

    cfg = TrialConfig.resolve("long-lag", {"p": 4, "success": "window"}, "lstm", {}, max_sequences=200_000, n_test=500)
    monkeypatch.setattr(WindowRule, "scan", record)
    recs = []
    for chunk in (16, 300, 4096):
        scanned.clear()
        recs.append(run_trial(cfg, seed=1, chunk=chunk))
        ok = np.concatenate(scanned)
        n = recs[-1]["sequences"]
        assert recs[-1]["status"] == "success" and n > 10_000
        assert ok[n - 10_000 : n].all() and not ok[n - 10_001]  # holds at n, and not one sequence earlier
        runs = np.convolve(~ok[:n], np.ones(10_000, dtype=int), "valid")  # wrong per window ending at 10k-1..n-1
        assert (runs[:-1] > 0).all() and runs[-1] == 0
    for r in recs[1:]:
        for field in ("sequences", "milestones", "test_wrong", "test_mse", "curve"):
            assert r[field] == recs[0][field]
    assert recs[0]["stop_rule"] == "ABS(0.25) on last 10000 training" and recs[0]["test_wrong"] == 0


# -- 4. Reber: ABS(beta) instead of the "k most active outputs" ----------------------------------------------


def test_abs_success_is_abs_beta_on_every_step_and_output(pair):
    _, legal = pair
    task = Reber(targets="legal", success="abs", beta=0.3)
    rng = np.random.default_rng(8)
    out = np.clip(legal.targets + rng.normal(0, 0.1, legal.targets.shape), 0, 1)
    expect = np.ones(len(legal), dtype=bool)
    for i in range(len(legal)):
        n = int(legal.lengths[i])
        expect[i] = np.abs(out[i, :n] - legal.targets[i, :n]).max() < 0.3
    got = task.correct(legal, out)
    np.testing.assert_array_equal(got, expect)
    assert 0.05 < got.mean() < 0.95
    out[~legal.mask] = np.nan  # padding is ignored
    np.testing.assert_array_equal(task.correct(legal, out), expect)
    assert not task.correct(legal, np.full(legal.targets.shape, np.nan)).any()
    # with beta = 0.5, ABS implies the top-k rule (legal outputs > 0.5 > illegal ones)
    half = Reber(targets="legal", success="abs")
    top_k = Reber(targets="legal")
    for out in (legal.targets * 0.5 + rng.random(legal.targets.shape) * 0.52, rng.random(legal.targets.shape)):
        ok = half.correct(legal, out)
        assert (top_k.correct(legal, out)[ok]).all()
    assert half.correct(legal, legal.targets * 0.4 + 0.3).all()  # 0.7 vs 0.3 everywhere
    check_task(task)
    assert "ABS(0.3)" in task.protocol().description


def test_abs_success_needs_legal_targets():
    with pytest.raises(UserError, match="targets=legal"):
        Reber(success="abs")
    with pytest.raises(UserError):
        Reber(targets="legal", success="abs", beta=0.0)
